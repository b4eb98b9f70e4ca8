"""Faults at the AWS boundary: the effect on the caller and on the backend, and their heal."""

from __future__ import annotations

import pathlib
import random
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.faults import (
    Actor,
    Error,
    FaultState,
    Latency,
    Nth,
    Operation,
    Probability,
    RecordName,
    Service,
    Window,
)
from dnschaos.faults.inject import Injector, moto_deliver
from dnschaos.faults.matchers import Call
from dnschaos.history import History
from dnschaos.runner import run
from dnschaos.scenario.load import builtin_text
from dnschaos.scenario.resolve import build
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.clock import INCIDENT_EPOCH, ManualClock
from dnschaos.sim.streams import RunStreams

INCIDENT = "incident-2025"
INCIDENT_2025_EPOCH = INCIDENT_EPOCH

TABLE = "faulty"


def _incident_file(tmp_path: pathlib.Path, faults: str = "", *, keep_own: bool = False) -> str:
    """incident-2025 as a scenario file: without its own fault (unless ``keep_own``), with
    ``faults`` (``[[faults]]`` tables) added: for faults a ``--fault`` text cannot give."""
    text = builtin_text(INCIDENT)
    if not keep_own:
        text = text[: text.index("[[faults]]")]
    path = tmp_path / "incident.toml"
    path.write_text(f"{text}\n{faults}")
    return str(path)


def _duration(seconds: float) -> tuple[tuple[str, Any], ...]:
    return (("scenario.duration", seconds),)


def _call(**kw: Any) -> Call:
    base: dict[str, Any] = {
        "service": "route-53",
        "operation": "ChangeResourceRecordSets",
        "actor": "enactor-c",
        "params": {},
        "t": 10.0,
        "rng": random.Random(1),
        "counts": {},
    }
    return Call(**{**base, **kw})


def test_matchers_compose_flattened_and_read_the_call() -> None:
    m = (
        Service("route53")
        & Actor("enactor-c")
        & (Operation("ListResourceRecordSets") | Operation("ChangeResourceRecordSets"))
    )
    assert (
        str(m)
        == "(service=route53 & actor=enactor-c & (operation=ListResourceRecordSets | operation=ChangeResourceRecordSets))"
    )
    assert m.matches(_call())
    assert not m.matches(_call(actor="enactor-a"))
    assert (~Actor("enactor-c")).matches(_call(actor="enactor-a"))
    assert ~~Actor("x") == Actor("x")
    lock = RecordName("_lock.*")
    assert lock.matches(
        _call(
            params={"ChangeBatch": {"Changes": [{"ResourceRecordSet": {"Name": "_lock.d.test."}}]}}
        )
    )
    assert Window(5, 20).matches(_call()) and not Window(20).matches(_call())
    nth = Nth(2, every=3)
    counts: dict[int, int] = {}  # a run's counts: the matcher itself holds none
    assert [nth.matches(_call(counts=counts)) for _ in range(8)] == [
        False,
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    p = Probability(0.5)
    rng = random.Random(7)
    first = [p.matches(_call(rng=rng)) for _ in range(20)]
    rng = random.Random(7)
    assert [p.matches(_call(rng=rng)) for _ in range(20)] == first, (
        "seeded: the same calls every time"
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        Probability(1.5)


def _world(fault: Any, clock: ManualClock) -> tuple[Any, Any, History]:
    history = History(INCIDENT_EPOCH)
    state = FaultState([fault])
    state.activate(fault)
    injector = Injector(
        state, history=history, clock=clock, streams=RunStreams(1, []), deliver=moto_deliver
    )
    return injector, history, history


@pytest.mark.parametrize("mode", ["never-arrived", "response-lost"])
def test_error_modes_decide_whether_the_write_happens(mode: str) -> None:
    clock = ManualClock()
    with open_target(TargetSpec("moto", max_attempts=1), clock=clock) as target:
        setup = target.client("dynamodb")
        setup.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        fault = Error("boom", matcher=Operation("PutItem"), code="InternalFailure", mode=mode)
        injector, history, _ = _world(fault, clock)
        ddb = target.client("dynamodb", actor="writer")
        injector.attach(ddb, "writer")
        with pytest.raises(ClientError) as exc:
            ddb.put_item(TableName=TABLE, Item={"k": {"S": "x"}})
        assert exc.value.response["Error"]["Code"] == "InternalServerError"
        stored = setup.get_item(TableName=TABLE, Key={"k": {"S": "x"}}).get("Item")
    assert (stored is not None) == (mode == "response-lost")
    assert [e["action"] for e in history.of_kind("fault")] == ["hit"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("Throttling", "Throttling"),
        ("PriorRequestNotComplete", "PriorRequestNotComplete"),
        ("ServiceUnavailable", "ServiceUnavailable"),
    ],
)
def test_route53_errors_look_like_route53s(code: str, expected: str) -> None:
    clock = ManualClock()
    with open_target(TargetSpec("moto", max_attempts=1), clock=clock) as target:
        injector, _, _ = _world(Error("r53", matcher=Service("route53"), code=code), clock)
        r53 = target.client("route53", actor="caller")
        injector.attach(r53, "caller")
        with pytest.raises(ClientError) as exc:
            r53.list_hosted_zones()
    assert exc.value.response["Error"]["Code"] == expected


@pytest.mark.parametrize(
    ("code", "exception"),
    [("ReadTimeout", ReadTimeoutError), ("ConnectionError", EndpointConnectionError)],
)
def test_timeouts_and_connection_errors_are_botocores_own(code: str, exception: type) -> None:
    clock = ManualClock()
    with open_target(TargetSpec("moto", max_attempts=1), clock=clock) as target:
        injector, _, _ = _world(Error("net", code=code), clock)
        r53 = target.client("route53", actor="caller")
        injector.attach(r53, "caller")
        with pytest.raises(exception):
            r53.list_hosted_zones()


def test_botocore_retries_through_an_injected_throttle() -> None:
    clock = ManualClock()
    with open_target(TargetSpec("moto", max_attempts=3), clock=clock) as target:
        injector, _history, _ = _world(Error("once", matcher=Nth(1), code="Throttling"), clock)
        r53 = target.client("route53", actor="caller")
        injector.attach(r53, "caller")
        assert "HostedZones" in r53.list_hosted_zones()  # first attempt throttled, retry succeeds


@pytest.mark.parametrize("fault", ["hold", "error"])
def test_faults_at_the_send_reach_requests_that_carry_no_call_context(
    fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore 1.43 and older prepare requests without the call's context: a hold and an
    error still act on the request (they used to let it through, silently, there)."""
    from botocore.awsrequest import AWSRequestPreparer

    from dnschaos.faults import Hold

    prepare = AWSRequestPreparer.prepare

    def without_context(self: Any, original: Any) -> Any:
        prepared = prepare(self, original)
        prepared.__dict__.pop("context", None)
        return prepared

    monkeypatch.setattr(AWSRequestPreparer, "prepare", without_context)
    clock = ManualClock()
    with open_target(TargetSpec("moto", max_attempts=1), clock=clock) as target:
        chosen = (
            Hold("held", matcher=Operation("ListHostedZones"), seconds=30.0)
            if fault == "hold"
            else Error("r53", matcher=Operation("ListHostedZones"), code="Throttling")
        )
        injector, history, _ = _world(chosen, clock)
        r53 = target.client("route53", actor="caller")
        injector.attach(r53, "caller")
        start = clock.now()
        if fault == "hold":
            r53.list_hosted_zones()
            assert clock.now() - start == pytest.approx(30.0)
        else:
            with pytest.raises(ClientError) as exc:
                r53.list_hosted_zones()
            assert exc.value.response["Error"]["Code"] == "Throttling"
    assert [e["action"] for e in history.of_kind("fault")] == ["hit"]


def test_latency_before_and_after_advances_the_callers_clock() -> None:
    clock = ManualClock()
    with open_target(TargetSpec("moto"), clock=clock) as target:
        injector, _, _ = _world(Latency("slow", seconds=40.0, where="both"), clock)
        r53 = target.client("route53", actor="caller")
        injector.attach(r53, "caller")
        start = clock.now()
        r53.list_hosted_zones()
    assert clock.now() - start == pytest.approx(80.0)


def test_latency_distributions_are_seeded() -> None:
    for dist in ("uniform", "exponential", "lognormal"):
        f = Latency("d", distribution=dist, seconds=2.0, low=1.0, high=3.0)
        f.validate()
        a = [f.draw(random.Random(3)) for _ in range(3)]
        assert a == [f.draw(random.Random(3)) for _ in range(3)] and all(x >= 0 for x in a)
    with pytest.raises(ValueError, match="choose one of fixed, uniform, exponential, lognormal"):
        Latency("d", distribution="pareto").validate()


def test_faults_in_a_scheduled_run_activate_hit_and_heal_in_the_history(
    tmp_path: pathlib.Path,
) -> None:
    spec = RunSpec(
        _incident_file(tmp_path),  # these two faults instead of the scenario's own
        variant="safe",
        seed=2,
        overrides=_duration(120.0),
        faults=(
            "kind=latency,name=c-slow,actor=enactor-c,service=route53,seconds=30.0,start=10.0,end=60.0",
            "kind=lock-contention,name=phantom,endpoint=dynamodb.us-east-1.chaos.test,start=70.0,end=100.0",
        ),
    )
    result = run(spec)
    faults = result.history.of_kind("fault")
    acts = [(e["fault"], e["action"]) for e in faults if e["action"] != "hit"]
    assert acts == [
        ("c-slow", "activate"),
        ("c-slow", "heal"),
        ("phantom", "activate"),
        ("phantom", "heal"),
    ]
    hits = [e for e in faults if e["action"] == "hit"]
    assert hits and all(e["actor"] == "enactor-c" and 10 <= e["t"] < 60 for e in hits)
    # While the phantom holds the lock, every enactor that looks finds it busy.
    busy = [
        e
        for e in result.history.of_kind("event")
        if e["event"] == "lock-busy" and 70 <= e["t"] < 100
    ]
    assert busy and all(e["holder"] == "phantom" for e in busy)
    assert result.verdict == "pass"
    again = run(spec)
    assert again.trace_digest == result.trace_digest


def test_pause_until_the_planner_is_ahead(tmp_path: pathlib.Path) -> None:
    result = run(
        _incident_file(tmp_path),  # this fault instead of the scenario's own
        variant="legacy",
        seed=3,
        stop_on_violation=False,
        overrides=_duration(200.0),
        faults=(
            "kind=pause,name=stall-c,actor=enactor-c,operation=ChangeResourceRecordSets,"
            "until_plans_ahead=5,start=0.0,end=150.0",
        ),
    )
    hit = next(e for e in result.history.of_kind("fault") if e["action"] == "hit")
    resumed = next(
        e
        for e in result.history
        if e["kind"] == "complete"
        and e["actor"] == "enactor-c"
        and e["op"] == "ChangeResourceRecordSets"
        and e["seq"] > hit["seq"]
    )
    plans = [
        e["generation"]
        for e in result.history.of_kind("event")
        if e["event"] == "wrote-plan" and e["seq"] < resumed["seq"]
    ]
    before = [
        e["generation"]
        for e in result.history.of_kind("event")
        if e["event"] == "wrote-plan" and e["seq"] < hit["seq"]
    ]
    assert max(plans) >= max(before or [0]) + 5


def test_a_crashed_enactor_restarts_fresh_after_the_delay(tmp_path: pathlib.Path) -> None:
    # A crash's own key is `actor`, which a --fault text puts in the match: a [[faults]] table.
    crash = """
[[faults]]
name = "kill-a"
kind = "crash"
actor = "enactor-a"
restart_after = 20.0
start = 30.0
end = 31.0
"""
    result = run(
        _incident_file(tmp_path, crash), variant="safe", seed=5, overrides=_duration(150.0)
    )
    entries = list(result.history)
    crashed = next(e for e in entries if e["kind"] == "fault" and e.get("action") == "crashed")
    restarted = next(e for e in entries if e["kind"] == "fault" and e.get("action") == "restarted")
    assert crashed["actor"] == restarted["actor"] == "enactor-a"
    assert restarted["t"] == pytest.approx(crashed["t"] + 20.0, abs=0.01)
    # A new process remembers nothing: its first check is against no applied plan.
    first = next(
        e
        for e in entries
        if e["kind"] == "event"
        and e["actor"] == "enactor-a"
        and e["event"] == "checked-plan"
        and e["seq"] > restarted["seq"]
    )
    assert first["last_applied"] is None
    assert result.verdict == "pass", result.reason


def test_clock_skew_moves_one_actors_clock_and_the_expiry_it_writes(
    tmp_path: pathlib.Path,
) -> None:
    # A skew's own key is `actor`, which a --fault text puts in the match: a [[faults]] table,
    # after the scenario's own fault.
    skew = """
[[faults]]
name = "b-ahead"
kind = "clock-skew"
actor = "enactor-b"
offset = 120.0
start = 0.0
end = 150.0
"""
    result = run(
        _incident_file(tmp_path, skew, keep_own=True),
        variant="safe",
        seed=6,
        overrides=_duration(200.0),
    )
    entries = list(result.history)
    on = next(e["seq"] for e in entries if e["kind"] == "fault" and e["action"] == "activate")
    off = next(e["seq"] for e in entries if e["kind"] == "fault" and e["action"] == "heal")
    events = [e for e in entries if e["kind"] == "event" and on < e["seq"] < off]
    # The caller: while the fault is active, B believes it is two minutes later.
    b = [e for e in events if e["actor"] == "enactor-b"]
    assert b and all(e["believed_t"] == pytest.approx(e["t"] + 120.0, abs=0.01) for e in b)
    assert all("believed_t" not in e for e in events if e["actor"] != "enactor-b")
    # The backend: the lock B writes expires by B's clock, so everyone else finds it
    # held long after B released it (skew starves the others of the lock).
    taken = [e for e in b if e["event"] == "lock-taken"]
    assert taken and all(e["expires_at"] - INCIDENT_2025_EPOCH >= e["t"] + 120.0 for e in taken)
    busy = [
        e
        for e in events
        if e["event"] == "lock-busy" and e["actor"] != "enactor-b" and e["t"] < 150
    ]
    assert busy and all(e["holder"] == "enactor-b" for e in busy)
    after = [
        e for e in entries if e["kind"] == "event" and e["actor"] == "enactor-b" and e["seq"] > off
    ]
    assert after and all("believed_t" not in e for e in after), "healed: B's clock is right again"


def test_a_held_write_lands_after_a_later_write_from_another_actor() -> None:
    from dnschaos.faults import Hold
    from dnschaos.sim.hooks import instrument
    from dnschaos.sim.scheduler import Scheduler
    from dnschaos.sim.strategies import RandomStrategy

    scheduler = Scheduler(RandomStrategy(random.Random(1)))
    history = History(INCIDENT_EPOCH, scheduler.clock)
    with open_target(TargetSpec("moto"), clock=scheduler.clock) as target:
        setup = target.client("route53")
        zone = setup.create_hosted_zone(Name="hold.test.", CallerReference="h")["HostedZone"][
            "Id"
        ].split("/")[-1]
        hold = Hold(
            "late-write",
            matcher=Actor("slow") & Operation("ChangeResourceRecordSets"),
            seconds=10.0,
        )
        state = FaultState([hold])
        state.activate(hold)
        injector = Injector(
            state,
            history=history,
            clock=scheduler.clock,
            streams=RunStreams(1, []),
            deliver=moto_deliver,
        )

        def writer(name: str, value: str, delay: float) -> Any:
            client = target.client("route53", actor=name)
            instrument(
                client,
                scheduler,
                history,
                actor=name,
                rng=random.Random(name),
                clock=scheduler.clock,
            )
            injector.attach(client, name)

            def body() -> None:
                scheduler.clock.sleep(delay)
                client.change_resource_record_sets(
                    HostedZoneId=zone,
                    ChangeBatch={
                        "Changes": [
                            {
                                "Action": "UPSERT",
                                "ResourceRecordSet": {
                                    "Name": "x.hold.test.",
                                    "Type": "A",
                                    "TTL": 60,
                                    "ResourceRecords": [{"Value": value}],
                                },
                            }
                        ]
                    },
                )

            return body

        scheduler.spawn("slow", writer("slow", "192.0.2.1", 0.0))
        scheduler.spawn("fast", writer("fast", "192.0.2.2", 1.0))
        scheduler.run()
        log = target.strict_route53().change_log(zone)
        final = [r for r in target.strict_route53().records(zone) if r.name == "x.hold.test."]
    invokes = [e["actor"] for e in history if e["kind"] == "invoke"]
    assert invokes == ["slow", "fast"], "the slow writer sent first"
    assert [c.submitted_at - INCIDENT_EPOCH for c in log] == [1.0, 10.0], (
        "but its write landed last"
    )
    assert final[0].values == ("192.0.2.1",)


def test_a_call_that_ends_in_an_exception_is_recorded_and_the_run_goes_on() -> None:
    # Timeouts surface as exceptions (botocore's after-call-error carries no model). Each
    # attempt draws again, so a call fails only when every one of botocore's attempts
    # times out: a high probability makes that happen within the run. A call that
    # fails all its retries ends the enactor's pass, never the enactor.
    flaky = (
        "kind=error,name=timeouts,actor=enactor-a,service=route53,probability=0.8,code=ReadTimeout"
    )
    result = run(INCIDENT, variant="safe", seed=8, overrides=_duration(120.0), faults=(flaky,))
    failed = [
        e
        for e in result.history
        if e["kind"] == "complete" and e["outcome"].get("error") == "ReadTimeoutError"
    ]
    assert failed and all(e["actor"] == "enactor-a" and e["op"] for e in failed)
    assert result.stop == "finished", result.reason
    passes_failed = [e for e in result.history if e.get("event") == "pass-failed"]
    assert all(e["actor"] == "enactor-a" for e in passes_failed)


def test_the_same_scenario_runs_against_a_moto_server_with_its_faults() -> None:
    from dnschaos.adapters.aws.moto_server import moto_server

    with moto_server() as url:
        spec = RunSpec(
            INCIDENT, seed=3, overrides=_duration(240.0), target="moto-server", endpoint_url=url
        )
        legacy = run(spec, variant="legacy")
        safe = run(spec, variant="safe")
    for result in (legacy, safe):
        hits = [e for e in result.history.of_kind("fault") if e["action"] == "hit"]
        assert hits and {e["actor"] for e in hits} == {"enactor-c"}
    assert legacy.verdict == "fail" and safe.verdict == "pass", (legacy.reason, safe.reason)


def test_a_pause_until_plans_that_never_come_ends_with_the_run(tmp_path: pathlib.Path) -> None:
    # The planner stops at the end of the run; an enactor paused "until 50 more plans"
    # must stop waiting then, so the run ends with a verdict, not a deadlock.
    stall = (
        "kind=pause,name=stall,actor=enactor-b,operation=ChangeResourceRecordSets,"
        "start=30.0,until_plans_ahead=50"
    )
    result = run(
        _incident_file(tmp_path),  # this fault instead of the scenario's own
        variant="safe",
        seed=2,
        overrides=_duration(120.0),
        faults=(stall,),
    )
    assert result.stop == "finished", result.reason
    assert result.verdict != "unknown"


def test_a_scenarios_faults_carry_no_state_from_one_run_to_the_next() -> None:
    # The specs are shared by every run of the scenario (replays, fuzz cases, shrink
    # tries); counts and activations are each run's own, so runs repeat exactly.
    spec = RunSpec(
        "incident-2025",
        variant="safe",
        seed=4,
        faults=(
            "kind=error,name=every-third,actor=enactor-b,service=route53,nth=1,every=3,"
            "code=Throttling,start=5,end=90",
            "kind=pause,name=stall,actor=enactor-a,nth=2,seconds=7,start=20",
        ),
        overrides=(("scenario.duration", 120.0),),
    )
    scenario = build(spec)
    before = scenario.faults
    first = run(spec)
    second = run(spec)
    hits = {e["fault"] for e in first.history.of_kind("fault") if e["action"] == "hit"}
    assert {"every-third", "stall"} <= hits
    assert second.history.jsonl() == first.history.jsonl()
    assert build(spec).faults == before
