"""--target aws refuses before any create call unless both enablers are given and STS names
an allowed account; against the rehearsal stand-in, so nothing here can reach AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from dnschaos.cli import main

from .aws_standin import ACCOUNT, StandIn, stand_in


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    with stand_in(tmp_path_factory.mktemp("standin")) as s:
        yield s


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operation of every botocore call the process makes, in order."""
    seen: list[str] = []
    original = BaseClient._make_api_call

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        seen.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return seen


def _argv(standin: StandIn, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "run",
        "incident-2025",
        "--target",
        "aws",
        "--clock",
        "real",
        "--time-scale",
        "0.02",
        "--endpoint-url",
        standin.url,
        "--journal-dir",
        str(tmp_path / "journals"),
        *extra,
    ]


def _creates(calls: list[str]) -> list[str]:
    return [
        c for c in calls if c.startswith("Create") or c in ("PutItem", "ChangeResourceRecordSets")
    ]


def _env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key in ("DNSCHAOS_ALLOW_REAL_AWS", "DNSCHAOS_AWS_STANDIN", "DNSCHAOS_AWS_ACCOUNTS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_an_account_off_the_list_is_named_and_nothing_is_created(
    standin: StandIn,
    tmp_path: Path,
    calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env(monkeypatch, standin.env(DNSCHAOS_AWS_ACCOUNTS="111111111111"))
    before = standin.snapshot()
    calls.clear()
    assert main(_argv(standin, tmp_path, "--allow-real-aws")) == 2
    assert calls == ["GetCallerIdentity"]
    assert _creates(calls) == []
    err = capsys.readouterr().err
    assert f"account {ACCOUNT}" in err and "111111111111" in err
    assert standin.snapshot() == before


FORGED = "forged"  # a stand-in token file the server does not hold
FLAG = ("--allow-real-aws",)

# refusal -> (environment changes: a key to drop (None) or set, flags, what the error says)
REFUSALS: dict[str, tuple[dict[str, str | None], tuple[str, ...], str]] = {
    "without-the-flag": ({}, (), "--allow-real-aws"),
    "without-the-environment": (
        {"DNSCHAOS_ALLOW_REAL_AWS": None},
        FLAG,
        "DNSCHAOS_ALLOW_REAL_AWS=1",
    ),
    "no-allow-list": ({"DNSCHAOS_AWS_ACCOUNTS": None}, FLAG, "allow-list"),
    "an-endpoint-without-the-standin-setting": (
        {"DNSCHAOS_AWS_STANDIN": None},
        FLAG,
        "only for the test stand-in",
    ),
    "a-token-the-server-does-not-hold": (
        {"DNSCHAOS_AWS_STANDIN": FORGED},
        FLAG,
        "does not hold the token",
    ),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_a_refused_run_calls_nothing(
    refusal: str,
    standin: StandIn,
    tmp_path: Path,
    calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    changes, flags, says = REFUSALS[refusal]
    env = standin.env()
    for key, value in changes.items():
        if value is None:
            del env[key]
        elif value == FORGED:
            forged = tmp_path / "forged.token"
            forged.write_text("0" * 64)
            forged.chmod(0o600)
            env[key] = str(forged)
    _env(monkeypatch, env)
    before = standin.snapshot()
    calls.clear()
    assert main(_argv(standin, tmp_path, *flags)) == 2
    assert calls == []
    assert says in capsys.readouterr().err
    assert standin.snapshot() == before


def test_allowed_runs_create_and_a_budget_ends_them_unknown(
    standin: StandIn,
    tmp_path: Path,
    calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same counting sees creates once everything is allowed (so the zeros above mean
    something); a budget of 60 calls ends the run unknown, and the run cleans up anyway."""
    _env(monkeypatch, standin.env())
    before = standin.snapshot()
    calls.clear()
    out_json = tmp_path / "r.json"
    code = main(
        _argv(
            standin, tmp_path, "--allow-real-aws", "--budget-calls", "60", "--json", str(out_json)
        )
    )
    assert code == 3
    assert calls[0] == "GetCallerIdentity"
    assert "CreateHostedZone" in calls and "CreateTable" in calls
    from dnschaos.scenario.spec import load_result

    result = load_result(out_json)  # checked against result.schema.json
    assert result["verdict"] == "unknown"
    assert result["reason"].startswith("budget reached: 61 API calls > budget 60")
    assert result["aws"]["cleanup"]["errors"] == []
    assert any("hosted zone" in d for d in result["aws"]["cleanup"]["deleted"])
    assert standin.snapshot() == before
    # Where the calls went, recorded and shown: the stand-in for every service.
    aws = result["aws"]
    assert aws["endpoints"] == dict.fromkeys(("dynamodb", "route53", "sts"), standin.url)
    assert (aws["account"], aws["region"], aws["partition"], aws["standin"]) == (
        ACCOUNT,
        "us-east-1",
        "aws",
        True,
    )
    assert aws["refused_requests"] == [] and aws["cleanup"]["left_alone"] == []
    from dnschaos.report import render_html

    page = render_html(result, [])
    assert "Account: the rehearsal&#x27;s loopback stand-in" in page
    assert f"<th>route53 endpoint</th><td><code>{standin.url}</code>" in page
    assert "<th>partition</th><td><code>aws</code>" in page


def test_throttling_is_retried_by_botocore_and_recorded(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, standin.env())
    out_json = tmp_path / "r.json"
    fault = "kind=error,code=Throttling,actor=planner,service=dynamodb,operation=PutItem,nth=1"
    code = main(
        _argv(standin, tmp_path, "--allow-real-aws", "--fault", fault, "--json", str(out_json))
    )
    assert code in (0, 1)
    from dnschaos.scenario.spec import load_result

    aws = load_result(out_json)["aws"]
    # DynamoDB names its throttling ThrottlingException; botocore retried it (attempt 1).
    assert aws["throttled"] == [{"op": "PutItem", "code": "ThrottlingException", "attempt": 1}]
    assert aws["changes"] and all(c["insync_after_s"] is not None for c in aws["changes"])
    assert "stand-in" in aws["probes_skipped"]  # no --probe-server: skipped, and says why


def test_bad_real_aws_flags_exit_2_before_any_create(
    standin: StandIn,
    tmp_path: Path,
    calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env(monkeypatch, standin.env())
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    argv = _argv(standin, tmp_path, "--allow-real-aws")
    argv[argv.index("--journal-dir") + 1] = str(blocked)
    calls.clear()
    assert main(argv) == 2
    assert _creates(calls) == []
    assert f"--journal-dir {blocked}" in capsys.readouterr().err
    assert main(_argv(standin, tmp_path, "--allow-real-aws", "--probe-server", "nope")) == 2
    assert "--probe-server nope: give HOST:PORT" in capsys.readouterr().err
    assert main(["run", "incident-2025", "--region", "eu-west-1"]) == 2
    assert "--region: applies to --target aws only" in capsys.readouterr().err
