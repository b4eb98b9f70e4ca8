"""The DNS side of a run: Route 53's data plane behind a real DNS server, probes in front.

``DnsStack`` sets up, for the run's hosted zones:

* the SOA of every zone, written through the API, with the scenario's negative
  TTL (both the SOA's TTL and its MINIMUM field, so resolvers cache NODATA and
  NXDOMAIN for exactly that long);
* the authoritative server: ``embedded`` (the data plane served from the strict
  layer's INSYNC state, with Route 53's weighted picks), or ``bind9`` / ``knot``
  started on loopback and fed by the propagator through RFC 2136 updates signed
  with TSIG;
* with ``resolver = "unbound"``, a caching resolver in front of it;
* the probe actors (one per view) and, for real servers, the propagator actor.

BIND9 and Knot only store what the propagator pushed, so they work on either
clock as they are. A caching resolver ages its cache by its own clock: with
``--clock real`` that is wall time; under the deterministic scheduler Unbound runs
under libfaketime with its calendar clock standing still at the run's virtual
time, and the cached view's probe moves it to the virtual now before each query.
The virtual clock counts seconds since the Unix epoch from ``INCIDENT_EPOCH``
(2025-10-20 06:00:00 UTC), and Unbound is shown exactly that: virtual t = 0 of a
run is 06:00:00 UTC on its clock. Virtual time only moves between queries, so
TTLs, negative caching and serve-expired windows count virtual seconds, hours of
them in a fraction of a wall second, the same on every run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dnschaos.adapters.aws.target import MOTO_LOCK, AwsTarget
from dnschaos.adapters.dnsserve.dataplane import DataPlane
from dnschaos.adapters.dnsserve.embedded import EmbeddedResponder
from dnschaos.adapters.route53.models import RRSet
from dnschaos.dns.names import ProbeName
from dnschaos.dns.probes import ClientView, Probe, Propagator
from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.streams import RunStreams
from dnschaos.workload import run_own
from dnschaos.world.run import RunWorld

SERVERS: Final = ("embedded", "bind9", "knot")
RESOLVERS: Final = ("none", "unbound")
SOA_TEMPLATE: Final = "ns-2048.awsdns-64.com. hostmaster.example.com. 1 7200 900 1209600 {minimum}"


@dataclass(frozen=True)
class DnsConfig:
    server: str = "embedded"
    resolver: str = "none"
    probe_interval: float = 5.0  # seconds between two rounds of queries of one probe
    probe_timeout: float = 2.0  # seconds a probe waits for an answer
    negative_ttl: int = 60  # the zones' SOA TTL and MINIMUM: how long NODATA is cached
    serve_expired: bool = False  # unbound: answer from expired cache entries
    push_interval: float = 1.0  # seconds between the propagator's looks at the data plane
    probes: tuple[ProbeName, ...] = ()  # names the probes ask for, beyond the workloads'

    def validate(self, clock: str, target: str = "moto") -> None:
        if self.server not in SERVERS:
            raise UsageError(f"--dns {self.server!r}: unknown; choose one of {', '.join(SERVERS)}")
        if self.resolver not in RESOLVERS:
            raise UsageError(
                f"--resolver {self.resolver!r}: unknown; choose one of {', '.join(RESOLVERS)}"
            )
        if target != "moto":
            raise UsageError(
                f"--dns with --target {target}: the data plane reads Route 53's in-sync state "
                "from in-process moto; use --target moto"
            )
        if self.probe_interval <= 0 or self.probe_timeout <= 0 or self.push_interval <= 0:
            raise UsageError("dns: probe_interval, probe_timeout and push_interval must be > 0")
        if self.negative_ttl < 0:
            raise UsageError(f"dns.negative_ttl {self.negative_ttl}: must be >= 0")


class DnsStack:
    def __init__(
        self,
        config: DnsConfig,
        aws: AwsTarget,
        world: RunWorld,
        *,
        clock: Clock,
        history: History,
        streams: RunStreams,
        virtual: bool = False,
    ) -> None:
        self.config = config
        self.aws = aws
        self.world = world
        self.clock = clock
        self.history = history
        self.streams = streams
        # Under the scheduler the resolver's clock is the run's (see the module's doc).
        self.virtual = virtual
        self.seen = ClientView()
        self.authoritative: Any = None  # EmbeddedResponder or adapters.dns_servers.ServerHandle
        self.resolver: Any = None
        self.propagator: Propagator | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ set-up

    def origins(self) -> dict[str, str]:
        """Zone origin -> hosted zone id: every hosted zone of the run is served."""
        return dict(self.world.zones)

    def names(self) -> list[ProbeName]:
        """What the probes ask for: the workloads' names, then the scenario's own."""
        return [*self.world.probes, *self.config.probes]

    def _reader(self, zone_id: str) -> Callable[[], Sequence[RRSet]]:
        strict = self.aws.strict_route53()

        def read() -> Sequence[RRSet]:
            with MOTO_LOCK:  # actors' calls may be inside moto (with --clock real)
                return strict.served_records(zone_id, self.clock.now())

        return read

    def start(self) -> DnsStack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        self._write_soa()
        zones = {origin: self._reader(zone_id) for origin, zone_id in self.origins().items()}
        if self.config.server == "embedded":
            plane = DataPlane(zones, self.streams.named("dataplane"))
            self.authoritative = EmbeddedResponder(plane).start()
        else:
            from dnschaos.adapters.dnsserve.rfc2136 import Pusher, RecordData
            from dnschaos.adapters.dnsserve.servers import Tsig, ZoneSpec, start_authoritative

            tsig = Tsig.random(self.streams.named("tsig"))
            ttl = self.config.negative_ttl
            specs = [ZoneSpec(origin, soa_ttl=ttl, negative_ttl=ttl) for origin in sorted(zones)]
            self.authoritative = start_authoritative(self.config.server, specs, tsig)
            self.propagator = Propagator(
                {
                    origin: (read, Pusher(self.authoritative, origin, tsig))
                    for origin, read in zones.items()
                },
                clock=self.clock,
                history=self.history,
                interval=self.config.push_interval,
                make_record=lambda ttl, values: RecordData(ttl, tuple(values)),
            )
            self.propagator.push_once()  # the zones as they are before any actor runs
        if self.config.resolver == "unbound":
            from dnschaos.adapters.dnsserve.servers import start_unbound

            self.resolver = start_unbound(
                sorted(zones),
                (self.authoritative.host, self.authoritative.port),
                serve_expired=self.config.serve_expired,
                faked_now=self.clock.now() if self.virtual else None,
            )
        self.history.append(
            "dns",
            self.clock.now(),
            action="started",
            server=self.config.server,
            resolver=self.config.resolver,
            negative_ttl=self.config.negative_ttl,
            zones=sorted(zones),
        )

    def _write_soa(self) -> None:
        r53 = self.aws.client("route53", actor="dns-setup")
        ttl = self.config.negative_ttl
        for origin, zone_id in self.origins().items():
            r53.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={
                    "Comment": "dnschaos: negative TTL",
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": origin,
                                "Type": "SOA",
                                "TTL": ttl,
                                "ResourceRecords": [{"Value": SOA_TEMPLATE.format(minimum=ttl)}],
                            },
                        }
                    ],
                },
            )

    def set_time(self, view: str) -> Callable[[float], None] | None:
        """What moves the clock of the server behind ``view`` to a probe's now before it
        asks; None when that server keeps its own time (wall time, or no cache at all)."""
        server = self.resolver if view == "cached" else None
        faked = getattr(server, "faked", None)
        return None if faked is None else faked.set

    def client_view(self) -> str:
        """What clients see: through the resolver when there is one."""
        return "cached" if self.resolver is not None else "authoritative"

    # ------------------------------------------------------------------ faults

    def set_server(self, up: bool) -> None:
        """Stop the authoritative server (a dns-server-down fault) or start it again."""
        with self._lock:
            server = self.authoritative
            if up:
                server.restart()
                if self.propagator is not None:
                    self.propagator.down = False
                    self.propagator.push_once()  # catch up with what changed while it was down
            else:
                if self.propagator is not None:
                    self.propagator.down = True
                server.stop()
            self.history.append(
                "dns", self.clock.now(), action="server-started" if up else "server-stopped"
            )

    def close(self) -> None:
        for server in (self.resolver, self.authoritative):
            if server is not None:
                # A real server's close() also removes its directory; the embedded one only stops.
                getattr(server, "close", server.stop)()


# ---------------------------------------------------------------------- actors


@run_own("a [dns] table (the run then probes its names itself)")
def probe(view: str) -> Callable[[Any], None]:
    """A probe as an actor: asks the run's DNS side what clients see, through the
    authoritative server (``view="authoritative"``) or the caching resolver
    (``"cached"``), with the run's DNS faults applied to its queries."""

    def run(ctx: Any) -> None:
        parts = ctx.parts
        stack: DnsStack = parts.dns
        server = stack.authoritative if view == "authoritative" else stack.resolver
        if server is None:
            raise UsageError(f"probe {ctx.name}: the run has no {view} DNS server")
        driver = parts.driver
        Probe(
            ctx.name,
            view,
            (server.host, server.port),
            stack.names(),
            clock=stack.clock,
            history=stack.history,
            interval=stack.config.probe_interval,
            timeout=stack.config.probe_timeout,
            virtual=driver.virtual,
            scheduler=driver.scheduler,
            decide=parts.dns_faults.decide if parts.dns_faults is not None else None,
            seen=stack.seen,
            set_server_time=stack.set_time(view),
        ).run(ctx.should_stop)

    return run


@run_own("a [dns] table with a real DNS server (bind9 or knot), which it then feeds itself")
def propagator(ctx: Any) -> None:
    """The propagator as an actor: feeds Route 53's changes to a real server (RFC 2136)."""
    stack: DnsStack = ctx.parts.dns
    assert stack.propagator is not None, "the embedded server needs no propagator"
    stack.propagator.run(ctx.should_stop)
