"""A campaign leaves no temporary file behind, whether it ends normally, by Ctrl-C or by
SIGTERM, and Ctrl-C works while it shrinks; a spent budget leaves failures unshrunk,
marked "not shrunk: budget", instead of running on."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

DNSCHAOS = str(pathlib.Path(sys.executable).parent / "dnschaos")


def _fuzz(store: pathlib.Path, tmpdir: pathlib.Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONHASHSEED": "0"}
    argv = [DNSCHAOS, "fuzz", "steady-state", "--variant", "legacy", "--store", str(store)]
    return subprocess.Popen(
        [*argv, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _leftovers(tmpdir: pathlib.Path) -> list[str]:
    return sorted(p.name for p in tmpdir.iterdir() if p.name.startswith("dnschaos"))


def _wait_for(proc: subprocess.Popen[str], path: pathlib.Path, timeout: float = 240) -> None:
    """Until ``path`` exists (the campaign got that far); a poll, not a measurement."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def test_a_normal_end_leaves_no_temporary_file(tmp_path: pathlib.Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = _fuzz(tmp_path / "store", tmpdir, "--budget", "6", "--workers", "2", "-q")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), err
    assert _leftovers(tmpdir) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_campaign_leaves_no_temporary_file_and_resumes(
    tmp_path: pathlib.Path, sig: signal.Signals
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    store = tmp_path / "store"
    proc = _fuzz(store, tmpdir, "--budget", "400", "--workers", "2", "--no-shrink", "-q")
    _wait_for(proc, store / "campaign.json")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert _leftovers(tmpdir) == []
    before = json.loads((store / "campaign.json").read_text())["runs"]
    again = _fuzz(store, tmpdir, "--budget", "2", "--resume", "--no-shrink", "-q")
    _, err = again.communicate(timeout=600)
    assert again.returncode in (0, 1), err
    assert json.loads((store / "campaign.json").read_text())["runs"] == before + 2
    assert _leftovers(tmpdir) == []


def test_ctrl_c_while_shrinking_exits_130_and_keeps_the_failures(tmp_path: pathlib.Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    store = tmp_path / "store"
    proc = _fuzz(store, tmpdir, "--budget", "600s", "--stop-after", "1", "--shrink-runs", "50")
    assert proc.stdout is not None
    for line in proc.stdout:  # the group's line is printed as its shrink begins
        if line.startswith("- ") and "case(s)" in line:
            time.sleep(1.0)  # well into the shrink's first re-run
            break
    else:
        pytest.fail(f"no shrink began: {proc.communicate()}")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert sorted(store.glob("failure-*.json"))
    assert _leftovers(tmpdir) == []


def test_a_spent_budget_leaves_failures_unshrunk(tmp_path: pathlib.Path) -> None:
    from dnschaos.cli import main
    from dnschaos.explore.campaign import open_campaign, shrink_groups
    from dnschaos.scenario.resolve import resolve
    from dnschaos.scenario.spec import RunSpec

    store = tmp_path / "store"
    argv = ["fuzz", "steady-state", "--variant", "legacy", "--budget", "3", "--store", str(store)]
    assert main([*argv, "--no-shrink", "-q"]) == 1
    spec = resolve(RunSpec(scenario="steady-state", variant="legacy"))
    campaign = open_campaign(spec, 1, store, resume=True)
    messages: list[str] = []
    shrunk = shrink_groups(campaign, max_runs=5, progress=messages.append, stop=lambda: True)
    assert shrunk == []
    groups: dict[str, Any] = json.loads((store / "campaign.json").read_text())["groups"]
    assert groups and all(g["not_shrunk"] == "budget" for g in groups.values())
    assert not list(store.glob("shrunk-*.json"))
    assert any(m.startswith("not shrunk: budget") for m in messages)
