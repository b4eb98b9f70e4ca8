"""The downstream model on its own: the phases of INCIDENT.md section 3, and mitigations."""

from __future__ import annotations

from typing import Any

from dnschaos.workloads.incident2025.downstream.model import MITIGATIONS, CascadeConfig, Downstream
from dnschaos.workloads.incident2025.downstream.phases import (
    ORDER,
    REFERENCE,
    compare,
    measures,
    phases,
)

REPAIR = 9420.0  # DNS information restored 157 minutes after the race (2:25 AM)
HOURS = 15.5


def _history(config: CascadeConfig) -> list[dict[str, Any]]:
    model = Downstream(config, start=0.0)
    history = []
    t = 0.0
    while t < HOURS * 3600:
        t += config.tick
        reachable = model.resolved(t, addresses=t >= REPAIR)
        history.append({"kind": "downstream", "t": t, **model.advance(t, reachable)})
    return history


def _run(mitigations: frozenset[str] = frozenset()) -> dict[str, Any]:
    config = CascadeConfig(mitigations=mitigations)
    return compare(phases(_history(config), config.droplets, config.propagation_alarm))


def _measures(mitigations: frozenset[str] = frozenset()) -> dict[str, float]:
    return measures(_history(CascadeConfig(mitigations=mitigations)))


def test_the_2025_phases_come_in_order_and_in_proportion() -> None:
    measured = _run()
    assert set(measured) == set(REFERENCE)
    begins = [measured[name]["minutes"][0] for name in ORDER if name != "recovery"]
    ref_begins = [REFERENCE[name][0] for name in ORDER if name != "recovery"]
    assert sorted(range(len(begins)), key=begins.__getitem__) == sorted(
        range(len(ref_begins)), key=ref_begins.__getitem__
    )
    ends = {name: row["minutes"][1] for name, row in measured.items()}
    assert ends["dynamodb-unreachable"] < ends["collapse"] < ends["leases-lost"]
    assert ends["leases-restored"] == ends["leases-lost"]
    assert measured["leases-restored"]["minutes"][0] == ends["collapse"]
    assert ends["leases-lost"] < ends["nlb-failover"] < ends["propagation-backlog"]
    assert ends["propagation-backlog"] <= ends["recovery"]
    for name, row in measured.items():
        assert 0.5 <= row["ratio"] <= 2.0, (name, row)


def test_all_mitigations_shorten_recovery() -> None:
    baseline = _run()["recovery"]["minutes"][1]
    mitigated = _run(frozenset(MITIGATIONS))
    assert mitigated["recovery"]["minutes"][1] < baseline - 60
    assert mitigated["collapse"]["minutes"] is None
    assert mitigated["nlb-failover"]["minutes"] is None


def test_failover_mitigations_remove_the_nlb_failover() -> None:
    for name in ("no-auto-failover", "propagation-throttle"):
        assert _run(frozenset({name}))["nlb-failover"]["minutes"] is None, name


def test_a_propagation_throttle_drains_the_backlog_sooner() -> None:
    # Network Manager slows as its queue grows; holding launches back keeps it fast.
    baseline = _run()
    throttled = _run(frozenset({"propagation-throttle"}))
    assert throttled["recovery"]["minutes"][1] < baseline["recovery"]["minutes"][1] - 60
    assert throttled["propagation-backlog"]["minutes"] is None


def test_without_the_slow_down_a_backlog_costs_no_more_than_its_length() -> None:
    def backlog_end(knee: int) -> float:
        config = CascadeConfig(propagation_knee=knee)
        measured = phases(_history(config), config.droplets, config.propagation_alarm)
        end = measured["propagation-backlog"][1]
        assert end is not None
        return end

    assert backlog_end(0) < backlog_end(CascadeConfig().propagation_knee)


def test_velocity_control_limits_the_capacity_failover_removes() -> None:
    removed = "nlb_capacity_removed_az_minutes"
    baseline = _measures()[removed]
    limited = _measures(frozenset({"velocity-control"}))[removed]
    assert 0 < limited < baseline
    assert _measures(frozenset({"no-auto-failover"}))[removed] == 0


def test_a_fleet_that_re_leases_within_one_lease_period_has_no_collapse_phase() -> None:
    small = CascadeConfig(droplets=80)  # 20 per DWFM host: 900 s of work < a 1200 s lease
    per_host = small.droplets // small.dwfm_hosts
    assert per_host * small.dwfm.reestablish_work < small.dwfm.lease_timeout
    measured = phases(_history(small), small.droplets, small.propagation_alarm)
    assert "collapse" not in measured
    assert measures(_history(small))["leases_lost_again"] == 0
    # The fleet is leased again within a lease period and a check round of DNS's return.
    dns_back, leased = measured["dynamodb-unreachable"][1], measured["leases-lost"][1]
    assert dns_back is not None and leased is not None
    assert leased - dns_back <= small.dwfm.lease_timeout + small.dwfm.check_interval
