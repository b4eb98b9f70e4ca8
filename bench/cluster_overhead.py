"""A campaign on a one-worker Dask cluster on loopback against the same on one local worker.

    python bench/cluster_overhead.py [--cases 8] [--runs 5] [--json PATH]

A scheduler and one worker (``--nthreads 1``, no nanny) are started as processes on
127.0.0.1. Start-up is timed from starting them to the end of a first campaign of one
case (the worker's case runner starts then). Then campaigns of ``--cases`` cases of
``steady-state`` (safe variant: every case runs its whole 240 virtual seconds, campaign
seeds 1, 2, ...) alternate: *local*, one local worker process (a fresh pool each
campaign, as a ``dnschaos fuzz --workers 1`` command makes), *local, warm*, one local
worker process kept from campaign to campaign, and *cluster*, the warm worker. A campaign's CPU is that of every process involved (this one, its children, the
scheduler, the worker and its case runner: ``psutil``, the live ones' own times and what
the ended ones left in their parents' children times), and its wall time from the first
case submitted to the last result stored. Ratios pair by pair.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from cluster_scaling import running_cluster

from dnschaos.explore.campaign import LocalRunner, close_pool, fuzz, open_campaign
from dnschaos.explore.cluster import ClusterRunner, connect
from dnschaos.scenario.resolve import build, resolve
from dnschaos.scenario.spec import RunSpec


def tree_cpu(roots: list[psutil.Process]) -> float:
    """CPU seconds of ``roots`` and every process under them, live or reaped."""
    seen: set[int] = set()
    total = 0.0
    for root in roots:
        for proc in [root, *root.children(recursive=True)]:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


class WarmLocal(LocalRunner):
    """One local worker process kept from one campaign to the next (a campaign closes
    its runner when it ends; this one stays up until :meth:`stop`)."""

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec, 1)
        self.spec = spec

    def close(self, *, kill: bool) -> None:
        pass

    def stop(self) -> None:
        close_pool(self.pool, kill=False)


def one(
    where: str | WarmLocal | None,
    spec: RunSpec,
    scenario: Any,
    cases: int,
    seed: int,
    roots: list[psutil.Process],
) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        camp = open_campaign(spec, seed, Path(tmp) / "store", resume=False)
        runner: Any = where
        if isinstance(where, str):
            runner = ClusterRunner(connect(where), camp.spec)
        elif where is not None:
            assert camp.spec == where.spec, "the warm pool was made for another spec"
        cpu0, start = tree_cpu(roots), time.perf_counter()
        fuzz(camp, scenario, seconds=None, runs=cases, workers=1, runner=runner)
        wall, cpu = time.perf_counter() - start, tree_cpu(roots) - cpu0
        assert camp.runs == cases and not camp.started, "a case was lost"
        return cpu, wall


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    spec = resolve(RunSpec(scenario="steady-state", variant="safe"))
    scenario = build(spec)
    me = psutil.Process()
    rows: dict[str, list[tuple[float, float]]] = {"local": [], "local, warm": [], "cluster": []}
    begin = time.perf_counter()
    cpu_begin = tree_cpu([me])
    with running_cluster(1) as (address, procs):
        roots = [me, *(psutil.Process(p.pid) for p in procs)]
        one(address, spec, scenario, 1, 999, roots)  # the worker's case runner starts
        startup_wall = time.perf_counter() - begin
        startup_cpu = tree_cpu(roots) - cpu_begin
        one(None, spec, scenario, 1, 998, roots)  # this process's imports, once
        with tempfile.TemporaryDirectory() as tmp:
            warm = WarmLocal(open_campaign(spec, 1, Path(tmp) / "s", resume=False).spec)
        try:
            one(warm, spec, scenario, 1, 997, roots)  # its worker starts
            for i in range(args.runs):
                seed = 1 + i
                rows["local"].append(one(None, spec, scenario, args.cases, seed, roots))
                rows["local, warm"].append(one(warm, spec, scenario, args.cases, seed, roots))
                rows["cluster"].append(one(address, spec, scenario, args.cases, seed, roots))
        finally:
            warm.stop()
    print(f"steady-state safe, {args.cases} cases a campaign, {args.runs} campaigns each way")
    print(
        f"cluster start-up (scheduler, worker, first case): {startup_wall:.1f} s wall, "
        f"{startup_cpu:.1f} s CPU"
    )
    for name, values in rows.items():
        print(
            f"  {name}: CPU s {spread([c for c, _ in values])}, wall s {spread([w for _, w in values])}"
        )
    for local in ("local", "local, warm"):
        pairs = list(zip(rows["cluster"], rows[local], strict=True))
        cpu_ratio = [c / lc for (c, _), (lc, _) in pairs]
        wall_ratio = [w / lw for (_, w), (_, lw) in pairs]
        print(
            f"  cluster / {local}, pair by pair: CPU {spread(cpu_ratio)}, wall {spread(wall_ratio)}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {"config": vars(args), "startup": [startup_cpu, startup_wall], "rows": rows},
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
