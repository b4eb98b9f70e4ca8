"""Actors, invariants and simulations for tests/integration/test_byo.py: plain user code."""

from __future__ import annotations

import datetime
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from time import sleep as nap
from typing import Any

import boto3

import dnschaos
from dnschaos.invariants import converges_to, never_empty

ZONE = "example.com."


def zone_id(route53: Any, name: str = ZONE) -> str:
    for zone in route53.list_hosted_zones()["HostedZones"]:
        if zone["Name"] == name:
            return str(zone["Id"]).split("/")[-1]
    raise LookupError(name)


def upsert(route53: Any, name: str, value: str) -> None:
    route53.change_resource_record_sets(
        HostedZoneId=zone_id(route53),
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )


def clocks() -> None:
    """Reads time, datetime and random as ordinary code does, and records what it saw."""
    t0, m0 = time.time(), time.monotonic()
    time.sleep(120)
    nap(10)  # bound before the run: rebound for it, as this module is the actor's
    seen = {
        "slept": round(time.time() - t0, 3),
        "monotonic": round(time.monotonic() - m0, 3),
        "year": datetime.datetime.now().year,
        "draw": random.random(),
    }
    ddb = boto3.client("dynamodb", region_name="eu-west-1")
    ddb.put_item(
        TableName="seen",
        Item={"pk": {"S": "clocks"}, **{k: {"S": repr(v)} for k, v in seen.items()}},
    )


def threads() -> None:
    """Starts threads and a thread pool; each thread makes its own client and writes."""
    route53 = boto3.client("route53")

    def work(i: int) -> str:
        time.sleep(random.uniform(1, 5))
        upsert(boto3.client("route53"), f"t{i}.example.com.", f"192.0.2.{10 + i}")
        return f"t{i}"

    started = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = sorted(f.result() for f in as_completed([pool.submit(work, i) for i in (2, 3)]))
    assert done == ["t2", "t3"], done
    upsert(route53, "www.example.com.", "192.0.2.99")


def raises() -> None:
    route53 = boto3.client("route53")
    zones = route53.list_hosted_zones()["HostedZones"]
    print(zones[0]["Config"]["Comment"])  # KeyError: no comment


def flipper(ctx: Any) -> None:
    """Empties www for a while: a ctx-style actor."""
    route53 = ctx.client("route53")
    rrset = {"Name": "www.example.com.", "Type": "A", "TTL": 60}
    rrset["ResourceRecords"] = [{"Value": "192.0.2.1"}]
    route53.change_resource_record_sets(
        HostedZoneId=ctx.zone_id(ZONE),
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": rrset}]},
    )
    ctx.sleep(30)
    upsert(route53, "www.example.com.", "192.0.2.2")


def www_has_address(view: Any) -> str | None:
    if not view.record("www.example.com", "A"):
        return "www.example.com has no A record"
    return None


def flipping() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("flipping", duration=120)
    sim.zone("example.com", records=[("www.example.com", "A", 60, ["192.0.2.1"])])
    sim.actor("flipper", flipper)
    sim.invariant(www_has_address)
    sim.invariant(never_empty("www.example.com", "A"))
    sim.invariant(converges_to({"www.example.com": "192.0.2.2"}), name="converges")
    return sim


def threaded() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("threaded", duration=300)
    sim.zone("example.com", records=[("www.example.com", "A", 60, ["192.0.2.1"])])
    sim.actor("boss", threads)
    sim.invariant(
        converges_to({f"t{i}.example.com": f"192.0.2.{10 + i}" for i in range(4)}),
        name="all-written",
    )
    return sim


def seed_jobs(world: Any) -> None:
    """Setup: plain clients of the world, before any actor starts."""
    world.dynamodb.put_item(TableName="jobs", Item={"pk": {"S": "job-1"}, "state": {"S": "new"}})


def take_jobs() -> None:
    """Claims every new job through boto3.resource, as ordinary code might."""
    table = boto3.resource("dynamodb").Table("jobs")
    for item in table.scan()["Items"]:
        if item["state"] == "new":
            table.put_item(Item={**item, "state": "taken", "by": "worker"})


def jobs_never_lost(view: Any) -> str | None:
    if len(view.items("jobs")) != 1:
        return f"jobs: {view.items('jobs')}"
    return None


def jobs() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("jobs", duration=60)
    sim.table("jobs")
    sim.setup(seed_jobs)
    sim.actor("worker", take_jobs)
    sim.invariant(jobs_never_lost)
    return sim


def waits() -> None:
    """Waits for a change with botocore's own waiter (its time.sleep is the run's)."""
    route53 = boto3.client("route53")
    zone = zone_id(route53)
    response = route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "b.example.com.",
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "192.0.2.8"}],
                    },
                }
            ]
        },
    )
    route53.get_waiter("resource_record_sets_changed").wait(Id=response["ChangeInfo"]["Id"])


def waiting() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("waiting", duration=300, propagation_delay=45)
    sim.zone("example.com")
    sim.actor("w", waits)
    return sim


def drain_green() -> None:
    """Read the weighted sets and the alias as a tool would, note them, then take green out."""
    route53 = boto3.client("route53")
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id(route53))["ResourceRecordSets"]
    seen = boto3.client("dynamodb")
    for s in sets:
        if s.get("SetIdentifier") or s.get("AliasTarget"):
            seen.put_item(
                TableName="seen",
                Item={
                    "pk": {"S": f"{s['Name']} {s.get('SetIdentifier', 'alias')}"},
                    "weight": {"S": str(s.get("Weight", "-"))},
                    "target": {"S": str(s.get("AliasTarget", {}).get("DNSName", "-"))},
                },
            )
    green = next(s for s in sets if s.get("SetIdentifier") == "green")
    route53.change_resource_record_sets(
        HostedZoneId=zone_id(route53),
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": green}]},
    )


# A blue/green pool of weighted sets and an alias to it, as Route 53 lists them.
WEIGHTED_POOL: list[dict[str, Any]] = [
    {
        "name": "lb.example.com",
        "type": "A",
        "ttl": 60,
        "values": ["192.0.2.10"],
        "set_identifier": "blue",
        "weight": 90,
    },
    {
        "name": "lb.example.com",
        "type": "A",
        "ttl": 60,
        "values": ["192.0.2.20"],
        "set_identifier": "green",
        "weight": 10,
    },
    {
        "name": "www.example.com",
        "type": "A",
        "alias": {"name": "lb.example.com", "zone": ZONE},
    },
]


def weighted() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("weighted", duration=120)
    sim.zone(ZONE, records=WEIGHTED_POOL)
    sim.table("seen", items=[])
    sim.actor("drain", drain_green)
    sim.invariant(never_empty("www.example.com"))
    return sim
