"""The story of a violated user invariant: the writes to the records it read, by whom, when.

Told from the history's own entries: every ChangeResourceRecordSets call (and
DynamoDB write, for a table the invariant read) that touched what the invariant
looked at, with its actor, virtual time and outcome; the faults that hit those
calls; and the actor errors. The last line is the violation itself. For an actor's error (``no-actor-error``), the
calls that actor made up to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dnschaos.byo.config import NO_ACTOR_ERROR
from dnschaos.byo.invariants import parse_change
from dnschaos.checkers import Violation

Entry = dict[str, Any]
_WRITES = ("PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems")
MAX_LINES = 12


def _line(actor: str, t: float, text: str) -> tuple[float, str]:
    return t, f"t={t:7.1f}s  {actor} {text}"


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _touches(change: str, names: set[str], zones: set[str]) -> bool:
    _action, name, _type, _values = parse_change(change)
    name = _fqdn(name)
    return name in names or any(name == z or name.endswith("." + z) for z in zones)


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None)


def tell(history: Sequence[Entry], violation: Violation) -> list[str]:
    entry = next((e for e in history if e["seq"] == violation.seq), None)
    read: list[str] = list(entry.get("read", [])) if entry is not None else []
    if violation.invariant == NO_ACTOR_ERROR:
        read = []
    names = {_fqdn(r) for r in read if ":" not in r}
    zones = {_fqdn(r.split(":", 1)[1]) for r in read if r.startswith("zone:")}
    tables = {r.split(":", 1)[1] for r in read if r.startswith("table:")}
    errored = violation.endpoint if violation.invariant == NO_ACTOR_ERROR else None
    timed: list[tuple[float, str]] = []
    pending: dict[str, Entry] = {}
    for e in history:
        if e["seq"] > violation.seq:
            break
        if e["kind"] == "invoke":
            pending[e["actor"]] = e
        elif e["kind"] == "complete":
            call = pending.pop(e["actor"], None)
            if call is None:
                continue
            outcome = e["outcome"]
            result = "ok" if outcome.get("status") == 200 else f"failed: {outcome.get('error')}"
            if e["actor"] == errored:  # the calls of the actor that raised, up to its error
                text = "; ".join(call["params"].get("changes", [])) or _params(call["params"])
                timed.append(
                    _line(e["actor"], call["t"], f"{e['op']} {text} ({result})".replace("  ", " "))
                )
            elif e["op"] == "ChangeResourceRecordSets":
                changes = [
                    c for c in call["params"].get("changes", []) if _touches(c, names, zones)
                ]
                if changes:
                    timed.append(
                        _line(
                            e["actor"],
                            call["t"],
                            f"{'; '.join(changes)} ({result}, t={e['t']:.1f}s"
                            + (f", change {outcome['change']}" if outcome.get("change") else "")
                            + ")",
                        )
                    )
            elif e["op"] in _WRITES and call["params"].get("table") in tables:
                timed.append(
                    _line(e["actor"], call["t"], f"{e['op']} {call['params']['table']} ({result})")
                )
        elif e["kind"] == "fault" and e.get("action") in ("hit", "crashed"):
            call = pending.get(str(e.get("actor")))
            relevant = call is not None and (
                call["actor"] == errored
                or any(_touches(c, names, zones) for c in call["params"].get("changes", []))
                or call["params"].get("table") in tables
            )
            if relevant or e.get("action") == "crashed":
                what = f"{e.get('fault_kind', 'fault')} fault {e.get('fault', '')}".strip()
                verb = "crashed" if e["action"] == "crashed" else f"{e.get('op', 'call')} hit by"
                t, text = _line(str(e.get("actor")), e["t"], f"{verb} {what}")
                timed.append((t + 1e-6, text))  # after the call it hit, made at the same time
        elif e["kind"] == "actor-error" and e["seq"] != violation.seq:
            timed.append(
                _line(e["actor"], e["t"], f"raised {e['type']}: {e['message']} at {e['where']}")
            )
    # A call is told at the time it was made, before the faults that hit it.
    lines = [text for _t, text in sorted(timed, key=lambda item: item[0])]
    if len(lines) > MAX_LINES:
        lines = [f"... {len(lines) - MAX_LINES} earlier lines", *lines[-MAX_LINES:]]
    if not read and violation.invariant != NO_ACTOR_ERROR:
        lines.append("(the invariant read no record through its view)")
    lines.append(f"t={violation.t:7.1f}s  [{violation.invariant}] {violation.detail}")
    return lines
