"""Add this process's value to a TXT record: read it, append, UPSERT, wait for INSYNC.

A plain boto3 script, run by dnschaos as a separate process (see txt_race.toml). Two of
them on one name lose an update when both read before either writes.

    python txt_append.py _tally.example.com. a
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import boto3


def main(name: str, value: str) -> None:
    route53 = boto3.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
    zone = zones[0]["Id"]
    found = route53.list_resource_record_sets(
        HostedZoneId=zone, StartRecordName=name, StartRecordType="TXT", MaxItems="1"
    )["ResourceRecordSets"]
    values = [
        r["Value"]
        for s in found
        if s["Name"] == name and s["Type"] == "TXT"
        for r in s["ResourceRecords"]
    ]
    values.append(f'"{value}"')
    change = route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "TXT",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": v} for v in values],
                    },
                }
            ]
        },
    )
    change_id = change["ChangeInfo"]["Id"]
    while route53.get_change(Id=change_id)["ChangeInfo"]["Status"] != "INSYNC":
        time.sleep(5)  # on the run's virtual clock: dnschaos answers this sleep
    print(f"{value}: {len(values)} values, INSYNC at {time.time():.0f}")


def appender(name: str, value: str) -> Callable[[], None]:
    """The same script as an in-process actor (boto3 and time.sleep are the run's there)."""
    return lambda: main(name, value)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
