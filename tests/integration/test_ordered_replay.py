"""`dnschaos replay RESULT --target moto-server`: the race recorded on in-process moto,
performed on wall time against a moto server with the writes released in recorded order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dnschaos.adapters.aws.moto_server import moto_server
from dnschaos.cli import main
from dnschaos.scenario.spec import load_result


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with moto_server(propagation_delay=0.2) as url:
        yield url


def test_ordered_replay_on_a_moto_server_shows_the_recorded_violation(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = tmp_path / "race.json"
    assert (
        main(
            [
                "run",
                "incident-2025",
                "--variant",
                "legacy",
                "--seed",
                "7",
                "--json",
                str(recorded),
                "-q",
            ]
        )
        == 1
    )
    capsys.readouterr()
    replayed = tmp_path / "replayed.json"
    code = main(
        [
            "replay",
            str(recorded),
            "--target",
            "moto-server",
            "--endpoint-url",
            server_url,
            "--json",
            str(replayed),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith("verdict"))
    assert row.count("fail (applied-generation-monotonic)") == 2
    assert "released in recorded order" in out
    result = load_result(replayed)  # valid against result.schema.json
    ordered = result["ordered_replay"]
    assert ordered["recorded_verdict"] == "fail" and ordered["order"] == "writes"
    assert ordered["gated_calls"] > 0 and ordered["gate_opened"] is None
    assert result["spec"]["clock"] == "real" and result["spec"]["target"] == "moto-server"


def test_ordered_replay_refuses_a_moto_server_target_without_its_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = tmp_path / "race.json"
    assert main(["run", "incident-2025", "--seed", "7", "--json", str(recorded), "-q"]) == 1
    assert main(["replay", str(recorded), "--target", "moto-server"]) == 2
    assert "--endpoint-url" in capsys.readouterr().err
