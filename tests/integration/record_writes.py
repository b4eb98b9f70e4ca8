"""A record write as a user's actor makes it, for the tests of user worlds' invariants,
stories and timing, and of long runs: one ChangeResourceRecordSets call through the
actor's own client, or any client."""

from __future__ import annotations

from typing import Any


def change(ctx: Any, action: str, name: str, value: str, zone: str = "example.com") -> None:
    """``action`` (UPSERT, DELETE...) of ``name`` A with one value, in ``zone``."""
    write_a(ctx.client("route53"), ctx.zone_id(zone), action, name, value)


def write_a(route53: Any, zone_id: str, action: str, name: str, value: str) -> None:
    """One ChangeResourceRecordSets call on ``route53``: ``action`` of ``name`` A (TTL 60)
    with the one ``value``, in the zone ``zone_id``."""
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": action,
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
