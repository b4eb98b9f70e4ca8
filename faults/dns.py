"""Faults at DNS queries: what a probe's query runs into.

A probe asks ``decide`` before each query. The query is matched like an AWS
call (service ``dns``, operation the query type, actor the probe, parameters
``QueryName`` and ``View``), so ``match = { actor = "probe-cached", record =
"dynamodb.*" }`` and windows, probabilities and n-th counts work as they do at
the AWS boundary. Probabilities draw from a generator per probe, seeded from
the run's seed, so the same queries fail in every replay.
"""

from __future__ import annotations

import random
from typing import Final

from dnschaos.faults.kinds import DnsServfail, DnsTimeout
from dnschaos.faults.matchers import Call
from dnschaos.faults.state import FaultState
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.streams import RunStreams

TIMEOUT: Final = "timeout"
SERVFAIL: Final = "servfail"


class DnsInjector:
    def __init__(
        self, state: FaultState, *, history: History, clock: Clock, streams: RunStreams
    ) -> None:
        self.state = state  # shared with the nemesis, which activates and heals
        self.faults = [f for f in state.faults if isinstance(f, (DnsTimeout, DnsServfail))]
        self.history = history
        self.clock = clock
        self.streams = streams
        self._rngs: dict[str, random.Random] = {}

    def decide(self, actor: str, view: str, name: str, rtype: str) -> str | None:
        """``"timeout"``, ``"servfail"`` or ``None`` (the query goes out as it is)."""
        if not any(self.state.is_active(f) for f in self.faults):
            return None
        rng = self._rngs.get(actor)
        if rng is None:
            rng = self._rngs[actor] = self.streams.named("dns-faults", actor)
        call = Call(
            service="dns",
            operation=rtype,
            actor=actor,
            params={"QueryName": name, "View": view},
            t=self.clock.now() - self.history.start,
            rng=rng,
            counts=self.state.counts,
        )
        outcome: str | None = None
        for fault in self.faults:
            if not self.state.is_active(fault) or not fault.matcher.matches(call):
                continue
            self.history.append(
                "fault",
                self.clock.now(),
                action="hit",
                actor=actor,
                op=f"dns {rtype} {name}",
                **fault.describe(),
            )
            # A timeout wins: a query that never comes back has no rcode at all.
            if isinstance(fault, DnsTimeout) or outcome is None:
                outcome = TIMEOUT if isinstance(fault, DnsTimeout) else SERVFAIL
        return outcome
