"""The searches' reductions are sound: on generated programs, a reduced search reaches
exactly what the full search reaches.

Each case is a program of :mod:`tests.unit.toy_programs` (two actors, a few reads and
writes of DynamoDB items and Route 53 records, branches on what was read and on the
clock, sleeps, a shared dict, invariants planted at random), run under the real
scheduler:

* depth-first over every order of its steps, with the sleep-set reduction
  (``DFSStrategy(footprints=PendingCalls())``) and without. The reduced search must
  reach the same set of end states (the world, every actor's registers, the shared
  dict), visit the same set of world states after steps, and so break the same planted
  invariants. Runs the reduction marks redundant (they went on from a node whose every
  choice was asleep) are left out: what the reduction claims is that the others cover
  them.
* the delay search (``dnschaos explore``'s levels) at bound 2, reduced and not: the same
  violations, and the reduced one's runs plus prunes are the full one's runs.
"""

from __future__ import annotations

import pytest

from dnschaos.explore.delays import Outcome, Schedule, Space, point_filter, search
from dnschaos.explore.dependence import PendingCalls
from dnschaos.explore.search import depth_first
from dnschaos.sim.strategies import DFSStrategy, ExploreStrategy
from tests.unit.toy_programs import Program, ToyRun, generate, run_program

CASES = 1000
CHUNKS = 4  # parametrised, so that pytest -n spreads them


def _reached(program: Program, reduce: bool) -> tuple[list[ToyRun], DFSStrategy]:
    dfs = DFSStrategy(bound=400, footprints=PendingCalls() if reduce else None)
    runs = depth_first(lambda s: run_program(program, s), dfs, 50_000)
    assert dfs.exhausted
    return [r for r, redundant in zip(runs, dfs.redundant, strict=True) if not redundant], dfs


def _delays(program: Program) -> object:
    def one(space: Space, schedule: Schedule) -> Outcome:
        strategy = ExploreStrategy(schedule, point_filter(space.points))
        got = run_program(program, strategy)
        held = strategy.held.get(schedule[-1].point, -1) if schedule else -1
        verdict = "fail" if got.violated else "pass"
        signature = ";".join(sorted(got.violated)) or None
        return Outcome(verdict, signature, got.reason, tuple(strategy.seen), held)

    return one


def _check(seed: int) -> tuple[int, int, bool]:
    program = generate(seed)
    full, full_dfs = _reached(program, reduce=False)
    reduced, dfs = _reached(program, reduce=True)
    where = f"seed {seed}: {program}"
    assert {r.final for r in reduced} == {r.final for r in full}, where
    visited = frozenset().union(*(r.visited for r in full))
    assert frozenset().union(*(r.visited for r in reduced)) == visited, where
    assert {r.violated for r in reduced} == {r.violated for r in full}, where
    assert dfs.runs <= full_dfs.runs
    reports = {}
    for reduce in (True, False):
        space = Space(2, (1.0,), "calls", tuple(program.actors), reduce)
        reports[reduce] = search(_delays(program), space, keep_going=True)  # type: ignore[arg-type]
    assert set(reports[True].signatures) == set(reports[False].signatures), where
    assert reports[True].run + reports[True].pruned == reports[False].run, where
    return full_dfs.runs, dfs.runs, len({r.final for r in full}) > 1


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_a_reduced_search_reaches_what_the_full_search_reaches(chunk: int) -> None:
    per = CASES // CHUNKS
    full = reduced = racy = 0
    for seed in range(chunk * per, (chunk + 1) * per):
        f, r, differ = _check(seed)
        full, reduced, racy = full + f, reduced + r, racy + differ
    # The cases must matter: many reach more than one end state, and the reduction ran
    # markedly fewer schedules than the full search.
    assert racy >= per // 4, racy
    assert reduced < 0.8 * full, (reduced, full)
