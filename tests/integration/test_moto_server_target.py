"""The moto-server target: the same automation over HTTP on loopback, strict semantics included."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dnschaos.adapters.aws.moto_server import moto_server
from dnschaos.adapters.aws.target import AwsTarget, TargetSpec, open_target
from dnschaos.sim.clock import SystemClock
from dnschaos.workloads.incident2025.enactor import EnactorConfig, Outcome, SafeEnactor
from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig
from dnschaos.workloads.incident2025.tree import plan_name, read_zone
from dnschaos.workloads.incident2025.world import World


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def target(server_url: str) -> Iterator[AwsTarget]:
    with open_target(TargetSpec("moto-server", endpoint_url=server_url), clock=SystemClock()) as t:
        yield t


def test_server_listens_on_loopback(server_url: str) -> None:
    assert server_url.startswith("http://127.0.0.1:")


def test_enactor_applies_a_plan_through_the_server(target: AwsTarget) -> None:
    world = World(target).provision()
    clock = SystemClock()
    planner = Planner(
        "planner",
        dynamodb=target.client("dynamodb"),
        fleet=world.fleet,
        config=PlannerConfig(table=world.table),
        clock=clock,
    )
    gen = planner.step()
    assert gen is not None
    enactor = SafeEnactor(
        "enactor-a",
        route53=target.client("route53", actor="enactor-a"),
        dynamodb=target.client("dynamodb", actor="enactor-a"),
        config=EnactorConfig(endpoints=world.endpoints, table=world.table),
        clock=clock,
        rng=random.Random(1),
    )
    result = enactor.run_once()
    assert set(result.outcomes.values()) <= {Outcome.APPLIED, Outcome.CURRENT}
    ep = world.endpoints[0]
    snap = read_zone(target.client("route53"), ep, world.zone_ids[ep.name])
    root = snap.root("A")
    assert root is not None and root["AliasTarget"]["DNSName"] == plan_name(
        ep, result.generation or 0
    )


def test_server_enforces_the_strict_delete_rule(target: AwsTarget) -> None:
    r53 = target.client("route53")
    zone = r53.create_hosted_zone(Name="strict-server.test.", CallerReference="s1")["HostedZone"][
        "Id"
    ]
    rr = {
        "Name": "a.strict-server.test.",
        "Type": "A",
        "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.1"}],
    }
    r53.change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": rr}]}
    )
    wrong = {**rr, "ResourceRecords": [{"Value": "192.0.2.2"}]}
    with pytest.raises(ClientError) as exc:
        r53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": wrong}]},
        )
    assert "do not match the current values" in exc.value.response["Error"]["Message"]


def test_killing_the_parent_leaves_no_server_running() -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import time\n"
        "from dnschaos.adapters.aws.moto_server import moto_server\n"
        "with moto_server() as url:\n"
        "    print(url, flush=True)\n"
        "    time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    url = parent.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:")
    children = subprocess.run(
        ["pgrep", "-P", str(parent.pid)], capture_output=True, text=True
    ).stdout.split()
    assert len(children) == 1
    child = int(children[0])
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # A zombie of ours would still answer; it is reaped by init once the parent is gone.
        time.sleep(0.1)
    raise AssertionError(f"moto server {child} outlived its killed parent")


def test_cli_runs_a_scenario_against_the_server(
    server_url: str, tmp_path: Any, capsys: Any
) -> None:
    import json

    from dnschaos.cli import main

    out = tmp_path / "out.json"
    code = main(
        [
            "run",
            "incident-2025",
            "--variant",
            "legacy",
            "--seed",
            "3",
            "--target",
            "moto-server",
            "--endpoint-url",
            server_url,
            "--json",
            str(out),
            "-q",
        ]
    )
    assert code == 1
    assert json.loads(out.read_text())["spec"]["target"] == "moto-server"
    capsys.readouterr()
    assert main(["replay", str(out)]) == 2
    assert "replays run on in-process moto" in capsys.readouterr().err
    assert main(["run", "incident-2025", "--target", "moto-server"]) == 2
    assert "needs --endpoint-url" in capsys.readouterr().err
