"""A world and its actors from a scenario: the only place that wires a run.

Every run is assembled here, the same way, whoever wrote its actors. A scenario gives
a world (the zones and tables the user describes, and each workload's part: the
built-in endpoints' hosted zones and plans table) and a list of actors
(:func:`dnschaos.scenario.actors.run_actors`): the workloads' actors, the user's, the
nemesis that activates and heals the faults, the DNS side's probes and propagator,
and the workloads' watchers. Each actor is a function of an
:class:`~dnschaos.world.context.ActorContext`, given its clients, clock and random
streams from here, bound to the run's driver (the scheduler or free threads).
"""

from __future__ import annotations

import inspect
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dnschaos.adapters.aws.retries import Retries, of_config
from dnschaos.adapters.aws.target import AwsTarget, TargetSpec
from dnschaos.errors import ActorRefusedError, UsageError
from dnschaos.history import History
from dnschaos.scenario.actors import run_actors
from dnschaos.scenario.spec import Scenario
from dnschaos.sim.clock import Clock
from dnschaos.sim.driver import Driver
from dnschaos.sim.hooks import instrument
from dnschaos.sim.streams import RunStreams
from dnschaos.workload import NEEDS, RUN_OWN
from dnschaos.world.config import ActorSpec, context_argument, load_ref, module_of, ref_name
from dnschaos.world.context import ActorContext, RunParts
from dnschaos.world.observer import Observer, api_records
from dnschaos.world.run import RunWorld


@dataclass
class Assembly:
    """An assembled run: its shared parts, and what must be closed at the end."""

    parts: RunParts
    binding: Any = None  # dnschaos.world.binding.Binding, when an actor is bound
    wiring: Any = None  # the actors' clients, generators and contexts

    def clients(self) -> list[dict[str, Any]]:
        """The clients the actors made, each with how it retries."""
        return [] if self.wiring is None else list(self.wiring.made())

    @property
    def observer(self) -> Any:
        return self.parts.observer

    def why(self) -> str | None:
        """Why an actor ended the run early (an operator's repair held, no race), or None."""
        return self.parts.why()

    def refused(self) -> None:
        """Raise the refusal of an actor found as the run went (exit 2), if there was one."""
        if self.parts.refusals:
            raise ActorRefusedError(self.parts.refusals[0])

    def close(self) -> None:
        """After the run: a described world is judged once more when settled and its end
        state recorded; then everything is released."""
        from dnschaos.sim.scheduler import Stop
        from dnschaos.world.binding import harness_scope

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
    aws: AwsTarget,
    driver: Driver,
    history: History,
    streams: RunStreams,
    *,
    deadline: float,
) -> Assembly:
    """Provision the world on ``aws`` and spawn every actor on ``driver``."""
    own = scenario.world
    clock = driver.clock
    own.importable()
    actors = run_actors(scenario)
    _check_needs(scenario, actors)
    run = RunWorld(aws, history, clock)
    if own.described:
        from dnschaos.world.provision import provision

        if aws.spec.kind != "moto":
            raise UsageError("a scenario of your own world runs on in-process moto (--target moto)")
        zones = provision(aws, own)
        history.append(
            "world",
            clock.now(),
            zones=sorted(zones),
            tables=[t.name for t in own.tables],
            actors=own.actor_names(),
        )
        for name, zone_id in zones.items():
            run.add_zone(name, zone_id)
        run.tables += [t.name for t in own.tables]
    for part in scenario.workloads:
        run.workloads[part.name] = part.workload.provision(part.config, run)
    observer = _observer(scenario, aws, run, history, clock)
    parts = RunParts(
        world=run,
        history=history,
        clock=clock,
        driver=driver,
        observer=observer,
        zones=dict(run.zones),
        halt=lambda: driver.halted() or clock.now() >= deadline,
    )
    if scenario.dns is not None:
        from dnschaos.dns.stack import DnsStack

        parts.dns = DnsStack(
            scenario.dns,
            aws,
            run,
            clock=clock,
            history=history,
            streams=streams,
            virtual=driver.virtual,
        ).start()
    assembly = Assembly(parts)
    try:
        if scenario.faults:
            _faults(scenario, aws, parts, streams)
        wiring = _Wiring(scenario, aws, parts, streams, {a.name for a in actors if a.harness})
        assembly.wiring = wiring
        if any(a.bind for a in actors):
            # The bound actors' own modules too: a Simulation's may be __main__.
            roots = {*own.modules, *(module_of(a.function) or "" for a in actors if a.bind)}
            assembly.binding = wiring.bind(tuple(sorted(roots - {""})))
        if own.setup is not None:
            from dnschaos.world.provision import run_setup

            run_setup(own.setup, aws, parts.zones)
        for spec in actors:
            fn = spec.load()
            _check_acts(spec, fn)
            driver.spawn(spec.name, wiring.body(spec, fn))
    except BaseException:
        assembly.release()
        raise
    return assembly


def _check_acts(spec: ActorSpec, fn: Callable[..., Any]) -> None:
    """Refuse an actor function that would return at once having done nothing: calling a
    generator or coroutine function only makes the generator or coroutine."""
    what = (
        "a generator function"
        if inspect.isgeneratorfunction(fn)
        else "a coroutine function (async def)"
        if inspect.iscoroutinefunction(fn)
        else None
    )
    if what is not None:
        raise UsageError(
            f"actor {spec.name}: {ref_name(spec.function)} is {what}: calling it runs none of "
            "its code; dnschaos runs synchronous actors, so give a plain function that "
            "acts (for asyncio code: one that calls asyncio.run(...))"
        )


def _idle_result(out: Any) -> str | None:
    """What an actor function's return value says about it, when it means the actor did
    nothing: a factory named without its args returns the actor instead of acting."""
    if callable(out):
        return (
            "returned a function instead of acting: it is a factory of actors; give its "
            "arguments (args = {...} in [[actors]], or keywords to Simulation.actor) so that "
            "the function it returns is the actor"
        )
    if inspect.isgenerator(out) or inspect.iscoroutine(out):
        if inspect.iscoroutine(out):
            out.close()  # never awaited, on purpose: not worth a warning of its own
        return f"returned {type(out).__name__} object without running it"
    return None


def _check_needs(scenario: Scenario, actors: Sequence[ActorSpec]) -> None:
    """Refuse an actor of a workload the scenario does not switch on: it would find no
    world of its own and do nothing (exit 2, naming what is missing)."""
    active = {p.name for p in scenario.workloads}
    own = set(scenario.world.actors)
    for spec in actors:
        fn = load_ref(spec.function, f"actor {spec.name}")
        part = getattr(fn, RUN_OWN, None)
        if part is not None and spec in own:
            raise UsageError(
                f"actor {spec.name}: {ref_name(spec.function)} is an actor the run starts itself "
                f"when the scenario has {part}; named among your actors it would act on "
                "nothing or twice: remove it from [[actors]]"
            )
        needs = getattr(fn, NEEDS, None)
        if needs is not None and needs not in active:
            raise UsageError(
                f"actor {spec.name}: {spec.function} is an actor of the {needs} workload, and "
                f"scenario {scenario.name} does not switch it on, so it would have no world to "
                f"act on; add the {needs} workload's tables to the scenario (see "
                "'dnschaos schema') or name another function"
            )


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
        self.clients: dict[tuple[str, str, Retries], Any] = {}
        self.rngs: dict[str, random.Random] = {}
        self.clocks: dict[str, Clock] = {}
        self.harness_actors = harness_actors  # the fault layer's own: not slowed, not faulted
        self.lock = threading.RLock()  # free threads (--clock real) make clients concurrently

    def client(self, actor: str, service: str, config: Any = None) -> Any:
        """The actor's client for ``service``, retrying as botocore ``config`` says when the
        actor's code gave one (dnschaos.adapters.aws.retries)."""
        retries = of_config(config, self.aws.default_retries)
        key = (actor, service, retries)
        with self.lock:
            if key not in self.clients:
                self.clients[key] = self._make_client(actor, service, retries)
            return self.clients[key]

    def made(self) -> list[dict[str, Any]]:
        """The clients the run's actors made and how each retries (the harness's own
        actors left out), sorted: what a result records."""
        rows = [
            {"actor": actor, "service": service, **retries.as_json()}
            for actor, service, retries in self.clients
            if actor.split("/", 1)[0] not in self.harness_actors
        ]
        return sorted(rows, key=lambda row: sorted(row.items()))

    def _make_client(self, actor: str, service: str, retries: Retries) -> Any:
        parts, scenario = self.parts, self.scenario
        c = self.aws.client(service, actor=actor, retries=retries)
        root, *rest = actor.split("/")  # a thread an actor started: "ops/1"
        harness = root in self.harness_actors
        spec = scenario.latency

        def draw(rng: random.Random, svc: str, _op: str) -> float:
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
        def client(service: str, config: Any = None) -> Any:
            return self.client(name, service, config)

        return ActorContext(
            name,
            self.parts,
            client,
            self.clock_of(name),
            lambda *labels: self.fresh(name, *labels),
            lambda: self.rng(name),
        )

    def body(self, spec: ActorSpec, fn: Callable[..., Any]) -> Callable[[], None]:
        """The actor's thread: a crash fault's restarts; a bound actor runs as itself for
        boto3, time and random; an uncaught error is judged (``judge_errors``); an actor
        that returns a function instead of acting is refused."""
        return self._body(spec.name, fn, spec.bind, spec.judge_errors, ref_name(spec.function))

    def _body(
        self,
        name: str,
        fn: Callable[..., Any],
        bind: bool,
        judge: bool,
        ref: str | None = None,
    ) -> Callable[[], None]:
        parts = self.parts
        ctx = self.context(name)
        how = context_argument(fn)

        def life() -> None:
            if how == "keyword":
                out = fn(ctx=ctx)
            elif how == "positional":
                out = fn(ctx)
            else:
                out = fn()
            idle = _idle_result(out) if ref is not None else None
            if idle is not None:
                raise ActorRefusedError(f"actor {name}: {ref} {idle}")

        def run() -> None:
            from dnschaos.faults.inject import restarting

            def lives() -> None:
                try:
                    restarting(name, life, ctx.should_stop, parts.clock, parts.history)
                except ActorRefusedError as exc:
                    parts.refusals.append(str(exc))  # the run is refused, not judged
                    raise

            if not judge:
                lives()
                return
            from dnschaos.world.binding import acting_as

            with acting_as(name if bind else None):
                try:
                    lives()
                except ActorRefusedError:
                    raise
                except (Exception, SystemExit) as exc:
                    from dnschaos.world.config import where

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
        from dnschaos.sim.scheduler import ActorState
        from dnschaos.world.binding import Binding

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

    # A lock-contention fault's holder speaks the lock protocol of the automation under
    # test: the first workload that has one hands it in.
    for part in scenario.workloads:
        holder = getattr(part.workload, "lock_holder", None)
        if holder is not None:
            world = parts.world.workloads[part.name]
            parts.lock_phantom = lambda route53, h=holder, w=world: h(w, route53, parts.clock)
            break
    parts.duration = scenario.duration


def prepare_target(target: TargetSpec | None, seed: int) -> TargetSpec:
    """The target for a run: in-process moto unless told otherwise; a server is reset first."""
    spec = target or TargetSpec("moto")
    spec.validate()
    if spec.kind == "aws":
        return spec  # guarded when opened (dnschaos.adapters.aws.real), never reset
    if spec.kind == "moto-server":
        from dnschaos.adapters.aws.moto_server import reset

        assert spec.endpoint_url is not None
        reset(spec.endpoint_url, seed)
    return spec


def _observer(
    scenario: Scenario, aws: Any, run: RunWorld, history: History, clock: Clock
) -> Observer:
    from dnschaos.world.invariants import step_checks

    source = aws.strict_route53() if aws.spec.kind == "moto" else None
    if source is None:
        source = api_records(aws.client("route53", actor="observer"))
    own = scenario.world
    observer = Observer(
        source,
        aws,
        history,
        clock,
        zone_ids=run.zones,
        described=own.described,
        invariants=step_checks(own),
        tables=[t.name for t in own.tables],
    )
    observer.watchers = list(run.watchers)
    return observer


def _deliver(spec: TargetSpec) -> Callable[[Any], Any]:
    from dnschaos.faults.inject import moto_deliver

    if spec.kind == "moto":
        return moto_deliver
    from dnschaos.adapters.aws.moto_server import http_deliver

    return http_deliver


__all__ = ["Assembly", "assemble", "prepare_target"]
