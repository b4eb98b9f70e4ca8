"""Progress is judged over the automation's working period, and a story tells when an
enactor's plan scan limit kept it from applying anything."""

from __future__ import annotations

from typing import Any

from dnschaos import checkers
from dnschaos.checkers import FAIL, PASS
from dnschaos.story import tell
from dnschaos.workloads.incident2025 import invariants as incident

EP = "dynamodb.us-east-1.chaos.test"
BOUND = 300.0


class _H:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, kind: str, t: float, **fields: Any) -> _H:
        self.entries.append({"seq": len(self.entries), "t": t, "kind": kind, **fields})
        return self

    def observe(self, t: float, root: int) -> _H:
        return self.add(
            "observe",
            t,
            endpoint=EP,
            root=root,
            root_exists=True,
            addresses={"A": 3},
            rollback=None,
            rollback_exists=True,
        )

    def plan(self, t: float, generation: int) -> _H:
        return self.add("event", t, actor="planner", event="wrote-plan", generation=generation)

    def switched_off(self, t: float) -> _H:
        return self.add("operator", t, action="automation-disabled")

    def end(self, t: float) -> _H:
        return self.add("clock", t, t_from=0.0, woken=[])


def _progress(h: _H) -> list[checkers.Violation]:
    [verdict] = checkers.judge(h.entries, {"progress": incident.progress(BOUND)})
    assert verdict.status in (PASS, FAIL)
    return verdict.violations


def test_a_plan_written_after_the_automation_was_switched_off_is_not_due() -> None:
    # The planner was mid-step when the operator switched the automation off.
    h = _H().plan(10, 5).observe(20, 5).switched_off(100).plan(101, 6).end(2000)
    assert _progress(h) == []


def test_a_plan_written_just_before_the_switch_off_had_no_time_to_be_applied() -> None:
    h = _H().plan(10, 5).observe(20, 5).plan(90, 6).switched_off(100).end(2000)
    assert _progress(h) == []


def test_a_plan_due_during_the_working_period_still_counts() -> None:
    h = _H().plan(10, 5).observe(20, 5).plan(30, 6).switched_off(400).plan(401, 7).end(2000)
    [violation] = _progress(h)
    assert "plan 6 " in violation.detail and violation.endpoint == EP


def test_without_a_switch_off_nothing_changes() -> None:
    assert _progress(_H().plan(10, 5).observe(20, 5).plan(101, 6).end(2000))
    assert _progress(_H().plan(10, 5).observe(20, 5).plan(1900, 6).end(2000)) == []


def test_the_story_of_a_stalled_endpoint_names_the_scan_limit() -> None:
    h = (
        _H()
        .plan(10, 5)
        .observe(20, 5)
        .plan(30, 6)
        .add(
            "event",
            40,
            actor="enactor-a",
            event="scan-limit-hit",
            limit=25,
            skipped=25,
            oldest_examined="7",
        )
        .add(
            "event",
            50,
            actor="enactor-a",
            event="scan-limit-hit",
            limit=25,
            skipped=25,
            oldest_examined="7",
        )
        .end(2000)
    )
    [violation] = _progress(h)
    lines = tell(h.entries, violation)
    assert lines[-1].endswith(violation.detail)
    [limit] = [line for line in lines if "plan_scan_limit" in line]
    assert "enactor-a" in limit and "25 newest plan items" in limit and "t=   40.0s" in limit
