"""Search strategies side by side, for BENCHMARKS.md.

    python bench/strategies.py first --campaigns 10 --json out/bench-strategies.json
        time and schedules to the first violation, legacy, one worker, per campaign
        seed: spin-model aimed at active-plan-never-deleted (no faults) and
        steady-state, for random, pct, delay and guided fuzzing, and (spin-model)
        dnschaos explore at bound 2 (holds of the enactors before their writes, the
        space of the figures in BENCHMARKS.md) with the run seed as the campaign seed;
        plus the shrunk length of each spin-model counterexample found.
    python bench/strategies.py coverage --campaigns 10 --seconds 30 --json ...
        abstract states and transitions reached on spin-model in the first
        --seconds of a campaign, per strategy.

A campaign that finds nothing within its budget counts as "not found" (its time is
not a sample: the median is over the campaigns that found one, and the count of
those is given). Every mode prints medians with min and max, and writes JSON with
every sample.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from dnschaos.checkers import headline
from dnschaos.cli.fuzz import FUZZ_MIXES
from dnschaos.explore.campaign import fuzz, open_campaign
from dnschaos.explore.delays import explore, make_space
from dnschaos.explore.shrink import Case, run_case, shrink
from dnschaos.runner import RunResult
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec

SPIN = RunSpec("spin-model", variant="legacy", invariants=("active-plan-never-deleted",))
STEADY = RunSpec("steady-state", variant="legacy")
FUZZERS = ("random", "pct", "delay", "guided")


def _summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"median {statistics.median(values):.1f} (min {min(values):.1f}, "
        f"max {max(values):.1f}, n={len(values)})"
    )


def _campaign(
    spec: RunSpec,
    strategy: str,
    seed: int,
    *,
    runs: int | None,
    seconds: float | None,
    stop_after: int | None,
) -> dict[str, Any]:
    scenario = build(resolve(spec))
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp)
        guided = strategy == "guided"
        campaign = open_campaign(
            spec,
            seed,
            store,
            resume=False,
            guided=guided,
            mix=FUZZ_MIXES["mix" if guided else strategy],
            scenario=scenario,
        )
        began = time.monotonic()
        found = fuzz(
            campaign, scenario, seconds=seconds, runs=runs, workers=1, stop_after=stop_after
        )
        wall = time.monotonic() - began
        out: dict[str, Any] = {
            "strategy": strategy,
            "seed": seed,
            "runs": campaign.runs,
            "wall": round(wall, 2),
            "first_runs": campaign.first_failure_runs,
            "first_wall": campaign.first_failure_wall,
            "coverage": campaign.coverage.summary(),
        }
        if found:
            out["failure"] = json.loads(Path(found[0]["path"]).read_text())
        return out


def _explore(spec: RunSpec, seed: int, bound: int, max_schedules: int) -> dict[str, Any]:
    seeded = replace(spec, seed=seed)
    # The space these figures were measured in: holds of the enactors before their writes.
    enactors = build(resolve(seeded)).config("incident-2025").enactors
    space = make_space(seeded, bound, points="writes", actors=enactors)
    began = time.monotonic()
    result, report = explore(seeded, space, max_schedules=max_schedules)
    wall = time.monotonic() - began
    found = report.found is not None
    return {
        "strategy": f"explore bound {bound}",
        "seed": seed,
        "runs": report.run,
        "wall": round(wall, 2),
        "first_runs": report.run if found else None,
        "first_wall": round(wall, 2) if found else None,
        "result": result if found else None,
    }


def _length(result: RunResult) -> dict[str, int]:
    """A counterexample's length: scheduler steps and AWS calls up to its first violation."""
    first = headline(result.violations)
    until = first.seq if first is not None else len(result.history)
    entries = [e for e in result.history if e["seq"] <= until]
    return {
        "steps": sum(1 for e in entries if e["kind"] == "choice"),
        "calls": sum(1 for e in entries if e["kind"] == "invoke"),
    }


def first(args: argparse.Namespace) -> dict[str, Any]:
    seeds = list(range(1, args.campaigns + 1))
    out: dict[str, Any] = {"spin-model": {}, "steady-state": {}, "shrunk": []}
    for name, spec, budget in (
        ("spin-model", SPIN, args.spin_runs),
        ("steady-state", STEADY, args.steady_runs),
    ):
        for strategy in FUZZERS:
            samples = []
            for seed in seeds:
                s = _campaign(spec, strategy, seed, runs=budget, seconds=None, stop_after=1)
                failure = s.pop("failure", None)
                if failure is not None and name == "spin-model" and args.shrink_runs:
                    out["shrunk"].append(_shrunk(strategy, seed, failure, args.shrink_runs))
                samples.append(s)
                print(f"{name} {strategy} seed {seed}: {_line(s)}", file=sys.stderr, flush=True)
            out[name][strategy] = samples
        if name == "spin-model":
            samples = []
            for seed in seeds:
                s = _explore(spec, seed, 2, args.explore_schedules)
                result = s.pop("result")
                if result is not None:
                    out["shrunk"].append(
                        {
                            "strategy": s["strategy"],
                            "seed": seed,
                            "before": _length(result),
                            "after": None,
                        }
                    )
                samples.append(s)
                print(f"{name} explore seed {seed}: {_line(s)}", file=sys.stderr, flush=True)
            out[name]["explore bound 2"] = samples
    return out


def _shrunk(strategy: str, seed: int, failure: dict[str, Any], runs: int) -> dict[str, Any]:
    spec = RunSpec.from_result(failure)
    case = Case.from_json(failure["case"])
    original = run_case(spec, case)  # deterministic: the campaign's own run
    done = shrink(spec, case=case, original=original, max_runs=runs)
    return {
        "strategy": strategy,
        "seed": seed,
        "before": _length(original),
        "after": _length(done.result),
        "shrink_runs": done.runs,
    }


def _line(s: dict[str, Any]) -> str:
    if s["first_runs"] is None:
        return f"not found in {s['runs']} runs ({s['wall']:.0f}s)"
    return f"first violation after {s['first_runs']} runs, {s['first_wall']:.1f}s"


def coverage(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for strategy in FUZZERS:
        samples = []
        for seed in range(1, args.campaigns + 1):
            s = _campaign(SPIN, strategy, seed, runs=None, seconds=args.seconds, stop_after=None)
            s.pop("failure", None)
            samples.append(s)
            print(
                f"spin-model {strategy} seed {seed}: {s['coverage']} in {s['runs']} runs",
                file=sys.stderr,
                flush=True,
            )
        out[strategy] = samples
    return out


def report(data: dict[str, Any], mode: str) -> None:
    if mode == "first":
        for name in ("spin-model", "steady-state"):
            for strategy, samples in data[name].items():
                found = [s for s in samples if s["first_runs"] is not None]
                print(
                    f"{name:13} {strategy:16} found {len(found)}/{len(samples)} · schedules "
                    f"{_summary([float(s['first_runs']) for s in found])} · seconds "
                    f"{_summary([float(s['first_wall']) for s in found])}"
                )
        for row in data["shrunk"]:
            print(f"shrunk {row['strategy']} seed {row['seed']}: {row['before']} -> {row['after']}")
    else:
        for strategy, samples in data.items():
            states = [float(s["coverage"]["states"]) for s in samples]
            edges = [float(s["coverage"]["transitions"]) for s in samples]
            runs = [float(s["runs"]) for s in samples]
            print(
                f"{strategy:8} states {_summary(states)} · transitions {_summary(edges)} · "
                f"runs {_summary(runs)}"
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("first")
    f.add_argument("--campaigns", type=int, default=10)
    f.add_argument("--spin-runs", type=int, default=40)
    f.add_argument("--steady-runs", type=int, default=20)
    f.add_argument("--explore-schedules", type=int, default=400)
    f.add_argument("--shrink-runs", type=int, default=30)
    f.add_argument("--json")
    c = sub.add_parser("coverage")
    c.add_argument("--campaigns", type=int, default=10)
    c.add_argument("--seconds", type=float, default=30.0)
    c.add_argument("--json")
    args = p.parse_args()
    data = first(args) if args.mode == "first" else coverage(args)
    report(data, args.mode)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
