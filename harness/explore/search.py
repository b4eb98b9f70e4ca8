"""Searching a scenario's schedules: many seeds, or a systematic walk of the first steps.

``seeds`` runs SEED..SEED+N-1 under the spec's strategy and stops at the first run
without a pass. ``systematic`` is a bounded depth-first search over the scheduler's
choices: it branches on the first ``dfs_bound`` steps of a run and follows one fixed
order after them, so finishing it proves nothing about the steps after the bound;
its report says exactly that. It skips orders that only swap commuting AWS calls of
actors ready at the same instant (sleep sets over the relation of
:mod:`dnschaos.explore.dependence`); ``reduce=False`` runs every order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from dnschaos.explore.dependence import PendingCalls
from dnschaos.runner import RunResult, run
from dnschaos.scenario.resolve import resolve_built
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
    prefixes_exhausted: bool  # every ordering of the first `bound` steps was run or pruned
    pruned: int = 0  # choices not branched on: their order was covered (sleep sets)
    reduction: str = "off"  # why the search reduced, or did not

    def line(self) -> str:
        if self.prefixes_exhausted:
            scope = (
                f"every ordering of the first {self.bound} steps was run"
                + (" or is a reordering of commuting steps of one that was" if self.pruned else "")
                + "; steps after that followed one fixed order, so this is not an exhaustive "
                "search of the run"
            )
        else:
            scope = (
                f"the orderings of the first {self.bound} steps were not all run "
                "(the schedule budget ran out first)"
            )
        return (
            f"dfs: {self.schedules} schedule(s) run, {self.pruned} branch(es) pruned "
            f"(reduction: {self.reduction}); {scope}"
        )


R = TypeVar("R")


def depth_first(
    run_one: Callable[[DFSStrategy], R],
    dfs: DFSStrategy,
    max_schedules: int,
    *,
    stop: Callable[[R], bool] = lambda _r: False,
    progress: Callable[[R], None] | None = None,
) -> list[R]:
    """Run ``dfs``'s schedules one after the other with ``run_one`` (a run of the scenario
    under the strategy it is given) until the space is exhausted, ``max_schedules`` runs
    were made, or ``stop`` says so of a run; the runs' results, in order."""
    out: list[R] = []
    for _ in range(max(1, max_schedules)):
        result = run_one(dfs)
        out.append(result)
        if progress is not None:
            progress(result)
        more = dfs.next_run()
        if stop(result) or not more:
            break
    return out


def reduction_for(spec: RunSpec, reduce: bool) -> tuple[PendingCalls | None, str]:
    """The sleep sets' view of a scenario's steps, or None (and why) when the search must
    try every order."""
    if not reduce:
        return None, "off (asked for)"
    _spec, scenario = resolve_built(spec)
    if scenario.faults:
        return None, "off: the run has faults, whose state every call may read"
    return PendingCalls(), "sleep sets over commuting AWS calls at the same instant"


def systematic(
    spec: RunSpec,
    max_schedules: int,
    *,
    progress: Callable[[RunResult], None] | None = None,
    reduce: bool = True,
) -> tuple[RunResult, SearchReport]:
    """Depth-first over the first ``spec.dfs_bound`` choices, at most ``max_schedules`` runs;
    stops at the first run without a pass. With ``reduce`` (the default) an order that
    differs from one already run only in the order of commuting AWS calls made at the same
    instant is not run (:mod:`dnschaos.explore.dependence`)."""
    footprints, reduction = reduction_for(spec, reduce)
    dfs = DFSStrategy(bound=spec.dfs_bound, footprints=footprints)
    results = depth_first(
        lambda strategy: run(spec, dfs=strategy),
        dfs,
        max_schedules,
        stop=lambda r: r.verdict != "pass",
        progress=progress,
    )
    report = SearchReport(dfs.runs, dfs.bound, dfs.exhausted, dfs.pruned, reduction)
    return results[-1], report
