"""What the fast paths keep of an answer they rendered (a record set's XML, an item's JSON)
goes with the record, and moto's record of every object it made keeps none alive: a long
run that keeps rewriting records holds no more of them than its zones and tables do."""

from __future__ import annotations

import gc

from moto.dynamodb.models.dynamo_type import Item
from moto.route53.models import RecordSet

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.route53.models import RRSet
from dnschaos.sim.clock import ManualClock

ZONE = "long.test."
WRITES = 1500


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def test_rendered_record_sets_go_with_the_sets() -> None:
    clock = ManualClock()  # a write every 10 s: DNS's view keeps the last 300 s of zones
    with open_target(TargetSpec("moto"), clock=clock, seed=1) as aws:
        route53 = aws.client("route53")
        zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference="long")["HostedZone"]["Id"]
        before, before_moto = _live(RRSet), _live(RecordSet)
        for i in range(WRITES):
            route53.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": f"www.{ZONE}",
                                "Type": "A",
                                "TTL": 60,
                                "ResourceRecords": [{"Value": f"192.0.2.{i % 250 + 1}"}],
                            },
                        }
                    ]
                },
            )
            clock.sleep(10)
            sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
            assert [r["ResourceRecords"] for r in sets if r["Type"] == "A"] == [
                [{"Value": f"192.0.2.{i % 250 + 1}"}]
            ]
        assert _live(RRSet) - before < 100
        assert _live(RecordSet) - before_moto < 100  # moto's own copies of them too


def test_rendered_items_go_with_the_items() -> None:
    with open_target(TargetSpec("moto"), clock=ManualClock(), seed=1) as aws:
        ddb = aws.client("dynamodb")
        ddb.create_table(
            TableName="plans",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        before = _live(Item)
        for i in range(WRITES):
            ddb.put_item(TableName="plans", Item={"k": {"S": "only"}, "n": {"N": str(i)}})
            got = ddb.get_item(TableName="plans", Key={"k": {"S": "only"}})["Item"]
            assert got["n"] == {"N": str(i)}
        assert _live(Item) - before < 50
