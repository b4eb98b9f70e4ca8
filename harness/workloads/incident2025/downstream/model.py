"""The downstream of DynamoDB's DNS, stepped in virtual time (INCIDENT.md sections 3-5).

``Downstream`` holds the DWFM hosts (``harness.downstream.dwfm``), the launch
demand, Network Manager's propagation queue and an NLB health-check model, and
advances them together, one tick at a time, given whether DynamoDB's name
resolved at that moment. Each ``advance`` returns a sample of the state, which
the actor records in the history; phases are measured from those samples
(``harness.downstream.phases``).

* Launches: customers ask for ``launch_rate`` instances a second; a launch needs
  a droplet with a live lease and a free slot, on a DWFM host not buried in its
  backlog ("insufficient capacity" otherwise), and at most ``launch_limit`` a second get through (request
  limits), so demand that could not be served waits and floods in when capacity
  returns.
* Network Manager: every launched instance needs its network state propagated;
  ``propagation_rate`` a second are done, fewer while the queue is long (each
  state costs more against a long backlog, up to ``propagation_max_slowdown``
  times). Until then the instance has no network.
* NLB: a share of new instances are NLB targets. A target whose network has not
  propagated flaps (fails, then passes), and every flap costs the health-check
  subsystem; beyond ``health_capacity`` flapping targets it degrades and healthy
  targets fail too. With automatic failover, an AZ whose targets mostly fail is
  taken out of DNS: capacity removed.

Mitigations (switches, all off in the 2025 baseline, where operators acted late
by hand instead: DWFM throttling and restarts at 4:14 AM, NLB failover disabled
at 9:36 AM):
``dwfm-throttle`` (throttled DWFM queues from the start, and a restart when the
backlog grows), ``propagation-throttle`` (launches wait while the propagation
queue is long), ``velocity-control`` (failover may remove at most one AZ of an
NLB), ``no-auto-failover``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from dnschaos.workloads.incident2025.downstream.dwfm import DwfmConfig, DwfmHost

MITIGATIONS: Final = (
    "dwfm-throttle",
    "propagation-throttle",
    "velocity-control",
    "no-auto-failover",
)


@dataclass(frozen=True)
class CascadeConfig:
    droplets: int = 240  # (assumed) a scaled-down fleet: 60 droplets per DWFM host
    dwfm_hosts: int = 4
    dwfm: DwfmConfig = field(default_factory=DwfmConfig)
    resolver_negative_ttl: float = 900.0  # DWFM's resolvers keep NODATA 15 min (2:25 -> 2:40)
    slots_per_droplet: int = 8
    launch_rate: float = 1 / 60  # (assumed) instances asked for per second
    launch_limit: float = 4 / 60  # request limits: launches per second at most
    propagation_rate: float = 2.5 / 60  # (assumed) Network Manager: network states per second
    propagation_alarm: int = 60  # queue length at which propagation counts as backlogged
    # (assumed) Network Manager slows as its backlog grows: each state costs
    # 1 + queue / propagation_knee times its normal work (0: no slow-down), at most
    # propagation_max_slowdown times, so a backlog always drains once launches ease off.
    propagation_knee: int = 150
    propagation_max_slowdown: float = 2.0
    nlb_share: float = 0.5  # of new instances, the share behind an NLB
    azs: int = 3
    health_capacity: int = 50  # flapping targets the health-check subsystem absorbs
    failover_threshold: float = 0.5  # share of failing targets that fails an AZ over
    # The operators of 2025, by hand (seconds after the trigger):
    dwfm_fix_after_repair: float = 6540.0  # DNS back 2:25 -> throttling and restarts 4:14
    failover_off_after_failures: float = 9840.0  # failures 6:52 -> failover disabled 9:36
    tick: float = 60.0
    # No empty answer this many seconds into the run: the race did not happen, and
    # there is no cascade to watch; the run ends rather than idle for hours (None: never).
    race_by: float | None = 600.0
    mitigations: frozenset[str] = frozenset()

    def validate(self) -> None:
        unknown = sorted(set(self.mitigations) - set(MITIGATIONS))
        if unknown:
            raise ValueError(
                f"cascade.mitigations: {', '.join(unknown)} unknown; choose from {', '.join(MITIGATIONS)}"
            )
        if self.droplets < self.dwfm_hosts or self.dwfm_hosts < 1:
            raise ValueError("cascade: need at least one DWFM host and one droplet per host")


@dataclass
class Instance:
    name: str
    droplet: str
    launched: float
    nlb: bool
    az: int
    networked: bool = False


@dataclass
class Downstream:
    config: CascadeConfig
    start: float
    hosts: list[DwfmHost] = field(default_factory=list)
    pending_launches: float = 0.0
    instances: list[Instance] = field(default_factory=list)
    propagation: list[Instance] = field(default_factory=list)
    failed_over: set[int] = field(default_factory=set)
    auto_failover: bool = True
    dns_back_at: float | None = None
    failures_at: float | None = None
    dwfm_fixed: bool = False
    counter: int = 0
    resolver_empty_until: float = 0.0  # the DWFM resolvers' cached negative answer
    propagation_credit: float = 0.0
    launch_credit: float = 0.0
    slots_used: dict[str, int] = field(default_factory=dict)  # droplet -> instances on it

    def __post_init__(self) -> None:
        cfg = self.config
        per = cfg.droplets // cfg.dwfm_hosts
        for h in range(cfg.dwfm_hosts):
            droplets = [f"droplet-{h * per + i:04d}" for i in range(per)]
            # Check rounds are staggered across hosts.
            offset = cfg.dwfm.check_interval * (h + 0.5) / cfg.dwfm_hosts
            host = DwfmHost(f"dwfm-{h + 1}", droplets, cfg.dwfm, start=self.start, offset=offset)
            if "dwfm-throttle" in cfg.mitigations:
                host.set_throttle(True)
            self.hosts.append(host)
        self.auto_failover = "no-auto-failover" not in cfg.mitigations

    # ------------------------------------------------------------------ DNS

    def resolved(self, now: float, addresses: bool, negative_ttl: float | None = None) -> bool:
        """What DWFM's resolvers make of one answer: a negative answer is cached."""
        if now < self.resolver_empty_until:
            return False
        if not addresses:
            self.resolver_empty_until = now + (
                self.config.resolver_negative_ttl if negative_ttl is None else negative_ttl
            )
            return False
        return True

    # ------------------------------------------------------------------ time

    def advance(
        self,
        now: float,
        reachable: bool,
        launch: Callable[[Instance], bool] | None = None,
    ) -> dict[str, Any]:
        """Step to ``now``; DynamoDB was reachable over the tick or not. ``launch`` makes the
        real launch call for an instance the model placed (False: it failed)."""
        cfg = self.config
        lost = reestablished = re_expired = 0

        def dynamodb(_t: float) -> bool:
            return reachable  # over one tick, what DNS said at its start holds

        for host in self.hosts:
            ev = host.advance(now, dynamodb)
            lost += len(ev.lost)
            reestablished += len(ev.reestablished)
            re_expired += len(ev.re_expired)
        if reachable and self.dns_back_at is None and self.live(now) < cfg.droplets:
            self.dns_back_at = now
        # The operators of 2025: throttling and restarts, by hand, long after DNS came back.
        if (
            not self.dwfm_fixed
            and self.dns_back_at is not None
            and now >= self.dns_back_at + cfg.dwfm_fix_after_repair
        ):
            self._fix_dwfm()
        if (
            "dwfm-throttle" in cfg.mitigations
            and not self.dwfm_fixed
            and any(h.backlog() > 4 * len(h.droplets) for h in self.hosts)
        ):
            self._fix_dwfm()
        launched, refused = self._launch(now, launch)
        propagated = self._propagate()
        failing, flapping = self._health(now)
        return {
            "live_leases": self.live(now),
            "lost": lost,
            "reestablished": reestablished,
            "re_expired": re_expired,
            "dwfm_backlog": sum(h.backlog() for h in self.hosts),
            "pending_launches": round(self.pending_launches, 3),
            "launched": launched,
            "refused": refused,
            "propagation_queue": len(self.propagation),
            "propagated": propagated,
            "flapping": flapping,
            "failing_targets": failing,
            "failed_over_azs": len(self.failed_over),
            "reachable": reachable,
        }

    def live(self, now: float) -> int:
        return sum(h.live(now) for h in self.hosts)

    def _fix_dwfm(self) -> None:
        self.dwfm_fixed = True
        for host in self.hosts:
            host.restart()
            host.set_throttle(True)

    def _free_droplet(self, now: float) -> str | None:
        used = self.slots_used
        for host in self.hosts:
            # Placing an instance is DWFM work too: a host buried in its backlog places nothing.
            if host.backlog() > len(host.droplets):
                continue
            for d in host.droplets:
                if host.expires[d] > now and used.get(d, 0) < self.config.slots_per_droplet:
                    return d
        return None

    def _launch(self, now: float, launch: Callable[[Instance], bool] | None) -> tuple[int, int]:
        cfg = self.config
        self.pending_launches += cfg.launch_rate * cfg.tick
        self.launch_credit = min(
            self.launch_credit + cfg.launch_limit * cfg.tick, cfg.launch_limit * cfg.tick + 1
        )
        allowed = int(self.launch_credit)
        if "propagation-throttle" in cfg.mitigations:
            allowed = min(allowed, max(0, cfg.propagation_alarm - len(self.propagation)))
        launched = refused = 0
        while self.pending_launches >= 1.0 and launched + refused < allowed:
            droplet = self._free_droplet(now)
            self.counter += 1
            inst = Instance(
                f"i-{self.counter:06d}",
                droplet or "",
                now,
                nlb=(self.counter % round(1 / cfg.nlb_share) == 0) if cfg.nlb_share else False,
                az=self.counter % cfg.azs,
            )
            ok = droplet is not None
            if launch is not None:
                ok = launch(inst) and ok
            if not ok:
                refused += 1
                break  # insufficient capacity: the rest waits for the next tick
            self.pending_launches -= 1.0
            self.slots_used[inst.droplet] = self.slots_used.get(inst.droplet, 0) + 1
            self.instances.append(inst)
            self.propagation.append(inst)
            launched += 1
        self.launch_credit -= launched + refused
        return launched, refused

    def _propagate(self) -> int:
        # Fractional rates accumulate from tick to tick. A long queue makes every item dearer
        # (each propagation reconciles against what is still pending), so the backlog feeds itself.
        cfg = self.config
        slow = 1.0 + (len(self.propagation) / cfg.propagation_knee if cfg.propagation_knee else 0.0)
        slow = min(slow, cfg.propagation_max_slowdown)
        self.propagation_credit += cfg.propagation_rate * cfg.tick / slow
        n = int(self.propagation_credit)
        self.propagation_credit -= n
        done = self.propagation[:n]
        for inst in done:
            inst.networked = True
        del self.propagation[:n]
        return len(done)

    def _health(self, now: float) -> tuple[int, int]:
        cfg = self.config
        targets = [i for i in self.instances if i.nlb]
        flapping = sum(1 for i in targets if not i.networked)
        degraded = flapping > cfg.health_capacity
        failing_by_az: dict[int, int] = {}
        total_by_az: dict[int, int] = {}
        for i in targets:
            total_by_az[i.az] = total_by_az.get(i.az, 0) + 1
            # Unpropagated targets fail half their checks; a degraded subsystem fails the rest too.
            if (not i.networked and int(now / cfg.tick) % 2 == 0) or degraded:
                failing_by_az[i.az] = failing_by_az.get(i.az, 0) + 1
        failing = sum(failing_by_az.values())
        if failing and self.failures_at is None and degraded:
            self.failures_at = now
        if (
            self.failures_at is not None
            and self.auto_failover
            and now >= self.failures_at + cfg.failover_off_after_failures
        ):
            self.auto_failover = False  # 9:36 AM: operators turn automatic failover off
        if not self.auto_failover:
            self.failed_over.clear()
        else:
            limit = 1 if "velocity-control" in cfg.mitigations else cfg.azs
            for az, total in sorted(total_by_az.items()):
                share = failing_by_az.get(az, 0) / total if total else 0.0
                if share > cfg.failover_threshold and az not in self.failed_over:
                    if len(self.failed_over) < limit:
                        self.failed_over.add(az)
                elif share <= cfg.failover_threshold:
                    self.failed_over.discard(az)
        return failing, flapping
