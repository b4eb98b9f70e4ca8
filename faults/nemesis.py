"""The nemesis: an actor that activates each fault at its start and heals it at its end.

It runs under the scheduler like any other actor (so activation is a scheduled,
recorded, replayable event), records ``fault`` entries with ``action`` activate
and heal, and heals whatever is still active when the run's work ends: every
fault ships with its heal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dnschaos.faults.kinds import Crash, DnsServerDown, Fault, LockContention
from dnschaos.faults.state import FaultState
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.workload import run_own


class Nemesis:
    def __init__(
        self,
        state: FaultState,
        *,
        clock: Clock,
        history: History,
        deadline: float,
        on_lock_contention: Callable[[str, str, str, float | None], None] | None = None,
        on_crash: Callable[[Crash], None] | None = None,
        on_dns_server: Callable[[bool], None] | None = None,
        poll: float | None = None,
    ) -> None:
        self.poll = poll  # wall-time runs: how often to look whether the run ended
        self.on_crash = on_crash
        self.on_dns_server = on_dns_server  # False: stop the authoritative server; True: start it
        self.state = state  # shared with the injectors and skewed clocks, which read it
        self.faults = state.faults
        self.clock = clock
        self.history = history
        self.deadline = deadline  # virtual seconds since the start: the work ends here
        # Holds an endpoint's lock as a phantom until the time given; None releases it.
        self.on_lock_contention = on_lock_contention

    def run(self, should_stop: Callable[[], bool]) -> None:
        timeline: list[tuple[float, int, str, Fault]] = []
        for i, f in enumerate(self.faults):
            timeline.append((f.start, i, "activate", f))
            if not math.isinf(f.end):
                timeline.append((f.end, i, "heal", f))
        timeline.sort(key=lambda item: (item[0], item[2] == "activate", item[1]))
        try:
            for at, _, action, fault in timeline:
                if at >= self.deadline:
                    break
                wait = at - self._elapsed()
                if wait > 0:
                    self.clock.sleep(wait)
                if should_stop():
                    break
                self._activate(fault) if action == "activate" else self._heal(fault)
            # Faults still active stay so until the work ends. Looking now and then (every
            # second in wall time) lets a run that ends early (an operator's repair held)
            # end the nemesis too; None: one sleep to the end.
            while self.state.any_active() and not should_stop():
                remaining = self.deadline - self._elapsed()
                if remaining <= 0:
                    break
                self.clock.sleep(remaining if self.poll is None else min(remaining, self.poll))
        finally:
            for fault in self.faults:
                if self.state.is_active(fault):
                    self._heal(fault)

    def _elapsed(self) -> float:
        return self.clock.now() - self.history.start

    def _activate(self, fault: Fault) -> None:
        self.state.activate(fault)
        self.history.append("fault", self.clock.now(), action="activate", **fault.describe())
        if isinstance(fault, LockContention):
            self._phantom(fault, until=self.history.start + fault.end)
        if isinstance(fault, Crash) and self.on_crash is not None:
            self.on_crash(fault)
        if isinstance(fault, DnsServerDown):
            self._dns_server(fault, up=False)

    def _heal(self, fault: Fault) -> None:
        self.state.heal(fault)
        if isinstance(fault, LockContention):
            self._phantom(fault, until=None)
        if isinstance(fault, DnsServerDown):
            self._dns_server(fault, up=True)
        self.history.append("fault", self.clock.now(), action="heal", **fault.describe())

    def _dns_server(self, fault: DnsServerDown, *, up: bool) -> None:
        if self.on_dns_server is None:
            raise ValueError(
                f"fault {fault.name}: dns-server-down needs DNS in the run (a [dns] section, "
                "or --dns embedded|bind9|knot)"
            )
        self.on_dns_server(up)

    def _phantom(self, fault: LockContention, until: float | None) -> None:
        # What a lock is belongs to the automation under test: the run hands one in.
        if self.on_lock_contention is None:
            raise ValueError(
                f"fault {fault.name}: lock-contention needs the built-in automation's lock "
                "(a run of a scenario with enactors)"
            )
        self.on_lock_contention(fault.endpoint, fault.holder, fault.name, until)


@run_own("[[faults]] (the run then starts the nemesis that activates and heals them)")
def nemesis(ctx: Any) -> None:
    """The nemesis as an actor of the run (``ctx``: a dnschaos.world.context.ActorContext, whose
    run parts hold the fault state, the injector whose crashes it starts, the DNS side
    whose server it stops, and the lock phantom of the automation under test)."""
    parts = ctx.parts
    phantom = parts.lock_phantom
    Nemesis(
        parts.faults,
        clock=parts.clock,
        history=parts.history,
        deadline=parts.duration,
        on_lock_contention=phantom(ctx.client("route53")) if phantom is not None else None,
        on_crash=parts.injector.crash,
        on_dns_server=parts.dns.set_server if parts.dns is not None else None,
        # Virtual time: a look every 10 minutes lets a long run that ends early (no race
        # to cascade from) end the nemesis too, and leaves runs shorter than that with
        # one sleep, as before.
        poll=600.0 if parts.driver.scheduler is not None else 1.0,
    ).run(ctx.should_stop)
