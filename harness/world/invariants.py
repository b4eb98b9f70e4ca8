"""User invariants: how they are called and judged, and a small library of common ones.

A step invariant is ``check(view) -> None | True | False | str``: ``None`` or ``True``
holds; ``False`` or a message is a violation (the message says what is wrong). It is
called after every step that changed anything (an AWS call, a clock jump, an
actor's error), with a :class:`~dnschaos.world.view.View`. Each time an invariant
goes from holding to violated, a ``violation`` entry joins the history, with the
names the invariant read; the run stops there unless told to keep going.

An end invariant (``when="end"``) is called once, after the run, with the whole
history (a list of entries that can also say what the world held at the end:
``history.records(zone)``, ``history.record(name, type)``, ``history.items(table)``).

Library (each returns a fresh invariant; pass the result in ``[[invariants]]`` with
``args`` or to :meth:`dnschaos.Simulation.invariant`):

* :func:`never_empty` ``(name, type="A")``: once DNS answers the name, it never answers empty;
* :func:`no_foreign_delete` ``()``: a value one actor wrote is not removed by another;
* :func:`converges_to` ``(desired)``: at the end the API holds exactly these values;
* :func:`no_actor_error` ``()``: no actor ended with an exception (on by default).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dnschaos.checkers import Stream, Violation, actor_errors
from dnschaos.workload import Invariant
from dnschaos.world.config import InvariantSpec, WorldSpec, is_ref, load_ref

Entry = dict[str, Any]
Check = Callable[[Iterable[Entry]], list[Violation]]


@dataclass
class Failed:
    """A violation with the names it is about (what its story tells the writes to)."""

    message: str
    names: tuple[str, ...] = ()


def outcome(value: Any) -> Failed | None:
    """An invariant's return value: None when it holds."""
    if value is None or value is True:
        return None
    if value is False:
        return Failed("violated")
    if isinstance(value, Failed):
        return value
    if isinstance(value, str):
        return Failed(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        return Failed("; ".join(str(v) for v in value))
    return Failed(f"returned {value!r} (return None or True when it holds)")


def make(spec: InvariantSpec) -> Callable[[Any], Any]:
    """The callable of one invariant for one run: a factory called with its args, and a
    library invariant's state fresh for the run."""
    fn = load_ref(spec.function, f"invariant {spec.label}")
    if spec.args or inspect.isclass(fn) or getattr(fn, "factory", False):
        fn = fn(**dict(spec.args))
    fresh = getattr(fn, "fresh", None)
    if callable(fresh):
        fn = fresh()
    return fn


def checks(world: WorldSpec, named: Callable[[str], Any]) -> dict[str, Invariant]:
    """The invariants of the world the user describes, by name. An entry that names an
    invariant of the scenario instead of a function (``active-plan-never-deleted``) is
    looked up with ``named``, which refuses one the scenario cannot judge."""
    out: dict[str, Invariant] = {}
    for spec in world.invariants:
        if isinstance(spec.function, str) and not is_ref(spec.function):
            out[spec.label] = named(spec.function)
        elif spec.when == "end":
            out[spec.label] = Invariant(_end_check(spec), safety=False)
        else:
            out[spec.label] = Invariant(
                _step_check(spec.label), stream=functools.partial(_StepStream, spec.label)
            )
    return out


class _StepStream(Stream):
    """A step invariant's violations as the observer records them, one entry at a time (an
    invariant that raised is left to the final judging, which reports it as unknown)."""

    def __init__(self, label: str) -> None:
        self.name = label

    def feed(self, e: Entry) -> list[Violation]:
        if e["kind"] == "violation" and e["invariant"] == self.name:
            names = e.get("read") or ["-"]
            return [Violation(self.name, names[0], e["t"], e["detail"], e["seq"])]
        return []


def _step_check(label: str) -> Check:
    def check(history: Iterable[Entry]) -> list[Violation]:
        found = []
        for e in history:
            if e["kind"] == "invariant-error" and e["invariant"] == label:
                raise RuntimeError(f"the invariant raised {e['error']}")
            if e["kind"] == "violation" and e["invariant"] == label:
                names = e.get("read") or ["-"]
                found.append(Violation(label, names[0], e["t"], e["detail"], e["seq"]))
        return found

    return check


def _end_check(spec: InvariantSpec) -> Check:
    def check(history: Iterable[Entry]) -> list[Violation]:
        from dnschaos.world.binding import harness_scope
        from dnschaos.world.view import FinalView

        entries = list(history)
        fn = make(spec)
        with harness_scope():
            failed = outcome(fn(Final(entries, FinalView(entries))))
        if failed is None:
            return []
        last = entries[-1] if entries else {"t": 0.0, "seq": 0}
        where = failed.names[0] if failed.names else "-"
        t, seq = float(last["t"]), int(last["seq"])
        return [Violation(spec.label, where, t, failed.message, seq)]

    return check


class Final(list[Entry]):
    """The whole history, and what the world held at its end."""

    def __init__(self, entries: Sequence[Entry], view: Any) -> None:
        super().__init__(entries)
        self.view = view

    def records(self, zone: str) -> Any:
        return self.view.records(zone)

    def served(self, zone: str) -> Any:
        return self.view.served(zone)

    def record(self, name: str, rtype: str) -> tuple[str, ...]:
        got: tuple[str, ...] = self.view.record(name, rtype)
        return got

    def items(self, table: str) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = self.view.items(table)
        return got


# ---------------------------------------------------------------------- the library


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
        wrong = []
        for (name, rtype), values in sorted(wanted.items()):
            got = tuple(sorted(history.record(name, rtype)))
            if got != values:
                wrong.append(f"{name} {rtype} is {list(got)}, not {list(values)}")
        if wrong:
            return Failed("did not converge: " + "; ".join(wrong), tuple(n for n, _ in wanted))
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
    "converges_to",
    "never_empty",
    "no_actor_error",
    "no_foreign_delete",
]
