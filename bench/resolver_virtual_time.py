"""What Unbound on the virtual clock costs: incident-2025-dns under the scheduler, with and
without ``--resolver unbound``, wall seconds per run and per cached query.

    python bench/resolver_virtual_time.py --runs 5 [--json out/bench-resolver.json]

Each sample is a fresh process (so every run pays for starting its servers), the two
modes alternating. ``none`` is the baseline measured in the same session; ``unbound``
adds the resolver process under libfaketime and the ``probe-cached`` actor, whose
every query first writes the virtual now to the resolver's time file. Every sample of
a mode must give the same digest (a run that did not would be timing something else).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, time
from dnschaos.runner import run
from dnschaos.scenario.spec import RunSpec
resolver = sys.argv[1]
start = time.perf_counter()
result = run(RunSpec("incident-2025-dns", variant="legacy", seed=2,
                     resolver=None if resolver == "none" else resolver))
wall = time.perf_counter() - start
cached = sum(1 for e in result.history if e["kind"] == "probe" and e["view"] == "cached")
print(json.dumps({"wall": wall, "digest": result.trace_digest, "cached": cached}))
"""


def sample(resolver: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, resolver],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    samples: dict[str, list[dict[str, Any]]] = {"none": [], "unbound": []}
    for _ in range(args.runs):
        for mode in samples:
            samples[mode].append(sample(mode))
    report: dict[str, Any] = {}
    for mode, runs in samples.items():
        digests = {r["digest"] for r in runs}
        if len(digests) != 1:
            print(f"{mode}: digests differ across runs: {sorted(digests)}", file=sys.stderr)
            return 1
        walls = [r["wall"] for r in runs]
        report[mode] = {
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "cached_queries": runs[0]["cached"],
            "digest": digests.pop(),
        }
    base, cost = report["none"], report["unbound"]
    extra = cost["median_s"] - base["median_s"]
    report["ratio"] = cost["median_s"] / base["median_s"]
    report["extra_ms_per_cached_query"] = 1000.0 * extra / max(1, cost["cached_queries"])
    for mode in samples:
        r = report[mode]
        print(
            f"{mode:8s} median {r['median_s']:.2f} s  min {r['min_s']:.2f}  max {r['max_s']:.2f}"
            f"  ({r['cached_queries']} cached queries, digest {r['digest'][:12]})"
        )
    print(
        f"ratio unbound/none {report['ratio']:.2f}; "
        f"{report['extra_ms_per_cached_query']:.2f} ms more per cached query"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
