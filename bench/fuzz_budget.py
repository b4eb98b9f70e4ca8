"""How long ``dnschaos fuzz --budget 60s`` takes, start to exit, against its budget.

    python bench/fuzz_budget.py [--runs 5] [--budget 60s] [--scenario steady-state]
        [--variant legacy] [-- extra fuzz flags]

Each run is a fresh ``dnschaos fuzz`` process (the console script, so the interpreter's
start and every import count) with a fresh store in a temporary folder. It prints each
run's wall time, runs and failures, then the median, min and max wall time and each as
a ratio of the budget. The budget covers the whole command: the search, the shrinking
of what it found and the summary; the ratio says how far past it the command ran.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(argv: list[str], store: Path) -> tuple[float, int, dict[str, object]]:
    began = time.monotonic()
    done = subprocess.run(
        [*argv, "--store", str(store), "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=False,
    )
    wall = time.monotonic() - began
    if done.returncode not in (0, 1):
        raise SystemExit(f"fuzz exited {done.returncode}: {done.stderr[-2000:]}")
    campaign = json.loads((store / "campaign.json").read_text())
    return wall, done.returncode, campaign


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget", default="60s")
    ap.add_argument("--scenario", default="steady-state")
    ap.add_argument("--variant", default="legacy")
    ap.add_argument("extra", nargs="*", help="more fuzz flags (after --)")
    args = ap.parse_args()
    script = shutil.which("dnschaos", path=os.path.dirname(sys.executable))
    if script is None:
        raise SystemExit(f"no dnschaos console script beside {sys.executable}: install first")
    argv = [script, "fuzz", args.scenario, "--variant", args.variant, "--budget", args.budget]
    argv += args.extra
    seconds = float(args.budget.rstrip("s"))
    walls = []
    print(f"command: {' '.join(argv[1:])} --store TMP -q  (each a fresh process)")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            wall, code, campaign = one(argv, Path(tmp) / "store")
        walls.append(wall)
        print(
            f"  run {i + 1}: {wall:6.1f} s wall, exit {code}, {campaign['runs']} runs, "
            f"{campaign['failures']} failures, load {os.getloadavg()[0]:.2f}"
        )
    med = statistics.median(walls)
    print(
        f"wall s: median {med:.1f} (x{med / seconds:.2f} of the budget), "
        f"min {min(walls):.1f} (x{min(walls) / seconds:.2f}), "
        f"max {max(walls):.1f} (x{max(walls) / seconds:.2f})"
    )


if __name__ == "__main__":
    main()
