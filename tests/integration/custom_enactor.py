"""A user's own enactor and planner, plugged in as ``tests.integration.custom_enactor:Class``."""

from __future__ import annotations

from typing import Any, ClassVar

from dnschaos.workloads.incident2025.enactor import SafeEnactor
from dnschaos.workloads.incident2025.planner import Planner


class CautiousEnactor(SafeEnactor):
    variant: ClassVar[str] = "cautious"


class NotAnEnactor:
    """Has none of the protocol's methods."""


class EveryOtherPlanner(Planner):
    """A team's own planner: writes a plan only on every other step."""

    steps = 0

    def step(self) -> int | None:
        self.steps += 1
        if self.steps % 2:
            self.emit("skipped-step", step=self.steps)
            return None
        return super().step()


class PlainSafeSubclass(SafeEnactor):
    """A user's subclass of SafeEnactor that names no variant of its own: a run of it must
    be recorded under ``module:Class``, never as its parent's ``safe``."""


class FailingEnactor(SafeEnactor):
    """A user's enactor with a bug: its third pass raises."""

    passes = 0

    def run_once(self) -> Any:
        self.passes += 1
        if self.passes == 3:
            raise KeyError("generation")
        return super().run_once()
