"""What the automation tells the harness about its beliefs and decisions.

Route 53 and DynamoDB record what happened; only the automation knows *why*:
which plan it believed newest, which root target it observed, why it gave up.
Stories of violations are told from these events, so each carries the belief
the actor acted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnschaos.sim.clock import Clock


@dataclass(frozen=True)
class Event:
    t: float
    actor: str
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def null_sink(event: Event) -> None:
    """Discard events (the default for code run outside the harness)."""


class EventLog:
    """An in-memory sink; the runner keeps one per run."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


class Emitter:
    """Stamps events with the actor's name and the injected clock's time."""

    def __init__(self, actor: str, clock: Clock, sink: EventSink) -> None:
        self.actor = actor
        self.clock = clock
        self.sink = sink

    def __call__(self, kind: str, **fields: Any) -> None:
        self.sink(Event(t=self.clock.now(), actor=self.actor, kind=kind, fields=fields))
