"""Fault kinds at the AWS API boundary, each with its heal.

A fault is active during its window of virtual time (``start`` to ``end``,
seconds since the run started). While active it acts on the calls its matcher
picks. Activation and healing are done by the nemesis actor (``faults.nemesis``),
which records both in the history; faults with a state outside single calls
(a phantom lock holder) set it up when activated and take it down when healed.

A fault is a frozen dataclass: a spec, shared by every run of its scenario.
Whether it is active, and what its matchers have counted, is a run's state and
lives in that run's :class:`faults.state.FaultState`. Each kind is registered
under its name (``faults.registry``); the fields declared with ``key`` are the
keys a scenario file or ``--fault`` flag gives it.

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
from dnschaos.faults.registry import key, keys_of, register, register_base

DISTRIBUTIONS: Final = ("fixed", "uniform", "exponential", "lognormal")
WHERE: Final = ("before", "after", "both")
ERROR_CODES: Final = (
    "Throttling",
    "PriorRequestNotComplete",
    "InternalFailure",
    "ServiceUnavailable",
    "ReadTimeout",
    "ConnectionError",
)
ERROR_MODES: Final = ("never-arrived", "response-lost")


@register_base
@dataclass(frozen=True)
class Fault:
    kind: ClassVar[str] = "fault"

    name: str
    matcher: Matcher = field(default_factory=Always)
    start: float = key(
        0.0,
        minimum=0.0,
        shrinks=False,
        description="when the fault activates, in virtual seconds since the run started",
    )
    end: float = key(
        math.inf,
        minimum=0.0,
        shrinks=False,
        description="when it heals (absent: when the run's work ends)",
    )

    def validate(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(
                f"fault {self.name}: window [{self.start}, {self.end}) is empty or negative"
            )
        # Python callers are held to the same choices as a scenario file.
        for k in keys_of(type(self)):
            value = getattr(self, k.name)
            if k.choices and value not in k.choices:
                raise ValueError(
                    f"fault {self.name}: {k.name} {value!r}; choose one of {', '.join(k.choices)}"
                )

    def describe(self) -> dict[str, object]:
        return {"fault": self.name, "fault_kind": self.kind, "matcher": str(self.matcher)}


@register
@dataclass(frozen=True)
class Latency(Fault):
    kind: ClassVar[str] = "latency"

    distribution: str = key("fixed", choices=DISTRIBUTIONS, description="how the delay is drawn")
    seconds: float = key(
        1.0,
        minimum=0.0,
        description="the delay (fixed); the mean (exponential); the median (lognormal)",
    )
    low: float = key(0.0, minimum=0.0, description="uniform: the shortest delay")
    high: float = key(1.0, minimum=0.0, description="uniform: the longest delay")
    sigma: float = key(0.5, minimum=0.0, description="lognormal: the spread")
    where: str = key(
        "before",
        choices=WHERE,
        description="before the request leaves, after the response arrives, or both",
    )

    def validate(self) -> None:
        super().validate()
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


@register
@dataclass(frozen=True)
class Error(Fault):
    kind: ClassVar[str] = "error"

    code: str = key(
        "Throttling",
        required=True,
        choices=ERROR_CODES,
        description="the service's error (or botocore's timeout or connection error)",
    )
    mode: str = key(
        "never-arrived",
        choices=ERROR_MODES,
        description="never-arrived: the backend never sees the request; "
        "response-lost: the backend acts, the caller gets the error",
    )


@register
@dataclass(frozen=True)
class Hold(Fault):
    kind: ClassVar[str] = "hold"

    seconds: float = key(
        10.0, minimum=0.0, description="how long the request is held in flight (> 0)"
    )

    def validate(self) -> None:
        super().validate()
        if self.seconds <= 0:
            raise ValueError(f"fault {self.name}: hold needs seconds > 0")


@register
@dataclass(frozen=True)
class Pause(Fault):
    kind: ClassVar[str] = "pause"

    seconds: float = key(0.0, minimum=0.0, description="stall the calling actor this long")
    until_plans_ahead: int = key(
        0,
        description="or stall it until the planner has written this many more plans "
        "(give exactly one of the two)",
    )

    def validate(self) -> None:
        super().validate()
        if (self.seconds > 0) == (self.until_plans_ahead > 0):
            raise ValueError(
                f"fault {self.name}: give exactly one of seconds > 0 or until_plans_ahead > 0"
            )


@register
@dataclass(frozen=True)
class LockContention(Fault):
    kind: ClassVar[str] = "lock-contention"

    endpoint: str = key(
        "", required=True, description="the endpoint whose TXT lock a phantom holds"
    )
    holder: str = key("phantom", description="the phantom's name in the lock")

    def validate(self) -> None:
        super().validate()
        if not self.endpoint:
            raise ValueError(f"fault {self.name}: lock-contention needs an endpoint")
        if math.isinf(self.end):
            raise ValueError(
                f"fault {self.name}: lock-contention needs an end (the phantom lock's expiry)"
            )


@register
@dataclass(frozen=True)
class ClockSkew(Fault):
    kind: ClassVar[str] = "clock-skew"

    actor: str = key("", required=True, description="the actor whose clock is off")
    offset: float = key(
        0.0, required=True, description="seconds added to the actor's reading of the clock"
    )

    def validate(self) -> None:
        super().validate()
        if not self.actor or self.offset == 0:
            raise ValueError(f"fault {self.name}: clock-skew needs an actor and a non-zero offset")


@register
@dataclass(frozen=True)
class Crash(Fault):
    kind: ClassVar[str] = "crash"

    actor: str = key("", required=True, description="the actor that dies")
    restart_after: float = key(
        30.0, minimum=0.0, description="seconds until a fresh instance starts"
    )

    def validate(self) -> None:
        super().validate()
        if not self.actor or self.restart_after < 0:
            raise ValueError(f"fault {self.name}: crash needs an actor and restart_after >= 0")


@register
@dataclass(frozen=True)
class DnsTimeout(Fault):
    kind: ClassVar[str] = "dns-timeout"


@register
@dataclass(frozen=True)
class DnsServfail(Fault):
    kind: ClassVar[str] = "dns-servfail"


@register
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
