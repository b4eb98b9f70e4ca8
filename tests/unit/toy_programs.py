"""Small generated actor programs, run under the real scheduler over a toy AWS-shaped world.

The reduction's property test runs thousands of these, so a run must cost well under a
millisecond: the world is a dict, not moto. Everything else is the harness's own: the
:class:`~dnschaos.sim.scheduler.Scheduler` and its strategies, and calls made the way
``dnschaos.sim.hooks`` makes them (an ``invoke`` entry with the parameters the history
keeps, a ``call`` yield point before the effect, a ``done`` yield point after it), so the
footprints the searches read are parsed from entries shaped like a real run's. The
record is kept in memory (a list of entries, as the history's lines would read).

A program: two actors, each a few instructions: DynamoDB GetItem/PutItem/Query
on the items of two tables (keyed by ``generation``), Route 53 UPSERT/List on records of
two zones, branches on what a read returned and on how long ago the actor marked the
clock, sleeps, reads and writes of a dict the actors share, and looks at the world
without a call (as the operator reads what the observer derived from Route 53): actor
code, which no footprint can describe. Bugs are planted as invariants drawn at random: a value a record must never
take (judged after every step), sums that must stay small, and end conditions over the
world, the actors' registers and the shared dict.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnschaos.sim.clock import INCIDENT_EPOCH
from dnschaos.sim.scheduler import Choice, Limits, Scheduler, Stop

Key = tuple[str, str, str]  # (service, table or zone, generation or record name)
ITEMS: list[Key] = [
    ("dynamodb", "t", "1"),
    ("dynamodb", "t", "2"),
    ("dynamodb", "u", "1"),
]
RECORDS: list[Key] = [
    ("route-53", "Z1", "a.z1.test."),
    ("route-53", "Z1", "b.z1.test."),
    ("route-53", "Z2", "c.z2.test."),
]
KEYS = ITEMS + RECORDS

Instr = tuple[Any, ...]


@dataclass
class Program:
    actors: dict[str, list[Instr]]
    latency: dict[str, list[float]]  # per actor, per call: the latency slept before it
    invariants: list[Instr]
    quantum: float = 0.0

    def calls(self) -> int:
        return sum(_calls(body) for body in self.actors.values())


def _calls(body: list[Instr]) -> int:
    """The most calls a body can make."""
    n = 0
    for ins in body:
        if ins[0] in ("get", "put", "query", "upsert", "list"):
            n += 1
        elif ins[0] in ("if_gt", "if_late"):
            n += max(_calls([ins[-2]]), _calls([ins[-1]]))
    return n


def _expr(rng: random.Random) -> Instr:
    if rng.random() < 0.4:
        return ("const", rng.randint(1, 3))
    return ("reg", rng.choice("xy"), rng.randint(0, 2))  # a read-modify-write, when it read


def _call(rng: random.Random, hot: Key) -> Instr:
    key = hot if rng.random() < 0.7 else rng.choice(KEYS)
    reg = rng.choice("xy")
    if key[0] == "dynamodb":
        roll = rng.random()
        if roll < 0.4:
            return ("get", key, reg)
        if roll < 0.5:
            return ("query", key[1], reg)
        return ("put", key, _expr(rng))
    if rng.random() < 0.4:
        return ("list", key[1], reg)
    return ("upsert", key, _expr(rng))


def _instr(rng: random.Random, hot: Key) -> Instr:
    roll = rng.random()
    if roll < 0.62:
        return _call(rng, hot)
    if roll < 0.72:
        return ("if_gt", rng.choice("xy"), rng.randint(0, 1), _call(rng, hot), _call(rng, hot))
    if roll < 0.8:
        return ("if_late", rng.choice((0.4, 0.9, 1.6)), _call(rng, hot), _call(rng, hot))
    if roll < 0.84:
        return ("mark",)
    if roll < 0.87:
        return ("sleep", rng.choice((0.5, 1.0)))
    if roll < 0.92:
        return ("share", rng.choice("pq"), _expr(rng))
    if roll < 0.96:
        return ("peek", rng.choice("pq"), rng.choice("xy"))
    # Actor code that looks at the world without a call, as an operator looks at what the
    # observer derived from Route 53.
    return ("observe", hot, rng.choice("xy"))


def _invariant(rng: random.Random, names: list[str], hot: Key) -> Instr:
    """A planted bug, mostly about the key the actors race on."""
    roll = rng.random()
    other = rng.choice([k for k in KEYS if k != hot])
    if roll < 0.3:
        return ("end_is", hot, rng.randint(0, 4))
    if roll < 0.45:
        return ("never", hot, rng.randint(2, 4))
    if roll < 0.55:
        return ("sum_le", hot, other, rng.randint(1, 4))
    if roll < 0.65:
        return ("end_eq", hot, other)
    if roll < 0.9:
        return ("end_reg", rng.choice(names), rng.choice("xy"), rng.randint(0, 3))
    return ("end_shared", rng.choice("pq"), rng.randint(1, 3))


def generate(seed: int, *, max_calls: int = 3) -> Program:
    """A program small enough that every interleaving of its steps can be run."""
    rng = random.Random(f"toy/{seed}")
    names = ["a", "b"]
    hot = rng.choice(KEYS)
    actors: dict[str, list[Instr]] = {}
    for i, name in enumerate(names):
        left = max_calls - sum(_calls(b) for b in actors.values()) - (len(names) - i - 1)
        body: list[Instr] = []
        while len(body) < 4 and (not _calls(body) or (_calls(body) < left and rng.random() < 0.6)):
            ins = _instr(rng, hot)
            if _calls(body) + _calls([ins]) > max(1, left):
                ins = _call(rng, hot) if not _calls(body) else ("mark",)
                if _calls(body) + _calls([ins]) > max(1, left):
                    break
            body.append(ins)
        actors[name] = body
    timed = rng.random() < 0.45
    latency = {
        n: [rng.choice((0.0, 0.0, 0.5, 1.0)) if timed else 0.0 for _ in range(4)] for n in names
    }
    invariants = [_invariant(rng, names, hot) for _ in range(rng.randint(2, 3))]
    quantum = rng.choice((0.0, 0.0, 0.6)) if timed else 0.0
    return Program(actors, latency, invariants, quantum)


class Record(list[dict[str, Any]]):
    """A run's entries in memory: the scheduler's recorder, and what the calls append."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self.start = start

    def append_entry(self, kind: str, t: float, **fields: Any) -> None:
        self.append({"seq": len(self), "t": round(t - self.start, 3), "kind": kind, **fields})

    def choice(self, choice: Choice, t: float) -> None:
        self.append_entry("choice", t, step=choice.step, actor=choice.actor, label=choice.label)

    def clock_jump(self, t_from: float, t_to: float, woken: list[str]) -> None:
        self.append_entry("clock", t_to, woken=woken)


@dataclass
class _World:
    values: dict[Key, int] = field(default_factory=lambda: dict.fromkeys(KEYS, 0))
    shared: dict[str, int] = field(default_factory=dict)
    regs: dict[str, dict[str, float]] = field(default_factory=dict)


def _params(service: str, op: str, where: str, key: str | None, value: int | None) -> Any:
    """The parameters the history keeps for such a call (dnschaos.sim.hooks.summarize)."""
    if op == "Query":
        return {"table": where, "limit": None}
    if service == "dynamodb":
        return {"table": where, "generation": key}
    if op == "ChangeResourceRecordSets":
        return {"zone": f"/hostedzone/{where}", "changes": [f"UPSERT {key} A {value}"]}
    return {"zone": where}


def _actor(
    name: str,
    body: list[Instr],
    latency: list[float],
    world: _World,
    scheduler: Scheduler,
    history: Record,
) -> Callable[[], None]:
    regs = world.regs.setdefault(name, {"x": 0, "y": 0, "t": 0.0})
    clock = scheduler.clock
    made = [0]

    def value(expr: Instr) -> int:
        if expr[0] == "const":
            return int(expr[1])
        return int(regs[expr[1]]) + int(expr[2])

    def call(service: str, op: str, where: str, key: str | None, effect: Callable[[], int]) -> int:
        pause = latency[made[0] % len(latency)]
        made[0] += 1
        if pause > 0:
            scheduler.sleep(pause)
        written = None if op in ("GetItem", "Query", "ListResourceRecordSets") else effect()
        history.append_entry(
            "invoke",
            clock.now(),
            actor=name,
            service=service,
            op=op,
            params=_params(service, op, where, key, written),
        )
        scheduler.yield_point(f"call {service}.{op}")
        got = effect() if written is None else world_write(service, where, key, written)
        history.append_entry("complete", clock.now(), actor=name, service=service, op=op)
        scheduler.yield_point(f"done {service}.{op}")
        return got

    def world_write(service: str, where: str, key: str | None, v: int) -> int:
        world.values[(service, where, str(key))] = v
        return v

    def run(ins: Instr) -> None:
        kind = ins[0]
        if kind == "get":
            service, table, gen = ins[1]
            regs[ins[2]] = call(
                service, "GetItem", table, gen, lambda: world.values[(service, table, gen)]
            )
        elif kind == "put":
            service, table, gen = ins[1]
            v = value(ins[2])
            call(service, "PutItem", table, gen, lambda: v)
        elif kind in ("query", "list"):  # a range: the sum of a table's or a zone's values
            service, op = (
                ("dynamodb", "Query") if kind == "query" else ("route-53", "ListResourceRecordSets")
            )
            scope = (service, ins[1])
            regs[ins[2]] = call(
                service,
                op,
                ins[1],
                None,
                lambda: sum(v for k, v in world.values.items() if k[:2] == scope),
            )
        elif kind == "upsert":
            service, zone, rname = ins[1]
            v = value(ins[2])
            call(service, "ChangeResourceRecordSets", zone, rname, lambda: v)
        elif kind == "if_gt":
            run(ins[3] if regs[ins[1]] > ins[2] else ins[4])
        elif kind == "if_late":
            run(ins[2] if clock.now() - regs["t"] > ins[1] else ins[3])
        elif kind == "mark":
            regs["t"] = clock.now()
        elif kind == "sleep":
            scheduler.sleep(ins[1])
        elif kind == "share":
            world.shared[ins[1]] = value(ins[2])
        elif kind == "peek":
            regs[ins[2]] = world.shared.get(ins[1], 0)
        elif kind == "observe":
            regs[ins[2]] = world.values[ins[1]]

    def body_fn() -> None:
        regs["t"] = clock.now()
        for ins in body:
            run(ins)

    return body_fn


def _holds(inv: Instr, world: _World) -> bool:
    kind = inv[0]
    if kind == "never":
        return world.values[inv[1]] != inv[2]
    if kind == "sum_le":
        return world.values[inv[1]] + world.values[inv[2]] <= inv[3]
    if kind == "end_is":
        return world.values[inv[1]] != inv[2]
    if kind == "end_eq":
        return world.values[inv[1]] == world.values[inv[2]]
    if kind == "end_reg":
        return world.regs.get(inv[1], {}).get(inv[2]) != inv[3]
    return world.shared.get(inv[1]) != inv[2]


def _name(inv: Instr) -> str:
    return "/".join(str(x) for x in inv)


State = tuple[Any, ...]


@dataclass(frozen=True)
class ToyRun:
    """What one run reached: every state of the world after a step, and its end (the
    world, what each actor holds in its registers, the shared dict); and the planted
    invariants it broke, judged on those."""

    visited: frozenset[State]
    final: State
    violated: frozenset[str]
    stop: Stop
    reason: str


def _state(world: _World) -> State:
    return tuple(world.values[k] for k in KEYS)


def run_program(program: Program, strategy: Any) -> ToyRun:
    """One run of ``program`` under ``strategy``."""
    history = Record(INCIDENT_EPOCH)
    limits = Limits(max_steps=500, max_virtual_seconds=100.0, quantum=program.quantum)
    scheduler = Scheduler(strategy, limits=limits, recorder=history)
    world = _World()
    visited: set[State] = {_state(world)}
    violated: set[str] = set()
    steps = [i for i in program.invariants if i[0] in ("never", "sum_le")]

    def after_step() -> None:
        visited.add(_state(world))
        for inv in steps:
            if not _holds(inv, world):
                violated.add(_name(inv))

    scheduler.after_step = after_step
    for name, body in program.actors.items():
        scheduler.spawn(name, _actor(name, body, program.latency[name], world, scheduler, history))
    outcome = scheduler.run()
    for inv in program.invariants:
        if inv[0] not in ("never", "sum_le") and not _holds(inv, world):
            violated.add(_name(inv))
    regs = tuple((n, tuple(sorted(world.regs[n].items()))) for n in sorted(world.regs))
    final = (_state(world), regs, tuple(sorted(world.shared.items())))
    return ToyRun(frozenset(visited), final, frozenset(violated), outcome.stop, outcome.reason)
