"""Systematic search over delays: every schedule with at most K holds, in a stated space.

The base schedule is fixed and deterministic: the first ready actor always runs
(:class:`~dnschaos.sim.strategies.ExploreStrategy`), with the run's seed for the
latency draws. A schedule adds at most ``bound`` delays to it. A delay is placed
at a *point*, an enactor's n-th yield point just before an AWS call of the kind
the space names, and lasts one of a few fixed durations (fractions of the
scenario's delay range, :func:`dnschaos.scenario.spec.delay_range`). Points are named by
actor and ordinal, so they name the same place in every run that reaches it.

The space, level by level:

* level 0: the base schedule;
* level k (1 <= k <= bound): for every schedule S of level k-1 that was run, and
  every point reached in S's run *after* its last delay, and every duration: S
  plus one delay there.

Levels are run in order (all single delays before any pair), so the search
reports the fewest delays that break an invariant. "Exhausted at bound K" is
said only when every schedule of every level was run or pruned.

Reduction (commuting operations, in the spirit of DPOR). Two schedules are
equivalent when they differ only in the order of operations that commute, i.e.
act on different objects (a hosted zone, a table) or only read the same one;
equivalent schedules reach the same states, so only one of them need be run.
Let S hold actor X at point n for d seconds. X's operations from point n on
then run after everything the others did during the hold, where without the
hold (holding X at a later point n+j for d instead) they run before it. If
each operation of X from point n up to point n+j commutes with every operation
that another actor performed in S between the start of the hold and that
operation, then S and "hold X at point n+j for d" order only commuting
operations differently, and both end with X resuming at the same virtual time
(X's own latencies come from its own random stream): the second one is pruned.
The check reads S's recorded history, so it is exact for that run. Only
schedules at the last level are pruned this way: a pruned schedule is never
run, so it has no run whose later points could extend it. Timing ties are the
one gap: two actors due within a scheduling quantum of each other are ordered by
name, and a schedule that moves an operation may change such an order; the
soundness test (a reduced search finds every violation the full one finds)
checks the claim on a small case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from dnschaos.checkers import headline
from dnschaos.errors import UsageError
from dnschaos.runner import RunResult, run
from dnschaos.scenario.actors import holdable
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec, delay_range
from dnschaos.sim.strategies import ExploreStrategy, PlacedDelay, Point

POINT_KINDS: Final = ("writes", "calls")
# Durations, as fractions of the scenario's delay range.
DEFAULT_FRACTIONS: Final = (0.25, 0.5, 1.0)
READ_PREFIXES: Final = ("List", "Get", "Query", "Scan", "Describe")

Schedule = tuple[PlacedDelay, ...]


def point_filter(kind: str) -> Callable[[str], bool]:
    """Which yield points (by label) a space may hold an actor at."""
    if kind == "writes":
        return lambda label: label == "call route-53.ChangeResourceRecordSets"
    if kind == "calls":
        return lambda label: label.startswith("call ")
    raise UsageError(f"--points {kind!r}: choose one of {', '.join(POINT_KINDS)}")


@dataclass(frozen=True)
class Space:
    bound: int
    durations: tuple[float, ...]
    points: str = "writes"
    actors: tuple[str, ...] = ()  # the actors that may be held
    reduce: bool = True

    def describe(self) -> str:
        what = (
            "an enactor's Route 53 write (ChangeResourceRecordSets)"
            if self.points == "writes"
            else "an enactor's AWS call"
        )
        durations = ", ".join(f"{d:g}s" for d in self.durations)
        return (
            f"at most {self.bound} delay(s) of {', '.join(self.actors)}, each just before "
            f"{what} reached after the previous delay, for one of {durations}; "
            "every other choice: the first ready actor"
        )


@dataclass
class Op:
    step: int
    actor: str
    operation: str  # service.Operation
    obj: str  # service:zone or service:table; service:* when the call names neither
    write: bool


def operations(entries: Iterable[dict[str, Any]]) -> list[Op]:
    """The AWS operations of a run in the order they took effect: each runs at the step
    that chose its actor at its ``call ...`` yield point."""
    pending: dict[str, dict[str, Any]] = {}
    out: list[Op] = []
    for e in entries:
        if e["kind"] == "invoke":
            pending[e["actor"]] = e
        elif e["kind"] == "choice" and str(e["label"]).startswith("call "):
            inv = pending.pop(e["actor"], None)
            if inv is None:
                continue
            params = inv.get("params") or {}
            obj = params.get("zone") or params.get("table") or "*"
            op = str(inv["op"])
            out.append(
                Op(
                    int(e["step"]),
                    str(e["actor"]),
                    f"{inv['service']}.{op}",
                    f"{inv['service']}:{obj}",
                    not op.startswith(READ_PREFIXES),
                )
            )
    return out


def conflict(a: Op, b: Op) -> bool:
    """Whether two operations may not commute: the same object (or one of a whole service)
    and at least one of them writes."""
    if not (a.write or b.write):
        return False
    sa, _, oa = a.obj.partition(":")
    sb, _, ob = b.obj.partition(":")
    return sa == sb and (oa == ob or "*" in (oa, ob))


def _behaviour(entries: Sequence[dict[str, Any]], actor: str, lo: int, hi: int) -> list[Any]:
    """What ``actor`` did between the choices of steps ``lo`` (inclusive) and ``hi``
    (exclusive): its calls (operation, object), their outcomes (status, error) and its
    automation events (names only: their times differ by the hold)."""
    out: list[Any] = []
    inside = False
    for e in entries:
        if e["kind"] == "choice":
            if e["step"] >= hi:
                break
            if e["step"] >= lo:
                inside = True
            continue
        if not inside or e.get("actor") != actor:
            continue
        if e["kind"] == "invoke":
            params = e.get("params") or {}
            out.append(("invoke", e["op"], params.get("zone") or params.get("table")))
        elif e["kind"] == "complete":
            outcome = e.get("outcome") or {}
            out.append(("complete", e["op"], outcome.get("status"), outcome.get("error")))
        elif e["kind"] == "event":
            out.append(("event", e["event"]))
    return out


def equivalent_later(
    parent_entries: Sequence[dict[str, Any]],
    parent_seen: Sequence[tuple[Point, str, int]],
    entries: Sequence[dict[str, Any]],
    strategy: ExploreStrategy,
    held: PlacedDelay,
) -> list[Point]:
    """Points of the held actor at which the same hold would give an equivalent run (see
    the module's docstring), read off ``entries``, the history of the run that held it at
    ``held.point``, and ``parent_entries``, that of the run without the hold (identical up
    to it)."""
    start = strategy.held.get(held.point)
    if start is None:
        return []
    actor = held.point.actor
    ops = operations(entries)
    others = [o for o in ops if o.step > start and o.actor != actor]
    mine = [o for o in ops if o.step > start and o.actor == actor]
    here = {p: step for p, _label, step in strategy.seen}
    there = {p: step for p, _label, step in parent_seen}
    if held.point not in there:
        return []
    out: list[Point] = []
    for nxt in [p for p, _l, step in strategy.seen if p.actor == actor and step > start]:
        if nxt not in there:
            break
        moved = [o for o in mine if o.step < here[nxt]]
        # Only reads move (a write would carry a time of its own, such as a lock's
        # expiry, into the state); none may meet a conflicting write meanwhile...
        if any(o.write for o in moved):
            break
        if any(conflict(m, o) for m in moved for o in others if o.step < m.step):
            break
        # ...and the actor must have done the same with what it read, late or not.
        if _behaviour(entries, actor, start, here[nxt]) != _behaviour(
            parent_entries, actor, there[held.point], there[nxt]
        ):
            break
        out.append(nxt)
    return out


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
    per_level: list[tuple[int, int]] = field(default_factory=list)  # (run, pruned) per level
    cut: bool = False  # the schedule budget ran out

    def lines(self) -> list[str]:
        out = [f"space: {self.space.describe()}"]
        if not self.space.reduce:
            out.append("reduction: off")
        else:
            out.append(
                "reduction: a last-level hold is pruned when a run already made holds the "
                "same actor earlier and every operation it moves commutes with what ran meanwhile"
            )
        for level, (ran, pruned) in enumerate(self.per_level):
            out.append(f"  level {level}: {ran} schedule(s) run, {pruned} pruned")
        total = f"{self.run} schedule(s) run, {self.pruned} pruned, {self.seconds:.1f}s"
        if self.found is not None:
            out.append(f"explore: violation after {total}; delays: {_schedule_text(self.found)}")
        elif self.exhausted:
            out.append(f"explore: exhausted at bound {self.space.bound}: {total}; no violation")
        else:
            out.append(
                f"explore: NOT exhausted at bound {self.space.bound} (the schedule budget ran "
                f"out; levels 0..{self.levels_done} complete): {total}; no violation"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "space": self.space.describe(),
            "bound": self.space.bound,
            "durations": list(self.space.durations),
            "points": self.space.points,
            "reduce": self.space.reduce,
            "schedules_run": self.run,
            "schedules_pruned": self.pruned,
            "per_level": [list(x) for x in self.per_level],
            "exhausted": self.exhausted,
            "found": None if self.found is None else _schedule_json(self.found),
            "seconds": round(self.seconds, 3),
        }


def _schedule_text(s: Schedule) -> str:
    return (
        ", ".join(f"{d.point.actor} at point {d.point.nth} for {d.seconds:g}s" for d in s) or "none"
    )


def _schedule_json(s: Schedule) -> list[dict[str, Any]]:
    return [{"actor": d.point.actor, "point": d.point.nth, "seconds": d.seconds} for d in s]


def make_space(
    spec: RunSpec,
    bound: int,
    *,
    points: str = "writes",
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    reduce: bool = True,
    actors: Sequence[str] | None = None,
) -> Space:
    """The space of ``dnschaos explore``: holds of the scenario's enactors (or of ``actors``)
    for the given fractions of the scenario's delay range."""
    if bound < 0:
        raise UsageError(f"--bound {bound}: must be 0 or more")
    point_filter(points)
    scenario = build(resolve(spec))
    span = delay_range(scenario)
    durations = tuple(sorted({round(span * f, 3) for f in fractions}))
    if not durations or min(durations) <= 0:
        raise UsageError("explore: durations must be > 0")
    may = holdable(scenario)
    held = may if actors is None else tuple(actors)
    unknown = sorted(set(held) - set(may))
    if unknown:
        raise UsageError(
            f"explore: {unknown[0]!r} is not an actor of {scenario.name} that may be held; "
            f"choose from {', '.join(may)}"
        )
    return Space(bound, durations, points, held, reduce)


@dataclass
class _Ran:
    schedule: Schedule
    entries: list[dict[str, Any]]
    seen: list[tuple[Point, str, int]]
    held_step: int  # the step of the schedule's last hold (-1: none)


def run_schedule(
    spec: RunSpec, space: Space, schedule: Schedule
) -> tuple[RunResult, ExploreStrategy]:
    """One schedule of the space: the base order with the schedule's holds."""
    strategy = ExploreStrategy(schedule, point_filter(space.points))
    return run(spec, guide=strategy), strategy


@dataclass
class _Chain:
    """The holds of one actor for one duration after one parent schedule, in the order the
    parent's run reached the points: run one after the other, so a run can prune later ones."""

    parent: _Ran
    points: list[Point]
    seconds: float
    leaf: bool


@dataclass
class _ChainDone:
    ran: list[_Ran]  # kept for the next level (none at the last level)
    runs: int
    pruned: int
    found: Schedule | None
    signatures: dict[str, Schedule] = field(default_factory=dict)
    cut: bool = False  # the budget ran out before the chain's last point


def violation_signature(result: RunResult) -> str | None:
    """What a failing run broke, where: its headline violation's invariant and endpoint."""
    if result.verdict != "fail":
        return None
    first = headline(result.violations)
    return None if first is None else f"{first.invariant} @ {first.endpoint}"


def _run_chain(
    spec: RunSpec, space: Space, chain: _Chain, keep_going: bool, budget: int
) -> _ChainDone:
    covered: set[Point] = set()
    done = _ChainDone([], 0, 0, None)
    for point in chain.points:
        if point in covered:
            done.pruned += 1
            continue
        if done.runs >= budget:
            done.cut = True
            return done
        held = PlacedDelay(point, chain.seconds)
        schedule = (*chain.parent.schedule, held)
        result, strategy = run_schedule(spec, space, schedule)
        done.runs += 1
        if result.verdict != "pass":
            if not keep_going:
                done.found = schedule
                return done
            done.signatures.setdefault(violation_signature(result) or result.verdict, schedule)
        entries = list(result.history)
        if chain.leaf and space.reduce:
            covered.update(
                equivalent_later(chain.parent.entries, chain.parent.seen, entries, strategy, held)
            )
        if not chain.leaf:
            done.ran.append(_Ran(schedule, entries, strategy.seen, strategy.held.get(point, -1)))
    return done


def _chains(space: Space, frontier: list[_Ran], leaf: bool) -> list[_Chain]:
    out: list[_Chain] = []
    for parent in frontier:
        by_actor: dict[str, list[Point]] = {}
        for point, _label, step in parent.seen:
            if step > parent.held_step and point.actor in space.actors:
                by_actor.setdefault(point.actor, []).append(point)
        for actor in sorted(by_actor):
            for seconds in space.durations:
                out.append(_Chain(parent, by_actor[actor], seconds, leaf))
    return out


def explore(
    spec: RunSpec,
    space: Space,
    *,
    max_schedules: int = 100_000,
    workers: int = 1,
    keep_going: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cluster: str | None = None,
) -> tuple[RunResult, ExploreReport]:
    """Run the space level by level; stop at the first schedule whose run does not pass.

    With ``workers`` > 1 the chains of a level run in worker processes; their results are
    read in the chains' order, so the schedule reported is the one a single process finds.
    ``progress(run, pruned)`` after each chain. ``max_schedules`` bounds the runs: a
    search cut short says so and is not exhausted. With ``keep_going`` the search does
    not stop at a violation: it runs the whole space and collects each distinct
    violation signature (``report.signatures``). ``cluster``: the address of a Dask
    scheduler whose workers run the chains instead (``dnschaos.explore.cluster``)."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    spec = resolve(spec)
    report = ExploreReport(space)
    began = time.monotonic()

    def finish(schedule: Schedule | None) -> tuple[RunResult, ExploreReport]:
        report.seconds = time.monotonic() - began
        if schedule is None:
            return base, report
        report.found = schedule
        again, _ = run_schedule(spec, space, schedule)  # the same run: it is deterministic
        return again, report

    base, base_strategy = run_schedule(spec, space, ())
    report.run = 1
    report.per_level.append((1, 0))
    if base.verdict != "pass":
        if not keep_going:
            report.found = ()
            report.seconds = time.monotonic() - began
            return base, report
        report.signatures[violation_signature(base) or base.verdict] = ()
    report.levels_done = 0
    frontier = [_Ran((), list(base.history), base_strategy.seen, -1)]
    if cluster is not None:
        from dnschaos.explore.cluster import ClusterPool

        pool: Any = ClusterPool.connect(cluster)
    else:
        pool = _pool(workers)
    try:
        for level in range(1, space.bound + 1):
            chains = _chains(space, frontier, level == space.bound)
            ran_here = pruned_here = 0
            frontier = []
            for done in _each(pool, spec, space, chains, max_schedules - report.run, keep_going):
                if done.cut:
                    report.cut = True
                for sig, schedule in done.signatures.items():
                    report.signatures.setdefault(sig, schedule)
                report.run += done.runs
                report.pruned += done.pruned
                ran_here += done.runs
                pruned_here += done.pruned
                frontier.extend(done.ran)
                if progress is not None:
                    progress(report.run, report.pruned)
                if done.found is not None:
                    report.per_level.append((ran_here, pruned_here))
                    return finish(done.found)
                if report.cut:
                    report.per_level.append((ran_here, pruned_here))
                    return finish(None)
            report.per_level.append((ran_here, pruned_here))
            report.levels_done = level
        report.exhausted = True
        return finish(None)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _pool(workers: int) -> Any:
    if workers <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Fresh interpreters: the explorer's own process has run actor threads.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _each(
    pool: Any, spec: RunSpec, space: Space, chains: list[_Chain], budget: int, keep_going: bool
) -> Iterable[_ChainDone]:
    """The chains' results; a chain that meets the end of the ``budget`` of runs stops
    there and says so (``cut``). Workers each get the whole remaining budget, so a
    parallel search may overrun it by up to a chain a worker."""
    if pool is None:
        for chain in chains:
            done = _run_chain(spec, space, chain, keep_going, budget)
            budget -= done.runs
            yield done
        return
    futures = [pool.submit(_run_chain, spec, space, chain, keep_going, budget) for chain in chains]
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
