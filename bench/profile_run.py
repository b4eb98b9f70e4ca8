"""Where one schedule's CPU time goes, every thread included.

    python bench/profile_run.py [--scenario incident-2025] [--variant safe] [--seeds 1-3]

Each thread (the main one, every actor's, every thread an actor starts) runs under a
``cProfile`` profiler of its own, started by ``threading.Thread.run`` and timed by the
thread's own CPU clock (``time.thread_time``, so time spent waiting for a lock or for
the GIL is not counted); their figures are added up.

Each function's own time goes to the layer its file belongs to (botocore, moto, the
strict Route 53 layer, the scheduler, judging...). The standard library's and the
built-ins' own time (``json``, ``re``, ``random``, ``dict.get``...) goes to the layers
that called them, in proportion to the time each caller spent in them.

A profiler makes each Python call dearer, so the shares lean towards code that makes
many small calls; they are for finding where the time goes, not for quoting as speed.
The first seed is a warm-up and is not counted.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import threading
import time
from typing import Any

from dnschaos.runner import run

# (a piece of the file's path, its layer), the first that matches.
LAYERS: tuple[tuple[str, str], ...] = (
    ("/site-packages/botocore/", "botocore and boto3 (client side)"),
    ("/site-packages/boto3/", "botocore and boto3 (client side)"),
    ("/site-packages/urllib3/", "botocore and boto3 (client side)"),
    ("/site-packages/dateutil/", "botocore and boto3 (client side)"),
    ("/site-packages/moto/", "moto, responses, werkzeug"),
    ("/site-packages/responses/", "moto, responses, werkzeug"),
    ("/site-packages/werkzeug/", "moto, responses, werkzeug"),
    ("/site-packages/", "other libraries"),
    ("/adapters/route53/", "strict Route 53 layer and its answers"),
    ("/adapters/dynamodb/", "DynamoDB answers"),
    ("/adapters/aws/", "AWS target, moto glue and replies"),
    ("/adapters/", "other adapters (DNS servers)"),
    ("/faults/", "faults"),
    ("/harness/sim/", "scheduler, hooks, clock"),
    ("/harness/history.py", "history (recording and reading back)"),
    ("/harness/checkers.py", "judging"),
    ("/harness/invariants.py", "judging"),
    ("/harness/judging.py", "judging"),
    ("/invariants.py", "judging"),
    ("/harness/workloads/", "the workload (automation under test)"),
    ("/harness/", "harness, other (runner, world, observation)"),
)
_STDLIB = "stdlib"


def layer(path: str) -> str:
    path = path.replace("\\", "/")
    for piece, name in LAYERS:
        if piece in path:
            return name
    return _STDLIB  # the standard library, built-ins (path "~"), the profiler


def by_layer(stats: pstats.Stats) -> dict[str, float]:
    """Own time per layer, the standard library's handed up to its callers."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Any, dict[str, float]] = {}

    def shares(func: Any, depth: int = 0) -> dict[str, float]:
        """How a unit of ``func``'s time divides among the layers that are not stdlib."""
        if layer(func[0]) != _STDLIB:
            return {layer(func[0]): 1.0}
        if func in memo:
            return memo[func]
        memo[func] = {_STDLIB: 1.0}  # a cycle, or too deep: left where it is
        callers = raw.get(func, (0, 0, 0, 0, {}))[4]
        total = sum(c[3] for c in callers.values())
        if depth > 30 or total <= 0:
            return memo[func]
        mixed: dict[str, float] = {}
        for caller, c in callers.items():
            weight = c[3] / total  # the caller's share of func's cumulative time
            for name, part in shares(caller, depth + 1).items():
                mixed[name] = mixed.get(name, 0.0) + weight * part
        memo[func] = mixed
        return mixed

    out: dict[str, float] = {}
    for func, entry in raw.items():
        for name, part in shares(func).items():
            out[name] = out.get(name, 0.0) + entry[2] * part
    return out


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def profile(scenario: str, variant: str | None, seeds: list[int]) -> tuple[float, pstats.Stats]:
    """CPU seconds of the runs of ``seeds`` (the first one not counted) and their profile."""
    profiles: list[cProfile.Profile] = []
    original = threading.Thread.run

    def profiled(self: threading.Thread) -> None:
        prof = cProfile.Profile(time.thread_time)
        profiles.append(prof)
        prof.enable()
        try:
            original(self)
        finally:
            prof.disable()

    run(scenario, variant=variant, seed=seeds[0])  # imports, the session, the client pool
    threading.Thread.run = profiled  # type: ignore[method-assign]
    main = cProfile.Profile(time.thread_time)
    start = time.process_time()
    try:
        main.enable()
        for seed in seeds[1:]:
            run(scenario, variant=variant, seed=seed)
        main.disable()
    finally:
        threading.Thread.run = original  # type: ignore[method-assign]
    cpu = time.process_time() - start
    stats = pstats.Stats(main)
    for prof in profiles:
        stats.add(prof)
    return cpu, stats


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", default="incident-2025")
    p.add_argument("--variant", default="safe")
    p.add_argument("--seeds", default="1-3", help="first-last; the first is a warm-up")
    p.add_argument("--top", type=int, default=25, help="functions listed by own time")
    args = p.parse_args()
    seeds = _seeds(args.seeds)
    if len(seeds) < 2:
        p.error("--seeds: give at least two (the first is a warm-up)")
    cpu, stats = profile(args.scenario, args.variant, seeds)
    layers = by_layer(stats)
    total = sum(layers.values())
    runs = len(seeds) - 1
    print(
        f"{args.scenario} {args.variant or ''}, seeds {seeds[1]}-{seeds[-1]}: "
        f"{cpu / runs:.2f} CPU s per run under the profiler, all threads\n"
    )
    print("| layer | share of profiled CPU time |")
    print("|---|---|")
    for name, value in sorted(layers.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {value / total:.1%} |")
    print(f"\nTop {args.top} functions by own time:\n")
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
