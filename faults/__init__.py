"""Faults at the AWS API boundary and at DNS queries: kinds (a registry), matchers,
injection and the nemesis that heals them."""

from dnschaos.faults.kinds import (
    ClockSkew,
    Crash,
    DnsServerDown,
    DnsServfail,
    DnsTimeout,
    Error,
    Fault,
    Hold,
    Latency,
    LockContention,
    Pause,
)
from dnschaos.faults.matchers import (
    Actor,
    Always,
    Matcher,
    Nth,
    Operation,
    Probability,
    RecordName,
    Service,
    Table,
    Window,
)
from dnschaos.faults.state import FaultState

__all__ = [
    "Actor",
    "Always",
    "ClockSkew",
    "Crash",
    "DnsServerDown",
    "DnsServfail",
    "DnsTimeout",
    "Error",
    "Fault",
    "FaultState",
    "Hold",
    "Latency",
    "LockContention",
    "Matcher",
    "Nth",
    "Operation",
    "Pause",
    "Probability",
    "RecordName",
    "Service",
    "Table",
    "Window",
]
