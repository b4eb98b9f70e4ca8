"""A --target aws run killed with SIGKILL leaves its journal; `dnschaos cleanup` deletes what
it made (from the journal, and by tag when the journal is gone), and only that."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnschaos.adapters.aws.real import BadJournal, Journal, read_journal, scoped_name
from dnschaos.cli import main

from .aws_rehearsal import killed_run
from .aws_standin import StandIn, stand_in


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    with stand_in(tmp_path_factory.mktemp("standin")) as s:
        # Somebody else's zone and table: cleanup must leave them alone.
        s.client("route53").create_hosted_zone(Name="bystander.example.", CallerReference="by")
        s.client("dynamodb").create_table(
            TableName="dnschaos-bystander",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield s


@pytest.fixture
def enabled(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The enablers, the allow-list and the stand-in setting, as a test sets them."""
    for key, value in standin.env().items():
        monkeypatch.setenv(key, value)


def _killed_run(standin: StandIn, journals: Path, run_id: str) -> None:
    """Start a run, SIGKILL it once it has made its zone, table and some records."""
    killed_run(standin, journals, run_id, standin.env())


def _cleanup(standin: StandIn, journals: Path, *how: str) -> int:
    return main(
        [
            "cleanup",
            "--target",
            "aws",
            "--allow-real-aws",
            "--endpoint-url",
            standin.url,
            "--journal-dir",
            str(journals),
            *how,
        ]
    )


def test_sigkill_then_cleanup_restores_the_account(
    standin: StandIn,
    tmp_path: Path,
    enabled: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = standin.snapshot()
    journals = tmp_path / "journals"
    _killed_run(standin, journals, "killedrun1")
    zones, tables = standin.snapshot()
    assert len(zones) == len(before[0]) + 1 and "dnschaos-killedrun1-plans" in tables
    assert _cleanup(standin, journals, "--all-journals", "--yes") == 0
    out = capsys.readouterr().out
    assert "deleted hosted zone" in out and "killedrun1.chaos.test" in out
    assert "deleted table dnschaos-killedrun1-plans" in out
    assert standin.snapshot() == before
    assert _cleanup(standin, journals, "--all-journals", "--yes") == 0
    assert capsys.readouterr().out.strip() == "nothing to delete"


def test_cleanup_by_tag_when_the_journal_is_lost(
    standin: StandIn,
    tmp_path: Path,
    enabled: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = standin.snapshot()
    journals = tmp_path / "journals"
    _killed_run(standin, journals, "killedrun2")
    (journals / "killedrun2.jsonl").unlink()
    assert _cleanup(standin, journals, "--run-id", "killedrun2") == 0
    out = capsys.readouterr().out
    assert "deleted hosted zone" in out and "deleted table dnschaos-killedrun2-plans" in out
    assert standin.snapshot() == before
    assert _cleanup(standin, journals, "--run-id", "killedrun2") == 0
    assert capsys.readouterr().out.strip() == "nothing to delete"


def test_a_live_run_journal_is_skipped(
    standin: StandIn,
    tmp_path: Path,
    enabled: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    journal = Journal(tmp_path, "liverun")  # holds the lock, as a running run does
    try:
        assert _cleanup(standin, tmp_path, "--all-journals") == 0
        assert "skipped run liverun: still running" in capsys.readouterr().out
    finally:
        journal.close()


def test_cleanup_needs_the_enablers_and_one_selection(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DNSCHAOS_ALLOW_REAL_AWS", raising=False)
    assert _cleanup(standin, tmp_path, "--all-journals") == 2
    for key, value in standin.env().items():
        monkeypatch.setenv(key, value)
    assert _cleanup(standin, tmp_path) == 2
    assert _cleanup(standin, tmp_path, "--all-journals", "--run-id", "x1") == 2


def test_journal_lines_are_whole_and_a_cut_line_is_named(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run1")
    journal.write("intent", "zone", name="a.example.", caller_reference="r")
    journal.close()
    entries = read_journal(tmp_path / "run1.jsonl", "run1")
    assert [(e["op"], e["kind"], e["name"]) for e in entries] == [("intent", "zone", "a.example.")]
    assert json.loads((tmp_path / "run1.jsonl").read_text().splitlines()[0])["run"] == "run1"
    with (tmp_path / "run1.jsonl").open("a") as f:
        f.write('{"run": "run1", "op": "inte')  # a line cut short
    with pytest.raises(BadJournal, match=r"run1.jsonl line 2: not JSON: .*cut short"):
        read_journal(tmp_path / "run1.jsonl", "run1")


def test_zone_names_carry_the_run_id() -> None:
    assert (
        scoped_name("dynamodb.us-east-1.chaos.test", "dc1") == "dynamodb.us-east-1.dc1.chaos.test"
    )


def _plant_run(standin: StandIn, journals: Path, run_id: str) -> str:
    """What a killed run leaves: its tagged zone and table, and a journal naming them."""
    r53, ddb = standin.client("route53"), standin.client("dynamodb")
    name = scoped_name("dynamodb.us-east-1.chaos.test", run_id) + "."
    zone_id = r53.create_hosted_zone(Name=name, CallerReference=run_id)["HostedZone"]["Id"]
    zone_id = zone_id.split("/")[-1]
    tag = [{"Key": "dnschaos-run", "Value": run_id}]
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id, AddTags=tag)
    ddb.create_table(
        TableName=f"dnschaos-{run_id}-plans",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=tag,
    )
    journal = Journal(journals, run_id)
    journal.write("created", "zone", id=zone_id, name=name)
    journal.write("created", "table", name=f"dnschaos-{run_id}-plans")
    journal.close()
    return zone_id


def test_all_journals_lists_first_and_deletes_with_yes(
    standin: StandIn,
    tmp_path: Path,
    enabled: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = standin.snapshot()
    journals = tmp_path / "journals"
    zone_id = _plant_run(standin, journals, "dryrun1")
    planted = standin.snapshot()
    assert _cleanup(standin, journals, "--all-journals") == 0
    out = capsys.readouterr().out
    assert f"would delete hosted zone {zone_id}" in out
    assert "would delete table dnschaos-dryrun1-plans" in out
    assert "dry run: nothing was deleted; run again with --yes" in out
    assert standin.snapshot() == planted and (journals / "dryrun1.jsonl").exists()
    assert _cleanup(standin, journals, "--run-id", "dryrun1", "--dry-run") == 0
    assert standin.snapshot() == planted
    assert _cleanup(standin, journals, "--all-journals", "--yes", "--dry-run") == 2
    assert _cleanup(standin, journals, "--all-journals", "--yes") == 0
    assert f"deleted hosted zone {zone_id}" in capsys.readouterr().out
    assert standin.snapshot() == before
    assert (journals / "done" / "dryrun1.jsonl").exists()
