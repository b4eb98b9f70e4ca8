"""The observer of a run: what the world holds, watched after every step.

It calls the step invariants with a read-only view after every step that changed
something, and at the times their answers may change with time alone (a change
becoming visible to DNS, a deadline an invariant asked for), which the scheduler
stops the clock at. Each violation, each actor's uncaught exception and each invariant that
raised becomes a history entry, which the checkers of
:mod:`dnschaos.world.invariants` judge.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from dnschaos.adapters.route53.models import RRSet, StrictRoute53, rrset_from_api
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.world.binding import harness_scope
from dnschaos.world.invariants import outcome
from dnschaos.world.view import View, encode, plain


class Watcher(Protocol):
    """What a workload hands the observer: it looks at its part of the world after every
    step and returns the history entries it recorded (those the safety streams read)."""

    def observe(self, changes: Callable[[Iterable[str]], int]) -> list[dict[str, Any]]:
        """``changes(zone_ids)``: how many change batches those zones have taken so far."""
        ...


class Observer:
    """The observer of every run. After every step that changed something it asks each
    workload's watchers what their part of the world holds now and, for a world the user
    described, runs the step invariants on a read-only view. What it records and judges
    (watchers' observations, violations, actor errors, invariants that raised) is what the
    safety streams read as the run goes (:meth:`take_new`)."""

    def __init__(
        self,
        source: StrictRoute53 | Callable[[str], list[RRSet]],
        aws: Any,
        history: History,
        clock: Clock,
        *,
        zone_ids: dict[str, str],
        described: bool = False,
        invariants: list[tuple[str, Callable[[Any], Any]]] | None = None,
        tables: list[str] | None = None,
    ) -> None:
        # In-process, the strict layer is read directly and its change log says when
        # to look; against a server, records are listed through the API after every
        # change batch the actors' clients complete (``note_change``).
        self.strict = source if isinstance(source, StrictRoute53) else None
        self.records = source.records if isinstance(source, StrictRoute53) else source
        self.aws = aws
        self.history = history
        self.clock = clock
        self.described = described  # a world the user described: settled, judged, recorded
        self.zone_ids = zone_ids  # every hosted zone of the run, by name
        self.invariants = invariants or []
        self.tables = tables or []
        self.watchers: list[Watcher] = []
        self.streaming = False  # someone drains take_new()
        self._new: list[dict[str, Any]] = []  # since the last take_new()
        self._noted = 0
        self._failing: set[str] = set()
        self._looked = 0
        self._times: list[float] = []  # a heap of clock times to look at (look_at)
        self._timed: dict[str, int] = {}  # change-log entries of each zone already timed
        self.lock = threading.RLock()

    def note_change(self) -> None:
        self._noted += 1

    def changes(self, zone_ids: Iterable[str]) -> int:
        """How many change batches the zones have taken so far (through the API: how many
        the actors' clients completed), so a watcher looks only when something changed."""
        if self.strict is not None:
            return sum(self.strict.change_count(z) for z in zone_ids)
        return self._noted

    def take_new(self) -> list[dict[str, Any]]:
        """The entries recorded since the last call (what the safety streams are fed)."""
        with self.lock:
            out, self._new = self._new, []
            return out

    def note(self, entry: dict[str, Any]) -> None:
        """An entry the invariants judge (an actor's error), recorded elsewhere."""
        with self.lock:
            if self.streaming:
                self._new.append(entry)

    def observe(self) -> None:
        with self.lock:
            for watcher in self.watchers:
                for entry in watcher.observe(self.changes):
                    if self.streaming:
                        self._new.append(entry)
            if not self.invariants:
                return
            fresh = itertools.islice(self.history, self._looked, None)
            changed = any(e["kind"] != "choice" for e in fresh)
            self._looked = len(self.history)
            if changed:
                self._judge(self.clock.now(), None)
            self._looked = len(self.history)

    def look_at(self) -> float | None:
        """The next clock time, after now, at which a step invariant's answer may change
        with time alone: a change becoming visible to DNS (INSYNC), or a time an invariant
        asked to be judged again at (``view.recheck_at``); None when there is none."""
        if not self.invariants or self.strict is None:
            return None
        with self.lock:
            for zone_id in self.zone_ids.values():
                timed = self._timed.get(zone_id, 0)
                fresh = self.strict.change_log(zone_id, timed)
                for change in fresh:
                    heapq.heappush(self._times, change.insync_at)
                self._timed[zone_id] = timed + len(fresh)
            now = self.clock.now()
            while self._times and self._times[0] <= now:
                heapq.heappop(self._times)
            return self._times[0] if self._times else None

    def look(self) -> None:
        """Judge the step invariants now, although no actor acted (a time of look_at)."""
        with self.lock:
            if self.invariants:
                self._judge(self.clock.now(), None)
                self._looked = len(self.history)

    def scan(self, table: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.types import TypeDeserializer

        ddb = self.aws.client("dynamodb")
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        deserialize = TypeDeserializer().deserialize
        while True:
            page = ddb.scan(**kwargs)
            out += [{k: plain(deserialize(v)) for k, v in it.items()} for it in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(out, key=lambda item: repr(sorted(item.items())))

    def settled_at(self) -> float:
        """When every change made so far is INSYNC (DNS serves it)."""
        strict = self.strict
        assert strict is not None
        now = self.clock.now()
        latest = [c.insync_at for z in self.zone_ids.values() for c in strict.change_log(z)]
        return max([now, *latest])

    def settle(self, finished: bool) -> None:
        """After a run that went to its end: judge once more when every change has
        propagated, so that what DNS serves after the actors' last writes is judged too.
        (A run stopped early, at a violation or a limit, is judged as it stood.)"""
        with self.lock:
            if not finished or not self.invariants:
                return
            at = self.settled_at()
            if at > self.clock.now():
                self._judge(at, at)

    def _judge(self, now: float, at: float | None) -> None:
        strict = self.strict
        assert strict is not None
        for label, fn in self.invariants:
            view = View(
                strict, self.zone_ids, self.history, now - self.history.start, self.scan, at
            )
            try:
                with harness_scope():
                    failed = outcome(fn(view))
            except Exception as exc:
                self._recheck(view, now)
                if label not in self._failing:
                    self._failing.add(label)
                    from dnschaos.world.config import where

                    # The user's own line first: the frames around it are the harness's.
                    error = f"{type(exc).__name__}: {exc} (at {where(exc)})"
                    self.note(
                        self.history.append("invariant-error", now, invariant=label, error=error)
                    )
                continue
            self._recheck(view, now)
            if failed is None:
                self._failing.discard(label)
                continue
            if label in self._failing:
                continue
            self._failing.add(label)
            read = sorted(set(failed.names) | view.read)
            extra = {"settled": True} if at is not None else {}
            entry = self.history.append(
                "violation", now, invariant=label, detail=failed.message, read=read, **extra
            )
            self.note(entry)

    def _recheck(self, view: View, now: float) -> None:
        start = self.history.start
        for t in view.rechecks:
            at = start + t
            while at - start < t:  # looked at then, the view's now is not a hair short of t
                at = math.nextafter(at, math.inf)
            if at > now:
                heapq.heappush(self._times, at)

    def final(self) -> dict[str, Any]:
        strict = self.strict
        assert strict is not None
        zones: dict[str, Any] = {}
        served: dict[str, Any] = {}
        view = View(strict, self.zone_ids, [], 0.0, self.scan, self.settled_at())
        for name in sorted(self.zone_ids):
            zones[name] = encode(view.records(name))
            served[name] = encode(view.served(name))
        return {"zones": zones, "served": served, "tables": {t: self.scan(t) for t in self.tables}}


def api_records(route53: Any) -> Callable[[str], list[RRSet]]:
    """Read a zone's records through the control API (for targets the harness cannot see into)."""

    def read(zone_id: str) -> list[RRSet]:
        out: list[RRSet] = []
        for page in route53.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id
        ):
            out.extend(rrset_from_api(r) for r in page["ResourceRecordSets"])
        return out

    return read


__all__ = ["Observer", "Watcher", "api_records"]
