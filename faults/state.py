"""One run's state of its faults.

Fault specs (``faults.kinds``) are immutable and shared by every run of a
scenario: replays, fuzz cases, shrink attempts, a campaign's runs in one worker.
What changes while a run goes on (which faults are active, how many calls each
``Nth`` matcher has seen) lives here, in one object made per run and shared by
everything that acts on that run's faults: the nemesis activates and heals, the
injectors and skewed clocks read what is active, and the matchers count.
"""

from __future__ import annotations

from collections.abc import Sequence

from dnschaos.faults.kinds import Fault


class FaultState:
    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults: tuple[Fault, ...] = tuple(faults)
        # Keyed by identity, not value: two faults given the same spec twice are still
        # two faults (frozen dataclasses compare equal), each activated on its own.
        self._active: set[int] = set()
        # Calls seen by each Nth matcher, by the matcher's identity (see Call.counts).
        self.counts: dict[int, int] = {}

    def is_active(self, fault: Fault) -> bool:
        return id(fault) in self._active

    def any_active(self) -> bool:
        return bool(self._active)

    def activate(self, fault: Fault) -> None:
        self._active.add(id(fault))

    def heal(self, fault: Fault) -> None:
        self._active.discard(id(fault))
