"""A fuzz campaign parent's memory against the failures it has found.

    python bench/campaign_memory.py --runs 100,2000 --repeats 5 [--workers 2] [--json PATH]
        [--scenario steady-state --variant legacy]

Each repeat is a fresh process that runs one campaign (by default steady-state legacy: a
failure in most cases) in a temporary store, without shrinking, and reports the parent's resident
set (VmRSS, the memory it holds now, not its peak) after each checkpoint of ``--runs``.
The first checkpoint is the baseline: the table gives each later one's RSS as a ratio of
it, median, min and max over the repeats. A parent that keeps what it found in memory
grows with the failures; one that streams them to the store stays flat.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

_CHILD = r"""
import json, sys, tempfile
from pathlib import Path
from dnschaos.explore.campaign import open_campaign, fuzz
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec

checkpoints = [int(n) for n in sys.argv[1].split(",")]
workers = int(sys.argv[2])
scenario_ref, variant = sys.argv[3], sys.argv[4] or None

def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")

spec = resolve(RunSpec(scenario=scenario_ref, variant=variant))
scenario = build(spec)
out = []
with tempfile.TemporaryDirectory() as tmp:
    campaign = open_campaign(spec, 1, Path(tmp) / "store", resume=False, scenario=scenario)
    done = 0
    for n in checkpoints:
        fuzz(campaign, scenario, seconds=None, runs=n - done, workers=workers)
        done = n
        out.append({"runs": campaign.runs, "failures": campaign.failures, "rss_mb": rss_mb()})
print(json.dumps(out))
"""


def one(checkpoints: str, workers: int, scenario: str, variant: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, checkpoints, str(workers), scenario, variant],
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="100,2000", help="checkpoints, in runs (first: baseline)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="steady-state", help="a scenario name or file")
    ap.add_argument("--variant", default="legacy", help="its variant ('' for none)")
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args()
    print(f"command: {' '.join(sys.argv)}", flush=True)
    repeats = []
    for n in range(args.repeats):
        # Each repeat as it ends (a long one may be all a session has time for).
        repeats.append(one(args.runs, args.workers, args.scenario, args.variant))
        rows = ", ".join(
            f"{r['runs']} runs/{r['failures']} failures {r['rss_mb']:.1f} MB" for r in repeats[-1]
        )
        print(f"repeat {n + 1}: {rows}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(repeats, indent=2) + "\n")
    print("runs  failures  RSS MB (median, min, max)  ratio to the first checkpoint (median)")
    for i, first in enumerate(repeats[0]):
        rss = [r[i]["rss_mb"] for r in repeats]
        ratios = [r[i]["rss_mb"] / r[0]["rss_mb"] for r in repeats]
        print(
            f"{first['runs']:5d}  {first['failures']:8d}  "
            f"{statistics.median(rss):7.1f} {min(rss):7.1f} {max(rss):7.1f}  "
            f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
        )


if __name__ == "__main__":
    main()
