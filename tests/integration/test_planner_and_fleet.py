from __future__ import annotations

import boto3
from moto import mock_aws

from dnschaos.adapters.aws.target import FAKE_CREDENTIALS
from dnschaos.workloads.incident2025.fleet import TAG_CAPACITY, TAG_IPV4, TAG_IPV6, Elbv2Fleet
from dnschaos.workloads.incident2025.plan import Plan
from dnschaos.workloads.incident2025.planner import Planner
from tests.integration.conftest import Rig


def test_planner_writes_increasing_generations(rig: Rig) -> None:
    assert [rig.planner.step() for _ in range(3)] == [1, 2, 3]
    items = rig.target.client("dynamodb").scan(TableName=rig.world.table)["Items"]
    plans = sorted(Plan.from_item(i).generation for i in items)
    assert plans == [1, 2, 3]


def test_a_generation_is_written_once(rig: Rig) -> None:
    rig.planner.step()
    rival = Planner(
        "planner-2",
        dynamodb=rig.target.client("dynamodb", actor="planner-2"),
        fleet=rig.world.fleet,
        config=rig.planner.config,
        clock=rig.clock,
        events=rig.log,
    )
    # Both read "newest is 1"; the rival writes 2 first, ours must lose, not overwrite.
    rig.planner.newest_generation = lambda: 1  # type: ignore[method-assign]
    assert rival.step() == 2
    rig.clock.sleep(5)
    assert rig.planner.step() is None
    assert (
        "another planner wrote this generation" in rig.log.of_kind("no-plan")[-1].fields["reason"]
    )
    items = rig.target.client("dynamodb").scan(TableName=rig.world.table)["Items"]
    two = [Plan.from_item(i) for i in items if i["generation"]["N"] == "2"]
    assert len(two) == 1 and two[0].created_at == rig.clock.start


def test_unhealthy_load_balancer_gets_weight_zero(rig: Rig) -> None:
    rig.world.fleet.set_health("lb-002", False)
    rig.planner.step()
    plan = rig.enactor("enactor-a").newest_plan()
    assert plan is not None
    weights = {t.lb_id: t.weight for t in plan.targets("regional")}
    assert weights["lb-002"] == 0 and weights["lb-001"] == 100


def test_fleet_from_elbv2_network_load_balancers() -> None:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1", **FAKE_CREDENTIALS)
        elbv2 = boto3.client("elbv2", region_name="us-east-1", **FAKE_CREDENTIALS)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a"
        )["Subnet"]["SubnetId"]
        for i, cap in ((1, "40"), (2, "200")):
            elbv2.create_load_balancer(
                Name=f"ddb-nlb-{i}",
                Subnets=[subnet],
                Type="network",
                Scheme="internal",
                Tags=[
                    {"Key": TAG_IPV4, "Value": f"192.0.2.{i}"},
                    {"Key": TAG_IPV6, "Value": f"2001:db8::{i}"},
                    {"Key": TAG_CAPACITY, "Value": cap},
                ],
            )
        elbv2.create_load_balancer(
            Name="unrelated", Subnets=[subnet], Type="network", Scheme="internal"
        )
        lbs = Elbv2Fleet(elbv2).load_balancers()
    assert [(lb.lb_id, lb.ipv4, lb.weight) for lb in lbs] == [
        ("ddb-nlb-1", "192.0.2.1", 40),
        ("ddb-nlb-2", "192.0.2.2", 200),
    ]
