"""Reading one table of a scenario file: every key known, every value of its declared type.

A misspelled key, a value of the wrong type or out of range is refused with an error
that names the file, the key as a path (``faults[0].match.actr``), the bad value and
what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.inputs import MAX_SECONDS
from dnschaos.keys import Key, name_problem
from dnschaos.scenario.lines import line_of


class ScenarioError(UsageError):
    """A scenario file that does not validate (exit 2)."""


TYPE_NAMES: Final = {
    float: "a number",
    int: "an integer",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}
_ITEM_NOUNS: Final = {"record_types": "a record type", "mitigations": "a mitigation"}


class Table:
    """One TOML table being read: every key must be known, every value of its type."""

    def __init__(self, source: str, path: str, data: Any) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, Mapping):
            self.fail(path, data, "a table")
        self.data = dict(data)
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        """The file, the line when it is found, and the key: ``ops.toml:6: scenario.duration``."""
        line = line_of(self.source, key)
        return f"{self.source}:{line}: {key}" if line is not None else f"{self.source}: {key}"

    def fail(self, key: str, value: Any, wanted: str, choices: str = "") -> None:
        extra = f"; {choices}" if choices else ""
        raise ScenarioError(f"{self.at(key)}: {value!r} is not {wanted}{extra}")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, kind: type, default: Any = None, *, required: bool = False) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ScenarioError(f"{self.at(self.key(name))}: missing; it is required")
            return default
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(self.key(name), value, TYPE_NAMES.get(kind, kind.__name__))
        if kind is float and not math.isfinite(value):
            self.fail(self.key(name), value, "a finite number")
        if kind is float and abs(value) > MAX_SECONDS:
            self.fail(self.key(name), value, f"a number from -{MAX_SECONDS:g} to {MAX_SECONDS:g}")
        return value

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        value = float(self.get(name, float, default))
        if value < minimum or math.isnan(value):
            self.fail(self.key(name), value, f"a number >= {minimum:g}")
        return value

    def name(self, key: str, default: str | None = None) -> str:
        """A name the scenario gives (a scenario, an actor, a fault): the one character set
        of :data:`dnschaos.keys.NAME_CHARS`."""
        value = self.get(key, str, default, required=default is None)
        problem = name_problem(value)
        if problem is not None:
            self.fail(self.key(key), value, problem)
        return str(value)

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(name, str, default, required=default is None)
        if value not in choices:
            self.fail(self.key(name), value, "allowed", f"choose one of {', '.join(choices)}")
        return str(value)

    def sub(self, name: str, *, required: bool = False) -> Table | None:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ScenarioError(f"{self.at(self.key(name))}: missing; it is required")
            return None
        return Table(self.source, self.key(name), self.data[name])

    def need(self, name: str) -> Table:
        table = self.sub(name, required=True)
        assert table is not None
        return table

    def items(self, name: str) -> list[Table]:
        """An array of tables (``[[world.zones]]``), each to be read on its own."""
        return [
            Table(self.source, self.key(f"{name}[{i}]"), item)
            for i, item in enumerate(self.get(name, list, []))
        ]

    def done(self, allowed: Sequence[str]) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            where = self.at(self.key(unknown[0]))
            raise ScenarioError(
                f"{where}: unknown key; allowed here: {', '.join(sorted(set(allowed)))}"
            )

    def value(self, key: Key) -> Any:
        """One declared key, read and checked as declared."""
        default = None if key.required else key.default
        if key.choices and key.type is str:
            if default is None and not key.required and key.name not in self.data:
                self.used.add(key.name)
                return None  # optional, and its absence means something of its own
            return self.choice(key.name, key.choices, default)
        value = self.get(key.name, key.type, default, required=key.required)
        if value is None or key.type is bool:
            return value
        if key.type is list:
            for item in value:
                wanted = TYPE_NAMES.get(key.items, "a value") if key.items else ""
                if key.items is not None and not isinstance(item, key.items):
                    self.fail(self.key(key.name), item, wanted)
                if key.choices and item not in key.choices:
                    self.fail(
                        self.key(key.name),
                        item,
                        _ITEM_NOUNS.get(key.name, "allowed"),
                        f"choose from {', '.join(key.choices)}",
                    )
            return value
        what = "an integer" if key.type is int else "a number"
        if key.minimum is not None and value < key.minimum:
            self.fail(self.key(key.name), value, f"{what} >= {key.minimum:g}{_why(key)}")
        if key.maximum is not None and value > key.maximum:
            self.fail(self.key(key.name), value, f"{what} <= {key.maximum:g}{_why(key)}")
        return value

    def read(self, keys: Sequence[Key], *, more: Sequence[str] = ()) -> dict[str, Any]:
        """Every declared key of the table, checked; an undeclared one is refused
        (``more``: keys read elsewhere that belong here too)."""
        values = {k.name: self.value(k) for k in keys}
        self.done((*(k.name for k in keys), *more))
        return values

    def distinct(self, key: str, names: Sequence[str], what: str) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ScenarioError(
                    f"{self.at(self.key(key))}: {what} {name!r} is given twice; "
                    "give each a name of its own"
                )
            seen.add(name)


def _why(key: Key) -> str:
    """The reason for a limit, when the key's description gives one (after "; ")."""
    _, sep, reason = key.description.partition("; ")
    return f" ({reason})" if sep else ""


__all__ = ["TYPE_NAMES", "ScenarioError", "Table"]
