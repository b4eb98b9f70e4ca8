"""Which ready actor runs next.

Every strategy draws from one ``random.Random`` owned by the controlling thread,
seeded from the run's seed, so a (seed, strategy) pair names one interleaving.

* ``random``: uniform among the ready actors.
* ``pct``: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
  random distinct priorities, the highest-priority ready actor runs, and at
  ``depth - 1`` random steps the running actor drops to the lowest priorities.
  A bug of depth d is found with probability at least 1/(n * k^(d-1)).
* ``replay``: the choices of a recorded run, checked step by step: a different
  set of ready actors or a different pending call is a divergence, reported with
  the step and the actor instead of being papered over.
* ``delay``: random, and at most ``delays`` times in a run the scheduler holds a
  ready actor where it is (at a yield point, before whatever it was about to do)
  for a virtual duration drawn up to ``max_delay`` (the longest timeout, interval
  or lock expiry of the scenario). The moments are drawn uniformly over the
  working period. Each delay is a recorded step (label ``delay 37.500s``), so a
  replay re-applies it and the shrinker can remove or shorten it.
* ``explore``: the systematic explorer's: the first ready actor always, and
  delays at given yield points named by actor and ordinal (see
  ``dnschaos.explore.delays``).
* ``dfs``: bounded exhaustive search over runs. Each run follows the current
  prefix of choices and then the first ready actor; after the run, the deepest
  choice point with an untried alternative is advanced. Choices beyond ``bound``
  steps are not branched on. ``exhausted`` says when every branch was run or
  skipped by its sleep sets (orders of commuting steps at the same instant: see
  :class:`DFSStrategy` and ``dnschaos.explore.dependence``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from dnschaos.errors import ReplayDivergenceError, UsageError
from dnschaos.sim.clock import Clock
from dnschaos.sim.scheduler import Actor, ActorState, Choice, Delay, delay_seconds

STRATEGIES: Final = ("random", "pct", "delay", "replay", "dfs")
DEFAULT_DELAYS: Final = 2
DEFAULT_PCT_DEPTH: Final = 3
DEFAULT_PCT_HORIZON: Final = 20_000


class RandomStrategy:
    name = "random"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        return ready[self.rng.randrange(len(ready))]


class PCTStrategy:
    name = "pct"

    def __init__(
        self,
        rng: random.Random,
        actors: Sequence[str],
        depth: int = DEFAULT_PCT_DEPTH,
        horizon: int = DEFAULT_PCT_HORIZON,
    ) -> None:
        if depth < 1:
            raise UsageError(f"--pct-depth {depth}: must be at least 1")
        self.rng = rng
        self.depth = depth
        # Initial priorities depth..depth+n-1 (higher runs first); change points get 0..depth-2.
        order = list(actors)
        rng.shuffle(order)
        self.priority = {name: depth + i for i, name in enumerate(order)}
        self.change_points = sorted(rng.sample(range(1, max(horizon, depth) + 1), depth - 1))

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        best = max(ready, key=lambda a: self.priority.get(a.name, 0))
        if self.change_points and step >= self.change_points[0]:
            # At the j-th change point the actor about to run drops to priority d - j,
            # below every initial priority, and the next-highest runs instead.
            j = self.depth - len(self.change_points)
            self.priority[best.name] = self.depth - j
            self.change_points.pop(0)
            best = max(ready, key=lambda a: self.priority.get(a.name, 0))
        return best


class DelayStrategy:
    """Random order, plus at most ``delays`` holds of a ready actor for a drawn duration."""

    name = "delay"

    def __init__(self, rng: random.Random, *, delays: int, max_delay: float, window: float) -> None:
        if delays < 0:
            raise UsageError(f"--delays {delays}: must be 0 or more")
        if not max_delay > 0:
            raise UsageError(f"delay range {max_delay}: must be > 0")
        self.rng = rng
        self.max_delay = max_delay
        # When (virtual seconds into the run) each delay falls due; drawn up front so the
        # seed alone names the run.
        self.due = sorted(rng.uniform(0.0, max(window, 0.001)) for _ in range(delays))
        self.clock: Clock | None = None
        self.start = 0.0
        self.applied: list[tuple[int, str, float]] = []  # (step, actor, seconds)

    def bind_clock(self, clock: Clock) -> None:
        self.clock = clock
        self.start = clock.now()

    def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
        now = self.clock.now() - self.start if self.clock is not None else 0.0
        if self.due and now >= self.due[0]:
            holdable = [a for a in ready if a.state == ActorState.READY]
            if holdable:
                self.due.pop(0)
                actor = holdable[self.rng.randrange(len(holdable))]
                seconds = max(0.001, round(self.rng.uniform(0.0, self.max_delay), 3))
                self.applied.append((step, actor.name, seconds))
                return Delay(actor.name, seconds)
        return ready[self.rng.randrange(len(ready))]


def _recorded_delay(want: Choice, ready: list[Actor]) -> Delay | None:
    """The recorded delay at this step, when the actor it held is ready to be held again."""
    seconds = delay_seconds(want.label)
    if seconds is None:
        return None
    for actor in ready:
        if actor.name == want.actor and actor.state == ActorState.READY:
            return Delay(actor.name, seconds)
    return None


class ReplayStrategy:
    name = "replay"

    def __init__(self, choices: Sequence[Choice]) -> None:
        self.choices = list(choices)

    def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
        if step >= len(self.choices):
            raise ReplayDivergenceError(
                f"replay diverged at step {step}: the recording has only {len(self.choices)} "
                f"steps, but actors {', '.join(a.name for a in ready)} are still ready"
            )
        want = self.choices[step]
        if delay_seconds(want.label) is not None:
            held = _recorded_delay(want, ready)
            if held is None:
                raise ReplayDivergenceError(
                    f"replay diverged at step {step}: recorded '{want.label}' of actor "
                    f"{want.actor}, which is not ready to be held now"
                )
            return held
        for actor in ready:
            if actor.name == want.actor:
                if actor.label != want.label:
                    raise ReplayDivergenceError(
                        f"replay diverged at step {step}, actor {want.actor}: recorded "
                        f"'{want.label}', now '{actor.label}' (uncontrolled nondeterminism)"
                    )
                return actor
        raise ReplayDivergenceError(
            f"replay diverged at step {step}: recorded actor {want.actor} is not ready; "
            f"ready now: {', '.join(a.name for a in ready) or 'none'}"
        )


class GuidedStrategy:
    """Follow a recorded run loosely, and run on without switching where told to.

    At a step in ``drop``, or once the recording is used up, or when the recorded
    actor is not ready, the actor that ran last runs again if it can (no
    preemption), else the first ready one. A recorded delay (not in ``drop``) is
    applied again when its actor is ready to be held. The shrinker uses it to take
    preemptions and delays out of a failing schedule and keep whatever still fails.
    ``preemptions`` counts the steps where a ready actor was switched away from.
    """

    name = "guided"

    def __init__(self, recorded: Sequence[Choice], drop: frozenset[int] = frozenset()) -> None:
        self.recorded = list(recorded)
        self.drop = drop
        self.last: str | None = None
        self.preemptions = 0

    def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
        by_name = {a.name: a for a in ready}
        pick = by_name.get(self.last or "", ready[0])
        if step < len(self.recorded) and step not in self.drop:
            held = _recorded_delay(self.recorded[step], ready)
            if held is not None:
                return held
            pick = by_name.get(self.recorded[step].actor, pick)
        if self.last in by_name and pick.name != self.last:
            self.preemptions += 1
        self.last = pick.name
        return pick


def preemptions(choices: Sequence[Choice]) -> list[int]:
    """Steps of a recording where the running actor changed (upper bound on preemptions:
    the recording does not say whether the previous actor was still ready). Delays are
    steps of their own (see :func:`delays`), not switches."""
    ran = [c for c in choices if delay_seconds(c.label) is None]
    return [
        ran[i].step
        for i in range(1, len(ran))
        if ran[i].actor != ran[i - 1].actor and ran[i].step == ran[i - 1].step + 1
    ]


def delays(choices: Sequence[Choice]) -> list[int]:
    """Steps of a recording that held an actor (``delay ...`` labels)."""
    return [c.step for c in choices if delay_seconds(c.label) is not None]


@dataclass(frozen=True)
class Point:
    """A delay's place: ``actor`` at its ``nth`` (1-based) yield point of the explored kind."""

    actor: str
    nth: int


@dataclass(frozen=True)
class PlacedDelay:
    point: Point
    seconds: float


def is_call(label: str) -> bool:
    return label.startswith("call ")


class ExploreStrategy:
    """The systematic explorer's: always the first ready actor, and a delay at each given
    point. A point is an actor's n-th yield point whose label ``kinds`` accepts (by default
    any ``call ...``: just before an AWS call); points are counted as the actor is run from
    them, so they name the same place in any run that reaches it. ``seen`` lists every
    point reached, in order, with the step it ran at; ``held`` and ``resumed`` say when
    each delay was applied and when its actor went on."""

    name = "explore"

    def __init__(
        self,
        placed: Sequence[PlacedDelay] = (),
        kinds: Callable[[str], bool] = is_call,
        rng: random.Random | None = None,
    ) -> None:
        self.placed = {p.point: p.seconds for p in placed}
        self.kinds = kinds
        # Without ``rng`` the first ready actor runs (the explorer's fixed base order);
        # with it, a uniformly drawn one (a guided fuzz case: a seeded order plus holds).
        self.rng = rng
        self.count: dict[str, int] = {}
        self.seen: list[tuple[Point, str, int]] = []  # (point, label, step it ran at)
        self.held: dict[Point, int] = {}
        self.resumed: dict[Point, int] = {}

    def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
        for actor in ready:
            if actor.state != ActorState.READY or not self.kinds(actor.label):
                continue
            point = Point(actor.name, self.count.get(actor.name, 0) + 1)
            if point in self.placed and point not in self.held:
                self.held[point] = step
                return Delay(actor.name, self.placed[point])
        pick = ready[0] if self.rng is None else ready[self.rng.randrange(len(ready))]
        if self.kinds(pick.label):
            n = self.count.get(pick.name, 0) + 1
            self.count[pick.name] = n
            point = Point(pick.name, n)
            self.seen.append((point, pick.label, step))
            if point in self.held:
                self.resumed[point] = step
        return pick


class StepFootprints(Protocol):
    """What the systematic search needs to know to skip orders that cannot differ: the
    footprint of the step a candidate would take if picked now (None: picking it moves
    the clock, so it commutes with nothing), and whether two footprints commute
    (``dnschaos.explore.dependence``). ``bind`` gets the run's recorder (its history)."""

    def bind(self, recorder: Any) -> None: ...

    def of(self, actor: Actor) -> Hashable | None: ...

    def independent(self, a: Hashable, b: Hashable) -> bool: ...


@dataclass
class _Branch:
    taken: int
    options: int
    names: tuple[str, ...] = ()
    # Sleep sets (Godefroid): the candidates whose step here is already covered by an
    # order explored before (actor -> the footprint of its pending step), the choices
    # of this node explored so far, and each candidate's footprint here.
    asleep: dict[str, Hashable] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    footprints: dict[str, Hashable | None] = field(default_factory=dict)
    closed: bool = False  # every candidate was asleep, or an ancestor's was: nothing to branch


class DFSStrategy:
    """Stateless bounded DFS; use :meth:`next_run` between runs.

    With ``footprints`` the search keeps sleep sets (Godefroid, 1996): after the order
    that runs step *a* first has been explored from a node, a sibling order that runs
    an independent step *b* first keeps *a* asleep until a step dependent on *a* runs,
    and never branches on a sleeping step, since every state that order would reach
    is reached by the one explored (the two steps commute: the same state, at the same
    depth, so the same bounded subtree below). Only steps of actors ready at the same
    instant are put to sleep: picking a sleeper within the quantum moves the clock,
    and a step run at another instant is another step (actors read the clock). When
    every candidate of a node is asleep, the run goes on with the first (a real run,
    equivalent to one explored) and branches nowhere below it."""

    name = "dfs"

    def __init__(self, bound: int = 40, footprints: StepFootprints | None = None) -> None:
        if bound < 1:
            raise UsageError(f"--dfs-bound {bound}: must be at least 1")
        self.bound = bound
        self.footprints = footprints
        self.stack: list[_Branch] = []
        self.exhausted = False
        self.runs = 0
        self.pruned = 0  # (node, choice) pairs not explored because the choice was asleep
        # Per run: it went on from a node whose candidates were all asleep, so every state
        # it reached from there is reached by a run that did not (a check of the
        # reduction judges the others only).
        self.redundant: list[bool] = []
        self._closed = False

    def bind_recorder(self, recorder: Any) -> None:
        self._closed = False
        if self.footprints is not None:
            self.footprints.bind(recorder)

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        if step >= self.bound:
            return ready[0]
        if step < len(self.stack):
            branch = self.stack[step]
            if branch.names != tuple(a.name for a in ready):
                raise ReplayDivergenceError(
                    f"dfs: step {step} had {branch.options} ready actors before "
                    f"({', '.join(branch.names)}) and {len(ready)} now "
                    f"({', '.join(a.name for a in ready)}); the scenario is not deterministic"
                )
            if branch.closed:
                self._closed = True
            return ready[branch.taken]
        names = tuple(a.name for a in ready)
        if self.footprints is None:
            self.stack.append(_Branch(0, len(ready), names))
            return ready[0]
        prints = {a.name: self.footprints.of(a) for a in ready}
        asleep = self._carried(prints)
        pick = next((i for i, n in enumerate(names) if n not in asleep), None)
        if pick is None and not self._closed:
            self.pruned += len(names) - 1
        closed = self._closed or pick is None
        self._closed = closed
        self.stack.append(_Branch(pick or 0, len(ready), names, asleep, [], prints, closed))
        return ready[pick or 0]

    def _carried(self, prints: dict[str, Hashable | None]) -> dict[str, Hashable]:
        """The sleep set of a new node: the parent's sleeping steps and its choices
        explored before, that commute with the step the parent ran now and are still the
        same pending step here."""
        if not self.stack or self.footprints is None:
            return {}
        parent = self.stack[-1]
        ran = parent.names[parent.taken]
        ran_print = parent.footprints.get(ran)
        if ran_print is None:
            return {}
        out: dict[str, Hashable] = {}
        candidates = dict(parent.asleep)
        for name in parent.done:
            fp = parent.footprints.get(name)
            if fp is not None:
                candidates[name] = fp
        for name, fp in candidates.items():
            if name == ran or prints.get(name) != fp:
                continue
            if self.footprints.independent(fp, ran_print):
                out[name] = fp
        return out

    def next_run(self) -> bool:
        """Advance to the next unexplored schedule; False once the space is exhausted."""
        self.runs += 1
        self.redundant.append(self._closed)
        self._closed = False
        while self.stack:
            top = self.stack[-1]
            top.done.append(top.names[top.taken])
            if not top.closed:
                left = [
                    i for i, n in enumerate(top.names) if n not in top.done and n not in top.asleep
                ]
                if left:
                    top.taken = left[0]
                    return True
                self.pruned += sum(1 for n in top.names if n in top.asleep and n not in top.done)
            self.stack.pop()
        self.exhausted = True
        return False


def make_strategy(
    name: str,
    rng: random.Random,
    actors: Sequence[str],
    *,
    pct_depth: int = DEFAULT_PCT_DEPTH,
    delays: int = DEFAULT_DELAYS,
    max_delay: float = 60.0,
    window: float = 360.0,
) -> RandomStrategy | PCTStrategy | DelayStrategy:
    """The seeded strategies by name (replay and dfs are built from their own inputs).
    ``delay`` holds actors at most ``delays`` times for up to ``max_delay`` seconds, at
    moments drawn over the first ``window`` seconds."""
    if name == "random":
        return RandomStrategy(rng)
    if name == "pct":
        return PCTStrategy(rng, actors, depth=pct_depth)
    if name == "delay":
        return DelayStrategy(rng, delays=delays, max_delay=max_delay, window=window)
    raise UsageError(f"--strategy {name!r}: unknown; choose one of {', '.join(STRATEGIES)}")
