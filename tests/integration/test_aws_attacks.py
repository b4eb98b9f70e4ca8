"""Every attack of aws_attacks on the --target aws guard and on cleanup is refused with exit 2
and a message naming the override or the foreign resource, and no server sees a create or a
delete call. Also what makes those zeros mean something: the same counting sees the calls of
an allowed run, and the forging proxy fools a client that trusts its certificate bundle."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnschaos.cli import main

from .aws_attacks import (
    ATTACKS,
    CORRUPT,
    RUN_ID,
    TAG,
    Servers,
    attack_servers,
    base_environment,
    check,
    environment,
    run_attack,
)
from .aws_spies import ALLOWED


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with attack_servers(tmp_path_factory.mktemp("attacks")) as s:
        yield s


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_and_nothing_is_made(name: str, servers: Servers, tmp_path: Path) -> None:
    attack = ATTACKS[name]
    outcome = run_attack(attack, servers, tmp_path)
    assert check(attack, outcome) == [], (outcome.out, outcome.err, outcome.calls)


def test_refusals_come_before_any_call_to_the_fake_sts(servers: Servers, tmp_path: Path) -> None:
    """The overrides are refused from the configuration alone: the fake STS is never asked,
    so the environment's keys never sign a request to it."""
    for name in ("env-sts", "services-section", "set-accounts", "replay", "cleanup"):
        outcome = run_attack(ATTACKS[name], servers, tmp_path / name)
        assert outcome.calls["the fake STS"] == [] and outcome.calls["the other account"] == []


def test_the_path_traversing_run_id_reads_and_moves_nothing(
    servers: Servers, tmp_path: Path
) -> None:
    outcome = run_attack(ATTACKS["run-id-path-traversal"], servers, tmp_path)
    assert "lowercase letters and digits only" in outcome.err
    assert (tmp_path / "outside.jsonl").exists()  # not read, not moved to done/
    assert outcome.calls["the stand-in"] == []


def test_bad_journals_are_skipped_and_the_others_cleaned(servers: Servers, tmp_path: Path) -> None:
    """Beside one journal of every bad kind, a good run's journal is still cleaned: its tagged
    zone and table go, the foreign ones the bad journals name stay; exit 2, no traceback."""
    r53, ddb = servers.standin.client("route53"), servers.standin.client("dynamodb")
    good = "goodrun"
    made = r53.create_hosted_zone(
        Name=f"dynamodb.us-east-1.{good}.chaos.test.", CallerReference=good
    )
    zone_id = made["HostedZone"]["Id"].split("/")[-1]
    r53.change_tags_for_resource(
        ResourceType="hostedzone", ResourceId=zone_id, AddTags=[{"Key": TAG, "Value": good}]
    )
    ddb.create_table(
        TableName=f"dnschaos-{good}-plans",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": TAG, "Value": good}],
    )
    journals = tmp_path / "journals"
    journals.mkdir()
    for n, (_, _, make) in enumerate(CORRUPT.values()):
        make(servers, journals, f"bad{n}")
    line = {"run": good, "op": "created", "kind": "zone", "id": zone_id, "name": "x."}
    (journals / f"{good}.jsonl").write_text(json.dumps(line) + "\n")
    out, err = io.StringIO(), io.StringIO()
    env = {**base_environment(servers), "DNSCHAOS_AWS_STANDIN": str(servers.standin.token)}
    argv = [
        *("cleanup", "--target", "aws", "--allow-real-aws", "--all-journals", "--yes"),
        *("--journal-dir", str(journals), "--endpoint-url", servers.at_standin.url),
    ]
    with environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue()
    assert code == 2 and "Traceback" not in err.getvalue(), err.getvalue()
    assert f"deleted hosted zone {zone_id}" in text
    assert f"deleted table dnschaos-{good}-plans" in text
    assert text.count("bad journal, skipped:") == len(CORRUPT), text
    zones, tables = servers.standin.snapshot()
    assert all(good not in name for _, name in zones) and f"dnschaos-{good}-plans" not in tables
    assert "prod-orders" in tables and any(name == "prod.example.com." for _, name in zones)
    assert (journals / "done" / f"{good}.jsonl").exists()


def test_the_forging_proxy_fools_a_client_that_trusts_its_bundle(servers: Servers) -> None:
    """Without --target aws's pinned certificate bundle the forging attack would succeed."""
    import boto3
    import botocore.session
    from botocore.config import Config

    session = boto3.session.Session(
        botocore_session=botocore.session.Session(),
        aws_access_key_id="AKIADNSCHAOSATTACK0",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    sts = session.client(
        "sts",
        verify=str(servers.forger.ca_file),
        config=Config(proxies={"https": servers.forger.url}, retries={"total_max_attempts": 1}),
    )
    assert sts.get_caller_identity()["Account"] == ALLOWED


def test_the_counting_sees_an_allowed_runs_creates(servers: Servers, tmp_path: Path) -> None:
    """The zeros above are not blind: the same servers count an allowed run's creates (and a
    journal's own run cleaned by tag)."""
    from .aws_attacks import Attack, Setup, _run, _standin_env, _with_standin

    allowed = Attack(
        "allowed",
        "the proven stand-in, nothing overridden",
        (),
        lambda s, t: Setup(
            _run(s, t, *_with_standin(s), "--run-id", "allowedrun"), _standin_env(s)
        ),
    )
    outcome = run_attack(allowed, servers, tmp_path)
    assert outcome.code in (0, 1), outcome.err
    assert outcome.creates() > 0 and outcome.deletes() > 0
    assert outcome.calls["the fake STS"] == [] and outcome.calls["the other account"] == []
    assert not outcome.changed  # the run cleaned up after itself
    assert RUN_ID not in outcome.out
