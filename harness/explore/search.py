"""Searching a scenario's schedules: many seeds, or a systematic walk of the first steps.

``seeds`` runs SEED..SEED+N-1 under the spec's strategy and stops at the first run
without a pass. ``systematic`` is a bounded depth-first search over the scheduler's
choices: it branches on the first ``dfs_bound`` steps of a run and follows one fixed
order after them, so finishing it proves nothing about the steps after the bound;
its report says exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from dnschaos.runner import RunResult, run
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.strategies import DFSStrategy


def seeds(
    spec: RunSpec, runs: int, *, progress: Callable[[RunResult], None] | None = None
) -> RunResult:
    """Runs of ``spec`` with seeds ``spec.seed`` .. ``spec.seed + runs - 1``; the first one that
    does not pass, or the last."""
    if spec.seed is None:
        from dnschaos.scenario.resolve import resolve

        spec = resolve(spec)
    assert spec.seed is not None
    result: RunResult | None = None
    for seed in range(spec.seed, spec.seed + max(1, runs)):
        result = run(replace(spec, seed=seed))
        if progress is not None:
            progress(result)
        if result.verdict != "pass":
            break
    assert result is not None
    return result


@dataclass
class SearchReport:
    schedules: int
    bound: int
    prefixes_exhausted: bool  # every ordering of the first `bound` steps was run

    def line(self) -> str:
        if self.prefixes_exhausted:
            scope = (
                f"every ordering of the first {self.bound} steps was run; steps after that "
                "followed one fixed order, so this is not an exhaustive search of the run"
            )
        else:
            scope = (
                f"the orderings of the first {self.bound} steps were not all run "
                "(the schedule budget ran out first)"
            )
        return f"dfs: {self.schedules} schedule(s) run; {scope}"


def systematic(
    spec: RunSpec,
    max_schedules: int,
    *,
    progress: Callable[[RunResult], None] | None = None,
) -> tuple[RunResult, SearchReport]:
    """Depth-first over the first ``spec.dfs_bound`` choices, at most ``max_schedules`` runs;
    stops at the first run without a pass."""
    dfs = DFSStrategy(bound=spec.dfs_bound)
    result: RunResult | None = None
    for _ in range(max(1, max_schedules)):
        result = run(spec, dfs=dfs)
        if progress is not None:
            progress(result)
        more = dfs.next_run()
        if result.verdict != "pass" or not more:
            break
    assert result is not None
    return result, SearchReport(dfs.runs, dfs.bound, dfs.exhausted)
