"""The world a run acts on: hosted zones, the plans table and the fleet."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from dnschaos.adapters.aws.target import AwsTarget
from dnschaos.adapters.dnsserve.dataplane import possible_addresses
from dnschaos.adapters.route53.models import RRSet, StrictRoute53, rrset_from_api
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.workloads.incident2025.fleet import StaticFleet, default_fleet
from dnschaos.workloads.incident2025.plan import Endpoint
from dnschaos.workloads.incident2025.tree import (
    find_zone_id,
    generation_of,
    rollback_name,
    root_name,
)

DEFAULT_ENDPOINTS: Final = (
    # The regional IPv4 and dual-stack endpoints share one plan ("regional").
    Endpoint("dynamodb.us-east-1.chaos.test", "regional", ("A",)),
    Endpoint("dynamodb.us-east-1.api.chaos.test", "regional", ("A", "AAAA")),
    Endpoint("dynamodb-fips.us-east-1.chaos.test", "fips", ("A",)),
)


@dataclass
class World:
    target: AwsTarget
    endpoints: tuple[Endpoint, ...] = DEFAULT_ENDPOINTS
    fleet: StaticFleet = field(default_factory=default_fleet)
    table: str = "dnschaos-plans"
    zone_ids: dict[str, str] = field(default_factory=dict)

    def provision(self) -> World:
        """Create the hosted zones and the plans table (idempotent for zones that exist)."""
        r53 = self.target.client("route53")
        for i, ep in enumerate(self.endpoints):
            try:
                self.zone_ids[ep.name] = find_zone_id(r53, ep)
            except LookupError:
                zone = r53.create_hosted_zone(
                    Name=ep.fqdn, CallerReference=f"dnschaos-{i}-{ep.name}"
                )
                self.zone_ids[ep.name] = str(zone["HostedZone"]["Id"]).split("/")[-1]
        ddb = self.target.client("dynamodb")
        existing = ddb.list_tables().get("TableNames", [])
        if self.table not in existing:
            ddb.create_table(
                TableName=self.table,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "generation", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "generation", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        return self


class Observer:
    """Records what Route 53's control plane holds for each endpoint, when it changes."""

    def __init__(
        self,
        source: StrictRoute53 | Callable[[str], list[RRSet]],
        world: World,
        history: History,
        clock: Clock,
    ) -> None:
        # In-process, the strict layer is read directly and its change log says when
        # to look; against a server, records are listed through the API after every
        # change batch the actors' clients complete (``note_change``).
        self.strict = source if isinstance(source, StrictRoute53) else None
        self._records = source.records if isinstance(source, StrictRoute53) else source
        self.world = world
        self.history = history
        self.clock = clock
        self._last: dict[str, dict[str, Any]] = {}
        self._changes_seen = -1
        self._noted = 0
        # Every observe entry so far, only for readers that want them all (a run of user
        # actors' step invariants): a long run keeps none, its memory stays flat.
        self.keep = False
        self.streaming = False  # someone drains take_new()
        self._entries: list[dict[str, Any]] = []
        self._new: list[dict[str, Any]] = []  # since the last take_new()
        # Endpoint -> when (run seconds) Route 53 began to hold no addresses for it.
        self.empty_since: dict[str, float] = {}
        self.lock = threading.RLock()

    def note_change(self) -> None:
        self._noted += 1

    def entries(self) -> list[dict[str, Any]]:
        """The observe entries so far (kept only with ``keep``)."""
        with self.lock:
            if not self.keep:
                raise RuntimeError("Observer.entries(): the observer keeps no entries (keep=False)")
            return list(self._entries)

    def take_new(self) -> list[dict[str, Any]]:
        """The observe entries since the last call (what the safety streams are fed)."""
        with self.lock:
            out, self._new = self._new, []
            return out

    def observe(self) -> None:
        with self.lock:
            if self.strict is not None:
                total = sum(len(self.strict.change_log(z)) for z in self.world.zone_ids.values())
            else:
                total = self._noted
            if total == self._changes_seen:
                return
            self._changes_seen = total
            for ep in self.world.endpoints:
                state = self._state(ep)
                if state != self._last.get(ep.name):
                    self._last[ep.name] = state
                    entry = self.history.append(
                        "observe", self.clock.now(), endpoint=ep.name, **state
                    )
                    if self.streaming:
                        self._new.append(entry)
                    if self.keep:
                        self._entries.append(entry)
                    empty = state["root"] is not None and (
                        not state["root_exists"] or not all(state["addresses"].values())
                    )
                    if not empty:
                        self.empty_since.pop(ep.name, None)
                    elif ep.name not in self.empty_since:
                        self.empty_since[ep.name] = entry["t"]

    def _state(self, ep: Endpoint) -> dict[str, Any]:
        records = self._records(self.world.zone_ids[ep.name])
        names = {(r.name, r.type) for r in records}

        def pointer(name: str) -> tuple[int | None, bool]:
            rec = next(
                (r for r in records if r.name == name and r.type == ep.record_types[0]), None
            )
            if rec is None or rec.alias is None:
                return None, False
            return generation_of(ep, rec.alias.dns_name), (rec.alias.dns_name, rec.type) in names

        root, root_exists = pointer(root_name(ep))
        rollback, rollback_exists = pointer(rollback_name(ep))
        return {
            "root": root,
            "root_exists": root_exists,
            "addresses": {
                t: len(possible_addresses(records, root_name(ep), t)) for t in ep.record_types
            }
            if root is not None
            else {},
            "rollback": rollback,
            "rollback_exists": rollback_exists,
        }


def api_records(route53: Any) -> Callable[[str], list[RRSet]]:
    """Read a zone's records through the control API (for targets the harness cannot see into)."""

    def read(zone_id: str) -> list[RRSet]:
        out: list[RRSet] = []
        for page in route53.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id
        ):
            out.extend(rrset_from_api(r) for r in page["ResourceRecordSets"])
        return out

    return read
