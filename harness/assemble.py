"""A world and its actors from a scenario: the only place that wires a run.

Every run is assembled here, the same way, whoever wrote its actors. A scenario
gives a world (the built-in endpoints' hosted zones and plans table, or the zones
and tables a user describes) and a list of actors (:func:`run_actors`): for a
built-in scenario, its planner, enactors, probes, propagator, operator and
downstream models, named like any user's actor (``dnschaos.automation.actors:enactor``
with its arguments); for a scenario of the user's own, the user's functions. With
faults, the nemesis that activates and heals them is one more actor. Each actor is
a function of an :class:`~dnschaos.actors.ActorContext`, given its clients, clock
and random streams from here, bound to the run's driver (the scheduler or free
threads).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dnschaos.actors import ActorContext, RunParts
from dnschaos.adapters.aws import AwsTarget, TargetSpec
from dnschaos.automation.fleet import default_fleet
from dnschaos.byo.config import ActorSpec, takes_argument
from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.driver import Driver
from dnschaos.sim.hooks import instrument
from dnschaos.sim.streams import RunStreams
from dnschaos.spec import Scenario
from dnschaos.world import World, api_records

NEMESIS = "nemesis"


def actor_names(scenario: Scenario) -> list[str]:
    """Every actor of a run of ``scenario``, sorted (the order their seeds are drawn in)."""
    return sorted(a.name for a in run_actors(scenario))


def run_actors(scenario: Scenario, variant: str = "legacy") -> tuple[ActorSpec, ...]:
    """The actors of a run of ``scenario``, in the order they are spawned."""
    nemesis = (
        (
            ActorSpec(
                NEMESIS,
                "dnschaos.faults.nemesis:nemesis",
                bind=False,
                judge_errors=False,
                harness=True,
            ),
        )
        if scenario.faults
        else ()
    )
    if scenario.byo is not None:
        return (*scenario.byo.actors, *nemesis)
    return (*_automation(scenario, variant), *nemesis, *_dns_side(scenario))


def _automation(scenario: Scenario, variant: str) -> tuple[ActorSpec, ...]:
    """The built-in planner and enactors, as a scenario of the user's would name them."""
    config = scenario.enactor
    planner = ActorSpec(
        "planner",
        "dnschaos.automation.actors:planner",
        args=(
            ("planner", scenario.planner),
            ("interval", scenario.planner_interval),
            ("max_plans", scenario.max_plans),
        ),
        bind=False,
        judge_errors=is_user_class(scenario.planner),
    )
    enactors = tuple(
        ActorSpec(
            name,
            "dnschaos.automation.actors:enactor",
            args=(("variant", variant), ("config", config)),
            bind=False,
            judge_errors=is_user_class(variant),
        )
        for name in scenario.enactors
    )
    return (planner, *enactors)


def is_user_class(name: str) -> bool:
    """A user's own enactor or planner class (``module:Class``): code under test, whose
    exceptions the ``no-actor-error`` invariant judges; a built-in one's are harness
    errors."""
    return ":" in name


def judges_actor_errors(scenario: Scenario, variant: str) -> bool:
    """Whether a run of a built-in scenario is judged by ``no-actor-error`` too: it runs a
    user's own enactor or planner class. (A scenario of the user's own actors says so
    itself, in its world.)"""
    return scenario.byo is None and (is_user_class(variant) or is_user_class(scenario.planner))


def _dns_side(scenario: Scenario) -> tuple[ActorSpec, ...]:
    """The probes and the propagator (with DNS), the operator, the downstream models."""

    def builtin(name: str, ref: str, **args: Any) -> ActorSpec:
        return ActorSpec(name, ref, args=tuple(args.items()), bind=False, judge_errors=False)

    out: list[ActorSpec] = []
    if scenario.dns is not None:
        out.append(builtin("probe-authoritative", "dnschaos.dns:probe", view="authoritative"))
        if scenario.dns.resolver != "none":
            out.append(builtin("probe-cached", "dnschaos.dns:probe", view="cached"))
        if scenario.dns.server != "embedded":
            out.append(builtin("propagator", "dnschaos.dns:propagator"))
    if scenario.operator is not None:
        out.append(builtin("operator", "dnschaos.operator:operator", config=scenario.operator))
    if scenario.cascade is not None:
        if scenario.dns is None:
            raise UsageError("[cascade] needs DNS in the run: add a [dns] section")
        out.append(
            builtin("downstream", "dnschaos.downstream.actor:downstream", config=scenario.cascade)
        )
    return tuple(out)


@dataclass
class Assembly:
    """An assembled run: its shared parts, and what must be closed at the end."""

    parts: RunParts
    binding: Any = None  # dnschaos.byo.binding.Binding, when an actor is bound

    @property
    def observer(self) -> Any:
        return self.parts.observer

    def why(self) -> str | None:
        """Why an actor ended the run early (an operator's repair held, no race), or None."""
        return self.parts.why()

    def close(self) -> None:
        """After the run: a described world is judged once more when settled and its end
        state recorded; then everything is released."""
        from dnschaos.byo.binding import harness_scope
        from dnschaos.sim.scheduler import Stop

        parts = self.parts
        try:
            observer = parts.observer
            if observer.described:  # a world the user described: judged settled, end recorded
                scheduler = parts.driver.scheduler
                observer.settle(scheduler is not None and scheduler.stopped == Stop.FINISHED)
                with harness_scope():
                    parts.history.append("final", parts.clock.now(), **observer.final())
        finally:
            self.release()

    def release(self) -> None:
        """Undo the binding and stop the DNS servers (also when assembling failed)."""
        try:
            if self.binding is not None:
                self.binding.uninstall()
        finally:
            if self.parts.dns is not None:
                self.parts.dns.close()


def assemble(
    scenario: Scenario,
    variant: str,
    aws: AwsTarget,
    driver: Driver,
    history: History,
    streams: RunStreams,
    *,
    deadline: float,
) -> Assembly:
    """Provision the world on ``aws`` and spawn every actor on ``driver``."""
    byo = scenario.byo
    clock = driver.clock
    zones: dict[str, str] = {}
    if byo is not None:
        from dnschaos.byo.assemble import provision

        if aws.spec.kind != "moto":
            raise UsageError(
                "a scenario of your own actors runs on in-process moto (--target moto)"
            )
        for path in byo.paths:  # a scenario file's modules may sit beside it
            if path not in sys.path:
                sys.path.insert(0, path)
        world = World(aws, endpoints=())
        zones = provision(aws, byo)
        history.append(
            "world",
            clock.now(),
            zones=sorted(zones),
            tables=[t.name for t in byo.tables],
            actors=byo.actor_names(),
        )
    else:
        world = World(aws, endpoints=scenario.endpoints, fleet=default_fleet(scenario.fleet_size))
        if aws.spec.real is not None:  # --target aws: the table is named under the run id
            from dnschaos.adapters.aws_real import plans_table

            world.table = plans_table(aws.spec.real.run_id)
        world.provision()
    observer = _observer(scenario, aws, world, history, clock, zones)
    parts = RunParts(
        world=world,
        history=history,
        clock=clock,
        driver=driver,
        observer=observer,
        zones=zones,
        halt=lambda: driver.halted() or clock.now() >= deadline,
    )
    if scenario.dns is not None:
        from dnschaos.dns import DnsStack

        parts.dns = DnsStack(
            scenario.dns,
            aws,
            world,
            clock=clock,
            history=history,
            streams=streams,
            virtual=driver.virtual,
        ).start()
    assembly = Assembly(parts)
    try:
        if scenario.faults:
            _faults(scenario, aws, parts, streams)
        actors = run_actors(scenario, variant)
        wiring = _Wiring(scenario, aws, parts, streams, {a.name for a in actors if a.harness})
        if any(a.bind for a in actors):
            assembly.binding = wiring.bind(byo.modules if byo is not None else ())
        if byo is not None and byo.setup is not None:
            from dnschaos.byo.assemble import run_setup

            run_setup(byo.setup, aws, zones)
        for spec in actors:
            driver.spawn(spec.name, wiring.body(spec, spec.load()))
    except BaseException:
        assembly.release()
        raise
    return assembly


class _Wiring:
    """Clients, generators and contexts of a run's actors (one of each per actor)."""

    def __init__(
        self,
        scenario: Scenario,
        aws: AwsTarget,
        parts: RunParts,
        streams: RunStreams,
        harness_actors: set[str],
    ) -> None:
        self.scenario = scenario
        self.aws = aws
        self.parts = parts
        self.streams = streams
        self.clients: dict[tuple[str, str], Any] = {}
        self.rngs: dict[str, random.Random] = {}
        self.clocks: dict[str, Clock] = {}
        self.harness_actors = harness_actors  # the fault layer's own: not slowed, not faulted
        self.lock = threading.RLock()  # free threads (--clock real) make clients concurrently

    def client(self, actor: str, service: str) -> Any:
        key = (actor, service)
        with self.lock:
            if key not in self.clients:
                self.clients[key] = self._make_client(actor, service)
            return self.clients[key]

    def _make_client(self, actor: str, service: str) -> Any:
        parts, scenario = self.parts, self.scenario
        c = self.aws.client(service, actor=actor)
        root, *rest = actor.split("/")  # a thread an actor started: "ops/1"
        harness = root in self.harness_actors
        own = scenario.actor_latency.get(root)

        def draw(rng: random.Random, svc: str, _op: str) -> float:
            spec = own if own is not None and own.applies(svc) else scenario.latency
            return rng.uniform(spec.low, spec.high) if spec.applies(svc) else 0.0

        instrument(
            c,
            parts.driver.scheduler,
            parts.history,
            actor=actor,
            # The fault layer's own calls keep their own stream and take no time.
            rng=self.streams.named(root) if harness else self.streams.actor(root, service, *rest),
            clock=parts.clock,
            latency=None if harness else draw,
            on_complete=parts.driver.on_complete,
        )
        if parts.injector is not None and not harness:
            parts.injector.attach(c, actor)
        return c

    def fresh(self, actor: str, *labels: str) -> random.Random:
        """A generator named by the actor and ``labels``: its draws do not depend on how
        calls interleave. (``ops/1``, a thread of ``ops``, draws from ``ops``'s streams.)"""
        root, *rest = actor.split("/")
        return self.streams.actor(root, *labels, *rest)

    def rng(self, actor: str) -> random.Random:
        """The actor's one generator for ``random`` (``ctx.random`` is the same object)."""
        with self.lock:
            if actor not in self.rngs:
                self.rngs[actor] = self.fresh(actor, "random")
            return self.rngs[actor]

    def clock_of(self, actor: str) -> Clock:
        """The actor's clock: a clock-skew fault aimed at it (or at the actor whose thread
        it is) shifts what it reads."""
        state = self.parts.faults
        if state is None:
            return self.parts.clock
        from dnschaos.faults.inject import SkewedClock

        root = actor.split("/", 1)[0]
        with self.lock:
            if root not in self.clocks:
                self.clocks[root] = SkewedClock(self.parts.clock, root, state)
            return self.clocks[root]

    def context(self, name: str) -> ActorContext:
        return ActorContext(
            name,
            self.parts,
            lambda service: self.client(name, service),
            self.clock_of(name),
            lambda *labels: self.fresh(name, *labels),
            lambda: self.rng(name),
        )

    def body(self, spec: ActorSpec, fn: Callable[..., Any]) -> Callable[[], None]:
        """The actor's thread: a crash fault's restarts; a bound actor runs as itself for
        boto3, time and random; an uncaught error is judged (``judge_errors``)."""
        return self._body(spec.name, fn, spec.bind, spec.judge_errors)

    def _body(
        self, name: str, fn: Callable[..., Any], bind: bool, judge: bool
    ) -> Callable[[], None]:
        parts = self.parts
        ctx = self.context(name)
        wants_ctx = takes_argument(fn)

        def life() -> None:
            fn(ctx) if wants_ctx else fn()

        def run() -> None:
            from dnschaos.faults.inject import restarting

            def lives() -> None:
                restarting(name, life, ctx.should_stop, parts.clock, parts.history)

            if not judge:
                lives()
                return
            from dnschaos.byo.binding import acting_as

            with acting_as(name if bind else None):
                try:
                    lives()
                except (Exception, SystemExit) as exc:
                    from dnschaos.byo.assemble import where

                    entry = parts.history.append(
                        "actor-error",
                        parts.clock.now(),
                        actor=name,
                        type=type(exc).__name__,
                        message=str(exc),
                        where=where(exc),
                    )
                    parts.observer.note(entry)

        return run

    def bind(self, modules: tuple[str, ...]) -> Any:
        """Bind boto3, time, random and threads to the run on bound actors' threads."""
        from dnschaos.byo.binding import Binding
        from dnschaos.sim.scheduler import ActorState

        driver = self.parts.driver

        def spawn_child(parent: str, fn: Callable[[], None]) -> Callable[[], None]:
            scheduler = driver.scheduler
            assert scheduler is not None
            name = binding.child_name(parent)
            child = scheduler.spawn_child(name, self._body(name, fn, True, True))
            ended = (ActorState.DONE, ActorState.FAILED)
            return lambda: scheduler.wait_until(lambda: child.state in ended, f"join {name}")

        binding = Binding(
            clock=self.parts.clock,
            client_for=self.client,
            harness_client=lambda service: self.aws.client(service),
            rng_for=self.rng,
            spawn_child=spawn_child if driver.scheduler is not None else None,
            wait_until=driver.wait_until,
            modules=modules,
            clock_for=self.clock_of,
        )
        binding.install()
        return binding


def _faults(scenario: Scenario, aws: AwsTarget, parts: RunParts, streams: RunStreams) -> None:
    """The run's fault state, the injector that applies it to clients and, with DNS, the
    one that applies it to queries; the nemesis is an actor (faults.nemesis)."""
    from dnschaos.faults.inject import Injector
    from dnschaos.faults.state import FaultState

    state = FaultState(scenario.faults)
    parts.faults = state
    parts.injector = Injector(
        state,
        history=parts.history,
        clock=parts.clock,
        streams=streams,
        deliver=_deliver(aws.spec),
        wait_until=parts.wait_until,
        newest_plan=lambda: parts.history.newest_plan,
    )
    if parts.dns is not None:
        from dnschaos.faults.dns import DnsInjector

        parts.dns_faults = DnsInjector(
            state, history=parts.history, clock=parts.clock, streams=streams
        )

    def phantom(route53: Any) -> Any:
        # A lock-contention fault's holder speaks the built-in automation's lock protocol.
        from dnschaos.automation.phantom import PhantomHolder

        return PhantomHolder(route53, parts.world.endpoints, parts.clock)

    parts.lock_phantom = phantom
    parts.duration = scenario.duration


def prepare_target(target: TargetSpec | None, seed: int) -> TargetSpec:
    """The target for a run: in-process moto unless told otherwise; a server is reset first."""
    spec = target or TargetSpec("moto")
    spec.validate()
    if spec.kind == "aws":
        return spec  # guarded when opened (dnschaos.adapters.aws_real), never reset
    if spec.kind == "moto-server":
        from dnschaos.adapters.moto_server import reset

        assert spec.endpoint_url is not None
        reset(spec.endpoint_url, seed)
    return spec


def _observer(
    scenario: Scenario,
    aws: Any,
    world: World,
    history: History,
    clock: Clock,
    zones: dict[str, str],
) -> Any:
    from dnschaos.byo.assemble import JudgingObserver

    byo = scenario.byo
    source = aws.strict_route53() if aws.spec.kind == "moto" else None
    if source is None:
        source = api_records(aws.client("route53", actor="observer"))
    if byo is None:
        return JudgingObserver(source, aws, world, history, clock)
    from dnschaos.byo.invariants import make

    return JudgingObserver(
        source,
        aws,
        world,
        history,
        clock,
        zone_ids=zones,
        invariants=[(spec.label, make(spec)) for spec in byo.step_invariants()],
        tables=[t.name for t in byo.tables],
    )


def _deliver(spec: TargetSpec) -> Callable[[Any], Any]:
    from dnschaos.faults.inject import moto_deliver

    if spec.kind == "moto":
        return moto_deliver
    from dnschaos.adapters.moto_server import http_deliver

    return http_deliver


__all__ = ["Assembly", "actor_names", "assemble", "prepare_target", "run_actors"]
