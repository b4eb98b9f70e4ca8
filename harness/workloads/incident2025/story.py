"""The stories of incident-2025's invariants, told from the history's own entries.

The ground truth is the recorded calls: which actor's ChangeResourceRecordSets moved
the root or the rollback record, which one deleted a tree, who wrote the lock record
and with what expiry. The enactors' events add the belief each acted on (the plan it
checked, and when), how it was held up (lock-busy looks, lost locks, backoffs) and
what it gave up on; the fault entries say which injected fault touched a step, and
the calls they hit say what it cost. Any actor's batch counts, an ops script's as
much as an enactor's.

Each invariant has its own chain:

* a deleted active or rollback tree: the flip that made the tree matter, the
  clean-up batch that deleted it and why that actor thought it old;
* a root that went back (the stale flip): the plan the culprit checked and when,
  what held it up, the newer flip it overwrote, its own flip;
* progress: the last flip, who held the lock over the window and since when, who
  tried to take it and why they could not, and what the planner wrote meanwhile;
* two lock holders: the belief of the one that held it, the take of the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dnschaos.checkers import Violation
from dnschaos.story.chain import (
    Call as _Call,
)
from dnschaos.story.chain import (
    Chain as _Chain,
)
from dnschaos.story.chain import (
    Record,
    StoryLine,
    story_lines,
    told,
)
from dnschaos.story.chain import (
    at as _at,
)
from dnschaos.story.chain import (
    fault_at as _fault_at,
)
from dnschaos.story.chain import (
    n as _n,
)
from dnschaos.story.chain import (
    names as _names,
)
from dnschaos.story.chain import (
    secs as _secs,
)

Entry = dict[str, Any]

_POINTER = re.compile(
    r"^(?:CREATE|UPSERT) (?P<name>\S+) (?:A|AAAA) -> plan-(?P<gen>\d+)\.(?P<ep>\S+)$"
)
_TREE = re.compile(r"^(?P<action>CREATE|UPSERT|DELETE) (?:\S+?\.)?plan-(?P<gen>\d+)\.(?P<ep>\S+) ")
_LOCK = re.compile(
    r"^(?P<action>CREATE|DELETE) _lock\.(?P<ep>\S+) TXT .*holder=(?P<holder>\S+) expires=(?P<expires>\d+)"
)


@dataclass(frozen=True)
class _Lock:
    holder: str
    expires: int  # epoch seconds, as written in the record


@dataclass(frozen=True)
class _Batch:
    """A ChangeResourceRecordSets call on one endpoint's zone, and what it did there."""

    call: _Call
    endpoint: str
    root_to: int | None
    rollback_to: int | None
    deleted: tuple[int, ...]
    lock_before: _Lock | None
    lock_after: _Lock | None


def _fqdn(name: str) -> str:
    return name.rstrip(".") + "."


def _parse_batch(call: _Call) -> list[_Batch]:
    per: dict[str, dict[str, Any]] = {}
    for change in call.invoke.get("params", {}).get("changes", []):
        text = str(change)
        if m := _LOCK.match(text):
            slot = per.setdefault(m["ep"], {})
            lock = _Lock(m["holder"], int(m["expires"]))
            slot["lock_before" if m["action"] == "DELETE" else "lock_after"] = lock
        elif m := _POINTER.match(text):
            ep, gen = m["ep"], int(m["gen"])
            if m["name"] == ep:
                per.setdefault(ep, {})["root_to"] = gen
            elif m["name"] == f"rollback.{ep}":
                per.setdefault(ep, {})["rollback_to"] = gen
        elif (m := _TREE.match(text)) and m["action"] == "DELETE":
            deleted = per.setdefault(m["ep"], {}).setdefault("deleted", [])
            if int(m["gen"]) not in deleted:
                deleted.append(int(m["gen"]))
    return [
        _Batch(
            call,
            ep,
            slot.get("root_to"),
            slot.get("rollback_to"),
            tuple(slot.get("deleted", ())),
            slot.get("lock_before"),
            slot.get("lock_after"),
        )
        for ep, slot in per.items()
    ]


class _Record(Record):
    """The history indexed for these stories: besides calls, events and faults, Route 53's
    observed state per endpoint and every batch's effect on each endpoint's zone."""

    def __init__(self, history: Sequence[Entry], until_seq: int | None = None) -> None:
        super().__init__(history, until_seq)
        self.observes = [e for e in self.entries if e["kind"] == "observe"]
        self.batches = [
            b for c in self.calls if c.op == "ChangeResourceRecordSets" for b in _parse_batch(c)
        ]
        self.epoch = _epoch(self.events)

    def state(self, endpoint: str, before_seq: int, *, inclusive: bool = False) -> Entry | None:
        """What Route 53 held for ``endpoint`` just before (or at) ``before_seq``."""
        found = None
        for e in self.observes:
            if e["seq"] > before_seq or (e["seq"] == before_seq and not inclusive):
                break
            if e["endpoint"] == endpoint:
                found = e
        return found

    def applied(self, endpoint: str, until_seq: int) -> list[_Batch]:
        fqdn = _fqdn(endpoint)
        return [
            b for b in self.batches if b.endpoint == fqdn and b.call.ok and b.call.seq <= until_seq
        ]

    def rel(self, epoch: int) -> float | None:
        """A lock expiry (epoch seconds) as the run's virtual time, when the history says how."""
        return None if self.epoch is None else epoch - self.epoch


def _epoch(events: Sequence[Entry]) -> float | None:
    """The epoch second at the run's t=0: a lock take says both its expiry and how long it
    held, at a known virtual time."""
    for e in events:
        if e["event"] in ("lock-taken", "lock-renewed") and "held_for" in e and "expires_at" in e:
            return round(
                float(e["expires_at"])
                - float(e["held_for"])
                - float(e["believed_t"] if "believed_t" in e else e["t"])
            )
    return None


def _plans(gens: Sequence[int]) -> str:
    gens = sorted(set(gens))
    if len(gens) == 1:
        return f"plan {gens[0]}"
    if gens == list(range(gens[0], gens[-1] + 1)):
        return f"plans {gens[0]} to {gens[-1]}"
    return "plans " + ", ".join(str(g) for g in gens[:-1]) + f" and {gens[-1]}"


def _last_applied(value: Any) -> str:
    """What an enactor had applied when it checked a plan (``last_applied`` of its event)."""
    if value is None:
        return "any plan it had applied (it had applied none yet)"
    return f"plan {value}, the last it had applied"


def _flip(rec: _Record, chain: _Chain, batch: _Batch, endpoint: str) -> None:
    """A flip to plan G: the check it rests on, what held its actor up, the newer flip it
    overwrote when it went back, and the flip itself."""
    gen = batch.root_to
    actor = batch.call.actor
    before = rec.state(endpoint, batch.call.seq)
    was = before["root"] if before is not None else None
    belief = next(
        (
            e
            for e in reversed(rec.events)
            if e["seq"] < batch.call.invoke["seq"]
            and e["actor"] == actor
            and e["event"] == "checked-plan"
            and e.get("generation") == gen
        ),
        None,
    )
    if belief is not None:
        chain.add(
            belief["t"],
            belief["seq"],
            actor,
            f"checked plan {gen}: newer than {_last_applied(belief.get('last_applied'))}",
            [belief["seq"]],
        )
        _held_up(rec, chain, actor, belief["t"], batch.call.t0, endpoint)
        chain.span(actor, belief["t"], batch.call.t1)
    else:
        chain.span(actor, batch.call.t0, batch.call.t1)
    text = f"flipped the root to plan {gen}"
    if was is not None and gen is not None and was > gen:
        newer = next(
            (b for b in reversed(rec.applied(endpoint, batch.call.seq - 1)) if b.root_to == was),
            None,
        )
        if newer is not None:
            chain.add(
                newer.call.t1,
                newer.call.seq,
                newer.call.actor,
                f"flipped the root to plan {was}",
                newer.call.seqs,
            )
        text += f", back from plan {was}"
        if belief is not None:
            text += f", {batch.call.t1 - belief['t']:.0f} s after it checked plan {gen}"
    elif was is not None and was != gen:
        text += f" from plan {was}"
    seqs = [
        *batch.call.seqs,
        *(e["seq"] for e in rec.after_call(batch.call) if e["event"] == "flipped"),
    ]
    chain.add(batch.call.t1, batch.call.seq, actor, text, seqs)


def _went_back(rec: _Record, chain: _Chain, endpoint: str, gen: int, before_seq: int) -> None:
    """The flip that put the root at plan ``gen``, told when it went back from a newer plan."""
    batches = rec.applied(endpoint, before_seq - 1)
    flip = next((b for b in reversed(batches) if b.root_to == gen), None)
    if flip is None:
        return
    state = rec.state(endpoint, flip.call.seq)
    was = state["root"] if state is not None else None
    if was is not None and was > gen:
        chain.add(
            flip.call.t1,
            flip.call.seq,
            flip.call.actor,
            f"flipped the root to plan {gen}, back from plan {was}",
            flip.call.seqs,
        )


def _held_up(rec: _Record, chain: _Chain, actor: str, t0: float, t1: float, endpoint: str) -> None:
    """What kept ``actor`` from acting between ``t0`` and ``t1``: busy looks, lost locks,
    time-outs, backoffs (counted apart: a busy look is not a loss)."""
    got = rec.of(
        actor,
        ("lock-busy", "lock-lost", "lock-timeout", "backoff", "pass-failed"),
        t0,
        t1,
        endpoint,
    )
    if not got:
        return
    parts = _lock_troubles(rec, got)
    for holder in {str(e["holder"]) for e in got if e["event"] == "lock-busy"}:
        chain.span(holder, t0, t1)  # what held the holder up (or skewed it) counts too
    failed = [e for e in got if e["event"] == "pass-failed"]
    if failed:
        parts.append(f"had its pass fail {_n(len(failed), 'time')} ({_short(failed[-1]['error'])})")
    waited = sum(float(e["seconds"]) for e in got if e["event"] == "backoff")
    text = "; ".join(parts) if parts else "backed off"
    if waited:
        text += f"; backed off {_secs(waited)} in all"
    first = got[0]
    chain.add(first["t"], first["seq"], actor, text, [e["seq"] for e in got])


# --------------------------------------------------------------------------- the tellers


def _deleted_tree(rec: _Record, chain: _Chain, v: Violation, which: str) -> bool:
    """The root or the rollback record points at a tree that is gone: the flip that made the
    tree matter and the clean-up that deleted it. False when the history shows no deletion."""
    state = rec.state(v.endpoint, v.seq, inclusive=True)
    gen = state.get(which) if state is not None else None
    if gen is None:
        return False
    batches = rec.applied(v.endpoint, v.seq)
    deletion = next((b for b in reversed(batches) if gen in b.deleted), None)
    pointer = next(
        (b for b in reversed(batches) if (b.root_to if which == "root" else b.rollback_to) == gen),
        None,
    )
    if deletion is None and pointer is None:
        return False
    if pointer is not None:
        if which == "root":
            _flip(rec, chain, pointer, v.endpoint)
        else:
            before = rec.state(v.endpoint, pointer.call.seq)
            was = before["root"] if before is not None else None
            if was == gen:  # how the root came to be at that plan, when it went back to it
                _went_back(rec, chain, v.endpoint, gen, pointer.call.seq)
            if pointer.root_to is not None:
                text = f"flipped the root to plan {pointer.root_to}"
                text += f" from plan {was}" if was is not None and was != pointer.root_to else ""
                text += f", pointing the rollback record at plan {gen}"
            else:
                text = f"pointed the rollback record at plan {gen}"
            if deletion is not None and deletion.call.seq < pointer.call.seq:
                text += ", whose tree was already gone"
            chain.add(
                pointer.call.t1, pointer.call.seq, pointer.call.actor, text, pointer.call.seqs
            )
            chain.span(pointer.call.actor, pointer.call.t0, pointer.call.t1)
    if deletion is not None:
        _deletion(rec, chain, deletion, gen, v.endpoint)
    return True


def _deletion(rec: _Record, chain: _Chain, batch: _Batch, gen: int, endpoint: str) -> None:
    """The clean-up batch that deleted plan ``gen``'s tree, with what its actor had applied."""
    actor = batch.call.actor
    at = rec.state(endpoint, batch.call.seq)
    role = ""
    if at is not None and at["root"] == gen:
        role = ", the ACTIVE tree"
    elif at is not None and at["rollback"] == gen:
        role = ", the ROLLBACK tree (the one the rollback record points at)"
    applied = next(
        (
            e
            for e in reversed(rec.events)
            if e["seq"] < batch.call.invoke["seq"]
            and e["actor"] == actor
            and e["event"] == "checked-plan"
        ),
        None,
    )
    # An enactor cleans up after a plan it checked; any other actor (an ops script, a
    # person) just deleted records, and the story says so in those words.
    text = (
        f"cleaned up: deleted plan {gen}{role}"
        if applied is not None
        else f"deleted plan {gen}'s tree{role} (its ChangeResourceRecordSets at "
        f"t={batch.call.t0:.1f}s, with no plan of its own applied)"
    )
    seqs = list(batch.call.seqs)
    if applied is not None:
        mine = int(applied["generation"])
        if mine > gen:
            text += (
                f"; it counted plan {gen} as old: {_n(mine - gen, 'plan')} older than plan "
                f"{mine}, the plan it had applied"
            )
        elif mine == gen:
            text += "; it was the plan this actor had applied itself"
        else:
            text += f"; {_n(gen - mine, 'plan')} newer than plan {mine}, the plan it had applied"
        if at is not None and at["root"] is not None and at["root"] != mine:
            text += f" (the root had moved to plan {at['root']} since)"
        seqs.append(applied["seq"])
        chain.span(actor, applied["t"], batch.call.t1)
    else:
        chain.span(actor, batch.call.t0, batch.call.t1)
    others = [g for g in batch.deleted if g != gen]
    if others:
        text += f"; the same batch deleted {_plans(others)}"
    chain.add(batch.call.t1, batch.call.seq, actor, text, seqs)


def _stale_flip(rec: _Record, chain: _Chain, v: Violation) -> bool:
    state = rec.state(v.endpoint, v.seq, inclusive=True)
    gen = state["root"] if state is not None else None
    flip = next((b for b in reversed(rec.applied(v.endpoint, v.seq)) if b.root_to == gen), None)
    if flip is None:
        return False
    _flip(rec, chain, flip, v.endpoint)
    return True


def _empty(rec: _Record, chain: _Chain, v: Violation) -> bool:
    """Zero addresses: a deleted active tree when the root's tree is gone; else the flip to
    the plan whose tree answers with nothing."""
    state = rec.state(v.endpoint, v.seq, inclusive=True)
    if state is None:
        return False
    if state["root"] is not None and not state["root_exists"]:
        return _deleted_tree(rec, chain, v, "root")
    return _stale_flip(rec, chain, v)


def _client_saw_empty(rec: _Record, chain: _Chain, v: Violation) -> bool:
    told = _empty(rec, chain, v)
    probe = next((e for e in rec.entries if e["seq"] == v.seq), None)
    if probe is not None and probe.get("actor"):
        chain.span(str(probe["actor"]), max(0.0, v.t - 60.0), v.t)
    return told


def _progress(rec: _Record, chain: _Chain, v: Violation) -> bool:
    """A plan that never became active: the last flip, and then either that flip going back
    (a stale flip at the end) or the lock over the window (who held it and since when, who
    tried and why they could not) and what the planner wrote meanwhile."""
    end = v.t
    flips = [b for b in rec.applied(v.endpoint, rec.last_seq) if b.root_to is not None]
    last = flips[-1] if flips else None
    if last is not None:
        assert last.root_to is not None
        if any((b.root_to or 0) > last.root_to for b in flips[:-1]):
            # It went back: that flip is the story, with what wedged everyone after it.
            _flip(rec, chain, last, v.endpoint)
            _tree_gone(rec, chain, v.endpoint, last.root_to)
            _gave_up(rec, chain, v.endpoint, last.call.t1, end)
            return True
        chain.add(
            last.call.t1,
            last.call.seq,
            last.call.actor,
            f"flipped the root to plan {last.root_to}: the last flip of the run",
            last.call.seqs,
        )
    since = last.call.t1 if last is not None else 0.0
    written = [e for e in rec.events if e["event"] == "wrote-plan" and since < e["t"] <= end]
    due = next((e for e in rec.entries if e["seq"] == v.seq), None)
    start = written[0]["t"] if written else (due["t"] if due is not None else since)
    if written:
        gens = [int(e["generation"]) for e in written]
        text = (
            f"wrote plan {gens[0]}; it never became active"
            if len(gens) == 1
            else f"wrote {_plans(gens)} from {_at(written[0]['t'])} to "
            f"{_at(written[-1]['t'])}; none became active"
        )
        first = written[0]
        chain.add(first["t"], first["seq"], str(first["actor"]), text, [e["seq"] for e in written])
    _lock_over(rec, chain, v.endpoint, start, end)
    _gave_up(rec, chain, v.endpoint, start, end)
    return True


def _tree_gone(rec: _Record, chain: _Chain, endpoint: str, gen: int) -> None:
    """The clean-up that deleted plan ``gen``'s tree, when it is gone at the end."""
    state = rec.state(endpoint, rec.last_seq, inclusive=True)
    if state is None or state["root"] != gen or state["root_exists"]:
        return
    deletion = next(
        (b for b in reversed(rec.applied(endpoint, rec.last_seq)) if gen in b.deleted), None
    )
    if deletion is not None:
        _deletion(rec, chain, deletion, gen, endpoint)


@dataclass
class _Tenure:
    """One holding of a lock: the batches that took it, renewed it and released it."""

    writes: list[_Batch]
    free_from: float  # when it stopped being held: its release, or the expiry that passed
    next_take: float  # when the next holding began (or the end of the run)
    released_at: float | None = None

    @property
    def holder(self) -> str:
        lock = self.writes[-1].lock_after
        return lock.holder if lock is not None else "?"


def _tenures(rec: _Record, endpoint: str, end: float) -> list[_Tenure]:
    """The lock's holdings in order. A write by the holder renews the lock while it holds
    it, and one that sets the expiry to now releases it (late, if it had expired)."""
    fqdn = _fqdn(endpoint)
    out: list[_Tenure] = []
    for b in rec.batches:
        if b.endpoint != fqdn or not b.call.ok or b.lock_after is None:
            continue
        t = b.call.t1
        expiry = rec.rel(b.lock_after.expires)
        until = end if expiry is None else min(end, expiry)
        release = expiry is not None and expiry <= t + 1.0
        current = out[-1] if out else None
        if (
            current is not None
            and current.released_at is None
            and current.holder == b.lock_after.holder
            and (release or t < current.free_from)
        ):
            current.writes.append(b)
            if release:
                current.released_at = t
                current.free_from = min(current.free_from, t)
            else:
                current.free_from = until
            continue
        if current is not None:
            current.next_take = t
        out.append(_Tenure([b], until, end))
    return out


def _lock_over(rec: _Record, chain: _Chain, endpoint: str, start: float, end: float) -> None:
    """Who held ``endpoint``'s lock from ``start`` to ``end`` (and since when), and who
    looked for it and found it held, lost it or gave up on it."""
    looks = [
        e
        for e in rec.events
        if e["event"] in ("lock-busy", "lock-lost", "lock-timeout", "backoff")
        and e.get("endpoint", endpoint) == endpoint
        and start <= e["t"] <= end
    ]
    for tenure in _tenures(rec, endpoint, end):
        first = tenure.writes[0]
        seen = [
            e
            for e in looks
            if e["event"] == "lock-busy"
            and e["holder"] == tenure.holder
            and first.call.t1 <= e["t"] <= tenure.next_take
        ]
        if not seen:
            continue
        actor = first.call.actor
        if actor == tenure.holder:
            text = "took the lock"
        else:
            fault = _fault_at(rec, "lock-contention", first.call.t1)
            name = f" for lock-contention fault {fault['fault']}" if fault is not None else ""
            text = f"took the lock{name} (the record names '{tenure.holder}')"
        released = tenure.released_at
        renewals = len(tenure.writes) - 1 - (1 if released is not None else 0)
        if renewals:
            text += f", renewed it {_n(renewals, 'time')}"
        if released is not None and tenure.free_from < released - 1.0:
            text += (
                f" and let it expire at {_at(tenure.free_from)}; it wrote the release only "
                f"at {_at(released)}"
            )
        elif released is not None:
            text += f" and released it at {_at(released)}"
        elif tenure.free_from < tenure.next_take:
            text += f" and let it expire at {_at(tenure.free_from)} without a release"
        else:
            text += f", holding it to the end (until {_at(tenure.free_from)})"
        if any(e["t"] >= tenure.free_from for e in seen):
            free = tenure.free_from
            text += (
                f"; from {_at(free)} the record named {tenure.holder} but no one held the lock, "
                "and no one took it"
                if tenure.next_take >= end
                else f"; from {_at(free)} the record named {tenure.holder} but no one held the "
                f"lock, until {_at(tenure.next_take)}"
            )
        chain.add(
            first.call.t1,
            first.call.seq,
            actor,
            text,
            [s for b in tenure.writes for s in b.call.seqs],
        )
        chain.span(actor, first.call.t0, min(tenure.next_take, end))
    for actor in dict.fromkeys(str(e["actor"]) for e in looks):
        mine = [e for e in looks if e["actor"] == actor]
        parts = _lock_troubles(rec, mine)
        if not parts:
            continue
        waited = sum(float(e["seconds"]) for e in mine if e["event"] == "backoff")
        text = "; ".join(parts) + (f"; backed off {_secs(waited)} in all" if waited else "")
        relevant = [e for e in mine if e["event"] != "backoff"] or mine
        chain.add(relevant[0]["t"], relevant[0]["seq"], actor, text, [e["seq"] for e in mine])
        chain.span(actor, start, end)
        for holder in {str(e["holder"]) for e in mine if e["event"] == "lock-busy"}:
            chain.span(holder, start, end)


def _lock_troubles(rec: _Record, mine: Sequence[Entry]) -> list[str]:
    """One actor's failed tries at a lock, in words: busy looks (and how many of them found
    it expired), lost locks and time-outs, each counted apart."""
    busy = [e for e in mine if e["event"] == "lock-busy"]
    lost = [e for e in mine if e["event"] == "lock-lost"]
    gave_up = [e for e in mine if e["event"] == "lock-timeout"]
    parts: list[str] = []
    expired = [e for e in busy if (r := rec.rel(int(e["expires_at"]))) is not None and r <= e["t"]]
    live = [e for e in busy if e not in expired]
    if live:
        part = f"found the lock held by {_names(e['holder'] for e in live)} {_n(len(live), 'time')}"
        if len(live) > 1:
            part += f" (from {_at(live[0]['t'])} to {_at(live[-1]['t'])})"
        parts.append(part)
    for holder in dict.fromkeys(e["holder"] for e in expired):
        stale = [e for e in expired if e["holder"] == holder]
        since = rec.rel(int(stale[0]["expires_at"]))
        assert since is not None
        part = (
            f"found it expired (at {_at(since)}) but still naming {holder} "
            f"{_n(len(stale), 'time')} and did not take it"
        )
        if len(stale) > 1:
            part += f" (from {_at(stale[0]['t'])} to {_at(stale[-1]['t'])})"
        parts.append(part)
    if lost:
        parts.append(
            f"lost the lock {_n(len(lost), 'time')} (a batch rejected: the lock had changed under it)"
        )
    if gave_up:
        parts.append(f"gave up on the lock {_n(len(gave_up), 'time')}")
    return parts


def _gave_up(rec: _Record, chain: _Chain, endpoint: str, start: float, end: float) -> None:
    """Other reasons enactors could not apply: rejected flips (the wedge), failed passes,
    a freeze, a plan table they could not read."""
    reasons = ("flip-failed", "endpoint-failed", "pass-failed", "froze", "scan-limit-hit")
    got = [
        e
        for e in rec.events
        if e["event"] in reasons
        and start <= e["t"] <= end
        and e.get("endpoint", endpoint) == endpoint
    ]
    fqdn = _fqdn(endpoint)
    for actor in dict.fromkeys(str(e["actor"]) for e in got):
        mine = [e for e in got if e["actor"] == actor]
        for kind in dict.fromkeys(e["event"] for e in mine):
            same = [e for e in mine if e["event"] == kind]
            first = same[0]
            seqs = [e["seq"] for e in same]
            if kind in ("flip-failed", "endpoint-failed"):
                if kind == "endpoint-failed" and any(e["event"] == "flip-failed" for e in mine):
                    continue  # the same failure, told once
                # Counted from the batches Route 53 rejected, lock losses apart.
                rejected = [
                    b.call
                    for b in rec.batches
                    if b.endpoint == fqdn
                    and b.call.actor == actor
                    and b.call.complete is not None
                    and not b.call.ok
                    and start <= b.call.t1 <= end
                    and "_lock." not in str(b.call.complete["outcome"].get("message", ""))
                ]
                plans = _plans(sorted({int(e["generation"]) for e in same}))
                text = (
                    f"could not apply {plans}: Route 53 rejected its batch "
                    f"{_n(len(rejected), 'time')} ({_short(first['error'])})"
                    if rejected
                    else f"could not apply {plans}: {_short(first['error'])}"
                )
                seqs += [s for c in rejected for s in c.seqs]
            elif kind == "pass-failed":
                text = f"had its pass fail {_n(len(same), 'time')} ({_short(first['error'])})"
            elif kind == "froze":
                text = f"froze: {first['reason']}"
            else:
                text = (
                    f"found no plan: the {first['skipped']} newest plan items are malformed "
                    f"(down to generation {first['oldest_examined']}); older plans are not "
                    f"looked at (plan_scan_limit {first['limit']})"
                )
            chain.add(first["t"], first["seq"], actor, text, seqs)
            chain.span(actor, start, end)


def _short(text: Any, limit: int = 160) -> str:
    said = str(text).strip()
    return said if len(said) <= limit else said[: limit - 3] + "..."


def _two_holders(rec: _Record, chain: _Chain, v: Violation) -> bool:
    """Two believed holders: the one that still believed it held the lock, and the take by
    the other, over a record whose expiry it read as passed."""
    taken = next((e for e in rec.events if e["seq"] == v.seq), None)
    if taken is None:
        return False
    taker = str(taken["actor"])
    for other in sorted({str(e["actor"]) for e in rec.events} - {taker}):
        belief = next(
            (
                e
                for e in reversed(rec.events)
                if e["actor"] == other
                and e["seq"] < v.seq
                and e.get("endpoint") == v.endpoint
                and e["event"]
                in ("lock-taken", "lock-renewed", "lock-releasing", "lock-released", "lock-lost")
            ),
            None,
        )
        if belief is None or belief["event"] not in ("lock-taken", "lock-renewed"):
            continue
        until = belief["t"] + float(belief["held_for"])
        if until <= taken["t"]:
            continue
        verb = "took" if belief["event"] == "lock-taken" else "renewed"
        text = f"{verb} the lock, believing it held it until {_at(until)}"
        chain.add(belief["t"], belief["seq"], other, text, [belief["seq"]])
        chain.span(other, belief["t"], v.t)
    batch = next(
        (
            b
            for b in reversed(rec.applied(v.endpoint, v.seq))
            if b.call.actor == taker and b.lock_after
        ),
        None,
    )
    if batch is not None:
        text = "took the lock"
        if batch.lock_before is not None:
            expiry = rec.rel(batch.lock_before.expires)
            text += f" over {batch.lock_before.holder}'s record"
            if expiry is not None:
                text += f", which said it expired at {_at(expiry)}"
        chain.add(batch.call.t1, batch.call.seq, taker, text, [*batch.call.seqs, taken["seq"]])
        chain.span(taker, batch.call.t0 - 30.0, v.t)
    return True


_TELLERS: Final[dict[str, Callable[[_Record, _Chain, Violation], bool]]] = {
    "active-plan-never-deleted": lambda rec, chain, v: _deleted_tree(rec, chain, v, "root"),
    "rollback-target-exists": lambda rec, chain, v: _deleted_tree(rec, chain, v, "rollback"),
    "applied-generation-monotonic": _stale_flip,
    "endpoint-never-empty": _empty,
    "endpoint-never-empty-client": _client_saw_empty,
    "progress": _progress,
    "single-lock-holder": _two_holders,
}


def tell(history: Sequence[Entry], violation: Violation) -> list[StoryLine] | None:
    """The story of one of these invariants' violations, or None (another's, or what
    clients saw of a name that is no endpoint of this workload)."""
    teller = _TELLERS.get(violation.invariant)
    if teller is None:
        return None
    if violation.invariant == "endpoint-never-empty-client" and not any(
        e["kind"] == "observe" and e.get("endpoint") == violation.endpoint for e in history
    ):
        return None
    # A safety violation's story ends where it was seen; progress is judged over the run.
    until = None if violation.invariant == "progress" else violation.seq
    rec = _Record(history, until)
    chain = told(teller, rec, violation) or told(_fallback, rec, violation) or _Chain()
    return story_lines(chain, violation)


def _fallback(rec: _Record, chain: _Chain, v: Violation) -> bool:
    """No chain of its own: the last flip before the violation, and plans nobody found."""
    flips = [b for b in rec.applied(v.endpoint, v.seq) if b.root_to is not None]
    if flips:
        _flip(rec, chain, flips[-1], v.endpoint)
    _gave_up(rec, chain, v.endpoint, 0.0, v.t)
    return True


__all__ = ["tell"]
