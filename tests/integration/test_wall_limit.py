"""Where wall time ends a run depends on the machine, so a run it ends is never a verdict:
what the run saw before the cut is kept and shown, but the verdict is unknown (exit 3)."""

from __future__ import annotations

import threading
from typing import Any

import dnschaos
from dnschaos.cli.common import VERDICT_EXIT
from tests.integration.record_writes import change


def flip_then_hang(ctx: Any) -> None:
    ctx.sleep(1)
    change(ctx, "UPSERT", "www.example.com", "192.0.2.7")
    ctx.sleep(1)
    threading.Event().wait(3)  # outside the scheduler: only the wall-time limit ends it


def www_unchanged(view: Any) -> bool:
    return view.record("www.example.com", "A") in (None, ["192.0.2.1"])


def _sim(max_wall_seconds: float) -> dnschaos.Simulation:
    sim = dnschaos.Simulation("wall-cut", duration=60, stop_at_first_violation=False)
    sim.zone("example.com", records=[("www.example.com", "A", 60, ["192.0.2.1"])])
    sim.actor("flipper", flip_then_hang)
    sim.invariant(www_unchanged)
    return sim.limits(max_wall_seconds=max_wall_seconds)


def test_a_violation_seen_before_the_wall_limit_is_kept_but_is_no_verdict() -> None:
    result = _sim(0.5).run(seed=1)
    assert result.stop == "wall-time-limit"
    assert [v.invariant for v in result.violations] == ["www-unchanged"]
    assert result.verdict == "unknown"
    assert "not a verdict" in result.reason and "max_wall_seconds" in result.reason
    assert VERDICT_EXIT[result.verdict] == 3
