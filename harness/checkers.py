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
NO_ACTOR_ERROR: Final = "no-actor-error"  # the default invariant of the code under test


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


class Stream:
    """A safety invariant judged an observation at a time, so a run can be watched as it
    goes without looking at its past again (the run keeps no list of it). ``feed`` takes
    any entry and returns the violations it shows; ``check`` runs a fresh stream over a
    whole history."""

    name: str = ""

    def feed(self, e: Entry) -> list[Violation]:
        raise NotImplementedError

    @classmethod
    def check(cls, history: Iterable[Entry]) -> list[Violation]:
        stream = cls()
        return [v for e in history for v in stream.feed(e)]

    def at(self, e: Entry, detail: str) -> list[Violation]:
        """The violation an observation ``e`` shows, told by ``detail``."""
        return [Violation(self.name, e["endpoint"], e["t"], detail, e["seq"])]


class EndpointNeverEmpty(Stream):
    """Once an endpoint has answered, it never answers with zero addresses (control-plane view)."""

    name = "endpoint-never-empty"

    def __init__(self) -> None:
        self.answered: set[str] = set()

    def feed(self, e: Entry) -> list[Violation]:
        if e["kind"] != "observe":
            return []
        counts: dict[str, int] = e["addresses"]
        if all(n > 0 for n in counts.values()):
            self.answered.add(e["endpoint"])
            return []
        if e["endpoint"] not in self.answered:
            return []
        self.answered.discard(e["endpoint"])  # report each outage once
        empty = ", ".join(sorted(t for t, n in counts.items() if n == 0))
        return self.at(e, f"{empty} answers NOERROR with zero addresses")


class ActivePlanNeverDeleted(Stream):
    name = "active-plan-never-deleted"

    def feed(self, e: Entry) -> list[Violation]:
        if e["kind"] != "observe" or e["root"] is None or e["root_exists"]:
            return []
        return self.at(e, f"the root points at plan {e['root']}, whose tree is gone")


class AppliedGenerationMonotonic(Stream):
    name = "applied-generation-monotonic"

    def __init__(self) -> None:
        self.highest: dict[str, int] = {}

    def feed(self, e: Entry) -> list[Violation]:
        if e["kind"] != "observe" or e["root"] is None:
            return []
        gen = e["root"]
        top = self.highest.get(e["endpoint"], 0)
        self.highest[e["endpoint"]] = max(top, gen)
        if gen >= top:
            return []
        return self.at(e, f"the root went back from plan {top} to plan {gen}")


class RollbackTargetExists(Stream):
    name = "rollback-target-exists"

    def feed(self, e: Entry) -> list[Violation]:
        if e["kind"] != "observe" or e["rollback"] is None or e["rollback_exists"]:
            return []
        return self.at(e, f"the rollback record points at plan {e['rollback']}, whose tree is gone")


endpoint_never_empty = EndpointNeverEmpty.check
active_plan_never_deleted = ActivePlanNeverDeleted.check
applied_generation_monotonic = AppliedGenerationMonotonic.check
rollback_target_exists = RollbackTargetExists.check

#: The safety invariants as streams, by name: what a run watches as it goes.
STREAMS: Final[dict[str, type[Stream]]] = {
    s.name: s
    for s in (
        EndpointNeverEmpty,
        ActivePlanNeverDeleted,
        AppliedGenerationMonotonic,
        RollbackTargetExists,
    )
}


def progress(bound: float) -> Callable[[Iterable[Entry]], list[Violation]]:
    """Every plan becomes active (or superseded) on every endpoint within ``bound`` seconds.

    Only the automation's working period is judged: once the operator switched it off
    (an ``operator`` entry ``automation-disabled``), nothing applies plans any more, so
    a plan is due only if it was written at least ``bound`` seconds before that, and
    plans written afterwards (a planner caught mid-step) are not due at all.
    """

    def check(history: Iterable[Entry]) -> list[Violation]:
        # One pass, keeping only what the verdict needs: the history may be longer than
        # memory would like.
        end: float | None = None
        working_end: float | None = None
        root: dict[str, int | None] = {}
        plans: list[tuple[float, int, int]] = []  # (t, generation, seq) of wrote-plan events
        for e in history:
            end = e["t"]
            kind = e["kind"]
            if kind == "observe":
                root[e["endpoint"]] = e["root"]
            elif kind == "event" and e["event"] == "wrote-plan":
                plans.append((e["t"], e["generation"], e["seq"]))
            elif kind == "operator" and e.get("action") == "automation-disabled":
                working_end = e["t"] if working_end is None else min(working_end, e["t"])
        if end is None:
            return []
        cutoff = min(end, end if working_end is None else working_end) - bound
        due = [p for p in plans if p[0] <= cutoff]
        if not due:
            return []
        t_new, gen_new, seq_new = max(due, key=lambda p: p[1])
        out = []
        for endpoint, gen in sorted(root.items()):
            if gen is None or gen < gen_new:
                out.append(
                    Violation(
                        "progress",
                        endpoint,
                        end,
                        f"plan {gen_new} (written at t={t_new:.0f}s) is not active after {bound:.0f}s; the root stays at plan {gen}",
                        seq_new,
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

    def judge(self, history: Iterable[Entry]) -> list[Verdict]:
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
    history: Iterable[Entry], checkers: dict[str, Callable[[Iterable[Entry]], list[Violation]]]
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


def actor_errors(history: Iterable[dict[str, Any]]) -> list[Violation]:
    """``no-actor-error``: an actor of the code under test ended with an exception (its
    ``actor-error`` entry). A user's own actors are judged by it, and so are a user's own
    enactor and planner classes in a built-in scenario."""
    return [
        Violation(
            NO_ACTOR_ERROR,
            e["actor"],
            e["t"],
            f"{e['actor']} raised {e['type']}: {e['message']} (at {e['where']})",
            e["seq"],
        )
        for e in history
        if e["kind"] == "actor-error"
    ]


def invariant_names(scenario: Any) -> list[str]:
    return sorted(for_scenario(scenario))


def chosen(scenario: Any, names: Iterable[str] = ()) -> dict[str, Check]:
    """The invariants a run judges: all of the scenario's, or only the named ones."""
    every = for_scenario(scenario)
    wanted = list(names)
    return {n: c for n, c in every.items() if not wanted or n in wanted}
