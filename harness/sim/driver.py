"""Who runs the actors: the deterministic scheduler on virtual time, or free threads on
wall time. One small interface, so a run is assembled once whatever the clock.

A driver spawns actors, runs them to an end (a :class:`SimResult` with the reason),
lets an actor yield or wait for a condition, owns the clock, and watches the run
between steps so that a run can stop at its first violation. Only the scheduler
records choices and can replay them; free threads interleave as the OS likes,
so their digest identifies that run only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from dnschaos.history import History
from dnschaos.sim.clock import INCIDENT_EPOCH, Clock, ScaledClock
from dnschaos.sim.scheduler import Limits, Scheduler, SimResult, Stop

CHANGE: Final = "ChangeResourceRecordSets"


class Driver(Protocol):
    clock: Clock
    virtual: bool  # virtual time under the scheduler

    @property
    def scheduler(self) -> Scheduler | None: ...

    def spawn(self, name: str, fn: Callable[[], None]) -> None: ...

    def yield_point(self, label: str) -> None: ...

    def wait_until(self, condition: Callable[[], bool], label: str) -> None: ...

    def on_complete(self, operation: str) -> None:
        """After each successful AWS call of an actor."""

    def watch(
        self,
        note_change: Callable[[], None],
        observe: Callable[[], bool],
        violated: Callable[[], str | None],
        *,
        look_at: Callable[[], float | None] | None = None,
        look: Callable[[], bool] | None = None,
    ) -> None:
        """``note_change()`` after a Route 53 change; ``observe()`` records Route 53's state
        (True when that added to the history); ``violated()`` names a violated safety
        invariant, which ends the run. ``look_at()`` is the next clock time at which to
        ``look()`` at the world although no actor acts (virtual time only)."""

    def halted(self) -> bool:
        """The run is ending (free threads: a violation or a failure); actors stop."""

    def run(self) -> SimResult: ...


class SimDriver:
    """The deterministic scheduler: every AWS call, sleep and DNS query is a choice."""

    virtual = True

    def __init__(self, strategy: Any, limits: Limits, history: History) -> None:
        self._scheduler = Scheduler(strategy, limits=limits, recorder=history, start=INCIDENT_EPOCH)
        self.clock: Clock = self._scheduler.clock
        self._note_change: Callable[[], None] | None = None

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler

    def spawn(self, name: str, fn: Callable[[], None]) -> None:
        self._scheduler.spawn(name, fn)

    def yield_point(self, label: str) -> None:
        self._scheduler.yield_point(label)

    def wait_until(self, condition: Callable[[], bool], label: str) -> None:
        self._scheduler.wait_until(condition, label)

    def on_complete(self, operation: str) -> None:
        # The observation itself happens after the step (watch), off the actor's path.
        if operation == CHANGE and self._note_change is not None:
            self._note_change()

    def watch(
        self,
        note_change: Callable[[], None],
        observe: Callable[[], bool],
        violated: Callable[[], str | None],
        *,
        look_at: Callable[[], float | None] | None = None,
        look: Callable[[], bool] | None = None,
    ) -> None:
        scheduler = self._scheduler
        self._note_change = note_change

        def after_step() -> None:
            # Judge only when the history grew: most steps change nothing.
            scheduler.stop_when = violated if observe() else None

        scheduler.after_step = after_step
        if look_at is not None and look is not None:

            def at_time() -> bool:
                grew = look()
                scheduler.stop_when = violated if grew else None
                return grew

            scheduler.timer = (look_at, at_time)

    def halted(self) -> bool:
        return False

    def run(self) -> SimResult:
        return self._scheduler.run()


class ThreadDriver:
    """Free threads on (scaled) wall time: no scheduler, no replay; bounded by wall time."""

    virtual = False

    def __init__(self, limits: Limits, time_scale: float) -> None:
        self.clock: Clock = ScaledClock(INCIDENT_EPOCH, time_scale)
        self.halt = threading.Event()
        self._limits = limits
        self._actors: dict[str, Callable[[], None]] = {}
        self._note_change: Callable[[], None] | None = None
        self._observe: Callable[[], bool] | None = None
        self._violated: Callable[[], str | None] | None = None
        self._lock = threading.Lock()

    @property
    def scheduler(self) -> None:
        return None

    def spawn(self, name: str, fn: Callable[[], None]) -> None:
        self._actors[name] = fn

    def yield_point(self, label: str) -> None:
        return None

    def wait_until(self, condition: Callable[[], bool], label: str) -> None:
        while not condition() and not self.halt.is_set():
            self.clock.sleep(0.1)

    def on_complete(self, operation: str) -> None:
        if operation != CHANGE or self._observe is None:
            return
        with self._lock:  # actors complete calls concurrently; observe one at a time
            if self._note_change is not None:
                self._note_change()
            self._observe()
            if self._violated is not None and self._violated() is not None:
                self.halt.set()

    def watch(
        self,
        note_change: Callable[[], None],
        observe: Callable[[], bool],
        violated: Callable[[], str | None],
        *,
        look_at: Callable[[], float | None] | None = None,
        look: Callable[[], bool] | None = None,
    ) -> None:
        # On wall time nobody moves the clock: the world is looked at as calls complete.
        self._note_change, self._observe, self._violated = note_change, observe, violated

    def halted(self) -> bool:
        return self.halt.is_set()

    def run(self) -> SimResult:
        wall_start = time.monotonic()
        failures: dict[str, str] = {}

        def guard(name: str, fn: Callable[[], None]) -> Callable[[], None]:
            def body() -> None:
                try:
                    fn()
                except Exception as exc:  # an actor failure, as the scheduler reports it
                    failures[name] = f"{type(exc).__name__}: {exc}"
                    self.halt.set()

            return body

        threads = [
            threading.Thread(target=guard(n, f), name=f"actor-{n}", daemon=True)
            for n, f in sorted(self._actors.items())
        ]
        for t in threads:
            t.start()
        budget = self._limits.max_wall_seconds
        for t in threads:
            t.join(timeout=max(0.0, budget - (time.monotonic() - wall_start)))
        stuck = [t.name for t in threads if t.is_alive()]
        violated = self.halt.is_set()
        self.halt.set()  # stragglers (a probe in its sleep) end with the run
        if failures:
            stop, reason = (
                Stop.ACTOR_FAILED,
                "; ".join(f"actor {n} raised {e}" for n, e in sorted(failures.items())),
            )
        elif stuck:
            stop, reason = (
                Stop.WALL_LIMIT,
                f"wall-time limit of {budget:.0f}s reached; still running: {', '.join(stuck)}",
            )
        elif violated:
            stop, reason = Stop.CONDITION, "a safety invariant was violated"
        else:
            stop, reason = Stop.FINISHED, "every actor finished"
        return SimResult(
            stop=stop,
            reason=reason,
            steps=0,
            virtual_seconds=self.clock.elapsed(),  # type: ignore[attr-defined]
            wall_seconds=time.monotonic() - wall_start,
            choices=[],
            failed=failures,
        )
