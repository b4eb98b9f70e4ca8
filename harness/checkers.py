"""Invariants judged from a run's history, never from the live system.

The runner records an ``observe`` entry for an endpoint whenever what Route 53's
control plane holds for it changes: the root's target and whether it exists, how
many addresses the root can answer with, and the rollback record's target. The
checkers below read those entries (and the planner's ``wrote-plan`` events).

A checker that raises is reported as ``unknown`` with the error, never as a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

PASS: Final = "pass"
FAIL: Final = "fail"
UNKNOWN: Final = "unknown"


@dataclass(frozen=True)
class Violation:
    invariant: str
    endpoint: str
    t: float
    detail: str
    seq: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "endpoint": self.endpoint,
            "t": self.t,
            "detail": self.detail,
            "seq": self.seq,
        }


@dataclass
class Verdict:
    checker: str
    status: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None


Entry = dict[str, Any]


def _observations(history: Iterable[Entry]) -> list[Entry]:
    return [e for e in history if e["kind"] == "observe"]


def endpoint_never_empty(history: Iterable[Entry]) -> list[Violation]:
    """Once an endpoint has answered, it never answers with zero addresses (control-plane view)."""
    out: list[Violation] = []
    answered: set[str] = set()
    for e in _observations(history):
        counts: dict[str, int] = e["addresses"]
        if all(n > 0 for n in counts.values()):
            answered.add(e["endpoint"])
            continue
        if e["endpoint"] in answered:
            empty = ", ".join(sorted(t for t, n in counts.items() if n == 0))
            out.append(
                Violation(
                    "endpoint-never-empty",
                    e["endpoint"],
                    e["t"],
                    f"{empty} answers NOERROR with zero addresses",
                    e["seq"],
                )
            )
            answered.discard(e["endpoint"])  # report each outage once
    return out


def active_plan_never_deleted(history: Iterable[Entry]) -> list[Violation]:
    out: list[Violation] = []
    for e in _observations(history):
        if e["root"] is not None and not e["root_exists"]:
            out.append(
                Violation(
                    "active-plan-never-deleted",
                    e["endpoint"],
                    e["t"],
                    f"the root points at plan {e['root']}, whose tree is gone",
                    e["seq"],
                )
            )
    return out


def applied_generation_monotonic(history: Iterable[Entry]) -> list[Violation]:
    out: list[Violation] = []
    highest: dict[str, int] = {}
    for e in _observations(history):
        gen = e["root"]
        if gen is None:
            continue
        top = highest.get(e["endpoint"], 0)
        if gen < top:
            out.append(
                Violation(
                    "applied-generation-monotonic",
                    e["endpoint"],
                    e["t"],
                    f"the root went back from plan {top} to plan {gen}",
                    e["seq"],
                )
            )
        highest[e["endpoint"]] = max(top, gen)
    return out


def rollback_target_exists(history: Iterable[Entry]) -> list[Violation]:
    out: list[Violation] = []
    for e in _observations(history):
        if e["rollback"] is not None and not e["rollback_exists"]:
            out.append(
                Violation(
                    "rollback-target-exists",
                    e["endpoint"],
                    e["t"],
                    f"the rollback record points at plan {e['rollback']}, whose tree is gone",
                    e["seq"],
                )
            )
    return out


def progress(bound: float) -> Callable[[Iterable[Entry]], list[Violation]]:
    """Every plan becomes active (or superseded) on every endpoint within ``bound`` seconds."""

    def check(history: Iterable[Entry]) -> list[Violation]:
        entries = list(history)
        if not entries:
            return []
        end = entries[-1]["t"]
        root: dict[str, int | None] = {}
        for e in _observations(entries):
            root[e["endpoint"]] = e["root"]
        due = [
            e
            for e in entries
            if e["kind"] == "event" and e["event"] == "wrote-plan" and e["t"] <= end - bound
        ]
        if not due:
            return []
        newest = max(due, key=lambda e: e["generation"])
        out = []
        for endpoint, gen in sorted(root.items()):
            if gen is None or gen < newest["generation"]:
                out.append(
                    Violation(
                        "progress",
                        endpoint,
                        end,
                        f"plan {newest['generation']} (written at t={newest['t']:.0f}s) is not active after {bound:.0f}s; the root stays at plan {gen}",
                        newest["seq"],
                    )
                )
        return out

    return check


SAFETY: Final[dict[str, Callable[[Iterable[Entry]], list[Violation]]]] = {
    "endpoint-never-empty": endpoint_never_empty,
    "active-plan-never-deleted": active_plan_never_deleted,
    "applied-generation-monotonic": applied_generation_monotonic,
    "rollback-target-exists": rollback_target_exists,
}


def judge(
    history: list[Entry], checkers: dict[str, Callable[[Iterable[Entry]], list[Violation]]]
) -> list[Verdict]:
    verdicts = []
    for name, check in checkers.items():
        try:
            found = check(history)
        except Exception as exc:  # a broken checker proves nothing: unknown, never pass
            verdicts.append(Verdict(name, UNKNOWN, error=f"{type(exc).__name__}: {exc}"))
            continue
        verdicts.append(Verdict(name, FAIL if found else PASS, found))
    return verdicts


def overall(verdicts: list[Verdict]) -> str:
    if any(v.status == FAIL for v in verdicts):
        return FAIL
    if any(v.status == UNKNOWN for v in verdicts):
        return UNKNOWN
    return PASS
