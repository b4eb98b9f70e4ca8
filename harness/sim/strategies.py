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
* ``dfs``: bounded exhaustive search over runs. Each run follows the current
  prefix of choices and then the first ready actor; after the run, the deepest
  choice point with an untried alternative is advanced. Choices beyond ``bound``
  steps are not branched on. ``exhausted`` says when every branch was run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dnschaos.errors import ReplayDivergenceError, UsageError
from dnschaos.sim.scheduler import Actor, Choice

STRATEGIES: Final = ("random", "pct", "replay", "dfs")
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


class ReplayStrategy:
    name = "replay"

    def __init__(self, choices: Sequence[Choice]) -> None:
        self.choices = list(choices)

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        if step >= len(self.choices):
            raise ReplayDivergenceError(
                f"replay diverged at step {step}: the recording has only {len(self.choices)} "
                f"steps, but actors {', '.join(a.name for a in ready)} are still ready"
            )
        want = self.choices[step]
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
    preemption), else the first ready one. The shrinker uses it to take
    preemptions out of a failing schedule and keep whatever still fails.
    ``preemptions`` counts the steps where a ready actor was switched away from.
    """

    name = "guided"

    def __init__(self, recorded: Sequence[Choice], drop: frozenset[int] = frozenset()) -> None:
        self.recorded = list(recorded)
        self.drop = drop
        self.last: str | None = None
        self.preemptions = 0

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        by_name = {a.name: a for a in ready}
        pick = by_name.get(self.last or "", ready[0])
        if step < len(self.recorded) and step not in self.drop:
            pick = by_name.get(self.recorded[step].actor, pick)
        if self.last in by_name and pick.name != self.last:
            self.preemptions += 1
        self.last = pick.name
        return pick


def preemptions(choices: Sequence[Choice]) -> list[int]:
    """Steps of a recording where the running actor changed (upper bound on preemptions:
    the recording does not say whether the previous actor was still ready)."""
    return [i for i in range(1, len(choices)) if choices[i].actor != choices[i - 1].actor]


@dataclass
class _Branch:
    taken: int
    options: int


class DFSStrategy:
    """Stateless bounded DFS; use :meth:`next_run` between runs."""

    name = "dfs"

    def __init__(self, bound: int = 40) -> None:
        if bound < 1:
            raise UsageError(f"--dfs-bound {bound}: must be at least 1")
        self.bound = bound
        self.stack: list[_Branch] = []
        self.exhausted = False
        self.runs = 0

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        if step >= self.bound:
            return ready[0]
        if step < len(self.stack):
            branch = self.stack[step]
            if branch.options != len(ready):
                raise ReplayDivergenceError(
                    f"dfs: step {step} had {branch.options} ready actors before and "
                    f"{len(ready)} now; the scenario is not deterministic"
                )
            return ready[branch.taken]
        self.stack.append(_Branch(0, len(ready)))
        return ready[0]

    def next_run(self) -> bool:
        """Advance to the next unexplored schedule; False once the space is exhausted."""
        self.runs += 1
        while self.stack and self.stack[-1].taken + 1 >= self.stack[-1].options:
            self.stack.pop()
        if not self.stack:
            self.exhausted = True
            return False
        self.stack[-1].taken += 1
        return True


def make_strategy(
    name: str, rng: random.Random, actors: Sequence[str], *, pct_depth: int = DEFAULT_PCT_DEPTH
) -> RandomStrategy | PCTStrategy:
    """The seeded strategies by name (replay and dfs are built from their own inputs)."""
    if name == "random":
        return RandomStrategy(rng)
    if name == "pct":
        return PCTStrategy(rng, actors, depth=pct_depth)
    raise UsageError(f"--strategy {name!r}: unknown; choose one of {', '.join(STRATEGIES)}")
