"""The observer of a run: what the world holds, watched after every step.

It calls the step invariants with a read-only view after every step that changed
something. Each violation, each actor's uncaught exception and each invariant that
raised becomes a history entry, which the checkers of
:mod:`dnschaos.world.invariants` judge.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.workloads.incident2025.world import Observer, World
from dnschaos.world.binding import harness_scope
from dnschaos.world.invariants import outcome
from dnschaos.world.view import View, encode, plain


class JudgingObserver(Observer):
    """The observer of every run: it records what Route 53 holds for the built-in
    endpoints and, for a world the user describes, runs the step invariants after
    every step that changed something. What it judges (violations, actor errors,
    invariants that raised) is what the early stop looks at."""

    def __init__(
        self,
        source: Any,
        aws: Any,
        world: World,
        history: History,
        clock: Clock,
        *,
        zone_ids: dict[str, str] | None = None,
        invariants: list[tuple[str, Callable[[Any], Any]]] | None = None,
        tables: list[str] | None = None,
    ) -> None:
        super().__init__(source, world, history, clock)
        self.aws = aws
        self.described = zone_ids is not None  # a world the user described
        self.zone_ids = zone_ids or {}
        self.invariants = invariants or []
        self.tables = tables or []
        self._failing: set[str] = set()
        self._looked = 0
        self._judged: list[dict[str, Any]] = []

    def entries(self) -> list[dict[str, Any]]:
        """What the checkers judged as the run goes read: a described world's judged
        entries, else the observe entries kept."""
        if not self.described:
            return super().entries()
        with self.lock:
            return list(self._judged)

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

    def note(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self._judged.append(entry)

    def observe(self) -> None:
        super().observe()
        if not self.invariants:
            return
        with self.lock:
            fresh = itertools.islice(self.history, self._looked, None)
            changed = any(e["kind"] != "choice" for e in fresh)
            self._looked = len(self.history)
            if changed:
                self._judge(self.clock.now(), None)
            self._looked = len(self.history)

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
                if label not in self._failing:
                    self._failing.add(label)
                    error = f"{type(exc).__name__}: {exc}"
                    self.note(
                        self.history.append("invariant-error", now, invariant=label, error=error)
                    )
                continue
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


__all__ = ["JudgingObserver"]
