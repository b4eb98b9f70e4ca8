"""The record of a systematic delay search, so that an interrupted one can be continued.

``dnschaos explore --store DIR`` appends one line to ``DIR/explore.jsonl`` for every
chain of schedules it finishes (and a first line naming the search: its spec and its
space). ``--resume`` reads them back and runs the search again from the start, taking
each recorded chain's result instead of running it: the levels are drawn from the
results, so the search meets the same chains in the same order and goes on where the
record ends. A resumed search reports what one uninterrupted search would have.

A line is written (and flushed to disk) only once its chain is finished: a Ctrl-C, a
SIGTERM or a crash loses at most the chain under way. A last line cut short by a crash
is dropped on resume; any other damage is an input error naming the file and line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.explore.chains import ChainDone, chain_from, chain_json
from dnschaos.inputs import InputError, parse_json, read_text, shape

FILE: Final = "explore.jsonl"
FORMAT: Final = 1
WHAT: Final = "the explore.jsonl of a search's --store"


@dataclass
class Journal:
    """The chains a search finished, by level, in the order it finished them (each as the
    JSON object the search made of it); and the file it appends the next ones to."""

    path: Path
    levels: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def open(cls, store: Path, header: dict[str, Any], *, resume: bool) -> Journal:
        """The journal of the search ``header`` names, in ``store``: a new one, or
        (``resume``) the one there, refused unless its header is this one."""
        if store.exists() and not store.is_dir():
            raise UsageError(
                f"--store {store}: is a file; give a directory for the search's record"
            )
        path = store / FILE
        header = {"explore": FORMAT, **header}
        journal = cls(path)
        if not os.path.lexists(path):
            if resume:
                raise UsageError(
                    f"--resume: {path} does not exist; start the search without --resume"
                )
            store.mkdir(parents=True, exist_ok=True)
            journal._append(header)
            return journal
        if not resume:
            raise UsageError(
                f"--store {store}: holds a search already; add --resume to continue it, "
                "or give an empty directory"
            )
        journal._read(header)
        return journal

    def _read(self, header: dict[str, Any]) -> None:
        source = str(self.path)
        text = read_text(self.path, WHAT)
        lines = text.split("\n")
        # A crash mid-write leaves a last line without its newline: that chain never finished.
        torn = lines.pop()
        if not lines:
            raise InputError(f"{source}: empty; give {WHAT}, or start in an empty --store")
        first = parse_json(lines[0], f"{source} (line 1)")
        if not isinstance(first, dict) or first.get("explore") != FORMAT:
            raise InputError(f"{source} (line 1): not the first line of {WHAT}")
        for key, value in header.items():
            if first.get(key) != value:
                shown = json.dumps(first.get(key), sort_keys=True)[:200]
                raise UsageError(
                    f"--resume: {source} records another search (its {key} is {shown}); "
                    "resume with the same scenario, variant, --set values, seed and space "
                    "flags, or start in an empty --store"
                )
        for number, line in enumerate(lines[1:], 2):
            where = f"{source} (line {number})"
            data = parse_json(line, where)
            with shape(where, "a chain of " + WHAT):
                level, index = int(data["level"]), data["chain"]
                have = self.levels.setdefault(level, [])
                if index != len(have):
                    raise ValueError(f"chain {index!r} of level {level} is out of order")
                have.append(data)
        if torn:
            with open(self.path, "r+b") as fh:
                fh.truncate(len(text.encode()) - len(torn.encode()))

    def recorded(self, level: int, chains: int) -> list[ChainDone]:
        """The chains of ``level`` (which has ``chains`` in all) a resumed search takes
        from the record instead of running them."""
        entries = self.levels.get(level, [])
        source = str(self.path)
        if len(entries) > chains:
            raise InputError(
                f"{source}: records {len(entries)} chains at level {level}, which has "
                f"{chains}: it is not the record of this search; start in an empty --store"
            )
        out = []
        for entry in entries:
            where = f"{source} (level {level}, chain {entry['chain']})"
            with shape(where, "a chain of " + WHAT):
                out.append(chain_from(entry))
        return out

    def finished(self, level: int, done: ChainDone) -> None:
        """Record a chain of ``level`` the search finished (its index is the number of
        chains of the level recorded before it)."""
        have = self.levels.setdefault(level, [])
        entry = {"level": level, "chain": len(have), **chain_json(done)}
        have.append(entry)
        self._append(entry)

    def _append(self, data: dict[str, Any]) -> None:
        # Opened for each line: a search writes one a chain, and nothing stays open on exit.
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
