"""Every random stream of a run, derived from its seed by name (one object per run)."""

from __future__ import annotations

import random


class RunStreams:
    """Every random stream of a run, derived from its seed by name.

    The master generator hands out the strategy's seed and one seed per actor in a
    fixed order (so an actor's draws do not depend on the strategy, and a replay
    gives actors the same seeds as the original); every other stream is
    ``seed/name``, independent of how the run interleaves.
    """

    def __init__(self, seed: int, actors: list[str]) -> None:
        self.seed = seed
        master = random.Random(seed)
        self.strategy_seed = master.getrandbits(64)
        self._actors = {name: master.getrandbits(64) for name in sorted(actors)}

    def actor_seed(self, actor: str) -> int:
        return self._actors[actor]

    def actor(self, actor: str, *parts: str) -> random.Random:
        """An actor's own generator, or (with parts) one of its named sub-streams."""
        if not parts:
            return random.Random(self._actors[actor])
        return random.Random("/".join([str(self._actors[actor]), *parts]))

    def named(self, *parts: str) -> random.Random:
        return random.Random("/".join([str(self.seed), *parts]))

    def strategy(self) -> random.Random:
        return random.Random(self.strategy_seed)


__all__ = ["RunStreams"]
