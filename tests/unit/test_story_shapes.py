"""The story of each failure shape names its decisive step, in time order, in plain words,
with every line pointing at the history entries behind it.

The shapes come from real runs: the 2025 stale flip (legacy, incident-2025 seed 7), and
enactors with planted bugs (``tests.unit.story_enactors``): a clean-up that forgets the
rollback tree, and an enactor that never takes an expired lock. A user's own invariant is
told from the ops-script example. Edge cases use small handmade histories.
"""

from __future__ import annotations

import pathlib
import re
import sys
from collections.abc import Sequence
from typing import Any

import pytest

import dnschaos
from dnschaos.checkers import Violation
from dnschaos.explore.campaign import story_shape
from dnschaos.invariants import applied_changes
from dnschaos.story import StoryLine, lines, tell

Entry = dict[str, Any]
EP = "dynamodb.us-east-1.chaos.test"
BUGS = "tests.unit.story_enactors"
ROOT = pathlib.Path(__file__).resolve().parents[2]
OPS = ROOT / "examples" / "ops_script.toml"


def _told(history: Sequence[Entry], violation: Violation) -> list[StoryLine]:
    """The story, checked for what every story owes: entries that exist, time order, the
    violation last, plain words."""
    story = lines(history, violation)
    by_seq = {e["seq"]: e for e in history}
    for line in story:
        assert line.seqs, line
        assert all(s in by_seq for s in line.seqs), line
        assert "None" not in line.render(), line
        assert not re.search(r"\b1 (times|plans|looks|calls)\b", line.text), line
    assert [line.t for line in story] == sorted(line.t for line in story)
    assert story[-1].text == f"[{violation.invariant}] {violation.detail}"
    assert story[-1].seqs == (violation.seq,)
    assert tell(history, violation) == [line.render() for line in story]
    return story


def _find(story: list[StoryLine], actor: str, text: str) -> int:
    found = [i for i, line in enumerate(story) if line.actor == actor and text in line.text]
    assert found, f"no line of {actor} with {text!r} in:\n" + "\n".join(
        line.render() for line in story
    )
    return found[0]


# --------------------------------------------------------------------------- real runs


def test_the_stale_flip_of_2025() -> None:
    result = dnschaos.run("incident-2025", variant="legacy", seed=7)
    assert result.trace_digest.startswith("0471fe57b1033f33")  # the known run, unchanged
    history = list(result.history)
    violation = result.headline
    assert violation is not None and violation.invariant == "applied-generation-monotonic"
    story = _told(history, violation)
    check = _find(story, "enactor-c", "checked plan 1: newer than any plan it had applied")
    newer = _find(story, "enactor-a", "flipped the root to plan 7")
    back = _find(story, "enactor-c", "flipped the root to plan 1, back from plan 7")
    assert check < newer < back == len(story) - 2
    # The flip line points at the batch that moved the root, the one the violation saw.
    flip = story[back]
    (call, done) = next(
        (c, d)
        for c, d in applied_changes(history)
        if c["actor"] == "enactor-c" and any(" A -> plan-1." in x for x in c["params"]["changes"])
    )
    assert {call["seq"], done["seq"]} <= set(flip.seqs)
    assert done["t"] == flip.t == violation.t
    # Lost locks and busy looks are counted apart, and honestly.
    lost = [
        e
        for e in history
        if e["kind"] == "event" and e["actor"] == "enactor-c" and e["event"] == "lock-lost"
    ]
    troubles = story[_find(story, "enactor-c", "lost the lock")]
    assert f"lost the lock {len(lost)} times" in troubles.text
    assert {e["seq"] for e in lost} <= set(troubles.seqs)
    # The injected fault that slowed enactor C is named, with its effect.
    slowed = story[_find(story, "enactor-c", "slowed by latency fault enactor-c-slow-route53")]
    hits = [e for e in history if e["kind"] == "fault" and e["action"] == "hit"]
    assert f"had {len(hits)} Route 53 calls slowed" in slowed.text
    assert check < story.index(slowed) < back


def test_a_clean_up_that_deletes_the_rollback_tree() -> None:
    result = dnschaos.run("incident-2025", variant=f"{BUGS}:KeepsOnlyActiveEnactor", seed=1)
    history = list(result.history)
    violation = result.headline
    assert violation is not None and violation.invariant == "rollback-target-exists"
    story = _told(history, violation)
    # The batch that deleted the tree the rollback record points at, found independently.
    gen = int(re.findall(r"plan (\d+)", violation.detail)[0])
    deleting = [
        (c, d)
        for c, d in applied_changes(history)
        if d["seq"] <= violation.seq
        and any(x.startswith(f"DELETE plan-{gen}.") for x in c["params"]["changes"])
    ]
    call, done = deleting[-1]
    deleted = story[
        _find(story, call["actor"], f"cleaned up: deleted plan {gen}, the ROLLBACK tree")
    ]
    assert {call["seq"], done["seq"]} <= set(deleted.seqs)
    assert deleted.t == done["t"]
    # Why that actor thought it old: the plan it had applied.
    checked = next(
        e
        for e in reversed(history)
        if e["kind"] == "event"
        and e["actor"] == call["actor"]
        and e["event"] == "checked-plan"
        and e["seq"] < call["seq"]
    )
    mine = checked["generation"]
    assert f"older than plan {mine}, the plan it had applied" in deleted.text
    assert checked["seq"] in deleted.seqs
    # The flip that made the tree matter comes first.
    flip = _find(story, call["actor"], f"pointing the rollback record at plan {gen}")
    assert flip < story.index(deleted)
    assert (call["actor"], gen) == ("enactor-b", 1)  # this seed's shape, for the record


def test_a_starved_lock() -> None:
    phantom = f"kind=lock-contention,name=phantom,endpoint={EP},start=40.0,end=70.0"
    result = dnschaos.run(
        "steady-state", variant=f"{BUGS}:NeverTakesExpiredEnactor", seed=1, faults=(phantom,)
    )
    history = list(result.history)
    violation = result.headline
    assert violation is not None and violation.invariant == "progress"
    story = _told(history, violation)
    last = _find(story, "enactor-a", "flipped the root to plan 3: the last flip of the run")
    # Who held the lock and since when: the phantom of the fault, named as such.
    held = _find(story, "nemesis", "took the lock for lock-contention fault phantom")
    assert "let it expire at t=70.0s" in story[held].text
    assert "no one held the lock, and no one took it" in story[held].text
    wrote = _find(story, "planner", "wrote plans 4 to 16")
    assert last < held < wrote
    # Who tried and why they could not: busy looks while it was held, and looks that
    # found it expired and still did not take it, counted apart.
    # (The bug kept B and C out before the phantom came, too: the story starts at the
    # first plan that never became active.)
    for actor in ("enactor-a", "enactor-b", "enactor-c"):
        line = story[_find(story, actor, "found it expired")]
        busy = [
            e
            for e in history
            if e["kind"] == "event"
            and e["actor"] == actor
            and e["event"] == "lock-busy"
            and e["t"] >= story[wrote].t
        ]
        expired = [e for e in busy if e["expires_at"] - 1760940000 <= e["t"]]
        assert f"still naming phantom {len(expired)} times and did not take it" in line.text
        assert f"found the lock held by phantom {len(busy) - len(expired)} times" in line.text
        assert "gave up on the lock 1 time;" in line.text
        assert {e["seq"] for e in busy} <= set(line.seqs)


def test_the_root_going_back_at_the_end_is_the_progress_story() -> None:
    result = dnschaos.run("incident-2025", variant="legacy", seed=3, stop_on_violation=False)
    history = list(result.history)
    violation = next(v for v in result.violations if v.invariant == "progress")
    story = _told(history, violation)
    back = _find(story, "enactor-c", "flipped the root to plan 9, back from plan 23")
    assert back == len(story) - 2
    assert _find(story, "enactor-c", "checked plan 9") < _find(story, "enactor-b", "plan 23") < back


def test_a_deleted_active_tree_in_the_scripted_incident() -> None:
    result = dnschaos.run(
        "incident-2025-scripted",
        variant="legacy",
        overrides=(("script.behind", 12), ("script.cleanup_window", 10)),
    )
    history = list(result.history)
    violation = next(v for v in result.violations if v.invariant == "endpoint-never-empty")
    story = _told(history, violation)
    order = [
        _find(story, "enactor-c", "checked plan 100: newer than plan 99"),
        _find(story, "enactor-a", "flipped the root to plan 112"),
        _find(story, "enactor-c", "flipped the root to plan 100, back from plan 112"),
        _find(story, "enactor-a", "cleaned up: deleted plan 100, the ACTIVE tree"),
    ]
    assert order == sorted(order)
    deleted = story[order[-1]]
    assert "12 plans older than plan 112, the plan it had applied" in deleted.text
    assert "(the root had moved to plan 100 since)" in deleted.text
    # The wedge: progress tells the stale flip, the deletion, and every enactor's rejected
    # flips of the next plan, counted from the batches Route 53 rejected.
    wedged = next(v for v in result.violations if v.invariant == "progress")
    story = _told(history, wedged)
    _find(story, "enactor-a", "cleaned up: deleted plan 100, the ACTIVE tree")
    for actor in ("enactor-a", "enactor-b", "enactor-c"):
        line = story[_find(story, actor, "could not apply plan 113: Route 53 rejected its batch")]
        rejected = [
            e
            for e in history
            if e["kind"] == "complete"
            and e["actor"] == actor
            and e["op"] == "ChangeResourceRecordSets"
            and "but that target was not found" in str(e["outcome"].get("message"))
        ]
        assert rejected and f"rejected its batch {len(rejected)} times" in line.text
        assert {e["seq"] for e in rejected} <= set(line.seqs)


def test_a_failing_user_invariant_tells_the_writes_to_what_it_read(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(OPS.parent))
    text = OPS.read_text().replace(
        '[[invariants]]\nfunction = "dnschaos.invariants:no_foreign_delete"\n', ""
    )
    scenario = tmp_path / "ops.toml"
    scenario.write_text(text)
    result = dnschaos.run(str(scenario), seed=1)
    history = list(result.history)
    (violation,) = result.violations
    assert violation.invariant == "www-answers"
    story = _told(history, violation)
    wrote = story[_find(story, "ops", "UPSERT www.example.com. A 192.0.2.20")]
    removed = story[_find(story, "cleanup", "DELETE www.example.com. A 192.0.2.20")]
    assert story.index(wrote) < story.index(removed) < len(story) - 1
    call = next(
        e
        for e in history
        if e["kind"] == "invoke"
        and e["actor"] == "cleanup"
        and e["op"] == "ChangeResourceRecordSets"
    )
    assert call["seq"] in removed.seqs
    done = [history[s] for s in removed.seqs if history[s]["kind"] == "complete"]
    assert done and done[0]["outcome"]["status"] == 200
    assert sys.modules.get("ops_script") is not None


def test_a_fault_on_a_write_a_user_invariant_read_is_told_with_its_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(OPS.parent))
    hold = "kind=hold,seconds=12,actor=cleanup,operation=ChangeResourceRecordSets"
    result = dnschaos.run(str(OPS), seed=1, faults=(hold,))
    history = list(result.history)
    violation = result.headline
    assert violation is not None and violation.invariant == "no-foreign-delete"
    story = _told(history, violation)
    held = story[_find(story, "cleanup", "ChangeResourceRecordSets hit by hold fault cli-0")]
    assert held.text.endswith("(the call took 12.0 s)")
    removed = _find(story, "cleanup", "DELETE www.example.com. A 192.0.2.20")
    # The write is told when it took effect: after the hold that kept it in flight.
    assert story.index(held) < removed < len(story) - 1
    assert story[removed].t >= held.t


# --------------------------------------------------------------------------- handmade histories


class _H:
    """A small history, entry by entry."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, kind: str, t: float, **fields: Any) -> _H:
        self.entries.append({"seq": len(self.entries), "t": t, "kind": kind, **fields})
        return self

    def event(self, t: float, actor: str, event: str, **fields: Any) -> _H:
        return self.add("event", t, actor=actor, event=event, **fields)

    def batch(self, t: float, actor: str, *changes: str, ok: bool = True) -> _H:
        self.add(
            "invoke",
            t,
            actor=actor,
            service="route-53",
            op="ChangeResourceRecordSets",
            params={"zone": "Z", "changes": list(changes)},
        )
        outcome = {"status": 200} if ok else {"status": 400, "error": "InvalidChangeBatch"}
        return self.add(
            "complete",
            t,
            actor=actor,
            service="route-53",
            op="ChangeResourceRecordSets",
            outcome=outcome,
        )

    def observe(self, t: float, root: int, rollback: int | None = None, exists: bool = True) -> _H:
        return self.add(
            "observe",
            t,
            endpoint=EP,
            root=root,
            root_exists=exists,
            rollback=rollback,
            rollback_exists=True,
            addresses={"A": 3},
        )


def _lock(holder: str, expires: int, action: str = "CREATE") -> str:
    return f'{action} _lock.{EP}. TXT "holder={holder} expires={expires}"'


def _root(gen: int) -> str:
    return f"UPSERT {EP}. A -> plan-{gen}.{EP}."


EPOCH = 1_760_940_000


def test_one_lost_lock_and_two_busy_looks_are_counted_apart() -> None:
    h = (
        _H()
        .batch(1, "enactor-a", _lock("enactor-a", EPOCH + 31), _root(1))
        .event(1, "enactor-a", "lock-taken", endpoint=EP, expires_at=EPOCH + 31, held_for=30)
        .observe(1, 1)
        .event(2, "enactor-c", "checked-plan", generation=1, last_applied=None)
        .event(3, "enactor-c", "lock-busy", endpoint=EP, holder="enactor-a", expires_at=EPOCH + 31)
        .event(3, "enactor-c", "backoff", endpoint=EP, attempt=1, seconds=2.0)
        .event(5, "enactor-c", "lock-busy", endpoint=EP, holder="enactor-a", expires_at=EPOCH + 31)
        .event(5, "enactor-c", "backoff", endpoint=EP, attempt=2, seconds=4.0)
        .event(9, "enactor-c", "lock-lost", endpoint=EP, generation=1, attempt=1)
        .batch(20, "enactor-b", _lock("enactor-b", EPOCH + 50), _root(3))
        .observe(20, 3, 1)
        .batch(40, "enactor-c", _lock("enactor-c", EPOCH + 70), _root(1))
        .observe(40, 1, 3)
    )
    violation = Violation(
        "applied-generation-monotonic", EP, 40, "the root went back from plan 3 to plan 1", 15
    )
    assert h.entries[15]["kind"] == "observe"
    story = _told(h.entries, violation)
    troubles = story[_find(story, "enactor-c", "found the lock held by enactor-a 2 times")]
    assert "lost the lock 1 time " in troubles.text and "backed off 6.0 s in all" in troubles.text
    assert "checked plan 1: newer than any plan it had applied (it had applied none yet)" in (
        story[0].text
    )
    assert _find(story, "enactor-b", "flipped the root to plan 3") < _find(
        story, "enactor-c", "flipped the root to plan 1, back from plan 3, 38 s after"
    )


def test_two_lock_holders_and_the_skewed_clock_behind_them() -> None:
    h = (
        _H()
        .add(
            "fault",
            0,
            action="activate",
            fault="b-ahead",
            fault_kind="clock-skew",
            matcher="always",
        )
        .batch(10, "enactor-a", _lock("enactor-a", EPOCH + 40))
        .event(10, "enactor-a", "lock-taken", endpoint=EP, expires_at=EPOCH + 40, held_for=30)
        .batch(
            15,
            "enactor-b",
            _lock("enactor-a", EPOCH + 40, "DELETE"),
            _lock("enactor-b", EPOCH + 75),
        )
        .event(
            15,
            "enactor-b",
            "lock-taken",
            endpoint=EP,
            expires_at=EPOCH + 75,
            held_for=30,
            believed_t=45,
        )
    )
    violation = Violation(
        "single-lock-holder",
        EP,
        15,
        "enactor-b took the lock while enactor-a still believed it held it",
        6,
    )
    story = _told(h.entries, violation)
    belief = _find(story, "enactor-a", "took the lock, believing it held it until t=40.0s")
    take = _find(
        story,
        "enactor-b",
        "took the lock over enactor-a's record, which said it expired at t=40.0s",
    )
    skew = _find(story, "enactor-b", "had its clock +30.0 s off (clock-skew fault b-ahead)")
    assert belief < take and story[skew].t == story[take].t


def test_cases_of_one_failure_share_a_shape_and_other_culprits_do_not() -> None:
    """Campaigns group failures by the story's skeleton: counts, faults and how the culprit
    was held up vary between cases of one failure; who checked and who flipped do not."""
    verdict = "t=  128.5s  [applied-generation-monotonic] the root went back from plan 7 to plan 1"
    one = [
        "t=    5.7s  enactor-c checked plan 1: newer than any plan it had applied",
        "t=    5.9s  enactor-c had 39 Route 53 calls slowed by latency fault x (98 s in all)",
        "t=   38.0s  enactor-c lost the lock 1 time (a batch rejected); backed off 8.8 s in all",
        "t=   99.4s  enactor-a flipped the root to plan 7",
        "t=  128.5s  enactor-c flipped the root to plan 1, back from plan 7, 123 s after it",
        verdict,
    ]
    other = [
        "t=    6.1s  enactor-c checked plan 2: newer than plan 1, the last it had applied",
        "t=   50.0s  enactor-a flipped the root to plan 9",
        "t=   51.0s  enactor-c found the lock held by enactor-a 3 times; lost the lock 3 times",
        "t=   52.0s  enactor-c was throttled 3 times by error fault y (its ListResourceRecordSets)",
        "t=  128.5s  enactor-c flipped the root to plan 2, back from plan 9, 122 s after it",
        verdict,
    ]
    assert story_shape(one) == story_shape(other)
    assert "fault" not in story_shape(one) and "lock" not in story_shape(one)
    swapped = [line.replace("enactor-a", "enactor-b") for line in one]
    assert story_shape(swapped) != story_shape(one)


def test_faults_on_the_chain_are_named_with_their_effect_and_others_are_not() -> None:
    h = _H().add("fault", 0, action="activate", fault="slow-c", fault_kind="hold", matcher="m")
    h.batch(1, "enactor-a", _lock("enactor-a", EPOCH + 31), _root(1)).observe(1, 1)
    h.event(2, "enactor-c", "checked-plan", generation=1, last_applied=None)
    # Throttled three times (botocore's attempts), then the call fails.
    h.add(
        "invoke", 3, actor="enactor-c", service="route-53", op="ListResourceRecordSets", params={}
    )
    for t in (3.0, 3.5, 4.5):
        h.add(
            "fault",
            t,
            action="hit",
            actor="enactor-c",
            op="ListResourceRecordSets",
            fault="throttle-c",
            fault_kind="error",
            matcher="m",
        )
    h.add(
        "complete",
        4.5,
        actor="enactor-c",
        service="route-53",
        op="ListResourceRecordSets",
        outcome={"status": 400, "error": "Throttling", "message": "injected by dnschaos"},
    )
    # A fault on another actor, off the chain, is not told.
    h.add(
        "invoke", 5, actor="enactor-b", service="route-53", op="ListResourceRecordSets", params={}
    )
    h.add(
        "fault",
        5,
        action="hit",
        actor="enactor-b",
        op="ListResourceRecordSets",
        fault="slow-b",
        fault_kind="latency",
        matcher="m",
    )
    h.add(
        "complete",
        9,
        actor="enactor-b",
        service="route-53",
        op="ListResourceRecordSets",
        outcome={"status": 200},
    )
    h.batch(10, "enactor-b", _lock("enactor-b", EPOCH + 40), _root(4)).observe(10, 4, 1)
    # Enactor C's flip is held in flight 41 s, and lands over the newer plan.
    h.add(
        "invoke",
        11,
        actor="enactor-c",
        service="route-53",
        op="ChangeResourceRecordSets",
        params={"zone": "Z", "changes": [_lock("enactor-c", EPOCH + 90), _root(1)]},
    )
    h.add(
        "fault",
        11,
        action="hit",
        actor="enactor-c",
        op="ChangeResourceRecordSets",
        fault="slow-c",
        fault_kind="hold",
        matcher="m",
    )
    h.add(
        "complete",
        52,
        actor="enactor-c",
        service="route-53",
        op="ChangeResourceRecordSets",
        outcome={"status": 200},
    )
    h.observe(52, 1, 4)
    last = h.entries[-1]
    violation = Violation(
        "applied-generation-monotonic",
        EP,
        52,
        "the root went back from plan 4 to plan 1",
        last["seq"],
    )
    story = _told(h.entries, violation)
    throttled = story[_find(story, "enactor-c", "was throttled 3 times by error fault throttle-c")]
    held = story[_find(story, "enactor-c", "had its ChangeResourceRecordSets held in flight 41 s")]
    assert "by hold fault slow-c" in held.text
    assert story.index(throttled) < story.index(held) < len(story) - 1
    assert not any("slow-b" in line.text for line in story)
    hits = [e["seq"] for e in h.entries if e["kind"] == "fault" and e.get("fault") == "throttle-c"]
    assert set(hits) <= set(throttled.seqs)


def test_events_a_story_cannot_read_leave_the_violation_told() -> None:
    # A user's own enactor may record a checked-plan without the built-in fields.
    h = _H().batch(1, "mine", _root(3)).observe(1, 3)
    h.event(2, "mine", "checked-plan")
    h.batch(3, "mine", _root(1)).observe(3, 1)
    violation = Violation(
        "applied-generation-monotonic", EP, 3, "the root went back from plan 3 to plan 1", 6
    )
    assert h.entries[6]["kind"] == "observe"
    story = _told(h.entries, violation)
    assert story[-1].text.startswith("[applied-generation-monotonic]")
    _find(story, "mine", "flipped the root to plan 1, back from plan 3")
