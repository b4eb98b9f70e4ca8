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

from dnschaos.checkers import Stream, Violation, shares_entries
from dnschaos.errors import UsageError
from dnschaos.workload import Invariant
from dnschaos.world.config import WHEN, InvariantSpec, WorldSpec, is_ref, load_ref, ref_name

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
        try:
            fn = fn(**dict(spec.args))
        except TypeError as exc:
            given = ", ".join(k for k, _ in spec.args) or "none"
            raise UsageError(
                f"invariant {spec.label}: {exc} (args given: {given}); give the arguments "
                "it takes (args = {...} in [[invariants]], keywords to Simulation.invariant)"
            ) from None
    fresh = getattr(fn, "fresh", None)
    if callable(fresh):
        fn = fresh()
    return fn


def when_of(spec: InvariantSpec) -> str:
    """When an invariant is judged: as the spec says, else as its function declares (a
    ``when`` attribute on it or on what its factory makes: ``converges_to`` is judged at
    the end), else after every step. A spec that contradicts its function is refused."""
    fn = load_ref(spec.function, f"invariant {spec.label}")
    declared = getattr(make(spec), "when", None) or getattr(fn, "when", None)
    if declared not in WHEN:
        declared = None
    if spec.when is not None and declared is not None and spec.when != declared:
        what = (
            "a check of the whole run, judged at the end"
            if declared == "end"
            else "a check of the world after every step"
        )
        raise UsageError(
            f"invariant {spec.label}: when={spec.when!r}, but {ref_name(spec.function)} is "
            f"{what} (it declares when={declared!r}); leave when out"
        )
    return spec.when or declared or "step"


def step_checks(world: WorldSpec) -> list[tuple[str, Callable[[Any], Any]]]:
    """The step invariants of a run, by label, each fresh for the run."""
    world.importable()
    return [
        (spec.label, make(spec))
        for spec in world.invariants
        if not spec.named and when_of(spec) == "step"
    ]


def checks(world: WorldSpec, named: Callable[[str], Any]) -> dict[str, Invariant]:
    """The invariants of the world the user describes, by name. An entry that names an
    invariant of the scenario instead of a function (``active-plan-never-deleted``) is
    looked up with ``named``, which refuses one the scenario cannot judge."""
    world.importable()
    out: dict[str, Invariant] = {}
    for spec in world.invariants:
        if isinstance(spec.function, str) and not is_ref(spec.function):
            out[spec.label] = named(spec.function)
        elif when_of(spec) == "end":
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
    @shares_entries
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
        view = FinalView(entries)
        try:
            with harness_scope():
                got = fn(Final(entries, view))
        except Exception as exc:
            from dnschaos.world.config import where as user_line

            # The user's own line, not the judging frames around it.
            raise RuntimeError(
                f"the invariant raised {type(exc).__name__}: {exc} (at {user_line(exc)})"
            ) from exc
        if isinstance(got, list) and got and all(isinstance(v, Violation) for v in got):
            # A checker of the whole history (``dnschaos.checkers``'s kind): its own
            # violations, each where it happened, under the name the user gave it.
            return [Violation(spec.label, v.endpoint, v.t, v.detail, v.seq) for v in got]
        failed = outcome(got)
        if failed is None:
            return []
        last = entries[-1] if entries else {"t": 0.0, "seq": 0}
        where = failed.names[0] if failed.names else "-"
        t, seq = float(last["t"]), int(last["seq"])
        # What the failure names, when it says; else everything the check looked at.
        read = tuple(sorted(failed.names or view.read))
        return [Violation(spec.label, where, t, failed.message, seq, read)]

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


__all__ = ["Failed", "Final", "checks", "make", "outcome", "step_checks", "when_of"]
