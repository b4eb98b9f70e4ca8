"""A step invariant whose answer changes with time alone (a change becoming visible when
it is INSYNC, a deadline passing) is judged when it changes, not at the next step."""

from __future__ import annotations

from typing import Any

import dnschaos
from dnschaos.invariants import never_empty
from tests.integration.record_writes import change

WWW = "www.example.com"


def remover(ctx: Any) -> None:
    ctx.sleep(15)
    change(ctx, "DELETE", WWW, "192.0.2.1")
    ctx.sleep(60)  # nothing happens until about t=75
    change(ctx, "UPSERT", WWW, "192.0.2.1")


def _sim(propagation_delay: float = 30) -> dnschaos.Simulation:
    sim = dnschaos.Simulation("timed", duration=120, propagation_delay=propagation_delay)
    sim.zone("example.com", records=[(WWW, "A", 60, ["192.0.2.1"])])
    sim.actor("remover", remover)
    return sim


def test_a_change_becoming_visible_is_judged_when_it_is_insync() -> None:
    sim = _sim()
    sim.invariant(never_empty(WWW))
    result = sim.run(seed=1)
    (violation,) = result.violations
    delete = next(
        e
        for e in result.history
        if e["kind"] == "complete" and e["op"] == "ChangeResourceRecordSets"
    )
    # DNS stops answering when the DELETE is INSYNC, 30 s after it was made.
    assert delete["t"] + 30 - 1 <= violation.t <= delete["t"] + 30 + 1, violation


class heartbeat:  # a user's deadline invariant: it asks to be looked at again
    """Once written, www is written again at least every 20 s."""

    def __call__(self, view: Any) -> str | None:
        writes = [
            e
            for e in view.history
            if e["kind"] == "complete" and e["op"] == "ChangeResourceRecordSets"
        ]
        if not writes:
            return None
        due = float(writes[-1]["t"]) + 20
        view.recheck_at(due)  # nothing else may happen then: look at the world anyway
        if view.now >= due:
            return f"no write to {WWW} since t={writes[-1]['t']:.1f}s"
        return None


def test_a_deadline_an_invariant_asks_for_is_judged_when_it_passes() -> None:
    sim = _sim(propagation_delay=0)
    sim.invariant(heartbeat, name="heartbeat")
    result = sim.run(seed=1)
    (violation,) = result.violations
    delete = next(
        e
        for e in result.history
        if e["kind"] == "complete" and e["op"] == "ChangeResourceRecordSets"
    )
    assert abs(violation.t - (delete["t"] + 20)) < 0.002, violation  # not at the next step (~75 s)
    assert dnschaos.replay(result).matches
