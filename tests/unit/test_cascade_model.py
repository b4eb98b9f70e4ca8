"""The downstream model on its own: the phases of INCIDENT.md section 3, and mitigations."""

from __future__ import annotations

from typing import Any

from harness.downstream.model import MITIGATIONS, CascadeConfig, Downstream
from harness.downstream.phases import ORDER, REFERENCE, compare, phases

REPAIR = 9420.0  # DNS information restored 157 minutes after the race (2:25 AM)
HOURS = 15.5


def _run(mitigations: frozenset[str] = frozenset()) -> dict[str, Any]:
    config = CascadeConfig(mitigations=mitigations)
    model = Downstream(config, start=0.0)
    history = []
    t = 0.0
    while t < HOURS * 3600:
        t += config.tick
        reachable = model.resolved(t, addresses=t >= REPAIR)
        history.append({"kind": "downstream", "t": t, **model.advance(t, reachable)})
    return compare(phases(history, config.droplets, config.propagation_alarm))


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
