"""An ordinary operations script, and the cron job it races with.

``main`` moves ``www`` of two zones to a new address, one zone at a time, and
waits for Route 53 to report each change INSYNC (polling GetChange with
``time.sleep``), then records the new address in the inventory table.
``cleanup`` is a nightly job: it reads the inventory, waits a little, and
deletes every ``www`` address the inventory does not list.

Both are plain boto3 code: clients from ``boto3.client``, ``time`` and
``random`` from the standard library. dnschaos runs them unmodified as actors
(see ops_script.toml): ``dnschaos run examples/ops_script.toml``.
"""

from __future__ import annotations

import random
import time

import boto3

NEW_ADDRESS = "192.0.2.20"
ZONES = ("example.com.", "example.net.")
INVENTORY = "inventory"


def zone_id(route53, name):
    for zone in route53.list_hosted_zones()["HostedZones"]:
        if zone["Name"] == name:
            return zone["Id"].split("/")[-1]
    raise LookupError(f"no hosted zone {name}")


def wait_insync(route53, change_id, poll=5.0, timeout=600.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if route53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC":
            return
        time.sleep(poll)
    raise TimeoutError(f"change {change_id} not INSYNC after {timeout:.0f}s")


def main():
    route53 = boto3.client("route53")
    dynamodb = boto3.client("dynamodb")
    for zone in ZONES:
        response = route53.change_resource_record_sets(
            HostedZoneId=zone_id(route53, zone),
            ChangeBatch={
                "Comment": "move www",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": "www." + zone,
                            "Type": "A",
                            "TTL": 60,
                            "ResourceRecords": [{"Value": NEW_ADDRESS}],
                        },
                    }
                ],
            },
        )
        wait_insync(route53, response["ChangeInfo"]["Id"])
        dynamodb.put_item(
            TableName=INVENTORY, Item={"name": {"S": "www." + zone}, "address": {"S": NEW_ADDRESS}}
        )


def cleanup():
    route53 = boto3.client("route53")
    dynamodb = boto3.client("dynamodb")
    known = {
        item["name"]["S"]: item["address"]["S"]
        for item in dynamodb.scan(TableName=INVENTORY)["Items"]
    }
    time.sleep(random.uniform(0, 40))  # jitter, as cron jobs do
    for zone in ZONES:
        zid = zone_id(route53, zone)
        records = route53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
        for rrset in records:
            if rrset["Type"] != "A" or not rrset["Name"].startswith("www."):
                continue
            values = [r["Value"] for r in rrset["ResourceRecords"]]
            if known.get(rrset["Name"]) not in values:
                route53.change_resource_record_sets(
                    HostedZoneId=zid,
                    ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": rrset}]},
                )


def www_answers(view):
    """The user's invariant: www of every zone always answers with an address."""
    for zone in ZONES:
        if not view.answer("www." + zone, "A"):
            return f"www.{zone} answers with no address"
    return None


def broken():
    """An actor with a bug: for the default invariant no-actor-error."""
    route53 = boto3.client("route53")
    zones = route53.list_hosted_zones()["HostedZones"]
    return zones[0]["Config"]["Comment"]  # KeyError: zones created without a comment
