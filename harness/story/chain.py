"""What a story is made of: the history indexed for telling, chains of steps, and what
injected faults did to the actors a chain went through.

A teller (a workload's, for its invariants; the core's for the rest) walks a
:class:`Record` and adds :class:`Step` s to a :class:`Chain`; :func:`told` adds the
faults that touched the chain, and :func:`story_lines` orders it into StoryLines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from dnschaos.checkers import Violation

Entry = dict[str, Any]

_SERVICES: Final = {"route-53": "Route 53", "route53": "Route 53", "dynamodb": "DynamoDB"}
_THROTTLED: Final = ("Throttling", "ThrottlingException", "ProvisionedThroughputExceededException")


@dataclass(frozen=True)
class StoryLine:
    """One step of a story: when, who, what, and the history entries (by ``seq``) behind it.

    The report links each line to those entries; the terminal prints ``render()``.
    """

    t: float
    actor: str
    text: str
    seqs: tuple[int, ...] = ()

    def render(self) -> str:
        who = f"{self.actor} " if self.actor else ""
        return f"t={self.t:7.1f}s  {who}{self.text}"


@dataclass
class Call:
    """One AWS call: its invoke and complete entries and the fault hits recorded between."""

    invoke: Entry
    complete: Entry | None = None
    hits: list[Entry] = field(default_factory=list)

    @property
    def took(self) -> float:
        """From the call to its answer (a delay injected after the answer is not in it)."""
        return self.t1 - self.t0

    @property
    def actor(self) -> str:
        return str(self.invoke["actor"])

    @property
    def op(self) -> str:
        return str(self.invoke["op"])

    @property
    def t0(self) -> float:
        return float(self.invoke["t"])

    @property
    def t1(self) -> float:
        return float(self.complete["t"]) if self.complete is not None else self.t0

    @property
    def seq(self) -> int:
        """Where the call took effect (its completion)."""
        return int((self.complete or self.invoke)["seq"])

    @property
    def ok(self) -> bool:
        return self.complete is not None and self.complete["outcome"].get("status") == 200

    @property
    def seqs(self) -> tuple[int, ...]:
        return tuple(int(e["seq"]) for e in (self.invoke, self.complete) if e is not None)

    @property
    def error(self) -> str | None:
        if self.complete is None or self.ok:
            return None
        return str(self.complete["outcome"].get("error") or "error")


class Record:
    """The history, indexed for telling: calls with their fault hits, the actors' own
    events, the faults. A workload extends it with what its own invariants need."""

    def __init__(self, history: Sequence[Entry], until_seq: int | None = None) -> None:
        self.entries = [e for e in history if until_seq is None or e["seq"] <= until_seq]
        self.calls: list[Call] = []
        self.events: list[Entry] = []
        self.faults: list[Entry] = []
        self._hit: dict[int, Call] = {}  # a fault hit's seq -> the call it hit
        pending: dict[str, Call] = {}
        for e in self.entries:
            kind = e["kind"]
            if kind == "invoke":
                call = Call(e)
                pending[str(e["actor"])] = call
                self.calls.append(call)
            elif kind == "complete":
                done = pending.pop(str(e["actor"]), None)
                if done is not None:
                    done.complete = e
            elif kind == "fault":
                self.faults.append(e)
                hit = pending.get(str(e.get("actor")))
                if e.get("action") == "hit" and hit is not None:
                    hit.hits.append(e)
                    self._hit[int(e["seq"])] = hit
            elif kind == "event":
                self.events.append(e)
        self.last_seq = int(self.entries[-1]["seq"]) if self.entries else 0

    def call_of(self, hit: Entry) -> Call | None:
        return self._hit.get(int(hit["seq"]))

    def of(
        self, actor: str, kinds: Iterable[str], after: float, until: float, endpoint: str = ""
    ) -> list[Entry]:
        wanted = set(kinds)
        return [
            e
            for e in self.events
            if e["actor"] == actor
            and e["event"] in wanted
            and after <= e["t"] <= until
            and (not endpoint or e.get("endpoint", endpoint) == endpoint)
        ]

    def after_call(self, call: Call) -> list[Entry]:
        """The caller's own events right after a call (until its next call)."""
        out: list[Entry] = []
        for e in self.entries:
            if e["seq"] <= call.seq:
                continue
            if e["kind"] == "invoke" and e["actor"] == call.actor:
                break
            if e["kind"] == "event" and e["actor"] == call.actor:
                out.append(e)
        return out


# --------------------------------------------------------------------------- words


def n(count: int, noun: str) -> str:
    """A count and its noun: "1 time", "3 times"."""
    return f"{count} {noun if count == 1 else noun + 's'}"


def secs(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def at(t: float) -> str:
    return f"t={t:.1f}s"


def names(names: Iterable[str]) -> str:
    items = list(dict.fromkeys(names))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


# --------------------------------------------------------------------------- a chain


@dataclass
class Step:
    t: float
    at: int  # the seq the step is ordered by (where it took effect)
    actor: str
    text: str
    seqs: tuple[int, ...]


@dataclass
class Chain:
    steps: list[Step] = field(default_factory=list)
    spans: list[tuple[str, float, float]] = field(default_factory=list)

    def add(self, t: float, at: int, actor: str, text: str, seqs: Iterable[int]) -> None:
        self.steps.append(Step(t, at, actor, text, tuple(sorted(set(seqs)))))

    def span(self, actor: str, t0: float, t1: float) -> None:
        """The chain went through ``actor`` from ``t0`` to ``t1``: faults hitting it then count."""
        self.spans.append((actor, t0, t1))


def fault_at(rec: Record, kind: str, t: float) -> Entry | None:
    """The fault of ``kind`` active at ``t`` (activated at or before it, not yet healed)."""
    active: dict[str, Entry] = {}
    for e in rec.faults:
        if e.get("fault_kind") != kind or e["t"] > t:
            continue
        if e.get("action") == "activate":
            active[str(e["fault"])] = e
        elif e.get("action") == "heal" and e["t"] < t:
            active.pop(str(e["fault"]), None)
    return next(iter(active.values()), None)


# --------------------------------------------------------------------------- faults


def fault_steps(rec: Record, chain: Chain) -> None:
    """Injected faults that hit an actor while the chain went through it, with their effect."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for e in rec.faults:
        if e.get("action") != "hit" or not e.get("actor"):
            continue
        actor = str(e["actor"])
        if any(a == actor and t0 <= e["t"] <= t1 for a, t0, t1 in chain.spans):
            groups.setdefault((str(e["fault"]), actor), []).append(e)
    for (name, actor), hits in groups.items():
        text, extra = effect(rec, name, actor, hits)
        chain.add(hits[0]["t"], hits[0]["seq"], actor, text, [*(h["seq"] for h in hits), *extra])
    # A skewed clock shows in the actor's own events (the time it believed); the lock
    # expiries it wrote ran long or short by as much.
    skewed: set[str] = set()
    for e in rec.events:
        actor = str(e["actor"])
        if "believed_t" not in e or actor in skewed:
            continue
        if not any(a == actor and t0 <= e["t"] <= t1 for a, t0, t1 in chain.spans):
            continue
        skewed.add(actor)
        offset = float(e["believed_t"]) - float(e["t"])
        fault = fault_at(rec, "clock-skew", e["t"])
        name = f" (clock-skew fault {fault['fault']})" if fault is not None else ""
        seqs = [e["seq"], *([fault["seq"]] if fault is not None else [])]
        chain.add(
            e["t"],
            e["seq"],
            actor,
            f"had its clock {offset:+.1f} s off{name}: every lock expiry it wrote was "
            f"{abs(offset):.0f} s {'late' if offset > 0 else 'early'}",
            seqs,
        )


def effect(rec: Record, name: str, actor: str, hits: list[Entry]) -> tuple[str, list[int]]:
    """What a fault did to ``actor``'s calls, in words."""
    kind = str(hits[0].get("fault_kind", "fault"))
    calls: list[Call] = []
    for h in hits:
        call = rec.call_of(h)
        if call is not None and call not in calls:
            calls.append(call)
    took = sum(c.took for c in calls)
    ops = names(sorted({str(h.get("op")) for h in hits}))
    services = names(
        sorted(
            {
                _SERVICES.get(str(c.invoke.get("service")), str(c.invoke.get("service")))
                for c in calls
            }
        )
    )
    if kind == "latency":
        # A delay injected after the answer does not show between call and answer.
        if len(calls) <= 1:
            cost = f": it took {secs(took)}" if took >= 0.05 else ""
            return f"had its {ops} slowed by latency fault {name}{cost}", []
        cost = f" (they took {secs(took)} in all)" if took >= 0.05 else ""
        return f"had {n(len(calls), services + ' call')} slowed by latency fault {name}{cost}", []
    if kind == "hold":
        if len(calls) == 1:
            return f"had its {ops} held in flight {secs(took)} by hold fault {name}", []
        return (
            f"had {n(len(calls), ops + ' call')} held in flight by hold fault {name} ({secs(took)} in all)",
            [],
        )
    if kind == "pause":
        return f"was stalled {secs(took)} by pause fault {name} (at its {ops})", []
    if kind == "error":
        codes = {c.error for c in calls if c.error}
        code = codes.pop() if len(codes) == 1 else None
        if code in _THROTTLED:
            return f"was throttled {n(len(hits), 'time')} by error fault {name} (its {ops})", []
        said = f", {code}" if code else ""
        return f"had its {ops} fail {n(len(hits), 'time')} (error fault {name}{said})", []
    if kind == "crash":
        crashed = next(
            (
                e
                for e in rec.faults
                if e.get("action") == "crashed"
                and e.get("actor") == actor
                and e["seq"] > hits[0]["seq"]
            ),
            None,
        )
        text = f"was killed by crash fault {name} at its {ops}"
        if crashed is not None:
            text += (
                f"; a fresh instance started {secs(float(crashed['restart_after']))} later, "
                "remembering no plan it had applied"
            )
            return text, [crashed["seq"]]
        return text, []
    return f"was hit by {kind} fault {name} {n(len(hits), 'time')} (its {ops})", []


def told(
    teller: Callable[[Any, Chain, Violation], bool] | None, rec: Record, v: Violation
) -> Chain | None:
    """The chain ``teller`` finds, with the faults that touched it; None when it finds none.

    A user's own class may record its events with other fields than the built-in ones; a
    chain that cannot be read from them is left to the fallback rather than failing the
    command that prints it.
    """
    if teller is None:
        return None
    chain = Chain()
    try:
        if not teller(rec, chain, v):
            return None
        fault_steps(rec, chain)
    except (KeyError, TypeError, ValueError):
        return None
    return chain


def story_lines(chain: Chain, violation: Violation) -> list[StoryLine]:
    """A chain's steps in time order (each said once, none after the violation), and the
    violation itself last."""
    ordered = sorted(chain.steps, key=lambda s: (s.t, s.at))
    out: list[StoryLine] = []
    seen: set[tuple[str, str]] = set()
    for step in ordered:
        if (step.actor, step.text) in seen or step.t > violation.t:
            continue
        seen.add((step.actor, step.text))
        out.append(StoryLine(step.t, step.actor, step.text, step.seqs))
    out.append(
        StoryLine(
            violation.t,
            "",
            f"[{violation.invariant}] {violation.detail}",
            (violation.seq,),
        )
    )
    return out


__all__ = [
    "Call",
    "Chain",
    "Record",
    "Step",
    "StoryLine",
    "at",
    "effect",
    "fault_at",
    "fault_steps",
    "n",
    "names",
    "secs",
    "story_lines",
    "told",
]
