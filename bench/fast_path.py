"""The fast path against DNSCHAOS_FAST=0: schedules per second, and CPU per AWS call.

``schedules``: for each scenario, one schedule per seed with the fast path on and
one with it off, alternating in the same process (the setting is switched between
runs), the same seeds both ways. A schedule's cost is the CPU time of the whole
process (every thread) from the start of the run to its verdict; schedules per
second on one core is its inverse. Both ways must give the same trace digest.

``calls``: CPU per call by operation, with no scheduler and no hooks, for
* the botocore floor: a boto3 client whose ``before-send`` hands back a recorded
  answer (serialising the request, events and parsing the answer, nothing else),
* plain moto + boto3: moto's mock with its own Route 53 handlers, signed requests,
* dnschaos with ``DNSCHAOS_FAST=0`` and with the fast path (strict layer on both).

The floor per schedule is the sum, over a schedule's calls (counted in the runs
of ``schedules``), of the floor per call of its operation.
"""

from __future__ import annotations

import argparse
import collections
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from dnschaos.adapters.aws import target as aws
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.runner import run
from dnschaos.sim.clock import INCIDENT_EPOCH, ManualClock

SCENARIOS = (("steady-state", "legacy"), ("incident-2025", "safe"))
ZONE = "bench.chaos.test."
TABLE = "bench-plans"


def _stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def schedules(runs: int, first_seed: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for scenario, variant in SCENARIOS:
        cpu: dict[bool, list[float]] = {True: [], False: []}
        wall: dict[bool, list[float]] = {True: [], False: []}
        ops: collections.Counter[str] = collections.Counter()
        for fast in (True, False):  # warm up both: imports, the first session, the pool
            aws.set_fast_path(fast)
            run(scenario, variant=variant, seed=first_seed + runs)
        for i in range(runs):
            seed = first_seed + i
            digests = {}
            # Alternate which goes first, so drift in the machine's load hits both alike.
            for fast in (True, False) if i % 2 == 0 else (False, True):
                aws.set_fast_path(fast)
                c0, w0 = time.process_time(), time.perf_counter()
                result = run(scenario, variant=variant, seed=seed)
                cpu[fast].append(time.process_time() - c0)
                wall[fast].append(time.perf_counter() - w0)
                digests[fast] = result.trace_digest
                if fast:
                    ops.update(e["op"] for e in result.history if e["kind"] == "invoke")
            if digests[True] != digests[False]:
                raise SystemExit(f"{scenario} seed {seed}: the digests differ: {digests}")
        aws.set_fast_path(None)
        out[f"{scenario} {variant}"] = {
            "fast_rate": [1 / c for c in cpu[True]],
            "slow_rate": [1 / c for c in cpu[False]],
            "fast_wall": wall[True],
            "slow_wall": wall[False],
            "ops_per_run": {op: n / runs for op, n in ops.items()},
        }
    return out


# --------------------------------------------------------------------------- per call


def _zone_and_table(r53: Any, ddb: Any) -> str:
    zone: str = r53.create_hosted_zone(Name=ZONE, CallerReference="bench")["HostedZone"]["Id"]
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"lb{i}.{ZONE}",
                "Type": "A",
                "SetIdentifier": f"lb{i}",
                "Weight": 10,
                "TTL": 60,
                "ResourceRecords": [{"Value": f"192.0.2.{i + 1}"}],
            },
        }
        for i in range(8)
    ]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "g", "KeyType": "HASH"},
            {"AttributeName": "n", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(5):
        ddb.put_item(TableName=TABLE, Item={"g": {"S": "main"}, "n": {"N": str(n)}})
    return zone


def _operations(r53: Any, ddb: Any, zone: str) -> dict[str, Callable[[int], Any]]:
    change = r53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": f"_lock.{ZONE}",
                        "Type": "TXT",
                        "TTL": 1,
                        "ResourceRecords": [{"Value": '"holder=none"'}],
                    },
                }
            ]
        },
    )["ChangeInfo"]["Id"]

    def upsert(i: int) -> Any:
        record = {"Name": f"_lock.{ZONE}", "Type": "TXT", "TTL": 1}
        record["ResourceRecords"] = [{"Value": f'"holder=bench n={i}"'}]
        return r53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
        )

    return {
        "ListResourceRecordSets": lambda i: r53.list_resource_record_sets(HostedZoneId=zone),
        "GetChange": lambda i: r53.get_change(Id=change),
        "ChangeResourceRecordSets": upsert,
        "Query": lambda i: ddb.query(
            TableName=TABLE,
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "main"}},
            ScanIndexForward=False,
            Limit=3,
        ),
        "PutItem": lambda i: ddb.put_item(
            TableName=TABLE, Item={"g": {"S": "main"}, "n": {"N": str(100 + i)}}
        ),
    }


@contextmanager
def _dnschaos(fast: bool) -> Iterator[tuple[Any, Any]]:
    aws.set_fast_path(fast)
    with open_target(TargetSpec("moto"), clock=ManualClock(INCIDENT_EPOCH), seed=1) as target:
        yield target.client("route53", actor="bench"), target.client("dynamodb", actor="bench")
    aws.set_fast_path(None)


def _config(**extra: Any) -> Config:
    return Config(
        region_name="us-east-1", retries={"mode": "standard", "total_max_attempts": 3}, **extra
    )


@contextmanager
def _plain_moto() -> Iterator[tuple[Any, Any]]:
    from moto import mock_aws

    aws.set_fast_path(False)  # the harness's moto wrapper then only takes its lock
    session = aws._hermetic_session("us-east-1")  # signed, as a plain boto3 client is
    with mock_aws():
        yield (
            session.client("route53", config=_config()),
            session.client("dynamodb", config=_config()),
        )
    aws.set_fast_path(None)


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@contextmanager
def _floor(recorded: dict[str, tuple[int, dict[str, str], bytes]]) -> Iterator[tuple[Any, Any]]:
    """boto3 clients that never reach moto: before-send hands back a recorded answer."""
    session = aws._hermetic_session("us-east-1")
    clients = []
    for service in ("route53", "dynamodb"):
        client = session.client(service, config=_config(signature_version=UNSIGNED))

        def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
            status, headers, body = recorded[event_name.rsplit(".", 1)[-1]]
            response = AWSResponse(request.url, status, headers, _Body(body))  # type: ignore[arg-type]
            return response

        client.meta.events.register_first(f"before-send.{service}", answer)
        clients.append(client)
    yield clients[0], clients[1]


def _record(r53: Any, ddb: Any, recorded: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
    """Keep the last answer to each operation, for the floor to hand back."""

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        recorded[model.name] = (
            http_response.status_code,
            dict(http_response.headers),
            http_response.content,
        )

    for client in (r53, ddb):
        client.meta.events.register("after-call", keep, unique_id="bench-record")


def calls(n: int, samples: int) -> dict[str, dict[str, list[float]]]:
    """CPU microseconds per call: {mode: {operation: [sample, ...]}}."""
    per: dict[str, dict[str, list[float]]] = collections.defaultdict(
        lambda: collections.defaultdict(list)
    )
    recorded: dict[str, tuple[int, dict[str, str], bytes]] = {}
    modes: dict[str, Callable[[], Any]] = {
        "plain moto + boto3": _plain_moto,
        "DNSCHAOS_FAST=0": lambda: _dnschaos(False),
        "fast path": lambda: _dnschaos(True),
        "botocore floor": lambda: _floor(recorded),
    }
    for _ in range(samples):
        for mode, opened in modes.items():
            with opened() as (r53, ddb):
                if mode == "botocore floor":
                    zone = "/hostedzone/ZBENCH"
                    operations = _operations(r53, ddb, zone)
                else:
                    if mode == "fast path":
                        _record(r53, ddb, recorded)
                    zone = _zone_and_table(r53, ddb)
                    operations = _operations(r53, ddb, zone)
                for op, call in operations.items():
                    call(0)
                    gc.collect()  # the garbage of the modes before is not this one's cost
                    start = time.process_time()
                    for i in range(n):
                        call(i + 1)
                    per[mode][op].append((time.process_time() - start) / n * 1e6)
    return per


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(
        "--runs", type=int, default=5, help="schedules each way per scenario (default 5)"
    )
    p.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    p.add_argument("--calls", type=int, default=200, help="calls per sample and operation")
    p.add_argument("--samples", type=int, default=3, help="per-call samples per mode")
    p.add_argument("--skip-calls", action="store_true", help="schedules only")
    args = p.parse_args()
    results = schedules(args.runs, args.seed)
    print(f"## Schedules per second on one core (CPU time), {args.runs} runs each way\n")
    print(
        "| scenario | DNSCHAOS_FAST=0: median (min-max) | fast path: median (min-max) | ratio of medians |"
    )
    print("|---|---|---|---|")
    for name, r in results.items():
        slow, fast = _stats(r["slow_rate"]), _stats(r["fast_rate"])
        print(
            f"| {name} | {slow[0]:.2f} ({slow[1]:.2f}-{slow[2]:.2f}) | "
            f"{fast[0]:.2f} ({fast[1]:.2f}-{fast[2]:.2f}) | **{fast[0] / slow[0]:.2f}x** |"
        )
    print("\nWall time per schedule, median (min-max), s:\n")
    for name, r in results.items():
        slow, fast = _stats(r["slow_wall"]), _stats(r["fast_wall"])
        print(
            f"- {name}: DNSCHAOS_FAST=0 {slow[0]:.2f} ({slow[1]:.2f}-{slow[2]:.2f}), "
            f"fast {fast[0]:.2f} ({fast[1]:.2f}-{fast[2]:.2f})"
        )
    if args.skip_calls:
        return 0
    per = calls(args.calls, args.samples)
    ops = list(per["fast path"])
    print(
        f"\n## CPU per call, microseconds (median of {args.samples} samples of {args.calls} calls)\n"
    )
    print("| operation | " + " | ".join(per) + " |")
    print("|---|" + "---|" * len(per))
    for op in ops:
        cells = [f"{statistics.median(per[mode][op]):.0f}" for mode in per]
        print(f"| {op} | " + " | ".join(cells) + " |")
    print("\n## The botocore floor per schedule\n")
    print(
        "| scenario | AWS calls per schedule | floor: CPU s | floor: schedules/s | fast path: schedules/s | fast / floor |"
    )
    print("|---|---|---|---|---|---|")
    floor_us = {op: statistics.median(per["botocore floor"][op]) for op in ops}
    for name, r in results.items():
        counts = r["ops_per_run"]
        # Operations not measured per call (a few set-up reads) count at the List cost.
        cost = sum(
            n * floor_us.get(op, floor_us["ListResourceRecordSets"]) for op, n in counts.items()
        )
        floor_rate = 1e6 / cost
        fast = statistics.median(r["fast_rate"])
        print(
            f"| {name} | {sum(counts.values()):.0f} | {cost / 1e6:.3f} | {floor_rate:.2f} | "
            f"{fast:.2f} | {fast / floor_rate:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
