"""An independent oracle for the systematic search: generated boto3 actors, run under the
harness's scheduler (depth-first, with the sleep-set reduction) and under a brute-force
enumerator of every interleaving of their AWS calls, reach the same set of verdicts.

Both sides run the same actor functions with real boto3 clients against the same
in-process moto target (with the strict Route 53 layer). The enumerator shares no code
with ``dnschaos.sim``: each actor runs on a thread of its own and stops before each call
at a botocore hook of this file's, until the enumerator lets exactly one actor make its
next call; it re-runs the actors from the initial state for every order of their calls.
A verdict is the set of planted invariants a run broke: Route 53 records judged after
every call (every step, under the scheduler), DynamoDB items, Route 53 records and what
the actors read judged at the end.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dnschaos.adapters.aws.target import AwsTarget, TargetSpec, open_target
from dnschaos.explore.dependence import PendingCalls
from dnschaos.explore.search import depth_first
from dnschaos.history import History
from dnschaos.sim.clock import INCIDENT_EPOCH, ManualClock
from dnschaos.sim.hooks import instrument
from dnschaos.sim.scheduler import Limits, Scheduler, Stop
from dnschaos.sim.strategies import DFSStrategy

CASES = 1000
CHUNKS = 4  # parametrised, so that pytest -n spreads them
TABLE = "oracle"
ZONES = ("z1.oracle.test.", "z2.oracle.test.")
NAMES = ("a.z1.oracle.test.", "b.z1.oracle.test.", "c.z2.oracle.test.")
KEYS = (1, 2)

Op = tuple[Any, ...]


# --------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class Program:
    actors: dict[str, tuple[Op, ...]]
    invariants: tuple[Op, ...]

    def text(self) -> str:
        return f"actors={self.actors} invariants={self.invariants}"


def _op(rng: random.Random, room: int, hot: tuple[int, str]) -> Op:
    """One step of an actor, making at most ``room`` calls; mostly on the ``hot`` item and
    record, so that the two actors race."""
    choices = ["put", "get", "query", "scan", "upsert", "list"]
    if room >= 2:
        choices += ["increment", "increment", "cas", "branch"]
    kind = rng.choice(choices)
    key = hot[0] if rng.random() < 0.7 else rng.choice(KEYS)
    name = hot[1] if rng.random() < 0.7 else rng.choice(NAMES)
    if kind == "put":
        return (kind, key, rng.randint(1, 3))
    if kind == "upsert":
        return (kind, name, rng.randint(1, 3))
    if kind == "list":
        return (kind, next(z for z in ZONES if name.endswith(z)))
    if kind == "branch":  # read a value, then write one or another by what it was
        return (
            "branch",
            key,
            rng.randint(0, 1),
            (name, rng.randint(1, 3)),
            (key, rng.randint(1, 3)),
        )
    return (kind, key)


def _calls(op: Op) -> int:
    return 2 if op[0] in ("increment", "cas", "branch") else 1


def _plausible(actors: dict[str, tuple[Op, ...]]) -> list[Op]:
    """Invariants a race among these actors may break: values their writes may leave,
    records they touch, what a reader may see."""
    out: list[Op] = []
    names: set[str] = set()
    for who, ops in actors.items():
        for op in ops:
            kind = op[0]
            if kind == "put":
                out.append(("item_is", op[1], op[2]))
            elif kind in ("increment", "cas"):
                out += [("item_is", op[1], 1), ("item_is", op[1], 2)]
            elif kind == "upsert":
                out.append(("never", op[1], op[2]))
                names.add(op[1])
            elif kind == "branch":
                out += [("never", *op[3]), ("item_is", *op[4])]
                names.add(op[3][0])
            if kind not in ("put", "upsert"):
                out += [("saw", who, v) for v in (-1, 0, 1, 2, 3, 4)]
    names.update(NAMES[:1])
    out += [("records_equal", a, b) for a in sorted(names) for b in sorted(names) if a < b]
    return out or [("item_is", 1, 0)]


def _touches(op: Op) -> set[tuple[str, Any]]:
    """What an op reads or writes: ("item", key) or ("zone", zone)."""
    kind = op[0]
    if kind in ("upsert",):
        return {("zone", next(z for z in ZONES if op[1].endswith(z)))}
    if kind == "list":
        return {("zone", op[1])}
    if kind == "scan":
        return {("item", k) for k in KEYS}
    if kind == "branch":
        return {
            ("item", op[1]),
            ("item", op[4][0]),
            ("zone", next(z for z in ZONES if op[3][0].endswith(z))),
        }
    return {("item", op[1])}


def _writes(op: Op) -> bool:
    return op[0] in ("put", "upsert", "increment", "cas", "branch")


def _race(actors: dict[str, tuple[Op, ...]]) -> bool:
    """Whether one actor writes what the other touches."""
    (_, xs), (_, ys) = actors.items()
    for mine, theirs in ((xs, ys), (ys, xs)):
        written = set().union(*(_touches(o) for o in mine if _writes(o)))
        if written & set().union(*(_touches(o) for o in theirs)):
            return True
    return False


def generate(seed: int) -> Program:
    rng = random.Random(f"oracle/{seed}")
    racy = rng.random() < 0.8  # most cases race; the rest check that independence holds
    while True:
        actors: dict[str, tuple[Op, ...]] = {}
        budget = 3 if rng.random() < 0.3 else 2
        hot = (rng.choice(KEYS), rng.choice(NAMES))
        for name, others in (("a", 1), ("b", 0)):
            ops: list[Op] = []
            room = budget - others
            while room > 0 and (not ops or rng.random() < 0.3):
                op = _op(rng, room, hot)
                ops.append(op)
                room -= _calls(op)
            budget -= sum(map(_calls, ops))
            actors[name] = tuple(ops)
        if _race(actors) == racy:
            break
    plausible = _plausible(actors)
    invariants = rng.sample(plausible, min(3, len(plausible)))
    return Program(actors, tuple(invariants))


# --------------------------------------------------------------------------- the actors


def _value(response: dict[str, Any]) -> int:
    item = response.get("Item")
    return int(item["v"]["N"]) if item else 0


def _address(n: int) -> str:
    return f"192.0.2.{n}"


def actor(
    ops: tuple[Op, ...], zone_ids: dict[str, str]
) -> Callable[[dict[str, Any], list[int]], None]:
    """Plain boto3 code: the same function runs under both schedulers."""

    def zone_of(name: str) -> str:
        return zone_ids[next(z for z in ZONES if name.endswith(z))]

    def upsert(r53: Any, name: str, n: int) -> None:
        r53.change_resource_record_sets(
            HostedZoneId=zone_of(name),
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "A",
                            "TTL": 60,
                            "ResourceRecords": [{"Value": _address(n)}],
                        },
                    }
                ]
            },
        )

    def run(clients: dict[str, Any], seen: list[int]) -> None:
        ddb, r53 = clients["dynamodb"], clients["route53"]
        key = {"generation": {"N": "0"}}
        for op in ops:
            kind = op[0]
            if kind in ("get", "increment", "cas", "branch"):
                key = {"generation": {"N": str(op[1])}}
                got = _value(ddb.get_item(TableName=TABLE, Key=key))
                seen.append(got)
            if kind == "put":
                ddb.put_item(
                    TableName=TABLE, Item={"generation": {"N": str(op[1])}, "v": {"N": str(op[2])}}
                )
            elif kind == "increment":  # a lost update when two of them interleave
                ddb.put_item(TableName=TABLE, Item={**key, "v": {"N": str(got + 1)}})
            elif kind == "cas":  # the same, made safe by a condition
                try:
                    ddb.put_item(
                        TableName=TABLE,
                        Item={**key, "v": {"N": str(got + 1)}},
                        ConditionExpression="v = :old",
                        ExpressionAttributeValues={":old": {"N": str(got)}},
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
                    seen.append(-1)
            elif kind == "branch":
                (name, n), (k, m) = op[3], op[4]
                if got > op[2]:
                    upsert(r53, name, n)
                else:
                    ddb.put_item(
                        TableName=TABLE, Item={"generation": {"N": str(k)}, "v": {"N": str(m)}}
                    )
            elif kind in ("query", "scan"):
                if kind == "scan":
                    items = ddb.scan(TableName=TABLE)["Items"]
                else:
                    items = ddb.query(
                        TableName=TABLE,
                        KeyConditionExpression="generation = :g",
                        ExpressionAttributeValues={":g": {"N": str(op[1])}},
                    )["Items"]
                seen.append(sum(int(i["v"]["N"]) for i in items))
            elif kind == "upsert":
                upsert(r53, op[1], op[2])
            elif kind == "list":
                sets = r53.list_resource_record_sets(HostedZoneId=zone_ids[op[1]])
                seen.append(
                    sum(
                        int(r["ResourceRecords"][0]["Value"].rsplit(".", 1)[-1])
                        for r in sets["ResourceRecordSets"]
                        if r["Type"] == "A"
                    )
                )

    return run


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    target: AwsTarget
    zone_ids: dict[str, str] = field(default_factory=dict)
    initial: dict[str, list[Any]] = field(default_factory=dict)
    # One of each side for the target's life: each hooks its clients once.
    _sides: tuple[Any, Any] | None = None

    def sides(self) -> tuple[Harnessed, BruteForce]:
        if self._sides is None:
            self._sides = (Harnessed(self), BruteForce(self))
        return self._sides

    def set_up(self) -> None:
        ddb = self.target.client("dynamodb")
        ddb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "generation", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "generation", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        r53 = self.target.client("route53")
        for i, zone in enumerate(ZONES):
            made = r53.create_hosted_zone(Name=zone, CallerReference=f"oracle-{i}")
            self.zone_ids[zone] = str(made["HostedZone"]["Id"]).split("/")[-1]
        for name in NAMES:
            actor((("upsert", name, 0),), self.zone_ids)({"dynamodb": ddb, "route53": r53}, [])
        self.target.close()  # the set-up's clients back to the pool
        backend = self.target.strict_route53().backend
        self.initial = {z: list(backend.zones[z].rrsets) for z in self.zone_ids.values()}

    def reset(self) -> None:
        """The initial state again, without a call: a new list of records for each zone (the
        strict layer re-reads a zone whose list was replaced) and the items put back."""
        backend = self.target.strict_route53().backend
        for zone_id, rrsets in self.initial.items():
            backend.zones[zone_id].rrsets = list(rrsets)
        table = _table()
        for key in KEYS:
            table.put_item({"generation": {"N": str(key)}, "v": {"N": "0"}})

    def record(self, name: str) -> int:
        zone = self.zone_ids[next(z for z in ZONES if name.endswith(z))]
        for rr in self.target.strict_route53().records(zone):
            if rr.name == name and rr.type == "A":
                return int(rr.values[0].rsplit(".", 1)[-1])
        return -1

    def item(self, key: int) -> int:
        from moto.dynamodb.models.dynamo_type import DynamoType

        got = _table().get_item(DynamoType({"N": str(key)}))
        return int(got.attrs["v"].value) if got is not None else -1


def _table() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with open_target(TargetSpec("moto"), clock=ManualClock(INCIDENT_EPOCH)) as target:
        made = World(target)
        made.set_up()
        yield made


# --------------------------------------------------------------------------- judging


def _broken(program: Program, world: World, seen: dict[str, list[int]], end: bool) -> set[str]:
    out: set[str] = set()
    for inv in program.invariants:
        kind = inv[0]
        if kind == "never":
            bad = world.record(inv[1]) == inv[2]
        elif not end:
            continue
        elif kind == "item_is":
            bad = world.item(inv[1]) == inv[2]
        elif kind == "records_equal":
            bad = world.record(inv[1]) == world.record(inv[2])
        else:
            bad = inv[2] in seen[inv[1]]
        if bad:
            out.add("/".join(map(str, inv)))
    return out


# --------------------------------------------------------------------------- under the scheduler


class _Current:
    """The run the scheduler's hooks serve now. Each actor's clients are instrumented
    once (``dnschaos.sim.hooks.instrument``, as a run does) with these stand-ins, which
    pass everything on to the scheduler and history of the run going on: leasing and
    resetting clients for every run would cost more than the run."""

    def __init__(self) -> None:
        self.scheduler: Scheduler | None = None
        self.history: History | None = None

    def yield_point(self, label: str) -> None:
        assert self.scheduler is not None
        self.scheduler.yield_point(label)

    def append(self, kind: str, t: float, **fields: Any) -> dict[str, Any]:
        assert self.history is not None
        return self.history.append(kind, t, **fields)

    def now(self) -> float:
        assert self.scheduler is not None
        return self.scheduler.clock.now()

    def sleep(self, seconds: float) -> None:
        assert self.scheduler is not None
        self.scheduler.clock.sleep(seconds)


@dataclass
class Harnessed:
    world: World
    current: _Current = field(default_factory=_Current)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of(self, name: str) -> dict[str, Any]:
        if name not in self.clients:
            made = {s: self.world.target.client(s, actor=name) for s in ("dynamodb", "route53")}
            for client in made.values():
                instrument(
                    client,
                    self.current,  # type: ignore[arg-type]
                    self.current,  # type: ignore[arg-type]
                    actor=name,
                    rng=random.Random(0),
                    clock=self.current,
                )
            self.clients[name] = made
        return self.clients[name]

    def run(self, program: Program, strategy: DFSStrategy) -> frozenset[str]:
        """One run under dnschaos's scheduler, the strategy choosing every step."""
        world = self.world
        world.reset()
        history = History(INCIDENT_EPOCH)
        scheduler = Scheduler(strategy, limits=Limits(max_steps=400), recorder=history)
        history.clock = scheduler.clock
        self.current.scheduler, self.current.history = scheduler, history
        seen: dict[str, list[int]] = {n: [] for n in program.actors}
        broken: set[str] = set()
        for name, ops in program.actors.items():
            body, clients = actor(ops, world.zone_ids), self.of(name)
            scheduler.spawn(name, lambda b=body, c=clients, s=seen[name]: b(c, s))
        scheduler.after_step = lambda: broken.update(_broken(program, world, seen, end=False))
        result = scheduler.run()
        assert result.stop == Stop.FINISHED, result.reason
        return frozenset(broken | _broken(program, world, seen, end=True))


# --------------------------------------------------------------------------- brute force


class _Gates:
    """Lock-step control of actor threads: an actor waits before each of its AWS calls
    until it is let go, and the enumerator lets go one actor at a time."""

    def __init__(self, names: list[str]) -> None:
        self.cond = threading.Condition()
        self.state = dict.fromkeys(names, "running")
        self.go = {n: threading.Semaphore(0) for n in names}

    def before_call(self, name: str) -> None:
        with self.cond:
            self.state[name] = "parked"
            self.cond.notify_all()
        self.go[name].acquire()

    def finished(self, name: str) -> None:
        with self.cond:
            self.state[name] = "done"
            self.cond.notify_all()

    def settle(self) -> list[str]:
        """Wait until no actor runs; the parked ones."""
        with self.cond:
            assert self.cond.wait_for(lambda: "running" not in self.state.values(), timeout=30)
            return sorted(n for n, s in self.state.items() if s == "parked")

    def release(self, name: str) -> None:
        with self.cond:
            self.state[name] = "running"
        self.go[name].release()


@dataclass
class BruteForce:
    world: World
    gates: _Gates | None = None
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of(self, name: str) -> dict[str, Any]:
        if name not in self.clients:
            made = {
                s: self.world.target.client(s, actor=f"bf-{name}") for s in ("dynamodb", "route53")
            }
            for client in made.values():
                service = client.meta.service_model.service_id.hyphenize()

                def gate(_n: str = name, **_: Any) -> None:
                    assert self.gates is not None
                    self.gates.before_call(_n)

                client.meta.events.register(
                    f"before-parameter-build.{service}", gate, unique_id=f"oracle-gate-{service}"
                )
            self.clients[name] = made
        return self.clients[name]

    def run(self, program: Program, order: list[str]) -> tuple[frozenset[str], list[list[str]]]:
        """One run that follows ``order`` (who makes the next call) as far as it goes,
        then the first parked actor; its verdict, and the choices it had at each call."""
        world = self.world
        world.reset()
        names = list(program.actors)
        gates = self.gates = _Gates(names)
        seen: dict[str, list[int]] = {n: [] for n in names}
        threads = []
        for name, ops in program.actors.items():
            body, clients = actor(ops, world.zone_ids), self.of(name)

            def main(b: Any = body, c: Any = clients, n: str = name) -> None:
                try:
                    b(c, seen[n])
                finally:
                    gates.finished(n)

            threads.append(threading.Thread(target=main, daemon=True))
        for t in threads:
            t.start()
        broken: set[str] = set()
        options: list[list[str]] = []
        while True:
            parked = gates.settle()
            broken |= _broken(program, world, seen, end=False)
            if not parked:
                break
            options.append(parked)
            i = len(options) - 1
            gates.release(order[i] if i < len(order) else parked[0])
        for t in threads:
            t.join(timeout=30)
        return frozenset(broken | _broken(program, world, seen, end=True)), options

    def every_order(self, program: Program) -> set[frozenset[str]]:
        """The verdicts of every interleaving of the actors' calls (depth-first over
        orders, each run from the initial state)."""
        verdicts: set[frozenset[str]] = set()
        stack: list[list[str]] = [[]]
        while stack:
            prefix = stack.pop()
            verdict, options = self.run(program, prefix)
            verdicts.add(verdict)
            taken = prefix + [opts[0] for opts in options[len(prefix) :]]
            for depth in range(len(prefix), len(options)):
                for other in options[depth][1:]:
                    stack.append([*taken[:depth], other])
        return verdicts


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_the_reduced_search_reaches_exactly_the_verdicts_of_every_interleaving(
    world: World, chunk: int
) -> None:
    per = CASES // CHUNKS
    harnessed, brute = world.sides()
    distinct = 0
    pruned = 0
    for seed in range(chunk * per, (chunk + 1) * per):
        program = generate(seed)
        truth = brute.every_order(program)
        dfs = DFSStrategy(bound=400, footprints=PendingCalls())
        runs = depth_first(lambda s, p=program: harnessed.run(p, s), dfs, 10_000)
        assert dfs.exhausted
        found = set(runs)
        assert found == truth, (
            f"seed {seed}: {program.text()}\nscheduler {found}\nevery order {truth}"
        )
        distinct += len(truth) > 1
        pruned += dfs.pruned
    # The cases must matter: many have more than one reachable verdict, and the reduction
    # skipped orders in them.
    assert distinct >= per // 10, distinct
    assert pruned > 0
