"""Your own automation under test: plain boto3 code as actors, your own invariants."""

from __future__ import annotations

import datetime
import hashlib
import inspect
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

import boto3
import botocore.session
import pytest

import dnschaos
from dnschaos.cli import main
from dnschaos.runner import run
from dnschaos.scenario.spec import RunSpec
from dnschaos.story import tell
from tests.integration import byo_actors

ROOT = pathlib.Path(__file__).resolve().parents[2]
OPS = ROOT / "examples" / "ops_script.toml"
ACTORS = "tests.integration.byo_actors"


def _cli(
    *args: str, cwd: pathlib.Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    script = pathlib.Path(sys.executable).parent / "dnschaos"  # the console script
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dnschaos.cli"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_an_unmodified_ops_script_is_deterministic_across_processes(tmp_path: pathlib.Path) -> None:
    outs = []
    # The second process has a developer's AWS set-up: the script's boto3 reads none of it.
    for i, env in enumerate(({}, {"AWS_PROFILE": "no-such-profile", "AWS_REGION": "eu-west-3"})):
        out = tmp_path / f"run{i}.json"
        done = _cli("run", str(OPS), "--seed", "1", "--json", str(out), env=env)
        assert done.returncode == 1, done.stderr
        outs.append(json.loads(out.read_text()))
    assert outs[0]["trace_digest"] == outs[1]["trace_digest"]
    assert [v["invariant"] for v in outs[0]["violations"]] == ["no-foreign-delete"]
    assert "cleanup DELETE www.example.com. A 192.0.2.20" in done.stdout
    replayed = _cli("replay", str(tmp_path / "run0.json"), "-q")
    assert replayed.returncode == 1, replayed.stderr
    assert "same trace_digest" in replayed.stdout


def test_the_ops_script_replays_in_process_and_sleeps_on_the_virtual_clock() -> None:
    result = run(str(OPS), seed=2)
    assert result.verdict == "fail"
    assert dnschaos.replay(result).matches
    # wait_insync polls GetChange with time.sleep(5): virtual seconds, no wall time.
    polls = [e for e in result.history if e["kind"] == "invoke" and e["op"] == "GetChange"]
    assert polls and result.virtual_seconds >= 5 * (len(polls) - 1)
    assert result.wall_seconds < 30


def test_a_violated_user_invariant_tells_the_writes_to_what_it_read(tmp_path: pathlib.Path) -> None:
    text = OPS.read_text().replace(
        '[[invariants]]\nfunction = "dnschaos.invariants:no_foreign_delete"\n', ""
    )
    scenario = tmp_path / "ops.toml"
    scenario.write_text(text.replace('"ops_script:', f'"{_example_module()}:'))
    result = run(str(scenario), seed=1)
    assert [v.invariant for v in result.violations] == ["www-answers"]
    story = tell(list(result.history), result.violations[0])
    assert any("ops UPSERT www.example.com. A 192.0.2.20" in line for line in story)
    assert any("cleanup DELETE www.example.com. A 192.0.2.20" in line for line in story)
    assert story[-1].endswith("[www-answers] www.example.com. answers with no address")
    # DNS serves a change only once it is INSYNC (propagation_delay = 20 s).
    delete = next(
        e
        for e in result.history
        if e["kind"] == "invoke"
        and e["actor"] == "cleanup"
        and e["op"] == "ChangeResourceRecordSets"
    )
    assert result.violations[0].t >= delete["t"] + 20


def _example_module() -> str:
    sys.path.insert(0, str(OPS.parent))
    return "ops_script"


def _scenario(tmp_path: pathlib.Path, actor: str, invariants: str = "") -> pathlib.Path:
    path = tmp_path / "scenario.toml"
    path.write_text(
        f"""
[scenario]
name = "user-actor"
duration = 60

[[world.zones]]
name = "example.com"
records = [{{ name = "www.example.com", type = "A", ttl = 60, values = ["192.0.2.1"] }}]

[[actors]]
name = "worker"
function = "{actor}"
{invariants}
"""
    )
    return path


def test_an_exception_in_a_user_actor_is_a_violation_not_a_harness_error(
    tmp_path: pathlib.Path,
) -> None:
    scenario = _scenario(tmp_path, f"{ACTORS}:raises")
    done = _cli("run", str(scenario), "--seed", "4")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "VIOLATION: no-actor-error" in done.stdout
    line = inspect.getsourcelines(byo_actors.raises)[1] + 3
    assert f"worker raised KeyError: 'Comment' (at tests/integration/byo_actors.py:{line})" in (
        done.stdout
    )
    off = _scenario(
        tmp_path, f"{ACTORS}:raises", '[[invariants]]\nfunction = "no-actor-error"\nenabled = false'
    )
    assert _cli("run", str(off), "--seed", "4", "-q").returncode == 0


def test_time_datetime_and_random_follow_the_run_on_actor_threads() -> None:
    sim = dnschaos.Simulation("clocks", duration=300)
    sim.table("seen", items=[])
    sim.actor("clocks", byo_actors.clocks)
    default_session = boto3.DEFAULT_SESSION
    first, again = sim.run(seed=5), sim.run(seed=5)
    other = sim.run(seed=6)
    seen = _final_item(first, "seen")
    assert seen["slept"] == "130.0" and seen["monotonic"] == "130.0"
    assert seen["year"] == "2025"  # the virtual clock starts on 19 October 2025
    assert seen == _final_item(again, "seen")
    assert seen["draw"] != _final_item(other, "seen")["draw"]
    assert first.trace_digest == again.trace_digest
    # And nothing stays patched after the run.
    assert time.sleep.__module__ == "time" and datetime.datetime.__module__ == "datetime"
    assert boto3.DEFAULT_SESSION is default_session  # the actor's hermetic one is gone
    assert byo_actors.nap is time.sleep
    assert type(datetime.datetime.now()) is datetime.datetime
    assert botocore.session.Session.create_client.__qualname__ == "Session.create_client"


def _final_item(result: Any, table: str) -> dict[str, Any]:
    final = next(e for e in result.history if e["kind"] == "final")
    (item,) = final["tables"][table]
    return dict(item)


def test_threads_and_thread_pools_an_actor_starts_become_actors() -> None:
    result = run(f"{ACTORS}:threaded", seed=3)
    assert result.verdict == "pass", result.violations
    writers = {e["actor"] for e in result.history if e["kind"] == "invoke"}
    assert writers == {"boss", "boss/1", "boss/2", "boss/3", "boss/4"}
    assert dnschaos.replay(result).matches
    assert run(f"{ACTORS}:threaded", seed=3).trace_digest == result.trace_digest


def test_a_simulation_named_by_module_and_function_is_rebuilt_from_its_spec() -> None:
    result = run(f"{ACTORS}:flipping", seed=3, stop_on_violation=False)
    assert {v.invariant for v in result.violations} == {"www-has-address", "never-empty"}
    spec = RunSpec.from_result(json.loads(json.dumps(result.to_json())))
    assert spec.scenario == f"{ACTORS}:flipping"
    source = pathlib.Path(byo_actors.__file__).read_text(encoding="utf-8")
    assert spec.scenario_digest == hashlib.sha256(source.encode()).hexdigest()[:16]
    assert run(spec).trace_digest == result.trace_digest
    # converges_to is judged at the end: the flipper put www back at 192.0.2.2.
    assert next(v for v in result.verdicts if v.checker == "converges").status == "pass"


def test_the_cli_runs_a_simulation_named_by_module_and_function(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "flipping.json"
    done = _cli("run", f"{ACTORS}:flipping", "--seed", "3", "--json", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[www-has-address] www.example.com has no A record" in done.stdout
    recorded = json.loads(out.read_text())
    assert recorded["spec"]["scenario"] == f"{ACTORS}:flipping"
    assert recorded["reproduce"].startswith(f"dnschaos run {ACTORS}:flipping ")
    assert _cli("replay", str(out), "-q").returncode == 1


def test_a_simulation_run_in_place_replays_in_its_process() -> None:
    sim = byo_actors.flipping()
    result = sim.run(seed=1)
    assert result.verdict == "fail"
    assert result.headline is not None and result.headline.invariant == "www-has-address"
    assert dnschaos.replay(result).matches
    results = sim.run(seed=1, runs=2)
    assert [r.seed for r in results] == [1, 2]


def test_the_built_in_incident_keeps_its_digest() -> None:
    result = run("incident-2025", variant="legacy", seed=7)
    assert result.trace_digest.startswith("0471fe57b1033f33")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('[[actors]]\nname = "x"\nfunction = "nomodule"', "module:function"),
        ('[[invariants]]\nfunction = "m:f"\nwhen = "sometimes"', "choose one of step, end"),
    ],
)
def test_scenario_files_of_user_actors_are_checked(
    tmp_path: pathlib.Path, line: str, message: str
) -> None:
    from dnschaos.scenario.load import ScenarioError
    from dnschaos.scenario.resolve import load_scenario

    path = _scenario(tmp_path, f"{ACTORS}:raises", line)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(str(path))


def test_setup_tables_boto3_resource_and_a_view_of_the_items() -> None:
    result = run(f"{ACTORS}:jobs", seed=3)
    assert result.verdict == "pass", result.violations
    assert _final_item(result, "jobs") == {"pk": "job-1", "state": "taken", "by": "worker"}
    assert [e["op"] for e in result.history if e["kind"] == "invoke"] == ["Scan", "PutItem"]


def test_faults_hit_user_actors_as_any_actor() -> None:
    fault = "kind=error,actor=worker,operation=PutItem,code=InternalFailure"
    result = run(f"{ACTORS}:jobs", seed=3, faults=(fault,))
    (violation,) = result.violations
    assert violation.invariant == "no-actor-error"
    assert "InternalServerError" in violation.detail and "injected by dnschaos" in violation.detail
    assert dnschaos.replay(result).matches


def test_user_actors_on_free_threads_are_bound_too() -> None:
    result = run(f"{ACTORS}:threaded", seed=3, clock="real", time_scale=0.01)
    assert result.verdict == "pass", result.violations
    writers = {e["actor"] for e in result.history if e["kind"] == "invoke"}
    # On free threads the pool may hand its second task to the thread that finished the
    # first (a slow machine), so the pool's writes come from one or two child actors.
    assert "boss" in writers and {"boss/1", "boss/2"} <= writers
    assert writers - {"boss", "boss/1", "boss/2"} in ({"boss/3"}, {"boss/3", "boss/4"})


def test_an_actor_errors_story_is_its_calls_and_the_faults_that_hit_them() -> None:
    fault = "kind=error,actor=ops,operation=ChangeResourceRecordSets,code=Throttling,start=10"
    result = run(str(OPS), seed=1, faults=(fault,))
    assert result.headline is not None and result.headline.invariant == "no-actor-error"
    story = tell(list(result.history), result.headline)
    assert any("ops ChangeResourceRecordSets UPSERT www.example.net." in s for s in story)
    assert sum("hit by error fault cli-0" in s for s in story) == 3  # botocore's 3 attempts
    lines = (OPS.parent / "ops_script.py").read_text().splitlines()
    call = 1 + next(
        i for i, text in enumerate(lines) if "route53.change_resource_record_sets(" in text
    )
    assert story[-1].endswith(f"(at ops_script.py:{call})")


def test_the_fuzzer_searches_a_user_scenarios_fault_space(tmp_path: pathlib.Path) -> None:
    done = _cli(
        "fuzz", str(OPS), "--budget", "3", "--no-shrink", "--store", str(tmp_path / "store"), "-q"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 runs" in done.stdout
    assert len(list((tmp_path / "store").glob("failure-*.json"))) >= 1


def test_the_same_world_declared_in_python_runs_the_same_as_the_file() -> None:
    _example_module()  # examples/ on sys.path: ops_sim imports ops_script
    from_file = run(str(OPS), seed=1)
    from_python = run("ops_sim:ops_race", seed=1)
    assert from_python.trace_digest == from_file.trace_digest
    kept_going = run("ops_sim:ops_race", seed=1, stop_on_violation=False)
    assert {v.invariant for v in kept_going.violations} == {
        "no-foreign-delete",
        "www-answers",  # judged once more when the last DELETE is INSYNC, after the run
        "www-moved",  # converges_to, at the end
    }


def test_botocore_waiters_wait_on_the_virtual_clock() -> None:
    result = run(f"{ACTORS}:waiting", seed=1)
    assert result.verdict == "pass"
    polls = [e for e in result.history if e["kind"] == "invoke" and e["op"] == "GetChange"]
    assert len(polls) == 3  # the waiter polls every 30 s until INSYNC at 45 s
    assert 60 <= result.virtual_seconds < 70 and result.wall_seconds < 10


def test_zones_start_with_weighted_sets_and_aliases_as_route53_lists_them() -> None:
    result = run(f"{ACTORS}:weighted", seed=1)
    assert result.verdict == "pass", result.violations
    final = next(e for e in result.history if e["kind"] == "final")
    seen = {i["pk"]: i for i in final["tables"]["seen"]}
    assert seen["lb.example.com. blue"]["weight"] == "90"
    assert seen["lb.example.com. green"]["weight"] == "10"
    assert seen["www.example.com. alias"]["target"] == "lb.example.com."
    # The DELETE of the listed green set matched it exactly (strict layer) and blue answers on.
    deletes = [e for e in result.history if e["kind"] == "complete" and e["actor"] == "drain"]
    assert deletes[-1]["outcome"]["status"] == 200


def test_a_bad_initial_record_is_refused_naming_its_key(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = OPS.read_text()
    bad = tmp_path / "bad.toml"
    marker = 'values = ["192.0.2.1"]'
    assert marker in base
    for extra, key in (
        (
            'values = ["192.0.2.1"], alias = { name = "a.example.com", zone = "example.com" }',
            "alias",
        ),
        ('values = ["192.0.2.1"], set_identifier = "blue"', "weight"),
        ('values = ["192.0.2.1"], set_identifier = "blue", weight = 300', "weight"),
        ('values = ["192.0.2.1"], alias = { name = "a.example.com" }', "alias.zone"),
    ):
        bad.write_text(base.replace(marker, extra, 1))
        assert main(["run", str(bad), "-q"]) == 2
        err = capsys.readouterr().err
        assert str(bad) in err and key in err and "Traceback" not in err
    with pytest.raises(dnschaos.UsageError, match="weight"):
        dnschaos.Simulation("x").zone(
            "example.com",
            records=[{"name": "a.example.com", "type": "A", "values": ["192.0.2.1"], "weight": 5}],
        )


def test_a_variant_or_planner_for_a_run_of_your_own_actors_is_refused(
    tmp_path: pathlib.Path,
) -> None:
    # They would be recorded in the result and mean nothing: there are no enactors.
    out = tmp_path / "out.json"
    done = _cli("run", str(OPS), "--variant", "safe", "--json", str(out))
    assert done.returncode == 2, done.stderr
    assert "--variant safe" in done.stderr and "your own actors" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    with pytest.raises(dnschaos.UsageError, match="--planner"):
        run(RunSpec(str(OPS), planner="tests.integration.custom_enactor:EveryOtherPlanner"))
    # As a result records them (the defaults), they replay.
    assert run(RunSpec(str(OPS), variant="legacy", planner="default", seed=2)).verdict
