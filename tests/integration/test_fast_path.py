"""The fast path (adapters/aws/target.py, moto_dispatch.py, route53/wire.py, dynamodb/wire.py)
changes no run.

Runs of a sample of scenarios, variants, strategies and seeds give the same trace
digest with the fast path on and off; the strict layer's answers at before-send
parse to what moto's HTTP emulation answers; and a client reused by a second run
keeps nothing of the first.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dnschaos.adapters.aws import target as aws
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.dynamodb import wire as dynamodb_wire
from dnschaos.adapters.route53 import wire as route53_wire
from dnschaos.history import History
from dnschaos.runner import run
from dnschaos.sim.clock import ManualClock
from dnschaos.sim.hooks import instrument

ROOT = pathlib.Path(__file__).resolve().parents[2]
OPS = ROOT / "examples" / "ops_script.toml"

# (scenario, fields of the RunSpec, the digest's known start or None)
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("incident-2025", {"variant": "legacy", "seed": 7}, "0471fe57b1033f33"),
    ("incident-2025", {"variant": "safe", "seed": 7}, "601d9ad3"),
    ("steady-state", {"variant": "legacy", "seed": 3}, "a4e9832d"),
    ("incident-2025-dns", {"variant": "legacy", "seed": 4}, "80200a13"),
    ("incident-2025", {"variant": "safe", "seed": 11, "strategy": "pct", "pct_depth": 2}, None),
    ("steady-state", {"variant": "legacy", "seed": 5, "strategy": "delay", "delays": 2}, None),
    (str(OPS), {"seed": 2}, None),
]


@pytest.fixture
def fast_setting() -> Iterator[None]:
    yield
    aws.set_fast_path(None)


def _digest(scenario: str, fields: dict[str, Any], fast: bool) -> tuple[str, str]:
    aws.set_fast_path(fast)
    result = run(scenario, **fields)
    return result.trace_digest, result.verdict


@pytest.mark.parametrize(("scenario", "fields", "known"), CASES, ids=lambda c: str(c)[:40])
def test_the_fast_path_gives_the_same_trace_digest(
    fast_setting: None,
    scenario: str,
    fields: dict[str, Any],
    known: str | None,
) -> None:
    answered: dict[str, list[bool]] = {"route53": [], "dynamodb": []}
    originals = {"route53": route53_wire.answer, "dynamodb": dynamodb_wire.answer}

    def counting(service: str) -> Any:
        def answer(request: Any) -> Any:
            out = originals[service](request)
            answered[service].append(out is not None)
            return out

        return answer

    route53_wire.answer = counting("route53")
    dynamodb_wire.answer = counting("dynamodb")
    try:
        fast = _digest(scenario, fields, True)
    finally:
        route53_wire.answer = originals["route53"]
        dynamodb_wire.answer = originals["dynamodb"]
    slow = _digest(scenario, fields, False)
    assert fast == slow
    if known is not None:
        assert fast[0].startswith(known)
    assert any(answered["route53"]), "the fast path answered no Route 53 read"
    assert any(answered["dynamodb"]), "the fast path answered no DynamoDB call"


# A dnschaos command line that counts the requests the strict layer answered at before-send.
_PROBE = """
import sys
from dnschaos.adapters.dynamodb import wire as dynamodb_wire
from dnschaos.adapters.route53 import wire as route53_wire
from dnschaos.cli import main

answered = []
original = route53_wire.answer
route53_wire.answer = lambda request: answered.append(request) or original(request)
code = main(sys.argv[1:])
print(f"answered at before-send: {len(answered)}", file=sys.stderr)
sys.exit(code)
"""


def test_dnschaos_fast_in_the_environment_turns_the_fast_path_off_and_on(
    tmp_path: pathlib.Path,
) -> None:
    answered = {}
    for setting in ("0", "1"):
        out = tmp_path / f"fast-{setting}.json"
        args = ["run", "incident-2025", "--variant", "legacy", "--seed", "7"]
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *args, "--json", str(out), "-q"],
            capture_output=True,
            text=True,
            env={**os.environ, "DNSCHAOS_FAST": setting},
            timeout=300,
        )
        assert done.returncode == 1, done.stderr
        assert json.loads(out.read_text())["trace_digest"].startswith("0471fe57b1033f33")
        answered[setting] = int(done.stderr.rsplit(":", 1)[-1])
    assert answered["0"] == 0 and answered["1"] > 100
    bad = subprocess.run(
        [sys.executable, "-m", "dnschaos.cli", "run", "incident-2025", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "DNSCHAOS_FAST": "yes"},
        timeout=300,
    )
    assert bad.returncode == 2
    assert "DNSCHAOS_FAST='yes'" in bad.stderr and "Traceback" not in bad.stderr


def _zone(client: Any) -> str:
    zone: str = client.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"][
        "Id"
    ]
    rr = [
        {
            "Name": "a.example.com",
            "Type": "A",
            "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}],
        },
        {
            "Name": "t.example.com",
            "Type": "TXT",
            "TTL": 30,
            "ResourceRecords": [{"Value": '"a<&>b" "c\\"d"'}, {"Value": '"x"'}],
        },
        {
            "Name": "\\052.example.com",
            "Type": "CNAME",
            "TTL": 5,
            "ResourceRecords": [{"Value": "a.example.com"}],
        },
        {
            "Name": "al.example.com",
            "Type": "A",
            "AliasTarget": {
                "HostedZoneId": zone.split("/")[-1],
                "DNSName": "a.example.com",
                "EvaluateTargetHealth": True,
            },
        },
    ] + [
        {
            "Name": "w.example.com",
            "Type": "A",
            "SetIdentifier": f"s{i}",
            "Weight": i,
            "TTL": 60,
            "ResourceRecords": [{"Value": f"192.0.2.{10 + i}"}],
        }
        for i in range(4)
    ]
    client.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Comment": "set-up & <more>",
            "Changes": [{"Action": "CREATE", "ResourceRecordSet": r} for r in rr],
        },
    )
    return zone


def _rrset(name: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}], **extra}


def _session(fast: bool) -> tuple[list[Any], list[bool]]:
    """One sequence of Route 53 calls on fresh moto state: every answer, and which calls
    were answered at before-send."""
    aws.set_fast_path(fast)
    clock = ManualClock(1_761_000_000.25)
    answers: list[Any] = []
    answered: list[bool] = []
    original = route53_wire.answer

    def counting(request: Any) -> Any:
        out = original(request)
        answered.append(out is not None)
        return out

    with open_target(TargetSpec("moto"), clock=clock, propagation_delay=30.0, seed=3) as target:
        client = target.client("route53", actor="probe")
        zone = _zone(client)
        route53_wire.answer = counting

        def call(method: str, **params: Any) -> Any:
            try:
                answer = getattr(client, method)(**params)
            except ClientError as error:
                answer = error.response
            answer["ResponseMetadata"]["HTTPHeaders"].pop("date")  # wall time
            answers.append(answer)
            return answer

        def change(*changes: tuple[str, dict[str, Any]], **batch: Any) -> Any:
            batch["Changes"] = [{"Action": a, "ResourceRecordSet": r} for a, r in changes]
            return call("change_resource_record_sets", HostedZoneId=zone, ChangeBatch=batch)

        try:
            for params in (
                {},
                {"MaxItems": "2"},
                {"MaxItems": "1"},
                {"StartRecordName": "w.example.com", "StartRecordType": "A", "MaxItems": "2"},
                {
                    "StartRecordName": "w.example.com",
                    "StartRecordType": "A",
                    "StartRecordIdentifier": "s2",
                },
                {"StartRecordName": "\\052.example.com", "StartRecordType": "CNAME"},
                {"StartRecordName": "zzz.example.com"},  # past the end: an empty page
                {"StartRecordName": "T.EXAMPLE.COM.", "StartRecordType": "TXT", "MaxItems": "300"},
            ):
                call("list_resource_record_sets", HostedZoneId=zone, **params)
            moved = change(("UPSERT", _rrset("a.example.com", "192.0.2.2")), Comment="a & <b>")
            for when in (0.0, 29.5, 30.0):
                clock.advance_to(1_761_000_000.25 + when)
                call("get_change", Id=moved["ChangeInfo"]["Id"])
            change(
                ("DELETE", _rrset("w.example.com", "192.0.2.11", SetIdentifier="s1", Weight=1)),
                ("CREATE", _rrset("n.example.com", "192.0.2.9")),
            )
            # Refused batches, each checked whole: the strict layer's errors, rendered by moto.
            change(("DELETE", _rrset("a.example.com", "192.0.2.99")))  # values do not match
            change(("CREATE", _rrset("n.example.com", "192.0.2.9")))  # already exists
            change(("CREATE", _rrset("bad.example.com", "999.1.1.1")))
            change(("UPSERT", _rrset("x.example.org", "192.0.2.1")))  # outside the zone
            # An element the strict layer does not read: the batch is moto's to parse.
            change(
                (
                    "UPSERT",
                    _rrset("r.example.com", "192.0.2.3", SetIdentifier="r", Region="us-east-1"),
                )
            )
            change(("UPSERT", _rrset("sp.example.com", " 192.0.2.4")))  # a space moto keeps
            call("get_change", Id="C0000000000000")
            call("list_resource_record_sets", HostedZoneId="Z0NOSUCHZONE")
            call("list_resource_record_sets", HostedZoneId=zone)
        finally:
            route53_wire.answer = original
    return answers, answered


_MISSING = object()


def _difference(fast: Any, slow: Any, where: str = "") -> str:
    """The first field at which two parsed answers differ, named by its path."""
    if isinstance(fast, dict) and isinstance(slow, dict):
        for key in sorted({*fast, *slow}, key=str):
            a, b = fast.get(key, _MISSING), slow.get(key, _MISSING)
            if a != b:
                return _difference(a, b, f"{where}.{key}" if where else str(key))
    elif isinstance(fast, list) and isinstance(slow, list) and len(fast) == len(slow):
        for n, (a, b) in enumerate(zip(fast, slow, strict=True)):
            if a != b:
                return _difference(a, b, f"{where}[{n}]")

    def shown(value: Any) -> str:
        return "absent" if value is _MISSING else repr(value)

    return f"{where or 'the answer'}: fast path {shown(fast)}, moto {shown(slow)}"


def test_difference_names_the_field_that_differs() -> None:
    fast = {"ResponseMetadata": {"HTTPHeaders": {"server": "amazon.com"}}, "Items": [1, 2]}
    slow = {"ResponseMetadata": {"HTTPHeaders": {"server": "amazon.com", "status": "200"}}}
    slow["Items"] = [1, 2]
    assert _difference(fast, slow) == (
        "ResponseMetadata.HTTPHeaders.status: fast path absent, moto '200'"
    )
    assert _difference({"Items": [1, 2]}, {"Items": [1, 3]}) == "Items[1]: fast path 2, moto 3"
    assert _difference({"Items": [1]}, {"Items": [1, 3]}) == "Items: fast path [1], moto [1, 3]"


def test_the_strict_layers_answers_at_before_send_parse_as_moto_would(fast_setting: None) -> None:
    fast, answered = _session(True)
    slow, _ = _session(False)
    assert len(fast) == len(slow) == 22
    for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
        # Request ids too: both drew them from moto's seeded generator.
        assert a == b, f"answer {i}: {_difference(a, b)}"
    # Six refused batches and two unknown ids: moto renders every error.
    assert sum(1 for a in fast if "Error" in a) == 8
    assert answered.count(True) == 22 - 8


def test_a_client_reused_by_a_second_run_keeps_nothing_of_the_first(fast_setting: None) -> None:
    aws.set_fast_path(True)
    clock = ManualClock(1_761_000_000.0)
    seen: list[tuple[int, str]] = []
    runs = []
    for n in (1, 2):
        with open_target(TargetSpec("moto"), clock=clock, seed=n) as target:
            client = target.client("route53", actor="enactor-1")
            retry = client.meta.events._emitter._unique_id_handlers["retry-config-route-53"]
            history = History(clock.now())
            instrument(client, None, history, actor="enactor-1", rng=random.Random(n), clock=clock)

            def mark(n: int = n, **kwargs: Any) -> None:
                seen.append((n, kwargs["event_name"]))

            # What user code might register on its client.
            client.meta.events.register("before-call.route53", mark)
            runs.append((client, history, retry["handler"].__self__))
            client.list_hosted_zones()
    (first, history1, retry1), (second, history2, retry2) = runs
    if aws._retry_parts(first, "route-53") is not None:
        assert second is first  # the same client object, leased again
    else:
        # A botocore whose retry wiring the pool does not know (1.34 has no
        # seed-max-attempts handler): each run gets a client of its own instead.
        assert second is not first
    assert [e["kind"] for e in history1] == ["invoke", "complete"]
    assert [e["kind"] for e in history2] == ["invoke", "complete"]
    assert seen == [
        (1, "before-call.route-53.ListHostedZones"),
        (2, "before-call.route-53.ListHostedZones"),
    ]
    # A fresh retry handler: its quota and its jitter generator are the second run's own.
    assert retry2 is not retry1
    assert retry2._retry_quota is not retry1._retry_quota


def test_two_targets_open_at_once_do_not_share_a_client(fast_setting: None) -> None:
    aws.set_fast_path(True)
    clock = ManualClock(0.0)
    with open_target(TargetSpec("moto"), clock=clock) as outer:
        a = outer.client("dynamodb", actor="x")
        # moto's state is one per process, but the lease must still be one per target.
        inner = aws.AwsTarget(outer.spec, outer._session, fast=True)
        b = inner.client("dynamodb", actor="x")
        inner.close()
        assert a is not b


def test_a_client_the_pool_cannot_reset_is_used_once_and_dropped(
    fast_setting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A botocore whose retry wiring the pool does not know (1.34 is one): the run gets a
    client of its own, and giving it back at the end of the run is not an error."""
    monkeypatch.setattr(aws, "_pool", {})  # no client pooled by an earlier test
    monkeypatch.setattr(aws, "_retry_parts", lambda client, service_event: None)
    aws.set_fast_path(True)
    clock = ManualClock(1_761_000_000.0)
    clients = []
    for n in (1, 2):
        with open_target(TargetSpec("moto"), clock=clock, seed=n) as target:
            client = target.client("route53", actor="enactor-1")
            client.list_hosted_zones()
            clients.append(client)
    assert clients[1] is not clients[0]  # not pooled
