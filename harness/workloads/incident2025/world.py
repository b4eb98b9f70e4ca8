"""incident-2025's part of a run's world: the endpoints' hosted zones, the plans table and
the fleet, and the watcher that records what Route 53 holds for each endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from dnschaos.adapters.aws.target import AwsTarget
from dnschaos.adapters.dnsserve.dataplane import possible_addresses
from dnschaos.adapters.route53.models import RRSet
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
    watcher: Any = None  # EndpointWatcher: what Route 53 holds for each endpoint
    script: Any = None  # scripted.Script: the turns of the scripted race, when it is one

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


class EndpointWatcher:
    """Records what Route 53's control plane holds for each endpoint, when it changes: an
    ``observe`` entry with the root's target and whether it exists, how many addresses
    the root can answer with, and the rollback record's target."""

    def __init__(
        self,
        records: Callable[[str], list[RRSet]],
        world: World,
        history: History,
        clock: Clock,
    ) -> None:
        self._records = records
        self.world = world
        self.history = history
        self.clock = clock
        self._last: dict[str, dict[str, Any]] = {}
        self._changes_seen = -1
        # Endpoint -> when (run seconds) Route 53 began to hold no addresses for it.
        self.empty_since: dict[str, float] = {}

    def observe(self, changes: Callable[[Iterable[str]], int]) -> list[dict[str, Any]]:
        total = changes(self.world.zone_ids.values())
        if total == self._changes_seen:
            return []
        self._changes_seen = total
        out = []
        for ep in self.world.endpoints:
            state = self._state(ep)
            if state == self._last.get(ep.name):
                continue
            self._last[ep.name] = state
            entry = self.history.append("observe", self.clock.now(), endpoint=ep.name, **state)
            out.append(entry)
            empty = state["root"] is not None and (
                not state["root_exists"] or not all(state["addresses"].values())
            )
            if not empty:
                self.empty_since.pop(ep.name, None)
            elif ep.name not in self.empty_since:
                self.empty_since[ep.name] = entry["t"]
        return out

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
