"""incident-2025's invariants, judged from a run's history.

The endpoint watcher (:mod:`dnschaos.workloads.incident2025.world`) records an
``observe`` entry for an endpoint whenever what Route 53's control plane holds for it
changes: the root's target and whether it exists, how many addresses the root can
answer with, and the rollback record's target. The checkers below read those entries,
the planner's ``wrote-plan`` events and the enactors' lock events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from dnschaos.checkers import Stream, Violation, over_history, shares_entries

Entry = dict[str, Any]


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
        self.last: dict[str, int] = {}

    def feed(self, e: Entry) -> list[Violation]:
        if e["kind"] != "observe" or e["root"] is None:
            return []
        gen = e["root"]
        top = self.highest.get(e["endpoint"], 0)
        self.highest[e["endpoint"]] = max(top, gen)
        # Report each move of the root below the highest once: another look at the same
        # root (the observer looks after every write to the zone) is the same step back.
        moved = self.last.get(e["endpoint"]) != gen
        self.last[e["endpoint"]] = gen
        if gen >= top or not moved:
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

    return shares_entries(over_history(check))


@shares_entries
@over_history
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


#: The order of the headline (INCIDENT.md's severity: what clients lost first, then the
#: tree, then the rest), after the core's endpoint-never-empty-client.
RANKS: Final = {
    "endpoint-never-empty": 1,
    "active-plan-never-deleted": 2,
    "progress": 3,
    "applied-generation-monotonic": 4,
    "rollback-target-exists": 5,
    "single-lock-holder": 6,
}

Check = Callable[[Iterable[Entry]], list[Violation]]


def named(name: str) -> Check | None:
    """An invariant by name (``progress:300``: progress with its bound), or None."""
    if name.startswith("progress"):
        head, _, bound = name.partition(":")
        if head == "progress":
            return progress(float(bound or 300))
    if name in STREAMS:
        return STREAMS[name].check
    if name == "single-lock-holder":
        return single_lock_holder
    return None


NAMES: Final = (*STREAMS, "single-lock-holder", "progress:SECONDS")


__all__ = [
    "NAMES",
    "RANKS",
    "STREAMS",
    "active_plan_never_deleted",
    "applied_generation_monotonic",
    "endpoint_never_empty",
    "named",
    "progress",
    "rollback_target_exists",
    "single_lock_holder",
]
