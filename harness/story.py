"""The short causal story of a violation, told from the history's own entries.

The ground truth is the recorded calls: which actor's ChangeResourceRecordSets
moved the root, and which one deleted a tree. The automation's events add the
belief each actor acted on (the plan it checked, and when) and how long it was
held up. Every line carries the actor and the virtual time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dnschaos.checkers import Violation

Entry = dict[str, Any]
_ROOT_WRITE = re.compile(r"^(?:CREATE|UPSERT) (?P<name>\S+) A -> plan-(?P<gen>\d+)\.")
_TREE_DELETE = re.compile(r"^DELETE plan-(?P<gen>\d+)\.(?P<endpoint>\S+) ")


@dataclass(frozen=True)
class _Write:
    actor: str
    t: float
    seq: int
    root_to: int | None
    deleted: tuple[int, ...]


def _line(actor: str, t: float, text: str) -> str:
    return f"t={t:7.1f}s  {actor} {text}"


def _writes(history: Sequence[Entry], endpoint: str, before: int) -> list[_Write]:
    """Successful change batches on ``endpoint``'s zone, with what each did to the root and trees."""
    fqdn = endpoint.rstrip(".") + "."
    pending: dict[str, Entry] = {}
    out: list[_Write] = []
    for e in history:
        if e["seq"] > before:
            break
        if e["kind"] == "invoke" and e["op"] == "ChangeResourceRecordSets":
            pending[e["actor"]] = e
        elif e["kind"] == "complete" and e["op"] == "ChangeResourceRecordSets":
            call = pending.pop(e["actor"], None)
            if call is None or e["outcome"].get("status") != 200:
                continue
            root_to = None
            deleted: list[int] = []
            for change in call["params"]["changes"]:
                m = _ROOT_WRITE.match(change)
                if m and m["name"] == fqdn:
                    root_to = int(m["gen"])
                d = _TREE_DELETE.match(change)
                if d and d["endpoint"] == fqdn and int(d["gen"]) not in deleted:
                    deleted.append(int(d["gen"]))
            if root_to is not None or deleted:
                out.append(_Write(e["actor"], e["t"], e["seq"], root_to, tuple(deleted)))
    return out


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


_RENDERED = re.compile(r"^t=\s*(?P<t>-?[\d.]+)s  (?P<rest>.*)$")


def lines(history: Sequence[Entry], violation: Violation) -> list[StoryLine]:
    """The story as structured lines (the report's view of :func:`tell`)."""
    out: list[StoryLine] = []
    actors = {str(e.get("actor")) for e in history if e.get("actor")}
    for text in tell(history, violation):
        m = _RENDERED.match(text)
        if m is None:
            out.append(StoryLine(violation.t, "", text))
            continue
        rest = m["rest"]
        actor, _, what = rest.partition(" ")
        if actor not in actors:
            actor, what = "", rest
        out.append(StoryLine(float(m["t"]), actor, what))
    return out


def tell(history: Sequence[Entry], violation: Violation) -> list[str]:
    if history and history[0]["kind"] == "world":  # a run of the user's own actors
        from dnschaos.byo.story import tell as tell_byo

        return tell_byo(history, violation)
    writes = _writes(history, violation.endpoint, violation.seq)
    flips = [w for w in writes if w.root_to is not None]
    lines: list[str] = []
    verdict = f"t={violation.t:7.1f}s  [{violation.invariant}] {violation.detail}"
    blind = _scan_limit_lines(history, violation.t)
    if not flips:
        return [*blind, verdict]
    culprit = flips[-1]
    # When a clean-up deleted the active tree, the flip that made it active is the culprit.
    deleter = next(
        (w for w in reversed(writes) if w.seq > culprit.seq and culprit.root_to in w.deleted), None
    )
    newer = next(
        (f for f in reversed(flips[:-1]) if (f.root_to or 0) > (culprit.root_to or 0)), None
    )
    events = [e for e in history if e["kind"] == "event" and e["seq"] < culprit.seq]
    belief = next(
        (
            e
            for e in reversed(events)
            if e["event"] == "checked-plan"
            and e["actor"] == culprit.actor
            and e["generation"] == culprit.root_to
        ),
        None,
    )
    if belief is not None:
        lines.append(
            _line(
                belief["actor"],
                belief["t"],
                f"checked plan {belief['generation']} > {belief.get('last_applied')} "
                "(its last applied)",
            )
        )
        losses = [
            e
            for e in events
            if e["actor"] == culprit.actor
            and e["event"] in ("lock-busy", "lock-lost")
            and e["seq"] > belief["seq"]
        ]
        if losses:
            lines.append(
                _line(
                    culprit.actor,
                    losses[0]["t"],
                    f"lost the lock {len(losses)} times and backed off; "
                    f"{culprit.t - belief['t']:.0f}s pass before it acts on plan "
                    f"{belief['generation']}",
                )
            )
    if newer is not None:
        lines.append(_line(newer.actor, newer.t, f"flipped the root to plan {newer.root_to}"))
    lines.append(_line(culprit.actor, culprit.t, f"flipped the root to plan {culprit.root_to}"))
    if deleter is not None:
        lines.append(
            _line(
                deleter.actor,
                deleter.t,
                f"cleaned up: deleted plan {culprit.root_to}, the ACTIVE tree",
            )
        )
    lines.extend(blind)
    lines.append(verdict)
    return lines


def _scan_limit_lines(history: Sequence[Entry], until: float) -> list[str]:
    """Enactors that found no plan among the newest items (all malformed), by ``until``
    (a progress violation's time is the end of the run, its entry the plan's write):
    the first time each said so. Plans below are never looked at."""
    lines: list[str] = []
    told: set[str] = set()
    for e in history:
        if e["t"] > until:
            break
        if e["kind"] != "event" or e["event"] != "scan-limit-hit" or e["actor"] in told:
            continue
        told.add(e["actor"])
        lines.append(
            _line(
                e["actor"],
                e["t"],
                f"found no plan: the {e['skipped']} newest plan items are malformed "
                f"(down to generation {e['oldest_examined']}); older plans are not looked at "
                f"(plan_scan_limit {e['limit']})",
            )
        )
    return lines
