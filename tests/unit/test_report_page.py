"""The report page as HTML, without a browser: order, counts and links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest

from dnschaos import report, story
from dnschaos.checkers import Violation

ZONE = "dynamodb.us-east-1.chaos.test"


def _history() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []

    def add(kind: str, t: float, **fields: Any) -> int:
        entries.append({"seq": len(entries), "t": t, "kind": kind, **fields})
        return len(entries) - 1

    slow = {"fault": "slow", "fault_kind": "latency", "matcher": "actor=enactor-a"}
    drop = {"fault": "drop", "fault_kind": "error", "matcher": "op=PutItem"}
    add("fault", 0.0, action="activate", **slow)
    add("fault", 0.0, action="activate", **drop)
    add("observe", 0.0, endpoint=ZONE, root=None, root_exists=False, rollback=None, addresses={})
    for i, op in enumerate(("ListResourceRecordSets", "ListResourceRecordSets", "GetItem")):
        t = 1.0 + i
        add("invoke", t, actor="enactor-a", service="route-53", op=op, params={})
        add("fault", t, action="hit", actor="enactor-a", op=op, **slow)
        add(
            "complete",
            t + 0.5,
            actor="enactor-a",
            service="route-53",
            op=op,
            outcome={"status": 200},
        )
    add("event", 4.0, actor="enactor-b", event="lock-taken", endpoint=ZONE, held_for=10.0)
    add(
        "observe",
        5.0,
        endpoint=ZONE,
        root=2,
        root_exists=True,
        rollback=1,
        addresses={"A": 3},
    )
    add("fault", 6.0, action="heal", **drop)
    add("observe", 9.0, endpoint=ZONE, root=1, root_exists=True, rollback=2, addresses={"A": 3})
    return entries


def _result(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # Listed by invariant, as checkers report them; the page must order them by time.
    violations = [
        {
            "invariant": "active-plan-never-deleted",
            "endpoint": ZONE,
            "t": 9.0,
            "seq": 17,
            "detail": "c",
        },
        {
            "invariant": "applied-generation-monotonic",
            "endpoint": ZONE,
            "t": 5.0,
            "seq": 14,
            "detail": "a",
        },
        {
            "invariant": "rollback-target-exists",
            "endpoint": ZONE,
            "t": 7.5,
            "seq": 16,
            "detail": "b",
        },
    ]
    return {
        "scenario": "incident-2025",
        "spec": {"scenario": "incident-2025", "variant": "legacy", "seed": 7, "clock": "sim"},
        "verdict": "fail",
        "violations": violations,
        "checkers": [],
        "virtual_seconds": 9.0,
        "stop_on_violation": True,
        "reproduce": "dnschaos run incident-2025 --variant legacy --seed 7 --strategy random",
        "versions": {"dnschaos": "0.1.0", "dnspython": "2.7.0"},
    }


def _section(page: str, name: str) -> str:
    found = re.search(rf"<section id=['\"]{name}['\"].*?</section>", page, re.S)
    assert found is not None, name
    return found.group(0)


def test_violations_are_listed_in_time_order() -> None:
    entries = _history()
    page = report.render_html(_result(entries), entries)
    rows = re.findall(r"<tr><td class='t'>.*?</tr>", _section(page, "violations"))
    assert [re.search(r"<td>([a-z-]+)</td>", r).group(1) for r in rows] == [  # type: ignore[union-attr]
        "applied-generation-monotonic",
        "rollback-target-exists",
        "active-plan-never-deleted",
    ]
    # The headline is the first in time, not the first in the checkers' order.
    assert "the first at t=5.0s: [applied-generation-monotonic]" in page


def test_the_fault_table_counts_hits_per_fault_actor_and_call() -> None:
    entries = _history()
    faults = _section(report.render_html(_result(entries), entries), "faults")
    rows = {
        cells[0]: cells
        for cells in (
            re.findall(r"<td[^>]*>(.*?)</td>", row)
            for row in re.findall(r"<tr><td>.*?</tr>", faults)
        )
    }
    assert rows["slow"][4] == "3"
    assert rows["slow"][5] == "enactor-a 3"
    assert rows["slow"][6] == "GetItem 1, ListResourceRecordSets 2"
    assert rows["drop"][4] == "0" and rows["drop"][3] == "0.0s to 6.0s"
    assert rows["slow"][3] == "0.0s to 9.0s"  # never healed: active until the end


def test_story_lines_link_to_the_entries_behind_them(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = _history()

    def told(history: Sequence[dict[str, Any]], violation: Violation) -> list[story.StoryLine]:
        return [
            story.StoryLine(1.0, "enactor-a", "asked, throttled", (3, 4)),
            story.StoryLine(5.0, "enactor-b", "flipped the root to plan 2", ()),
        ]

    monkeypatch.setattr(story, "lines", told)
    page = report.render_html(_result(entries), entries)
    steps = re.findall(r"<li id='story-\d+'>.*?</li>", _section(page, "story"))
    assert len(steps) == 2
    assert "href='#seq-3'" in steps[0] and "href='#seq-4'" in steps[0]
    assert "#seq-" not in steps[1] and "class='refs'" not in steps[1]
    targets = set(re.findall(r"id='(seq-\d+)'", page))
    links = set(re.findall(r"href='#(seq-\d+)'", page))
    assert {"seq-3", "seq-4"} <= links <= targets


def test_without_probes_the_impact_is_what_route53_served() -> None:
    entries = _history()
    impact = _section(report.render_html(_result(entries), entries), "impact")
    assert "What Route 53 served" in impact
    assert f"{ZONE}: served plan 1, older than plan 2 it had served from t=9.0s" in impact


def test_a_run_of_own_actors_has_no_variant_and_its_impact_is_by_invariant() -> None:
    entries: list[dict[str, Any]] = [
        {"seq": 0, "t": 0.0, "kind": "world", "actors": ["ops"], "zones": [], "tables": []},
        {"seq": 1, "t": 3.0, "kind": "invoke", "actor": "ops", "service": "route-53", "op": "X"},
        {"seq": 2, "t": 4.0, "kind": "complete", "actor": "ops", "op": "X", "outcome": {}},
    ]
    result = _result(entries) | {
        "scenario": "ops-script",
        "spec": {"scenario": "ops.toml", "variant": None, "seed": 7, "clock": "sim"},
        "virtual_seconds": 10.0,
        "violations": [
            {"invariant": "no-foreign-delete", "endpoint": "a.", "t": 6.0, "seq": 2, "detail": "x"},
            {"invariant": "no-foreign-delete", "endpoint": "b.", "t": 4.0, "seq": 1, "detail": "y"},
        ],
    }
    page = report.render_html(result, entries)
    assert "<h1>ops-script · seed 7 ·" in page
    impact = _section(page, "impact")
    assert "What the invariants saw" in impact
    assert (
        "no-foreign-delete: 2 violations from t=4.0s to the end of the run at t=10.0s (6.0s)"
        in impact
    )
    assert "first: b.: y" in impact


def test_a_story_line_with_many_entries_folds_its_links() -> None:
    from dnschaos.report.page import SHOWN_LINKS, _seq_links

    few = _seq_links([1, 2, 3], {1, 2, 3})
    assert few.count("<a ") == 3 and "details" not in few
    many = _seq_links(list(range(40)), set(range(40)) - {5})
    assert many.count("<a ") == 39  # every listed entry is still linked...
    head = many.split("<details")[0]
    assert head.count("<a ") == SHOWN_LINKS and "33 more" in many  # ...most of them folded
