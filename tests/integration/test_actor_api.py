"""One actor API for every run: the built-in automation is a list of actors like a user's.

The built-in planner, enactors, probes, propagator, operator, downstream models and the
nemesis are actor functions of an ActorContext, named by ``module:function`` with their
arguments, and spawned by the same assembly as a user's actors. (That the built-in runs
kept their trace digests through the move is held by the known digests in
test_fast_path.py and test_story_shapes.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import dnschaos
from dnschaos.runner import run
from dnschaos.scenario.actors import actor_names, run_actors
from dnschaos.scenario.resolve import build
from dnschaos.scenario.spec import RunSpec
from dnschaos.world.config import takes_argument

REPO = Path(__file__).resolve().parents[2]
BUILT_IN = ("incident-2025", "incident-2025-dns", "cascade-2025", "steady-state", "spin-model")


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_scenario_is_a_list_of_named_actor_functions(name: str) -> None:
    scenario = build(RunSpec(name, variant="safe"))
    actors = run_actors(scenario)
    assert actors[0].name == "planner"
    assert sorted(a.name for a in actors) == actor_names(scenario)
    for spec in actors:
        # Named as a scenario file of the user's would name them, and loaded the same way.
        assert isinstance(spec.function, str) and spec.function.startswith("dnschaos.")
        fn = spec.load()
        assert callable(fn) and takes_argument(fn), spec
        assert not spec.bind, "built-in actors take everything from ctx"
    enactors = [a for a in actors if a.function == "dnschaos.workloads.incident2025.actors:enactor"]
    assert [a.name for a in enactors] == list(scenario.config("incident-2025").enactors)
    assert all(dict(a.args)["variant"] == "safe" for a in enactors)
    if scenario.dns is not None:
        assert "probe-authoritative" in {a.name for a in actors}
    if scenario.faults:
        assert "nemesis" in {a.name for a in actors}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_built_in_incident_keeps_its_verdicts(seed: int) -> None:
    assert run("incident-2025", variant="legacy", seed=seed).verdict == "fail"
    assert run("incident-2025", variant="safe", seed=seed).verdict == "pass"


# ---------------------------------------------------------------------- the context


def _ender(ctx: Any) -> None:
    ctx.end_when(lambda: "the job is done" if ctx.parts.shared.get("done") else None)
    ctx.sleep(30)
    ctx.parts.shared["done"] = True
    while not ctx.should_stop():
        ctx.sleep(5)


def _waiter(ctx: Any) -> None:
    ctx.wait_until(lambda: bool(ctx.parts.shared.get("done")), "waiting for the job")
    ctx.event("saw-done", at=round(ctx.now() - ctx.history.start, 3))


def test_an_actor_ends_the_run_and_another_waits_for_it() -> None:
    sim = dnschaos.Simulation("ending", duration=600)
    sim.zone("example.com")
    sim.actor("ender", _ender)
    sim.actor("waiter", _waiter)
    result = sim.run(seed=1)
    assert (result.verdict, result.stop, result.reason) == ("pass", "finished", "the job is done")
    assert 30.0 <= result.virtual_seconds < 60.0  # not the 600 s duration
    saw = [e for e in result.history if e["kind"] == "event" and e.get("event") == "saw-done"]
    assert len(saw) == 1 and saw[0]["at"] >= 30.0


def _streams(ctx: Any) -> None:
    a, b = ctx.stream("jitter"), ctx.stream("jitter")
    ctx.event(
        "draws",
        same=[a.random() for _ in range(3)] == [b.random() for _ in range(3)],
        other=ctx.stream("other").random(),
        jitter=ctx.stream("jitter").random(),
        shared=ctx.random is ctx.random,
    )


def test_a_named_stream_starts_again_each_time_and_does_not_shift_the_others() -> None:
    def draws(seed: int) -> dict[str, Any]:
        sim = dnschaos.Simulation("streams", duration=10)
        sim.actor("drawer", _streams)
        result = sim.run(seed=seed)
        return next(e for e in result.history if e.get("event") == "draws")

    first, again, other_seed = draws(4), draws(4), draws(5)
    assert first["same"] and first["shared"]
    assert first["other"] != first["jitter"]
    assert (first["other"], first["jitter"]) == (again["other"], again["jitter"])
    assert first["jitter"] != other_seed["jitter"]


def _skewed(ctx: Any) -> None:
    start = time.monotonic()
    time.sleep(10)
    ctx.event(
        "clocks",
        wall=time.time() - ctx.parts.clock.now(),
        ctx=ctx.now() - ctx.parts.clock.now(),
        mono=time.monotonic() - start,
    )


def test_a_clock_skew_fault_shifts_a_user_actors_wall_clock_not_its_sleeps() -> None:
    sim = dnschaos.Simulation("skewed", duration=30)
    sim.actor("skewed", _skewed)
    sim.fault("kind=clock-skew,actor=skewed,offset=120")
    result = sim.run(seed=1)
    clocks = next(e for e in result.history if e.get("event") == "clocks")
    assert round(clocks["wall"]) == 120 and round(clocks["ctx"]) == 120
    assert round(clocks["mono"]) == 10  # sleeping and monotonic time are not shifted


# ---------------------------------------------------------------------- factories


FACTORY = """
def make(zone, value):
    def actor(ctx):
        route53 = ctx.client("route53")
        route53.change_resource_record_sets(
            HostedZoneId=ctx.zone_id(zone),
            ChangeBatch={{"Changes": [{{"Action": "UPSERT", "ResourceRecordSet": {{
                "Name": "www." + zone, "Type": "A", "TTL": 60,
                "ResourceRecords": [{{"Value": value}}]}}}}]}},
        )
    return actor

not_a_factory = {extra}
"""

SCENARIO = """
[scenario]
name = "factories"
duration = 60
[[world.zones]]
name = "example.com"
[[actors]]
name = "blue"
function = "factory_actors:make"
args = {{ zone = "example.com", value = "192.0.2.1" }}
[[actors]]
name = "green"
function = "{function}"
args = {args}
"""


def _write(tmp_path: Path, function: str, args: str, extra: str = "None") -> Path:
    (tmp_path / "factory_actors.py").write_text(FACTORY.format(extra=extra))
    path = tmp_path / "factories.toml"
    path.write_text(SCENARIO.format(function=function, args=args))
    return path


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = Path(sys.executable).parent / "dnschaos"  # the console script
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dnschaos.cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_an_actor_factory_takes_its_args_from_the_scenario_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "factory_actors:make", '{ zone = "example.com", value = "192.0.2.2" }')
    result = run(RunSpec(str(path), seed=1))
    assert result.verdict == "pass"
    writes = [
        e["params"]["changes"]
        for e in result.history
        if e["kind"] == "invoke" and e["op"] == "ChangeResourceRecordSets"
    ]
    assert sorted(w[0] for w in writes) == [
        "UPSERT www.example.com A 192.0.2.1",
        "UPSERT www.example.com A 192.0.2.2",
    ]


@pytest.mark.parametrize(
    ("function", "args", "extra", "says"),
    [
        ("factory_actors:make", '{ zone = "example.com" }', "None", "args (zone) do not fit"),
        ("factory_actors:not_a_factory", "{ x = 1 }", "lambda x: 42", "not an actor function"),
    ],
)
def test_a_factory_that_does_not_fit_its_args_exits_2_naming_the_actor(
    tmp_path: Path, function: str, args: str, extra: str, says: str
) -> None:
    path = _write(tmp_path, function, args, extra)
    out = _cli("run", str(path), "--seed", "1", "--json", str(tmp_path / "out.json"), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "actor green" in out.stderr and says in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out.json").exists()
