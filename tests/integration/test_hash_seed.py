"""The hash seed of every run is pinned and recorded: ordinary user code that iterates a
set of strings makes the same run in every process."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import warnings

import pytest

from dnschaos.runner import run

ROOT = pathlib.Path(__file__).resolve().parents[2]

ACTOR = """
import boto3

NAMES = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}


def writer():
    route53 = boto3.client("route53")
    zone = route53.list_hosted_zones()["HostedZones"][0]["Id"].split("/")[-1]
    for name in NAMES:  # the order of a set of strings: the hash seed decides it
        route53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": name + ".example.com", "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.1"}]}}]},
        )
"""

SCENARIO = """
[scenario]
name = "set-order"
duration = 60

[[world.zones]]
name = "example.com"

[[actors]]
name = "writer"
function = "set_order_actor:writer"
"""


def _cli(tmp_path: pathlib.Path, out: str, hash_seed: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    env["PYTHONPATH"] = str(ROOT)
    script = pathlib.Path(sys.executable).parent / "dnschaos"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dnschaos.cli"]
    done = subprocess.run(
        [*command, "run", "scenario.toml", "--seed", "1", "-q", "--json", out],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: dict[str, object] = json.loads((tmp_path / out).read_text())
    return loaded


def _order(result: dict[str, object]) -> list[str]:
    return [c[1] for c in result["choices"] if c[0] == "writer"]  # type: ignore[attr-defined]


def test_a_user_actor_iterating_a_set_gives_one_digest_in_every_process(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "set_order_actor.py").write_text(ACTOR)
    (tmp_path / "scenario.toml").write_text(SCENARIO)
    # Hash seeds 1 and 2 order this set differently (checked below), and a process
    # started with none draws its own: every run must still be the same run.
    ordered = [
        subprocess.run(
            [sys.executable, "-c", f"print(list({ACTOR.split('NAMES = ')[1].splitlines()[0]}))"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert ordered[0] != ordered[1]
    runs = [
        _cli(tmp_path, f"run-{i}.json", seed) for i, seed in enumerate(("1", "2", None, "random"))
    ]
    assert len({r["trace_digest"] for r in runs}) == 1
    assert {r["hash_seed"] for r in runs} == {"0"}


def test_the_in_process_api_records_the_hash_seed_and_warns_when_it_is_random(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dnschaos import hashseed

    monkeypatch.setattr(hashseed, "current", lambda: "random")
    with pytest.warns(hashseed.HashSeedWarning, match="PYTHONHASHSEED=0"):
        result = run("steady-state", seed=3)
    assert result.to_json()["hash_seed"] == "random"
    monkeypatch.setattr(hashseed, "current", lambda: "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run("steady-state", seed=3).to_json()["hash_seed"] == "0"


def test_the_hash_seed_in_effect_is_read_from_the_interpreter() -> None:
    def seen(env_value: str | None, *flags: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
        if env_value is not None:
            env["PYTHONHASHSEED"] = env_value
        code = "from dnschaos import hashseed; print(hashseed.current())"
        done = subprocess.run(
            [sys.executable, *flags, "-c", code], capture_output=True, text=True, env=env
        )
        return done.stdout.strip()

    assert seen("0") == "0"
    assert seen("12345") == "12345"
    assert seen(None) == "random"
    assert seen("random") == "random"
    assert seen("0", "-E") == "random"  # the environment is ignored: the seed is drawn
