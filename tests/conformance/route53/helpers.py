"""Record builders and a zone handle for the Route 53 conformance tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dnschaos.sim.clock import ManualClock


@dataclass
class Zone:
    client: Any
    zone_id: str
    name: str
    clock: ManualClock

    def change(self, *changes: dict[str, Any]) -> dict[str, Any]:
        return dict(
            self.client.change_resource_record_sets(
                HostedZoneId=self.zone_id, ChangeBatch={"Changes": list(changes)}
            )
        )

    def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.client.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=self.zone_id
        ):
            out.extend(page["ResourceRecordSets"])
        return out

    def find(self, name: str, rtype: str, set_id: str | None = None) -> dict[str, Any] | None:
        fq = name if name.endswith(".") else name + "."
        for r in self.records():
            if r["Name"] == fq and r["Type"] == rtype and r.get("SetIdentifier") == set_id:
                return r
        return None

    def fq(self, label: str) -> str:
        return f"{label}.{self.name}"


def a_record(name: str, *values: str, ttl: int = 60) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "A",
        "TTL": ttl,
        "ResourceRecords": [{"Value": v} for v in values],
    }


def txt_record(name: str, value: str, ttl: int = 1) -> dict[str, Any]:
    return {"Name": name, "Type": "TXT", "TTL": ttl, "ResourceRecords": [{"Value": value}]}


def alias_record(name: str, zone_id: str, target: str, rtype: str = "A") -> dict[str, Any]:
    return {
        "Name": name,
        "Type": rtype,
        "AliasTarget": {"HostedZoneId": zone_id, "DNSName": target, "EvaluateTargetHealth": False},
    }


def weighted(record: dict[str, Any], set_id: str, weight: int) -> dict[str, Any]:
    return {**record, "SetIdentifier": set_id, "Weight": weight}


def create(rr: dict[str, Any]) -> dict[str, Any]:
    return {"Action": "CREATE", "ResourceRecordSet": rr}


def delete(rr: dict[str, Any]) -> dict[str, Any]:
    return {"Action": "DELETE", "ResourceRecordSet": rr}


def upsert(rr: dict[str, Any]) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": rr}
