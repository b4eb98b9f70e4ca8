"""EC2's DropletWorkflow Manager: leases on droplets, kept alive through DynamoDB.

Each DWFM host holds a lease on each of its droplets and checks in with every
droplet once per ``check_interval``; a check renews the lease, and it needs
DynamoDB (the caller says whether DynamoDB was reachable at each moment, from
what DNS answered). A lease not renewed within ``lease_timeout`` is lost, and
getting it back costs ``reestablish_work`` seconds of the host's time, far more
than a renewal (``renew_work``).

The host works through one queue, one item at a time. Nothing here switches a
collapse on: it follows from the numbers. When DNS comes back after the leases
were lost, the host re-establishes them one by one; if that takes longer than a
lease lasts (``droplets x reestablish_work > lease_timeout``), the first leases
expire again while their renewals wait in the queue behind the re-establishments,
and those droplets need re-establishing once more: congestive collapse.

The 2025 way out is two switches: ``throttle`` (renewals of live leases go first
and are never queued twice; at most ``admit`` re-establishments wait at a time)
and ``restart`` (a host restart clears its queue).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

RENEW: Final = "renew"
REESTABLISH: Final = "reestablish"


@dataclass(frozen=True)
class DwfmConfig:
    lease_timeout: float = 1200.0  # (assumed) a lease lasts 20 minutes without a check
    check_interval: float = 300.0  # "every few minutes" (INCIDENT.md section 4)
    renew_work: float = 2.0  # (assumed) seconds of host time per check
    reestablish_work: float = 45.0  # (assumed) seconds of host time per lease re-established
    admit: int = 3  # throttle: re-establishments allowed to wait at once


@dataclass
class HostEvents:
    """What happened in one ``advance``: for the history and the phase measurements."""

    lost: list[str] = field(default_factory=list)  # leases that expired
    reestablished: list[str] = field(default_factory=list)
    re_expired: list[str] = field(default_factory=list)  # lost again after re-establishment


class DwfmHost:
    def __init__(
        self,
        name: str,
        droplets: list[str],
        config: DwfmConfig,
        *,
        start: float,
        offset: float = 0.0,
    ) -> None:
        self.name = name
        self.config = config
        self.droplets = list(droplets)
        # Every droplet starts leased; leases are staggered like the check rounds.
        self.expires = {d: start + config.lease_timeout for d in droplets}
        self.fifo: deque[tuple[str, str]] = deque()  # unthrottled: one line for everything
        # Throttled: renewals first, each droplet at most once per kind.
        self.renewals: deque[str] = deque()
        self.reestablishments: deque[str] = deque()
        self.queued: set[tuple[str, str]] = set()
        self.busy_until = start
        self.next_round = start + offset
        self.throttle = False  # see set_throttle
        self.was_reestablished: set[str] = set()
        self._lost_seen: set[str] = set()
        self.now = start

    # ------------------------------------------------------------------ switches

    def restart(self) -> None:
        """A host restart: the queue is gone; leases stand as they are."""
        self.fifo.clear()
        self.renewals.clear()
        self.reestablishments.clear()
        self.queued.clear()

    def set_throttle(self, on: bool) -> None:
        """Switch throttling; whatever waits moves to the other discipline's queues."""
        waiting = list(self.fifo) + [(RENEW, d) for d in self.renewals]
        waiting += [(REESTABLISH, d) for d in self.reestablishments]
        self.restart()
        self.throttle = on
        for kind, d in waiting:
            self._enqueue(kind, d)

    def live(self, t: float) -> int:
        return sum(1 for e in self.expires.values() if e > t)

    def backlog(self) -> int:
        return len(self.fifo) + len(self.renewals) + len(self.reestablishments)

    # ------------------------------------------------------------------ time

    def advance(self, until: float, reachable: Callable[[float], bool]) -> HostEvents:
        """Do everything due up to ``until``; ``reachable(t)``: could DynamoDB be reached at t."""
        out = HostEvents()
        while True:
            work_at = self.busy_until if self.backlog() else math.inf
            t = min(self.next_round, work_at)
            if t > until:
                break
            self._note_losses(t, out)
            if t == self.next_round:
                self._round(t, reachable(t))
                self.next_round += self.config.check_interval
            else:
                self._work(t, reachable(t), out)
        self._note_losses(until, out)
        self.now = until
        return out

    def _note_losses(self, t: float, out: HostEvents) -> None:
        for d, e in self.expires.items():
            if e <= t and d not in self._lost_seen:
                self._lost_seen.add(d)
                out.lost.append(d)
                if d in self.was_reestablished:
                    out.re_expired.append(d)

    def _enqueue(self, kind: str, droplet: str) -> None:
        if not self.throttle:
            self.fifo.append((kind, droplet))
            return
        if (kind, droplet) in self.queued:
            return
        if kind == REESTABLISH and len(self.reestablishments) >= self.config.admit:
            return  # not admitted now; the next round offers it again
        self.queued.add((kind, droplet))
        (self.renewals if kind == RENEW else self.reestablishments).append(droplet)

    def _round(self, t: float, reachable: bool) -> None:
        if not reachable:
            return  # no DynamoDB, no check: nothing is renewed
        for d in self.droplets:
            if self.expires[d] > t:
                self._enqueue(RENEW, d)
            else:
                self._enqueue(REESTABLISH, d)
        if self.busy_until < t:
            self.busy_until = t

    def _pop(self) -> tuple[str, str]:
        if not self.throttle:
            return self.fifo.popleft()
        kind, line = (
            (RENEW, self.renewals) if self.renewals else (REESTABLISH, self.reestablishments)
        )
        d = line.popleft()
        self.queued.discard((kind, d))
        return kind, d

    def _work(self, t: float, reachable: bool, out: HostEvents) -> None:
        kind, d = self._pop()
        cfg = self.config
        if kind == RENEW:
            done = t + cfg.renew_work
            if reachable and self.expires[d] > t:
                self.expires[d] = done + cfg.lease_timeout
            elif self.expires[d] <= t:
                self._enqueue(REESTABLISH, d)  # too late: the lease is gone
        else:
            if self.expires[d] > t:
                done = t + cfg.renew_work  # already re-established by an earlier item
            else:
                done = t + cfg.reestablish_work
                if reachable:
                    self.expires[d] = done + cfg.lease_timeout
                    self.was_reestablished.add(d)
                    self._lost_seen.discard(d)
                    out.reestablished.append(d)
        self.busy_until = done
