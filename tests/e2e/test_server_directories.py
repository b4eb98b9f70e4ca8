"""Real servers leave no directory behind: not when closed, not when their run is killed.

Each test gets a temporary folder of its own (``tempfile.tempdir`` here, ``TMPDIR`` in a
child process), so what it finds there is what it made, whatever else runs on the machine.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnschaos.adapters.dnsserve import servers as dns_servers
from dnschaos.adapters.dnsserve.servers import (
    DnsServerError,
    ServerHandle,
    Tsig,
    ZoneSpec,
    start_authoritative,
    start_unbound,
)
from tests.e2e.test_dns_servers import ZONE, is_dead, require

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The temporary folder the adapter uses during this test: short, since Knot's control
    socket lives in its server directory and a Unix socket path holds at most 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="dcs-", dir="/tmp"))
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def start(kind: str, *, timeout: float = 15.0) -> ServerHandle:
    """An authoritative server, in the temporary folder."""
    tsig = Tsig.generate(random.Random(kind))
    return start_authoritative(kind, [ZoneSpec(ZONE)], tsig, timeout=timeout)


@pytest.fixture
def upstream(tmp: Path) -> Iterator[ServerHandle]:
    require("bind9")
    with start("bind9") as auth:
        yield auth


def server(kind: str, upstream: ServerHandle | None) -> ServerHandle:
    if kind != "unbound":
        return start(kind)
    assert upstream is not None
    return start_unbound([ZONE], (upstream.host, upstream.port))


@pytest.mark.parametrize("kind", ["bind9", "knot", "unbound"])
def test_close_removes_the_directory_and_stop_keeps_it(
    kind: str, tmp: Path, request: pytest.FixtureRequest
) -> None:
    require(kind)
    auth = request.getfixturevalue("upstream") if kind == "unbound" else None
    handle = server(kind, auth)
    directory = handle.directory
    assert directory.parent == tmp.resolve()
    assert directory.name.startswith(f"dnschaos-{kind}-{os.getpid()}-")
    handle.stop()
    assert directory.is_dir(), "a stopped server keeps its directory for a restart"
    handle.restart()
    assert handle.running()
    handle.close()
    assert not handle.running()
    assert not directory.exists()
    handle.close()  # idempotent
    with pytest.raises(DnsServerError, match="closed"):
        handle.restart()
    if auth is not None:
        auth.close()
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("kind", ["bind9", "knot"])
def test_leaving_the_with_block_or_dropping_the_handle_removes_it(kind: str, tmp: Path) -> None:
    require(kind)
    with start(kind) as handle:
        directory = handle.directory
        assert directory.is_dir()
    assert not directory.exists()

    dropped = start(kind)
    directory = dropped.directory
    dropped.stop()
    del dropped
    gc.collect()
    assert not directory.exists()
    assert list(tmp.iterdir()) == []


def test_a_failed_start_leaves_no_directory(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A "server" that exits at once, with whatever arguments.
    monkeypatch.setitem(dns_servers._PROGRAMS, "bind9", ("false", "coreutils"))
    with pytest.raises(DnsServerError, match="exited with status 1") as failed:
        start("bind9")
    assert "server.log" in str(failed.value)  # its last lines are quoted
    assert list(tmp.iterdir()) == []


_KILLED_RUN = textwrap.dedent(
    """
    import random, time
    from dnschaos.adapters.dnsserve.servers import Tsig, ZoneSpec, start_authoritative, start_unbound

    tsig = Tsig.generate(random.Random(1))
    zone = ZoneSpec("orphan.chaos.test.")
    bind9 = start_authoritative("bind9", [zone], tsig)
    knot = start_authoritative("knot", [zone], tsig)
    cache = start_unbound([zone.origin], (bind9.host, bind9.port))
    for server in (bind9, knot, cache):
        print(server.pid, server.directory, flush=True)
    time.sleep(120)
    """
)


def test_the_next_start_sweeps_what_a_killed_run_left(tmp: Path) -> None:
    require("bind9", "knot", "unbound")
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout = child.stdout
    assert stdout is not None
    lines: list[str] = []

    def read() -> None:
        for _ in range(3):
            lines.append(stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=10)
    started = [line.split() for line in lines if line.strip()]
    assert len(started) == 3, f"the child did not start its servers; its stderr:\n{err[-3000:]}"
    pids = [int(pid) for pid, _ in started]
    left = [Path(directory) for _, directory in started]

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(is_dead(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if not is_dead(pid):  # keep them out of the rest of the run
            os.kill(pid, signal.SIGKILL)
    assert all(directory.is_dir() for directory in left), "SIGKILL leaves the directories"
    assert {directory.parent for directory in left} == {tmp.resolve()}

    with start("knot") as handle:
        assert [path.name for path in tmp.iterdir()] == [handle.directory.name]
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("server_kind", ["bind9", "knot"])
def test_a_run_removes_its_servers_directories_when_it_ends(server_kind: str, tmp: Path) -> None:
    require(server_kind)
    from dnschaos.runner import run
    from dnschaos.scenario.spec import RunSpec

    result = run(
        RunSpec(
            "incident-2025-dns",
            variant="safe",
            seed=4,
            dns=server_kind,
            resolver="none",
            overrides=(("scenario.duration", 30.0),),
        )
    )
    assert result.dns is not None and result.dns["server"] == server_kind
    # The servers' directories are gone; what is left is the run's history file, which
    # backs ``result.history`` and goes with the result.
    left = list(tmp.iterdir())
    assert [p.name for p in left if not p.name.startswith("dnschaos-history-")] == []
    del result
    gc.collect()
    assert list(tmp.iterdir()) == []
