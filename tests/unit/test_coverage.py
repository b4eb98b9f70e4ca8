"""The abstract state of a run, the coverage map, and the guided campaign's mutations."""

from __future__ import annotations

import itertools
from typing import Any

from dnschaos.explore.coverage import (
    CoverageMap,
    abstract_states,
    call_points,
    coverage_keys,
)
from dnschaos.explore.guided import GuidedSource
from dnschaos.explore.shrink import Case
from dnschaos.scenario.resolve import load_scenario

EP = "api.example."


def _history() -> list[dict[str, Any]]:
    """A handmade run: plan 2 is written, enactor-a takes the lock, flips to plan 1 (stale),
    its lease runs out, then enactor-b deletes plan 1."""
    es: list[dict[str, Any]] = [
        {"kind": "choice", "actor": "enactor-a", "label": "start", "t": 0.0},
        {"kind": "event", "event": "wrote-plan", "actor": "planner", "generation": 1, "t": 0.1},
        {"kind": "event", "event": "checked-plan", "actor": "enactor-a", "generation": 1, "t": 1},
        {"kind": "event", "event": "wrote-plan", "actor": "planner", "generation": 2, "t": 2.0},
        {
            "kind": "event",
            "event": "lock-taken",
            "actor": "enactor-a",
            "endpoint": EP,
            "held_for": 10.0,
            "t": 3.0,
        },
        {"kind": "choice", "actor": "enactor-a", "label": "delay 5.000s", "t": 3.0},
        {"kind": "choice", "actor": "enactor-a", "label": "call route-53.Change", "t": 8.0},
        {
            "kind": "invoke",
            "actor": "enactor-a",
            "op": "ChangeResourceRecordSets",
            "t": 8.0,
            "params": {"changes": ["UPSERT api.example. A -> plan-1.api.example."]},
        },
        {
            "kind": "complete",
            "actor": "enactor-a",
            "op": "ChangeResourceRecordSets",
            "t": 8.1,
            "outcome": {"status": 200},
        },
        {
            "kind": "observe",
            "endpoint": EP,
            "root": 1,
            "root_exists": True,
            "rollback": None,
            "rollback_exists": False,
            "t": 8.1,
        },
        {
            "kind": "invoke",
            "actor": "enactor-b",
            "op": "ListResourceRecordSets",
            "t": 14.0,
            "params": {},
        },
        {
            "kind": "invoke",
            "actor": "enactor-b",
            "op": "ChangeResourceRecordSets",
            "t": 14.0,
            "params": {"changes": ["DELETE plan-1.api.example. A 10.0.0.1"]},
        },
        {
            "kind": "observe",
            "endpoint": EP,
            "root": 1,
            "root_exists": False,
            "rollback": None,
            "rollback_exists": False,
            "t": 14.1,
        },
    ]
    return es


def test_the_abstract_state_tells_lag_trees_lock_and_pending_writes() -> None:
    states = abstract_states(_history())
    # enactor-a works on plan 1 while plan 2 is the newest: one behind.
    assert any("enactor-a:-:1" in s for s in states)
    assert any("enactor-a:held:1" in s for s in states)
    assert any(f"{EP}:---:enactor-a" in s for s in states)
    assert any("enactor-a:flip:1" in s for s in states)
    # After the flip the root is one plan behind, its tree exists; the lease has run out by 14s.
    assert any(f"{EP}:1+-:enactor-a" in s for s in states)
    # A read changes nothing; a clean-up is a pending "delete"; the lease expired: "~".
    assert states[-2].endswith("enactor-b:delete:-") and f"{EP}:1+-:~" in states[-2]
    assert f"{EP}:1x-:~" in states[-1]
    assert all(a != b for a, b in itertools.pairwise(states))


def test_a_real_runs_states_tell_where_the_root_is() -> None:
    """Observations record plan generations as numbers: the endpoint part must follow them."""
    from dnschaos.runner import run

    result = run("spin-model", variant="legacy", seed=1)
    endpoints = {p for s in abstract_states(result.history) for p in s.split("|")[:2]}
    assert any(":0++:" in p for p in endpoints), sorted(endpoints)[:5]


def test_user_actor_histories_have_per_actor_states() -> None:
    es: list[dict[str, Any]] = [
        {"kind": "world", "t": 0.0},
        {
            "kind": "invoke",
            "actor": "a",
            "op": "ChangeResourceRecordSets",
            "t": 1.0,
            "params": {"changes": ["UPSERT x.example. TXT v", "DELETE y.example. TXT w"]},
        },
        {
            "kind": "complete",
            "actor": "a",
            "op": "ChangeResourceRecordSets",
            "t": 1.1,
            "outcome": {"status": 400, "error": "InvalidChangeBatch"},
        },
    ]
    assert abstract_states(es) == ["", "a:crrs:DELETE+UPSERT", "a:-!"]


def test_coverage_keys_and_the_map_count_only_what_is_new() -> None:
    states, transitions = coverage_keys(_history())
    assert len(states) == len(set(abstract_states(_history())))
    assert transitions and all(len(k) == 16 for k in states | transitions)
    assert coverage_keys(_history()) == (states, transitions)  # stable hashes
    cov = CoverageMap()
    assert cov.add(0, states, transitions) == len(states) + len(transitions)
    assert cov.add(1, states, transitions) == 0
    assert cov.add(2, {"new"}, ()) == 1 and cov.states["new"] == 2
    assert CoverageMap.from_json(cov.to_json()) == cov
    assert cov.summary() == {"states": len(states) + 1, "transitions": len(transitions)}


def test_call_points_number_each_actors_calls() -> None:
    es = [
        {"kind": "choice", "actor": "a", "label": "call dynamodb.Query"},
        {"kind": "choice", "actor": "b", "label": "call dynamodb.Query"},
        {"kind": "choice", "actor": "a", "label": "sleep 1.0s"},
        {"kind": "choice", "actor": "a", "label": "call route-53.Change"},
        {"kind": "choice", "actor": "nemesis", "label": "call x"},
    ]
    assert call_points(es) == [["a", 1], ["b", 1], ["a", 2]]


def test_guided_cases_mutate_the_corpus_within_its_limits() -> None:
    scenario = load_scenario("steady-state")
    source = GuidedSource(scenario, campaign_seed=4)
    first = source.case(0)
    assert first.holds == () and source.case(0) == first  # handed out again on resume
    points = [("enactor-a", n) for n in range(1, 30)] + [("enactor-b", n) for n in range(1, 30)]
    assert source.learn(0, points, new=5)
    assert not source.learn(99, points, new=3)  # never handed out: nothing to keep
    source.issued[1] = Case(1)
    assert not source.learn(1, points, new=0)  # added nothing: not kept
    cases = [source.case(i) for i in range(2, 200)]
    held = [c for c in cases if c.holds]
    assert held, "no case got a hold"
    for case in cases:
        assert len(case.holds) <= source.max_holds
        assert len({(a, n) for a, n, _s in case.holds}) == len(case.holds)
        assert len(case.faults) <= scenario.fuzz_max_faults
        for actor, n, seconds in case.holds:
            assert (actor, n) in points or any(
                abs(n - k) <= 3 * source.max_holds for a, k in points if a == actor
            )
            assert 0 < seconds <= source.span
    assert {"hold", "reseed"} <= set(source.mutations)
    # The same corpus and index give the same case in any process.
    again = GuidedSource(scenario, campaign_seed=4)
    again.load(source.to_json())
    again.issued.clear()
    source.issued.clear()
    assert [again.case(i) for i in range(300, 320)] == [source.case(i) for i in range(300, 320)]


def test_a_case_with_holds_round_trips_through_json() -> None:
    case = Case(9, "random", ("name=x,kind=pause,actor=enactor-a",), (("enactor-b", 4, 12.5),))
    assert Case.from_json(case.to_json()) == case
    assert "holds" not in Case(9).to_json()  # blind cases are stored as before


def test_entries_that_reach_rare_ground_are_picked_most() -> None:
    source = GuidedSource(load_scenario("steady-state"), campaign_seed=1)
    common = [f"c{i}" for i in range(5)]
    for index in range(6):  # six runs reach the common keys; one also reaches "rare"
        source.issued[index] = Case(index)
        keys = [*common, "rare"] if index == 5 else common
        source.learn(index, [("enactor-a", 1)], new=1, keys=keys)
    plain, rare = source.corpus[0], source.corpus[5]
    assert source.hits["c0"] == 6 and source.hits["rare"] == 1
    assert source.weight(rare) == source.weight(plain) + 1.0
    again = GuidedSource(load_scenario("steady-state"), campaign_seed=1)
    again.load(source.to_json())
    assert again.hits == source.hits and again.corpus[5].keys == rare.keys
