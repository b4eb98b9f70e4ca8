"""scenario + variant + seed + strategy -> history -> result.

The runner builds a world on in-process moto with the strict Route 53 layer,
starts the planner and the enactors as actors under the deterministic scheduler
(or as free threads with ``clock="real"``), records everything in a history,
and judges the history with the checkers. Running and judging stay apart: the
only thing the runner decides online is whether to stop early, and it decides
that with the same checkers the final verdict uses.
"""

from __future__ import annotations

import platform
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from dnschaos import __version__, checkers
from dnschaos.adapters.aws import TargetSpec, open_target
from dnschaos.automation.enactor import EnactorConfig
from dnschaos.automation.fleet import default_fleet
from dnschaos.automation.plan import Endpoint
from dnschaos.automation.planner import PlannerConfig
from dnschaos.automation.variants import resolve_enactor, resolve_planner, variant_name
from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.sim.clock import INCIDENT_EPOCH, Clock, ScaledClock
from dnschaos.sim.hooks import instrument
from dnschaos.sim.scheduler import Choice, Limits, Scheduler, SimResult, Stop
from dnschaos.sim.strategies import (
    STRATEGIES,
    DFSStrategy,
    ReplayStrategy,
    make_strategy,
)
from dnschaos.world import Observer, World, api_records

CLOCKS: Final = ("sim", "real")


@dataclass(frozen=True)
class CallLatency:
    """Virtual latency of AWS calls: uniform between ``low`` and ``high`` seconds."""

    low: float
    high: float
    service: str | None = None  # botocore's hyphenated service id, e.g. "route-53"

    def applies(self, service: str) -> bool:
        return self.service is None or self.service == service


@dataclass(frozen=True)
class Scenario:
    name: str
    endpoints: tuple[Endpoint, ...]
    fleet_size: int = 3
    enactors: tuple[str, ...] = ("enactor-a", "enactor-b", "enactor-c")
    planner_interval: float = 20.0
    enactor: EnactorConfig | None = None
    latency: CallLatency = CallLatency(0.05, 0.3)
    actor_latency: dict[str, CallLatency] = field(default_factory=dict)
    propagation_delay: float = 0.0
    duration: float = 1200.0  # virtual seconds the actors keep working
    progress_bound: float = 300.0
    faults: tuple[Any, ...] = ()  # faults.kinds.Fault instances
    source: str | None = None  # the scenario file, when it came from a path
    cli_faults: tuple[str, ...] = ()  # faults added with --fault, kept so a replay adds them too
    limits: Limits = field(
        default_factory=lambda: Limits(
            max_steps=200_000, max_virtual_seconds=4800.0, max_wall_seconds=300.0, quantum=1.0
        )
    )
    description: str = ""
    dns: Any = None  # harness.dns.DnsConfig: probes and a DNS server; None: no DNS side
    operator: Any = None  # harness.operator.OperatorConfig: repairs DNS by hand; None: nobody
    stop_at_first_violation: bool = True
    fuzz_faults: tuple[dict[str, Any], ...] = ()  # fault templates of the fuzzer's fault space
    fuzz_max_faults: int = 0
    planner: str = "default"  # a registered planner or module:Class (--planner)
    cascade: Any = None  # harness.downstream.model.CascadeConfig: EC2 and NLB downstream
    seed: int | None = None  # the seed the scenario is meant to run with (CLI default)

    def enactor_config(self, table: str) -> EnactorConfig:
        base = self.enactor or EnactorConfig(endpoints=self.endpoints)
        return replace(base, endpoints=self.endpoints, table=table)


def scenario_named(name: str) -> Scenario:
    """A built-in scenario by name, or a scenario file by path (``*.toml``)."""
    from dnschaos.scenario import builtin, load

    if name.endswith(".toml") or "/" in name:
        loaded: Scenario = load(name)
        return replace(loaded, source=name)
    found: Scenario = builtin(name)
    return found


def with_dns(scenario: Scenario, server: str | None, resolver: str | None) -> Scenario:
    """The scenario with its DNS server and resolver chosen (``--dns``, ``--resolver``);
    a scenario without a ``[dns]`` section gets the defaults of one."""
    if server is None and resolver is None:
        return scenario
    from dnschaos.dns import DnsConfig

    base = scenario.dns or DnsConfig()
    return replace(
        scenario,
        dns=replace(base, server=server or base.server, resolver=resolver or base.resolver),
    )


def scenario_names() -> list[str]:
    from dnschaos.scenario import builtin_names

    return builtin_names()


@dataclass
class RunResult:
    scenario: str
    variant: str
    seed: int
    strategy: str
    clock: str
    verdict: str
    violations: list[checkers.Violation]
    verdicts: list[checkers.Verdict]
    stop: str
    reason: str
    steps: int
    virtual_seconds: float
    wall_seconds: float
    choices: list[Choice]
    trace_digest: str
    history: History
    stop_on_violation: bool = True
    scenario_file: str | None = None
    faults_added: tuple[str, ...] = ()
    target: str = "moto"
    dns: dict[str, Any] | None = None  # DNS set-up and what clients saw (harness.metrics)
    planner: str = "default"
    cascade: dict[str, Any] | None = None  # the downstream phases beside INCIDENT.md's

    def to_json(self) -> dict[str, Any]:
        return {
            "dns": self.dns,
            "scenario": self.scenario,
            "variant": self.variant,
            "seed": self.seed,
            "strategy": self.strategy,
            "clock": self.clock,
            "target": self.target,
            "planner": self.planner,
            "cascade": self.cascade,
            "verdict": self.verdict,
            "violations": [v.as_dict() for v in self.violations],
            "checkers": [
                {"checker": v.checker, "status": v.status, "error": v.error} for v in self.verdicts
            ],
            "stop": self.stop,
            "reason": self.reason,
            "steps": self.steps,
            "virtual_seconds": round(self.virtual_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "choices": [[c.actor, c.label] for c in self.choices],
            "trace_digest": self.trace_digest,
            "stop_on_violation": self.stop_on_violation,
            "scenario_file": self.scenario_file,
            "faults_added": list(self.faults_added),
            "versions": versions(),
        }


def versions() -> dict[str, str]:
    import boto3
    import botocore
    import moto

    return {
        "dnschaos": __version__,
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "moto": moto.__version__,
    }


def _checkers(scenario: Scenario) -> dict[str, Callable[[Any], list[checkers.Violation]]]:
    chosen: dict[str, Callable[[Any], list[checkers.Violation]]] = {
        **checkers.SAFETY,
        "single-lock-holder": checkers.single_lock_holder,
        "progress": checkers.progress(scenario.progress_bound),
    }
    if scenario.dns is not None:  # probes ran: judge what clients saw too
        chosen["endpoint-never-empty-client"] = checkers.endpoint_never_empty_client
    return chosen


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


def run(
    scenario: Scenario,
    variant: str = "legacy",
    *,
    seed: int = 1,
    strategy: str = "random",
    clock: str = "sim",
    pct_depth: int = 3,
    replay: Sequence[Choice] | None = None,
    dfs: DFSStrategy | None = None,
    stop_on_violation: bool = True,
    time_scale: float = 1.0,
    target: TargetSpec | None = None,
    guide: Any = None,
) -> RunResult:
    """One run. ``replay`` re-runs recorded choices; ``dfs`` follows a DFS explorer's prefix;
    ``guide`` is any other strategy object (the shrinker's)."""
    enactor_cls = resolve_enactor(variant)
    resolve_planner(scenario.planner)  # a bad --planner fails before anything starts
    if clock not in CLOCKS:
        raise UsageError(f"--clock {clock!r}: unknown; choose one of {', '.join(CLOCKS)}")
    if strategy not in STRATEGIES:
        raise UsageError(f"--strategy {strategy!r}: unknown; choose one of {', '.join(STRATEGIES)}")
    if scenario.dns is not None:
        scenario.dns.validate(clock, (target or TargetSpec("moto")).kind)
    stop_on_violation = stop_on_violation and scenario.stop_at_first_violation
    if clock == "real":
        return _run_real(
            scenario,
            enactor_cls,
            seed=seed,
            time_scale=time_scale,
            stop_on_violation=stop_on_violation,
            target=target,
        )
    master = random.Random(seed)
    actor_names = sorted(
        (
            "planner",
            *scenario.enactors,
            *(("nemesis",) if scenario.faults else ()),
            *dns_actor_names(scenario),
        )
    )
    # Drawn whatever the strategy, so actors get the same seeds in a replay as in the original.
    strategy_seed = master.getrandbits(64)
    strat: Any
    if guide is not None:
        strat = guide
    elif replay is not None:
        strat = ReplayStrategy(replay)
    elif dfs is not None:
        strat = dfs
    elif strategy in ("replay", "dfs"):
        raise UsageError(
            f"--strategy {strategy}: give a recording to replay (dnschaos replay FILE) or use dnschaos explore"
        )
    else:
        strat = make_strategy(
            strategy, random.Random(strategy_seed), actor_names, pct_depth=pct_depth
        )
    history = History(INCIDENT_EPOCH)
    all_checkers = _checkers(scenario)
    faults = scenario.faults  # immutable specs: each run's state is its FaultState
    for fault in faults:
        fault.validate()
    scheduler = Scheduler(strat, limits=scenario.limits, recorder=history, start=INCIDENT_EPOCH)
    history.clock = scheduler.clock
    actor_seeds = {name: master.getrandbits(64) for name in actor_names}
    spec = _prepare(target, seed)
    with open_target(
        spec, clock=scheduler.clock, propagation_delay=scenario.propagation_delay, seed=seed
    ) as aws:
        world = World(
            aws, endpoints=scenario.endpoints, fleet=default_fleet(scenario.fleet_size)
        ).provision()
        observer = _observer(aws, world, history, scheduler.clock)
        found: list[checkers.Violation] = []

        def stop_when() -> str | None:
            if not stop_on_violation:
                return None
            entries = observer.entries()
            for name, check in checkers.SAFETY.items():
                hits = check(entries)
                if hits:
                    found.extend(hits)
                    return f"{name} violated at t={hits[0].t:.0f}s"
            return None

        def after_step() -> None:
            before = len(history)
            observer.observe()
            if len(history) == before:
                scheduler.stop_when = None
            else:
                scheduler.stop_when = stop_when

        scheduler.after_step = after_step
        deadline = scheduler.clock.start + scenario.duration
        side = _Side()

        def should_stop() -> bool:
            return scheduler.clock.now() >= deadline or side.done()

        stack = _dns_stack(scenario, aws, world, scheduler.clock, history, seed)
        actors = _build_actors(
            scenario,
            enactor_cls,
            aws,
            world,
            scheduler,
            scheduler.clock,
            history,
            actor_seeds,
            should_stop,
            on_complete=lambda op: observer.note_change() if op == _CHANGE else None,
            faults=faults,
            seed=seed,
            deliver=_deliver(spec),
            stack=stack,
            observer=observer,
            side=side,
        )
        for name, fn in actors.items():
            scheduler.spawn(name, fn)
        try:
            sim = scheduler.run()
        finally:
            if stack is not None:
                stack.close()
        observer.observe()
        why = side.why()
        if sim.stop == Stop.FINISHED and why is not None:
            sim = replace(sim, reason=why)
    result = _result(scenario, enactor_cls, seed, strat.name, "sim", sim, history, all_checkers)
    result.stop_on_violation = stop_on_violation
    result.target = spec.kind
    return result


def _build_actors(
    scenario: Scenario,
    enactor_cls: type,
    target: Any,
    world: World,
    scheduler: Scheduler | None,
    clock: Clock,
    history: History,
    actor_seeds: dict[str, int],
    should_stop: Callable[[], bool],
    on_complete: Callable[[str], None] | None = None,
    faults: Sequence[Any] = (),
    seed: int = 0,
    deliver: Callable[[Any], Any] | None = None,
    stack: Any = None,
    observer: Observer | None = None,
    side: _Side | None = None,
) -> dict[str, Callable[[], None]]:
    """The planner, the enactors, (with faults) the nemesis, (with DNS) the probes and the
    propagator, and (with an operator) the operator, each as a function to run in its own
    thread."""

    def wait(condition: Callable[[], bool], label: str) -> None:
        # A wait also ends with the run's work: a pause "until N more plans" must not
        # outlive the planner, or the run would end in a deadlock instead of a verdict.
        if scheduler is not None:
            scheduler.wait_until(lambda: condition() or should_stop(), label)
            return
        while not condition() and not should_stop():
            clock.sleep(0.1)

    injector = None
    if faults:
        from dnschaos.faults.inject import Injector, moto_deliver
        from dnschaos.faults.state import FaultState

        # The one state of this run's faults: the nemesis changes it, the others read it.
        fault_state = FaultState(faults)
        injector = Injector(
            fault_state,
            history=history,
            clock=clock,
            seed=seed,
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
        rng = random.Random(f"{actor_seeds[actor]}/{service}")
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
                rng=random.Random(actor_seeds[name]),
                events=history,
            )

        actors[name] = _supervised(name, make, automation_stop, clock, history)
    if faults:
        from dnschaos.faults.nemesis import Nemesis

        assert injector is not None
        nemesis = Nemesis(
            fault_state,
            clock=clock,
            history=history,
            deadline=scenario.duration,
            route53=target.client("route53", actor="nemesis"),
            endpoints=world.endpoints,
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
            rng=random.Random(f"{seed}/nemesis"),
            clock=clock,
            on_complete=on_complete,
        )
        actors["nemesis"] = _loop(nemesis, should_stop)
    if stack is not None:
        decide = None
        if faults:
            from dnschaos.faults.dns import DnsInjector

            decide = DnsInjector(fault_state, history=history, clock=clock, seed=seed).decide
        actors.update(
            stack.actors(
                scheduler=scheduler,
                virtual=scheduler is not None,
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
            yield_point=scheduler.yield_point if scheduler is not None else None,
        )
        if side is not None:
            side.downstream = downstream
        actors["downstream"] = _loop(downstream, should_stop)
    return actors


@dataclass
class _Side:
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
    began: float | None = None
    for entry in observer.entries():
        if entry["endpoint"] != ep.name:
            continue
        empty = entry["root"] is not None and (
            not entry["root_exists"] or not all(entry["addresses"].values())
        )
        if empty and began is None:
            began = start + entry["t"]
        elif not empty:
            began = None
    return began


def _dns_stack(
    scenario: Scenario, aws: Any, world: World, clock: Clock, history: History, seed: int
) -> Any:
    if scenario.dns is None:
        return None
    from dnschaos.dns import DnsStack

    return DnsStack(scenario.dns, aws, world, clock=clock, history=history, seed=seed).start()


def _supervised(
    name: str,
    make: Callable[[], Any],
    should_stop: Callable[[], bool],
    clock: Clock,
    history: History,
) -> Callable[[], None]:
    """Run an enactor; if a crash fault kills it, start a fresh one after the delay."""

    def body() -> None:
        from dnschaos.faults.inject import Crashed

        while True:
            try:
                make().run(should_stop)
                return
            except Crashed as crash:
                history.append(
                    "fault",
                    clock.now(),
                    action="crashed",
                    actor=name,
                    restart_after=crash.restart_after,
                )
                clock.sleep(crash.restart_after)
                if should_stop():
                    return
                history.append("fault", clock.now(), action="restarted", actor=name)

    return body


_CHANGE: Final = "ChangeResourceRecordSets"


def _prepare(target: TargetSpec | None, seed: int) -> TargetSpec:
    """The target for a run: in-process moto unless told otherwise; a server is reset first."""
    spec = target or TargetSpec("moto")
    spec.validate()
    if spec.kind == "aws":
        raise UsageError("--target aws: scenario runs against real AWS are not supported yet")
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


def _result(
    scenario: Scenario,
    enactor_cls: type,
    seed: int,
    strategy: str,
    clock: str,
    sim: SimResult,
    history: History,
    all_checkers: dict[str, Callable[[Any], list[checkers.Violation]]],
) -> RunResult:
    entries = list(history)
    graceful = sim.stop in (Stop.FINISHED, Stop.CONDITION)
    chosen = all_checkers if sim.stop == Stop.FINISHED else dict(checkers.SAFETY)
    verdicts = checkers.judge(entries, chosen)
    violations = [v for verdict in verdicts for v in verdict.violations]
    verdict = checkers.overall(verdicts)
    if verdict == checkers.PASS and not graceful:
        verdict = checkers.UNKNOWN  # a run cut short proves nothing
    dns = None
    if scenario.dns is not None:
        from dnschaos.metrics import dns_metrics

        dns = {
            "server": scenario.dns.server,
            "resolver": scenario.dns.resolver,
            "negative_ttl": scenario.dns.negative_ttl,
            "probe_interval": scenario.dns.probe_interval,
            "endpoints": dns_metrics(entries),
        }
    cascade = None
    if scenario.cascade is not None:
        from dnschaos.downstream.phases import compare, measures, phases

        measured = phases(entries, scenario.cascade.droplets, scenario.cascade.propagation_alarm)
        cascade = {
            "mitigations": sorted(scenario.cascade.mitigations),
            "phases": compare(measured),
            "measures": measures(entries),
        }
    return RunResult(
        cascade=cascade,
        planner=scenario.planner,
        dns=dns,
        scenario_file=scenario.source,
        faults_added=scenario.cli_faults,
        scenario=scenario.name,
        variant=variant_name(enactor_cls),
        seed=seed,
        strategy=strategy,
        clock=clock,
        verdict=verdict,
        violations=violations,
        verdicts=verdicts,
        stop=str(sim.stop),
        reason=sim.reason,
        steps=sim.steps,
        virtual_seconds=sim.virtual_seconds,
        wall_seconds=sim.wall_seconds,
        choices=sim.choices,
        trace_digest=history.digest(),
        history=history,
    )


def _run_real(
    scenario: Scenario,
    enactor_cls: type,
    *,
    seed: int,
    time_scale: float,
    stop_on_violation: bool,
    target: TargetSpec | None = None,
) -> RunResult:
    """The same actors as free threads on (scaled) wall time: no scheduler, no replay.

    Interleavings are whatever the threads and the OS make of them, so the digest of
    such a run identifies this run only.
    """
    clock = ScaledClock(INCIDENT_EPOCH, time_scale)
    history = History(INCIDENT_EPOCH, clock)
    master = random.Random(seed)
    actor_names = sorted(("planner", *scenario.enactors, *dns_actor_names(scenario)))
    actor_seeds = {name: master.getrandbits(64) for name in actor_names}
    halt = threading.Event()
    wall_start = time.monotonic()
    spec = _prepare(target, seed)
    with open_target(
        spec, clock=clock, propagation_delay=scenario.propagation_delay, seed=seed
    ) as aws:
        world = World(
            aws, endpoints=scenario.endpoints, fleet=default_fleet(scenario.fleet_size)
        ).provision()
        observer = _observer(aws, world, history, clock)
        deadline = clock.start + scenario.duration

        def on_complete(op: str) -> None:
            if op != _CHANGE:
                return
            observer.note_change()
            observer.observe()
            if stop_on_violation and any(
                check(observer.entries()) for check in checkers.SAFETY.values()
            ):
                halt.set()

        side = _Side()

        def should_stop() -> bool:
            return halt.is_set() or clock.now() >= deadline or side.done()

        stack = _dns_stack(scenario, aws, world, clock, history, seed)
        actors = _build_actors(
            scenario,
            enactor_cls,
            aws,
            world,
            None,
            clock,
            history,
            actor_seeds,
            should_stop,
            on_complete,
            faults=scenario.faults,
            seed=seed,
            deliver=_deliver(spec),
            stack=stack,
            observer=observer,
            side=side,
        )
        failures: dict[str, str] = {}

        def guard(name: str, fn: Callable[[], None]) -> Callable[[], None]:
            def body() -> None:
                try:
                    fn()
                except Exception as exc:  # reported as an actor failure, like the scheduler does
                    failures[name] = f"{type(exc).__name__}: {exc}"
                    halt.set()

            return body

        threads = [
            threading.Thread(target=guard(n, f), name=f"actor-{n}", daemon=True)
            for n, f in actors.items()
        ]
        for t in threads:
            t.start()
        budget = scenario.limits.max_wall_seconds
        for t in threads:
            t.join(timeout=max(0.0, budget - (time.monotonic() - wall_start)))
        stuck = [t.name for t in threads if t.is_alive()]
        violated = halt.is_set()
        halt.set()  # stragglers (a probe in its sleep) end with the run
        if stack is not None:
            stack.close()
        observer.observe()
    if failures:
        stop, reason = (
            Stop.ACTOR_FAILED,
            "; ".join(f"actor {n} raised {e}" for n, e in sorted(failures.items())),
        )
    elif stuck:
        stop, reason = (
            Stop.WALL_LIMIT,
            f"wall-time limit of {budget:.0f}s reached; still running: {', '.join(stuck)}",
        )
    elif violated:
        stop, reason = Stop.CONDITION, "a safety invariant was violated"
    elif side.done():
        stop, reason = Stop.FINISHED, str(side.why())
    else:
        stop, reason = Stop.FINISHED, "every actor finished"
    sim = SimResult(
        stop=stop,
        reason=reason,
        steps=0,
        virtual_seconds=clock.elapsed(),
        wall_seconds=time.monotonic() - wall_start,
        choices=[],
        failed=failures,
    )
    result = _result(
        scenario, enactor_cls, seed, "free-threads", "real", sim, history, _checkers(scenario)
    )
    result.target = spec.kind
    return result


__all__ = ["INCIDENT_2025", "CallLatency", "RunResult", "Scenario", "run", "scenario_named"]


INCIDENT_2025: Final = scenario_named("incident-2025")
