"""A world and its actors from a scenario: the only place that wires a run.

Whatever the clock, a run is assembled here once: the hosted zones and the plans
table on the AWS target, the observer that records Route 53's state, the DNS side
(probes, a propagator, a server), the built-in planner and enactors, the nemesis
that activates and heals faults, the operator and the downstream models. Every
actor gets its clients, clock and random streams from here, bound to the run's
driver (the scheduler or free threads).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dnschaos.adapters.aws import AwsTarget, TargetSpec
from dnschaos.automation.fleet import default_fleet
from dnschaos.automation.phantom import PhantomHolder
from dnschaos.automation.plan import Endpoint
from dnschaos.automation.planner import PlannerConfig
from dnschaos.automation.variants import resolve_planner
from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.driver import Driver
from dnschaos.sim.hooks import instrument
from dnschaos.sim.streams import RunStreams
from dnschaos.spec import Scenario
from dnschaos.world import Observer, World, api_records

if TYPE_CHECKING:
    from dnschaos.byo.assemble import ByoAssembly


def actor_names(scenario: Scenario) -> list[str]:
    """Every actor of a run of ``scenario``, sorted (the order their seeds are drawn in)."""
    if scenario.byo is not None:
        from dnschaos.byo.assemble import actor_names as byo_actor_names

        return byo_actor_names(scenario)
    return sorted(
        (
            "planner",
            *scenario.enactors,
            *(("nemesis",) if scenario.faults else ()),
            *dns_actor_names(scenario),
        )
    )


@dataclass
class Assembly:
    """An assembled run: the world, its observer, and what must be closed at the end."""

    world: World
    observer: Observer
    side: Side
    stack: Any = None  # dnschaos.dns.DnsStack, when the run has a DNS side

    def close(self) -> None:
        if self.stack is not None:
            self.stack.close()


def assemble(
    scenario: Scenario,
    enactor_cls: type,
    aws: AwsTarget,
    driver: Driver,
    history: History,
    streams: RunStreams,
    *,
    deadline: float,
) -> Assembly | ByoAssembly:
    """Provision the world on ``aws`` and spawn every actor on ``driver``."""
    if scenario.byo is not None:  # the user's own world and actors, no built-in automation
        from dnschaos.byo.assemble import assemble_byo

        return assemble_byo(scenario, aws, driver, history, streams, deadline=deadline)
    world = World(aws, endpoints=scenario.endpoints, fleet=default_fleet(scenario.fleet_size))
    if aws.spec.real is not None:  # --target aws: the table is named under the run id
        from dnschaos.adapters.aws_real import plans_table

        world.table = plans_table(aws.spec.real.run_id)
    world.provision()
    observer = _observer(aws, world, history, driver.clock)
    side = Side()

    def should_stop() -> bool:
        return driver.halted() or driver.clock.now() >= deadline or side.done()

    stack = _dns_stack(scenario, aws, world, driver.clock, history, streams)
    assembly = Assembly(world, observer, side, stack)
    try:
        actors = _build_actors(
            scenario,
            enactor_cls,
            aws,
            world,
            driver,
            history,
            streams,
            should_stop,
            faults=scenario.faults,
            deliver=_deliver(aws.spec),
            stack=stack,
            observer=observer,
            side=side,
        )
        for name, fn in actors.items():
            driver.spawn(name, fn)
    except BaseException:
        assembly.close()
        raise
    return assembly


def dns_actor_names(scenario: Scenario) -> list[str]:
    if scenario.dns is None:
        return ["operator"] if scenario.operator is not None else []
    names = ["probe-authoritative"]
    if scenario.dns.resolver != "none":
        names.append("probe-cached")
    if scenario.dns.server != "embedded":
        names.append("propagator")
    if scenario.operator is not None:
        names.append("operator")
    if scenario.cascade is not None:
        names.append("downstream")
    return names


def _build_actors(
    scenario: Scenario,
    enactor_cls: type,
    target: Any,
    world: World,
    driver: Driver,
    history: History,
    streams: RunStreams,
    should_stop: Callable[[], bool],
    faults: Sequence[Any] = (),
    deliver: Callable[[Any], Any] | None = None,
    stack: Any = None,
    observer: Observer | None = None,
    side: Side | None = None,
) -> dict[str, Callable[[], None]]:
    """The planner, the enactors, (with faults) the nemesis, (with DNS) the probes and the
    propagator, and (with an operator) the operator, each as a function to run in its own
    thread."""
    scheduler = driver.scheduler
    clock = driver.clock
    on_complete = driver.on_complete

    def wait(condition: Callable[[], bool], label: str) -> None:
        # A wait also ends with the run's work: a pause "until N more plans" must not
        # outlive the planner, or the run would end in a deadlock instead of a verdict.
        driver.wait_until(lambda: condition() or should_stop(), label)

    injector = None
    fault_state = None
    if faults:
        from dnschaos.faults.state import FaultState

        fault_state = FaultState(faults)
        from dnschaos.faults.inject import Injector, moto_deliver

        injector = Injector(
            fault_state,
            history=history,
            clock=clock,
            streams=streams,
            deliver=deliver or moto_deliver,
            wait_until=wait,
            newest_plan=lambda: history.newest_plan,
        )

    def client(service: str, actor: str) -> Any:
        c = target.client(service, actor=actor)
        latency = scenario.actor_latency.get(actor)

        def draw(rng: random.Random, svc: str, _op: str) -> float:
            spec = latency if latency is not None and latency.applies(svc) else scenario.latency
            return rng.uniform(spec.low, spec.high)

        # One generator per (actor, service), so draws do not depend on how calls interleave.
        rng = streams.actor(actor, service)
        instrument(
            c,
            scheduler,
            history,
            actor=actor,
            rng=rng,
            clock=clock,
            latency=draw,
            on_complete=on_complete,
        )
        if injector is not None:
            injector.attach(c, actor)
        return c

    def clock_of(actor: str) -> Clock:
        if not faults:
            return clock
        from dnschaos.faults.inject import SkewedClock

        assert fault_state is not None
        return SkewedClock(clock, actor, fault_state)

    planner_cls = resolve_planner(scenario.planner)
    planner = planner_cls(
        "planner",
        dynamodb=client("dynamodb", "planner"),
        fleet=world.fleet,
        config=PlannerConfig(
            table=world.table,
            groups=tuple(sorted({e.plan_key for e in world.endpoints})),
            interval=scenario.planner_interval,
            max_plans=scenario.max_plans,
        ),
        clock=clock_of("planner"),
        events=history,
    )

    def automation_stop() -> bool:
        # The operator may switch the DNS automation off (the run itself goes on).
        return should_stop() or (side is not None and side.automation_off())

    actors: dict[str, Callable[[], None]] = {"planner": lambda: planner.run(automation_stop)}
    config = scenario.enactor_config(world.table)
    for name in scenario.enactors:
        route53, dynamodb = client("route53", name), client("dynamodb", name)

        def make(name: str = name, route53: Any = route53, dynamodb: Any = dynamodb) -> Any:
            # A restarted enactor is a new process: same clients, no memory.
            return enactor_cls(
                name,
                route53=route53,
                dynamodb=dynamodb,
                config=config,
                clock=clock_of(name),
                rng=streams.actor(name),
                events=history,
            )

        actors[name] = _supervised(name, make, automation_stop, clock, history)
    if faults:
        from dnschaos.faults.nemesis import Nemesis

        assert injector is not None
        assert fault_state is not None
        nemesis = Nemesis(
            fault_state,
            clock=clock,
            history=history,
            deadline=scenario.duration,
            on_lock_contention=PhantomHolder(
                target.client("route53", actor="nemesis"), world.endpoints, clock
            ),
            on_crash=injector.crash,
            on_dns_server=stack.set_server if stack is not None else None,
            # Virtual time: a look every 10 minutes lets a long run that ends early (no
            # race to cascade from) end the nemesis too, and leaves runs shorter than
            # that with one sleep, as before.
            poll=600.0 if scheduler is not None else 1.0,
        )
        instrument(
            target.client("route53", actor="nemesis"),
            scheduler,
            history,
            actor="nemesis",
            rng=streams.named("nemesis"),
            clock=clock,
            on_complete=on_complete,
        )
        actors["nemesis"] = _loop(nemesis, should_stop)
    if stack is not None:
        decide = None
        if faults:
            from dnschaos.faults.dns import DnsInjector

            assert fault_state is not None
            decide = DnsInjector(fault_state, history=history, clock=clock, streams=streams).decide
        actors.update(
            stack.actors(
                scheduler=scheduler,
                virtual=driver.virtual,
                decide=decide,
                should_stop=should_stop,
            )
        )
    if scenario.operator is not None:
        from dnschaos.operator import Operator

        def outage(ep: Endpoint) -> float | None:
            if stack is not None:
                began: float | None = stack.seen.outage(ep.name, stack.client_view())
                return began
            return _control_plane_outage(observer, ep, history.start)

        operator = Operator(
            client("route53", "operator"),
            world.endpoints,
            config=scenario.operator,
            clock=clock,
            history=history,
            outage=outage,
            wait_until=wait,
            recovered=stack.seen.all_answer if stack is not None else None,
        )
        if side is not None:
            side.operator = operator
        actors["operator"] = _loop(operator, should_stop)
    if scenario.cascade is not None:
        from dnschaos.downstream.actor import DownstreamActor

        if stack is None:
            raise UsageError("[cascade] needs DNS in the run: add a [dns] section")
        downstream = DownstreamActor(
            scenario.cascade,
            ec2=client("ec2", "downstream"),
            elbv2=client("elbv2", "downstream"),
            clock=clock,
            history=history,
            server=(stack.authoritative.host, stack.authoritative.port),
            name=world.endpoints[0].fqdn,
            yield_point=driver.yield_point if driver.virtual else None,
        )
        if side is not None:
            side.downstream = downstream
        actors["downstream"] = _loop(downstream, should_stop)
    return actors


@dataclass
class Side:
    """Actors whose state can end a run early: an operator whose repair held, or a
    downstream that saw no race to cascade from."""

    operator: Any = None
    downstream: Any = None

    def done(self) -> bool:
        return self.why() is not None

    def why(self) -> str | None:
        if self.operator is not None and self.operator.done:
            return "the operator's repair held and every probe answers again"
        if self.downstream is not None and self.downstream.no_race is not None:
            return str(self.downstream.no_race)
        return None

    def automation_off(self) -> bool:
        return bool(self.operator is not None and self.operator.automation_off)


def _control_plane_outage(observer: Observer | None, ep: Endpoint, start: float) -> float | None:
    """When Route 53 began to hold no addresses for ``ep`` (its latest observed state)."""
    if observer is None:
        return None
    began = observer.empty_since.get(ep.name)
    return None if began is None else start + began


def _dns_stack(
    scenario: Scenario, aws: Any, world: World, clock: Clock, history: History, streams: RunStreams
) -> Any:
    if scenario.dns is None:
        return None
    from dnschaos.dns import DnsStack

    return DnsStack(scenario.dns, aws, world, clock=clock, history=history, streams=streams).start()


def _supervised(
    name: str,
    make: Callable[[], Any],
    should_stop: Callable[[], bool],
    clock: Clock,
    history: History,
) -> Callable[[], None]:
    """Run an enactor; if a crash fault kills it, start a fresh one after the delay."""

    def body() -> None:
        from dnschaos.faults.inject import restarting

        restarting(name, lambda: make().run(should_stop), should_stop, clock, history)

    return body


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


def _observer(aws: Any, world: World, history: History, clock: Clock) -> Observer:
    if aws.spec.kind == "moto":
        return Observer(aws.strict_route53(), world, history, clock)
    return Observer(api_records(aws.client("route53", actor="observer")), world, history, clock)


def _deliver(spec: TargetSpec) -> Callable[[Any], Any]:
    from dnschaos.faults.inject import moto_deliver

    if spec.kind == "moto":
        return moto_deliver
    from dnschaos.adapters.moto_server import http_deliver

    return http_deliver


def _loop(actor: Any, should_stop: Callable[[], bool]) -> Callable[[], None]:
    return lambda: actor.run(should_stop)
