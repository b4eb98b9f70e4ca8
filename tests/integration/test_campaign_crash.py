"""A fuzz campaign survives being killed or interrupted: no worker outlives it, and a
resumed campaign ends with the same failures as one that ran through."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dnschaos.explore.campaign import fuzz, open_campaign
from dnschaos.scenario.resolve import resolve
from dnschaos.scenario.spec import RunSpec

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find stray workers"
)

DNSCHAOS = str(Path(sys.executable).parent / "dnschaos")
SEED = 1  # case 1 of this campaign fails: the first failure file comes early
BUDGET = 8


def fuzz_args(store: Path, budget: int, *extra: str) -> list[str]:
    return [
        DNSCHAOS,
        "fuzz",
        "steady-state",
        "--variant",
        "legacy",
        "--seed",
        str(SEED),
        "--budget",
        str(budget),
        "--workers",
        "2",
        "--no-shrink",
        "--store",
        str(store),
        "-q",
        *extra,
    ]


def state(store: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((store / "campaign.json").read_text())
    return data


def failures(store: Path) -> dict[int, str]:
    """Case index -> trace digest of every failure in the store."""
    out = {}
    for path in store.glob("failure-*.json"):
        result = json.loads(path.read_text())
        out[int(result["case_index"])] = result["trace_digest"]
    return out


def session_members(sid: int) -> list[str]:
    """Processes of session ``sid`` still alive (pid and command line)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        # Fields after the command name in parentheses: state ppid pgrp session ...
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            out.append(f"{entry.name}: {cmdline}")
    return out


def assert_no_survivors(pid: int) -> None:
    deadline = time.monotonic() + 10.0
    while session_members(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = session_members(pid)
    for member in left:  # clean up before failing
        os.kill(int(member.split(":")[0]), signal.SIGKILL)
    assert left == []


def start_and_wait_for_first_failure(store: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        fuzz_args(store, BUDGET),
        start_new_session=True,  # its own session: every worker is found by session id
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180.0
    while not list(store.glob("failure-*.json")):
        assert proc.poll() is None, "the campaign ended before its first failure"
        assert time.monotonic() < deadline, "no failure within 180 s"
        time.sleep(0.05)
    return proc


def resume_to_budget(store: Path) -> None:
    left = BUDGET - state(store)["runs"]
    assert left > 0
    done = subprocess.run(fuzz_args(store, left, "--resume"), capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    final = state(store)
    assert final["runs"] == BUDGET and final["next_index"] == BUDGET and final["started"] == []


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    store = tmp_path_factory.mktemp("reference") / "store"
    done = subprocess.run(fuzz_args(store, BUDGET), capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    final = state(store)
    assert final["runs"] == BUDGET and final["next_index"] == BUDGET and final["started"] == []
    found = failures(store)
    assert found and final["failures"] == len(found)
    return found


def test_a_killed_campaign_leaves_no_worker_and_resumes_to_the_same_failures(
    tmp_path: Path, reference: dict[int, str]
) -> None:
    store = tmp_path / "store"
    proc = start_and_wait_for_first_failure(store)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert_no_survivors(proc.pid)
    proc.communicate(timeout=30)  # an orphaned worker would hold these pipes open
    killed = state(store)
    # Cases in flight are on record as started, not lost and not counted.
    assert killed["started"], killed
    assert killed["runs"] + len(killed["started"]) == killed["next_index"] < BUDGET
    resume_to_budget(store)
    assert failures(store) == reference
    assert state(store)["failures"] == len(reference)


def test_ctrl_c_exits_130_and_the_campaign_resumes_to_the_same_failures(
    tmp_path: Path, reference: dict[int, str]
) -> None:
    store = tmp_path / "store"
    proc = start_and_wait_for_first_failure(store)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted" in err
    assert_no_survivors(proc.pid)
    stopped = state(store)
    assert stopped["runs"] + len(stopped["started"]) == stopped["next_index"]
    assert stopped["runs"] < BUDGET
    resume_to_budget(store)
    assert failures(store) == reference
    assert state(store)["failures"] == len(reference)


def test_stop_after_keeps_the_cases_in_flight_for_resume(
    tmp_path: Path, reference: dict[int, str]
) -> None:
    store = tmp_path / "store"
    done = subprocess.run(
        fuzz_args(store, BUDGET, "--stop-after", "1"), capture_output=True, timeout=300
    )
    assert done.returncode == 1, done.stderr.decode()
    stopped = state(store)
    assert stopped["failures"] >= 1 and stopped["runs"] < BUDGET
    assert stopped["runs"] + len(stopped["started"]) == stopped["next_index"]
    assert stopped["started"], "the queued cases are kept, not dropped"
    resume_to_budget(store)
    assert failures(store) == reference


def test_a_run_budget_is_exact_in_every_session(tmp_path: Path) -> None:
    spec = resolve(RunSpec(scenario="steady-state", variant="safe"))
    campaign = open_campaign(spec, 4, tmp_path / "store", resume=False)
    fuzz(campaign, seconds=None, runs=3, workers=2)
    assert (campaign.runs, campaign.next_index, campaign.started) == (3, 3, set())
    again = open_campaign(spec, 4, tmp_path / "store", resume=True)
    fuzz(again, seconds=None, runs=1, workers=2)
    assert (again.runs, again.next_index) == (4, 4)
    assert state(tmp_path / "store")["runs"] == 4
