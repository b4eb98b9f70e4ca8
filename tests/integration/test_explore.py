"""Delays as schedule choices, the spin-model scenario, and the systematic delay search."""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future
from importlib import resources
from typing import Any

import jsonschema
import pytest

from dnschaos.cli import main
from dnschaos.explore.delays import explore, make_space, with_bound
from dnschaos.explore.replay import replay
from dnschaos.explore.search import seeds
from dnschaos.explore.shrink import shrink, shrunk_json
from dnschaos.runner import RunResult
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.scheduler import delay_seconds

SPIN = "spin-model"
NEVER_DELETED = ("active-plan-never-deleted",)
ENACTORS = ("enactor-a", "enactor-b")
# A shorter spin-model (three plans, 22 s) for the searches that run a whole space.
SMALL = (
    ("world.max_plans", 3),
    ("scenario.duration", 22.0),
    ("world.planner_interval", 5.0),
)


def _delays(result: RunResult) -> list[str]:
    return [c.label for c in result.choices if delay_seconds(c.label) is not None]


@pytest.fixture(scope="module")
def delayed() -> RunResult:
    """spin-model, legacy, the delay strategy: seeds 30.. until the active tree is deleted."""
    spec = RunSpec(
        SPIN, variant="legacy", strategy="delay", delays=2, seed=30, invariants=NEVER_DELETED
    )
    return seeds(spec, 5)


def test_the_delay_strategy_finds_the_spin_model_race(delayed: RunResult) -> None:
    assert delayed.verdict == "fail"
    assert delayed.headline is not None
    assert delayed.headline.invariant == "active-plan-never-deleted"
    held = _delays(delayed)
    assert 1 <= len(held) <= 2
    assert "--strategy delay --delays 2" in delayed.spec.command()


def test_the_spin_model_planner_stops_after_max_plans() -> None:
    from dnschaos.runner import run

    result = run(SPIN, variant="safe", seed=1)
    events = [e["event"] for e in result.history if e["kind"] == "event"]
    assert events.count("wrote-plan") == 5
    assert events.count("planner-stopped") == 1
    assert result.verdict == "pass"


def test_a_delay_run_replays_byte_for_byte(delayed: RunResult) -> None:
    recorded = json.loads(json.dumps(delayed.to_json()))
    schema = json.loads(resources.files("dnschaos").joinpath("result.schema.json").read_text())
    jsonschema.validate(recorded, schema)
    assert any(label.startswith("delay ") for _actor, label in recorded["choices"])
    again = replay(recorded)
    assert again.matches
    assert _delays(again.result) == _delays(delayed)


def test_the_shrinker_removes_or_shortens_delays(delayed: RunResult) -> None:
    done = shrink(delayed.spec, original=delayed, max_runs=4)
    assert done.invariant == "active-plan-never-deleted"
    assert (done.after.delays, done.after.delayed) < (done.before.delays, done.before.delayed)
    assert replay(shrunk_json(done, "delayed.json")).matches


def test_explore_at_bound_2_finds_the_race_and_the_shrunk_case_replays() -> None:
    spec = with_bound(RunSpec(SPIN, variant="legacy", invariants=NEVER_DELETED), 2)
    # One duration (half the delay range), holds of the enactors before their writes only:
    # that keeps the test short; the CLI's default space has three durations and holds
    # every actor before every call.
    space = make_space(spec, 2, fractions=(0.5,), points="writes", actors=ENACTORS)
    result, report = explore(spec, space)
    assert report.found is not None and 1 <= len(report.found) <= 2
    assert result.verdict == "fail"
    assert result.headline is not None
    assert result.headline.invariant == "active-plan-never-deleted"
    assert not report.exhausted
    assert any("violation after" in line for line in report.lines())
    assert replay(result).matches
    done = shrink(result.spec, original=result, max_runs=3)
    assert replay(shrunk_json(done, "explored.json")).matches


def test_explore_on_safe_is_exhausted(capsys: pytest.CaptureFixture[str]) -> None:
    # The whole space of one delay (one duration) on the shorter spin-model; bound 2 on
    # the full scenario is thousands of runs (see the README).
    sets = [x for k, v in SMALL for x in ("--set", f"{k}={v}")]
    code = main(
        [
            "explore",
            SPIN,
            "--variant",
            "safe",
            "--bound",
            "1",
            "--durations",
            "1",
            "--points",
            "writes",
            "--invariant",
            "active-plan-never-deleted",
            "-q",
            *sets,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "explore: exhausted at bound 1" in out
    assert "no violation" in out
    assert "actors held: enactor-a, enactor-b, planner" in out


def test_the_reduction_finds_every_violation_the_full_search_finds() -> None:
    spec = RunSpec(SPIN, variant="legacy", overrides=SMALL)
    found = {}
    for reduce in (True, False):
        space = make_space(
            spec, 1, points="calls", fractions=(0.5,), reduce=reduce, actors=("enactor-a",)
        )
        _result, report = explore(spec, space, keep_going=True)
        assert report.exhausted
        found[reduce] = (set(report.signatures), report.run, report.pruned)
    reduced, full = found[True], found[False]
    assert full[0], "the small case must have violations for the comparison to mean anything"
    assert reduced[0] == full[0]
    # Every schedule of this space is a distinct set of holds: the reduction prunes none.
    assert reduced[1] + reduced[2] == full[1]


def test_explore_cut_short_by_its_budget_is_not_exhausted() -> None:
    spec = RunSpec(SPIN, variant="safe", invariants=NEVER_DELETED, overrides=SMALL)
    space = make_space(spec, 1, fractions=(1.0,))
    _result, report = explore(spec, space, max_schedules=4)
    assert report.run == 4
    assert not report.exhausted and report.found is None
    assert "NOT exhausted at bound 1" in report.lines()[-1]


class _BackwardsPool:
    """A pool whose second chain finishes long before its first."""

    def __init__(self) -> None:
        self.futures: list[Future[str]] = []

    def submit(self, _fn: Any, *_args: Any) -> Future[str]:
        future: Future[str] = Future()
        self.futures.append(future)
        if len(self.futures) == 2:
            first, second = self.futures
            second.set_result("second chain")
            threading.Timer(0.3, first.set_result, ("first chain",)).start()
        return future


def test_parallel_chains_are_read_in_their_order_not_as_they_finish() -> None:
    # So --workers and --cluster report the schedule a single process reports.
    from dnschaos.explore import delays

    chains: list[Any] = ["a", "b"]
    done = delays._each(_BackwardsPool(), RunSpec("steady-state"), None, chains, 10, False)  # type: ignore[arg-type]
    assert list(done) == ["first chain", "second chain"]
