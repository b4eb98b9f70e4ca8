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

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from dnschaos.events import Event
from dnschaos.sim.clock import Clock
from dnschaos.sim.scheduler import Choice


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class History:
    def __init__(self, start: float, clock: Clock | None = None) -> None:
        self.start = start
        self.clock = clock  # the run's clock, for stamping the automation's events
        self._entries: list[dict[str, Any]] = []
        self._lines: list[str] = []
        self._wall: list[float] = []
        self.newest_plan = 0  # kept current, so waits on "N plans later" cost nothing
        self._wall0 = time.monotonic()
        # Under the scheduler one actor appends at a time; with --clock real threads race.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._entries)

    def append(self, kind: str, t: float, **fields: Any) -> dict[str, Any]:
        with self._lock:
            entry = {
                "seq": len(self._entries),
                "t": round(t - self.start, 3),
                "kind": kind,
                **fields,
            }
            line = _canonical(entry)  # fails now, not at digest time, on a value JSON cannot hold
            self._entries.append(entry)
            self._lines.append(line)
            self._wall.append(time.monotonic() - self._wall0)
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
        return [e for e in self._entries if e["kind"] == kind]

    def jsonl(self, wall: bool = False) -> str:
        """The canonical history; with ``wall=True`` each line also carries its wall seconds."""
        if not wall:
            return "".join(line + "\n" for line in self._lines)
        return "".join(
            _canonical({**entry, "wall": round(w, 6)}) + "\n"
            for entry, w in zip(self._entries, self._wall, strict=True)
        )

    def digest(self) -> str:
        h = hashlib.sha256()
        for line in self._lines:
            h.update(line.encode())
            h.update(b"\n")
        return h.hexdigest()


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
