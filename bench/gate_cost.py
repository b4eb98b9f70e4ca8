"""Per-request cost of the gate: the same Route 53 reads from a separate process and in-process.

One scenario, one actor, ``--calls`` ListResourceRecordSets calls under the scheduler:
once as an in-process function (boto3 bound to the run), once as a process actor (a
boto3 script run by the Python running this, its requests through the loopback gate).
Each is also run with no calls, and the per-request cost is (wall with calls - wall
without) / calls, so the start of the run, the process and its imports are left out.
Runs alternate in-process / process; the median, min and max of ``--runs`` each.

    python bench/gate_cost.py --runs 5 --calls 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from dnschaos.runner import run
from dnschaos.scenario.spec import RunSpec

SCRIPT = """
import sys
import boto3


def main(n=None):
    n = int(sys.argv[1]) if n is None else n
    route53 = boto3.client("route53")
    zone = route53.list_hosted_zones()["HostedZones"][0]["Id"]
    for _ in range(n):
        route53.list_resource_record_sets(
            HostedZoneId=zone, StartRecordName="www.example.com.", StartRecordType="A",
            MaxItems="1",
        )


def calls(n):
    return lambda: main(n)


if __name__ == "__main__":
    main()
"""

WORLD = """
[scenario]
name = "gate-cost"
duration = 3600

[limits]
max_wall_seconds = 600

[[world.zones]]
name = "example.com"
records = [{{ name = "www.example.com", type = "A", ttl = 60, values = ["192.0.2.1"] }}]

[[actors]]
name = "reader"
{actor}
"""


def _scenario(folder: Path, kind: str, calls: int) -> str:
    if kind == "process":
        actor = f'command = ["{{python}}", "gate_bench_calls.py", "{calls}"]'
    else:
        actor = f'function = "gate_bench_calls:calls"\nargs = {{ n = {calls} }}'
    path = folder / f"{kind}-{calls}.toml"
    path.write_text(WORLD.format(actor=actor))
    return str(path)


def _wall(path: str) -> float:
    result = run(RunSpec(path, seed=1))
    if result.verdict != "pass":
        sys.exit(f"{path}: {result.verdict}: {result.reason}")
    return result.wall_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dnschaos-gate-bench-"))
    (folder / "gate_bench_calls.py").write_text(SCRIPT)
    per: dict[str, list[float]] = {"in-process": [], "process": []}
    for kind in per:  # first-use costs (models, moto's backend, imports) left out
        _wall(_scenario(folder, kind, 1))
    for _ in range(args.runs):
        for kind in ("in-process", "process"):
            with_calls = _wall(_scenario(folder, kind, args.calls))
            without = _wall(_scenario(folder, kind, 0))
            per[kind].append((with_calls - without) / args.calls * 1000)
    base = statistics.median(per["in-process"])
    print(f"ListResourceRecordSets under the scheduler, {args.calls} calls, {args.runs} runs each")
    print(f"{'actor':<12} {'median ms/call':>15} {'min':>8} {'max':>8} {'ratio':>7}")
    for kind, values in per.items():
        median = statistics.median(values)
        print(
            f"{kind:<12} {median:>15.2f} {min(values):>8.2f} {max(values):>8.2f} "
            f"{median / base:>6.1f}x"
        )


if __name__ == "__main__":
    main()
