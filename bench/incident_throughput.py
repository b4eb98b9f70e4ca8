"""incident-2025 on one core: schedules per second, and where the wall time goes.

Each run is one schedule (one seed) of the incident-2025 scenario under the
deterministic scheduler. For every run the script measures the wall time, the
number of scheduler steps and AWS calls, and the wall time spent inside moto's
request handling (botocore's ``_make_request``, wrapped here only). The rest is
what the harness adds: scheduler, hooks, history, observation and judging.

``--seeds 1-100`` also answers the acceptance question "legacy violates on at
least 95 of seeds 1-100, safe on none" and how long that takes on one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import botocore.client

from dnschaos.runner import run

SCENARIO = "incident-2025"

_inside = [0.0]
_calls = [0]
_original = botocore.client.BaseClient._make_request


def _timed(self: Any, *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    try:
        return _original(self, *args, **kwargs)
    finally:
        _inside[0] += time.perf_counter() - start
        _calls[0] += 1


botocore.client.BaseClient._make_request = _timed  # type: ignore[method-assign]


def _seeds(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", default="1-10", help="seed range, e.g. 1-100 (default 1-10)")
    p.add_argument("--variants", default="legacy,safe")
    args = p.parse_args()
    seeds = _seeds(args.seeds)
    for variant in args.variants.split(","):
        walls, rates, overheads, verdicts = [], [], [], []
        total_start = time.perf_counter()
        for seed in seeds:
            _inside[0], _calls[0] = 0.0, 0
            start = time.perf_counter()
            result = run(SCENARIO, variant=variant, seed=seed)
            wall = time.perf_counter() - start
            walls.append(wall)
            rates.append(result.steps / wall)
            overheads.append((wall - _inside[0]) / _inside[0])
            verdicts.append(result.verdict)
        total = time.perf_counter() - total_start
        fails = verdicts.count("fail")
        print(f"## {variant}: seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} runs, one core)")
        print(
            f"- verdicts: {fails} fail, {verdicts.count('pass')} pass, {verdicts.count('unknown')} unknown"
        )
        print(f"- total wall time: {total:.1f} s")
        print(
            f"- schedules per second: median {1 / statistics.median(walls):.2f} "
            f"(run wall time median {statistics.median(walls):.2f} s, min {min(walls):.2f}, max {max(walls):.2f})"
        )
        print(
            f"- scheduler steps per second: median {statistics.median(rates):.0f} (min {min(rates):.0f}, max {max(rates):.0f})"
        )
        print(
            f"- harness time / time inside moto's request handling: median {statistics.median(overheads):.2f} "
            f"(min {min(overheads):.2f}, max {max(overheads):.2f}); includes set-up of the world per run"
        )
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
