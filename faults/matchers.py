"""Which AWS calls a fault applies to.

A matcher looks at one call (service, operation, actor, parameters, virtual
time, and how many matching calls came before) and says yes or no. Matchers
compose with ``&``, ``|`` and ``~``; nested compositions are flattened, so
``a & (b & c)`` is one ``All`` of three, and printing a matcher shows what it means.

Randomness (``probability``) comes from the generator the injector passes in,
seeded from the run's seed, so a fault that fires "half the time" fires on the
same calls in every replay. Matchers are immutable like the faults that hold
them; what ``nth`` counts is the run's, passed in with the call.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class Call:
    """What a matcher sees of one AWS call."""

    service: str  # botocore's hyphenated id: "route-53", "dynamodb"
    operation: str
    actor: str
    params: dict[str, Any]
    t: float  # virtual seconds since the run started
    rng: random.Random
    counts: dict[int, int]  # the run's count of calls each Nth matcher has seen (FaultState)

    def record_names(self) -> list[str]:
        """The record names a Route 53 call touches (change batches, list starts)."""
        names = [
            str(c.get("ResourceRecordSet", {}).get("Name", ""))
            for c in self.params.get("ChangeBatch", {}).get("Changes", [])
        ]
        for key in ("StartRecordName", "QueryName"):  # a list's start; a DNS probe's query
            if key in self.params:
                names.append(str(self.params[key]))
        return [n.lower().rstrip(".") + "." for n in names if n]


class Matcher:
    def matches(self, call: Call) -> bool:
        raise NotImplementedError

    def __and__(self, other: Matcher) -> Matcher:
        return All(_flatten(All, (self, other)))

    def __or__(self, other: Matcher) -> Matcher:
        return Any_(_flatten(Any_, (self, other)))

    def __invert__(self) -> Matcher:
        return self.inner if isinstance(self, Not) else Not(self)


def _flatten(kind: type, parts: Iterable[Matcher]) -> tuple[Matcher, ...]:
    out: list[Matcher] = []
    for p in parts:
        if isinstance(p, kind):
            out.extend(p.parts)  # type: ignore[attr-defined]
        else:
            out.append(p)
    return tuple(out)


@dataclass(frozen=True)
class All(Matcher):
    parts: tuple[Matcher, ...]

    def matches(self, call: Call) -> bool:
        return all(p.matches(call) for p in self.parts)

    def __str__(self) -> str:
        return "(" + " & ".join(map(str, self.parts)) + ")"


@dataclass(frozen=True)
class Any_(Matcher):
    parts: tuple[Matcher, ...]

    def matches(self, call: Call) -> bool:
        return any(p.matches(call) for p in self.parts)

    def __str__(self) -> str:
        return "(" + " | ".join(map(str, self.parts)) + ")"


@dataclass(frozen=True)
class Not(Matcher):
    inner: Matcher

    def matches(self, call: Call) -> bool:
        return not self.inner.matches(call)

    def __str__(self) -> str:
        return f"~{self.inner}"


@dataclass(frozen=True)
class Always(Matcher):
    def matches(self, call: Call) -> bool:
        return True

    def __str__(self) -> str:
        return "always"


@dataclass(frozen=True)
class Service(Matcher):
    name: str

    def matches(self, call: Call) -> bool:
        return call.service == _service_id(self.name)

    def __str__(self) -> str:
        return f"service={self.name}"


@dataclass(frozen=True)
class Operation(Matcher):
    name: str

    def matches(self, call: Call) -> bool:
        return call.operation == self.name

    def __str__(self) -> str:
        return f"operation={self.name}"


@dataclass(frozen=True)
class Actor(Matcher):
    name: str

    def matches(self, call: Call) -> bool:
        return fnmatch.fnmatchcase(call.actor, self.name)

    def __str__(self) -> str:
        return f"actor={self.name}"


@dataclass(frozen=True)
class RecordName(Matcher):
    """A Route 53 call that touches a record whose name matches a glob (``_lock.*``)."""

    pattern: str

    def matches(self, call: Call) -> bool:
        pat = self.pattern.lower().rstrip(".") + "."
        return any(fnmatch.fnmatchcase(n, pat) for n in call.record_names())

    def __str__(self) -> str:
        return f"record={self.pattern}"


@dataclass(frozen=True)
class Table(Matcher):
    name: str

    def matches(self, call: Call) -> bool:
        return fnmatch.fnmatchcase(str(call.params.get("TableName", "")), self.name)

    def __str__(self) -> str:
        return f"table={self.name}"


@dataclass(frozen=True)
class Window(Matcher):
    """Virtual seconds since the run started, ``start <= t < end``."""

    start: float = 0.0
    end: float = float("inf")

    def matches(self, call: Call) -> bool:
        return self.start <= call.t < self.end

    def __str__(self) -> str:
        return f"window=[{self.start:g}s,{self.end:g}s)"


@dataclass(frozen=True)
class Probability(Matcher):
    p: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"probability {self.p}: must be between 0 and 1")

    def matches(self, call: Call) -> bool:
        return call.rng.random() < self.p

    def __str__(self) -> str:
        return f"probability={self.p:g}"


@dataclass(frozen=True)
class Nth(Matcher):
    """The n-th (1-based) call that reaches this matcher, and every ``every``-th after it."""

    n: int
    every: int = 0

    def __post_init__(self) -> None:
        if self.n < 1 or self.every < 0:
            raise ValueError(f"nth={self.n} every={self.every}: n must be >= 1, every >= 0")

    def matches(self, call: Call) -> bool:
        # Counted by identity: equal matchers in two faults count their own calls.
        seen = call.counts.get(id(self), 0) + 1
        call.counts[id(self)] = seen
        if not self.every:
            return seen == self.n
        return seen >= self.n and (seen - self.n) % self.every == 0

    def __str__(self) -> str:
        return f"nth={self.n}" + (f",every={self.every}" if self.every else "")


# boto3's client names that differ from botocore's hyphenated ids; every other name
# (dynamodb, ec2, route-53 itself) is its own id.
_SERVICE_IDS = {
    "route53": "route-53",
    "elbv2": "elastic-load-balancing-v2",
}


def _service_id(name: str) -> str:
    """Accept boto3's client names as well as botocore's hyphenated ids."""
    return _SERVICE_IDS.get(name.lower(), name.lower())
