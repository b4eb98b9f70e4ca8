"""moto's Route 53, made to follow Route 53's documented semantics.

moto 5.2 differs from Route 53 where our races live (see INCIDENT.md section 6):
it checks a DELETE against a journal of past changes instead of the current
records, a weighted DELETE removes every set with that SetIdentifier, a batch
can be half-applied, changes in one batch do not see each other, every change
is INSYNC at once, and it paginates weighted sets without a record identifier.

This module replaces moto's request handling for ChangeResourceRecordSets,
ListResourceRecordSets and GetChange while keeping moto's storage (the zone's
``rrsets``), so everything else moto does with a zone still works; the read
calls that DNS tools page through (ListHostedZones, ListHostedZonesByName,
GetHostedZone, ListHealthChecks) are answered by
:mod:`dnschaos.adapters.route53.reads`. While installed, a batch is:

* refused if a name or value is one Route 53 would not store (an A value
  that is no IPv4 address, an unquoted TXT value, a 64-character label; see
  :mod:`dnschaos.adapters.route53.values`), or if it is over Route 53's limits
  (1,000 records and 32,000 characters of values a request, UPSERT counting
  twice; 100 weighted sets of one name and type; TTL and weight ranges);
* validated as a whole against the current records, each change seeing the
  effects of the changes before it in the same batch;
* applied all or nothing, with every problem reported in one
  ``InvalidChangeBatch`` in AWS's own words;
* given a unique change id that is PENDING until ``propagation_delay`` seconds
  of the injected clock have passed, then INSYNC.

Every successful batch also leaves a snapshot of the zone, so the data plane can
answer from what had propagated at a given time (only INSYNC changes are
visible to DNS clients).

Install it with :func:`install`; :func:`uninstall` gives moto back its own
behaviour (the conformance suite runs against both).
"""

from __future__ import annotations

import base64
import bisect
import collections
import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from moto.core.responses import ActionResult
from moto.route53.models import FakeZone, RecordSet, Route53Backend
from moto.route53.responses import Route53 as Route53Response

from dnschaos.adapters.route53.errors import StrictRoute53Error
from dnschaos.adapters.route53.values import (
    MAX_TTL,
    MAX_VALUE_CHARS_PER_BATCH,
    MAX_WEIGHTED_PER_NAME_AND_TYPE,
    name_problem,
    value_problems,
    zone_name_problem,
)
from dnschaos.errors import HarnessError
from dnschaos.sim.clock import Clock

# Route 53 limits we enforce because real callers hit them.
MAX_WEIGHT = 255
MAX_RR_PER_BATCH = 1000
DEFAULT_MAX_ITEMS = 300
# Apex record types a zone cannot lose, and Route 53's refusal of a DELETE of each.
_APEX_GUARDED = {
    "SOA": "A HostedZone must contain exactly one SOA record.",
    "NS": "A HostedZone must contain at least one NS record for the zone itself.",
}
# Hosted zone ids of AWS services (ELB, S3, CloudFront, ...) are outside moto's
# zones; an alias to them cannot be checked, so it is accepted as Route 53 does.


def _invalid_change_batch(messages: Sequence[str]) -> StrictRoute53Error:
    # Route 53 reports every problem of a rejected batch at once, in brackets.
    return StrictRoute53Error("InvalidChangeBatch", "[" + ", ".join(messages) + "]")


def _invalid_input(message: str) -> StrictRoute53Error:
    return StrictRoute53Error("InvalidInput", message)


# --------------------------------------------------------------------------- records


def normalize_name(name: str) -> str:
    """Route 53 names are case-insensitive and fully qualified."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _reversed_labels(name: str) -> str:
    return ".".join(reversed(name.rstrip(".").split(".")))


@dataclass(frozen=True)
class AliasTarget:
    hosted_zone_id: str
    dns_name: str
    evaluate_target_health: bool

    def to_api(self) -> dict[str, Any]:
        return {
            "HostedZoneId": self.hosted_zone_id,
            "DNSName": self.dns_name,
            "EvaluateTargetHealth": self.evaluate_target_health,
        }


@dataclass(frozen=True)
class RRSet:
    """One resource record set as Route 53 stores it, normalised and immutable."""

    name: str
    type: str
    set_identifier: str | None = None
    weight: int | None = None
    ttl: int | None = None
    values: tuple[str, ...] = ()
    alias: AliasTarget | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.name, self.type, self.set_identifier)

    def label(self) -> str:
        """How Route 53 names a set in its error messages."""
        if self.set_identifier is not None:
            return (
                f"[name='{self.name}', type='{self.type}', set-identifier='{self.set_identifier}']"
            )
        return f"[name='{self.name}', type='{self.type}']"

    def same_values(self, other: RRSet) -> bool:
        """The DELETE rule: every value must equal the current one (record order aside)."""
        return (
            self.ttl == other.ttl
            and sorted(self.values) == sorted(other.values)
            and self.alias == other.alias
            and self.weight == other.weight
            and self.set_identifier == other.set_identifier
        )

    @cached_property
    def _sort_key(self) -> tuple[str, str, str]:
        return (_reversed_labels(self.name), self.type, self.set_identifier or "")

    def sort_key(self) -> tuple[str, str, str]:
        """ListResourceRecordSets order: labels reversed, then type, then set identifier."""
        return self._sort_key

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.set_identifier is not None:
            out["SetIdentifier"] = self.set_identifier
        if self.weight is not None:
            out["Weight"] = self.weight
        if self.alias is not None:
            out["AliasTarget"] = self.alias.to_api()
        else:
            out["TTL"] = self.ttl
            out["ResourceRecords"] = [{"Value": v} for v in self.values]
        return out

    @cached_property
    def moto_record(self) -> RecordSet:
        """The moto object for this set, built once (sets are immutable)."""
        return self.to_moto()

    def to_moto(self) -> RecordSet:
        kwargs: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.set_identifier is not None:
            kwargs["SetIdentifier"] = self.set_identifier
        if self.weight is not None:
            kwargs["Weight"] = self.weight
        if self.alias is not None:
            kwargs["AliasTarget"] = self.alias.to_api()
        else:
            kwargs["TTL"] = self.ttl
            kwargs["ResourceRecords"] = list(self.values)
        return RecordSet(kwargs)

    @classmethod
    def from_moto(cls, rs: RecordSet) -> RRSet:
        # moto stores apex NS TTLs as strings and SOA values as dicts; normalise both.
        values: list[str] = []
        for v in rs.records or []:
            values.append(str(v["Value"]) if isinstance(v, dict) else str(v))
        alias = None
        if rs.alias_target:
            at = rs.alias_target
            alias = AliasTarget(
                hosted_zone_id=str(at.get("HostedZoneId", "")),
                dns_name=normalize_name(str(at.get("DNSName", ""))),
                evaluate_target_health=bool(at.get("EvaluateTargetHealth", False)),
            )
        return cls(
            name=normalize_name(rs.name),
            type=str(rs.type),
            set_identifier=rs.set_identifier,
            weight=None if rs.weight is None else int(rs.weight),
            ttl=None if alias is not None or rs.ttl in (None, "") else int(rs.ttl),
            values=tuple(values) if alias is None else (),
            alias=alias,
        )


def _parse_change_rrset(raw: Mapping[str, Any], action: str) -> RRSet:
    """Turn one change's ResourceRecordSet into an RRSet, with Route 53's input checks."""
    name = normalize_name(str(raw.get("Name", "")))
    rtype = str(raw.get("Type", ""))
    set_id = raw.get("SetIdentifier")
    weight = raw.get("Weight")
    has_alias = raw.get("AliasTarget") is not None
    has_records = raw.get("ResourceRecords") is not None
    has_ttl = raw.get("TTL") is not None
    described = (
        f"Change with [Action={action}, Name={name}, Type={rtype}, "
        f"SetIdentifier={set_id if set_id is not None else 'null'}]"
    )
    found = None
    if has_alias and (has_records or has_ttl):
        found = "more than one"
    elif not has_alias and not (has_records and has_ttl):
        found = "none"
    if found is not None:
        raise _invalid_input(
            "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and "
            f"ResourceRecords], or TrafficPolicyInstanceId], but found {found} in {described}"
        )
    if (set_id is None) != (weight is None):
        raise _invalid_input(
            "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, "
            f"MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in {described}"
            if weight is None
            else f"Invalid request: Missing field 'SetIdentifier' in {described}"
        )
    if weight is not None:
        weight = int(weight)
        _check_range(weight, 0, MAX_WEIGHT, "ResourceRecordSetWeight")
    alias = None
    values: tuple[str, ...] = ()
    ttl = None
    if has_alias:
        at = raw["AliasTarget"]
        alias = AliasTarget(
            hosted_zone_id=str(at.get("HostedZoneId", "")).split("/")[-1],
            dns_name=normalize_name(str(at.get("DNSName", ""))),
            evaluate_target_health=bool(at.get("EvaluateTargetHealth", False)),
        )
    else:
        ttl = int(raw["TTL"])
        _check_range(ttl, 0, MAX_TTL, "TTL")
        recs = raw["ResourceRecords"]
        values = tuple(str(r["Value"]) if isinstance(r, Mapping) else str(r) for r in recs)
        if not values:
            raise _invalid_input(f"Invalid request: ResourceRecords is empty in {described}")
    return RRSet(
        name=name,
        type=rtype,
        set_identifier=None if set_id is None else str(set_id),
        weight=weight,
        ttl=ttl,
        values=values,
        alias=alias,
    )


def _check_range(value: int, low: int, high: int, xml_type: str) -> None:
    # Route 53 validates the request against its XML schema before reading it.
    if value < low:
        facet, bound = "minInclusive", low
    elif value > high:
        facet, bound = "maxInclusive", high
    else:
        return
    raise _invalid_input(
        f"Invalid XML ; cvc-{facet}-valid: Value '{value}' is not facet-valid with respect "
        f"to {facet} '{bound}' for type '{xml_type}'."
    )


def _check_names(raw: Mapping[str, Any]) -> None:
    """A record name or alias target that is not a domain name stops the request at once."""
    names = [str(raw.get("Name", ""))]
    alias = raw.get("AliasTarget")
    if isinstance(alias, Mapping):
        names.append(str(alias.get("DNSName", "")))
    for name in names:
        problem = name_problem(name)
        if problem is not None:
            raise StrictRoute53Error("InvalidChangeBatch", problem)


def rrset_problem(raw: Mapping[str, Any], zone: str) -> str | None:
    """Why Route 53 would refuse to CREATE the record set ``raw`` (as the API spells it) in
    the zone named ``zone``, or None: the checks of a change, for a world set up without
    one."""
    try:
        _check_names(raw)
        rrset = _parse_change_rrset(raw, "CREATE")
    except StrictRoute53Error as exc:
        return str(exc)
    bad = value_problems(rrset.type, rrset.values)
    outside = _outside_zone(rrset.name, normalize_name(zone))
    if bad or outside:
        return str(_invalid_change_batch([*bad, *([outside] if outside else [])]))
    return None


def _outside_zone(name: str, zone_name: str) -> str | None:
    if name != zone_name and not name.endswith("." + zone_name):
        return f"RRSet with DNS name {name} is not permitted in zone {zone_name}"
    return None


def rrset_from_api(raw: Mapping[str, Any]) -> RRSet:
    """A record set as ListResourceRecordSets returns it, normalised like the strict layer's."""
    return _parse_change_rrset(raw, "LIST")


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One accepted batch: when it was submitted and when it is in sync (GetChange's
    answer). The zone after it is kept apart, and only until DNS serves a later one."""

    change_id: str
    zone_id: str
    submitted_at: float
    insync_at: float
    comment: str | None

    def status(self, now: float) -> str:
        return "INSYNC" if now >= self.insync_at else "PENDING"


@dataclass
class _ZoneState:
    records: dict[tuple[str, str, str | None], RRSet]
    # Sorted view and its keys, rebuilt only when the records change.
    ordered: list[RRSet] = field(default_factory=list)
    keys: list[tuple[str, str, str]] = field(default_factory=list)
    # The list object we last wrote into moto; if moto's list is another object,
    # something outside this layer changed the zone and we re-import it.
    written: list[RecordSet] | None = None
    changes: list[ChangeRecord] = field(default_factory=list)
    # What DNS serves, in submission order: each change's time in sync and the zone after
    # it, the zone as it was found first (time in sync: -inf); each zone in the order of
    # ``ordered``, so DNS reads it without sorting it again for every question. A zone is
    # dropped once a later one has been in sync for KEEP_SERVED seconds of the clock,
    # which never goes back: the run asks for now or later, so a run keeps the zones of
    # its last minutes of changes, not one zone a change for the whole run.
    served: collections.deque[tuple[float, tuple[RRSet, ...]]] = field(
        default_factory=collections.deque
    )


# How long (clock seconds) a zone is kept after a later one is in sync: questions are
# asked for now or later, and a thread on the real clock may read "now" a moment early.
KEEP_SERVED: Final = 300.0


@dataclass
class StrictConfig:
    clock: Clock
    propagation_delay: float = 0.0


class StrictRoute53:
    """Route 53 semantics over one moto backend's zones.

    The harness reads state through this object (``records``, ``visible_records``,
    ``zone_ids``) without going through boto3, so judging a run never makes AWS
    calls of its own.
    """

    def __init__(self, backend: Route53Backend, config: StrictConfig) -> None:
        self.backend = backend
        self.config = config
        self._zones: dict[str, _ZoneState] = {}
        self._changes: dict[str, ChangeRecord] = {}
        self._counter = 0
        self._served_lock = threading.Lock()

    # ---------------------------------------------------------------- reading

    def zone_ids(self) -> list[str]:
        return sorted(self.backend.zones)

    def zone_name(self, zone_id: str) -> str:
        return normalize_name(self._zone(zone_id).name)

    def records(self, zone_id: str) -> list[RRSet]:
        """The zone's current records, as the control API sees them."""
        return list(self._state(zone_id).ordered)

    def page(
        self,
        zone_id: str,
        start_name: str | None,
        start_type: str | None,
        start_id: str | None,
        max_items: int,
    ) -> tuple[list[RRSet], RRSet | None]:
        """ListResourceRecordSets paging: resume at (name, type, set identifier), no repeats."""
        state = self._state(zone_id)
        begin = 0
        if start_name:
            key = (_reversed_labels(normalize_name(start_name)), start_type or "", start_id or "")
            begin = bisect.bisect_left(state.keys, key)
        end = begin + max_items
        nxt = state.ordered[end] if end < len(state.ordered) else None
        return state.ordered[begin:end], nxt

    def visible_records(self, zone_id: str, at: float | None = None) -> list[RRSet]:
        """The records a Route 53 name server answers from at time ``at`` (now unless
        given; no more than ``KEEP_SERVED`` seconds back): INSYNC changes only."""
        return list(self.served_records(zone_id, at))  # in ListResourceRecordSets order

    def served_records(self, zone_id: str, at: float | None = None) -> tuple[RRSet, ...]:
        """:meth:`visible_records` as the zone's version kept them: the same tuple for as
        long as that version is the one served (a DNS server looks each version up once)."""
        clock = self.config.clock.now()
        now = clock if at is None else at
        served = self._state(zone_id).served
        with self._served_lock:  # DNS servers ask from threads of their own
            _drop_served(served, clock)
            kept = list(served)
        if kept[0][0] > now:
            raise HarnessError(
                f"Route 53's zone {zone_id} as DNS served it at t={now} is no longer kept "
                f"(the clock is at t={clock}): ask for now or later"
            )
        visible = kept[0][1]
        for insync_at, records in kept:
            if insync_at > now:
                break  # a constant delay makes changes go in sync in submission order
            visible = records
        return visible  # kept in ListResourceRecordSets order (sorted when kept)

    def change_log(self, zone_id: str, start: int = 0) -> list[ChangeRecord]:
        """The zone's accepted batches in submission order, from the ``start``-th on."""
        return self._state(zone_id).changes[start:]

    def change_count(self, zone_id: str) -> int:
        """How many batches the zone has accepted (without copying its log)."""
        return len(self._state(zone_id).changes)

    def get_change(self, change_id: str) -> ChangeRecord:
        bare = change_id.split("/")[-1]
        try:
            return self._changes[bare]
        except KeyError:
            raise StrictRoute53Error(
                "NoSuchChange", f"A change with the specified change ID does not exist: {bare}"
            ) from None

    def zone_created(self, zone_id: str) -> ChangeRecord:
        """CreateHostedZone's change: PENDING until propagated, like a record change.

        Its id is its own (moto gives every new zone the same one) and does not
        use the counter of record changes, so their ids stay as they were.
        """
        now = self.config.clock.now()
        record = ChangeRecord(
            change_id=_change_id(zone_id, "create"),
            zone_id=zone_id,
            submitted_at=now,
            insync_at=now + self.config.propagation_delay,
            comment=None,
        )
        self._changes[record.change_id] = record
        return record

    # ---------------------------------------------------------------- writing

    def change_resource_record_sets(
        self, zone_id: str, changes: Sequence[Mapping[str, Any]], comment: str | None = None
    ) -> ChangeRecord:
        zone_id = zone_id.split("/")[-1]
        state = self._state(zone_id)
        zone_name = normalize_name(self._zone(zone_id).name)
        if not changes:
            raise _invalid_input("Invalid request: the change batch has no changes")
        rr_count = 0
        char_count = 0
        bad_values: list[str] = []
        parsed: list[tuple[str, RRSet]] = []
        for change in changes:
            action = str(change.get("Action", ""))
            if action not in ("CREATE", "DELETE", "UPSERT"):
                raise _invalid_input(
                    f"Invalid XML ; cvc-enumeration-valid: Value '{action}' is not facet-valid with "
                    "respect to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the "
                    "enumeration."
                )
            raw = change.get("ResourceRecordSet", {})
            _check_names(raw)
            rrset = _parse_change_rrset(raw, action)
            # Route 53 counts an UPSERT's records and characters twice.
            times = 2 if action == "UPSERT" else 1
            rr_count += len(rrset.values) * times
            char_count += sum(map(len, rrset.values)) * times
            bad_values += value_problems(rrset.type, rrset.values)
            parsed.append((action, rrset))
        if rr_count > MAX_RR_PER_BATCH:
            raise _invalid_change_batch(
                [f"Number of records limit of {MAX_RR_PER_BATCH} exceeded."]
            )
        if char_count > MAX_VALUE_CHARS_PER_BATCH:
            raise _invalid_change_batch(
                [f"RDATA character limit of {MAX_VALUE_CHARS_PER_BATCH} exceeded."]
            )
        if bad_values:
            raise _invalid_change_batch(bad_values)

        working = dict(state.records)
        errors: list[str] = []
        for action, rrset in parsed:
            problem = self._apply_one(zone_id, zone_name, working, action, rrset)
            if problem is not None:
                errors.append(problem)
        if errors:
            # Nothing is applied: the batch is a transaction.
            raise _invalid_change_batch(errors)

        now = self.config.clock.now()
        self._counter += 1
        change_id = _change_id(zone_id, self._counter)
        state.records = working
        self._write_back(zone_id, state)
        record = ChangeRecord(
            change_id=change_id,
            zone_id=zone_id,
            submitted_at=now,
            insync_at=now + self.config.propagation_delay,
            comment=comment,
        )
        with self._served_lock:
            state.served.append((record.insync_at, tuple(state.ordered)))
            _drop_served(state.served, now)  # a run that never asks DNS keeps no more
        state.changes.append(record)
        self._changes[change_id] = record
        return record

    def _apply_one(
        self,
        zone_id: str,
        zone_name: str,
        working: dict[tuple[str, str, str | None], RRSet],
        action: str,
        rrset: RRSet,
    ) -> str | None:
        """Apply one change to ``working``; return Route 53's message if it is invalid."""
        outside = _outside_zone(rrset.name, zone_name)
        if outside is not None:
            return outside
        current = working.get(rrset.key)
        if action == "DELETE":
            if current is None:
                return f"Tried to delete resource record set {rrset.label()} but it was not found"
            if not current.same_values(rrset):
                return (
                    f"Tried to delete resource record set {rrset.label()} "
                    "but the values provided do not match the current values"
                )
            if rrset.name == zone_name and rrset.type in _APEX_GUARDED:
                return _APEX_GUARDED[rrset.type]
            del working[rrset.key]
            return None
        if action == "CREATE" and current is not None:
            return f"Tried to create resource record set {rrset.label()} but it already exists"
        conflict = self._routing_conflict(working, rrset)
        if conflict is not None:
            return conflict
        if current is None and rrset.weight is not None:
            crowd = self._weighted_limit(working, rrset)
            if crowd is not None:
                return crowd
        if rrset.alias is not None:
            missing = self._missing_alias_target(zone_id, working, rrset)
            if missing is not None:
                return missing
        working[rrset.key] = rrset
        return None

    @staticmethod
    def _routing_conflict(
        working: Mapping[tuple[str, str, str | None], RRSet], rrset: RRSet
    ) -> str | None:
        # A name and type is either one simple set or a group of weighted sets.
        for other in working.values():
            if other.name != rrset.name or other.type != rrset.type or other.key == rrset.key:
                continue
            if (other.set_identifier is None) != (rrset.set_identifier is None):
                return (
                    f"RRSet of type {rrset.type} with DNS name {rrset.name} is not permitted "
                    f"because a conflicting RRSet of type {rrset.type} with the same DNS name "
                    "already exists"
                )
        return None

    @staticmethod
    def _weighted_limit(
        working: Mapping[tuple[str, str, str | None], RRSet], rrset: RRSet
    ) -> str | None:
        siblings = sum(
            1
            for other in working.values()
            if other.name == rrset.name and other.type == rrset.type and other.weight is not None
        )
        if siblings < MAX_WEIGHTED_PER_NAME_AND_TYPE:
            return None
        return (
            f"Exceeded limit on number of weighted RRSets for {rrset.name}, type {rrset.type} "
            "in this zone."
        )

    def _missing_alias_target(
        self,
        zone_id: str,
        working: Mapping[tuple[str, str, str | None], RRSet],
        rrset: RRSet,
    ) -> str | None:
        assert rrset.alias is not None
        target_zone = rrset.alias.hosted_zone_id
        if target_zone == zone_id:
            candidates: Iterable[RRSet] = working.values()
        elif target_zone in self.backend.zones:
            candidates = self._state(target_zone).records.values()
        else:
            return None  # an AWS service's zone: not ours to check
        for other in candidates:
            if other.name == rrset.alias.dns_name and other.type == rrset.type:
                return None
        return (
            f"Tried to create an alias that targets {rrset.alias.dns_name}, type {rrset.type} "
            f"in zone {target_zone}, but that target was not found"
        )

    # ---------------------------------------------------------------- moto storage

    def _zone(self, zone_id: str) -> FakeZone:
        zone_id = zone_id.split("/")[-1]
        try:
            return self.backend.zones[zone_id]
        except KeyError:
            raise StrictRoute53Error(
                "NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}"
            ) from None

    def _state(self, zone_id: str) -> _ZoneState:
        zone_id = zone_id.split("/")[-1]
        zone = self._zone(zone_id)
        state = self._zones.get(zone_id)
        if state is None or zone.rrsets is not state.written:
            imported = {rr.key: rr for rr in map(RRSet.from_moto, zone.rrsets)}
            if state is None:
                state = _ZoneState(records=imported)
                first = sorted(imported.values(), key=RRSet.sort_key)
                state.served.append((float("-inf"), tuple(first)))
                self._zones[zone_id] = state
            else:
                state.records = imported
            self._write_back(zone_id, state)
        return state

    def _write_back(self, zone_id: str, state: _ZoneState) -> None:
        state.ordered = sorted(state.records.values(), key=RRSet.sort_key)
        state.keys = [rr.sort_key() for rr in state.ordered]
        written = [rr.moto_record for rr in state.ordered]
        self.backend.zones[zone_id].rrsets = written
        state.written = written


def _drop_served(served: collections.deque[tuple[float, tuple[RRSet, ...]]], clock: float) -> None:
    """Drop the zones no question can reach any more (see ``_ZoneState.served``)."""
    while len(served) > 1 and served[1][0] <= clock - KEEP_SERVED:
        served.popleft()


def _change_id(zone_id: str, counter: int | str) -> str:
    # Deterministic for a given run, unique across zones, shaped like AWS's ids.
    digest = hashlib.sha256(f"{zone_id}/{counter}".encode()).digest()
    return "C" + base64.b32encode(digest).decode()[:13]


# --------------------------------------------------------------------------- install

_lock = threading.RLock()
_active: StrictConfig | None = None
_originals: dict[str, Any] = {}
_STATE_ATTR = "_dnschaos_strict"


def strict_for(backend: Route53Backend) -> StrictRoute53:
    """The strict layer of one moto backend (created on first use)."""
    if _active is None:
        raise RuntimeError("the strict Route 53 layer is not installed; call install() first")
    layer: StrictRoute53 | None = backend.__dict__.get(_STATE_ATTR)
    if layer is None or layer.config is not _active:
        # Kept in the backend's own __dict__ so that moto's reset wipes it too.
        layer = StrictRoute53(backend, _active)
        backend.__dict__[_STATE_ATTR] = layer
    return layer


def is_installed() -> bool:
    return _active is not None


def install(clock: Clock, propagation_delay: float = 0.0) -> StrictConfig:
    """Make every moto Route 53 backend in this process follow Route 53's semantics."""
    global _active
    if propagation_delay < 0:
        raise ValueError(f"propagation_delay={propagation_delay}: must be >= 0 seconds")
    # Imported here: the read handlers use this module's error type.
    from dnschaos.adapters.route53.reads import HANDLERS as READ_HANDLERS

    handlers = {
        "change_resource_record_sets": _strict_change_response,
        "list_resource_record_sets": _strict_list_response,
        "get_change": _strict_get_change_response,
        "create_hosted_zone": _strict_create_zone_response,
        **READ_HANDLERS,
    }
    with _lock:
        if not _originals:
            for name, handler in handlers.items():
                _originals[name] = getattr(Route53Response, name)
                setattr(Route53Response, name, handler)
        _active = StrictConfig(clock=clock, propagation_delay=propagation_delay)
        return _active


def uninstall() -> None:
    """Give moto back its own Route 53 behaviour."""
    global _active
    with _lock:
        for name, fn in _originals.items():
            setattr(Route53Response, name, fn)
        _originals.clear()
        _active = None


@contextmanager
def installed(clock: Clock, propagation_delay: float = 0.0) -> Iterator[StrictConfig]:
    config = install(clock, propagation_delay)
    try:
        yield config
    finally:
        uninstall()


def _submitted_at(when: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(when, tz=dt.UTC)


def change_batch(
    layer: StrictRoute53, zone_id: str, changes: Sequence[Mapping[str, Any]], comment: str | None
) -> dict[str, Any]:
    """Apply one ChangeResourceRecordSets batch; its ChangeInfo (raises before any change)."""
    record = layer.change_resource_record_sets(zone_id, changes, comment)
    now = layer.config.clock.now()
    info: dict[str, Any] = {
        "Id": f"/change/{record.change_id}",
        "Status": record.status(now),
        "SubmittedAt": _submitted_at(record.submitted_at),
    }
    if comment:
        info["Comment"] = comment
    return info


def _strict_change_response(self: Route53Response) -> ActionResult:
    info = change_batch(
        strict_for(self.backend),
        self._get_param("HostedZoneId"),
        self._get_param("ChangeBatch.Changes") or [],
        self._get_param("ChangeBatch.Comment"),
    )
    return ActionResult({"ChangeInfo": info})


def _strict_create_zone_response(self: Route53Response) -> ActionResult:
    problem = zone_name_problem(str(self._get_param("Name") or ""))
    if problem is not None:
        raise StrictRoute53Error("InvalidDomainName", problem)
    response: ActionResult = _originals["create_hosted_zone"](self)
    result = response.result
    assert isinstance(result, dict)
    layer = strict_for(self.backend)
    zone = result["HostedZone"]
    record = layer.zone_created(zone.resource_id)
    result["ChangeInfo"] = {
        "Id": f"/change/{record.change_id}",
        "Status": record.status(layer.config.clock.now()),
        "SubmittedAt": _submitted_at(record.submitted_at),
    }
    delegation = zone.delegation_set
    if result.get("DelegationSet") is not None and delegation is not None and not delegation.id:
        # The zone's own name servers, not a reusable set: Route 53 gives only their names.
        result["DelegationSet"] = {"NameServers": delegation.name_servers}
    return response


def change_info(layer: StrictRoute53, change_id: str) -> dict[str, Any]:
    """GetChange's ChangeInfo for ``change_id`` now (raises NoSuchChange)."""
    record = layer.get_change(change_id)
    now = layer.config.clock.now()
    info: dict[str, Any] = {
        "Id": f"/change/{record.change_id}",
        "Status": record.status(now),
        "SubmittedAt": _submitted_at(record.submitted_at),
    }
    if record.comment:
        info["Comment"] = record.comment
    return info


def _strict_get_change_response(self: Route53Response) -> ActionResult:
    layer = strict_for(self.backend)
    return ActionResult({"ChangeInfo": change_info(layer, self._get_param("Id"))})


def list_page(
    layer: StrictRoute53,
    zone_id: str,
    start_name: str | None,
    start_type: str | None,
    start_id: str | None,
    max_items: str | None,
) -> dict[str, Any]:
    """ListResourceRecordSets' answer, its records as RRSets (raises NoSuchHostedZone)."""
    size = int(max_items or DEFAULT_MAX_ITEMS)
    page, nxt = layer.page(zone_id, start_name, start_type, start_id, size)
    result: dict[str, Any] = {
        "ResourceRecordSets": page,
        "IsTruncated": nxt is not None,
        "MaxItems": str(size),
    }
    if nxt is not None:
        result["NextRecordName"] = nxt.name
        result["NextRecordType"] = nxt.type
        if nxt.set_identifier is not None:
            result["NextRecordIdentifier"] = nxt.set_identifier
    return result


def _strict_list_response(self: Route53Response) -> ActionResult:
    result = list_page(
        strict_for(self.backend),
        self._get_param("HostedZoneId"),
        self._get_param("StartRecordName"),
        self._get_param("StartRecordType"),
        self._get_param("StartRecordIdentifier"),
        self._get_param("MaxItems"),
    )
    result["ResourceRecordSets"] = [rr.to_api() for rr in result["ResourceRecordSets"]]
    return ActionResult(result)
