"""incident-2025 under the deterministic scheduler, and the yield points at the AWS boundary."""

from __future__ import annotations

import json
import os
import pathlib
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.cli import main
from dnschaos.history import History
from dnschaos.runner import run
from dnschaos.sim.clock import INCIDENT_EPOCH
from dnschaos.sim.hooks import instrument
from dnschaos.sim.scheduler import Actor, Scheduler, Stop

INCIDENT = "incident-2025"


class _Spy:
    """A strategy that looks at Route 53 every time the scheduler decides."""

    name = "spy"

    def __init__(self, target: Any, zone_id: str) -> None:
        self.target = target
        self.zone_id = zone_id
        self.seen: list[tuple[str, bool]] = []

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        names = {r.name for r in self.target.strict_route53().records(self.zone_id)}
        self.seen.append((ready[0].label, "new.spy.test." in names))
        return ready[0]


def test_the_yield_happens_before_motos_handler_changes_state() -> None:
    history = History(INCIDENT_EPOCH)
    with open_target(TargetSpec("moto"), clock=_ClockStub()) as target:
        r53 = target.client("route53")
        zone_id = r53.create_hosted_zone(Name="spy.test.", CallerReference="spy")["HostedZone"][
            "Id"
        ].split("/")[-1]
        spy = _Spy(target, zone_id)
        scheduler = Scheduler(spy)
        actor_client = target.client("route53", actor="writer")
        instrument(
            actor_client,
            scheduler,
            history,
            actor="writer",
            rng=random.Random(1),
            clock=scheduler.clock,
        )

        def write() -> None:
            actor_client.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "CREATE",
                            "ResourceRecordSet": {
                                "Name": "new.spy.test.",
                                "Type": "A",
                                "TTL": 60,
                                "ResourceRecords": [{"Value": "192.0.2.1"}],
                            },
                        }
                    ]
                },
            )

        scheduler.spawn("writer", write)
        assert scheduler.run().stop == Stop.FINISHED
    assert ("call route-53.ChangeResourceRecordSets", False) in spy.seen, "paused before the write"
    assert ("done route-53.ChangeResourceRecordSets", True) in spy.seen, "the write landed after"
    invoke = next(e for e in history if e["kind"] == "invoke")
    assert invoke["params"]["changes"] == ["CREATE new.spy.test. A 192.0.2.1"]


class _ClockStub:
    def now(self) -> float:
        return INCIDENT_EPOCH

    def sleep(self, seconds: float) -> None:
        raise AssertionError("nothing sleeps here")


def test_same_seed_same_digest_and_other_seed_other_interleaving() -> None:
    a = run(INCIDENT, variant="legacy", seed=21)
    b = run(INCIDENT, variant="legacy", seed=21)
    c = run(INCIDENT, variant="legacy", seed=22)
    assert a.trace_digest == b.trace_digest
    assert a.history.jsonl() == b.history.jsonl()
    assert [x.actor for x in a.choices] != [x.actor for x in c.choices]


def test_the_strategy_decides_the_interleaving_not_only_the_latencies() -> None:
    # Actors due within the scenario's quantum compete; the strategy orders them.
    by_random = run(INCIDENT, variant="safe", seed=4, strategy="random")
    by_pct = run(INCIDENT, variant="safe", seed=4, strategy="pct")
    assert by_random.trace_digest != by_pct.trace_digest
    assert by_random.verdict == by_pct.verdict == "pass"


def test_history_is_byte_identical_across_processes(tmp_path: pathlib.Path) -> None:
    exe = pathlib.Path(sys.executable).with_name("dnschaos")
    outs = []
    for hashseed in ("0", "4242"):
        path = tmp_path / f"h{hashseed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        proc = subprocess.run(
            [
                str(exe),
                "run",
                "incident-2025",
                "--variant",
                "legacy",
                "--seed",
                "5",
                "--history",
                str(path),
                "-q",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 1, proc.stderr
        outs.append(path.read_bytes())
    assert outs[0] == outs[1]


def test_replay_reproduces_a_legacy_violation_exactly(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    assert (
        main(
            [
                "run",
                "incident-2025",
                "--variant",
                "legacy",
                "--seed",
                "7",
                "--strategy",
                "pct",
                "--json",
                str(out),
            ]
        )
        == 1
    )
    recorded = json.loads(out.read_text())
    assert recorded["spec"]["strategy"] == "pct" and recorded["verdict"] == "fail"
    assert recorded["spec"]["seed"] == 7
    assert {
        "verdict",
        "violations",
        "spec",
        "choices",
        "trace_digest",
        "steps",
        "virtual_seconds",
        "wall_seconds",
    } <= set(recorded)
    capsys.readouterr()
    replayed = tmp_path / "replayed.json"
    assert main(["replay", str(out), "--json", str(replayed)]) == 1
    assert "replay matches the recording" in capsys.readouterr().out
    again = json.loads(replayed.read_text())
    assert again["trace_digest"] == recorded["trace_digest"]
    assert again["violations"] == recorded["violations"]


def test_replay_that_diverges_names_the_step_and_actor(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    main(["run", "incident-2025", "--variant", "legacy", "--seed", "7", "--json", str(out), "-q"])
    recorded = json.loads(out.read_text())
    recorded["choices"][40][1] = "call dynamodb.DeleteTable"
    out.write_text(json.dumps(recorded))
    capsys.readouterr()
    assert main(["replay", str(out)]) == 3
    err = capsys.readouterr().err
    actor = recorded["choices"][40][0]
    assert f"replay diverged at step 40, actor {actor}" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "incident-2025", "--strategy", "bfs"],
            "--strategy 'bfs': choose one of random, pct, delay, dfs",
        ),
        (["run", "incident-2025", "--strategy", "replay"], "to replay, use 'dnschaos replay FILE'"),
        (
            ["run", "incident-2025", "--clock", "wall"],
            "--clock 'wall': unknown; choose one of sim, real",
        ),
        (["run", "incident-2025", "--runs", "0"], "--runs 0: must be at least 1"),
        (["replay", "/no/such/result.json"], "no such file"),
    ],
)
def test_bad_simulation_flags_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def _verdict(job: tuple[str, int]) -> str:
    variant, seed = job
    return run(INCIDENT, variant=variant, seed=seed).verdict


def test_legacy_violates_on_at_least_95_of_seeds_1_to_100_and_safe_on_none() -> None:
    jobs = [(v, s) for v in ("legacy", "safe") for s in range(1, 101)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        verdicts = dict(zip(jobs, pool.map(_verdict, jobs, chunksize=5), strict=True))
    legacy_fail = sum(1 for (v, _), r in verdicts.items() if v == "legacy" and r == "fail")
    safe_bad = sorted(s for (v, s), r in verdicts.items() if v == "safe" and r != "pass")
    assert legacy_fail >= 95, f"legacy violated on only {legacy_fail} of 100 seeds"
    assert safe_bad == [], f"safe did not pass on seeds {safe_bad}"


@pytest.mark.parametrize(("variant", "verdict"), [("legacy", "fail"), ("safe", "pass")])
def test_real_clock_runs_the_same_actors_as_free_threads(variant: str, verdict: str) -> None:
    result = run(INCIDENT, variant=variant, seed=3, clock="real", time_scale=0.02)
    assert result.clock == "real" and result.choices == []
    assert result.verdict == verdict, result.reason


def _throttled_run(seed: int) -> tuple[float, float, list[str]]:
    """One actor's call is throttled twice by a handler ahead of moto; botocore retries."""
    from botocore.awsrequest import AWSResponse

    history = History(INCIDENT_EPOCH)
    scheduler = Scheduler(_First())
    with open_target(TargetSpec("moto", max_attempts=5), clock=scheduler.clock) as target:
        ddb = target.client("dynamodb", actor="caller")
        instrument(
            ddb, scheduler, history, actor="caller", rng=random.Random(seed), clock=scheduler.clock
        )
        throttles = [2]

        class _Raw:
            def stream(self, **_: Any) -> Any:
                yield b""

        def throttle(request: Any, **_: Any) -> AWSResponse | None:
            if throttles[0] == 0:
                return None
            throttles[0] -= 1
            body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}'
            response = AWSResponse(
                request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw()
            )
            response._content = body
            return response

        ddb.meta.events.register_first("before-send.dynamodb", throttle)
        scheduler.spawn("caller", lambda: ddb.list_tables())
        start = time.monotonic()
        result = scheduler.run()
        wall = time.monotonic() - start
    assert result.stop == Stop.FINISHED, result.reason
    sleeps = [c.label for c in result.choices if c.label.startswith("sleep")]
    return result.virtual_seconds, wall, sleeps


class _First:
    name = "first"

    def choose(self, step: int, ready: list[Actor]) -> Actor:
        return ready[0]


def test_botocore_retries_wait_on_the_virtual_clock_with_seeded_jitter() -> None:
    virtual, wall, sleeps = _throttled_run(seed=1)
    assert len(sleeps) == 2, "two throttles, two retry waits"
    assert virtual > 0 and wall < 5
    again = _throttled_run(seed=1)
    assert again[2] == sleeps, "the jitter comes from the actor's seeded generator"
    assert _throttled_run(seed=2)[2] != sleeps
