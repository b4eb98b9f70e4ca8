"""Reading the files dnschaos is given: one reader for every one of them.

Scenario TOML, result JSON, a campaign store's ``campaign.json``, ``coverage.json`` and
``corpus.json``, history and journal JSON lines all come in through here, so that
whatever is in them (not text, not JSON, truncated, nested thousands deep, ``1e400``,
``NaN``, a number of 5,000 digits, an array where an object belongs) ends as a
:class:`~dnschaos.errors.UsageError` (exit 2) that names the file and the key, before
anything runs or is written. The loaders above this check what the values mean
(:class:`~dnschaos.scenario.table.Table` for tables of keys, the result schema for
results); this module guarantees they are handed plain, finite, shallow data.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from dnschaos.errors import UsageError

# Deeper than anything dnschaos writes (a result nests about 8 levels): the code that
# walks what was read (schema checks, freezing a spec) recurses, and Python's stack
# does not go much deeper than 1,000.
MAX_DEPTH: Final = 64
# The largest numbers a file may hold: data (a timestamp, an item of a table) stays far
# below MAX_NUMBER, and an integer (a seed, a count) fits 64 bits. What the model takes
# as seconds or amounts (a scenario's keys, a fault's values, a recorded delay) stays at
# or below MAX_SECONDS (31 years): more is a typo or an attack, and overflows clocks,
# deadlines and timeouts (threading's wait takes at most about 9.2e9 s).
MAX_NUMBER: Final = 1e15
MAX_INTEGER: Final = 2**63 - 1
MAX_SECONDS: Final = 1e9


class InputError(UsageError):
    """A file that cannot be read as what it should be (exit 2)."""


def read_text(
    path: str | Path,
    what: str,
    *,
    error: type[UsageError] = InputError,
    source: str | None = None,
) -> str:
    """The text of ``path``, a ``what`` (e.g. "a result .json file"), as UTF-8; ``source``
    names it in messages (default: the path)."""
    source = str(path) if source is None else source
    if "\x00" in str(path):
        raise error(f"{source!r}: a NUL byte is in no file name; give {what}")
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{source}: no such file; give {what}") from None
    except IsADirectoryError:
        raise error(f"{source}: is a directory; give {what}") from None
    except UnicodeDecodeError:
        raise error(f"{source}: not UTF-8 text; give {what}") from None
    except OSError as exc:
        raise error(f"{source}: cannot be read ({exc.strerror or exc}); give {what}") from None


def parse_json(text: str, source: str) -> Any:
    """JSON text, refused unless it is plain, finite and at most :data:`MAX_DEPTH` deep."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # a float beyond range, an integer of thousands of digits
        raise InputError(f"{source}: not JSON dnschaos can read: {exc}") from None
    check_plain(value, source)
    return value


def parse_toml(text: str, source: str, *, error: type[UsageError] = InputError) -> dict[str, Any]:
    """TOML text, refused unless it is plain, finite and at most :data:`MAX_DEPTH` deep."""
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise error(f"{source}: not TOML dnschaos can read: {exc}") from None
    check_plain(
        value, source, finite=False, error=error
    )  # the scenario's keys say where inf is allowed
    return value


def parse_value(raw: str, source: str, *, error: type[UsageError] = InputError) -> Any:
    """A value given on the command line (``--set``, ``--fault``): TOML (``5``, ``1.5``,
    ``true``, ``[1, 2]``, ``"x"``), or else a bare word, taken as a string."""
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    except RecursionError:
        raise error(f"{source}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise error(f"{source}: not a value dnschaos can read: {exc}") from None
    check_plain(value, source, finite=False, error=error)
    return value


def read_json(path: str | Path, what: str) -> Any:
    return parse_json(read_text(path, what), str(path))


def read_object(path: str | Path, what: str) -> dict[str, Any]:
    """A JSON file that must hold an object."""
    value = read_json(path, what)
    if not isinstance(value, dict):
        raise InputError(f"{path}: (top level): {_kind(value)} is not an object; give {what}")
    return value


def read_lines(path: str | Path, what: str, source: str | None = None) -> list[Any]:
    """The values of a JSON-lines file (a history, a journal), one a line; the caller
    checks what each is. ``source`` names the file in messages (default: its path)."""
    source = str(path) if source is None else source
    out = []
    for number, line in enumerate(read_text(path, what, source=source).splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse_json(line, source))
        except InputError as exc:
            raise InputError(f"{exc} (line {number}); give {what}") from None
    return out


def check_plain(
    value: Any, source: str, *, finite: bool = True, error: type[UsageError] = InputError
) -> None:
    """Refuse data deeper than :data:`MAX_DEPTH`, numbers beyond :data:`MAX_NUMBER` and
    (``finite``) non-finite floats, naming the key. Iterative: it must not itself run out
    of stack on the data it refuses."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        at = f"{source}: {where}" if where else source
        if depth > MAX_DEPTH:
            raise error(f"{at}: nested too deeply (at most {MAX_DEPTH} levels)")
        if isinstance(item, Mapping):
            stack.extend(
                (v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in item.items()
            )
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(item))
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int | float):
            if isinstance(item, float) and not math.isfinite(item):
                if finite:
                    raise error(f"{at}: {item} is not finite")
                continue
            limit = MAX_INTEGER if isinstance(item, int) else MAX_NUMBER
            if abs(item) > limit:
                raise error(
                    f"{at}: {item:.6g} is beyond the largest number dnschaos takes ({limit:.6g})"
                )


@contextmanager
def shape(source: str, what: str) -> Iterator[None]:
    """Reading data already parsed into objects of its own: a missing key or a value of the
    wrong type found there is the file's fault, not the harness's (exit 2)."""
    try:
        yield
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"{source}: not {what} ({detail})") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply; not {what}") from None


def seal(payload: Mapping[str, Any], fields: tuple[str, ...]) -> str:
    """A digest of ``fields`` of ``payload``: written with a file, it tells on resume or
    replay that they were edited since (a run would no longer be the one recorded)."""
    text = json.dumps({f: payload.get(f) for f in fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_seal(payload: Mapping[str, Any], fields: tuple[str, ...], source: str, fix: str) -> None:
    """Refuse a file whose ``seal`` does not match ``fields`` (one without a seal was
    written before seals were; it is taken as it is)."""
    stored = payload.get("seal")
    if stored is None:
        return
    if stored != seal(payload, fields):
        raise InputError(
            f"{source}: edited since it was written (its seal no longer matches "
            f"{', '.join(fields)}); {fix}"
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value


def _kind(value: Any) -> str:
    names: dict[type, str] = {list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


__all__ = [
    "MAX_DEPTH",
    "MAX_INTEGER",
    "MAX_NUMBER",
    "MAX_SECONDS",
    "InputError",
    "check_plain",
    "check_seal",
    "parse_json",
    "parse_toml",
    "parse_value",
    "read_json",
    "read_lines",
    "read_object",
    "read_text",
    "seal",
    "shape",
]
