"""Clocks injected into the automation, tenacity and the strict Route 53 layer.

Nothing under ``harness/workloads`` may call ``time`` directly: a clock is passed
in, so the same code runs on wall time or on a virtual clock that a scheduler
owns.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from dnschaos.errors import ClockError

#: 19 October 2025, 23:00 PDT: virtual runs start here so that story times read
#: like the incident's timeline (the race fired at 23:48 PDT).
INCIDENT_EPOCH = 1760940000.0


@runtime_checkable
class Clock(Protocol):
    """What the automation needs of time: now, and a way to wait."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait for ``seconds``; a negative duration is a bug in the caller."""
        ...


class SystemClock:
    """Wall time. The one place where the harness reads the machine's time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"sleep({seconds}): a duration cannot be negative; pass max(0, d)")
        time.sleep(seconds)


class ManualClock:
    """A virtual clock for single-threaded runs: sleeping moves time forward at once.

    It never goes backwards; ``advance_to`` an earlier time raises ``ClockError``
    instead of silently reordering events.
    """

    def __init__(self, start: float = INCIDENT_EPOCH) -> None:
        self._now = float(start)
        self.start = float(start)

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"sleep({seconds}): a duration cannot be negative; pass max(0, d)")
        self._now += seconds

    def advance_to(self, when: float) -> None:
        if when < self._now:
            raise ClockError(
                f"virtual clock asked to go back from {self._now:.3f} to {when:.3f}; "
                "virtual time only moves forward"
            )
        self._now = float(when)

    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return self._now - self.start


class ScaledClock:
    """Wall time, optionally sped up: one scenario second lasts ``scale`` wall seconds.

    ``scale=1.0`` is plain wall time (what real DNS servers' caches need);
    ``scale=0.01`` runs a ten-minute scenario in six seconds of free-running threads.
    """

    def __init__(self, start: float = INCIDENT_EPOCH, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ClockError(f"time scale {scale}: must be greater than 0")
        self.start = start
        self.scale = scale
        self._t0 = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._t0) / self.scale

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"sleep({seconds}): a duration cannot be negative; pass max(0, d)")
        time.sleep(seconds * self.scale)

    def elapsed(self) -> float:
        return self.now() - self.start
