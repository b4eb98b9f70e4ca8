"""Campaigns on a real Dask cluster on loopback: a scheduler and two workers as processes.

Case ``i`` of campaign seed 1 is the same wherever it runs, so the cluster must find the
same failures as local workers (cases 1 to 7 of the first 8 break the legacy enactor's
generation check), record each case once, and lose none when a worker is killed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

from dnschaos.explore.cluster import QUIET_DASK  # noqa: E402

BIN = Path(sys.executable).parent
DNSCHAOS = str(BIN / "dnschaos")
DASK = str(BIN / "dask")
SEED = 1
BUDGET = 8
FAILING = set(range(1, 8))  # of cases 0..7, as a local campaign finds them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    logs: Path
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def scheduler_log(self) -> str:
        return (self.logs / "scheduler.log").read_text()


@pytest.fixture
def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A scheduler and two workers; with an indirect parameter, the environment they
    get on top of this one's (Dask settings)."""
    env = {**os.environ, **getattr(request, "param", {})}
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *argv: str) -> subprocess.Popen[bytes]:
        with open(logs / f"{name}.log", "wb") as log:
            proc = subprocess.Popen([DASK, *argv], stdout=log, stderr=log, env=env)
        procs.append(proc)
        return proc

    scheduler = start(
        "scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"
    )
    # No nanny: a killed worker stays dead, as a lost machine would.
    workers = [
        start(
            f"worker{i}",
            "worker",
            address,
            "--nthreads",
            "1",
            "--no-dashboard",
            "--no-nanny",
            "--host",
            "127.0.0.1",
            "--name",
            f"w{i}",
        )
        for i in (1, 2)
    ]
    try:
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield Cluster(address, scheduler, workers, logs)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fuzz(store: Path, cluster: str, budget: int, *extra: str) -> list[str]:
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
        "--no-shrink",
        "--store",
        str(store),
        "--cluster",
        cluster,
        "-q",
        *extra,
    ]


def state(store: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((store / "campaign.json").read_text())
    return data


def failures(store: Path) -> set[int]:
    return {int(json.loads(p.read_text())["case_index"]) for p in store.glob("failure-*.json")}


def wait_for_runs(store: Path, proc: subprocess.Popen[bytes], runs: int) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the campaign ended early"
        try:
            if state(store)["runs"] >= runs:
                return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.1)
    pytest.fail(f"no {runs} run(s) recorded within 180 s")


def case_runners_of(pid: int) -> list[str]:
    """Live processes that run cases for the Dask worker ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        alive = stat[stat.rindex(")") + 2] != "Z"
        if alive and b"dnschaos.explore.cluster" in argv and str(pid).encode() in argv:
            out.append(entry.name)
    return out


def test_a_cluster_campaign_finds_the_legacy_race(cluster: Cluster, tmp_path: Path) -> None:
    store = tmp_path / "store"
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        fuzz(store, cluster.address, 4, "--json", str(summary)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    data = state(store)
    assert (data["runs"], data["next_index"], data["started"]) == (4, 4, [])
    assert failures(store) == {1, 2, 3}
    assert {g["invariant"] for g in data["groups"].values()} == {"applied-generation-monotonic"}
    # A failure found on the cluster replays here, to the same trace digest.
    replay = subprocess.run(
        [DNSCHAOS, "replay", str(store / "failure-000001.json"), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "same trace_digest" in replay.stdout


def test_killing_a_worker_loses_no_case(cluster: Cluster, tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = subprocess.Popen(
        fuzz(store, cluster.address, BUDGET), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for_runs(store, proc, 1)
        # Both workers hold cases (the campaign keeps two a thread in flight): the killed
        # one is mid-case.
        victim = cluster.workers[0]
        assert case_runners_of(victim.pid), "the worker had no case running"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err.decode()
    data = state(store)
    # Every case ran to a result, each recorded once: the count is exact and no case is
    # left started.
    assert (data["runs"], data["next_index"], data["started"]) == (BUDGET, BUDGET, [])
    assert failures(store) == FAILING
    assert data["failures"] == len(FAILING)
    assert "Remove worker" in cluster.scheduler_log()
    # The killed worker's case runner went with it.
    deadline = time.monotonic() + 5
    while case_runners_of(victim.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not case_runners_of(victim.pid)


def test_interrupt_then_resume_on_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = subprocess.Popen(
        fuzz(store, cluster.address, BUDGET), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for_runs(store, proc, 1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    first = state(store)
    assert first["started"], "cases in flight are left started"
    done = subprocess.run(
        fuzz(store, cluster.address, BUDGET - first["runs"], "--resume"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    data = state(store)
    assert (data["runs"], data["next_index"], data["started"]) == (BUDGET, BUDGET, [])
    assert failures(store) == FAILING


def test_the_campaign_says_when_dask_housekeeping_costs_cpu(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The fixture's workers run Dask's defaults: a campaign says so on stderr, once,
    and not with ``-q``."""
    argv = fuzz(tmp_path / "store", cluster.address, 1)
    loud = subprocess.run(
        [a for a in argv if a != "-q"], capture_output=True, text=True, timeout=300
    )
    assert loud.returncode == 0, loud.stderr
    notes = [line for line in loud.stderr.splitlines() if "housekeeping" in line]
    assert len(notes) == 1, loud.stderr
    assert "distributed.worker.profile.enabled" in notes[0]
    assert "distributed.admin.tick.interval" in notes[0]
    assert "MANUAL.md" in notes[0]
    quiet = subprocess.run(
        fuzz(tmp_path / "again", cluster.address, 1), capture_output=True, text=True, timeout=300
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "housekeeping" not in quiet.stderr


# On workers with the settings the manual recommends: the search is the same, and the
# campaign has nothing to say about them.
@pytest.mark.parametrize("cluster", [QUIET_DASK], indirect=True)
def test_explore_on_the_cluster_finds_the_same_schedule(cluster: Cluster) -> None:
    from dnschaos.explore.cluster import connect

    lines: list[str] = []
    connect(cluster.address, note=lines.append).close()
    assert lines == []
    argv = ["explore", "steady-state", "--variant", "legacy", "--bound", "1"]
    done = subprocess.run(
        [DNSCHAOS, *argv, "--max-schedules", "5", "--cluster", cluster.address, "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    # As a local search finds it: the fewest delays, the first hold that breaks it.
    assert "delays: enactor-a at point 3 for 18.75s" in done.stdout
    assert "applied-generation-monotonic" in done.stdout


def test_cluster_errors_are_clear(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = subprocess.run(
        fuzz(store, "localhost:8786", 2), capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "--cluster 'localhost:8786': give the scheduler's address as tcp://HOST:PORT" in (
        bad.stderr
    )
    gone = subprocess.run(
        fuzz(store, f"tcp://127.0.0.1:{free_port()}", 2),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gone.returncode == 3
    assert "cannot reach the Dask scheduler" in gone.stderr
    assert "Traceback" not in gone.stderr
    assert not store.exists(), "nothing is written before the cluster answers"
    both = subprocess.run(
        fuzz(store, "tcp://127.0.0.1:1", 2, "--workers", "2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert both.returncode == 2
    assert "--workers 2 with --cluster" in both.stderr
