"""The parts of a run that belong to a world the user describes.

:func:`dnschaos.assemble.assemble` wires every run; for a scenario with ``[[actors]]``
(or a Simulation) it takes from here: the described hosted zones (their initial
records in sync from the start) and DynamoDB tables, the user's setup function, and
the observer that calls the step invariants with a read-only view after every step
that changed something. Each violation, each actor's uncaught exception (located by
:func:`where`) and each invariant that raised becomes a history entry, which the
checkers of :mod:`dnschaos.byo.invariants` judge.
"""

from __future__ import annotations

import itertools
import os
import traceback
from collections.abc import Callable
from typing import Any

from dnschaos.actors import ActorContext
from dnschaos.adapters.route53_strict import AliasTarget, RRSet, normalize_name
from dnschaos.byo.binding import harness_scope
from dnschaos.byo.config import ByoWorld, RecordSpec, Ref, load_ref
from dnschaos.byo.invariants import outcome
from dnschaos.byo.view import View, encode, plain
from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.world import Observer, World

_SKIP_FRAMES = ("dnschaos", "boto3", "botocore", "moto", "threading", "concurrent")


class JudgingObserver(Observer):
    """The observer of every run: it records what Route 53 holds for the built-in
    endpoints and, for a world the user describes, runs the step invariants after
    every step that changed something. What it judges (violations, actor errors,
    invariants that raised) is what the early stop looks at."""

    def __init__(
        self,
        source: Any,
        aws: Any,
        world: World,
        history: History,
        clock: Clock,
        *,
        zone_ids: dict[str, str] | None = None,
        invariants: list[tuple[str, Callable[[Any], Any]]] | None = None,
        tables: list[str] | None = None,
    ) -> None:
        super().__init__(source, world, history, clock)
        self.aws = aws
        self.described = zone_ids is not None  # a world the user described
        self.zone_ids = zone_ids or {}
        self.invariants = invariants or []
        self.tables = tables or []
        self._failing: set[str] = set()
        self._looked = 0
        self._judged: list[dict[str, Any]] = []

    def entries(self) -> list[dict[str, Any]]:
        """What the checkers judged as the run goes read: a described world's judged
        entries, else the observe entries kept."""
        if not self.described:
            return super().entries()
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
        super().observe()
        if not self.invariants:
            return
        with self.lock:
            fresh = itertools.islice(self.history, self._looked, None)
            changed = any(e["kind"] != "choice" for e in fresh)
            self._looked = len(self.history)
            if changed:
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


def run_setup(ref: Ref, aws: Any, zones: dict[str, str]) -> None:
    """The user's setup function, with uninstrumented clients, before any actor runs."""
    setup = load_ref(ref, "setup")
    try:
        with harness_scope():
            setup(SetupClients(aws, zones))
    except Exception as exc:  # the user's set-up, not the harness, is broken
        raise UsageError(
            f"setup {ref if isinstance(ref, str) else setup.__name__}: "
            f"raised {type(exc).__name__}: {exc} (at {where(exc)}); nothing ran"
        ) from exc


class SetupClients:
    """What a setup function is given: uninstrumented clients of the run's world."""

    def __init__(self, aws: Any, zones: dict[str, str]) -> None:
        self._aws = aws
        self.zones = dict(zones)
        self.route53 = aws.client("route53")
        self.dynamodb = aws.client("dynamodb")

    def client(self, service: str) -> Any:
        return self._aws.client(service)


def provision(aws: Any, byo: ByoWorld) -> dict[str, str]:
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


def where(exc: BaseException) -> str:
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


__all__ = ["ActorContext", "JudgingObserver", "SetupClients", "provision", "run_setup", "where"]
