"""CPU per schedule of this checkout against a baseline checkout, paired and interleaved.

    python bench/against_baseline.py --baseline /tmp/base/.venv/bin/python \\
        [--scenario incident-2025 --variant safe] [--seeds 1-3] [--pairs 5] [--cpu N]

A *sample* is one fresh process of either interpreter (this checkout's venv, or the
baseline checkout's, made with ``git worktree add /tmp/base REV && make -C /tmp/base
venv``) that runs one warm-up schedule (imports, the first session, the client pool),
then the scenario's schedules for ``--seeds``, and reports the CPU time of the whole
process (every thread, ``time.process_time``) per schedule and the trace digests. The
samples alternate, baseline first, then this checkout, ``--pairs`` times, so the
machine's drift hits both alike; the ratio is taken pair by pair. Each pair must give
the same digests on both sides unless ``--digests-may-differ`` says the change is meant
to alter histories. With ``--cpu N`` every sample runs pinned to CPU N
(``os.sched_setaffinity``), so the automation, moto, the DNS server, the probes and the
scheduler share one core, as cascade-2025's budget asks. The load average is printed
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

_CHILD = r"""
import json, os, sys, time
if int(sys.argv[5]) >= 0:
    os.sched_setaffinity(0, {int(sys.argv[5])})  # every thread of the run on that one core
from dnschaos.runner import run
scenario, variant, first, last = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), int(sys.argv[4])
run(scenario, variant=variant, seed=first - 1)  # warm-up, not counted
cpu, digests = [], []
for seed in range(first, last + 1):
    start = time.process_time()
    result = run(scenario, variant=variant, seed=seed)
    cpu.append(time.process_time() - start)
    digests.append(result.trace_digest)
print(json.dumps({"cpu": cpu, "digests": digests}))
"""


def sample(python: str, args: argparse.Namespace) -> dict[str, Any]:
    first, _, last = args.seeds.partition("-")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [python, "-c", _CHILD, args.scenario, args.variant, first, last or first, str(args.cpu)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=Path(python).parent.parent.parent,  # the checkout whose venv it is
    )
    if done.returncode != 0:
        raise SystemExit(f"{python}: the sample failed:\n{done.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="the baseline checkout's venv python")
    ap.add_argument("--scenario", default="incident-2025")
    ap.add_argument("--variant", default="safe")
    ap.add_argument("--seeds", default="1-3", help="first-last schedules per sample")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument(
        "--cpu",
        type=int,
        default=-1,
        metavar="N",
        help="pin every sample to CPU N (the run on one core); default: not pinned",
    )
    ap.add_argument("--digests-may-differ", action="store_true")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    this = str(Path(sys.executable))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base_cpu: list[float] = []
    this_cpu: list[float] = []
    ratios: list[float] = []
    for i in range(args.pairs):
        b = sample(args.baseline, args)
        t = sample(this, args)
        if b["digests"] != t["digests"] and not args.digests_may_differ:
            raise SystemExit(f"pair {i + 1}: digests differ: {b['digests']} != {t['digests']}")
        mb, mt = statistics.mean(b["cpu"]), statistics.mean(t["cpu"])
        base_cpu.append(mb)
        this_cpu.append(mt)
        ratios.append(mt / mb)
        print(f"pair {i + 1}: baseline {mb:.3f} s, this {mt:.3f} s a schedule ({mt / mb:.3f})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    variant = f" {args.variant}" if args.variant else ""
    print(
        f"{args.scenario}{variant}, seeds {args.seeds}, {args.pairs} pairs: CPU s a schedule, "
        f"median (min-max)"
    )
    print(f"  baseline: {spread(base_cpu)}")
    print(f"  this:     {spread(this_cpu)}")
    print(f"  this / baseline, pair by pair: {spread(ratios)}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {"config": vars(args), "baseline": base_cpu, "this": this_cpu, "ratios": ratios},
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
