"""Which leftover server directories a start sweeps: those whose owning process is gone.

No DNS server runs here; the directories are made by hand, named as the adapter names
them, in a temporary folder of the test's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dnschaos.adapters.dnsserve import servers as dns_servers


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leftover(parent: Path, kind: str, pid: int, owner: str | None) -> Path:
    directory = parent / f"dnschaos-{kind}-{pid}-abcd1234"
    directory.mkdir()
    (directory / "server.log").write_text("a log\n")
    if owner is not None:
        (directory / "owner").write_text(owner)
    return directory


def own_start() -> str:
    started = dns_servers._start_time(os.getpid())
    assert started is not None
    return started


def test_directories_of_dead_processes_are_swept(tmp: Path) -> None:
    pid = dead_pid()
    with_owner = leftover(tmp, "bind9", pid, f"{pid} 12345\n")
    without_owner = leftover(tmp, "knot", pid, None)
    dns_servers._sweep(tmp)
    assert not with_owner.exists() and not without_owner.exists()


def test_directories_of_live_processes_are_kept(tmp: Path) -> None:
    pid = os.getpid()
    ours = leftover(tmp, "unbound", pid, f"{pid} {own_start()}\n")
    # Made a moment ago by a live process that has not written its owner file yet.
    being_made = leftover(tmp, "bind9", pid, None)
    dns_servers._sweep(tmp)
    assert ours.exists() and being_made.exists()


def test_a_reused_pid_does_not_keep_a_dead_runs_directory(tmp: Path) -> None:
    # Our pid is alive, but the directory's owner started at another time: it was
    # another process, long gone, whose pid we now have.
    pid = os.getpid()
    stale = leftover(tmp, "knot", pid, f"{pid} {int(own_start()) - 1}\n")
    dns_servers._sweep(tmp)
    assert not stale.exists()


def test_only_the_adapters_own_directories_are_touched(tmp: Path) -> None:
    pid = dead_pid()
    others = [
        tmp / f"dnschaos-bind9-{pid}",  # no random part
        tmp / "dnschaos-bind9-abcd1234",  # the old naming, without a pid
        tmp / f"dnschaos-nsd-{pid}-abcd1234",  # not a kind we start
        tmp / f"someone-else-{pid}-abcd1234",
    ]
    for directory in others:
        directory.mkdir()
    a_file = tmp / f"dnschaos-knot-{pid}-abcd1234"
    a_file.write_text("not a directory")
    link = tmp / f"dnschaos-unbound-{pid}-abcd1234"
    target = tmp / "linked"
    target.mkdir()
    link.symlink_to(target)
    dns_servers._sweep(tmp)
    assert all(directory.exists() for directory in others)
    assert a_file.exists() and link.is_symlink() and target.exists()


def test_a_fresh_directory_names_its_owner_and_sweeps_first(tmp: Path) -> None:
    pid = dead_pid()
    stale = leftover(tmp, "bind9", pid, f"{pid} 1\n")
    fresh = dns_servers._fresh_directory("bind9", tmp)
    assert not stale.exists()
    assert fresh.parent == tmp.resolve()
    assert fresh.name.startswith(f"dnschaos-bind9-{os.getpid()}-")
    assert (fresh / "owner").read_text() == f"{os.getpid()} {own_start()}\n"
    dns_servers._sweep(tmp)  # another start of ours: the directory is in use
    assert fresh.exists()


def test_without_workdir_the_temporary_folder_is_used(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    fresh = dns_servers._fresh_directory("unbound", None)
    assert fresh.parent == tmp.resolve()


def test_a_knot_directory_too_deep_for_its_socket_goes_to_a_short_folder(tmp: Path) -> None:
    # Knot binds <directory>/knot.sock, and a Unix socket path holds at most 107 bytes.
    deep = tmp / ("d" * 90)
    deep.mkdir()
    pid = dead_pid()
    stale = leftover(deep, "knot", pid, f"{pid} 1\n")
    fresh = dns_servers._fresh_directory("knot", deep)
    try:
        assert len(str(fresh / "knot.sock")) <= 107
        assert not stale.exists()  # the folder asked for is still swept
    finally:
        dns_servers._remove_directory(fresh)
