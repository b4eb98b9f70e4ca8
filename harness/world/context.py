"""The actor API: what an actor function ``fn(ctx)`` is given, in every run.

Every actor of a run, the user's as well as the built-in planner, enactors, probes,
propagator, operator, downstream models and the nemesis, is a function of one
:class:`ActorContext`, spawned by :func:`dnschaos.assemble.assemble` the same way: its
own instrumented clients, its clock, its seeded generators, the run's stop condition.
Actors that model one system together (an operator that switches the automation off,
a downstream model that ends a run with no race) cooperate through :class:`RunParts`,
the parts of the run every actor shares.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import TYPE_CHECKING, Any

from dnschaos.adapters.route53.models import normalize_name
from dnschaos.history import History
from dnschaos.sim.clock import Clock

if TYPE_CHECKING:
    from dnschaos.sim.driver import Driver
    from dnschaos.world.observer import Observer
    from dnschaos.world.run import RunWorld


@dataclass
class RunParts:
    """What the actors of one run share. ``dns`` is the DNS side (servers, what probes
    saw) when the scenario has one; ``faults`` the run's fault state, with the
    ``injector`` that applies it to clients and ``dns_faults`` that applies it to
    queries; ``shared`` a dict for actors of one system to leave each other things in."""

    world: RunWorld
    history: History
    clock: Clock  # the run's own clock (an actor's may be skewed by a fault)
    driver: Driver
    observer: Observer
    zones: dict[str, str]  # zone name (with the dot) -> hosted zone id
    dns: Any = None  # dnschaos.dns.stack.DnsStack
    faults: Any = None  # dnschaos.faults.state.FaultState
    injector: Any = None  # dnschaos.faults.inject.Injector
    dns_faults: Any = None  # dnschaos.faults.dns.DnsInjector
    # The holder a lock-contention fault puts on an endpoint's lock, made from the
    # nemesis's Route 53 client: it speaks the lock protocol of a workload that has one.
    lock_phantom: Callable[[Any], Any] | None = None
    duration: float = 0.0  # the scenario's working period: the nemesis acts within it
    shared: dict[str, Any] = field(default_factory=dict)
    ends: list[Callable[[], str | None]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # actors found unfit as they ran
    halt: Callable[[], bool] = lambda: False  # the driver halted, or the deadline passed
    lock: threading.RLock = field(default_factory=threading.RLock)

    def should_stop(self) -> bool:
        return self.halt() or self.why() is not None

    def wait_until(self, condition: Callable[[], bool], label: str) -> None:
        """Block until ``condition()`` holds or the run stops: a wait must not outlive the
        run's work, or the run would end in a deadlock instead of a verdict."""
        self.driver.wait_until(lambda: condition() or self.should_stop(), label)

    def why(self) -> str | None:
        """Why an actor ended the run before its duration, or None."""
        for end in self.ends:
            reason = end()
            if reason is not None:
                return reason
        return None


class ActorContext:
    """What an actor function ``fn(ctx)`` is given; ``fn()`` works as well, with
    ``boto3.client``, ``time.sleep`` and ``random`` bound to the run."""

    def __init__(
        self,
        name: str,
        parts: RunParts,
        clients: Callable[[str, Any], Any],
        clock: Clock,
        stream: Callable[..., Random],
        rng: Callable[[], Random],
    ) -> None:
        self.name = name
        self.parts = parts
        self._clients = clients
        self.clock = clock  # the actor's own clock: a clock-skew fault aimed at it shifts it
        self._stream = stream
        self._rng = rng
        self.zones = dict(parts.zones)  # zone name (with the dot) -> hosted zone id

    @property
    def random(self) -> Random:
        """The actor's seeded generator: the one the ``random`` module follows on its thread."""
        return self._rng()

    def stream(self, *labels: str) -> Random:
        """A new seeded generator of this actor, named by ``labels``: the same labels give
        the same draws (a restarted process starts its generator again), and draws from
        one do not shift the others."""
        return self._stream(*labels)

    @property
    def history(self) -> History:
        """The run's history: read it, or record typed entries of your own."""
        return self.parts.history

    @property
    def world(self) -> RunWorld:
        """The run's world: its hosted zones (``zones``), tables and target."""
        return self.parts.world

    def workload(self, name: str) -> Any:
        """What workload ``name`` provisioned for this run (its own world object)."""
        found = self.parts.world.workloads.get(name)
        if found is None:
            from dnschaos.errors import UsageError

            raise UsageError(
                f"actor {self.name}: this run has no {name} workload, whose world it needs"
            )
        return found

    def client(self, service: str, config: Any = None) -> Any:
        """A boto3 client of the run's world, with this actor's identity, the scheduler's
        hooks and the faults; with a botocore ``config``, retrying as its ``retries`` say."""
        return self._clients(service, config)

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(max(0.0, seconds))

    def now(self) -> float:
        return self.clock.now()

    def should_stop(self) -> bool:
        """True once the scenario's duration is over (loops should end then), or an actor
        ended the run (:meth:`end_when`)."""
        return self.parts.should_stop()

    def wait_until(self, condition: Callable[[], bool], label: str) -> None:
        """Block until ``condition()`` holds or the run stops (the scheduler runs the other
        actors meanwhile)."""
        self.parts.wait_until(condition, label)

    def end_when(self, reason: Callable[[], str | None]) -> None:
        """End the run, as finished, once ``reason()`` returns a text (the run's reason)."""
        with self.parts.lock:
            self.parts.ends.append(reason)

    def zone_id(self, name: str) -> str:
        return self.zones[normalize_name(name)]

    def event(self, kind: str, **fields: Any) -> None:
        """Record an event of your own in the history."""
        self.parts.history.append("event", self.clock.now(), actor=self.name, event=kind, **fields)


__all__ = ["ActorContext", "RunParts"]
