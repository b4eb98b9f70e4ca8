"""``dnschaos explore --store``: a search stopped by its budget, Ctrl-C or SIGTERM keeps
every chain it finished, and ``--resume`` goes on from there to the report one whole
search gives."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

from dnschaos.cli import main

DNSCHAOS = str(pathlib.Path(sys.executable).parent / "dnschaos")
SAFE = [
    "explore",
    "spin-model",
    "--variant",
    "safe",
    "--bound",
    "1",
    "--points",
    "writes",
    "--invariant",
    "active-plan-never-deleted",
    "-q",
]
SMALL = [
    "--set",
    "world.max_plans=3",
    "--set",
    "scenario.duration=22.0",
    "--set",
    "world.planner_interval=5.0",
    "--durations",
    "1",
]


def _summary(out: str) -> list[str]:
    """The report without its timing and the resumed line (what one whole search says)."""
    lines = [re.sub(r", [0-9.]+s(;|$)", r"\1", line) for line in out.splitlines()]
    return [line for line in lines if not line.startswith("  resumed:")]


def test_a_search_cut_by_its_budget_goes_on_with_resume_to_the_whole_searchs_report(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    assert main([*SAFE, *SMALL]) == 0
    whole = capsys.readouterr().out
    assert "explore: exhausted at bound 1: 16 schedule(s) run" in whole
    store = str(tmp_path / "store")
    assert main([*SAFE, *SMALL, "--store", store, "--max-schedules", "14"]) == 0
    cut = capsys.readouterr().out
    assert "NOT exhausted" in cut
    assert main([*SAFE, *SMALL, "--store", store, "--resume"]) == 0
    resumed = capsys.readouterr().out
    assert _summary(resumed) == _summary(whole)
    # The first chain (enactor-a's 12 write points) was finished and recorded; the cut
    # chain (enactor-b's, after one run) was not, and ran whole again.
    assert "  resumed: 12 of the runs below were read back" in resumed
    # Resuming a finished search reads everything back and runs only the base schedule.
    assert main([*SAFE, *SMALL, "--store", store, "--resume"]) == 0
    again = capsys.readouterr().out
    assert _summary(again) == _summary(whole)
    assert "  resumed: 15 of the runs below" in again


def test_resume_refuses_another_search_and_a_store_without_one(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    store = str(tmp_path / "store")
    assert main([*SAFE, *SMALL, "--store", store, "--max-schedules", "2"]) == 0
    record = (tmp_path / "store" / "explore.jsonl").read_bytes()
    capsys.readouterr()
    assert main([*SAFE, *SMALL, "--store", store, "--resume", "--seed", "8"]) == 2
    assert "records another search (its spec is" in capsys.readouterr().err
    assert main([*SAFE, *SMALL, "--store", store]) == 2
    assert "holds a search already; add --resume" in capsys.readouterr().err
    assert main([*SAFE, *SMALL, "--resume"]) == 2
    assert "--resume: give the --store DIR" in capsys.readouterr().err
    assert (tmp_path / "store" / "explore.jsonl").read_bytes() == record


@pytest.mark.parametrize(
    ("sig", "workers"), [(signal.SIGINT, "1"), (signal.SIGTERM, "2")], ids=["sigint", "sigterm"]
)
def test_a_stopped_search_exits_130_keeps_its_finished_chains_and_resumes(
    tmp_path: pathlib.Path, sig: signal.Signals, workers: str
) -> None:
    store = tmp_path / "store"
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    # The whole spin-model: each chain (an enactor's holds for one duration) is 20-odd runs.
    argv = [DNSCHAOS, *SAFE, "--durations", "0.5,1", "--store", str(store), "--workers", workers]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    record = store / "explore.jsonl"
    deadline = time.monotonic() + 300
    while not record.exists() or len(record.read_text().splitlines()) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chain was finished"
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert f"every finished chain is recorded in {store}" in err
    kept = record.read_text().splitlines()
    assert len(kept) >= 2 and all(line.endswith("}") for line in kept)
    assert sorted(p.name for p in tmpdir.iterdir()) == []
    again = subprocess.run(
        [*argv, "--resume", "--max-schedules", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert "  resumed: " in again.stdout
    assert record.read_text().splitlines()[: len(kept)] == kept
