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


def endpoint_never_empty_client(history: Iterable[Entry]) -> list[Violation]:
    """What clients saw: once a probe got addresses for an endpoint in a view (straight at
    the authoritative server, or through a caching resolver), it never gets NOERROR with
    none. Reads ``probe`` entries: endpoint, view, rtype, rcode, answers."""
    out: list[Violation] = []
    answered: set[tuple[str, str, str]] = set()
    for e in history:
        if e["kind"] != "probe":
            continue
        key = (e["endpoint"], e["view"], e["rtype"])
        if e["rcode"] == "NOERROR" and e["answers"] > 0:
            answered.add(key)
        elif e["rcode"] == "NOERROR" and key in answered:
            out.append(
                Violation(
                    "endpoint-never-empty-client",
                    e["endpoint"],
                    e["t"],
                    f"{e['rtype']} through the {e['view']} view: NOERROR with zero addresses",
                    e["seq"],
                )
            )
            answered.discard(key)  # one report per outage
    return out


def single_lock_holder(history: Iterable[Entry]) -> list[Violation]:
    """No two actors believe they hold one endpoint's lock at the same time.

    An enactor believes it holds a lock from ``lock-taken`` until the expiry it last
    wrote (``held_for`` seconds after a take or renewal), or until it gives the lease
    up: ``lock-releasing`` (it writes nothing more under the lease), ``lock-released``,
    ``release-failed`` or ``lock-lost`` for that endpoint, a ``pass-failed`` (the pass
    and its leases are abandoned), or a crash.
    """
    out: list[Violation] = []
    belief: dict[tuple[str, str], float] = {}  # (endpoint, actor) -> believed until
    for e in history:
        if e["kind"] == "fault" and e.get("action") == "crashed":
            belief = {k: v for k, v in belief.items() if k[1] != e["actor"]}
            continue
        if e["kind"] != "event":
            continue
        if e["event"] == "pass-failed":
            belief = {k: v for k, v in belief.items() if k[1] != e["actor"]}
            continue
        if e["event"] not in _LOCK_BELIEF:
            continue
        key = (e["endpoint"], e["actor"])
        if e["event"] in ("lock-releasing", "lock-released", "release-failed", "lock-lost"):
            belief.pop(key, None)
            continue
        if e["event"] == "lock-taken":
            others = sorted(
                actor
                for (endpoint, actor), until in belief.items()
                if endpoint == e["endpoint"] and actor != e["actor"] and until > e["t"]
            )
            if others:
                out.append(
                    Violation(
                        "single-lock-holder",
                        e["endpoint"],
                        e["t"],
                        f"{e['actor']} took the lock while {', '.join(others)} still believed "
                        "it held it",
                        e["seq"],
                    )
                )
        belief[key] = e["t"] + float(e["held_for"])
    return out


_LOCK_BELIEF: Final = (
    "lock-taken",
    "lock-renewed",
    "lock-releasing",
    "lock-released",
    "release-failed",
    "lock-lost",
)


SAFETY: Final[dict[str, Callable[[Iterable[Entry]], list[Violation]]]] = {
    "endpoint-never-empty": endpoint_never_empty,
    "active-plan-never-deleted": active_plan_never_deleted,
    "applied-generation-monotonic": applied_generation_monotonic,
    "rollback-target-exists": rollback_target_exists,
}

#: Judged after a run (they need the events, or may not apply to every scenario).
AFTER_RUN: Final[dict[str, Callable[[Iterable[Entry]], list[Violation]]]] = {
    "single-lock-holder": single_lock_holder,
    "endpoint-never-empty-client": endpoint_never_empty_client,
}


@dataclass(frozen=True)
class Checker:
    """A named invariant; ``a & b`` runs both, flattened into one composite."""

    name: str
    check: Callable[[Iterable[Entry]], list[Violation]]

    def __and__(self, other: Checker | Composite) -> Composite:
        return Composite((self,)) & other


@dataclass(frozen=True)
class Composite:
    parts: tuple[Checker, ...]

    def __and__(self, other: Checker | Composite) -> Composite:
        more = other.parts if isinstance(other, Composite) else (other,)
        return Composite(self.parts + more)

    def judge(self, history: list[Entry]) -> list[Verdict]:
        return judge(history, {c.name: c.check for c in self.parts})


def checker(name: str) -> Checker:
    """A built-in checker by name (progress takes its bound: ``progress:300``)."""
    if name.startswith("progress"):
        _, _, bound = name.partition(":")
        return Checker("progress", progress(float(bound or 300)))
    table = {**SAFETY, **AFTER_RUN}
    if name not in table:
        raise KeyError(
            f"checker {name!r}: unknown; choose one of {', '.join(sorted(table))}, progress:SECONDS"
        )
    return Checker(name, table[name])


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


# The order in which violations make the headline (the one a story is told about, the
# one a campaign groups and shrinks by): what clients saw first, then the tree, then the
# rest; within a rank, the earliest in the history.
SEVERITY: Final = (
    "endpoint-never-empty-client",
    "endpoint-never-empty",
    "active-plan-never-deleted",
    "progress",
    "applied-generation-monotonic",
    "rollback-target-exists",
    "single-lock-holder",
)


def headline(violations: Iterable[Violation]) -> Violation | None:
    """The one violation everything reports first: the CLI, the plugin, campaigns, the shrinker."""
    rank = {name: i for i, name in enumerate(SEVERITY)}
    found = list(violations)
    if not found:
        return None
    return min(found, key=lambda v: (rank.get(v.invariant, len(rank)), v.seq, v.invariant))


def headline_dict(violations: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """:func:`headline` over violations read back from a result file."""
    rank = {name: i for i, name in enumerate(SEVERITY)}
    found = list(violations)
    if not found:
        return None
    return min(found, key=lambda v: (rank.get(v["invariant"], len(rank)), v["seq"], v["invariant"]))


Check = Callable[[Iterable[Entry]], list[Violation]]


def for_scenario(scenario: Any) -> dict[str, Check]:
    """Every invariant a run of ``scenario`` is judged by, by name."""
    chosen: dict[str, Check] = {
        **SAFETY,
        "single-lock-holder": single_lock_holder,
        "progress": progress(scenario.progress_bound),
    }
    if scenario.dns is not None:  # probes ran: judge what clients saw too
        chosen["endpoint-never-empty-client"] = endpoint_never_empty_client
    return chosen


def invariant_names(scenario: Any) -> list[str]:
    return sorted(for_scenario(scenario))


def chosen(scenario: Any, names: Iterable[str] = ()) -> dict[str, Check]:
    """The invariants a run judges: all of the scenario's, or only the named ones."""
    every = for_scenario(scenario)
    wanted = list(names)
    return {n: c for n, c in every.items() if not wanted or n in wanted}
