"""A user's enactor whose behaviour depends on time between reads, for the explorer's tests
(``--variant tests.integration.timed_enactor:WatchfulEnactor``)."""

from __future__ import annotations

from typing import ClassVar

from dnschaos.workloads.incident2025.enactor import SafeEnactor
from dnschaos.workloads.incident2025.plan import Plan


class WatchfulEnactor(SafeEnactor):
    """A planted bug: when the plans table, polled with nothing new, answers more than
    ``patience`` seconds after its previous answer, this enactor decides the table is
    stuck and gives up (raises). How long it waited between the two answers is state of
    its own, derived from the clock: its calls and their outcomes are the same whether
    the wait falls before the first read or between the two."""

    patience: ClassVar[float] = 8.0
    _idle_at: float | None = None

    def select_plan(self) -> Plan | None:
        plan = super().select_plan()
        if plan is not None:
            self._idle_at = None
            return plan
        now = self.clock.now()
        last, self._idle_at = self._idle_at, now
        if last is not None and now - last > self.patience:
            raise RuntimeError(
                f"{self.name}: the plans table answered {now - last:.1f}s after its previous "
                "answer; assuming it is stuck"
            )
        return None
