"""Scheduler overhead per AWS call: the same calls on one thread, directly and under the scheduler.

Both halves run in the same process, in alternation, against in-process moto with
the strict Route 53 layer: a lock read (ListResourceRecordSets with a start name)
and a lock renewal (ChangeResourceRecordSets) per iteration. Under the scheduler
the calls are made by one actor, so every call goes through its two yield points
and a thread handoff each; there is no latency and no contention.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.history import History
from dnschaos.sim.clock import INCIDENT_EPOCH, ManualClock
from dnschaos.sim.hooks import instrument
from dnschaos.sim.scheduler import Limits, Scheduler
from dnschaos.sim.strategies import RandomStrategy

ZONE = "bench.chaos.test."


def _calls(r53: Any, zone_id: str, n: int) -> None:
    value = '"holder=bench expires=0"'
    for i in range(n):
        r53.list_resource_record_sets(
            HostedZoneId=zone_id,
            StartRecordName=f"_lock.{ZONE}",
            StartRecordType="TXT",
            MaxItems="1",
        )
        new = f'"holder=bench expires={i + 1}"'
        r53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "DELETE",
                        "ResourceRecordSet": {
                            "Name": f"_lock.{ZONE}",
                            "Type": "TXT",
                            "TTL": 1,
                            "ResourceRecords": [{"Value": value}],
                        },
                    },
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": f"_lock.{ZONE}",
                            "Type": "TXT",
                            "TTL": 1,
                            "ResourceRecords": [{"Value": new}],
                        },
                    },
                ]
            },
        )
        value = new


def _setup(target: Any) -> str:
    r53 = target.client("route53")
    zone_id = r53.create_hosted_zone(Name=ZONE, CallerReference="bench")["HostedZone"]["Id"].split(
        "/"
    )[-1]
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"_lock.{ZONE}",
                        "Type": "TXT",
                        "TTL": 1,
                        "ResourceRecords": [{"Value": '"holder=bench expires=0"'}],
                    },
                }
            ]
        },
    )
    return str(zone_id)


def direct(n: int) -> float:
    with open_target(TargetSpec("moto"), clock=ManualClock()) as target:
        zone_id = _setup(target)
        r53 = target.client("route53", actor="direct")
        start = time.perf_counter()
        _calls(r53, zone_id, n)
        return (time.perf_counter() - start) / (2 * n)


def scheduled(n: int) -> float:
    scheduler = Scheduler(RandomStrategy(random.Random(1)), limits=Limits(max_wall_seconds=600))
    history = History(INCIDENT_EPOCH)
    with open_target(TargetSpec("moto"), clock=scheduler.clock) as target:
        zone_id = _setup(target)
        r53 = target.client("route53", actor="actor")
        instrument(
            r53, scheduler, history, actor="actor", rng=random.Random(1), clock=scheduler.clock
        )
        elapsed: list[float] = []

        def body() -> None:
            start = time.perf_counter()
            _calls(r53, zone_id, n)
            elapsed.append(time.perf_counter() - start)

        scheduler.spawn("actor", body)
        scheduler.run()
        return elapsed[0] / (2 * n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--calls", type=int, default=300, help="iterations (2 calls each) per sample")
    p.add_argument("--runs", type=int, default=5, help="samples of each (at least 5)")
    args = p.parse_args()
    d: list[float] = []
    s: list[float] = []
    for _ in range(args.runs):  # alternate, so drift on a noisy machine hits both alike
        d.append(direct(args.calls))
        s.append(scheduled(args.calls))
    md, ms = statistics.median(d), statistics.median(s)
    print(
        f"direct    per call: median {md * 1e3:.3f} ms  min {min(d) * 1e3:.3f}  max {max(d) * 1e3:.3f}  (n={args.runs})"
    )
    print(
        f"scheduled per call: median {ms * 1e3:.3f} ms  min {min(s) * 1e3:.3f}  max {max(s) * 1e3:.3f}  (n={args.runs})"
    )
    print(
        f"overhead: {100 * (ms - md) / md:+.1f}% of moto's own per-call cost (target: at most +10%)"
    )


if __name__ == "__main__":
    main()
