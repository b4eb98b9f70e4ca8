"""A long run holds no more of its records than its zones and tables do: DNS's view of a
zone is kept for the last minutes of changes only, what the fast paths rendered (a record
set's XML, an item's JSON) goes with the record, and moto's record of every object it
made keeps none alive."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import Item
from moto.route53.models import RecordSet

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.route53.models import KEEP_SERVED, RRSet
from dnschaos.errors import HarnessError
from dnschaos.sim.clock import ManualClock
from tests.integration.record_writes import write_a

ZONE = "long.test."
WRITES = 1500


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def _upsert(route53: Any, zone_id: str, name: str, i: int) -> None:
    """An UPSERT of ``name`` A with the ``i``-th of 250 addresses."""
    write_a(route53, zone_id, "UPSERT", name, _address(i))


def _address(i: int) -> str:
    return f"192.0.2.{i % 250 + 1}"


def test_a_long_run_keeps_only_its_last_minutes_of_zones() -> None:
    # Every change used to keep the whole zone after it for the rest of the run: memory
    # that grew with the run's length, and a scan of them all for every DNS answer.
    clock = ManualClock()
    with open_target(TargetSpec("moto"), clock=clock, propagation_delay=60, seed=1) as aws:
        route53 = aws.client("route53")
        zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference="served")["HostedZone"][
            "Id"
        ].split("/")[-1]
        strict = aws.strict_route53()

        def served(at: float | None = None) -> tuple[str, ...]:
            found = [r for r in strict.visible_records(zone_id, at) if r.type == "A"]
            return found[0].values if found else ()

        for i in range(400):  # a change every 10 s for 4000 s, each in sync after 60 s
            _upsert(route53, zone_id, ZONE, i)
            clock.sleep(10)
            newest = i - 5  # the last change whose 60 s were over at 10 (i + 1)
            assert served() == ((_address(newest),) if newest >= 0 else ())
        kept = strict._state(zone_id).served
        assert len(kept) <= KEEP_SERVED / 10 + 60 / 10 + 2, len(kept)
        # Asked for a moment before now (a thread on the real clock), or for later, it answers.
        assert served(clock.now() - 100) == (_address(384),)  # 10 j + 60 <= 3900
        assert served(clock.now() + 60) == (_address(399),)
        # Asked for an hour ago, it says so instead of answering from a zone it dropped.
        with pytest.raises(HarnessError, match="no longer kept"):
            strict.visible_records(zone_id, clock.now() - 3600)
        assert len(strict.change_log(zone_id)) == 400  # GetChange still knows every change


def test_rendered_record_sets_go_with_the_sets() -> None:
    clock = ManualClock()  # a write every 10 s: DNS's view keeps the last 300 s of zones
    with open_target(TargetSpec("moto"), clock=clock, seed=1) as aws:
        route53 = aws.client("route53")
        zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference="long")["HostedZone"]["Id"]
        before, before_moto = _live(RRSet), _live(RecordSet)
        for i in range(WRITES):
            _upsert(route53, zone_id, f"www.{ZONE}", i)
            clock.sleep(10)
            sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
            assert [r["ResourceRecords"] for r in sets if r["Type"] == "A"] == [
                [{"Value": _address(i)}]
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
