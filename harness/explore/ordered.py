"""Ordered replay: a schedule found in simulation, performed on wall time against a server.

A recorded run (in-process moto, deterministic scheduler) is rerun on free threads
against a moto server or an AWS account. Nobody can choose the interleaving there,
so the order is enforced where it matters: a gate holds each actor's write (Route 53
change batches, DynamoDB writes; with ``order="calls"`` every call) until every
write recorded before it has completed, so the writes reach the service in the
recorded global order. The same checkers judge the rerun; its verdict is reported
beside the recorded one, with the first divergence (the first call whose request or
answer differs from the recording, both versions) and every answer that differed
for the same request: a candidate deviation between the strict layer and the
service.

What it cannot reproduce: the service's own timing (propagation, throttling,
latency), and anything decided by reads between writes when ``order="writes"``;
those show up as divergences, not silently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from dnschaos.errors import UsageError

WRITES: Final = frozenset(
    {
        "ChangeResourceRecordSets",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
    }
)
ORDERS: Final = ("writes", "calls")
_ACTOR_MARK: Final = "dnschaos-actor/"
# Parts of an answer that differ on every run (fresh ids), never a divergence.
_VOLATILE: Final = ("change", "message")


@dataclass(frozen=True)
class Call:
    """One call of one actor: what it asked (op and summarised parameters) and what came back."""

    actor: str
    op: str
    request: dict[str, Any]
    answer: dict[str, Any] | None
    seq: int  # its invoke entry in the history it comes from

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "request": self.request, "answer": self.answer, "seq": self.seq}


def calls_of(history: list[dict[str, Any]]) -> list[Call]:
    """Every actor call of a history, in invoke order, each with its answer (None: none came)."""
    out: list[Call] = []
    open_calls: dict[str, list[int]] = {}
    for entry in history:
        if entry.get("kind") == "invoke":
            open_calls.setdefault(entry["actor"], []).append(len(out))
            out.append(
                Call(entry["actor"], entry["op"], entry.get("params", {}), None, entry["seq"])
            )
        elif entry.get("kind") == "complete" and open_calls.get(entry["actor"]):
            i = open_calls[entry["actor"]].pop(0)
            out[i] = replace(out[i], answer=entry.get("outcome"))
    return out


class Normalizer:
    """Makes a recorded and a replayed call comparable: the run id out of names, hosted
    zone ids by order of first appearance, fresh ids out of answers."""

    def __init__(self, run_id: str | None) -> None:
        self.run_id = run_id
        self.zones: dict[str, str] = {}

    def text(self, value: str) -> str:
        if self.run_id:
            value = value.replace(f".{self.run_id}.", ".").replace(f"-{self.run_id}-", "-")
        return value

    def value(self, key: str, value: Any) -> Any:
        if key == "zone" and isinstance(value, str):
            return self.zones.setdefault(value, f"zone-{len(self.zones) + 1}")
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value("", v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        return value

    def request(self, call: Call) -> dict[str, Any]:
        return {"op": call.op, **self.value("", call.request)}

    def answer(self, call: Call) -> dict[str, Any] | None:
        if call.answer is None:
            return None
        return {k: self.value(k, v) for k, v in call.answer.items() if k not in _VOLATILE}


class Gate:
    """Holds each actor's gated call until every earlier recorded gated call has completed."""

    def __init__(self, recorded: list[Call], ops: frozenset[str] | None, timeout: float) -> None:
        self.ops = ops  # None: every call
        self.order = [c for c in recorded if self._gated(c.op)]
        self.timeout = timeout
        self._mine: dict[str, list[int]] = {}
        for i, call in enumerate(self.order):
            self._mine.setdefault(call.actor, []).append(i)
        self._next: dict[str, int] = {}
        self._done: set[int] = set()
        self._frontier = 0
        self._cond = threading.Condition()
        self.opened: str | None = None  # why the gate stopped holding anyone
        self.held_seconds = 0.0
        self.released = 0

    def _gated(self, op: str) -> bool:
        return self.ops is None or op in self.ops

    def install(self, session: Any) -> None:
        """botocore handlers on a session, copied into every client made from it."""
        session.events.register("before-call", self._before, unique_id="dnschaos-gate-before")
        session.events.register("after-call", self._after, unique_id="dnschaos-gate-after")
        session.events.register(
            "after-call-error", self._after, unique_id="dnschaos-gate-after-error"
        )

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        actor = _actor(context)
        if actor is None or not self._gated(model.name):
            return
        with self._cond:
            k = self._next.get(actor, 0)
            self._next[actor] = k + 1
            mine = self._mine.get(actor, [])
            # Past its recorded writes, an actor waits for all of them.
            index = mine[k] if k < len(mine) else len(self.order)
            context["dnschaos_gate"] = index
            start = time.monotonic()
            while self.opened is None and self._frontier < index:
                left = self.timeout - (time.monotonic() - start)
                if left <= 0:
                    waiting = self.order[self._frontier]
                    self.opened = (
                        f"{actor}'s {model.name} (recorded write {index}) waited "
                        f"{self.timeout:g}s for recorded write {self._frontier} "
                        f"({waiting.actor} {waiting.op}), which never completed: order no "
                        "longer enforced"
                    )
                    self._cond.notify_all()
                    break
                self._cond.wait(min(left, 0.5))
            self.held_seconds += time.monotonic() - start
            self.released += 1

    def _after(self, context: dict[str, Any] | None = None, **_: Any) -> None:
        index = (context or {}).get("dnschaos_gate")
        if index is None:
            return
        with self._cond:
            self._done.add(int(index))
            while self._frontier in self._done:
                self._frontier += 1
            self._cond.notify_all()


def _actor(context: dict[str, Any]) -> str | None:
    config = context.get("client_config")
    extra = str(getattr(config, "user_agent_extra", "") or "")
    if _ACTOR_MARK not in extra:
        return None
    name = extra.split(_ACTOR_MARK, 1)[1].split()[0]
    return None if name in ("harness", "observer") else name


@dataclass
class Divergence:
    actor: str
    index: int  # the actor's n-th call
    kind: str  # "request" or "answer"
    recorded: dict[str, Any] | None
    replayed: dict[str, Any] | None
    replay_seq: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "call": self.index,
            "kind": self.kind,
            "recorded": self.recorded,
            "replayed": self.replayed,
            "replay_seq": self.replay_seq,
        }


@dataclass
class Comparison:
    first: Divergence | None = None
    answers: list[Divergence] = field(default_factory=list)  # candidate strict-layer deviations
    timing: list[Divergence] = field(default_factory=list)  # other answers to calls not ordered
    compared: int = 0


def compare(
    recorded: list[Call],
    replayed: list[Call],
    run_id: str | None,
    ordered: Callable[[str], bool] = lambda op: True,
) -> Comparison:
    """Each actor's calls side by side, in its own order, up to its first differing request.

    Another answer to the same request is a candidate deviation of the strict layer when
    the call was ordered (``ordered(op)``): the service saw the same history before it.
    For a call the gate let run freely it may be timing alone, and is listed apart."""
    left, right = Normalizer(None), Normalizer(run_id)
    mine_r: dict[str, list[Call]] = {}
    mine_p: dict[str, list[Call]] = {}
    for c in recorded:
        mine_r.setdefault(c.actor, []).append(c)
    for c in replayed:
        mine_p.setdefault(c.actor, []).append(c)
    out = Comparison()
    found: list[Divergence] = []
    for actor in sorted(set(mine_r) | set(mine_p)):
        rec, rep = mine_r.get(actor, []), mine_p.get(actor, [])
        for i in range(min(len(rec), len(rep))):
            out.compared += 1
            a, b = left.request(rec[i]), right.request(rep[i])
            if a != b:
                found.append(Divergence(actor, i, "request", a, b, rep[i].seq))
                break
            x, y = left.answer(rec[i]), right.answer(rep[i])
            if x is not None and y is not None and x != y:
                d = Divergence(
                    actor, i, "answer", {**a, "answer": x}, {**b, "answer": y}, rep[i].seq
                )
                found.append(d)
                (out.answers if ordered(rec[i].op) else out.timing).append(d)
    out.first = min(found, key=lambda d: d.replay_seq) if found else None
    out.answers.sort(key=lambda d: d.replay_seq)
    out.timing.sort(key=lambda d: d.replay_seq)
    return out


@dataclass
class OrderedReplay:
    recorded: dict[str, Any]
    result: Any  # dnschaos.runner.RunResult
    comparison: Comparison
    gate: Gate

    def side_by_side(self) -> list[str]:
        from dnschaos.checkers import headline_dict

        rec = headline_dict(self.recorded.get("violations", []))
        rep = self.result.headline
        width = 10

        def cell(verdict: str, invariant: str | None) -> str:
            return f"{verdict}" + (f" ({invariant})" if invariant else "")

        lines = [
            f"{'':<{width}}{'recorded':<46}replayed",
            f"{'target':<{width}}{self.recorded.get('target', 'moto'):<46}{self.result.target}",
            f"{'clock':<{width}}{self.recorded.get('clock', 'sim'):<46}real",
            f"{'verdict':<{width}}"
            f"{cell(self.recorded['verdict'], rec['invariant'] if rec else None):<46}"
            f"{cell(self.result.verdict, rep.invariant if rep else None)}",
        ]
        return lines

    def to_json(self) -> dict[str, Any]:
        c = self.comparison
        return {
            **self.result.to_json(),
            "ordered_replay": {
                "recorded_verdict": self.recorded["verdict"],
                "recorded_trace_digest": self.recorded.get("trace_digest"),
                "order": "calls" if self.gate.ops is None else "writes",
                "gated_calls": len(self.gate.order),
                "released": self.gate.released,
                "held_seconds": round(self.gate.held_seconds, 3),
                "gate_opened": self.gate.opened,
                "compared_calls": c.compared,
                "first_divergence": c.first.as_dict() if c.first else None,
                "candidate_deviations": [d.as_dict() for d in c.answers],
                "unordered_answer_differences": [d.as_dict() for d in c.timing],
            },
        }


def ordered_replay(
    recorded: dict[str, Any],
    target: Any,
    *,
    source: str = "result",
    time_scale: float = 0.05,
    order: str = "writes",
    timeout: float = 20.0,
    history: list[dict[str, Any]] | None = None,
) -> OrderedReplay:
    """Rerun ``recorded`` on wall time on ``target`` (a TargetSpec) with the recorded order
    of writes enforced; ``history`` is the recording's (rebuilt by an in-process replay
    when not given)."""
    from dnschaos.explore.replay import history_of, replayable
    from dnschaos.runner import run

    if order not in ORDERS:
        raise UsageError(f"--order {order!r}: choose one of {', '.join(ORDERS)}")
    if not time_scale > 0:
        raise UsageError(f"--time-scale {time_scale}: must be greater than 0")
    spec = replayable(recorded, source)
    if history is None:
        history = history_of(recorded, source)
    recorded_calls = calls_of(history)
    gate = Gate(recorded_calls, WRITES if order == "writes" else None, timeout)
    target = replace(target, hooks=(*target.hooks, gate.install))
    again = replace(
        spec,
        clock="real",
        time_scale=time_scale,
        strategy="random",
        target=target.kind,
        endpoint_url=target.endpoint_url,
    )
    result = run(again, target=target)
    run_id = (result.aws or {}).get("run_id")
    comparison = compare(recorded_calls, calls_of(list(result.history)), run_id, gate._gated)
    return OrderedReplay(recorded, result, comparison, gate)


def differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The keys whose values differ; for lists, their first differing items."""
    out: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if isinstance(x, list) and isinstance(y, list):
            i = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), None)
            if i is None:
                out[f"{key} (length)"] = (len(x), len(y))
            else:
                out[f"{key}[{i}]"] = (x[i], y[i])
        elif isinstance(x, dict) and isinstance(y, dict):
            out.update({f"{key}.{k}": v for k, v in differences(x, y).items()})
        else:
            out[key] = (x, y)
    return out


def print_replay(done: OrderedReplay, *, out: Callable[[str], None] = print) -> None:
    for line in done.side_by_side():
        out(line)
    g = done.gate
    out(
        f"gate: {g.released} {'writes' if g.ops is not None else 'calls'} released in recorded "
        f"order ({len(g.order)} recorded), held {g.held_seconds:.1f}s in all"
        + (f"; {g.opened}" if g.opened else "")
    )
    first = done.comparison.first
    if first is None:
        out(f"no divergence in {done.comparison.compared} calls compared")
    else:
        out(f"first divergence: {first.actor}'s call {first.index} ({first.kind} differs)")
        for key, (was, now) in differences(first.recorded or {}, first.replayed or {}).items():
            out(f"  {key}: recorded {was!r}")
            out(f"  {' ' * len(key)}  replayed {now!r}")
    if done.comparison.timing:
        out(
            f"answers that differ to calls the gate did not order (timing, not a deviation): "
            f"{len(done.comparison.timing)}"
        )
    if done.comparison.answers:
        count = len(done.comparison.answers)
        out(f"candidate strict-layer deviations (same request, other answer): {count}")
        for d in done.comparison.answers[:5]:
            was = (d.recorded or {}).get("answer")
            now = (d.replayed or {}).get("answer")
            out(f"  {d.actor} call {d.index}: recorded {was} replayed {now}")
