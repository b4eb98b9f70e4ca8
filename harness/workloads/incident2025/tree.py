"""The record tree of one endpoint, and a read of a zone through the control API.

Names are readable (production uses UUIDs):

    ENDPOINT.                      root: alias to the active plan record
    rollback.ENDPOINT.             alias to the previously active plan record
    _lock.ENDPOINT.                TXT lock: holder and expiry
    plan-G.ENDPOINT.               plan record: weighted aliases, one per load balancer
    LB.plan-G.ENDPOINT.            leaf: the load balancer's address

A tree (plan record and its leaves) is written once per generation and deleted
by clean-up; the root and rollback records are the only ones ever repointed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dnschaos.workloads.incident2025.lock import LockValue
from dnschaos.workloads.incident2025.plan import Endpoint, Plan

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

DEFAULT_LEAF_TTL = 60  # (assumed) seconds
_PLAN_LABEL = re.compile(r"^plan-(\d+)\.")


def root_name(ep: Endpoint) -> str:
    return ep.fqdn


def rollback_name(ep: Endpoint) -> str:
    return f"rollback.{ep.fqdn}"


def lock_name(ep: Endpoint) -> str:
    return f"_lock.{ep.fqdn}"


def plan_name(ep: Endpoint, generation: int) -> str:
    return f"plan-{generation}.{ep.fqdn}"


def leaf_name(ep: Endpoint, generation: int, lb_id: str) -> str:
    return f"{lb_id}.plan-{generation}.{ep.fqdn}"


def generation_of(ep: Endpoint, name: str) -> int | None:
    """The generation of a plan record or leaf name, or None for other names."""
    name = name.lower()
    if not name.endswith("." + ep.fqdn):
        return None
    head = name[: -len(ep.fqdn)]
    parts = head.rstrip(".").split(".")
    label = parts[-1] if parts else ""
    m = _PLAN_LABEL.match(label + ".")
    return int(m.group(1)) if m else None


def alias(zone_id: str, target: str) -> dict[str, Any]:
    return {"HostedZoneId": zone_id, "DNSName": target, "EvaluateTargetHealth": False}


def alias_record(name: str, rtype: str, zone_id: str, target: str) -> dict[str, Any]:
    return {"Name": name, "Type": rtype, "AliasTarget": alias(zone_id, target)}


def tree_changes(
    ep: Endpoint, zone_id: str, plan: Plan, leaf_ttl: int = DEFAULT_LEAF_TTL
) -> list[dict[str, Any]]:
    """CREATE changes for one generation's tree: leaves first, since aliases need their targets."""
    targets = plan.targets(ep.plan_key)
    changes: list[dict[str, Any]] = []
    for rtype in ep.record_types:
        for t in targets:
            changes.append(
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": leaf_name(ep, plan.generation, t.lb_id),
                        "Type": rtype,
                        "TTL": leaf_ttl,
                        "ResourceRecords": [{"Value": t.address(rtype)}],
                    },
                }
            )
    for rtype in ep.record_types:
        for t in targets:
            record = alias_record(
                plan_name(ep, plan.generation),
                rtype,
                zone_id,
                leaf_name(ep, plan.generation, t.lb_id),
            )
            record["SetIdentifier"] = t.lb_id
            record["Weight"] = t.weight
            changes.append({"Action": "CREATE", "ResourceRecordSet": record})
    return changes


def _norm(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."


class ZoneSnapshot:
    """One read of an endpoint's zone: everything an enactor decides from."""

    def __init__(self, ep: Endpoint, zone_id: str, records: Iterable[dict[str, Any]]) -> None:
        self.ep = ep
        self.zone_id = zone_id
        self.records = list(records)
        self._index: dict[tuple[str, str, str | None], dict[str, Any]] = {
            (_norm(r["Name"]), r["Type"], r.get("SetIdentifier")): r for r in self.records
        }

    def get(self, name: str, rtype: str, set_id: str | None = None) -> dict[str, Any] | None:
        return self._index.get((_norm(name), rtype, set_id))

    def root(self, rtype: str) -> dict[str, Any] | None:
        return self.get(root_name(self.ep), rtype)

    def rollback(self, rtype: str) -> dict[str, Any] | None:
        return self.get(rollback_name(self.ep), rtype)

    def lock(self) -> dict[str, Any] | None:
        return self.get(lock_name(self.ep), "TXT")

    def lock_value(self) -> LockValue | None:
        rec = self.lock()
        if rec is None:
            return None
        return LockValue.parse(rec["ResourceRecords"][0]["Value"])

    def target_generation(self, record: dict[str, Any] | None) -> int | None:
        if record is None or "AliasTarget" not in record:
            return None
        return generation_of(self.ep, _norm(record["AliasTarget"]["DNSName"]))

    def root_generation(self, rtype: str = "A") -> int | None:
        return self.target_generation(self.root(rtype))

    def rollback_generation(self, rtype: str = "A") -> int | None:
        return self.target_generation(self.rollback(rtype))

    def tree_generations(self) -> set[int]:
        """Generations whose plan record exists (for any record type)."""
        gens: set[int] = set()
        for r in self.records:
            if "SetIdentifier" in r and _norm(r["Name"]).startswith("plan-"):
                g = generation_of(self.ep, _norm(r["Name"]))
                if g is not None:
                    gens.add(g)
        return gens

    def has_tree(self, generation: int) -> bool:
        name = plan_name(self.ep, generation)
        return all(
            any(_norm(r["Name"]) == name and r["Type"] == t for r in self.records)
            for t in self.ep.record_types
        )

    def tree_records(self, generation: int) -> list[dict[str, Any]]:
        """The exact records of one tree, plan records before leaves (delete order)."""
        plan_recs, leaves = [], []
        pname = plan_name(self.ep, generation)
        for r in self.records:
            n = _norm(r["Name"])
            if n == pname:
                plan_recs.append(r)
            elif n.endswith("." + pname):
                leaves.append(r)
        return plan_recs + leaves


def read_zone(route53: Route53Client, ep: Endpoint, zone_id: str) -> ZoneSnapshot:
    """Read the whole zone through the control API (paginated)."""
    records: list[dict[str, Any]] = []
    paginator = route53.get_paginator("list_resource_record_sets")
    for page in paginator.paginate(HostedZoneId=zone_id):
        records.extend(dict(r) for r in page["ResourceRecordSets"])
    return ZoneSnapshot(ep, zone_id, records)


def read_rrsets(
    route53: Route53Client,
    zone_id: str,
    name: str,
    rtypes: str | tuple[str, ...],
    max_items: int = 10,
) -> list[dict[str, Any]]:
    """The record sets of ``name`` with any of ``rtypes``, read from where they sort.

    Types sort alphabetically under one name (A before AAAA), so one read starting
    at the first type returns them together.
    """
    types = (rtypes,) if isinstance(rtypes, str) else tuple(sorted(rtypes))
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "HostedZoneId": zone_id,
        "StartRecordName": name,
        "StartRecordType": types[0],
        "MaxItems": str(max_items),
    }
    while True:
        resp = route53.list_resource_record_sets(**kwargs)
        for r in resp["ResourceRecordSets"]:
            if _norm(r["Name"]) != _norm(name) or r["Type"] > types[-1]:
                return out
            if r["Type"] in types:
                out.append(dict(r))
        if not resp.get("IsTruncated"):
            return out
        kwargs["StartRecordName"] = resp["NextRecordName"]
        kwargs["StartRecordType"] = resp["NextRecordType"]
        if "NextRecordIdentifier" in resp:
            kwargs["StartRecordIdentifier"] = resp["NextRecordIdentifier"]


def find_zone_id(route53: Route53Client, ep: Endpoint) -> str:
    """The hosted zone whose name is the endpoint's name."""
    resp = route53.list_hosted_zones_by_name(DNSName=ep.fqdn, MaxItems="1")
    for zone in resp.get("HostedZones", []):
        if _norm(zone["Name"]) == ep.fqdn:
            return str(zone["Id"]).split("/")[-1]
    raise LookupError(f"no hosted zone named {ep.fqdn}; create it before running enactors")
