"""Which steps of a run commute: footprints of AWS calls and the dependence relation.

A *step* is what one scheduling choice runs: an actor from one yield point to its
next. A step chosen at a ``call <service>.<Operation>`` yield point performs that
AWS call (its effect happens in the step, after the choice: see
``dnschaos.sim.hooks``) and nothing else of the actor's code. Every other step
(``start``, ``done ...``, the end of a sleep or of a wait, a DNS query) runs the
actor's own code, which may touch anything another actor can see: the run's
shared parts (``ctx.parts.shared``, the observer and what it derived from Route 53,
end conditions), module globals, the fault state. Such a step is *local*.

Two steps of different actors are **independent** only when

* both are AWS calls, at most one of them writes (every write changes what the
  observer and the invariants see; two writes in either order show the invariants
  different sequences of states, even on disjoint records, so they are never
  reordered), and the write's footprint is disjoint from what the other reads; or
* one is local and the other an AWS call that only reads: a read changes nothing
  an actor's code can see (it changes no AWS state, and the observer watches
  changes only), and actor code changes nothing a read returns (it cannot touch
  AWS but through a call, a step of its own).

Two local steps are always dependent (they may share memory), so is a local step
and a write (actor code may read what the observer derived from it).

Footprints are read from the call's ``invoke`` entry in the history (the
parameters :func:`dnschaos.sim.hooks.summarize` keeps), and over-approximate
whenever the entry does not say precisely what the call touches:

* Route 53 ``ChangeResourceRecordSets`` writes the record names of its batch in
  its hosted zone (every type and set identifier of a name together: CNAME
  exclusivity and weighted-set rules tie them) and reads the whole zone
  (validation and quotas); a batch with an alias also reads all of Route 53 (the
  alias target may be anywhere). ``ListResourceRecordSets``, ``GetHostedZone`` and
  ``TestDNSAnswer`` read their whole zone (a listing is a range, and a paged one
  starts wherever the last page ended); every other Route 53 read reads all of
  Route 53, every other write writes all of it.
* DynamoDB ``GetItem``, ``PutItem``, ``UpdateItem`` and ``DeleteItem`` touch the items
  with the ``generation`` the history records (the key the history keeps: the plans
  table's sort key), else the whole table; the writes also read what they write
  (condition expressions). ``Query``, ``Scan`` and ``DescribeTable`` read the whole
  table; other reads read all of DynamoDB, other writes write all of it.
* Any other service: a read (``List``/``Get``/``Describe``/``Query``/``Scan``...) reads
  the whole service, anything else writes it.
* A call whose parameters name neither zone nor table touches the whole service.

Zone ids are compared without their ``/hostedzone/`` prefix, record names
case-insensitively and fully qualified, table names without an ARN's prefix,
generations as numbers. Different services never share state (no fault may be
active: see below).

What the relation assumes (and why it holds in this harness):

* A run with faults has a nemesis and an injector whose state (which faults are
  on, how many calls a fault has matched) every call may read and change: the
  searches that use this relation switch it off for such runs (every step then
  depends on every other).
* Identifiers AWS makes up (request ids, change ids) stand for AWS's random ones:
  moto draws them from one seeded generator in call order, so reordering two
  calls may swap them; the searches never explore their values, and the
  relation treats them as names without meaning.
* The history is a record, not a channel: judging reads it after the run, and a
  reordering of independent steps changes only the order of their entries, never
  their times. An invariant that looked at the order of two independent
  same-instant entries rather than at states and times would not be covered.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Final

from dnschaos.sim.scheduler import Actor, ActorState

READ_PREFIXES: Final = ("List", "Get", "Query", "Scan", "Describe")
ROUTE53: Final = "route-53"
DYNAMODB: Final = "dynamodb"
_ZONE_READS: Final = frozenset({"ListResourceRecordSets", "GetHostedZone", "TestDNSAnswer"})
_ITEM_OPS: Final = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem"})
_TABLE_READS: Final = frozenset({"Query", "Scan", "DescribeTable"})

# A resource is a path: ("route-53",) all of Route 53, ("route-53", zone) a hosted
# zone, ("route-53", zone, name) one name in it; ("dynamodb", table, "generation", n)
# the items of one generation. Two resources overlap when one is a prefix of the other.
Resource = tuple[str, ...]


@dataclass(frozen=True)
class Footprint:
    """What one step reads and writes; ``local`` for a step that runs actor code."""

    reads: frozenset[Resource] = field(default_factory=frozenset)
    writes: frozenset[Resource] = field(default_factory=frozenset)
    local: bool = False

    def describe(self) -> str:
        if self.local:
            return "actor code"

        def text(rs: frozenset[Resource]) -> str:
            return ", ".join("/".join(r) for r in sorted(rs)) or "-"

        return f"reads {text(self.reads)}; writes {text(self.writes)}"


LOCAL: Final = Footprint(local=True)


def is_read(operation: str) -> bool:
    """An operation that changes nothing: AWS names reads List/Get/Describe/Query/Scan
    (Route 53's TestDNSAnswer too); ``BatchGet``/``TransactGet`` count as writes here,
    which only makes the relation coarser."""
    return operation.startswith(READ_PREFIXES) or operation == "TestDNSAnswer"


def _overlap(a: Resource, b: Resource) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _meet(xs: Iterable[Resource], ys: Iterable[Resource]) -> bool:
    ys = list(ys)
    return any(_overlap(x, y) for x in xs for y in ys)


def dependent(a: Footprint, b: Footprint) -> bool:
    """Whether two steps of *different* actors may not be swapped (see the module's
    docstring): two local steps, a local step and a write, two writes, a read and a
    write that touches what it reads."""
    if a.local or b.local:
        return (a.local and b.local) or bool(a.writes or b.writes)
    if a.writes and b.writes:
        return True
    return _meet(a.writes, b.reads) or _meet(b.writes, a.reads)


def zone_key(zone: Any) -> str | None:
    if not isinstance(zone, str) or not zone.strip():
        return None
    return zone.strip().rsplit("/", 1)[-1]


def name_key(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def table_key(table: Any) -> str | None:
    if not isinstance(table, str) or not table:
        return None
    if table.startswith("arn:"):
        # arn:aws:dynamodb:region:account:table/NAME[/index/...]
        _, _, rest = table.partition(":table/")
        return rest.split("/", 1)[0] or None
    return table


def generation_key(value: Any) -> str | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return str(number.normalize())


def _change_names(changes: Any) -> tuple[list[str], bool] | None:
    """The record names a summarised change batch writes, and whether any change is an
    alias; None when a change cannot be read."""
    if not isinstance(changes, list) or not changes:
        return None
    names: list[str] = []
    alias = False
    for text in changes:
        # "ACTION NAME TYPE [SETID] VALUES" (hooks._rrset_text)
        parts = str(text).split(" ")
        if len(parts) < 3 or not parts[1] or parts[1] == "None":
            return None
        names.append(name_key(parts[1]))
        alias = alias or "->" in parts
    return names, alias


def _route53(op: str, params: Mapping[str, Any]) -> Footprint:
    service: Resource = (ROUTE53,)
    zone = zone_key(params.get("zone") or params.get("HostedZoneId") or params.get("Id"))
    if op == "ChangeResourceRecordSets":
        read = _change_names(params.get("changes"))
        if zone is None or read is None:
            return Footprint(frozenset({service}), frozenset({service}))
        names, alias = read
        reads = {service} if alias else {(ROUTE53, zone)}
        return Footprint(frozenset(reads), frozenset((ROUTE53, zone, n) for n in names))
    if is_read(op):
        if op in _ZONE_READS and zone is not None:
            return Footprint(frozenset({(ROUTE53, zone)}))
        return Footprint(frozenset({service}))
    return Footprint(frozenset({service}), frozenset({service}))


def _dynamodb(op: str, params: Mapping[str, Any]) -> Footprint:
    service: Resource = (DYNAMODB,)
    table = table_key(params.get("table") or params.get("TableName"))
    if table is None:
        where: Resource = service
    elif op in _ITEM_OPS:
        generation = generation_key(params.get("generation"))
        where = (DYNAMODB, table) if generation is None else (DYNAMODB, table, "gen", generation)
    elif op in _TABLE_READS:
        where = (DYNAMODB, table)
    else:
        where = service
    if is_read(op):
        return Footprint(frozenset({where}))
    return Footprint(frozenset({where}), frozenset({where}))


def call_footprint(service: str, op: str, params: Mapping[str, Any] | None) -> Footprint:
    """The footprint of one AWS call, from its service id, operation and the parameters
    its ``invoke`` entry keeps."""
    params = params or {}
    if service == ROUTE53:
        return _route53(op, params)
    if service == DYNAMODB:
        return _dynamodb(op, params)
    whole: Resource = (service,)
    if is_read(op):
        return Footprint(frozenset({whole}))
    return Footprint(frozenset({whole}), frozenset({whole}))


def invoke_footprint(entry: Mapping[str, Any]) -> Footprint:
    return call_footprint(str(entry.get("service")), str(entry.get("op")), entry.get("params"))


class PendingCalls:
    """The footprint of the step each ready actor would take if picked now, for
    :class:`~dnschaos.sim.strategies.DFSStrategy`'s sleep sets: the run's history
    (bound by the scheduler) holds each actor's ``invoke`` entry just before its
    ``call`` yield point. A step that is not an AWS call is :data:`LOCAL`; an actor
    that is not ready at this instant (a sleeper the quantum lets compete) has no
    footprint at all, because picking it moves the clock. Nor has a step this view
    cannot place: one at a ``call`` point without its ``invoke`` entry, or one that
    ends a wait in the middle of a call (botocore's retry backoff sleeps between the
    ``invoke`` and its ``complete``, and the step after it sends the call again)."""

    def __init__(self) -> None:
        self._history: Any = None
        self._consumed = 0
        self._pending: dict[str, dict[str, Any]] = {}
        self._open: set[str] = set()  # actors between an invoke and its complete
        self._file: IO[str] | None = None

    def bind(self, recorder: Any) -> None:
        if self._file is not None:
            self._file.close()
        self._history, self._file = recorder, None
        self._consumed = 0
        self._pending = {}
        self._open = set()

    def _note(self, entry: dict[str, Any]) -> None:
        actor = str(entry.get("actor"))
        if entry.get("kind") == "invoke":
            self._pending[actor] = entry
            self._open.add(actor)
        elif entry.get("kind") == "complete":
            self._open.discard(actor)

    def _catch_up(self) -> None:
        history = self._history
        if history is None or len(history) <= self._consumed:
            return
        if not hasattr(history, "path"):  # entries kept in memory
            for entry in itertools.islice(history, self._consumed, None):
                self._consumed += 1
                if entry.get("kind") in ("invoke", "complete"):
                    self._note(entry)
            return
        # A History streams its canonical lines to a file: iterating it flushes them, and
        # a reader of our own goes on where it stopped, parsing invoke and complete
        # entries only.
        total = len(history)
        iter(history)
        if self._file is None:
            self._file = open(history.path, encoding="ascii")  # noqa: SIM115
        while self._consumed < total:
            line = self._file.readline()
            if not line:
                break
            self._consumed += 1
            if '"kind":"invoke"' in line or '"kind":"complete"' in line:
                self._note(json.loads(line))

    def of(self, actor: Actor) -> Footprint | None:
        if actor.state != ActorState.READY:
            return None
        label = str(actor.label)
        self._catch_up()
        if not label.startswith("call "):
            return None if actor.name in self._open else LOCAL
        entry = self._pending.get(actor.name)
        if entry is None or label != f"call {entry.get('service')}.{entry.get('op')}":
            return None
        return invoke_footprint(entry)

    @staticmethod
    def independent(a: Any, b: Any) -> bool:
        return isinstance(a, Footprint) and isinstance(b, Footprint) and not dependent(a, b)
