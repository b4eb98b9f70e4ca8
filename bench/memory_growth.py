"""Peak memory of a run against its virtual duration: 16 endpoints, 12 enactors.

    python bench/memory_growth.py --hours 1,6,24 [--repeats 5] [--planner-interval 600] [--json PATH]

Each duration runs in a fresh process (the safe variant, so nothing stops the run
early) that reports its own peak RSS (``resource.getrusage``, ``ru_maxrss``), the
history's length and the wall time. The scenario is steady-state's world widened to
16 endpoints and 12 enactors, written to a temporary TOML. The planner writes a plan
every ``--planner-interval`` virtual seconds and the enactors poll every
``--poll-interval``: at steady-state's own 15 s a 24-hour run of this size is
hundreds of thousands of AWS calls (hours of CPU on one core), so the default makes
each virtual hour cheaper while keeping every part of a run (plans, locks, flips,
cleanup, observations). Memory growth is per history entry either way, which is what
the table shows (entries and peak RSS together).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ENDPOINTS = 16
ENACTORS = 12

_CHILD = r"""
import json, resource, sys, time
from dnschaos.runner import run
start = time.perf_counter()
result = run(sys.argv[1], variant="safe", seed=1)
wall = time.perf_counter() - start
print(json.dumps({
    "verdict": result.verdict,
    "stop": result.stop,
    "reason": result.reason,
    "entries": len(result.history),
    "steps": result.steps,
    "virtual_seconds": result.virtual_seconds,
    "wall": wall,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def scenario_toml(hours: float, planner_interval: float, poll_interval: float) -> str:
    duration = hours * 3600.0
    endpoints = "".join(
        f'\n[[world.endpoints]]\nname = "svc{i:02d}.us-east-1.chaos.test"\n'
        f'plan_key = "regional"\nrecord_types = ["A", "AAAA"]\n'
        for i in range(ENDPOINTS)
    )
    names = ", ".join(f'"enactor-{i:02d}"' for i in range(ENACTORS))
    return f"""[scenario]
name = "memory-{hours:g}h"
description = "{ENDPOINTS} endpoints, {ENACTORS} enactors, {hours:g} virtual hours"
duration = {duration}
progress_bound = {max(180.0, 3 * planner_interval)}

[world]
fleet_size = 3
planner_interval = {planner_interval}
{endpoints}
[enactors]
names = [{names}]
lock_ttl = 30.0
lock_attempts = 40
backoff_base = 2.0
backoff_max = 15.0
cleanup_window = 5
poll_interval = {poll_interval}

[latency]
low = 0.05
high = 0.3

[limits]
max_steps = 100000000
max_virtual_seconds = {duration + 3600.0}
max_wall_seconds = 86400.0
quantum = 1.0
"""


def sample(hours: float, planner_interval: float, poll_interval: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"memory-{hours:g}h.toml"
        path.write_text(scenario_toml(hours, planner_interval, poll_interval))
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"run of {hours:g} h failed:\n{done.stderr}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["hours"] = hours
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", default="1,6,24", help="virtual durations, comma-separated")
    ap.add_argument("--planner-interval", type=float, default=1800.0)
    ap.add_argument("--poll-interval", type=float, default=600.0)
    ap.add_argument("--repeats", type=int, default=1, help="each duration this many times, in turn")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    hours = [float(h) for h in args.hours.split(",")]
    print(
        f"{ENDPOINTS} endpoints, {ENACTORS} enactors, a plan every {args.planner_interval:g} s, "
        f"enactors poll every {args.poll_interval:g} s (safe variant, seed 1)"
    )
    print(
        f"{'repeat':>6} {'hours':>6} {'entries':>9} {'steps':>8} {'wall s':>8} "
        f"{'peak RSS MB':>12}  verdict"
    )
    rows = []
    for repeat in range(1, args.repeats + 1):
        for h in hours:  # the durations in turn, so the machine's drift hits them alike
            row = sample(h, args.planner_interval, args.poll_interval)
            row["repeat"] = repeat
            rows.append(row)
            print(
                f"{repeat:>6} {h:>6g} {row['entries']:>9} {row['steps']:>8} "
                f"{row['wall']:>8.1f} {row['peak_rss_mb']:>12.1f}  {row['verdict']} ({row['stop']})",
                flush=True,
            )
    for h in hours:
        peaks = [r["peak_rss_mb"] for r in rows if r["hours"] == h]
        print(
            f"{h:g} h: peak RSS MB median {statistics.median(peaks):.1f} "
            f"(min {min(peaks):.1f}, max {max(peaks):.1f})"
        )
    if len(hours) > 1:
        ratios = [
            next(r for r in rows if r["repeat"] == i and r["hours"] == hours[-1])["peak_rss_mb"]
            / next(r for r in rows if r["repeat"] == i and r["hours"] == hours[0])["peak_rss_mb"]
            for i in range(1, args.repeats + 1)
        ]
        print(
            f"peak RSS {hours[-1]:g} h / {hours[0]:g} h, repeat by repeat: median "
            f"{statistics.median(ratios):.3f}x (min {min(ratios):.3f}, max {max(ratios):.3f})"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps({"config": vars(args), "rows": rows}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
