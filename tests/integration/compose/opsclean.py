"""An ops script that tidies Route 53 by deleting "old" plan trees: every plan record set
older than the newest it can see (KEEP generations kept below it). It knows nothing of which plan
the root points at, so it can delete the active tree while an enactor lags behind.
Written as an operator would: plain boto3 and time.sleep, no dnschaos API."""

from __future__ import annotations

import re
import time
from typing import Any

import boto3

KEEP = 0  # only the newest tree is kept: the one the automation is about to use
PLAN = re.compile(r"^plan-(\d+)\.")


def tidy() -> None:
    r53 = boto3.client("route53")
    for _ in range(40):
        time.sleep(9)
        for zone in r53.list_hosted_zones()["HostedZones"]:
            zid = str(zone["Id"]).split("/")[-1]
            records = _all(r53, zid)
            gens = {int(m[1]) for r in records if (m := PLAN.match(r["Name"]))}
            if not gens:
                continue
            old = [
                r for r in records if (m := PLAN.match(r["Name"])) and int(m[1]) < max(gens) - KEEP
            ]
            if old:
                r53.change_resource_record_sets(
                    HostedZoneId=zid,
                    ChangeBatch={
                        "Comment": "tidy: old plans",
                        "Changes": [{"Action": "DELETE", "ResourceRecordSet": r} for r in old],
                    },
                )


def _all(r53: Any, zid: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zid):
        out += page["ResourceRecordSets"]
    return out
