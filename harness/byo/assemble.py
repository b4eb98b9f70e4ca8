"""The assembly of a run of user actors (a scenario with ``[[actors]]``, or a Simulation).

Provisions the described hosted zones (their initial records in sync from the
start) and DynamoDB tables, runs the user's setup, and spawns each user actor on
the run's driver, with the run's faults (and their nemesis) as in any scenario. No
built-in planner, enactors or plans table. While the run lasts, boto3, time,
random and threads are bound to it on actor threads (:mod:`dnschaos.byo.binding`).

After every step that changed something, the step invariants are called with a
read-only view; each violation, each actor's uncaught exception and each
invariant that raised becomes a history entry, which the checkers of
:mod:`dnschaos.byo.invariants` judge.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dnschaos.adapters.route53_strict import AliasTarget, RRSet, normalize_name
from dnschaos.byo.binding import Binding, acting_as, harness_scope
from dnschaos.byo.config import ByoWorld, RecordSpec, load_ref, takes_argument
from dnschaos.byo.invariants import make, outcome
from dnschaos.byo.view import View, encode, plain
from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.driver import Driver
from dnschaos.sim.hooks import instrument
from dnschaos.sim.scheduler import ActorState, Scheduler, Stop
from dnschaos.sim.streams import RunStreams
from dnschaos.spec import Scenario
from dnschaos.world import Observer, World

_SKIP_FRAMES = ("dnschaos", "boto3", "botocore", "moto", "threading", "concurrent")


def actor_names(scenario: Scenario) -> list[str]:
    byo: ByoWorld = scenario.byo
    return sorted([*byo.actor_names(), *(("nemesis",) if scenario.faults else ())])


class ActorContext:
    """What an actor function ``fn(ctx)`` is given; ``fn()`` works as well, with
    ``boto3.client``, ``time.sleep`` and ``random`` bound to the run."""

    def __init__(
        self,
        name: str,
        clients: Callable[[str], Any],
        clock: Clock,
        rng: random.Random,
        should_stop: Callable[[], bool],
        zones: dict[str, str],
        history: History,
    ) -> None:
        self.name = name
        self._clients = clients
        self.clock = clock
        self.random = rng
        self._should_stop = should_stop
        self.zones = dict(zones)  # zone name (with the dot) -> hosted zone id
        self._history = history

    def client(self, service: str) -> Any:
        return self._clients(service)

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(max(0.0, seconds))

    def now(self) -> float:
        return self.clock.now()

    def should_stop(self) -> bool:
        """True once the scenario's duration is over (loops should end then)."""
        return self._should_stop()

    def zone_id(self, name: str) -> str:
        return self.zones[normalize_name(name)]

    def event(self, kind: str, **fields: Any) -> None:
        """Record an event of your own in the history."""
        self._history.append("event", self.clock.now(), actor=self.name, event=kind, **fields)


@dataclass
class ByoSide:
    def done(self) -> bool:
        return False

    def why(self) -> str | None:
        return None


class ByoObserver(Observer):
    """Runs the step invariants after every step that changed something; what it records
    (violations, actor errors, invariants that raised) is what the early stop looks at."""

    def __init__(
        self,
        aws: Any,
        world: World,
        history: History,
        clock: Clock,
        zone_ids: dict[str, str],
        invariants: list[tuple[str, Callable[[Any], Any]]],
        tables: list[str],
    ) -> None:
        super().__init__(aws.strict_route53(), world, history, clock)
        self.aws = aws
        self.zone_ids = zone_ids
        self.invariants = invariants
        self.tables = tables
        self._failing: set[str] = set()
        self._looked = 0
        self._judged: list[dict[str, Any]] = []

    def entries(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._judged)

    def scan(self, table: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.types import TypeDeserializer

        ddb = self.aws.client("dynamodb")
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        deserialize = TypeDeserializer().deserialize
        while True:
            page = ddb.scan(**kwargs)
            out += [{k: plain(deserialize(v)) for k, v in it.items()} for it in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(out, key=lambda item: repr(sorted(item.items())))

    def note(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self._judged.append(entry)

    def observe(self) -> None:
        with self.lock:
            fresh = itertools.islice(self.history, self._looked, None)
            changed = any(e["kind"] != "choice" for e in fresh)
            self._looked = len(self.history)
            if changed and self.invariants:
                self._judge(self.clock.now(), None)
            self._looked = len(self.history)

    def settled_at(self) -> float:
        """When every change made so far is INSYNC (DNS serves it)."""
        strict = self.strict
        assert strict is not None
        now = self.clock.now()
        latest = [c.insync_at for z in self.zone_ids.values() for c in strict.change_log(z)]
        return max([now, *latest])

    def settle(self, finished: bool) -> None:
        """After a run that went to its end: judge once more when every change has
        propagated, so that what DNS serves after the actors' last writes is judged too.
        (A run stopped early, at a violation or a limit, is judged as it stood.)"""
        with self.lock:
            if not finished or not self.invariants:
                return
            at = self.settled_at()
            if at > self.clock.now():
                self._judge(at, at)

    def _judge(self, now: float, at: float | None) -> None:
        strict = self.strict
        assert strict is not None
        for label, fn in self.invariants:
            view = View(
                strict, self.zone_ids, self.history, now - self.history.start, self.scan, at
            )
            try:
                with harness_scope():
                    failed = outcome(fn(view))
            except Exception as exc:
                if label not in self._failing:
                    self._failing.add(label)
                    error = f"{type(exc).__name__}: {exc}"
                    self.note(
                        self.history.append("invariant-error", now, invariant=label, error=error)
                    )
                continue
            if failed is None:
                self._failing.discard(label)
                continue
            if label in self._failing:
                continue
            self._failing.add(label)
            read = sorted(set(failed.names) | view.read)
            extra = {"settled": True} if at is not None else {}
            entry = self.history.append(
                "violation", now, invariant=label, detail=failed.message, read=read, **extra
            )
            self.note(entry)

    def final(self) -> dict[str, Any]:
        strict = self.strict
        assert strict is not None
        zones: dict[str, Any] = {}
        served: dict[str, Any] = {}
        view = View(strict, self.zone_ids, [], 0.0, self.scan, self.settled_at())
        for name in sorted(self.zone_ids):
            zones[name] = encode(view.records(name))
            served[name] = encode(view.served(name))
        return {"zones": zones, "served": served, "tables": {t: self.scan(t) for t in self.tables}}


@dataclass
class ByoAssembly:
    world: World
    observer: ByoObserver
    side: ByoSide
    binding: Binding
    history: History
    clock: Clock
    scheduler: Scheduler | None = None  # None: free threads (no settling after the run)
    stack: Any = None

    def close(self) -> None:
        try:
            scheduler = self.scheduler
            self.observer.settle(scheduler is not None and scheduler.stopped == Stop.FINISHED)
            with harness_scope():
                self.history.append("final", self.clock.now(), **self.observer.final())
        finally:
            self.binding.uninstall()


def assemble_byo(
    scenario: Scenario,
    aws: Any,
    driver: Driver,
    history: History,
    streams: RunStreams,
    *,
    deadline: float,
) -> ByoAssembly:
    byo: ByoWorld = scenario.byo
    if aws.spec.kind != "moto":
        raise UsageError("a scenario of your own actors runs on in-process moto (--target moto)")
    for path in byo.paths:  # a scenario file's modules may sit beside it
        if path not in sys.path:
            sys.path.insert(0, path)
    clock = driver.clock
    world = World(aws, endpoints=())
    zone_ids = _provision(aws, byo)
    history.append(
        "world",
        clock.now(),
        zones=sorted(zone_ids),
        tables=[t.name for t in byo.tables],
        actors=byo.actor_names(),
    )
    invariants = [(spec.label, make(spec)) for spec in byo.step_invariants()]
    observer = ByoObserver(
        aws, world, history, clock, zone_ids, invariants, [t.name for t in byo.tables]
    )

    def should_stop() -> bool:
        return driver.halted() or clock.now() >= deadline

    injector, nemesis = _faults(scenario, aws, driver, history, streams, should_stop)
    clients: dict[tuple[str, str], Any] = {}

    lock = threading.RLock()  # free threads (--clock real) make clients concurrently

    def client_for(actor: str, service: str) -> Any:
        key = (actor, service)
        with lock:
            return clients[key] if key in clients else make_client(actor, service)

    def make_client(actor: str, service: str) -> Any:
        key = (actor, service)
        if key not in clients:
            c = aws.client(service, actor=actor)
            latency = scenario.latency

            def draw(rng: random.Random, svc: str, _op: str) -> float:
                return rng.uniform(latency.low, latency.high) if latency.applies(svc) else 0.0

            root = actor.split("/", 1)[0]
            instrument(
                c,
                driver.scheduler,
                history,
                actor=actor,
                rng=streams.actor(root, service, *actor.split("/")[1:]),
                clock=clock,
                latency=draw,
                on_complete=driver.on_complete,
            )
            if injector is not None:
                injector.attach(c, actor)
            clients[key] = c
        return clients[key]

    rngs: dict[str, random.Random] = {}

    def rng_for(actor: str) -> random.Random:
        with lock:
            if actor not in rngs:
                root, *rest = actor.split("/")
                rngs[actor] = streams.actor(root, "random", *rest)
            return rngs[actor]

    def body(name: str, fn: Callable[..., Any]) -> Callable[[], None]:
        ctx = ActorContext(
            name,
            lambda service: client_for(name, service),
            clock,
            rng_for(name),
            should_stop,
            zone_ids,
            history,
        )
        wants_ctx = takes_argument(fn)

        def run() -> None:
            from dnschaos.faults.inject import restarting

            with acting_as(name):
                try:
                    restarting(
                        name,
                        lambda: fn(ctx) if wants_ctx else fn(),
                        should_stop,
                        clock,
                        history,
                    )
                except (Exception, SystemExit) as exc:
                    entry = history.append(
                        "actor-error",
                        clock.now(),
                        actor=name,
                        type=type(exc).__name__,
                        message=str(exc),
                        where=_where(exc),
                    )
                    observer.note(entry)

        return run

    def spawn_child(parent: str, fn: Callable[[], None]) -> Callable[[], None]:
        scheduler = driver.scheduler
        assert scheduler is not None
        name = binding.child_name(parent)
        child = scheduler.spawn_child(name, body(name, fn))
        ended = (ActorState.DONE, ActorState.FAILED)
        return lambda: scheduler.wait_until(lambda: child.state in ended, f"join {name}")

    binding = Binding(
        clock=clock,
        client_for=client_for,
        harness_client=lambda service: aws.client(service),
        rng_for=rng_for,
        spawn_child=spawn_child if _can_spawn(driver) else None,
        wait_until=driver.wait_until,
        modules=byo.modules,
    )
    binding.install()
    try:
        if byo.setup is not None:
            setup = load_ref(byo.setup, "setup")
            try:
                with harness_scope():
                    setup(SetupClients(aws, zone_ids))
            except Exception as exc:  # the user's set-up, not the harness, is broken
                raise UsageError(
                    f"setup {byo.setup if isinstance(byo.setup, str) else setup.__name__}: "
                    f"raised {type(exc).__name__}: {exc} (at {_where(exc)}); nothing ran"
                ) from exc
        for spec in byo.actors:
            driver.spawn(spec.name, body(spec.name, load_ref(spec.function, f"actor {spec.name}")))
        if nemesis is not None:
            driver.spawn("nemesis", nemesis)
    except BaseException:
        binding.uninstall()
        raise
    return ByoAssembly(world, observer, ByoSide(), binding, history, clock, driver.scheduler)


class SetupClients:
    """What a setup function is given: uninstrumented clients of the run's world."""

    def __init__(self, aws: Any, zones: dict[str, str]) -> None:
        self._aws = aws
        self.zones = dict(zones)
        self.route53 = aws.client("route53")
        self.dynamodb = aws.client("dynamodb")

    def client(self, service: str) -> Any:
        return self._aws.client(service)


def _can_spawn(driver: Driver) -> bool:
    return driver.scheduler is not None


def _provision(aws: Any, byo: ByoWorld) -> dict[str, str]:
    """The zones (initial records in sync from the start: they are there before the strict
    layer first looks) and the tables with their items."""
    from boto3.dynamodb.types import TypeSerializer
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.route53.models import route53_backends

    r53 = aws.client("route53")
    backend = route53_backends[DEFAULT_ACCOUNT_ID]["aws"]
    zone_ids: dict[str, str] = {}
    for i, zone in enumerate(byo.zones):
        made = r53.create_hosted_zone(Name=zone.fqdn, CallerReference=f"dnschaos-byo-{i}")
        zone_id = str(made["HostedZone"]["Id"]).split("/")[-1]
        zone_ids[normalize_name(zone.fqdn)] = zone_id
    # Records after every zone exists: an alias may point into any zone of the world.
    for zone in byo.zones:
        rrsets = backend.zones[zone_ids[normalize_name(zone.fqdn)]].rrsets
        for rec in zone.records:
            rrsets.append(_rrset(rec, zone_ids).to_moto())
    ddb = aws.client("dynamodb")
    serialize = TypeSerializer().serialize
    for table in byo.tables:
        keys = [{"AttributeName": table.key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": table.key, "AttributeType": "S"}]
        if table.sort_key:
            keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": table.sort_key, "AttributeType": "S"})
        ddb.create_table(
            TableName=table.name,
            KeySchema=keys,
            AttributeDefinitions=attrs,
            BillingMode="PAY_PER_REQUEST",
        )
        for item in table.items:
            ddb.put_item(
                TableName=table.name,
                Item={k: serialize(_decimal(v)) for k, v in item.items()},
            )
    return zone_ids


def _rrset(rec: RecordSpec, zone_ids: dict[str, str]) -> RRSet:
    alias = None
    if rec.alias is not None:
        # A zone of the world by its name, else a hosted zone id as given.
        zone = zone_ids.get(normalize_name(rec.alias.zone), rec.alias.zone)
        alias = AliasTarget(zone, normalize_name(rec.alias.name), rec.alias.evaluate_target_health)
    return RRSet(
        name=normalize_name(rec.name),
        type=rec.type,
        set_identifier=rec.set_identifier,
        weight=rec.weight,
        ttl=None if alias is not None else rec.ttl,
        values=() if alias is not None else rec.values,
        alias=alias,
    )


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal(v) for v in value]
    return value


def _faults(
    scenario: Scenario,
    aws: Any,
    driver: Driver,
    history: History,
    streams: RunStreams,
    should_stop: Callable[[], bool],
) -> tuple[Any, Callable[[], None] | None]:
    if not scenario.faults:
        return None, None
    from dnschaos.automation.phantom import PhantomHolder
    from dnschaos.faults.inject import Injector, moto_deliver
    from dnschaos.faults.nemesis import Nemesis
    from dnschaos.faults.state import FaultState

    state = FaultState(scenario.faults)
    injector = Injector(
        state,
        history=history,
        clock=driver.clock,
        streams=streams,
        deliver=moto_deliver,
        wait_until=lambda c, label: driver.wait_until(lambda: c() or should_stop(), label),
        newest_plan=lambda: history.newest_plan,
    )
    nemesis = Nemesis(
        state,
        clock=driver.clock,
        history=history,
        deadline=scenario.duration,
        on_lock_contention=PhantomHolder(aws.client("route53", actor="nemesis"), (), driver.clock),
        on_crash=injector.crash,
        poll=600.0 if driver.scheduler is not None else 1.0,
    )
    return injector, lambda: nemesis.run(should_stop)


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame in the user's code (module path, so that it reads
    the same from any working directory)."""
    frames = traceback.extract_tb(exc.__traceback__)
    tb = exc.__traceback__
    modules = []
    while tb is not None:
        modules.append(str(tb.tb_frame.f_globals.get("__name__", "")))
        tb = tb.tb_next
    for frame, module in reversed(list(zip(frames, modules, strict=True))):
        if module.split(".", 1)[0] in _SKIP_FRAMES or frame.filename.startswith(_STDLIB):
            continue
        path = frame.filename
        tail = module.replace(".", "/") + ".py"
        if module and module != "__main__" and path.replace(os.sep, "/").endswith(tail):
            path = tail
        else:
            path = os.path.basename(path)
        return f"{path}:{frame.lineno}"
    last = frames[-1] if frames else None
    return f"{os.path.basename(last.filename)}:{last.lineno}" if last else "?"


_STDLIB = os.path.dirname(os.__file__) + os.sep


__all__ = ["ActorContext", "ByoAssembly", "SetupClients", "actor_names", "assemble_byo"]
