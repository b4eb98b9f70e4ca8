"""The world a run acts on: hosted zones, the plans table and the fleet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from adapters.aws import AwsTarget
from harness.automation.fleet import StaticFleet, default_fleet
from harness.automation.plan import Endpoint
from harness.automation.tree import find_zone_id

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
