"""The DWFM lease model: collapse follows from the numbers, and throttling ends it."""

from __future__ import annotations

from dataclasses import dataclass, field

from dnschaos.workloads.incident2025.downstream.dwfm import DwfmConfig, DwfmHost

REPAIR = 9420.0  # DNS back 157 minutes after the race, as at 2:25 AM


@dataclass
class Trace:
    first_lost: float | None = None
    restored: float | None = None
    re_expired: list[float] = field(default_factory=list)
    live_at_end: int = 0
    backlog_at_end: int = 0


def _run(droplets: int, *, mitigate_after: float | None = None, until: float = 30000.0) -> Trace:
    config = DwfmConfig()
    host = DwfmHost("dwfm-1", [f"d{i}" for i in range(droplets)], config, start=0.0, offset=17.0)
    trace = Trace()
    t = 0.0
    while t < until:
        t += 60.0
        if mitigate_after is not None and t >= REPAIR + mitigate_after and not host.throttle:
            host.restart()
            host.set_throttle(True)
        events = host.advance(t, lambda at: at >= REPAIR)
        if events.lost and trace.first_lost is None:
            trace.first_lost = t
        trace.re_expired += [t] * len(events.re_expired)
        if t > REPAIR and trace.restored is None and host.live(t) == droplets:
            trace.restored = t
    trace.live_at_end = host.live(t)
    trace.backlog_at_end = host.backlog()
    return trace


def test_leases_are_lost_one_lease_timeout_after_dynamodb_goes() -> None:
    trace = _run(20, until=3000.0)
    assert trace.first_lost == DwfmConfig().lease_timeout
    assert trace.live_at_end == 0


def test_no_collapse_when_the_fleet_re_leases_within_one_lease_period() -> None:
    config = DwfmConfig()
    droplets = 20
    assert droplets * config.reestablish_work < config.lease_timeout
    trace = _run(droplets)
    assert trace.re_expired == []
    assert trace.restored is not None
    assert trace.restored - REPAIR <= config.lease_timeout + config.check_interval
    assert trace.live_at_end == droplets and trace.backlog_at_end == 0


def test_a_fleet_too_big_to_re_lease_in_one_period_collapses_and_stays_down() -> None:
    config = DwfmConfig()
    droplets = 60
    assert droplets * config.reestablish_work > config.lease_timeout
    trace = _run(droplets)
    assert trace.restored is None
    assert len(trace.re_expired) > droplets  # leases are lost again and again
    assert trace.live_at_end < droplets
    assert trace.backlog_at_end > 1000  # work keeps piling up: congestive collapse


def test_throttling_and_a_restart_end_the_collapse() -> None:
    mitigate_after = 6540.0  # 4:14 AM, 109 minutes after DNS came back
    trace = _run(60, mitigate_after=mitigate_after)
    assert trace.re_expired and trace.re_expired[0] > REPAIR
    assert trace.restored is not None and trace.restored > REPAIR + mitigate_after
    # Re-expiries stop within a lease period of the mitigation.
    assert max(trace.re_expired) <= REPAIR + mitigate_after + DwfmConfig().lease_timeout
    assert trace.live_at_end == 60 and trace.backlog_at_end == 0


def test_checks_without_dynamodb_renew_nothing() -> None:
    config = DwfmConfig()
    host = DwfmHost("dwfm-1", ["d0", "d1"], config, start=0.0)
    host.advance(config.lease_timeout - 1.0, lambda _t: False)
    assert host.live(config.lease_timeout - 1.0) == 2
    events = host.advance(config.lease_timeout + 1.0, lambda _t: False)
    assert sorted(events.lost) == ["d0", "d1"] and events.reestablished == []
