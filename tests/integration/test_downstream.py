"""The downstream actor on moto: droplets as EC2 hosts, launches, NLB target health."""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.history import History
from dnschaos.sim.clock import ManualClock
from dnschaos.workloads.incident2025.downstream.actor import DownstreamActor
from dnschaos.workloads.incident2025.downstream.model import CascadeConfig

SCENARIOS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


@pytest.fixture
def actor() -> Iterator[tuple[DownstreamActor, ManualClock]]:
    clock = ManualClock()
    with open_target(TargetSpec("moto"), clock=clock, seed=1) as aws:
        a = DownstreamActor(
            CascadeConfig(droplets=6, dwfm_hosts=2),
            ec2=aws.client("ec2"),
            elbv2=aws.client("elbv2"),
            clock=clock,
            history=History(clock.now(), clock),
            server=("127.0.0.1", 9),  # unused: these tests drive the model directly
            name="dynamodb.us-east-1.chaos.test.",
        )
        a.provision()
        yield a, clock


def _tick(a: DownstreamActor, clock: ManualClock, reachable: bool) -> dict[str, Any]:
    clock.sleep(a.config.tick)
    return a.model.advance(clock.now(), reachable, launch=a._launch)


def test_droplets_are_ec2_hosts_and_launches_land_on_them(
    actor: tuple[DownstreamActor, ManualClock],
) -> None:
    a, clock = actor
    hosts = a.ec2.describe_hosts()["Hosts"]
    assert len(hosts) >= a.config.droplets
    assert set(a.hosts.values()) <= {h["HostId"] for h in hosts}
    launched = sum(_tick(a, clock, True)["launched"] for _ in range(3))
    assert launched == 3 == len(a.instances)
    reservations = a.ec2.describe_instances()["Reservations"]
    assert sum(len(r["Instances"]) for r in reservations) == 3


def test_launches_fail_with_insufficient_capacity_when_no_lease_is_live(
    actor: tuple[DownstreamActor, ManualClock],
) -> None:
    a, clock = actor
    lease = a.config.dwfm.lease_timeout
    # DynamoDB unreachable past the lease timeout: every lease is lost.
    while clock.now() - clock.start < lease + 2 * a.config.tick:
        sample = _tick(a, clock, False)
    assert sample["live_leases"] == 0
    assert sample["refused"] >= 1 and sample["launched"] == 0
    a._refuse = "droplet-0000"
    with pytest.raises(ClientError) as err:
        a.ec2.run_instances(ImageId="ami-12c6146b", InstanceType="m5.large", MinCount=1, MaxCount=1)
    assert err.value.response["Error"]["Code"] == "InsufficientInstanceCapacity"


def test_target_health_reports_what_the_model_decides(
    actor: tuple[DownstreamActor, ManualClock],
) -> None:
    a, clock = actor
    for _ in range(4):
        _tick(a, clock, True)
    targets = [i for i in a.model.instances if i.nlb]
    assert targets
    states = {
        d["Target"]["Id"]: d["TargetHealth"]["State"]
        for d in a.elbv2.describe_target_health(TargetGroupArn=a.target_group)[
            "TargetHealthDescriptions"
        ]
    }
    for inst in targets:
        expected = "healthy" if inst.networked else "unhealthy"
        assert states[a.instances[inst.name]] == expected
    # Take the network away in the model: moto would still say healthy; the model says not.
    targets[0].networked = False
    again = a.elbv2.describe_target_health(TargetGroupArn=a.target_group)
    by_id = {d["Target"]["Id"]: d["TargetHealth"] for d in again["TargetHealthDescriptions"]}
    assert by_id[a.instances[targets[0].name]] == {
        "State": "unhealthy",
        "Reason": "Target.FailedHealthChecks",
    }


def test_the_cascade_scenario_runs_the_downstream_actor_beside_the_automation() -> None:
    from dnschaos.runner import run
    from dnschaos.scenario.resolve import load_scenario

    scenario = load_scenario("cascade-2025")
    cascade = scenario.config("incident-2025").cascade
    assert cascade is not None and scenario.dns is not None
    result = run(
        "cascade-2025", variant="legacy", seed=1, overrides=(("scenario.duration", 300.0),)
    )
    kinds = [e["kind"] for e in result.history]
    assert kinds.count("downstream-setup") == 1
    samples = [e for e in result.history if e["kind"] == "downstream"]
    assert len(samples) >= 4
    assert all(s["live_leases"] <= cascade.droplets for s in samples)
    recorded = result.workloads["incident-2025"]["cascade"]
    assert recorded is not None and set(recorded["phases"]) >= {"collapse", "recovery"}


def test_a_seed_without_the_race_ends_the_run_instead_of_idling_for_hours() -> None:
    from dnschaos.runner import run
    from dnschaos.scenario.resolve import build
    from dnschaos.scenario.spec import RunSpec

    quick = RunSpec(
        "cascade-2025", variant="legacy", seed=15, overrides=(("cascade.race_by", 120.0),)
    )
    scenario = build(quick)
    cascade = scenario.config("incident-2025").cascade
    assert cascade is not None and cascade.race_by == 120.0
    result = run(quick)  # seed 15: enactor C's stall does not bite
    assert result.reason.startswith("no race: DynamoDB's name still resolved 120s")
    # The downstream stopped at race_by, not after 15.5 hours of ticks.
    samples = [e for e in result.history if e["kind"] == "downstream"]
    assert [round(e["t"]) for e in samples] == [60, 120]
    assert [e["kind"] for e in result.history].count("downstream-no-race") == 1
    recorded = result.workloads["incident-2025"]["cascade"]
    assert recorded is not None
    assert "dynamodb-unreachable" not in {
        name for name, row in recorded["phases"].items() if row["minutes"] is not None
    }


def test_a_run_with_a_mitigation_replays_with_it(tmp_path: pathlib.Path) -> None:
    from dnschaos.cli import main

    # An hour: past the first lost leases, where DWFM throttling changes the launches.
    text = (SCENARIOS / "cascade-2025.toml").read_text()
    short = tmp_path / "cascade-1h.toml"
    short.write_text(re.sub(r"(?m)^duration = 55800\.0", "duration = 3600.0", text))
    result = tmp_path / "out.json"
    args = ["run", str(short), "--mitigation", "dwfm-throttle", "--json", str(result), "-q"]
    assert main(args) == 1
    assert json.loads(result.read_text())["workloads"]["incident-2025"]["cascade"][
        "mitigations"
    ] == ["dwfm-throttle"]
    assert main(["replay", str(result), "-q"]) == 1  # 3 would be a digest mismatch
