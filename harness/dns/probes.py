"""Actors that watch and feed DNS: probes (what clients get) and the propagator.

A probe is a dnspython client that asks for every endpoint's A and AAAA (the
endpoint's record types) on an interval, in one view: ``authoritative`` (straight
at the authoritative server) or ``cached`` (through the caching resolver). Each
answer becomes a ``probe`` entry in the history: endpoint, view, rtype, rcode,
answer count, the addresses (sorted), the TTL the answer carried (for a negative
answer, the SOA's) and the latency.

Under the scheduler a query is a yield point and its latency is virtual (zero
unless a fault adds some), so histories stay byte-identical; with ``--clock
real`` the latency is the measured wall time in milliseconds. A caching resolver
on the run's virtual clock has its clock set to the probe's now just before each
query, so the TTLs it hands out count virtual seconds.

The propagator keeps a real authoritative server (BIND9 or Knot) in step with
what Route 53's name servers answer: on every interval it flattens each zone's
INSYNC records (``adapters.dataplane.flatten``) and pushes the difference by
RFC 2136 dynamic update.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import dns.entropy
import dns.exception
import dns.flags
import dns.message
import dns.rdatatype

from dnschaos.adapters.dnsserve.dataplane import flatten
from dnschaos.adapters.route53.models import RRSet
from dnschaos.dns.exchange import Exchange
from dnschaos.dns.names import ProbeName
from dnschaos.history import History
from dnschaos.sim.clock import Clock

VIEWS: Final = ("authoritative", "cached")
TIMEOUT: Final = "TIMEOUT"  # rcode recorded when no answer came back in time
UNREACHABLE: Final = "UNREACHABLE"  # the server's port refused the query (it is down)


class YieldPoints(Protocol):
    def yield_point(self, label: str) -> None: ...


def answered(entry: Mapping[str, Any]) -> bool:
    """Whether a probe got addresses: anything else (NODATA, NXDOMAIN, errors) is none."""
    return bool(entry["rcode"] == "NOERROR" and entry["answers"] > 0)


@dataclass
class ClientView:
    """What the probes saw most recently, per (endpoint, view), for actors that react to it
    (the operator who repairs DNS when clients get empty answers).

    An empty answer before an endpoint ever answered is a world still being set up,
    not an outage: outages begin only after a view has had addresses for that type.
    """

    empty_since: dict[tuple[str, str], float] = field(default_factory=dict)
    last: dict[tuple[str, str, str], bool] = field(default_factory=dict)

    def record(self, entry: Mapping[str, Any], now: float) -> None:
        key = (entry["endpoint"], entry["view"])
        full = (entry["endpoint"], entry["view"], entry["rtype"])
        if full not in self.last and not answered(entry):
            return
        self.last[full] = answered(entry)
        if answered(entry):
            if all(v for (e, w, _), v in self.last.items() if (e, w) == key):
                self.empty_since.pop(key, None)
        else:
            self.empty_since.setdefault(key, now)

    def outage(self, endpoint: str, view: str) -> float | None:
        """When the current outage of ``endpoint`` in ``view`` began; None when there is none."""
        return self.empty_since.get((endpoint, view))

    def all_answer(self) -> bool:
        return bool(self.last) and all(self.last.values())


class Probe:
    def __init__(
        self,
        actor: str,
        view: str,
        server: tuple[str, int],
        endpoints: Sequence[ProbeName],
        *,
        clock: Clock,
        history: History,
        interval: float,
        timeout: float,
        virtual: bool,
        scheduler: YieldPoints | None = None,
        decide: Callable[[str, str, str, str], str | None] | None = None,
        seen: ClientView | None = None,
        set_server_time: Callable[[float], None] | None = None,
    ) -> None:
        self.actor = actor
        self.view = view
        self.server = server
        self.endpoints = list(endpoints)
        self.clock = clock
        self.history = history
        self.interval = interval
        self.timeout = timeout
        self.virtual = virtual  # latency in virtual seconds (sim) or measured wall ms (real)
        self.scheduler = scheduler
        self.decide = decide
        self.seen = seen
        self.set_server_time = set_server_time  # a resolver on the run's clock (virtual time)
        self._queries: dict[tuple[str, str], RenderedQuery] = {}  # this probe's own
        self._exchange = Exchange()  # and the answers it has read

    def run(self, should_stop: Callable[[], bool]) -> None:
        while not should_stop():
            for ep in self.endpoints:
                for rtype in ep.record_types:
                    self.query(ep, rtype)
            self.clock.sleep(self.interval)

    def query(self, ep: ProbeName, rtype: str) -> dict[str, Any]:
        name = ep.fqdn
        if self.scheduler is not None:
            self.scheduler.yield_point(f"dns {self.view} {rtype} {name}")
        fault = self.decide(self.actor, self.view, name, rtype) if self.decide else None
        t0, w0 = self.clock.now(), time.monotonic()
        rcode, addresses, ttl = self._ask(name, rtype, fault)
        if self.virtual:
            latency = round(self.clock.now() - t0, 3)
        else:
            latency = round((time.monotonic() - w0) * 1000.0, 1)
        entry = self.history.append(
            "probe",
            self.clock.now(),
            actor=self.actor,
            endpoint=ep.name,
            view=self.view,
            rtype=rtype,
            rcode=rcode,
            answers=len(addresses),
            addresses=addresses,
            ttl=ttl,
            latency=latency,
            latency_unit="s" if self.virtual else "ms",
        )
        if self.seen is not None:
            self.seen.record(entry, self.clock.now())
        return entry

    def _ask(self, name: str, rtype: str, fault: str | None) -> tuple[str, list[str], int | None]:
        if fault == "timeout":
            self.clock.sleep(self.timeout)  # the client waits its whole timeout for nothing
            return TIMEOUT, [], None
        if fault == "servfail":
            return "SERVFAIL", [], None
        query = self._queries.get((name, rtype))
        if query is None:
            query = self._queries[(name, rtype)] = RenderedQuery.of(name, rtype)
        query.id = dns.entropy.random_16()  # a new id for every query, as make_query gives
        if self.set_server_time is not None:
            self.set_server_time(self.clock.now())
        host, port = self.server
        try:
            got, _tcp = self._exchange.ask(
                query, host, port, self.timeout, dns.rdatatype.from_text(rtype)
            )
        except dns.exception.Timeout:
            if self.virtual:
                self.clock.sleep(self.timeout)
            return TIMEOUT, [], None
        except OSError:
            return UNREACHABLE, [], None
        return got


class RenderedQuery(dns.message.QueryMessage):
    """A stub resolver's query for (name, type), rendered to wire once and sent again with a
    new message id each time: the bytes after the id never change, and rendering them
    (name compression included) cost more than the rest of a probe's query. dnspython's
    ``dns.query`` renders a query with ``to_wire()`` and matches the answer by id and
    question, which this message keeps as make_query made them."""

    rest: bytes = b""

    @classmethod
    def of(cls, name: str, rtype: str) -> RenderedQuery:
        made = dns.message.make_query(name, rtype)
        made.flags |= dns.flags.RD  # a stub resolver's; an authoritative server ignores it
        query = cls(id=made.id)
        query.flags = made.flags
        query.question = made.question
        query.rest = made.to_wire()[2:]
        return query

    def to_wire(self, *args: Any, **kwargs: Any) -> bytes:
        if args or kwargs:  # rendered otherwise (a TSIG key, a size limit): as dnspython does
            return bytes(super().to_wire(*args, **kwargs))
        return self.id.to_bytes(2, "big") + self.rest


class Pushes(Protocol):
    def sync(self, desired: Mapping[tuple[str, str], Any]) -> int: ...


class Propagator:
    """Feeds a real authoritative server from the data plane, zone by zone."""

    def __init__(
        self,
        zones: Mapping[str, tuple[Callable[[], Sequence[RRSet]], Pushes]],
        *,
        clock: Clock,
        history: History,
        interval: float,
        make_record: Callable[[int, tuple[str, ...]], Any],
    ) -> None:
        self.zones = dict(zones)  # origin -> (INSYNC records now, pusher)
        self.clock = clock
        self.history = history
        self.interval = interval
        self.make_record = make_record  # the pusher's record type (ttl, values)
        self.down = False  # the server is stopped by a fault: pushes wait for it

    def run(self, should_stop: Callable[[], bool]) -> None:
        while not should_stop():
            self.push_once()
            self.clock.sleep(self.interval)

    def push_once(self) -> int:
        if self.down:
            return 0
        total = 0
        for origin, (read, pusher) in sorted(self.zones.items()):
            desired = {
                key: self.make_record(rec.ttl, rec.values)
                for key, rec in flatten(read(), origin).items()
            }
            try:
                changed = pusher.sync(desired)
            except (OSError, dns.exception.DNSException) as exc:
                self.history.append(
                    "dns-push", self.clock.now(), zone=origin, error=type(exc).__name__
                )
                continue
            if changed:
                total += changed
                self.history.append("dns-push", self.clock.now(), zone=origin, rrsets=changed)
        return total
