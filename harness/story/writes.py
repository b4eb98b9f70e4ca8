"""The story of a violated user invariant: the writes to the records it read, by whom, when.

Told from the history's own entries: every ChangeResourceRecordSets call (and
DynamoDB write, for a table the invariant read) that touched what the invariant
looked at, with its actor, virtual time and outcome; the faults that hit those
calls; and the actor errors. The last line is the violation itself. For an actor's
error (``no-actor-error``), the calls that actor made up to it, and the other actors'
writes to what its last call read (the records it changed, the hosted zone it listed,
the table it used): the usual cause of an error. Each line carries
the history entries (their ``seq``) behind it. Calls are told when they took effect
(their answer): concurrent writes read in the order that decided what stayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from dnschaos.checkers import Violation
from dnschaos.invariants import parse_change
from dnschaos.world.config import NO_ACTOR_ERROR

Entry = dict[str, Any]


class Step(NamedTuple):
    """One line of the story, as ``dnschaos.story.StoryLine`` takes it (this module is
    below that one: the story of a user's run is told here and rendered there)."""

    t: float
    actor: str
    text: str
    seqs: tuple[int, ...]


_WRITES = ("PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems")
MAX_LINES = 12


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _touches(change: str, names: set[str], zones: set[str]) -> bool:
    _action, name, _type, _values = parse_change(change)
    name = _fqdn(name)
    return name in names or any(name == z or name.endswith("." + z) for z in zones)


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None)


def _aliases(history: Sequence[Entry], until: int) -> dict[str, set[str]]:
    """Every alias a successful batch wrote up to ``until``: name -> the names it pointed at."""
    out: dict[str, set[str]] = {}
    pending: dict[str, Entry] = {}
    for e in history:
        if e["seq"] > until:
            break
        if e["kind"] == "invoke" and e["op"] == "ChangeResourceRecordSets":
            pending[e["actor"]] = e
        elif e["kind"] == "complete" and e["op"] == "ChangeResourceRecordSets":
            call = pending.pop(e["actor"], None)
            if call is None or e["outcome"].get("status") != 200:
                continue
            for change in call["params"].get("changes", []):
                _action, name, _type, values = parse_change(change)
                for value in values:
                    if value.startswith("-> "):
                        out.setdefault(_fqdn(name), set()).add(_fqdn(value[3:]))
    return out


def _followed(names: set[str], aliases: dict[str, set[str]]) -> set[str]:
    """``names`` and every name an alias among them pointed at, however deep."""
    out, todo = set(names), list(names)
    while todo:
        for target in aliases.get(todo.pop(), ()):
            if target not in out:
                out.add(target)
                todo.append(target)
    return out


def _read_by(violation: Violation, entry: Entry | None) -> list[str]:
    """What the violated invariant read: its violation entry says (a step invariant's), or
    the violation itself (one judged after the run)."""
    if (
        entry is not None
        and entry["kind"] == "violation"
        and entry.get("invariant") == violation.invariant
    ):
        return list(entry.get("read", []))
    return list(violation.read)


def _last_call(history: Sequence[Entry], actor: str, until: int) -> Entry | None:
    """The last call ``actor`` made before ``until``: what it read last before it raised."""
    last = None
    for e in history:
        if e["seq"] >= until:
            break
        if e["kind"] == "invoke" and e["actor"] == actor:
            last = e
    return last


def _zone_id(value: Any) -> str:
    return str(value or "").rsplit("/", 1)[-1]


def steps(history: Sequence[Entry], violation: Violation) -> list[Step]:
    entry = next((e for e in history if e["seq"] == violation.seq), None)
    read = _read_by(violation, entry)
    errored = violation.endpoint if violation.invariant == NO_ACTOR_ERROR else None
    zone_ids: set[str] = set()  # hosted zones the errored actor's last call read
    if errored is not None:
        # The writes of other actors to what the actor's last call read are its cause.
        read = []
        cause = _last_call(history, errored, violation.seq)
        if cause is not None:
            params = cause["params"]
            changes = params.get("changes", [])
            read += [parse_change(c)[1] for c in changes]
            if not changes and params.get("zone"):
                zone_ids.add(_zone_id(params["zone"]))
            if params.get("table"):
                read.append(f"table:{params['table']}")
    elif not read and "." in violation.endpoint and ":" not in violation.endpoint:
        # An invariant about a name (what clients got for it): the writes to that name
        # and to whatever its aliases pointed at.
        read = [violation.endpoint]
    names = {_fqdn(r) for r in read if ":" not in r}
    names = _followed(names, _aliases(history, violation.seq))
    zones = {_fqdn(r.split(":", 1)[1]) for r in read if r.startswith("zone:")}
    tables = {r.split(":", 1)[1] for r in read if r.startswith("table:")}

    def relevant(call: Entry) -> bool:
        params = call["params"]
        if call["op"] == "ChangeResourceRecordSets":
            return _zone_id(params.get("zone")) in zone_ids or any(
                _touches(c, names, zones) for c in params.get("changes", [])
            )
        return call["op"] in _WRITES and params.get("table") in tables

    # (time, seq it is ordered by, line): a call is told when it took effect (its
    # answer), so concurrent writes read in the order that decided the outcome.
    timed: list[tuple[float, int, Step]] = []
    pending: dict[str, Entry] = {}
    hits: dict[str, list[Entry]] = {}  # fault hits on an actor's call, told once it answers

    def tell_hits(actor: str, call: Entry | None, done: Entry | None) -> None:
        for hit in hits.pop(actor, []):
            what = f"{hit.get('fault_kind', 'fault')} fault {hit.get('fault', '')}".strip()
            text = f"{hit.get('op', 'call')} hit by {what}"
            if done is not None and call is not None:
                text += _effect(str(hit.get("fault_kind")), call, done)
            seqs = (hit["seq"],) if call is None else (call["seq"], hit["seq"])
            timed.append((hit["t"], hit["seq"], Step(hit["t"], actor, text, seqs)))

    for e in history:
        if e["seq"] > violation.seq:
            break
        if e["kind"] == "invoke":
            tell_hits(str(e["actor"]), pending.get(e["actor"]), None)
            pending[e["actor"]] = e
        elif e["kind"] == "complete":
            call = pending.pop(e["actor"], None)
            tell_hits(str(e["actor"]), call, e)
            if call is None:
                continue
            text = _call_text(call, e, names, zones, zone_ids, tables, own=e["actor"] == errored)
            if text:
                line = Step(e["t"], str(e["actor"]), text, (call["seq"], e["seq"]))
                timed.append((e["t"], e["seq"], line))
        elif e["kind"] == "fault" and e.get("action") in ("hit", "crashed"):
            call = pending.get(str(e.get("actor")))
            if e["action"] == "crashed":
                tell_hits(str(e.get("actor")), call, None)
                text = f"crashed; a fresh instance starts {e.get('restart_after', 0):g} s later"
                timed.append(
                    (e["t"], e["seq"], Step(e["t"], str(e.get("actor")), text, (e["seq"],)))
                )
            elif call is not None and (call["actor"] == errored or relevant(call)):
                hits.setdefault(str(e.get("actor")), []).append(e)
        elif e["kind"] == "actor-error" and e["seq"] != violation.seq:
            text = f"raised {e['type']}: {e['message']} at {e['where']}"
            timed.append((e["t"], e["seq"], Step(e["t"], str(e["actor"]), text, (e["seq"],))))
    for actor in list(hits):
        tell_hits(actor, pending.get(actor), None)
    told = [line for _t, _seq, line in sorted(timed, key=lambda item: (item[0], item[1]))]
    if len(told) > MAX_LINES:
        left = told[: len(told) - MAX_LINES]
        earlier = Step(
            left[0].t,
            "",
            f"... {len(left)} earlier lines left out",
            tuple(sorted({s for line in left for s in line.seqs})),
        )
        told = [earlier, *told[-MAX_LINES:]]
    if not read and not zone_ids and violation.invariant != NO_ACTOR_ERROR:
        told.append(
            Step(
                violation.t, "", "(the invariant read no record through its view)", (violation.seq,)
            )
        )
    told.append(
        Step(violation.t, "", f"[{violation.invariant}] {violation.detail}", (violation.seq,))
    )
    return told


def _call_text(
    call: Entry,
    done: Entry,
    names: set[str],
    zones: set[str],
    zone_ids: set[str],
    tables: set[str],
    *,
    own: bool,
) -> str:
    """A story line for one answered call, or "" when it is not part of the story: every
    call of the actor whose error is told (``own``), and the writes to what was read."""
    outcome = done["outcome"]
    result = "ok" if outcome.get("status") == 200 else f"failed: {outcome.get('error')}"
    params = call["params"]
    called = f"called at t={call['t']:.1f}s" if done["t"] - call["t"] >= 0.05 else ""
    if own:
        what = "; ".join(params.get("changes", [])) or _params(params)
        return f"{done['op']} {what} ({', '.join(filter(None, (result, called)))})".replace(
            "  ", " "
        )
    if done["op"] == "ChangeResourceRecordSets":
        whole_zone = _zone_id(params.get("zone")) in zone_ids
        changes = [c for c in params.get("changes", []) if whole_zone or _touches(c, names, zones)]
        if not changes:
            return ""
        change = f"change {outcome['change']}" if outcome.get("change") else ""
        return f"{'; '.join(changes)} ({', '.join(filter(None, (result, called, change)))})"
    if done["op"] in _WRITES and params.get("table") in tables:
        return f"{done['op']} {params['table']} ({result})"
    return ""


def _effect(kind: str, call: Entry, done: Entry) -> str:
    """What a fault's hit cost the call, from its answer: its error, or how long it took."""
    outcome = done["outcome"]
    if kind == "error":
        if outcome.get("status") == 200:
            return " (retried; the call went through)"
        return f" (the call failed: {outcome.get('error')})"
    took = float(done["t"]) - float(call["t"])
    return f" (the call took {took:.1f} s)" if took >= 0.05 else ""
