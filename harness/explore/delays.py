"""Systematic search over delays: every schedule with at most K holds, in a stated space.

The space (the report prints it, and says "exhausted" of it only):

* base order: at every choice the first ready actor (by name) runs; the call
  latencies are drawn from the run's seed. Nothing else about the order varies.
* actors: the ones that may be held; by default the code under test
  (:func:`dnschaos.scenario.actors.holdable`: user actors, a workload's planner and
  enactors alike), not the harness's own (the nemesis, the DNS probes and
  propagator) nor the watchers that react to the others (``--actor`` names some).
* points: a held actor waits at a *point*, its n-th yield point just before an
  AWS call (``calls``, the default: reads and writes) or just before an AWS call
  that writes (``writes``: anything but List/Get/Describe/Query/Scan). Points are
  named by actor and ordinal, so they name the same place in every run that
  reaches it.
* durations: a hold lasts one of a few fixed durations (fractions of the
  scenario's delay range, :func:`dnschaos.scenario.spec.delay_range`).
* bound: at most ``bound`` holds a schedule.

Level 0 is the base schedule; level k (1 <= k <= bound) is, for every schedule S
of level k-1 and every point (of a held actor, not held in S yet) reached in S's
run after S's last hold started, and every duration, S plus that hold. Levels
run in order (all single holds before any pair), so the search reports the fewest
holds that break an invariant.

Reduction, and why it is sound. A schedule is a *set* of holds: the strategy
looks each hold up by its point, and everything else of a run (the scheduler, the
latency draws, moto's generator, the actors' seeded streams) is a function of the
spec. Two schedules with the same set of holds are therefore the same run, however
the search met them (level 2 meets {h1, h2} from {h1} when h2's point comes after
h1 starts, and from {h2} when h1's point comes after h2 starts). The reduction
runs each set once and counts the others as pruned; its argument needs nothing
about what the actors do.

It prunes nothing else, on purpose. A hold moves the held actor in virtual time:
two different sets of holds run some actor's steps at different instants, and
actors read the clock at any step (their own code, backoff and lock expiry,
Route 53's change status, botocore's retries), while the scheduler's quantum lets
one actor's presence change when another runs. No rule over commuting operations
makes two such runs equivalent, and comparing what the held actor did in the two
runs would compare outcomes, not the state it derived from the clock or from what
it read. Commutation is sound for steps at the same instant, which this search
does not reorder (its base order is fixed); the depth-first search of
:mod:`dnschaos.explore.search` does, with the relation of
:mod:`dnschaos.explore.dependence`.

A run that ends at a step, virtual-time or wall-time limit, or with a harness
error, has the verdict ``unknown``: neither a violation nor a pass. The search
goes on, counts such runs, and a search that met any does not say its space holds
no violation.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from dnschaos.checkers import headline
from dnschaos.errors import UsageError
from dnschaos.explore.chains import (
    Chain,
    ChainDone,
    Ran,
    Schedule,
    next_chains,
    run_chain,
    schedule_json,
)
from dnschaos.explore.dependence import is_read
from dnschaos.explore.journal import Journal
from dnschaos.runner import RunResult, run
from dnschaos.scenario.actors import holdable
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec, delay_range
from dnschaos.sim.strategies import ExploreStrategy, PlacedDelay, Point

POINT_KINDS: Final = ("calls", "writes")
# Durations, as fractions of the scenario's delay range.
DEFAULT_FRACTIONS: Final = (0.25, 0.5, 1.0)


def point_filter(kind: str) -> Callable[[str], bool]:
    """Which yield points (by label) a space may hold an actor at."""
    if kind == "calls":
        return lambda label: label.startswith("call ")
    if kind == "writes":
        return lambda label: label.startswith("call ") and not is_read(label.rsplit(".", 1)[-1])
    raise UsageError(f"--points {kind!r}: choose one of {', '.join(POINT_KINDS)}")


@dataclass(frozen=True)
class Space:
    bound: int
    durations: tuple[float, ...]
    points: str = "calls"
    actors: tuple[str, ...] = ()  # the actors that may be held
    reduce: bool = True
    seed: int | None = None  # of the base order's latency draws
    chosen: bool = False  # the actors were named (--actor), not the default

    def point_text(self) -> str:
        if self.points == "writes":
            return "just before each AWS call that writes (not List/Get/Describe/Query/Scan)"
        return "just before each AWS call (reads and writes)"

    def base_text(self) -> str:
        seed = "" if self.seed is None else f" {self.seed}"
        return f"the first ready actor (by name) at every choice; call latencies from seed{seed}"

    def describe(self) -> str:
        durations = ", ".join(f"{d:g}s" for d in self.durations)
        return (
            f"at most {self.bound} hold(s) of {', '.join(self.actors) or 'no actor'}, each "
            f"{self.point_text()} reached after the previous hold, for one of {durations}; "
            f"base order: {self.base_text()}"
        )

    def lines(self) -> list[str]:
        how = "as named" if self.chosen else "the code under test, not the harness's own"
        return [
            f"space: the base order with at most {self.bound} hold(s)",
            f"  actors held: {', '.join(self.actors) or 'none'} ({how})",
            f"  points: {self.point_text()}, counted per actor; a hold after the first "
            "is placed at a point reached after the previous hold started",
            f"  durations: {', '.join(f'{d:g}s' for d in self.durations)}",
            f"  base order: {self.base_text()}",
        ]


@dataclass(frozen=True)
class Outcome:
    """What the search keeps of one run: its verdict, what broke (a failing run's
    signature) or why it ended (an unknown one's reason), and where holds could go."""

    verdict: str
    signature: str | None
    reason: str
    seen: tuple[tuple[Point, str, int], ...]  # every point reached: (point, label, step)
    held_step: int  # the step at which the schedule's last hold started (-1: none)


Runner = Callable[["Space", Schedule], Outcome]


@dataclass
class ExploreReport:
    space: Space
    run: int = 0
    pruned: int = 0
    levels_done: int = -1  # the deepest level every schedule of which was run or pruned
    exhausted: bool = False
    found: Schedule | None = None
    seconds: float = 0.0
    # keep_going: the first schedule found for each violation signature (invariant, endpoint)
    signatures: dict[str, Schedule] = field(default_factory=dict)
    # Per level: schedules run, pruned, and in the level (known once the level above ran).
    per_level: list[tuple[int, int, int]] = field(default_factory=list)
    cut: bool = False  # the schedule budget ran out
    unknown: int = 0  # runs whose verdict is unknown (a limit, a harness error)
    resumed: int = 0  # runs read back from the journal of an earlier, interrupted search
    first_unknown: tuple[Schedule, str] | None = None  # its schedule and reason

    def lines(self) -> list[str]:
        out = self.space.lines()
        if not self.space.reduce:
            out.append("reduction: off (every schedule is run, also one met twice)")
        else:
            out.append(
                "reduction: a schedule is a set of holds, run once however the search meets "
                "it; no other schedule is pruned (a hold moves an actor in time, and actors "
                "read the clock)"
            )
        for level, (ran, pruned, size) in enumerate(self.per_level):
            whole = f"{ran}" if ran + pruned == size else f"{ran} of {size - pruned}"
            out.append(f"  level {level}: {whole} schedule(s) run, {pruned} pruned")
        met = sum(size for _ran, _pruned, size in self.per_level)
        total = (
            f"{self.run} schedule(s) run, {self.pruned} pruned, of {met} met so far, "
            f"{self.seconds:.1f}s"
            if met != self.run + self.pruned
            else f"{self.run} schedule(s) run, {self.pruned} pruned, {self.seconds:.1f}s"
        )
        if self.resumed:
            out.append(
                f"  resumed: {self.resumed} of the runs below were read back from the record "
                "of the interrupted search, not run again"
            )
        if self.unknown:
            assert self.first_unknown is not None
            schedule, reason = self.first_unknown
            out.append(
                f"  {self.unknown} schedule(s) ended unknown, neither pass nor violation; the "
                f"first ({_schedule_text(schedule)}): {reason}"
            )
        if self.found is not None:
            out.append(f"explore: violation after {total}; delays: {_schedule_text(self.found)}")
        elif self.signatures:
            scope = f"exhausted at bound {self.space.bound}" if self.exhausted else "NOT exhausted"
            out.append(f"explore: {scope}: {total}; {len(self.signatures)} distinct violation(s):")
            out += [f"  {sig}: delays {_schedule_text(s)}" for sig, s in self.signatures.items()]
        elif self.exhausted and not self.unknown:
            out.append(f"explore: exhausted at bound {self.space.bound}: {total}; no violation")
        elif self.exhausted:
            out.append(
                f"explore: every schedule at bound {self.space.bound} run: {total}; no "
                f"violation, but {self.unknown} ended unknown: no verdict for the space, "
                "NOT a pass"
            )
        else:
            tail = (
                "no violation"
                if not self.unknown
                else f"no violation found, {self.unknown} run(s) unknown"
            )
            out.append(
                f"explore: NOT exhausted at bound {self.space.bound} (the schedule budget ran "
                f"out; levels 0..{self.levels_done} complete): {total}; {tail}"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "space": self.space.describe(),
            "bound": self.space.bound,
            "durations": list(self.space.durations),
            "points": self.space.points,
            "actors": list(self.space.actors),
            "reduce": self.space.reduce,
            "schedules_run": self.run,
            "schedules_pruned": self.pruned,
            "per_level": [list(x) for x in self.per_level],
            "exhausted": self.exhausted,
            "unknown": self.unknown,
            "first_unknown": None
            if self.first_unknown is None
            else {
                "delays": schedule_json(self.first_unknown[0]),
                "reason": self.first_unknown[1],
            },
            "found": None if self.found is None else schedule_json(self.found),
            "seconds": round(self.seconds, 3),
        }


def _schedule_text(s: Schedule) -> str:
    return (
        ", ".join(f"{d.point.actor} at point {d.point.nth} for {d.seconds:g}s" for d in s) or "none"
    )


def make_space(
    spec: RunSpec,
    bound: int,
    *,
    points: str = "calls",
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    reduce: bool = True,
    actors: Sequence[str] | None = None,
) -> Space:
    """The space of ``dnschaos explore``: holds of ``actors`` (default: every actor but the
    harness's own) for the given fractions of the scenario's delay range."""
    if bound < 0:
        raise UsageError(f"--bound {bound}: must be 0 or more")
    point_filter(points)
    resolved = resolve(spec)
    scenario = build(resolved)
    span = delay_range(scenario)
    durations = tuple(sorted({round(span * f, 3) for f in fractions}))
    if not durations or min(durations) <= 0:
        raise UsageError("explore: durations must be > 0")
    may = tuple(sorted(holdable(scenario)))
    if actors is None:
        held = may
    else:
        held = tuple(dict.fromkeys(actors))
        unknown = [a for a in held if a not in may]
        if unknown:
            raise UsageError(
                f"--actor {unknown[0]}: not an actor of {scenario.name} that may be held; "
                f"choose from {', '.join(may)}"
            )
    return Space(bound, durations, points, held, reduce, resolved.seed, actors is not None)


def run_schedule(
    spec: RunSpec, space: Space, schedule: Schedule
) -> tuple[RunResult, ExploreStrategy]:
    """One schedule of the space: the base order with the schedule's holds."""
    strategy = ExploreStrategy(schedule, point_filter(space.points))
    return run(spec, guide=strategy), strategy


def violation_signature(result: RunResult) -> str | None:
    """What a failing run broke, where: its headline violation's invariant and endpoint."""
    if result.verdict != "fail":
        return None
    first = headline(result.violations)
    return None if first is None else f"{first.invariant} @ {first.endpoint}"


def outcome(result: RunResult, strategy: ExploreStrategy, schedule: Schedule) -> Outcome:
    last = schedule[-1].point if schedule else None
    held = -1 if last is None else strategy.held.get(last, -1)
    signature = violation_signature(result) or ("fail" if result.verdict == "fail" else None)
    return Outcome(result.verdict, signature, result.reason, tuple(strategy.seen), held)


@dataclass(frozen=True)
class SpecRunner:
    """The runs of a spec's schedules (picklable: worker processes run chains of them)."""

    spec: RunSpec

    def __call__(self, space: Space, schedule: Schedule) -> Outcome:
        result, strategy = run_schedule(self.spec, space, schedule)
        return outcome(result, strategy, schedule)


def journal_header(spec: RunSpec, space: Space, keep_going: bool) -> dict[str, Any]:
    """What names a search in its journal: a resume must be the same search."""
    return {
        "spec": spec.to_json(),
        "space": {
            "bound": space.bound,
            "durations": list(space.durations),
            "points": space.points,
            "actors": list(space.actors),
            "reduce": space.reduce,
            "seed": space.seed,
        },
        "keep_going": keep_going,
    }


def search(
    runner: Runner,
    space: Space,
    *,
    max_schedules: int = 100_000,
    keep_going: bool = False,
    progress: Callable[[int, int], None] | None = None,
    pool: Any = None,
    base: Outcome | None = None,
    journal: Journal | None = None,
) -> ExploreReport:
    """Run the space level by level with ``runner``; stop at the first violation (unless
    ``keep_going``). ``base``: the base schedule's outcome when the caller has run it.
    ``journal``: each finished chain is recorded there, and the chains it holds already
    (a resumed search) are taken from it instead of being run; ``max_schedules`` counts
    only the runs made now."""
    report = ExploreReport(space)
    began = time.monotonic()

    def finish() -> ExploreReport:
        report.seconds = time.monotonic() - began
        return report

    def unknown(schedule: Schedule, reason: str) -> None:
        report.unknown += 1
        if report.first_unknown is None:
            report.first_unknown = (schedule, reason)

    first = base if base is not None else runner(space, ())
    made = 1  # runs made by this call (not read back from the journal)
    report.run = 1
    report.per_level.append((1, 0, 1))
    if first.verdict == "fail":
        if not keep_going:
            report.found = ()
            return finish()
        report.signatures[first.signature or "fail"] = ()
    elif first.verdict != "pass":
        unknown((), first.reason)
    report.levels_done = 0
    frontier = [Ran((), first.seen, -1)]
    met: set[frozenset[PlacedDelay]] = {frozenset()}
    for level in range(1, space.bound + 1):
        chains, pruned_here = next_chains(space, frontier, level == space.bound, met)
        if not space.reduce:
            pruned_here = 0
        size = pruned_here + sum(len(c.points) for c in chains)
        report.pruned += pruned_here
        ran_here = 0
        frontier = []
        recorded = [] if journal is None else journal.recorded(level, len(chains))
        fresh = _each(
            pool, runner, space, chains[len(recorded) :], max_schedules - made, keep_going
        )
        for index, done in enumerate(itertools.chain(recorded, fresh)):
            if index >= len(recorded):
                made += done.runs
                if journal is not None and not done.cut:  # a cut chain runs whole on resume
                    journal.finished(level, done)
            else:
                report.resumed += done.runs
            report.cut = report.cut or done.cut
            for sig, schedule in done.signatures.items():
                report.signatures.setdefault(sig, schedule)
            for schedule, reason in done.unknown:
                unknown(schedule, reason)
            report.run += done.runs
            ran_here += done.runs
            frontier.extend(done.ran)
            if progress is not None:
                progress(report.run, report.pruned)
            if done.found is not None:
                report.per_level.append((ran_here, pruned_here, size))
                report.found = done.found
                return finish()
            if report.cut:
                report.per_level.append((ran_here, pruned_here, size))
                return finish()
        report.per_level.append((ran_here, pruned_here, size))
        report.levels_done = level
    report.exhausted = True
    return finish()


def explore(
    spec: RunSpec,
    space: Space,
    *,
    max_schedules: int = 100_000,
    workers: int = 1,
    keep_going: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cluster: str | None = None,
    store: Path | None = None,
    resume: bool = False,
    note: Callable[[str], None] | None = None,
) -> tuple[RunResult, ExploreReport]:
    """Run the space level by level; stop at the first schedule whose run breaks an
    invariant. The run returned is the violating one, else the first that ended unknown,
    else the base schedule's.

    With ``workers`` > 1 the chains of a level run in worker processes; their results are
    read in the chains' order, so the schedule reported is the one a single process finds.
    ``progress(run, pruned)`` after each chain. ``max_schedules`` bounds the runs: a
    search cut short says so and is not exhausted. With ``keep_going`` the search does
    not stop at a violation: it runs the whole space and collects each distinct
    violation signature (``report.signatures``). ``cluster``: the address of a Dask
    scheduler whose workers run the chains instead (``dnschaos.explore.cluster``); ``note``
    is told when its workers' Dask housekeeping costs CPU that settings would save.
    ``store``: a directory where each finished chain is recorded (:mod:`dnschaos.explore.journal`);
    with ``resume`` the search recorded there goes on where it stopped."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    spec = resolve(spec)
    journal = None
    if store is not None:
        journal = Journal.open(store, journal_header(spec, space, keep_going), resume=resume)
    base, base_strategy = run_schedule(spec, space, ())
    if cluster is not None:
        from dnschaos.explore.cluster import ClusterPool

        pool: Any = ClusterPool.connect(cluster, note)
    else:
        pool = _pool(workers)
    try:
        report = search(
            SpecRunner(spec),
            space,
            max_schedules=max_schedules,
            keep_going=keep_going,
            progress=progress,
            pool=pool,
            base=outcome(base, base_strategy, ()),
            journal=journal,
        )
    except BaseException:
        # Ctrl-C, SIGTERM or a failure: stop the workers mid-chain rather than wait for them
        # (what they ran is not recorded; finished chains are).
        if pool is not None:
            _stop(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    again = report.found
    if again is None and report.first_unknown is not None:
        again = report.first_unknown[0]
    if not again:
        return base, report
    result, _ = run_schedule(spec, space, again)  # the same run: it is deterministic
    return result, report


def _pool(workers: int) -> Any:
    if workers <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from dnschaos.explore.campaign import init_worker

    # Fresh interpreters: the explorer's own process has run actor threads. The workers
    # ignore Ctrl-C (the explorer stops them) and die with the explorer.
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(None, os.getpid()),
    )


def _stop(pool: Any) -> None:
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(pool, ProcessPoolExecutor):
        from dnschaos.explore.campaign import close_pool

        close_pool(pool, kill=True)
    else:
        pool.shutdown(cancel_futures=True)


def _each(
    pool: Any,
    runner: Runner,
    space: Space,
    chains: list[Chain],
    budget: int,
    keep_going: bool,
) -> Iterable[ChainDone]:
    """The chains' results; a chain that meets the end of the ``budget`` of runs stops
    there and says so (``cut``). Workers each get the whole remaining budget, so a
    parallel search may overrun it by up to a chain a worker."""
    if pool is None:
        for chain in chains:
            done = run_chain(runner, space, chain, keep_going, budget)
            budget -= done.runs
            yield done
        return
    futures = [pool.submit(run_chain, runner, space, chain, keep_going, budget) for chain in chains]
    # In the chains' order, not as they finish: the schedule reported is the one a single
    # process reports, however many workers (or cluster machines) ran, and however fast.
    for future in futures:
        yield future.result()


def signature(result: RunResult) -> str | None:
    if result.verdict != "fail":
        return None
    first = headline(result.violations)
    return None if first is None else first.invariant


def with_bound(spec: RunSpec, bound: int) -> RunSpec:
    """The spec an explored run records: a delay-bounded schedule of ``bound`` holds."""
    return replace(spec, strategy="delay", delays=bound)
