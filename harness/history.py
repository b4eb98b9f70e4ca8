"""The record of a run: append-only, canonical JSON Lines, and its digest.

Every entry is a JSON object with ``seq`` (its position), ``t`` (virtual seconds
since the run started, rounded to the millisecond) and ``kind``. The canonical
form (sorted keys, no spaces, one entry a line) is what the digest covers, so
two runs with the same scenario, variant, seed and strategy have byte-identical
histories and the same ``trace_digest``. Wall-clock times are kept beside the
canonical record, not in it: ``jsonl(wall=True)`` adds each entry's wall seconds
since the history began, for reading, never for the digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import struct
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from typing import IO, Any

from dnschaos.events import Event
from dnschaos.sim.clock import Clock
from dnschaos.sim.scheduler import Choice

# One encoder for every entry: json.dumps with options builds a new one each call.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


class History:
    """The run's entries, streamed to a file as they are appended (one canonical line
    each, encoded once), so a run's memory does not grow with its length. The digest is
    kept as the lines are written; reading the history (iterating) reads the file back.
    The file is a temporary one, removed with the history, unless ``path`` names one to
    keep (``dnschaos run --history``)."""

    def __init__(self, start: float, clock: Clock | None = None, path: str | None = None) -> None:
        self.start = start
        self.clock = clock  # the run's clock, for stamping the automation's events
        self.newest_plan = 0  # kept current, so waits on "N plans later" cost nothing
        self._count = 0
        self._hash = hashlib.sha256()
        _sweep_once()
        # Wall seconds beside the record, never in the digest: 8 bytes an entry in a
        # temporary file of their own, so they cost a long run no memory.
        wall_fd, self._wall_path = tempfile.mkstemp(
            prefix=f"{_PREFIX}{os.getpid()}-", suffix=_WALL_SUFFIX
        )
        self._wall = os.fdopen(wall_fd, "wb")
        if path is None:
            fd, self.path = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".jsonl")
            self._file = os.fdopen(fd, "w", encoding="ascii", newline="\n")
            removed = [self.path, self._wall_path]
        else:
            self.path = path
            self._file = open(path, "w", encoding="ascii", newline="\n")  # noqa: SIM115
            removed = [self._wall_path]
        self._finalizer = weakref.finalize(self, _remove, [self._file, self._wall], removed)
        self._wall0 = time.monotonic()
        # Under the scheduler one actor appends at a time; with --clock real threads race.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        """Done with the history: a temporary file is removed now (not when the object is
        collected, which a worker process that ends with ``os._exit`` never reaches), a
        kept one closed. Reading it afterwards is an error."""
        if self._finalizer is not None:
            self._finalizer()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return _read(self.path, self._written())

    def _written(self) -> int:
        """How many entries the file holds, all of them flushed to it."""
        with self._lock:
            self._file.flush()
            return self._count

    def append(self, kind: str, t: float, **fields: Any) -> dict[str, Any]:
        with self._lock:
            entry = {
                "seq": self._count,
                "t": round(t - self.start, 3),
                "kind": kind,
                **fields,
            }
            line = (
                _canonical(entry) + "\n"
            )  # fails now, not at digest time, on a value JSON cannot hold
            self._file.write(line)
            self._hash.update(line.encode())
            self._count += 1
            self._wall.write(_WALL.pack(time.monotonic() - self._wall0))
            return entry

    # Scheduler recorder protocol.
    def choice(self, choice: Choice, t: float) -> None:
        self.append("choice", t, step=choice.step, actor=choice.actor, label=choice.label)

    def clock_jump(self, t_from: float, t_to: float, woken: list[str]) -> None:
        self.append("clock", t_to, t_from=round(t_from - self.start, 3), woken=woken)

    # Automation event sink.
    def __call__(self, event: Event) -> None:
        # The run's clock says when it happened; the actor's own reading is its belief
        # (they differ under clock skew) and is kept only when it differs.
        t = self.clock.now() if self.clock is not None else event.t
        fields = _jsonable(event.fields)
        if abs(event.t - t) > 0.001:
            fields["believed_t"] = round(event.t - self.start, 3)
        if event.kind == "wrote-plan":
            self.newest_plan = max(self.newest_plan, int(event.fields.get("generation", 0)))
        self.append("event", t, actor=event.actor, event=event.kind, **fields)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The entries of one kind, in order. Only lines that hold the kind's canonical
        key and value are decoded (a line is the entry's canonical JSON, so an entry of
        that kind holds them; so may another entry, in a nested value: every decoded entry
        is checked): a long run's history is mostly other kinds."""
        needle = _canonical({"kind": kind})[1:-1]
        return [e for e in _read(self.path, self._written(), needle) if e["kind"] == kind]

    def lines(self, wall: bool = False) -> Iterator[str]:
        """The canonical lines (each ending in a newline); with ``wall=True`` each also
        carries its wall seconds."""
        with self._lock:
            self._file.flush()
            self._wall.flush()
            count = self._count
        walled = open(self._wall_path, "rb") if wall else contextlib.nullcontext(None)  # noqa: SIM115
        with open(self.path, encoding="ascii") as fh, walled as walls:
            for i, line in enumerate(fh):
                if i >= count:
                    break
                if walls is not None:
                    (seconds,) = _WALL.unpack(walls.read(_WALL.size))
                    yield _canonical({**json.loads(line), "wall": round(seconds, 6)}) + "\n"
                else:
                    yield line

    def jsonl(self, wall: bool = False) -> str:
        """The canonical history; with ``wall=True`` each line also carries its wall seconds."""
        return "".join(self.lines(wall))

    def write(self, path: str, wall: bool = False) -> None:
        """Copy the history to ``path`` a line at a time (``dnschaos run --history``)."""
        with open(path, "w", encoding="ascii", newline="\n") as out:
            out.writelines(self.lines(wall))

    def digest(self) -> str:
        with self._lock:
            return self._hash.hexdigest()


def _read(path: str, count: int, needle: str | None = None) -> Iterator[dict[str, Any]]:
    """The first ``count`` entries of the file, decoded; with ``needle``, only those whose
    line holds it."""
    with open(path, encoding="ascii") as fh:
        for line in itertools.islice(fh, count):
            if needle is None or needle in line:
                yield json.loads(line)


_PREFIX = "dnschaos-history-"
_WALL_SUFFIX = ".wall"
_WALL = struct.Struct("<d")
_swept = False


def _sweep_once() -> None:
    """Sweep once a process, the first time it needs a history file."""
    global _swept
    if _swept:
        return
    _swept = True
    sweep()


def sweep() -> None:
    """Remove the temporary history files of processes that are gone (a run killed with
    SIGKILL or SIGTERM cannot remove its own): at the first history of a process, and by
    a campaign once its workers are stopped."""
    folder = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            if not (name.startswith(_PREFIX) and name.endswith((".jsonl", _WALL_SUFFIX))):
                continue
            pid = name[len(_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one we may not signal exists too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(files: list[IO[Any]], paths: list[str]) -> None:
    for fh in files:
        fh.close()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if isinstance(v, (set, frozenset)):
            out[k] = sorted(v)
        elif isinstance(v, tuple):
            out[k] = list(v)
        else:
            out[k] = v
    return out
