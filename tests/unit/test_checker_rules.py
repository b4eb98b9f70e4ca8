"""Each invariant's rule, with the violations it must report counted and read word for word:
which observation or event is blamed, at what time and sequence number, and how often."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

import dnschaos
from dnschaos import checkers, judging
from dnschaos.checkers import FAIL, PASS, UNKNOWN, Checker, Verdict, Violation
from dnschaos.dns.invariants import endpoint_never_empty_client
from dnschaos.errors import UsageError
from dnschaos.scenario.resolve import load_scenario
from dnschaos.workloads.incident2025 import invariants as incident

EP = "dynamodb.us-east-1.chaos.test"
OTHER = "streams.us-east-1.chaos.test"


class History:
    """A history builder: each entry gets the next sequence number."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, kind: str, t: float, **fields: Any) -> History:
        self.entries.append({"seq": len(self.entries), "t": t, "kind": kind, **fields})
        return self

    def observe(
        self,
        t: float,
        root: int | None,
        *,
        endpoint: str = EP,
        exists: bool = True,
        addresses: dict[str, int] | None = None,
        rollback: int | None = None,
        rb_exists: bool = True,
    ) -> History:
        return self.add(
            "observe",
            t,
            endpoint=endpoint,
            root=root,
            root_exists=exists,
            addresses={"A": 3} if addresses is None else addresses,
            rollback=rollback,
            rollback_exists=rb_exists,
        )

    def event(self, t: float, actor: str, event: str, **fields: Any) -> History:
        return self.add("event", t, actor=actor, event=event, **fields)

    def lock(self, t: float, actor: str, event: str, endpoint: str = EP, **more: Any) -> History:
        return self.event(t, actor, event, endpoint=endpoint, **more)

    def plan(self, t: float, generation: int) -> History:
        return self.event(t, "planner", "wrote-plan", generation=generation)

    def probe(
        self, t: float, answers: int, *, rcode: str = "NOERROR", view: str = "cached"
    ) -> History:
        return self.add("probe", t, endpoint=EP, view=view, rtype="A", rcode=rcode, answers=answers)


def _found(check: Any, h: History) -> list[tuple[str, str, float, str, int]]:
    return [(v.invariant, v.endpoint, v.t, v.detail, v.seq) for v in check(h.entries)]


# ------------------------------------------------------------------ endpoint-never-empty


def test_endpoint_never_empty_blames_each_outage_once() -> None:
    h = (
        History()
        .observe(1, 1)
        .add("clock", 2, t_from=1, woken=[])
        .observe(3, 1, addresses={"A": 0})
        .observe(4, 1, addresses={"A": 0})  # the same outage: not reported again
        .observe(5, 2)
        .observe(6, 2, addresses={"A": 0})  # answered again, then a second outage
    )
    assert _found(incident.endpoint_never_empty, h) == [
        ("endpoint-never-empty", EP, 3, "A answers NOERROR with zero addresses", 2),
        ("endpoint-never-empty", EP, 6, "A answers NOERROR with zero addresses", 5),
    ]


def test_endpoint_never_empty_names_every_empty_type_and_needs_every_type_to_answer() -> None:
    h = (
        History()
        .observe(1, 1, addresses={"A": 2, "AAAA": 0})  # not yet answering: AAAA is empty
        .observe(2, 1, addresses={"A": 2, "AAAA": 1})
        .observe(3, 1, addresses={"AAAA": 0, "A": 0})
    )
    assert _found(incident.endpoint_never_empty, h) == [
        ("endpoint-never-empty", EP, 3, "A, AAAA answers NOERROR with zero addresses", 2)
    ]
    one = History().observe(1, 1, addresses={"A": 2, "AAAA": 1})
    one.observe(2, 1, addresses={"A": 2, "AAAA": 0})
    assert [v.detail for v in incident.endpoint_never_empty(one.entries)] == [
        "AAAA answers NOERROR with zero addresses"
    ]


def test_endpoint_never_empty_is_judged_per_endpoint() -> None:
    h = History().observe(1, 1).observe(2, None, endpoint=OTHER, addresses={"A": 0})
    assert incident.endpoint_never_empty(h.entries) == []


# ------------------------------------------------------------------ tree and root


def test_active_plan_never_deleted_reports_every_observation_of_a_deleted_root() -> None:
    h = (
        History()
        .observe(1, None, exists=False)  # no root yet: nothing to point at
        .observe(2, 4, exists=False)
        .observe(3, 4, exists=False)
        .observe(4, 5)
    )
    assert _found(incident.active_plan_never_deleted, h) == [
        ("active-plan-never-deleted", EP, 2, "the root points at plan 4, whose tree is gone", 1),
        ("active-plan-never-deleted", EP, 3, "the root points at plan 4, whose tree is gone", 2),
    ]


def test_applied_generation_monotonic_compares_with_the_highest_seen_per_endpoint() -> None:
    h = (
        History()
        .observe(1, 9)
        .observe(2, 9)  # the same plan again is no step back
        .observe(3, None)  # no root: says nothing about generations
        .observe(4, 3)
        .observe(4.5, 3)  # another look at the same step back: reported once
        .observe(5, 5)  # still below 9: a second step back
        .observe(6, 2, endpoint=OTHER)  # another endpoint has its own history
        .observe(7, 10)
    )
    assert _found(incident.applied_generation_monotonic, h) == [
        ("applied-generation-monotonic", EP, 4, "the root went back from plan 9 to plan 3", 3),
        ("applied-generation-monotonic", EP, 5, "the root went back from plan 9 to plan 5", 5),
    ]


def test_rollback_target_exists() -> None:
    h = (
        History()
        .observe(1, 5, rollback=None, rb_exists=False)
        .observe(2, 5, rollback=4, rb_exists=False)
        .observe(3, 5, rollback=4)
    )
    assert _found(incident.rollback_target_exists, h) == [
        (
            "rollback-target-exists",
            EP,
            2,
            "the rollback record points at plan 4, whose tree is gone",
            1,
        )
    ]


def test_the_first_plan_seen_is_no_step_back_whatever_its_number() -> None:
    h = History().observe(1, 0).observe(2, 0)
    assert incident.applied_generation_monotonic(h.entries) == []


def test_a_stream_says_what_it_judges() -> None:
    with pytest.raises(NotImplementedError):
        checkers.Stream().feed(History().observe(1, 1).entries[0])


def test_streams_judge_an_entry_at_a_time_and_skip_other_kinds() -> None:
    stream = incident.STREAMS["applied-generation-monotonic"]()
    assert stream.feed({"kind": "event", "t": 0, "seq": 0, "event": "x"}) == []
    assert stream.feed(History().observe(1, 7).entries[0]) == []
    [v] = stream.feed(History().observe(2, 6).entries[0])
    assert v.detail == "the root went back from plan 7 to plan 6"
    # Every invariant a run of the workload stops at is judged as a stream.
    scenario = load_scenario("incident-2025")
    part = scenario.workloads[0]
    judged = part.workload.invariants(part.config, scenario)
    assert sorted(incident.STREAMS) == sorted(n for n, inv in judged.items() if inv.safety)


# ------------------------------------------------------------------ progress


def test_progress_blames_the_highest_generation_due_not_the_latest_written() -> None:
    h = (
        History()
        .plan(10, 8)
        .plan(20, 7)  # written later, but an older plan
        .observe(30, 7)
        .add("clock", 1000, t_from=30, woken=[])
    )
    assert _found(incident.progress(300), h) == [
        (
            "progress",
            EP,
            1000,
            "plan 8 (written at t=10s) is not active after 300s; the root stays at plan 7",
            0,
        )
    ]


def test_progress_reports_every_endpoint_behind_in_name_order() -> None:
    h = (
        History()
        .plan(0, 3)
        .observe(1, 2, endpoint=OTHER)
        .observe(2, None)
        .observe(3, 4, endpoint="later.chaos.test")  # ahead of the plan: superseded
        .add("clock", 400, t_from=3, woken=[])
    )
    found = _found(incident.progress(300), h)
    assert [(f[1], f[3]) for f in found] == [
        (EP, "plan 3 (written at t=0s) is not active after 300s; the root stays at plan None"),
        (OTHER, "plan 3 (written at t=0s) is not active after 300s; the root stays at plan 2"),
    ]


def test_progress_due_exactly_at_the_bound() -> None:
    def history(end: float) -> History:
        return History().plan(100, 2).observe(101, 1).add("clock", end, t_from=101, woken=[])

    assert len(incident.progress(300)(history(400).entries)) == 1  # written exactly 300s ago
    assert incident.progress(300)(history(399.5).entries) == []
    assert incident.progress(300)(History().plan(0, 1).observe(500, 1).entries) == []
    assert incident.progress(300)([]) == []


def test_progress_judges_only_the_automations_working_period() -> None:
    def with_switch_off(at: float, plan_at: float) -> History:
        return (
            History()
            .observe(0, 1)
            .plan(plan_at, 2)
            .add("operator", at, action="automation-disabled")
            .add("operator", at + 50, action="automation-disabled")
            .add("clock", 5000, t_from=at, woken=[])
        )

    # Written 300s before the automation was switched off: it was due.
    [v] = incident.progress(300)(with_switch_off(400, 100).entries)
    assert (v.t, v.seq) == (5000, 1)
    # Written less than the bound before that, or after it: never due.
    assert incident.progress(300)(with_switch_off(399, 100).entries) == []
    assert incident.progress(300)(with_switch_off(400, 450).entries) == []
    other_action = History().plan(0, 2).observe(1, 1).add("operator", 10, action="repaired")
    other_action.add("clock", 1000, t_from=10, woken=[])
    assert len(incident.progress(300)(other_action.entries)) == 1


# ------------------------------------------------------------------ what clients saw


def test_client_view_blames_each_outage_once_per_view() -> None:
    h = (
        History()
        .probe(1, 3)
        .probe(2, 0)
        .probe(3, 0)  # the same outage
        .probe(4, 0, rcode="SERVFAIL")  # an error, not an empty answer
        .probe(5, 0, view="direct")  # this view never answered
        .probe(6, 2)
        .probe(7, 0)
    )
    assert _found(endpoint_never_empty_client, h) == [
        (
            "endpoint-never-empty-client",
            EP,
            2,
            "A through the cached view: NOERROR with zero addresses",
            1,
        ),
        (
            "endpoint-never-empty-client",
            EP,
            7,
            "A through the cached view: NOERROR with zero addresses",
            6,
        ),
    ]


def test_client_view_reads_past_other_entries() -> None:
    h = History().probe(1, 3).observe(2, 1).add("clock", 3, t_from=2, woken=[]).probe(4, 0)
    assert [v.seq for v in endpoint_never_empty_client(h.entries)] == [3]


def test_client_view_counts_only_noerror_answers_as_answered() -> None:
    h = History().probe(1, 2, rcode="NXDOMAIN").probe(2, 0)
    assert endpoint_never_empty_client(h.entries) == []


# ------------------------------------------------------------------ single-lock-holder


def test_single_lock_holder_reads_past_other_entries() -> None:
    h = (
        History()
        .lock(1, "enactor-a", "lock-taken", held_for=30)
        .observe(2, 1)
        .event(3, "planner", "wrote-plan", generation=2)
        .lock(4, "enactor-c", "lock-releasing", endpoint=OTHER)
        .lock(5, "enactor-b", "lock-taken", held_for=30)
    )
    assert _found(incident.single_lock_holder, h) == [
        (
            "single-lock-holder",
            EP,
            5,
            "enactor-b took the lock while enactor-a still believed it held it",
            4,
        )
    ]


def test_single_lock_holder_names_every_other_believer_sorted() -> None:
    h = (
        History()
        .lock(1, "enactor-c", "lock-taken", held_for=30)
        .lock(2, "enactor-a", "lock-taken", held_for=30)
        .lock(3, "enactor-b", "lock-taken", held_for=30)
    )
    assert [v.detail for v in incident.single_lock_holder(h.entries)] == [
        "enactor-a took the lock while enactor-c still believed it held it",
        "enactor-b took the lock while enactor-a, enactor-c still believed it held it",
    ]


def test_a_belief_lasts_until_the_expiry_last_written() -> None:
    def taken_at(t: float, *, renewed: bool) -> list[Violation]:
        h = History().lock(0, "enactor-a", "lock-taken", held_for=30)
        if renewed:
            h.lock(20, "enactor-a", "lock-renewed", held_for=30)
        return incident.single_lock_holder(
            h.lock(t, "enactor-b", "lock-taken", held_for=30).entries
        )

    assert len(taken_at(29.5, renewed=False)) == 1
    assert taken_at(30, renewed=False) == []  # taken exactly at the expiry: no overlap
    assert len(taken_at(49.5, renewed=True)) == 1
    assert taken_at(50, renewed=True) == []


def test_retaking_ones_own_lock_is_no_overlap() -> None:
    h = History().lock(0, "enactor-a", "lock-taken", held_for=30)
    h.lock(10, "enactor-a", "lock-taken", held_for=30)
    assert incident.single_lock_holder(h.entries) == []


@pytest.mark.parametrize(
    "given_up", ["lock-releasing", "lock-released", "release-failed", "lock-lost"]
)
def test_giving_up_a_lease_ends_only_that_endpoints_belief(given_up: str) -> None:
    h = (
        History()
        .lock(0, "enactor-a", "lock-taken", held_for=30)
        .lock(0, "enactor-a", "lock-taken", endpoint=OTHER, held_for=30)
        .lock(5, "enactor-a", given_up)
        .lock(6, "enactor-b", "lock-taken", held_for=30)
        .lock(7, "enactor-b", "lock-taken", endpoint=OTHER, held_for=30)
    )
    assert [(v.endpoint, v.seq) for v in incident.single_lock_holder(h.entries)] == [(OTHER, 4)]


@pytest.mark.parametrize("how", ["pass-failed", "crashed"])
def test_a_failed_pass_or_a_crash_ends_every_belief_of_that_actor_only(how: str) -> None:
    h = (
        History()
        .lock(0, "enactor-a", "lock-taken", held_for=30)
        .lock(0, "enactor-a", "lock-taken", endpoint=OTHER, held_for=30)
        .lock(1, "enactor-c", "lock-taken", endpoint="third.chaos.test", held_for=30)
    )
    if how == "crashed":
        h.add("fault", 5, action="crashed", actor="enactor-a", restart_after=10)
    else:
        h.event(5, "enactor-a", "pass-failed", error="x")
    h.add("fault", 5, action="slowed", actor="enactor-c")  # another fault ends nothing
    h.lock(6, "enactor-b", "lock-taken", held_for=30)
    h.lock(6, "enactor-b", "lock-taken", endpoint=OTHER, held_for=30)
    h.lock(6, "enactor-b", "lock-taken", endpoint="third.chaos.test", held_for=30)
    assert [v.detail for v in incident.single_lock_holder(h.entries)] == [
        "enactor-b took the lock while enactor-c still believed it held it"
    ]


# ------------------------------------------------------------------ judging


def test_judge_gives_each_checker_its_verdict_with_its_violations() -> None:
    h = History().observe(1, 9).observe(2, 3, exists=False)

    def broken(history: Any) -> list[Violation]:
        raise KeyError("root")

    verdicts = checkers.judge(
        h.entries,
        {
            "mono": incident.applied_generation_monotonic,
            "empty": incident.endpoint_never_empty,
            "broken": broken,
        },
    )
    assert [(v.checker, v.status, v.error) for v in verdicts] == [
        ("mono", FAIL, None),
        ("empty", PASS, None),
        ("broken", UNKNOWN, "KeyError: 'root'"),
    ]
    assert [v.detail for v in verdicts[0].violations] == [
        "the root went back from plan 9 to plan 3"
    ]
    assert verdicts[1].violations == [] and verdicts[2].violations == []


def test_overall_fail_beats_unknown_beats_pass() -> None:
    p, u, f = Verdict("p", PASS), Verdict("u", UNKNOWN), Verdict("f", FAIL)
    assert checkers.overall([p, u, f]) == FAIL
    assert checkers.overall([f, u]) == FAIL
    assert checkers.overall([p, u]) == UNKNOWN
    assert checkers.overall([p, p]) == PASS
    assert checkers.overall([]) == PASS


def _v(invariant: str, seq: int) -> Violation:
    return Violation(invariant, EP, float(seq), f"{invariant} at {seq}", seq)


def test_headline_ranks_by_severity_then_by_order_in_the_history() -> None:
    assert checkers.headline([]) is None
    assert checkers.headline_dict([]) is None
    cases = [
        ([_v("single-lock-holder", 1), _v("progress", 9)], _v("progress", 9)),
        (
            [_v("endpoint-never-empty", 2), _v("endpoint-never-empty-client", 5)],
            _v("endpoint-never-empty-client", 5),
        ),
        ([_v("progress", 7), _v("progress", 3)], _v("progress", 3)),
        ([_v("no-actor-error", 0), _v("single-lock-holder", 8)], _v("single-lock-holder", 8)),
        ([_v("zz-custom", 4), _v("aa-custom", 4)], _v("aa-custom", 4)),
        (
            [_v("rollback-target-exists", 1), _v("applied-generation-monotonic", 2)],
            _v("applied-generation-monotonic", 2),
        ),
        (
            [_v("active-plan-never-deleted", 6), _v("progress", 1)],
            _v("active-plan-never-deleted", 6),
        ),
    ]
    for found, expected in cases:
        assert checkers.headline(found) == expected, found
        assert checkers.headline(reversed(found)) == expected, found
        assert checkers.headline_dict(v.as_dict() for v in found) == expected.as_dict(), found


def test_a_violation_reads_back_as_a_dict() -> None:
    v = Violation("progress", EP, 12.5, "plan 3 is late", 7)
    assert v.as_dict() == {
        "invariant": "progress",
        "endpoint": EP,
        "t": 12.5,
        "detail": "plan 3 is late",
        "seq": 7,
    }


def test_no_actor_error_tells_who_raised_what_where() -> None:
    h = History().add(
        "actor-error",
        4.5,
        actor="my-enactor",
        type="ValueError",
        message="bad plan",
        where="enactor.py:12",
    )
    h.observe(5, 1)
    assert _found(checkers.actor_errors, h) == [
        (
            "no-actor-error",  # the name --invariant accepts
            "my-enactor",
            4.5,
            "my-enactor raised ValueError: bad plan (at enactor.py:12)",
            0,
        )
    ]


# ------------------------------------------------------------------ choosing checkers


def test_checker_by_name_and_progress_with_its_bound() -> None:
    late = History().plan(0, 2).observe(1, 1).add("clock", 300, t_from=1, woken=[])
    short = dnschaos.checker("progress:120")
    assert short.name == "progress" and len(short.check(late.entries)) == 1
    assert len(dnschaos.checker("progress").check(late.entries)) == 1  # 300s by default
    assert dnschaos.checker("progress:300.5").check(late.entries) == []
    single = dnschaos.checker("single-lock-holder")
    assert single == Checker("single-lock-holder", incident.single_lock_holder)
    with pytest.raises(KeyError) as exc:
        dnschaos.checker("no-such-invariant")
    assert exc.value.args[0] == (
        "checker 'no-such-invariant': unknown; choose one of active-plan-never-deleted, "
        "applied-generation-monotonic, endpoint-never-empty, endpoint-never-empty-client, "
        "no-actor-error, progress:SECONDS, rollback-target-exists, single-lock-holder"
    )


def test_composites_judge_every_part_in_order() -> None:
    a = dnschaos.checker("applied-generation-monotonic")
    b = dnschaos.checker("active-plan-never-deleted")
    c = dnschaos.checker("rollback-target-exists")
    assert [x.name for x in ((a & b) & c).parts] == [x.name for x in (a & (b & c)).parts]
    h = History().observe(1, 9).observe(2, 3, exists=False)
    assert [(v.checker, v.status) for v in (a & b & c).judge(h.entries)] == [
        ("applied-generation-monotonic", FAIL),
        ("active-plan-never-deleted", FAIL),
        ("rollback-target-exists", PASS),
    ]


def test_a_scenario_is_judged_by_every_invariant_it_can_break() -> None:
    without_dns = load_scenario("incident-2025")
    with_dns = load_scenario("incident-2025-dns")
    assert sorted(judging.names(without_dns)) == [
        "active-plan-never-deleted",
        "applied-generation-monotonic",
        "endpoint-never-empty",
        "progress",
        "rollback-target-exists",
        "single-lock-holder",
    ]
    assert sorted(judging.names(with_dns)) == sorted(
        [*judging.names(without_dns), "endpoint-never-empty-client"]
    )
    # progress is judged with the scenario's own bound (180 s in incident-2025).
    late = History().plan(0, 2).observe(1, 1).add("clock", 200, t_from=1, woken=[])
    assert len(judging.invariants(without_dns)["progress"].check(late.entries)) == 1
    on_time = History().plan(0, 2).observe(1, 1).add("clock", 150, t_from=1, woken=[])
    assert judging.invariants(without_dns)["progress"].check(on_time.entries) == []
    lock = judging.invariants(without_dns)["single-lock-holder"]
    assert lock.check is incident.single_lock_holder and not lock.safety
    picked = judging.chosen(with_dns, ["progress", "endpoint-never-empty-client"])
    assert sorted(picked) == ["endpoint-never-empty-client", "progress"]
    assert list(judging.chosen(with_dns)) == judging.names(with_dns)
    with pytest.raises(UsageError, match="has no such invariant; choose from"):
        judging.chosen(without_dns, ["endpoint-never-empty-client"])


def test_every_verdict_is_one_a_result_file_may_record() -> None:
    schema = json.loads(
        resources.files("dnschaos").joinpath("result.schema.json").read_text(encoding="utf-8")
    )
    assert sorted([PASS, FAIL, UNKNOWN]) == sorted(schema["properties"]["verdict"]["enum"])
