"""Making the world a scenario describes: hosted zones (their initial records in sync from
the start) and DynamoDB tables, and the user's setup function."""

from __future__ import annotations

from typing import Any

from dnschaos.adapters.route53.models import AliasTarget, RRSet, normalize_name
from dnschaos.errors import UsageError
from dnschaos.world.binding import harness_scope
from dnschaos.world.config import RecordSpec, Ref, WorldSpec, load_ref, where


def run_setup(ref: Ref, aws: Any, zones: dict[str, str]) -> None:
    """The user's setup function, with uninstrumented clients, before any actor runs."""
    setup = load_ref(ref, "setup")
    try:
        with harness_scope():
            setup(SetupClients(aws, zones))
    except Exception as exc:  # the user's set-up, not the harness, is broken
        raise UsageError(
            f"setup {ref if isinstance(ref, str) else setup.__name__}: "
            f"raised {type(exc).__name__}: {exc} (at {where(exc)}); nothing ran"
        ) from exc


class SetupClients:
    """What a setup function is given: uninstrumented clients of the run's world."""

    def __init__(self, aws: Any, zones: dict[str, str]) -> None:
        self._aws = aws
        self.zones = dict(zones)
        self.route53 = aws.client("route53")
        self.dynamodb = aws.client("dynamodb")

    def client(self, service: str) -> Any:
        return self._aws.client(service)


def provision(aws: Any, byo: WorldSpec) -> dict[str, str]:
    """The zones (initial records in sync from the start: they are there before the strict
    layer first looks) and the tables with their items."""
    from boto3.dynamodb.types import TypeSerializer
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.route53.models import route53_backends

    r53 = aws.client("route53")
    backend = route53_backends[DEFAULT_ACCOUNT_ID]["aws"]
    zone_ids: dict[str, str] = {}
    for i, zone in enumerate(byo.zones):
        made = r53.create_hosted_zone(Name=zone.fqdn, CallerReference=f"dnschaos-byo-{i}")
        zone_id = str(made["HostedZone"]["Id"]).split("/")[-1]
        zone_ids[normalize_name(zone.fqdn)] = zone_id
    # Records after every zone exists: an alias may point into any zone of the world.
    for zone in byo.zones:
        rrsets = backend.zones[zone_ids[normalize_name(zone.fqdn)]].rrsets
        for rec in zone.records:
            rrsets.append(_rrset(rec, zone_ids).to_moto())
    ddb = aws.client("dynamodb")
    serialize = TypeSerializer().serialize
    for table in byo.tables:
        keys = [{"AttributeName": table.key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": table.key, "AttributeType": "S"}]
        if table.sort_key:
            keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": table.sort_key, "AttributeType": "S"})
        ddb.create_table(
            TableName=table.name,
            KeySchema=keys,
            AttributeDefinitions=attrs,
            BillingMode="PAY_PER_REQUEST",
        )
        for item in table.items:
            ddb.put_item(
                TableName=table.name,
                Item={k: serialize(_decimal(v)) for k, v in item.items()},
            )
    return zone_ids


def _rrset(rec: RecordSpec, zone_ids: dict[str, str]) -> RRSet:
    alias = None
    if rec.alias is not None:
        # A zone of the world by its name, else a hosted zone id as given.
        zone = zone_ids.get(normalize_name(rec.alias.zone), rec.alias.zone)
        alias = AliasTarget(zone, normalize_name(rec.alias.name), rec.alias.evaluate_target_health)
    return RRSet(
        name=normalize_name(rec.name),
        type=rec.type,
        set_identifier=rec.set_identifier,
        weight=rec.weight,
        ttl=None if alias is not None else rec.ttl,
        values=() if alias is not None else rec.values,
        alias=alias,
    )


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal(v) for v in value]
    return value


__all__ = ["SetupClients", "provision", "run_setup"]
