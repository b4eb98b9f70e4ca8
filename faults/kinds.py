"""Fault kinds at the AWS API boundary, each with its heal.

A fault is active during its window of virtual time (``start`` to ``end``,
seconds since the run started). While active it acts on the calls its matcher
picks. Activation and healing are done by the nemesis actor (``faults.nemesis``),
which records both in the history; faults with a state outside single calls
(a phantom lock holder) set it up when activated and take it down when healed.

A fault is a frozen dataclass: a spec, shared by every run of its scenario.
Whether it is active, and what its matchers have counted, is a run's state and
lives in that run's :class:`faults.state.FaultState`.

Kinds here:

* ``Latency``: delay before the request leaves and/or after the response
  arrives; fixed, uniform, exponential or lognormal.
* ``Error``: Route 53's and DynamoDB's throttling and 5xx errors, read timeouts
  and connection errors, in two modes: ``never-arrived`` (nothing reaches the
  backend) and ``response-lost`` (the backend acts, the caller sees the error).
* ``Hold``: the request leaves the caller but is held in flight for ``seconds``,
  so later requests from other actors land before it (a write that reaches
  Route 53 late, after the caller has already committed to it).
* ``Pause``: stall the calling actor, for a duration or until a condition holds
  (``until_plans_ahead``: until the planner has written N more plans).
* ``LockContention``: a phantom holder of an endpoint's TXT lock for the window.
* ``ClockSkew``: one actor's clock reads ``offset`` seconds off while active.
* ``Crash``: the actor dies at its next yield point after activation and a fresh
  instance (no memory of what it applied) starts ``restart_after`` seconds later.

DNS side (matched at the probes' queries: service ``dns``, operation the query
type, actor the probe, record the query name; see ``faults.dns``):

* ``DnsTimeout``: the query gets no answer; the probe waits out its timeout.
* ``DnsServfail``: the answer that comes back is SERVFAIL.
* ``DnsServerDown``: the authoritative server is stopped when the fault activates
  and started again (same port, same data) when it heals; whatever a resolver
  in front of it does meanwhile is the resolver's own behaviour.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import ClassVar, Final

from dnschaos.faults.matchers import Always, Matcher

DISTRIBUTIONS: Final = ("fixed", "uniform", "exponential", "lognormal")
ERROR_CODES: Final = (
    "Throttling",
    "PriorRequestNotComplete",
    "InternalFailure",
    "ServiceUnavailable",
    "ReadTimeout",
    "ConnectionError",
)
ERROR_MODES: Final = ("never-arrived", "response-lost")


@dataclass(frozen=True)
class Fault:
    kind: ClassVar[str] = "fault"

    name: str
    matcher: Matcher = field(default_factory=Always)
    start: float = 0.0
    end: float = math.inf

    def validate(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(
                f"fault {self.name}: window [{self.start}, {self.end}) is empty or negative"
            )

    def describe(self) -> dict[str, object]:
        return {"fault": self.name, "fault_kind": self.kind, "matcher": str(self.matcher)}


@dataclass(frozen=True)
class Latency(Fault):
    kind: ClassVar[str] = "latency"

    distribution: str = "fixed"
    seconds: float = 1.0  # fixed; the mean for exponential; the median for lognormal
    low: float = 0.0  # uniform
    high: float = 1.0  # uniform
    sigma: float = 0.5  # lognormal
    where: str = "before"  # before | after | both

    def validate(self) -> None:
        super().validate()
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"fault {self.name}: distribution {self.distribution!r}; choose one of {', '.join(DISTRIBUTIONS)}"
            )
        if self.where not in ("before", "after", "both"):
            raise ValueError(
                f"fault {self.name}: where {self.where!r}; choose one of before, after, both"
            )
        if self.seconds < 0 or self.low < 0 or self.high < self.low:
            raise ValueError(f"fault {self.name}: latencies must be >= 0 and low <= high")

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            return self.seconds
        if self.distribution == "uniform":
            return rng.uniform(self.low, self.high)
        if self.distribution == "exponential":
            return rng.expovariate(1.0 / self.seconds) if self.seconds > 0 else 0.0
        return rng.lognormvariate(math.log(max(self.seconds, 1e-9)), self.sigma)


@dataclass(frozen=True)
class Error(Fault):
    kind: ClassVar[str] = "error"

    code: str = "Throttling"
    mode: str = "never-arrived"

    def validate(self) -> None:
        super().validate()
        if self.code not in ERROR_CODES:
            raise ValueError(
                f"fault {self.name}: code {self.code!r}; choose one of {', '.join(ERROR_CODES)}"
            )
        if self.mode not in ERROR_MODES:
            raise ValueError(
                f"fault {self.name}: mode {self.mode!r}; choose one of {', '.join(ERROR_MODES)}"
            )


@dataclass(frozen=True)
class Hold(Fault):
    kind: ClassVar[str] = "hold"

    seconds: float = 10.0

    def validate(self) -> None:
        super().validate()
        if self.seconds <= 0:
            raise ValueError(f"fault {self.name}: hold needs seconds > 0")


@dataclass(frozen=True)
class Pause(Fault):
    kind: ClassVar[str] = "pause"

    seconds: float = 0.0
    until_plans_ahead: int = 0  # 0: pause for ``seconds``

    def validate(self) -> None:
        super().validate()
        if (self.seconds > 0) == (self.until_plans_ahead > 0):
            raise ValueError(
                f"fault {self.name}: give exactly one of seconds > 0 or until_plans_ahead > 0"
            )


@dataclass(frozen=True)
class LockContention(Fault):
    kind: ClassVar[str] = "lock-contention"

    endpoint: str = ""
    holder: str = "phantom"

    def validate(self) -> None:
        super().validate()
        if not self.endpoint:
            raise ValueError(f"fault {self.name}: lock-contention needs an endpoint")
        if math.isinf(self.end):
            raise ValueError(
                f"fault {self.name}: lock-contention needs an end (the phantom lock's expiry)"
            )


@dataclass(frozen=True)
class ClockSkew(Fault):
    kind: ClassVar[str] = "clock-skew"

    actor: str = ""
    offset: float = 0.0  # seconds added to the actor's reading of the clock

    def validate(self) -> None:
        super().validate()
        if not self.actor or self.offset == 0:
            raise ValueError(f"fault {self.name}: clock-skew needs an actor and a non-zero offset")


@dataclass(frozen=True)
class Crash(Fault):
    kind: ClassVar[str] = "crash"

    actor: str = ""
    restart_after: float = 30.0

    def validate(self) -> None:
        super().validate()
        if not self.actor or self.restart_after < 0:
            raise ValueError(f"fault {self.name}: crash needs an actor and restart_after >= 0")


@dataclass(frozen=True)
class DnsTimeout(Fault):
    kind: ClassVar[str] = "dns-timeout"


@dataclass(frozen=True)
class DnsServfail(Fault):
    kind: ClassVar[str] = "dns-servfail"


@dataclass(frozen=True)
class DnsServerDown(Fault):
    kind: ClassVar[str] = "dns-server-down"

    def validate(self) -> None:
        super().validate()
        if math.isinf(self.end):
            raise ValueError(
                f"fault {self.name}: dns-server-down needs an end (when the server comes back)"
            )


DNS_FAULTS: Final = (DnsTimeout, DnsServfail, DnsServerDown)
