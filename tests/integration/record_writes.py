"""A record write as a user's actor makes it, for the tests of user worlds' invariants,
stories and timing: one ChangeResourceRecordSets call through the actor's own client."""

from __future__ import annotations

from typing import Any


def change(ctx: Any, action: str, name: str, value: str, zone: str = "example.com") -> None:
    """``action`` (UPSERT, DELETE...) of ``name`` A with one value, in ``zone``."""
    ctx.client("route53").change_resource_record_sets(
        HostedZoneId=ctx.zone_id(zone),
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
