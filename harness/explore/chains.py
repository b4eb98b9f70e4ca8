"""Chains of schedules: the unit of work of the systematic delay search, and its record.

A chain is the holds of one actor for one duration after one schedule of the level
above, in the order that schedule's run reached the points (:func:`next_chains`); a
worker runs a chain whole (:func:`run_chain`) and hands back a :class:`ChainDone`. The
search (:mod:`dnschaos.explore.delays`) reads nothing else of a chain, so a chain's
:func:`chain_json` is all a record needs to stand in for running it again
(:mod:`dnschaos.explore.journal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dnschaos.inputs import MAX_SECONDS
from dnschaos.sim.strategies import PlacedDelay, Point

if TYPE_CHECKING:
    from dnschaos.explore.delays import Runner, Space

Schedule = tuple[PlacedDelay, ...]


def schedule_json(s: Schedule) -> list[dict[str, Any]]:
    return [{"actor": d.point.actor, "point": d.point.nth, "seconds": d.seconds} for d in s]


@dataclass
class Ran:
    schedule: Schedule
    seen: tuple[tuple[Point, str, int], ...]
    held_step: int  # the step of the schedule's last hold (-1: none)


@dataclass
class Chain:
    """The holds of one actor for one duration after one parent schedule, in the order the
    parent's run reached the points: one task for a worker."""

    parent: Ran
    points: list[Point]
    seconds: float
    leaf: bool


@dataclass
class ChainDone:
    ran: list[Ran]  # kept for the next level (none at the last level)
    runs: int
    found: Schedule | None
    signatures: dict[str, Schedule] = field(default_factory=dict)
    unknown: list[tuple[Schedule, str]] = field(default_factory=list)
    cut: bool = False  # the budget ran out before the chain's last point


def schedule_from(data: Any) -> Schedule:
    """A schedule as :func:`schedule_json` wrote it (a record read back on resume)."""
    out = []
    for hold in data:
        actor, nth, seconds = hold["actor"], hold["point"], hold["seconds"]
        if not isinstance(actor, str) or isinstance(nth, bool) or not isinstance(nth, int):
            raise ValueError(f"{hold!r} is not a hold (actor, point, seconds)")
        if isinstance(seconds, bool) or not 0 < float(seconds) <= MAX_SECONDS:
            raise ValueError(f"{hold!r}: seconds must be a number in (0, {MAX_SECONDS:g}]")
        out.append(PlacedDelay(Point(actor, nth), float(seconds)))
    return tuple(out)


def chain_json(done: ChainDone) -> dict[str, Any]:
    """What the journal keeps of a finished chain: all the search reads of it."""
    return {
        "runs": done.runs,
        "found": None if done.found is None else schedule_json(done.found),
        "signatures": {k: schedule_json(s) for k, s in done.signatures.items()},
        "unknown": [[schedule_json(s), reason] for s, reason in done.unknown],
        "ran": [
            [
                schedule_json(r.schedule),
                [[p.actor, p.nth, label, step] for p, label, step in r.seen],
                r.held_step,
            ]
            for r in done.ran
        ],
    }


def chain_from(data: dict[str, Any]) -> ChainDone:
    runs = data["runs"]
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 0:
        raise ValueError(f"runs {runs!r} is not a count")
    ran = [
        Ran(
            schedule_from(schedule),
            tuple((Point(str(a), int(n)), str(label), int(step)) for a, n, label, step in seen),
            int(held_step),
        )
        for schedule, seen, held_step in data["ran"]
    ]
    found = data["found"]
    return ChainDone(
        ran,
        runs,
        None if found is None else schedule_from(found),
        {str(k): schedule_from(v) for k, v in dict(data["signatures"]).items()},
        [(schedule_from(v), str(reason)) for v, reason in data["unknown"]],
    )


def run_chain(
    runner: Runner, space: Space, chain: Chain, keep_going: bool, budget: int
) -> ChainDone:
    done = ChainDone([], 0, None)
    for point in chain.points:
        if done.runs >= budget:
            done.cut = True
            return done
        schedule = (*chain.parent.schedule, PlacedDelay(point, chain.seconds))
        got = runner(space, schedule)
        done.runs += 1
        if got.verdict == "fail":
            if not keep_going:
                done.found = schedule
                return done
            done.signatures.setdefault(got.signature or "fail", schedule)
        elif got.verdict != "pass":
            done.unknown.append((schedule, got.reason))
        if not chain.leaf:
            done.ran.append(Ran(schedule, got.seen, got.held_step))
    return done


def next_chains(
    space: Space, frontier: list[Ran], leaf: bool, met: set[frozenset[PlacedDelay]]
) -> tuple[list[Chain], int]:
    """The next level's chains, and how many of its schedules are sets of holds met
    before (not run again when the space reduces)."""
    out: list[Chain] = []
    pruned = 0
    for parent in frontier:
        held = {d.point for d in parent.schedule}
        by_actor: dict[str, list[Point]] = {}
        for point, _label, step in parent.seen:
            if step > parent.held_step and point.actor in space.actors and point not in held:
                by_actor.setdefault(point.actor, []).append(point)
        for actor in sorted(by_actor):
            for seconds in space.durations:
                points: list[Point] = []
                for point in by_actor[actor]:
                    key = frozenset((*parent.schedule, PlacedDelay(point, seconds)))
                    if key in met:
                        pruned += 1
                        if space.reduce:
                            continue
                    met.add(key)
                    points.append(point)
                if points:
                    out.append(Chain(parent, points, seconds, leaf))
    return out, pruned
