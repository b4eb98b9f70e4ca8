"""The abstract state of a run after every step, and the coverage map of a campaign.

A guided campaign needs to tell a run that reached somewhere new from one that
retraced old ground. Concrete states never repeat (times, change ids), so each
step of the recorded history is mapped to a small *abstract state*, and a
campaign keeps the set of abstract states and of transitions between them that
its runs reached. A case that adds to either joins the corpus.

For the built-in automation (plans, enactors, a lock per endpoint) the abstract
state after a step is, per endpoint:

* ``lag``: how many plans the root is behind the newest plan written (0, 1, 2,
  3 meaning "3 or more", ``-`` while the root points at no plan);
* ``root`` / ``rollback``: whether the tree the root and the rollback record
  point at exists (``+``), is gone (``x``), or there is none (``-``);
* ``lock``: who holds the endpoint's lock (an actor), ``~`` when the holder's
  lease has expired without a release, ``-`` when free;

and per actor:

* its pending write: the operation of a call that changes something (a change
  batch is told by what it does: ``flip``, ``delete`` (clean-up), ``tree``
  (building one)), ``held`` while the scheduler delays it, ``-`` otherwise
  (between calls, or in a read, which changes nothing another actor sees);
* for an enactor, how many plans the one it works on is behind the newest
  (same scale as ``lag``).

For user actors (a scenario with ``[[actors]]``) only the per-actor part exists:
the pending call (a change batch by its actions, e.g. ``crrs:DELETE+UPSERT``) and
whether the actor's last call failed.

States and transitions are kept as short stable hashes (blake2b of their text),
so a map is small, the same in every process, and can be stored as JSON.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

Entry = dict[str, Any]

LAG_CAP: Final = 3
_READS: Final = ("List", "Get", "Query", "Scan", "Describe")
_PLAN = re.compile(r"plan-(\d+)\.")
_DELETE = re.compile(r"^DELETE plan-\d+\.")
_ROOT_WRITE = re.compile(r"^(?:CREATE|UPSERT) \S+ A -> plan-\d+\.")


def _lag(newest: int, gen: int | None) -> str:
    if gen is None:
        return "-"
    return str(min(LAG_CAP, max(0, newest - gen)))


def _gen(value: Any) -> int | None:
    """A plan's generation: observations record it as a number (a record name such as
    ``plan-7.api.example.`` is read too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    m = _PLAN.search(value)
    return int(m.group(1)) if m else None


def _batch_kind(changes: Sequence[str]) -> str:
    if any(_ROOT_WRITE.match(c) for c in changes):
        return "flip"
    if changes and all(_DELETE.match(c) for c in changes):
        return "delete"
    return "tree"


def _user_batch(changes: Sequence[str]) -> str:
    actions = sorted({c.split(" ", 1)[0] for c in changes if c})
    return "crrs:" + "+".join(actions)


@dataclass
class _Endpoint:
    root: int | None = None
    root_exists: bool = False
    rollback: int | None = None
    rollback_exists: bool = False
    holder: str | None = None
    expires: float | None = None


@dataclass
class _State:
    user_actors: bool
    newest: int = 0
    endpoints: dict[str, _Endpoint] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    working_on: dict[str, int] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    actors: set[str] = field(default_factory=set)

    def text(self, t: float) -> str:
        parts: list[str] = []
        for name in sorted(self.endpoints):
            ep = self.endpoints[name]
            lock = "-"
            if ep.holder is not None:
                lock = "~" if ep.expires is not None and t >= ep.expires else ep.holder
            root = "-" if ep.root is None else ("+" if ep.root_exists else "x")
            back = "-" if ep.rollback is None else ("+" if ep.rollback_exists else "x")
            parts.append(f"{name}:{_lag(self.newest, ep.root)}{root}{back}:{lock}")
        for actor in sorted(self.actors):
            pending = self.pending.get(actor, "-")
            if self.user_actors:
                parts.append(f"{actor}:{pending}{'!' if actor in self.failed else ''}")
            else:
                work = self.working_on.get(actor)
                parts.append(f"{actor}:{pending}:{_lag(self.newest, work)}")
        return "|".join(parts)


def abstract_states(history: Iterable[Entry]) -> list[str]:
    """The abstract state after every step of ``history`` that changed it, in order
    (as text; see the module's description). Consecutive repeats are dropped."""
    entries = iter(history)
    first = next(entries, None)
    if first is None:
        return []
    state = _State(user_actors=first.get("kind") == "world")
    out: list[str] = []
    for e in _chain([first], entries):
        _apply(state, e)
        text = state.text(float(e.get("t", 0.0)))
        if not out or out[-1] != text:
            out.append(text)
    return out


def _chain(*parts: Iterable[Entry]) -> Iterable[Entry]:
    for part in parts:
        yield from part


def _apply(state: _State, e: Entry) -> None:
    kind = e.get("kind")
    actor = e.get("actor")
    if kind == "choice" and isinstance(actor, str):
        if actor == "nemesis":
            return
        state.actors.add(actor)
        label = str(e.get("label", ""))
        if label.startswith("delay "):
            state.pending[actor] = "held"
        elif state.pending.get(actor) == "held":
            state.pending.pop(actor, None)
    elif kind == "invoke" and isinstance(actor, str):
        state.actors.add(actor)
        changes = e.get("params", {}).get("changes", []) or []
        op = str(e.get("op"))
        if op == "ChangeResourceRecordSets":
            state.pending[actor] = (
                _user_batch(changes) if state.user_actors else _batch_kind(changes)
            )
        elif op.startswith(_READS):
            # A read changes nothing another actor can see: the state between calls.
            state.pending.pop(actor, None)
        else:
            state.pending[actor] = op
    elif kind == "complete" and isinstance(actor, str):
        state.pending.pop(actor, None)
        if (e.get("outcome") or {}).get("status") == 200:
            state.failed.discard(actor)
        else:
            state.failed.add(actor)
    elif kind == "observe":
        ep = state.endpoints.setdefault(str(e.get("endpoint")), _Endpoint())
        ep.root, ep.root_exists = _gen(e.get("root")), bool(e.get("root_exists"))
        ep.rollback, ep.rollback_exists = _gen(e.get("rollback")), bool(e.get("rollback_exists"))
    elif kind == "event":
        _apply_event(state, e)


def _apply_event(state: _State, e: Entry) -> None:
    event = e.get("event")
    actor = str(e.get("actor"))
    if event == "wrote-plan":
        state.newest = max(state.newest, int(e.get("generation") or 0))
    elif event == "checked-plan" and e.get("generation") is not None:
        state.working_on[actor] = int(e["generation"])
    elif event in ("lock-taken", "lock-renewed"):
        ep = state.endpoints.setdefault(str(e.get("endpoint")), _Endpoint())
        ep.holder = actor
        expires = e.get("held_for")
        ep.expires = float(e["t"]) + float(expires) if expires is not None else None
    elif event == "lock-released":
        ep = state.endpoints.setdefault(str(e.get("endpoint")), _Endpoint())
        if ep.holder == actor:
            ep.holder, ep.expires = None, None


def key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def coverage_keys(history: Iterable[Entry]) -> tuple[set[str], set[str]]:
    """The hashed abstract states and transitions (``from>to``) a run reached."""
    states = abstract_states(history)
    nodes = {key(s) for s in states}
    edges = {key(a + ">" + b) for a, b in itertools.pairwise(states)}
    return nodes, edges


@dataclass
class CoverageMap:
    """What a campaign has reached: each state and transition with the first case that did."""

    states: dict[str, int] = field(default_factory=dict)
    transitions: dict[str, int] = field(default_factory=dict)

    def add(self, index: int, states: Iterable[str], transitions: Iterable[str]) -> int:
        """Record a case's coverage; return how many states and transitions were new."""
        new = 0
        for k in states:
            if k not in self.states:
                self.states[k] = index
                new += 1
        for k in transitions:
            if k not in self.transitions:
                self.transitions[k] = index
                new += 1
        return new

    def summary(self) -> dict[str, int]:
        return {"states": len(self.states), "transitions": len(self.transitions)}

    def line(self) -> str:
        return f"coverage {len(self.states)} states, {len(self.transitions)} transitions"

    def to_json(self) -> dict[str, Any]:
        return {"states": self.states, "transitions": self.transitions}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoverageMap:
        return cls(
            {str(k): int(v) for k, v in data.get("states", {}).items()},
            {str(k): int(v) for k, v in data.get("transitions", {}).items()},
        )


def call_points(history: Iterable[Entry], skip: Sequence[str] = ("nemesis",)) -> list[list[Any]]:
    """Every place a run could hold an actor, ``[actor, n]`` for its n-th AWS call, in the
    order the run reached them (the points :class:`~dnschaos.sim.strategies.ExploreStrategy`
    names)."""
    count: dict[str, int] = {}
    out: list[list[Any]] = []
    for e in history:
        if e.get("kind") != "choice" or not str(e.get("label", "")).startswith("call "):
            continue
        actor = str(e["actor"])
        if actor in skip:
            continue
        count[actor] = count.get(actor, 0) + 1
        out.append([actor, count[actor]])
    return out
