"""Fuzzing figures for BENCHMARKS.md (steady-state).

    python bench/fuzz_campaigns.py ttv --campaigns 10 --budget 120
        time to the first violation, legacy, one worker, per campaign seed; and, for the
        same campaign seeds, the naive method: the same automation as free threads on
        scaled wall time, the same drawn faults as real (scaled) sleeps, no scheduler.
    python bench/fuzz_campaigns.py rate --runs 40
        schedules per second with 1 and 2 workers (safe variant: every run is complete).
    python bench/fuzz_campaigns.py safe --runs 2000 --workers 2
        violations of the safe variant over many schedules.

Every mode prints medians with min and max, and writes JSON with every sample.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dnschaos.explore.campaign import draw, fuzz, open_campaign
from dnschaos.runner import run
from dnschaos.scenario.resolve import load_scenario
from dnschaos.scenario.spec import RunSpec

SCENARIO = "steady-state"


def _summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"


def time_to_violation(campaign_seed: int, budget: float, workers: int = 1) -> float | None:
    spec = RunSpec(SCENARIO, variant="legacy")
    with tempfile.TemporaryDirectory() as store:
        campaign = open_campaign(spec, campaign_seed, Path(store), resume=False)
        fuzz(campaign, seconds=budget, runs=None, workers=workers, stop_after=1)
        return campaign.first_failure_wall


def naive_time_to_violation(campaign_seed: int, budget: float, scale: float) -> float | None:
    """Free threads, the campaign's drawn cases, wall time scaled by ``scale``."""
    scenario = load_scenario(SCENARIO)
    start = time.monotonic()
    index = 0
    while time.monotonic() - start < budget:
        case = draw(scenario, campaign_seed, index)
        index += 1
        result = run(
            SCENARIO,
            variant="legacy",
            seed=case.seed,
            faults=case.faults,
            clock="real",
            time_scale=scale,
        )
        if result.verdict == "fail":
            return time.monotonic() - start
    return None


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("ttv", "rate", "safe"))
    p.add_argument("--campaigns", type=int, default=10)
    p.add_argument("--budget", type=float, default=120.0)
    p.add_argument("--scale", type=float, default=0.05, help="naive method: wall s per scenario s")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reps", type=int, default=5, help="rate: samples per worker count")
    p.add_argument("--json", default="out/bench-fuzz.json")
    args = p.parse_args()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"mode": args.mode}
    if args.mode == "ttv":
        sim: list[float | None] = []
        naive: list[float | None] = []
        for seed in range(1, args.campaigns + 1):
            # Alternate the two methods, so machine noise hits both alike.
            sim.append(time_to_violation(seed, args.budget))
            naive.append(naive_time_to_violation(seed, args.budget, args.scale))
            print(f"campaign {seed}: scheduler {sim[-1]}, naive {naive[-1]}", flush=True)
        found = [t for t in sim if t is not None]
        naive_found = [t for t in naive if t is not None]
        print(
            f"scheduler: found {len(found)}/{len(sim)}; time to first violation {_summary(found)}"
        )
        print(f"naive:     found {len(naive_found)}/{len(naive)}; {_summary(naive_found)}")
        # A campaign the naive method never finished counts as its budget (a lower bound).
        capped = [t if t is not None else args.budget for t in naive]
        if found:
            ratio = statistics.median(capped) / statistics.median(found)
            print(f"ratio naive/scheduler (medians, naive capped at the budget): {ratio:.1f}")
            out["ratio"] = ratio
        out.update(scheduler=sim, naive=naive, budget=args.budget, scale=args.scale)
    elif args.mode == "rate":
        rates: dict[int, list[float]] = {1: [], 2: []}
        for rep in range(args.reps):
            for workers in (1, 2):
                with tempfile.TemporaryDirectory() as store:
                    campaign = open_campaign(
                        RunSpec(SCENARIO, variant="safe"), 100 + rep, Path(store), resume=False
                    )
                    t0 = time.monotonic()
                    fuzz(campaign, seconds=None, runs=args.runs, workers=workers)
                    rates[workers].append(campaign.runs / (time.monotonic() - t0))
                print(
                    f"rep {rep}: {workers} worker(s) {rates[workers][-1]:.3f} schedules/s",
                    flush=True,
                )
        for workers, values in rates.items():
            print(f"{workers} worker(s): schedules/s {_summary(values)}")
        ratio = statistics.median(rates[2]) / statistics.median(rates[1])
        print(f"ratio 2 workers / 1 worker (medians): {ratio:.2f}")
        out.update(rates=rates, ratio=ratio)
    else:
        with tempfile.TemporaryDirectory() as store:
            campaign = open_campaign(
                RunSpec(SCENARIO, variant="safe"), 7, Path(store), resume=False
            )
            t0 = time.monotonic()
            fuzz(
                campaign,
                seconds=None,
                runs=args.runs,
                workers=args.workers,
                progress=lambda m: print(m, file=sys.stderr, flush=True) if "runs" in m else None,
            )
            wall = time.monotonic() - t0
        print(
            f"safe: {campaign.runs} schedules, {campaign.failures} violations, "
            f"{campaign.unknown} without a verdict, {wall:.0f}s"
        )
        out.update(campaign.to_json(), wall=wall)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
