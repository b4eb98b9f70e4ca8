"""Invariants for your own world, ready to use (the public library).

Each returns a fresh invariant; name it in a scenario's ``[[invariants]]`` (with
``args``) or pass the result to :meth:`dnschaos.Simulation.invariant`::

    [[invariants]]
    function = "dnschaos.invariants:never_empty"
    args = {name = "www.example.com", type = "A"}

* :func:`never_empty` ``(name, type="A")``: once the view answers the name, it never
  answers with no address (after every step);
* :func:`no_foreign_delete` ``()``: a value one actor wrote is not removed by another
  (after every step);
* :func:`converges_to` ``(desired)``: at the end the API holds exactly these values (an end
  invariant: it carries ``when="end"``);
* :func:`no_actor_error` ``()``: no actor ended with an exception (an end invariant; the
  default ``no-actor-error`` judges this already).

An invariant returns ``None`` or ``True`` when it holds, ``False`` or a message (or a
:class:`Failed` naming what it is about) when it does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dnschaos.checkers import actor_errors
from dnschaos.world.invariants import Failed

Entry = dict[str, Any]


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


@dataclass
class never_empty:  # a class used like a function: never_empty("www.example.com")
    """Once DNS answers ``name`` (``type``) with addresses, it never answers with none."""

    name: str
    type: str = "A"
    _answered: bool = field(default=False, repr=False)

    def fresh(self) -> never_empty:
        return never_empty(self.name, self.type)

    def __call__(self, view: Any) -> Failed | None:
        got = view.answer(self.name, self.type)
        if got:
            self._answered = True
            return None
        if self._answered:
            return Failed(f"{_fqdn(self.name)} {self.type} answers with no address", (self.name,))
        return None


# "UPSERT www.example.com. A [id] 192.0.2.1,192.0.2.2" as dnschaos.sim.hooks summarizes it
_CHANGE = re.compile(
    r"^(?P<action>\w+) (?P<name>\S+) (?P<type>\S+)(?: \[[^\]]*\])? ?(?P<values>.*)$"
)


def parse_change(text: str) -> tuple[str, str, str, tuple[str, ...]]:
    m = _CHANGE.match(text)
    if m is None:
        return ("?", "?", "?", ())
    values = tuple(v for v in m["values"].split(",") if v)
    return m["action"], m["name"], m["type"], values


def applied_changes(history: Iterable[Entry]) -> list[tuple[Entry, Entry]]:
    """(invoke, complete) pairs of the actors' successful ChangeResourceRecordSets calls."""
    pending: dict[str, Entry] = {}
    out = []
    for e in history:
        if e["kind"] == "invoke" and e["op"] == "ChangeResourceRecordSets":
            pending[e["actor"]] = e
        elif e["kind"] == "complete" and e["op"] == "ChangeResourceRecordSets":
            call = pending.pop(e["actor"], None)
            if call is not None and e["outcome"].get("status") == 200:
                out.append((call, e))
    return out


@dataclass
class no_foreign_delete:
    """A value one actor wrote (CREATE or UPSERT) is not removed by another actor (DELETE,
    or an UPSERT without it), until its writer removes it itself."""

    _count: int = field(default=-1, repr=False)
    _last: Failed | None = field(default=None, repr=False)

    def fresh(self) -> no_foreign_delete:
        return no_foreign_delete()

    def __call__(self, view: Any) -> Failed | None:
        pairs = applied_changes(view.history)
        if len(pairs) != self._count:
            self._count = len(pairs)
            self._last = foreign_deletes(pairs)
        return self._last


def foreign_deletes(pairs: Sequence[tuple[Entry, Entry]]) -> Failed | None:
    owner: dict[tuple[str, str, str], str] = {}
    failures: list[str] = []
    names: set[str] = set()
    for call, _done in pairs:
        actor = call["actor"]
        for text in call["params"].get("changes", []):
            action, name, rtype, values = parse_change(text)
            if action in ("DELETE", "UPSERT"):
                kept = set(values) if action == "UPSERT" else set()
                for key, who in sorted(owner.items()):
                    if key[:2] != (name, rtype) or key[2] in kept:
                        continue
                    del owner[key]
                    if who != actor:
                        failures.append(
                            f"{actor} removed {name} {rtype} {key[2]}, written by {who}"
                        )
                        names.add(name)
            if action in ("CREATE", "UPSERT"):
                for value in values:
                    owner[(name, rtype, value)] = actor
    if failures:
        return Failed("; ".join(failures), tuple(sorted(names)))
    return None


def _factory(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn.factory = True  # type: ignore[attr-defined]
    return fn


@_factory
def converges_to(desired: Mapping[Any, Any]) -> Callable[[Any], Failed | None]:
    """An end invariant: the API holds these values at the end. Keys are names (type A),
    ``"name/TYPE"`` or ``(name, type)``; values a list of values or one value."""
    wanted: dict[tuple[str, str], tuple[str, ...]] = {}
    for key, value in desired.items():
        if isinstance(key, tuple):
            name, rtype = key
        else:
            name, _, rtype = str(key).partition("/")
        values = (value,) if isinstance(value, str) else tuple(value)
        wanted[(_fqdn(name), rtype or "A")] = tuple(sorted(values))

    def converges(history: Any) -> Failed | None:
        wrong: list[tuple[str, str]] = []  # (name, what is wrong with it)
        for (name, rtype), values in sorted(wanted.items()):
            got = tuple(sorted(history.record(name, rtype)))
            if got != values:
                wrong.append((name, f"{name} {rtype} is {list(got)}, not {list(values)}"))
        if wrong:
            names = tuple(name for name, _ in wrong)
            return Failed("did not converge: " + "; ".join(text for _, text in wrong), names)
        return None

    converges.when = "end"  # type: ignore[attr-defined]
    return converges


@_factory
def no_actor_error() -> Callable[[Any], Failed | None]:
    """An end invariant: no actor ended with an exception (the default ``no-actor-error``)."""

    def check(history: Any) -> Failed | None:
        found = actor_errors(history)
        if found:
            return Failed("; ".join(v.detail for v in found), tuple(v.endpoint for v in found))
        return None

    check.when = "end"  # type: ignore[attr-defined]
    return check


__all__ = [
    "Failed",
    "applied_changes",
    "converges_to",
    "foreign_deletes",
    "never_empty",
    "no_actor_error",
    "no_foreign_delete",
    "parse_change",
]
