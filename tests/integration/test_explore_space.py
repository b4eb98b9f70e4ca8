"""What ``dnschaos explore`` searches and what it may claim: any actor held, before any
AWS call, each set of holds run once, runs without a verdict counted as such."""

from __future__ import annotations

import json
import pathlib

import pytest

from dnschaos.cli import main
from dnschaos.explore.chains import Ran, next_chains
from dnschaos.explore.delays import Space, explore, make_space
from dnschaos.scenario.actors import holdable
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.strategies import PlacedDelay, Point

WATCHFUL = "tests.integration.timed_enactor:WatchfulEnactor"
SIMS = "tests.integration.explore_sims"
# spin-model cut down: two plans four seconds apart, then the enactors poll with nothing
# new until 34 s; a 4 s hold (0.2 of the delay range) just before the second of two
# such polls makes WatchfulEnactor give up.
WATCHED = [
    "--set",
    "world.max_plans=2",
    "--set",
    "world.planner_interval=4",
    "--set",
    "scenario.duration=34",
    "--durations",
    "0.2",
]


@pytest.mark.parametrize("points", [[], ["--points", "calls"]], ids=["default", "calls"])
def test_a_hold_between_two_reads_is_found(
    capsys: pytest.CaptureFixture[str], points: list[str]
) -> None:
    # Before: the default space held enactors only before Route 53 writes and said
    # "exhausted ... no violation"; --points calls pruned the one schedule that breaks it
    # ("exhausted at bound 1: 28 schedule(s) run, 33 pruned; no violation"), taking a
    # hold before the second read for the same as a hold before the first, because the
    # enactor made the same calls with the same outcomes in both.
    code = main(
        [
            "explore",
            "spin-model",
            "--variant",
            WATCHFUL,
            "--bound",
            "1",
            "--actor",
            "enactor-a",
            "--invariant",
            "no-actor-error",
            "-q",
            *WATCHED,
            *points,
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    assert "delays: enactor-a at point 60 for 4s" in out
    assert "0 pruned" in out
    assert "exhausted" not in out


def test_explore_holds_a_users_actors_and_finds_their_lost_update_at_bound_1(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    # Before: only enactors were held; a simulation has none, so explore ran the base
    # schedule alone and said "exhausted ... no violation".
    out_json = tmp_path / "found.json"
    code = main(["explore", f"{SIMS}:lost_update", "--bound", "1", "--json", str(out_json), "-q"])
    out = capsys.readouterr().out
    assert code == 1, out
    # a is held between its read and its write; b reads and writes meanwhile.
    assert "delays: a at point 2 for 18.75s" in out
    assert "both-counted" in out
    # The summary names the space it searched.
    assert "  actors held: a, b (the code under test, not the harness's own)" in out
    assert "  points: just before each AWS call (reads and writes)" in out
    assert "  durations: 18.75s, 37.5s, 75s" in out
    assert "  base order: the first ready actor (by name) at every choice" in out
    found = json.loads(out_json.read_text())["explore"]
    assert found["found"] == [{"actor": "a", "point": 2, "seconds": 18.75}]
    assert found["actors"] == ["a", "b"]


def test_runs_without_a_verdict_are_counted_as_unknown_not_as_violations(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    # Holding a (before it raises the flag b polls for) 37.5 s or 75 s runs b into the
    # step limit. Before: the first such run was reported as "a violation".
    out_json = tmp_path / "unknown.json"
    code = main(["explore", f"{SIMS}:flag_wait", "--bound", "1", "--json", str(out_json), "-q"])
    out = capsys.readouterr().out
    assert code == 3, out  # as for run: no verdict is no pass
    assert "violation after" not in out
    assert "no violation\n" not in out
    assert "2 schedule(s) ended unknown" in out
    assert "first (a at point 1 for 37.5s): step limit of 120 reached" in out
    assert "NOT a pass" in out
    report = json.loads(out_json.read_text())
    assert report["verdict"] == "unknown"
    assert report["explore"]["unknown"] == 2 and report["explore"]["found"] is None
    assert report["explore"]["exhausted"] is True


def test_the_search_goes_on_past_a_run_without_a_verdict() -> None:
    spec = RunSpec(f"{SIMS}:flag_wait")
    result, report = explore(spec, make_space(spec, 1), keep_going=True)
    assert report.unknown == 2 and report.run == 7 and not report.signatures
    assert result.verdict == "unknown"


def test_the_default_actors_are_the_code_under_test() -> None:
    # cascade-2025 runs a nemesis, DNS probes, an operator and a downstream model too:
    # the harness's own actors and the watchers that react to the others are not held.
    spec = RunSpec("cascade-2025")
    assert sorted(holdable(build(resolve(spec)))) == ["enactor-a", "enactor-c", "planner"]
    assert make_space(spec, 1).actors == ("enactor-a", "enactor-c", "planner")
    sim = RunSpec(f"{SIMS}:lost_update")
    assert holdable(build(resolve(sim))) == ("a", "b")
    assert make_space(sim, 1).actors == ("a", "b")
    with pytest.raises(Exception, match="--actor nobody: not an actor of spin-model"):
        make_space(RunSpec("spin-model"), 1, actors=("nobody",))
    with pytest.raises(Exception, match="--actor nemesis: not an actor of cascade-2025"):
        make_space(spec, 1, actors=("nemesis",))


def _ran(schedule: tuple[PlacedDelay, ...], seen: list[tuple[Point, int]], held: int) -> Ran:
    return Ran(schedule, tuple((p, "call x.Op", step) for p, step in seen), held)


def test_a_set_of_holds_met_twice_is_run_once_and_only_such_sets_are_pruned() -> None:
    x1, y1, x2 = Point("x", 1), Point("y", 1), Point("y", 2)
    hx, hy = PlacedDelay(x1, 5.0), PlacedDelay(y1, 5.0)
    # x's hold started at step 3 and y's first point came after it; y's hold started at
    # step 3 and x's first point came after it: both parents meet {hx, hy}.
    frontier = [
        _ran((hx,), [(x1, 9), (y1, 4), (x2, 6)], 3),
        _ran((hy,), [(x1, 4), (y1, 9)], 3),
    ]
    for reduce, pruned, schedules in ((True, 1, 2), (False, 0, 3)):
        space = Space(2, (5.0,), "calls", ("x", "y"), reduce)
        met = {frozenset[PlacedDelay]()}
        chains, got = next_chains(space, frontier, True, met)
        sets = [
            frozenset((*c.parent.schedule, PlacedDelay(p, c.seconds)))
            for c in chains
            for p in c.points
        ]
        assert (got if reduce else 0, len(sets)) == (pruned, schedules)
        assert frozenset((hx, hy)) in sets and frozenset((hx, PlacedDelay(x2, 5.0))) in sets
        # A point already held is not held twice.
        assert all(len(s) == 2 for s in sets)
