"""A blue/green switch of www and a janitor with a stale inventory, written the way an SRE
would write them (plain boto3, time.sleep), for the DNS tests of a user's own world.

The deployer creates green, waits, and points www's alias at it; the janitor lists the
zone, finds green missing from its (stale) inventory and deletes it. When the janitor's
delete lands after the flip, www is an alias to nothing: NOERROR with no addresses.
"""

from __future__ import annotations

import time
from typing import Any

import boto3

import dnschaos

ZONE = "example.com."


def _zone_id(r53: Any) -> str:
    return str(r53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]).split("/")[-1]


def deployer() -> None:
    r53 = boto3.client("route53")
    zid = _zone_id(r53)
    green = {
        "Name": "green.example.com",
        "Type": "A",
        "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.20"}],
    }
    r53.change_resource_record_sets(
        HostedZoneId=zid,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": green}]},
    )
    time.sleep(30)  # warm-up checks of green
    www = {
        "Name": "www.example.com",
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": zid,
            "DNSName": "green.example.com",
            "EvaluateTargetHealth": False,
        },
    }
    r53.change_resource_record_sets(
        HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": www}]}
    )


INVENTORY = {"blue.example.com.", "www.example.com.", "example.com."}  # stale: no green


def janitor() -> None:
    r53 = boto3.client("route53")
    zid = _zone_id(r53)
    time.sleep(20)
    for rec in r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]:
        if rec["Type"] == "A" and rec["Name"] not in INVENTORY:
            time.sleep(15)  # double-checks with its ticket system first
            r53.change_resource_record_sets(
                HostedZoneId=zid,
                ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": rec}]},
            )


def simulation(server: str = "knot", resolver: str = "none") -> dnschaos.Simulation:
    sim = dnschaos.Simulation("blue-green", duration=300, ref=f"{__name__}:simulation")
    sim.zone(
        "example.com",
        records=[
            ("blue.example.com", "A", 60, ["192.0.2.10"]),
            {
                "name": "www.example.com",
                "type": "A",
                "alias": {"name": "blue.example.com", "zone": "example.com"},
            },
        ],
    )
    sim.actor("deployer", deployer)
    sim.actor("janitor", janitor)
    sim.dns("www.example.com", server=server, resolver=resolver, negative_ttl=30)
    return sim


def simulation_unbound() -> dnschaos.Simulation:
    sim = simulation("knot", "unbound")
    sim.ref = f"{__name__}:simulation_unbound"
    return sim
