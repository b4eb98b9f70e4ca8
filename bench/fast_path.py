"""The fast path against DNSCHAOS_FAST=0: schedules per second, and CPU per AWS call.

Three modes, measured in one process:
* ``DNSCHAOS_FAST=0``: moto's full HTTP emulation for every call;
* ``Route 53 only``: the fast path with DynamoDB left to moto (the fast path before
  DynamoDB was answered at before-send), the baseline of the DynamoDB answers;
* ``fast path``: all of it.

``schedules``: for each scenario, one schedule per seed in each mode, interleaved in
the same process (the setting is switched between runs; the order rotates from seed to
seed, so drift in the machine's load hits every mode alike), the same seeds every way.
A schedule's cost is the CPU time of the whole process (every thread) from the start
of the run to its verdict; schedules per second on one core is its inverse. Every mode
must give the same trace digest. The load average is printed before and after.

``calls``: CPU per call by operation, with no scheduler and no hooks, for
* the botocore floor: a boto3 client whose ``before-send`` hands back a recorded
  answer (serialising the request, events and parsing the answer, nothing else),
* plain moto + boto3: moto's mock with its own Route 53 handlers, signed requests,
* dnschaos in the three modes above (strict layer on all).

The floor per schedule is the sum, over a schedule's calls (counted in the runs
of ``schedules``), of the floor per call of its operation.

``replayed floor`` (the figure the target is judged by): each seed's schedule is run
once more on the fast path, untimed, recording every AWS call it makes (operation,
parameters, and the HTTP answer it got); the calls are then made again, in order, by
floor clients that hand back the recorded answers. Its CPU (median of ``--replays``) is
botocore's own work for exactly that schedule's calls and answers, against that seed's
fast-path schedule.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import gc
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from dnschaos.adapters.aws import target as aws
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.dynamodb import wire as dynamodb_wire
from dnschaos.runner import run
from dnschaos.sim.clock import INCIDENT_EPOCH, ManualClock

SCENARIOS = (("steady-state", "legacy"), ("incident-2025", "safe"))
ZONE = "bench.chaos.test."
TABLE = "bench-plans"


MODES = ("DNSCHAOS_FAST=0", "Route 53 only", "fast path")
_ANSWER = dynamodb_wire.answer


def _stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def _moto_answers(request: object) -> None:
    return None


def _mode(mode: str) -> None:
    """Switch this process to ``mode`` (between runs)."""
    aws.set_fast_path(mode != "DNSCHAOS_FAST=0")
    dynamodb_wire.answer = _moto_answers if mode == "Route 53 only" else _ANSWER


def _reset() -> None:
    aws.set_fast_path(None)
    dynamodb_wire.answer = _ANSWER


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def schedules(runs: int, first_seed: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for scenario, variant in SCENARIOS:
        cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
        wall: dict[str, list[float]] = {mode: [] for mode in MODES}
        ops: collections.Counter[str] = collections.Counter()
        for mode in MODES:  # warm up each: imports, the first session, the pool
            _mode(mode)
            run(scenario, variant=variant, seed=first_seed + runs)
        for i in range(runs):
            seed = first_seed + i
            digests = {}
            for mode in MODES[i % 3 :] + MODES[: i % 3]:
                _mode(mode)
                gc.collect()
                c0, w0 = time.process_time(), time.perf_counter()
                result = run(scenario, variant=variant, seed=seed)
                cpu[mode].append(time.process_time() - c0)
                wall[mode].append(time.perf_counter() - w0)
                digests[mode] = result.trace_digest
                if mode == "fast path":
                    ops.update(e["op"] for e in result.history if e["kind"] == "invoke")
            if len(set(digests.values())) != 1:
                raise SystemExit(f"{scenario} seed {seed}: the digests differ: {digests}")
        _reset()
        out[f"{scenario} {variant}"] = {
            "rate": {mode: [1 / c for c in cpu[mode]] for mode in MODES},
            "wall": wall,
            "ops_per_run": {op: n / runs for op, n in ops.items()},
        }
    return out


# --------------------------------------------------------------------------- replayed floor

Answer = tuple[int, dict[str, str], bytes]  # an HTTP answer: status, headers, body
Recorded = tuple[str, str, dict[str, Any], Answer]  # service, operation, parameters, answer


def record_calls(scenario: str, variant: str, seed: int) -> list[Recorded]:
    """Every AWS call of one fast-path schedule, with its HTTP answer, in order."""
    from botocore import client as botocore_client
    from botocore import endpoint as botocore_endpoint

    calls: list[Recorded] = []
    answers = threading.local()
    make_call = botocore_client.BaseClient._make_api_call  # type: ignore[attr-defined]
    to_dict = botocore_endpoint.convert_to_response_dict

    def converting(http_response: Any, operation_model: Any) -> Any:
        answers.last = (
            http_response.status_code,
            dict(http_response.headers),
            http_response.content,
        )
        return to_dict(http_response, operation_model)

    def calling(self: Any, operation: str, params: dict[str, Any]) -> Any:
        kept = copy.deepcopy(params)
        answers.last = None
        try:
            return make_call(self, operation, params)
        finally:
            if answers.last is not None:
                service = self.meta.service_model.service_name
                calls.append((service, operation, kept, answers.last))

    _mode("fast path")
    botocore_client.BaseClient._make_api_call = calling  # type: ignore[attr-defined]
    botocore_endpoint.convert_to_response_dict = converting
    try:
        run(scenario, variant=variant, seed=seed)
    finally:
        botocore_client.BaseClient._make_api_call = make_call  # type: ignore[attr-defined]
        botocore_endpoint.convert_to_response_dict = to_dict
        _reset()
    return calls


def replay_floor(calls: list[Recorded], replays: int) -> list[float]:
    """CPU seconds of making ``calls`` again with floor clients, ``replays`` times."""
    current: list[Answer] = []
    services = sorted({c[0] for c in calls})
    clients = dict(zip(services, _floor_clients(services, lambda _: current[0]), strict=True))
    out = []
    for _ in range(replays + 1):  # the first warms the clients up and is not counted
        # Copied before the clock starts: botocore's handlers may change them in place
        # (Route 53's ids lose their '/hostedzone/'), and copying is not botocore's work.
        fresh = [copy.deepcopy(c[2]) for c in calls]
        gc.collect()
        start = time.process_time()
        for (service, operation, _, recorded), params in zip(calls, fresh, strict=True):
            current[:] = [recorded]
            with contextlib.suppress(ClientError):  # an error answer is raised again
                clients[service]._make_api_call(operation, params)
        out.append(time.process_time() - start)
    return out[1:]


def replayed(results: dict[str, dict[str, Any]], replays: int, first_seed: int) -> None:
    print("\n## The replayed botocore floor of each schedule\n")
    print(
        "| scenario | seed | AWS calls | floor: CPU s, median (min-max) | fast path: CPU s | "
        "fast path / floor (rate) |"
    )
    print("|---|---|---|---|---|---|")
    for (scenario, variant), name in zip(SCENARIOS, results, strict=True):
        ratios = []
        for i, fast_rate in enumerate(results[name]["rate"]["fast path"]):
            seed = first_seed + i
            calls = record_calls(scenario, variant, seed)
            floor = replay_floor(calls, replays)
            fast = 1 / fast_rate
            ratios.append(statistics.median(floor) / fast)
            m, lo, hi = _stats(floor)
            print(
                f"| {name} | {seed} | {len(calls)} | {m:.3f} ({lo:.3f}-{hi:.3f}) | "
                f"{fast:.3f} | {ratios[-1]:.2f} |"
            )
        m, lo, hi = _stats(ratios)
        print(f"| {name} | all | | | | **{m:.2f} ({lo:.2f}-{hi:.2f})** |")


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
        "GetItem": lambda i: ddb.get_item(
            TableName=TABLE, Key={"g": {"S": "main"}, "n": {"N": "3"}}
        ),
        "PutItem": lambda i: ddb.put_item(
            TableName=TABLE,
            Item={"g": {"S": "main"}, "n": {"N": str(100 + i)}},
            ConditionExpression="attribute_not_exists(g)",
        ),
    }


@contextmanager
def _dnschaos(mode: str) -> Iterator[tuple[Any, Any]]:
    _mode(mode)
    with open_target(TargetSpec("moto"), clock=ManualClock(INCIDENT_EPOCH), seed=1) as target:
        yield target.client("route53", actor="bench"), target.client("dynamodb", actor="bench")
    _reset()


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


def _floor_clients(services: list[str], answer_to: Callable[[str], Answer]) -> list[Any]:
    """boto3 clients of ``services`` that never reach moto: before-send hands back
    ``answer_to(operation)``, a recorded answer, so only botocore's own work is left."""
    session = aws._hermetic_session("us-east-1")

    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
        status, headers, body = answer_to(event_name.rsplit(".", 1)[-1])
        return AWSResponse(request.url, status, headers, _Body(body))  # type: ignore[arg-type]

    clients = []
    for service in services:
        client = session.client(service, config=_config(signature_version=UNSIGNED))  # type: ignore[call-overload]
        client.meta.events.register_first(f"before-send.{service}", answer)
        clients.append(client)
    return clients


@contextmanager
def _floor(recorded: dict[str, Answer]) -> Iterator[tuple[Any, Any]]:
    """The floor's Route 53 and DynamoDB clients, answering each operation's last answer."""
    r53, ddb = _floor_clients(["route53", "dynamodb"], recorded.__getitem__)
    yield r53, ddb


def _record(r53: Any, ddb: Any, recorded: dict[str, Answer]) -> None:
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
    recorded: dict[str, Answer] = {}
    modes: dict[str, Callable[[], Any]] = {
        "plain moto + boto3": _plain_moto,
        "DNSCHAOS_FAST=0": lambda: _dnschaos("DNSCHAOS_FAST=0"),
        "Route 53 only": lambda: _dnschaos("Route 53 only"),
        "fast path": lambda: _dnschaos("fast path"),
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
    p.add_argument("--skip-calls", action="store_true", help="no per-call figures")
    p.add_argument(
        "--replays", type=int, default=5, help="replays of each schedule's calls (floor)"
    )
    args = p.parse_args()
    print(f"Load average at the start: {load()}\n")
    results = schedules(args.runs, args.seed)
    print(f"## Schedules per second on one core (CPU time), {args.runs} runs each way\n")
    print(
        "| scenario | " + " | ".join(f"{m}: median (min-max)" for m in MODES) + " | "
        "fast / DNSCHAOS_FAST=0 | fast / Route 53 only |"
    )
    print("|---|" + "---|" * (len(MODES) + 2))
    for name, r in results.items():
        rates = {mode: _stats(r["rate"][mode]) for mode in MODES}
        cells = [f"{m:.2f} ({lo:.2f}-{hi:.2f})" for m, lo, hi in rates.values()]
        fast = rates["fast path"][0]
        print(
            f"| {name} | " + " | ".join(cells) + f" | **{fast / rates['DNSCHAOS_FAST=0'][0]:.2f}x**"
            f" | **{fast / rates['Route 53 only'][0]:.2f}x** |"
        )
    print("\nWall time per schedule, median (min-max), s:\n")
    for name, r in results.items():
        parts = []
        for mode in MODES:
            m, lo, hi = _stats(r["wall"][mode])
            parts.append(f"{mode} {m:.2f} ({lo:.2f}-{hi:.2f})")
        print(f"- {name}: " + ", ".join(parts))
    replayed(results, args.replays, args.seed)
    if args.skip_calls:
        print(f"\nLoad average at the end: {load()}")
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
        "| scenario | AWS calls per schedule | floor: CPU s | floor: schedules/s | "
        "Route 53 only / floor | fast path / floor |"
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
        before = statistics.median(r["rate"]["Route 53 only"])
        fast = statistics.median(r["rate"]["fast path"])
        print(
            f"| {name} | {sum(counts.values()):.0f} | {cost / 1e6:.3f} | {floor_rate:.2f} | "
            f"{before / floor_rate:.2f} | {fast / floor_rate:.2f} |"
        )
    print(f"\nLoad average at the end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
