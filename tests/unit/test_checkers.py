"""Each checker on a history that must fail and one that must pass; a crashing checker is unknown."""

from __future__ import annotations

from typing import Any

import pytest

import dnschaos
from dnschaos import checkers
from dnschaos.checkers import FAIL, PASS, UNKNOWN, Checker
from dnschaos.dns.invariants import endpoint_never_empty_client
from dnschaos.workloads.incident2025 import invariants as incident

EP = "dynamodb.us-east-1.chaos.test"


class _H:
    """A tiny history builder."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, kind: str, t: float, **fields: Any) -> _H:
        self.entries.append({"seq": len(self.entries), "t": t, "kind": kind, **fields})
        return self

    def observe(
        self,
        t: float,
        root: int | None,
        *,
        exists: bool = True,
        a: int = 3,
        rollback: int | None = None,
        rb_exists: bool = True,
    ) -> _H:
        return self.add(
            "observe",
            t,
            endpoint=EP,
            root=root,
            root_exists=exists,
            addresses={"A": a},
            rollback=rollback,
            rollback_exists=rb_exists,
        )

    def event(self, t: float, actor: str, event: str, **fields: Any) -> _H:
        return self.add("event", t, actor=actor, event=event, **fields)


def _status(check: Any, h: _H) -> str:
    return checkers.judge(h.entries, {"c": check})[0].status


def test_endpoint_never_empty() -> None:
    good = _H().observe(1, 1).observe(2, 2)
    bad = _H().observe(1, 1).observe(2, 1, exists=False, a=0)
    assert _status(incident.endpoint_never_empty, good) == PASS
    assert _status(incident.endpoint_never_empty, bad) == FAIL
    # Before the first answer an endpoint is being set up, not empty.
    assert _status(incident.endpoint_never_empty, _H().observe(1, None, a=0)) == PASS


def test_active_plan_never_deleted() -> None:
    assert _status(incident.active_plan_never_deleted, _H().observe(1, 4)) == PASS
    assert _status(incident.active_plan_never_deleted, _H().observe(1, 4, exists=False)) == FAIL


def test_applied_generation_monotonic() -> None:
    assert _status(incident.applied_generation_monotonic, _H().observe(1, 4).observe(2, 5)) == PASS
    bad = _H().observe(1, 9).observe(2, 3)
    [verdict] = checkers.judge(bad.entries, {"m": incident.applied_generation_monotonic})
    assert verdict.status == FAIL
    assert verdict.violations[0].detail == "the root went back from plan 9 to plan 3"


def test_rollback_target_exists() -> None:
    assert _status(incident.rollback_target_exists, _H().observe(1, 5, rollback=4)) == PASS
    assert (
        _status(incident.rollback_target_exists, _H().observe(1, 5, rollback=4, rb_exists=False))
        == FAIL
    )


def test_single_lock_holder() -> None:
    good = (
        _H()
        .event(1, "enactor-a", "lock-taken", endpoint=EP, held_for=30)
        .event(5, "enactor-a", "lock-released", endpoint=EP)
        .event(6, "enactor-b", "lock-taken", endpoint=EP, held_for=30)
        .event(40, "enactor-c", "lock-taken", endpoint=EP, held_for=30)  # b's belief expired at 36
    )
    bad = (
        _H()
        .event(1, "enactor-a", "lock-taken", endpoint=EP, held_for=30)
        .event(20, "enactor-a", "lock-renewed", endpoint=EP, held_for=30)
        .event(45, "enactor-b", "lock-taken", endpoint=EP, held_for=30)  # a believes until 50
    )
    assert _status(incident.single_lock_holder, good) == PASS
    [verdict] = checkers.judge(bad.entries, {"l": incident.single_lock_holder})
    assert verdict.status == FAIL
    assert "enactor-b took the lock while enactor-a still believed" in verdict.violations[0].detail


def test_a_lease_given_up_ends_the_belief() -> None:
    # A release whose answer was lost, a lost lock, a failed pass: the enactor writes
    # nothing more under the lease, so another taking the lock is no overlap.
    for given_up in (
        ("lock-releasing", {"endpoint": EP}),
        ("release-failed", {"endpoint": EP, "error": "x"}),
        ("lock-lost", {"endpoint": EP}),
        ("pass-failed", {"error": "x"}),
    ):
        history = (
            _H()
            .event(1, "enactor-a", "lock-taken", endpoint=EP, held_for=30)
            .event(5, "enactor-a", given_up[0], **given_up[1])
            .event(6, "enactor-b", "lock-taken", endpoint=EP, held_for=30)
        )
        assert _status(incident.single_lock_holder, history) == PASS, given_up[0]
    crashed = (
        _H()
        .event(1, "enactor-a", "lock-taken", endpoint=EP, held_for=30)
        .add("fault", 5, action="crashed", actor="enactor-a", restart_after=10)
        .event(6, "enactor-b", "lock-taken", endpoint=EP, held_for=30)
    )
    assert _status(incident.single_lock_holder, crashed) == PASS
    other_endpoint = (
        _H()
        .event(1, "enactor-a", "lock-taken", endpoint=EP, held_for=30)
        .event(5, "enactor-a", "lock-releasing", endpoint="other.chaos.test")
        .event(6, "enactor-b", "lock-taken", endpoint=EP, held_for=30)
    )
    assert _status(incident.single_lock_holder, other_endpoint) == FAIL


def test_progress() -> None:
    written = _H().event(10, "planner", "wrote-plan", generation=7)
    applied = written.observe(20, 7).add("clock", 500, t_from=20, woken=[])
    assert _status(incident.progress(300), applied) == PASS
    stuck = (
        _H()
        .event(10, "planner", "wrote-plan", generation=7)
        .observe(20, 6)
        .add("clock", 500, t_from=20, woken=[])
    )
    assert _status(incident.progress(300), stuck) == FAIL
    # A plan written less than the bound before the end is not yet due.
    assert _status(incident.progress(600), stuck) == PASS


def test_endpoint_never_empty_client_view() -> None:
    def probe(h: _H, t: float, answers: int, rcode: str = "NOERROR") -> _H:
        return h.add(
            "probe", t, endpoint=EP, view="cached", rtype="A", rcode=rcode, answers=answers
        )

    good = probe(probe(_H(), 1, 3), 2, 2)
    bad = probe(probe(_H(), 1, 3), 2, 0)
    assert _status(endpoint_never_empty_client, good) == PASS
    assert _status(endpoint_never_empty_client, bad) == FAIL
    # SERVFAIL is an error the client sees, not the silent empty answer of 2025.
    assert _status(endpoint_never_empty_client, probe(probe(_H(), 1, 3), 2, 0, "SERVFAIL")) == PASS


def test_a_crashing_checker_is_unknown_never_pass() -> None:
    def broken(history: Any) -> list[checkers.Violation]:
        raise KeyError("root")

    [verdict] = checkers.judge(_H().observe(1, 1).entries, {"broken": broken})
    assert verdict.status == UNKNOWN and verdict.error == "KeyError: 'root'"
    assert checkers.overall([verdict]) == UNKNOWN


def test_checkers_compose_flattened() -> None:
    both = dnschaos.checker("applied-generation-monotonic") & dnschaos.checker(
        "active-plan-never-deleted"
    )
    three = both & Checker("progress", incident.progress(300))
    assert [c.name for c in three.parts] == [
        "applied-generation-monotonic",
        "active-plan-never-deleted",
        "progress",
    ]
    verdicts = both.judge(_H().observe(1, 9).observe(2, 3, exists=False).entries)
    assert [v.status for v in verdicts] == [FAIL, FAIL]
    with pytest.raises(KeyError, match="choose one of"):
        dnschaos.checker("no-such-invariant")
