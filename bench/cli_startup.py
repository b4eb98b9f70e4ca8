"""How long ``dnschaos --help`` takes, against the interpreter alone and the old parser.

Three commands run in alternation, each a fresh process, ``--runs`` times:

* ``python -c pass``: the interpreter's own start, the floor;
* ``dnschaos --help``: the console script, which sets up no command's flags;
* the old ``--help``: every command's flags set up first (what ``--help`` did before it
  set up only the command asked for), which imports boto3, moto and the scenarios.

For each: wall time and CPU time (user + system of the child) as median, min and max,
and the ratio of each median to the old ``--help``'s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

OLD_HELP = (
    "import sys; from dnschaos.cli import parser; "
    "sys.argv[0] = 'dnschaos'; _parser().parse_args(['--help'])"
)


def _commands() -> dict[str, list[str]]:
    script = shutil.which("dnschaos", path=os.path.dirname(sys.executable))
    if script is None:
        raise SystemExit(f"no dnschaos console script beside {sys.executable}: install first")
    return {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "dnschaos --help": [script, "--help"],
        "old --help (every command's flags)": [sys.executable, "-c", OLD_HELP],
    }


def _once(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7, help="samples of each command (default 7)")
    args = p.parse_args()
    if args.runs < 5:
        p.error(f"--runs {args.runs}: at least 5")
    commands = _commands()
    for cmd in commands.values():  # warm the file cache: every sample then reads the same
        _once(cmd)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(_once(cmd))
    old = "old --help (every command's flags)"
    base = {
        kind: statistics.median(s[i] for s in samples[old])
        for i, kind in enumerate(("wall", "cpu"))
    }
    print(f"{args.runs} runs each, alternating; seconds")
    print(f"{'command':40} {'wall median':>11} {'min':>6} {'max':>6} {'CPU median':>10} ratio")
    for name, got in samples.items():
        wall = [w for w, _ in got]
        cpu = [c for _, c in got]
        ratio = statistics.median(wall) / base["wall"]
        print(
            f"{name:40} {statistics.median(wall):11.3f} {min(wall):6.3f} {max(wall):6.3f} "
            f"{statistics.median(cpu):10.3f} {ratio:5.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
