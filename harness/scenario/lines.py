"""Where a key is written in a scenario file: its line, for error messages.

TOML readers return values without positions, so the line is found again in the text:
table headers (``[a.b]``, ``[[a.b]]``, counted to give array indexes) and ``key =``
lines are followed to the key's path (``faults[0].match.actr``). When the key sits in an
inline table or a multi-line array, the line of the key that holds it is given, or the
line of the last key itself when it is written once there. No line is better than a
wrong one: anything not found gives None.
"""

from __future__ import annotations

import re
from pathlib import Path

Segment = str | int
_HEADER = re.compile(r"^\[(\[)?\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"^([A-Za-z0-9_\-\"'. ]+?)\s*=")
_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _segments(path: str) -> tuple[Segment, ...]:
    return tuple(name if name else int(index) for name, index in _PATH.findall(path))


def _dotted(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]


def line_of(source: str, path: str) -> int | None:
    """The line of ``source`` (a file) on which the key ``path`` is written, if found."""
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    target = _segments(path)
    counts: dict[tuple[Segment, ...], int] = {}
    prefix: tuple[Segment, ...] = ()
    container: tuple[int, int] | None = None  # (depth, line) of the deepest key holding it
    lines = text.splitlines()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header is not None and not _KEY.match(line):
            resolved: tuple[Segment, ...] = ()
            for name in _dotted(header[2]):
                resolved += (name,)
                if resolved in counts:
                    resolved += (counts[resolved] - 1,)
            if header[1]:  # [[array]]: one more element
                key = resolved if not isinstance(resolved[-1], int) else resolved[:-1]
                counts[key] = counts.get(key, 0) + 1
                counts = {k: v for k, v in counts.items() if not _under(k, key)}
                resolved = (*key, counts[key] - 1)
            prefix = resolved
            found = _match(prefix, target, number, container)
            if found is True:
                return number
            container = found or container
            continue
        key_line = _KEY.match(line)
        if key_line is None:
            continue
        full = prefix + tuple(_dotted(key_line[1]))
        found = _match(full, target, number, container)
        if found is True:
            return number
        if found:
            container = found
    if container is None:
        return None
    return _refine(lines, container[1], target)


def _under(key: tuple[Segment, ...], parent: tuple[Segment, ...]) -> bool:
    return len(key) > len(parent) and key[: len(parent)] == parent


def _match(
    full: tuple[Segment, ...],
    target: tuple[Segment, ...],
    number: int,
    container: tuple[int, int] | None,
) -> bool | tuple[int, int] | None:
    if full == target:
        return True
    if target[: len(full)] == full and (container is None or len(full) >= container[0]):
        return (len(full), number)
    return None


def _refine(lines: list[str], start: int, target: tuple[Segment, ...]) -> int:
    """Within the value that starts on line ``start``: the line of the last key of the
    path, when that key is written once before the next table header."""
    last = target[-1]
    if not isinstance(last, str):
        return start
    pattern = re.compile(rf"(^|[{{,\s]){re.escape(last)}\s*=")
    hits = []
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if number > start and _HEADER.match(line.strip()) and not _KEY.match(line.strip()):
            break
        if (number > start and pattern.search(line)) or (
            number == start and pattern.search(line.partition("=")[2])
        ):
            hits.append(number)
    return hits[0] if len(hits) == 1 else start


__all__ = ["line_of"]
