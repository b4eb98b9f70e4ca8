"""A campaign on a one-worker Dask cluster on loopback against the same on one local worker.

    python bench/cluster_overhead.py [--cases 8] [--runs 5] [--dask quiet|default]
        [--idle 30] [--json PATH]

A scheduler and one worker (``--nthreads 1``, no nanny) are started as processes on
127.0.0.1. Start-up is timed from starting them to the end of a first campaign of one
case (the worker's case runner starts then). Then campaigns of ``--cases`` cases of
``steady-state`` (safe variant: every case runs its whole 240 virtual seconds, campaign
seeds 1, 2, ...) alternate: *local*, one local worker process (a fresh pool each
campaign, as a ``dnschaos fuzz --workers 1`` command makes), *local, warm*, one local
worker process kept from campaign to campaign, and *cluster*, the warm worker. A
campaign's CPU is that of every process involved (``psutil``: the live ones' own times
and what the ended ones left in their parents' children times): this one and its
children; for a cluster campaign that includes the scheduler, the worker and its case
runner, for a local one it leaves them out (they are up, idle, the whole time). Its wall
time runs from the first case submitted to the last result stored. Ratios pair by pair.
The scheduler's and worker's own CPU during each cluster campaign is also given apart:
what the cluster adds, read directly rather than as a difference of two noisy totals.

Before the campaigns, the CPU the idle scheduler and worker use between them over
``--idle`` seconds (Dask's housekeeping: what a campaign pays for the cluster whatever
its cases). ``--dask`` starts them with Dask's ``default`` settings or the ``quiet``
ones the manual recommends (``dnschaos.explore.cluster.QUIET_DASK``, the default here).
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


def tree_cpu(root: psutil.Process, skip: frozenset[int] = frozenset()) -> float:
    """CPU seconds of ``root`` and every process under it, live or reaped, less the
    processes in ``skip`` and theirs."""
    if root.pid in skip:
        return 0.0
    try:
        t = root.cpu_times()
        children = root.children()
    except psutil.NoSuchProcess:
        return 0.0
    own = t.user + t.system + t.children_user + t.children_system
    return own + sum(tree_cpu(child, skip) for child in children)


def own_cpu(procs: list[psutil.Process]) -> float:
    """CPU seconds of ``procs`` themselves (not their children)."""
    total = 0.0
    for proc in procs:
        t = proc.cpu_times()
        total += t.user + t.system
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
    dask: list[psutil.Process],
) -> tuple[float, float, float]:
    """(CPU, wall, the scheduler's and worker's own CPU) of one campaign. A local
    campaign's CPU leaves out the cluster's processes (idle then, but not free)."""
    me = psutil.Process()
    skip = frozenset() if isinstance(where, str) else frozenset(p.pid for p in dask)
    with tempfile.TemporaryDirectory() as tmp:
        camp = open_campaign(spec, seed, Path(tmp) / "store", resume=False)
        runner: Any = where
        if isinstance(where, str):
            runner = ClusterRunner(connect(where), camp.spec)
        elif where is not None:
            assert camp.spec == where.spec, "the warm pool was made for another spec"
        cpu0, dask0, start = tree_cpu(me, skip), own_cpu(dask), time.perf_counter()
        fuzz(camp, scenario, seconds=None, runs=cases, workers=1, runner=runner)
        wall = time.perf_counter() - start
        cpu, dask_cpu = tree_cpu(me, skip) - cpu0, own_cpu(dask) - dask0
        assert camp.runs == cases and not camp.started, "a case was lost"
        return cpu, wall, dask_cpu


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--dask", choices=("quiet", "default"), default="quiet")
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of idle measured")
    args = ap.parse_args()
    spec = resolve(RunSpec(scenario="steady-state", variant="safe"))
    scenario = build(spec)
    me = psutil.Process()
    rows: dict[str, list[tuple[float, float, float]]] = {
        "local": [],
        "local, warm": [],
        "cluster": [],
    }
    begin = time.perf_counter()
    cpu_begin = tree_cpu(me)
    with running_cluster(1, args.dask) as (address, procs):
        dask = [psutil.Process(p.pid) for p in procs]
        one(address, spec, scenario, 1, 999, dask)  # the worker's case runner starts
        startup_wall = time.perf_counter() - begin
        startup_cpu = tree_cpu(me) - cpu_begin
        idle0 = own_cpu(dask)
        time.sleep(args.idle)
        idle = (own_cpu(dask) - idle0) / args.idle
        one(None, spec, scenario, 1, 998, dask)  # this process's imports, once
        with tempfile.TemporaryDirectory() as tmp:
            warm = WarmLocal(open_campaign(spec, 1, Path(tmp) / "s", resume=False).spec)
        try:
            one(warm, spec, scenario, 1, 997, dask)  # its worker starts
            for i in range(args.runs):
                seed = 1 + i
                rows["local"].append(one(None, spec, scenario, args.cases, seed, dask))
                rows["local, warm"].append(one(warm, spec, scenario, args.cases, seed, dask))
                rows["cluster"].append(one(address, spec, scenario, args.cases, seed, dask))
        finally:
            warm.stop()
    print(
        f"steady-state safe, {args.cases} cases a campaign, {args.runs} campaigns each way; "
        f"Dask settings: {args.dask}"
    )
    print(f"idle scheduler and worker: {idle:.2%} of a core (over {args.idle:.0f} s)")
    print(
        f"cluster start-up (scheduler, worker, first case): {startup_wall:.1f} s wall, "
        f"{startup_cpu:.1f} s CPU"
    )
    for name, values in rows.items():
        print(
            f"  {name}: CPU s {spread([r[0] for r in values])}, "
            f"wall s {spread([r[1] for r in values])}"
        )
    for local in ("local", "local, warm"):
        pairs = list(zip(rows["cluster"], rows[local], strict=True))
        cpu_ratio = [c[0] / lc[0] for c, lc in pairs]
        wall_ratio = [c[1] / lc[1] for c, lc in pairs]
        print(
            f"  cluster / {local}, pair by pair: CPU {spread(cpu_ratio)}, wall {spread(wall_ratio)}"
        )
    # The cluster's own processes, apart from the case runner: what the cluster adds,
    # measured directly rather than as a difference of two noisy totals.
    share = [r[2] / r[0] for r in rows["cluster"]]
    print(
        "  the scheduler's and worker's own CPU in a cluster campaign: "
        f"{spread([r[2] for r in rows['cluster']])} s, "
        f"{statistics.median(share):.1%} ({min(share):.1%}-{max(share):.1%}) of its CPU"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "config": vars(args),
                    "startup": [startup_cpu, startup_wall],
                    "idle_share_of_a_core": idle,
                    "rows": rows,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
