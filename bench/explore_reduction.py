"""The searches with their reductions and without, for BENCHMARKS.md.

python bench/explore_reduction.py explore --runs 5 --json out/bench-explore.json
    dnschaos explore on spin-model (safe, --invariant active-plan-never-deleted),
    reduced and with --no-reduce, alternating, one process, in two spaces it can
    exhaust here (--space TEXT: only those whose name contains TEXT): bound 1 of the default space (every actor but the harness's own,
    before every AWS call, three durations), and bound 2 of the three-plan model with
    --points writes. Schedules run and pruned per level (the same every run), CPU
    time of the whole process (every thread) per search: median, min, max.
python bench/explore_reduction.py size --max-schedules 1000 --json ...
    the acceptance command, explore spin-model --variant safe --bound 2 --invariant
    active-plan-never-deleted, cut after --max-schedules runs: what it reports of
    its space (the size of every level it reached) and its pruning, both ways.
python bench/explore_reduction.py dfs --runs 5 --json ...
    dnschaos run --strategy dfs (the depth-first search over every choice of the
    scheduler) on a small simulation of two actors whose calls take no time (one
    reads two items, the other writes one of them), with its sleep sets and
    without: schedules run, branches pruned, CPU per search.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3

import dnschaos
from dnschaos.explore.delays import ExploreReport, explore, make_space
from dnschaos.explore.search import depth_first, reduction_for
from dnschaos.runner import run
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.strategies import DFSStrategy

INVARIANT = ("active-plan-never-deleted",)
THREE_PLANS = (
    ("world.max_plans", 3),
    ("scenario.duration", 22.0),
    ("world.planner_interval", 5.0),
)
SPACES = {
    "spin-model safe, three plans, bound 1, default space": (
        RunSpec("spin-model", variant="safe", invariants=INVARIANT, overrides=THREE_PLANS),
        1,
        "calls",
        (0.25, 0.5, 1.0),
    ),
    "spin-model safe, three plans, bound 2, --points writes --durations 0.5": (
        RunSpec("spin-model", variant="safe", invariants=INVARIANT, overrides=THREE_PLANS),
        2,
        "writes",
        (0.5,),
    ),
}


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def _search(
    spec: RunSpec,
    bound: int,
    points: str,
    reduce: bool,
    budget: int,
    fractions: tuple[float, ...] = (0.25, 0.5, 1.0),
) -> tuple[ExploreReport, float]:
    space = make_space(spec, bound, points=points, reduce=reduce, fractions=fractions)
    c0 = time.process_time()
    _result, report = explore(spec, space, max_schedules=budget, keep_going=True)
    return report, time.process_time() - c0


def explore_mode(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (spec, bound, points, fractions) in SPACES.items():
        if args.space and args.space not in name:
            continue
        cpu: dict[bool, list[float]] = {True: [], False: []}
        counts: dict[bool, Any] = {}
        for i in range(args.runs):
            # Alternate which goes first, so drift in the machine's load hits both alike.
            for reduce in (True, False) if i % 2 == 0 else (False, True):
                report, spent = _search(spec, bound, points, reduce, 10**9, fractions)
                cpu[reduce].append(spent)
                counts[reduce] = {
                    "run": report.run,
                    "pruned": report.pruned,
                    "per_level": report.per_level,
                    "exhausted": report.exhausted,
                    "signatures": sorted(report.signatures),
                    "unknown": report.unknown,
                }
                print(f"{name} reduce={reduce}: {report.lines()[-1]}", file=sys.stderr, flush=True)
        ratio = [r / f for r, f in zip(cpu[True], cpu[False], strict=True)]
        out[name] = {
            "reduced": {**counts[True], "cpu": cpu[True], "cpu_stats": _stats(cpu[True])},
            "full": {**counts[False], "cpu": cpu[False], "cpu_stats": _stats(cpu[False])},
            "cpu_ratio_reduced_to_full": _stats(ratio),
        }
        print(name, json.dumps({k: v for k, v in out[name].items()}, default=str), flush=True)
    return out


def size_mode(args: argparse.Namespace) -> dict[str, Any]:
    spec = RunSpec("spin-model", variant="safe", invariants=INVARIANT)
    out: dict[str, Any] = {}
    for reduce in (True, False):
        report, spent = _search(spec, 2, "calls", reduce, args.max_schedules)
        out["reduced" if reduce else "full"] = {
            "lines": report.lines(),
            "per_level": report.per_level,
            "cpu": round(spent, 1),
        }
        print("\n".join(report.lines()), f"cpu {spent:.1f}s", sep="\n", flush=True)
    return out


# --------------------------------------------------------------------------- dfs

TABLE = "bench-items"


def _reader() -> None:
    ddb = boto3.client("dynamodb")
    for key in ("a", "b"):
        ddb.get_item(TableName=TABLE, Key={"pk": {"S": key}})


def _writer() -> None:
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "b"}, "n": {"N": "1"}})


def _simulation() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("bench-dfs", duration=60, latency=(0.0, 0.0))
    sim.table(TABLE, key="pk", items=[{"pk": "a", "n": 0}, {"pk": "b", "n": 0}])
    sim.actor("reader", _reader)
    sim.actor("writer", _writer)
    return sim


def dfs_mode(args: argparse.Namespace) -> dict[str, Any]:
    sim = _simulation()
    spec = replace(RunSpec(scenario=sim.reference(), seed=1, strategy="dfs"), dfs_bound=200)
    cpu: dict[bool, list[float]] = {True: [], False: []}
    counts: dict[bool, Any] = {}
    for i in range(args.runs):
        for reduce in (True, False) if i % 2 == 0 else (False, True):
            footprints, how = reduction_for(spec, reduce)
            dfs = DFSStrategy(bound=spec.dfs_bound, footprints=footprints)
            c0 = time.process_time()
            results = depth_first(lambda s: run(spec, dfs=s), dfs, 100_000)
            cpu[reduce].append(time.process_time() - c0)
            kept = [r for r, skip in zip(results, dfs.redundant, strict=True) if not skip]
            counts[reduce] = {
                "runs": dfs.runs,
                "pruned": dfs.pruned,
                "exhausted": dfs.exhausted,
                "reduction": how,
                "verdicts": sorted({r.verdict for r in kept}),
            }
            print(f"dfs reduce={reduce}: {counts[reduce]}", file=sys.stderr, flush=True)
    ratio = [r / f for r, f in zip(cpu[True], cpu[False], strict=True)]
    out = {
        "reduced": {**counts[True], "cpu": cpu[True], "cpu_stats": _stats(cpu[True])},
        "full": {**counts[False], "cpu": cpu[False], "cpu_stats": _stats(cpu[False])},
        "cpu_ratio_reduced_to_full": _stats(ratio),
    }
    print(json.dumps(out, default=str), flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("explore", "dfs"):
        m = sub.add_parser(name)
        m.add_argument("--runs", type=int, default=5)
        m.add_argument("--json")
        if name == "explore":
            m.add_argument("--space", help="only the spaces whose name contains this text")
    s = sub.add_parser("size")
    s.add_argument("--max-schedules", type=int, default=820)
    s.add_argument("--json")
    args = p.parse_args()
    done = {"explore": explore_mode, "size": size_mode, "dfs": dfs_mode}[args.mode](args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(done, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
