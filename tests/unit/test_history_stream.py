"""The history streams to a file as it is written: the digest, iteration, --history copies
and the temporary file's removal; the safety streams judge as the whole-history checks do."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from dnschaos.history import History
from dnschaos.workloads.incident2025 import invariants as incident


def filled(n: int) -> History:
    h = History(100.0)
    for i in range(n):
        h.append("event", 100.0 + i * 0.5, actor=f"a{i % 3}", event="tick", n=i)
    return h


def test_entries_go_to_the_file_and_the_digest_is_of_its_lines(tmp_path: Path) -> None:
    h = filled(50)
    assert len(h) == 50
    text = h.jsonl()
    assert text.count("\n") == 50
    assert h.digest() == hashlib.sha256(text.encode()).hexdigest()
    entries = list(h)
    assert [e["seq"] for e in entries] == list(range(50))
    assert entries[3] == json.loads(text.splitlines()[3])
    copy = tmp_path / "h.jsonl"
    h.write(str(copy))
    assert copy.read_text() == text
    walled = [json.loads(line) for line in h.jsonl(wall=True).splitlines()]
    assert all("wall" in e for e in walled)
    assert [{k: v for k, v in e.items() if k != "wall"} for e in walled] == entries


def test_reading_while_writing_sees_a_consistent_prefix() -> None:
    h = filled(10)
    reader = iter(h)
    first = next(reader)
    h.append("event", 200.0, actor="late", event="tick")
    rest = list(reader)
    assert first["seq"] == 0 and len(rest) == 9  # the entries there when reading began
    assert len(list(h)) == 11


def test_entries_of_one_kind_are_those_iteration_finds() -> None:
    """of_kind decodes only the lines that can hold the kind: an entry of another kind that
    holds the same key and value in a nested field, or in a string, is not taken for one."""
    h = filled(20)
    h.append("downstream", 130.0, reachable=True, n=1)
    h.append("event", 131.0, actor="a", event="x", nested={"kind": "downstream"})
    h.append("event", 132.0, actor="a", event="y", note='"kind":"downstream"')
    h.append("downstream", 133.0, reachable=False, n=2)
    h.append('down\u00e9 "q"', 134.0, n=3)  # a kind that JSON escapes
    want = [e for e in h if e["kind"] == "downstream"]
    assert [e["n"] for e in want] == [1, 2]
    assert h.of_kind("downstream") == want
    assert h.of_kind('down\u00e9 "q"') == [e for e in h if e["kind"] == 'down\u00e9 "q"']
    assert len(h.of_kind('down\u00e9 "q"')) == 1
    assert h.of_kind("nothing") == []


def test_the_temporary_files_go_with_the_history() -> None:
    h = filled(3)
    paths = [h.path, h._wall_path]
    assert all(os.path.exists(p) for p in paths)
    del h
    gc.collect()
    assert not any(os.path.exists(p) for p in paths)


def test_wall_times_are_kept_on_disk_not_in_memory(tmp_path: Path) -> None:
    # A long run's wall times would otherwise grow its memory by 8 bytes an entry.
    kept = tmp_path / "run.jsonl"
    h = History(100.0, path=str(kept))
    for i in range(1000):
        h.append("event", 100.0 + i, actor="a", event="tick", n=i)
    assert not any(
        isinstance(v, (list, bytearray)) or hasattr(v, "typecode") for v in vars(h).values()
    )
    walls = [json.loads(line)["wall"] for line in h.lines(wall=True)]
    assert os.path.getsize(h._wall_path) == 8 * 1000
    assert len(walls) == 1000 and walls == sorted(walls) and walls[0] >= 0
    h.close()
    assert sorted(os.listdir(tmp_path)) == ["run.jsonl"], "nothing left beside a kept history"
    assert not os.path.exists(h._wall_path)


def observations() -> list[dict[str, object]]:
    rows = [
        ("e1", 1, True, {"A": 2}, None, False),
        ("e1", 3, True, {"A": 2}, 1, True),
        ("e2", 2, True, {"A": 1}, None, False),
        ("e1", 2, True, {"A": 0}, 3, False),  # back, empty, rollback gone
        ("e2", 2, False, {"A": 0}, None, False),  # root's tree gone
        ("e1", 4, True, {"A": 2}, None, False),
        ("e1", 4, True, {"A": 0}, None, False),
    ]
    return [
        {
            "seq": i,
            "t": float(i),
            "kind": "observe",
            "endpoint": ep,
            "root": root,
            "root_exists": exists,
            "addresses": addresses,
            "rollback": rollback,
            "rollback_exists": rollback_exists,
        }
        for i, (ep, root, exists, addresses, rollback, rollback_exists) in enumerate(rows)
    ]


def test_streams_fed_one_entry_at_a_time_find_what_the_checks_find() -> None:
    entries = observations()
    for name, cls in incident.STREAMS.items():
        stream = cls()
        fed = [v for e in entries for v in stream.feed(e)]
        assert fed == cls.check(entries), name
        assert fed, f"{name}: the sample breaks every safety invariant"


def test_a_killed_runs_history_file_is_removed_by_the_next_process(tmp_path: Path) -> None:
    # A run killed with SIGKILL cannot remove its temporary history; the next process does.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"dnschaos-history-{gone.pid}-abc123.jsonl"
    stale_wall = tmp_path / f"dnschaos-history-{gone.pid}-abc124.wall"
    live = tmp_path / f"dnschaos-history-{os.getpid()}-def456.jsonl"  # this process: alive
    other = tmp_path / "dnschaos-history-notes.jsonl"
    for path in (stale, stale_wall, live, other):
        path.write_text("{}\n")
    code = (
        "from dnschaos.history import History\n"
        "h = History(0.0)\n"
        "h.append('note', 0.0)\n"
        "print(h.path)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert not stale.exists() and not stale_wall.exists()
    assert live.exists() and other.exists()
    own = Path(done.stdout.strip())
    assert own.parent == tmp_path and own.name.startswith("dnschaos-history-")
    assert not own.exists(), "the history removes its own file when it goes"
