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

The library of ready invariants is :mod:`dnschaos.invariants`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dnschaos.checkers import Stream, Violation
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
        try:
            with harness_scope():
                failed = outcome(fn(Final(entries, FinalView(entries))))
        except Exception as exc:
            from dnschaos.world.provision import where as user_line

            # The user's own line, not the judging frames around it.
            raise RuntimeError(
                f"the invariant raised {type(exc).__name__}: {exc} (at {user_line(exc)})"
            ) from exc
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


__all__ = ["Failed", "Final", "checks", "make", "outcome"]
