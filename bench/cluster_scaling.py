"""Scaling of a fuzz campaign on a Dask cluster on loopback: 1, 2 and 4 workers.

    python bench/cluster_scaling.py --workers 1,2,4 --cases 8 --runs 5 [--json PATH]

For each worker count a scheduler and that many workers (``--nthreads 1``, no
nanny) are started as processes on 127.0.0.1; one warm-up campaign starts each
worker's case runner, then ``--runs`` campaigns of ``--cases`` cases of
``steady-state`` (safe variant: every case runs its whole 240 virtual seconds) are
timed from the first submission to the last result recorded. Efficiency is
``t(1) / (n * t(n))``. On a machine with fewer cores than workers the extra workers
only share the same cores: the figure then measures the overhead of the cluster
path, not a speed-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dnschaos.explore.campaign import fuzz, open_campaign
from dnschaos.explore.cluster import QUIET_DASK, ClusterRunner, connect
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec

DASK = str(Path(sys.executable).parent / "dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dask_env(settings: str) -> dict[str, str]:
    """The environment of the scheduler and workers: Dask's ``default`` housekeeping, or
    the ``quiet`` settings the manual recommends (``QUIET_DASK``)."""
    if settings == "quiet":
        return {**os.environ, **QUIET_DASK}
    return {k: v for k, v in os.environ.items() if k not in QUIET_DASK}


def start_cluster(
    workers: int, logs: Path, settings: str = "quiet"
) -> tuple[str, list[subprocess.Popen[bytes]]]:
    env = dask_env(settings)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    with open(logs / "scheduler.log", "wb") as log:
        procs.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                stdout=log,
                stderr=log,
                env=env,
            )
        )
    worker = [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
    for i in range(workers):
        with open(logs / f"worker{i}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [*worker, "--host", "127.0.0.1"],
                    stdout=log,
                    stderr=log,
                    env=env,
                )
            )
    return address, procs


@contextlib.contextmanager
def running_cluster(
    workers: int, settings: str = "quiet"
) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A scheduler and ``workers`` workers on loopback, every worker joined; on the way
    out each is stopped, and killed if SIGTERM does not stop it within 30 s."""
    with tempfile.TemporaryDirectory() as logs:
        address, procs = start_cluster(workers, Path(logs), settings)
        try:
            client = connect(address)
            client.wait_for_workers(workers, timeout=60)
            client.close()
            yield address, procs
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def campaign(address: str, spec: RunSpec, scenario: Any, cases: int, seed: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        camp = open_campaign(spec, seed, store, resume=False)
        runner = ClusterRunner(connect(address), camp.spec)
        start = time.perf_counter()
        fuzz(camp, scenario, seconds=None, runs=cases, workers=1, runner=runner)
        wall = time.perf_counter() - start
        assert camp.runs == cases and not camp.started, "a case was lost"
        return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--cases", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument(
        "--dask",
        choices=("quiet", "default"),
        default="quiet",
        help="Dask housekeeping of the scheduler and workers (default: quiet, as the manual "
        "recommends)",
    )
    args = ap.parse_args()
    spec = resolve(RunSpec(scenario="steady-state", variant="safe"))
    scenario = build(spec)
    cores = len(os.sched_getaffinity(0))
    print(
        f"steady-state safe, {args.cases} cases a campaign, {args.runs} campaigns per worker "
        f"count; this machine: {cores} core(s)"
    )
    print(f"{'workers':>7} {'median s':>9} {'min s':>7} {'max s':>7} {'cases/s':>8} {'eff.':>6}")
    rows = []
    base: float | None = None
    for n in (int(w) for w in args.workers.split(",")):
        with running_cluster(n, args.dask) as (address, _):
            campaign(address, spec, scenario, n, seed=999)  # warm-up: start case runners
            walls = [
                campaign(address, spec, scenario, args.cases, seed=1 + i) for i in range(args.runs)
            ]
        median = statistics.median(walls)
        base = median if base is None else base
        eff = base / (n * median)
        rows.append(
            {"workers": n, "median": median, "min": min(walls), "max": max(walls), "eff": eff}
        )
        print(
            f"{n:>7} {median:>9.1f} {min(walls):>7.1f} {max(walls):>7.1f} "
            f"{args.cases / median:>8.2f} {eff:>6.2f}",
            flush=True,
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps({"cores": cores, "config": vars(args), "rows": rows}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
