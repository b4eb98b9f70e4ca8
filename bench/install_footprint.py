"""What a plain ``pip install dnschaos`` costs: time, disk, packages; before and after.

Two source trees are taken from git (``--before`` and ``--after``, default HEAD) and
installed the way a user installs, ``pip install SOURCE`` into a fresh virtual
environment, alternately, ``--runs`` times each. Timed: the pip install alone (not the
making of the empty environment). Measured after each install: the environment's size on
disk, how many distributions it holds, and whether it runs ``dnschaos run incident-2025``
(exit 1: the violation) and what the moto server does without extras (exit 2, naming
``dnschaos[server]``, or it starts).

``--cache warm`` (default) lets pip use its cache, filled by one unmeasured install of
each tree first: the figure is then the install's own work. ``--cache cold`` passes
``--no-cache-dir``: every file is downloaded, as on a fresh machine, and the figure
includes the network.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PIP = ("--disable-pip-version-check", "--no-input", "-q")


def _tree(rev: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-s", "-B1", str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0]) / 1e6


def _server(venv: Path) -> str:
    """What ``python -m dnschaos.adapters.aws.moto_server`` does in this environment."""
    proc = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "dnschaos.adapters.aws.moto_server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if first.startswith("READY"):
            return "starts"
        proc.wait(timeout=60)
        err = proc.stderr.read() if proc.stderr else ""
        named = "names dnschaos[server]" if "dnschaos[server]" in err else "does not name it"
        return f"exit {proc.returncode}, {named}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def _install(source: Path, work: Path, cache: str, check: bool) -> dict[str, Any]:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cache_flag = ["--no-cache-dir"] if cache == "cold" else []
    start = time.perf_counter()
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", *PIP, *cache_flag, str(source)],
        check=True,
    )
    seconds = time.perf_counter() - start
    site = next((venv / "lib").glob("python3*/site-packages"))
    got: dict[str, Any] = {
        "seconds": seconds,
        "mb": _size_mb(venv),
        "distributions": len(list(site.glob("*.dist-info"))),
    }
    if check:
        done = subprocess.run(
            [str(venv / "bin" / "dnschaos"), "run", "incident-2025", "--seed", "7", "-q"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        got["run incident-2025"] = f"exit {done.returncode}"
        got["moto server"] = _server(venv)
        packages = sorted(
            ((_size_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True
        )
        got["largest"] = [f"{name} {mb:.0f} MB" for mb, name in packages[:8]]
    shutil.rmtree(venv)
    return got


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="git revision of the baseline")
    p.add_argument("--after", default="HEAD", help="git revision measured (default HEAD)")
    p.add_argument("--runs", type=int, default=5, help="installs of each tree (default 5)")
    p.add_argument("--cache", choices=("warm", "cold"), default="warm")
    p.add_argument("--json", metavar="PATH", help="write every sample as JSON")
    args = p.parse_args()
    if args.runs < 1:
        p.error(f"--runs {args.runs}: at least 1")
    with tempfile.TemporaryDirectory(prefix="dnschaos-footprint-") as tmp:
        work = Path(tmp)
        trees = {
            "before": _tree(args.before, work / "before"),
            "after": _tree(args.after, work / "after"),
        }
        if args.cache == "warm":
            for source in trees.values():
                _install(source, work, "warm", check=False)
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for run in range(args.runs):
            for name, source in trees.items():
                got = _install(source, work, args.cache, check=run == 0)
                samples[name].append(got)
                print(f"{name} #{run + 1}: {got['seconds']:.1f} s, {got['mb']:.0f} MB", flush=True)
    print(f"\n{args.runs} installs of each tree, alternating, cache {args.cache}")
    for name, tree in samples.items():
        rev = args.before if name == "before" else args.after
        print(f"{name} ({rev}):")
        print(f"  install seconds: {_summary([g['seconds'] for g in tree])}")
        print(f"  environment MB:  {_summary([g['mb'] for g in tree])}")
        print(f"  distributions:   {tree[0]['distributions']}")
        for key in ("run incident-2025", "moto server", "largest"):
            print(f"  {key}: {tree[0][key]}")
    ratio = statistics.median(g["seconds"] for g in samples["after"]) / statistics.median(
        g["seconds"] for g in samples["before"]
    )
    size = statistics.median(g["mb"] for g in samples["after"]) / statistics.median(
        g["mb"] for g in samples["before"]
    )
    print(f"after/before: install time {ratio:.2f}, size {size:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(samples, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    sys.exit(main())
