"""The story of a violated user invariant: the writes to the records it read, by whom, when.

Told from the history's own entries: every ChangeResourceRecordSets call (and
DynamoDB write, for a table the invariant read) that touched what the invariant
looked at, with its actor, virtual time and outcome; the faults that hit those
calls; and the actor errors. The last line is the violation itself. For an actor's
error (``no-actor-error``), the calls that actor made up to it. Each line carries
the history entries (their ``seq``) behind it.
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


def steps(history: Sequence[Entry], violation: Violation) -> list[Step]:
    entry = next((e for e in history if e["seq"] == violation.seq), None)
    read: list[str] = list(entry.get("read", [])) if entry is not None else []
    if violation.invariant == NO_ACTOR_ERROR:
        read = []
    elif not read and "." in violation.endpoint and ":" not in violation.endpoint:
        # An invariant about a name (what clients got for it): the writes to that name
        # and to whatever its aliases pointed at.
        read = [violation.endpoint]
    names = {_fqdn(r) for r in read if ":" not in r}
    names = _followed(names, _aliases(history, violation.seq))
    zones = {_fqdn(r.split(":", 1)[1]) for r in read if r.startswith("zone:")}
    tables = {r.split(":", 1)[1] for r in read if r.startswith("table:")}
    errored = violation.endpoint if violation.invariant == NO_ACTOR_ERROR else None
    # (time, seq it is ordered by, line): a call is told when it was made, before the
    # faults that hit it (recorded after its invoke).
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
            outcome = e["outcome"]
            result = "ok" if outcome.get("status") == 200 else f"failed: {outcome.get('error')}"
            seqs = (call["seq"], e["seq"])
            text = ""
            if e["actor"] == errored:  # the calls of the actor that raised, up to its error
                what = "; ".join(call["params"].get("changes", [])) or _params(call["params"])
                text = f"{e['op']} {what} ({result})".replace("  ", " ")
            elif e["op"] == "ChangeResourceRecordSets":
                changes = [
                    c for c in call["params"].get("changes", []) if _touches(c, names, zones)
                ]
                if changes:
                    text = (
                        f"{'; '.join(changes)} ({result}, t={e['t']:.1f}s"
                        + (f", change {outcome['change']}" if outcome.get("change") else "")
                        + ")"
                    )
            elif e["op"] in _WRITES and call["params"].get("table") in tables:
                text = f"{e['op']} {call['params']['table']} ({result})"
            if text:
                line = Step(call["t"], str(e["actor"]), text, seqs)
                timed.append((call["t"], call["seq"], line))
        elif e["kind"] == "fault" and e.get("action") in ("hit", "crashed"):
            call = pending.get(str(e.get("actor")))
            relevant = call is not None and (
                call["actor"] == errored
                or any(_touches(c, names, zones) for c in call["params"].get("changes", []))
                or call["params"].get("table") in tables
            )
            if e["action"] == "crashed":
                tell_hits(str(e.get("actor")), call, None)
                text = f"crashed; a fresh instance starts {e.get('restart_after', 0):g} s later"
                timed.append(
                    (e["t"], e["seq"], Step(e["t"], str(e.get("actor")), text, (e["seq"],)))
                )
            elif relevant:
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
    if not read and violation.invariant != NO_ACTOR_ERROR:
        told.append(
            Step(
                violation.t, "", "(the invariant read no record through its view)", (violation.seq,)
            )
        )
    told.append(
        Step(violation.t, "", f"[{violation.invariant}] {violation.detail}", (violation.seq,))
    )
    return told


def _effect(kind: str, call: Entry, done: Entry) -> str:
    """What a fault's hit cost the call, from its answer: its error, or how long it took."""
    outcome = done["outcome"]
    if kind == "error":
        if outcome.get("status") == 200:
            return " (retried; the call went through)"
        return f" (the call failed: {outcome.get('error')})"
    took = float(done["t"]) - float(call["t"])
    return f" (the call took {took:.1f} s)" if took >= 0.05 else ""
