"""Scenario files: validation with exit 2, runs from a path, and --fault."""

from __future__ import annotations

import json
import pathlib

import pytest

from dnschaos.cli import main
from dnschaos.faults import Latency
from dnschaos.scenario.load import ScenarioError, builtin, fault_from_flag, load
from dnschaos.scenario.resolve import build, load_scenario
from dnschaos.scenario.spec import RunSpec

SHIPPED = pathlib.Path(__file__).parents[2] / "fixtures" / "scenarios" / "incident-2025.toml"


def test_incident_2025_is_defined_by_its_toml_file_alone() -> None:
    incident = load_scenario("incident-2025")
    assert builtin("incident-2025") == incident
    assert build(RunSpec("incident-2025")) == incident, "a plain run adds nothing to the file"
    [fault] = incident.faults
    assert (
        isinstance(fault, Latency)
        and fault.distribution == "uniform"
        and (fault.low, fault.high) == (1.0, 4.0)
    )
    assert str(fault.matcher) == "(service=route53 & actor=enactor-c)"


def _broken(tmp_path: pathlib.Path, old: str, new: str) -> pathlib.Path:
    text = SHIPPED.read_text()
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "planner_interval = 15.0",
            "planner_intervall = 15.0",
            "world.planner_intervall: unknown key; allowed here: endpoints, fleet_size, max_plans, planner_interval, propagation_delay, setup, tables, zones",
        ),
        ("fleet_size = 3", 'fleet_size = "three"', "world.fleet_size: 'three' is not an integer"),
        (
            'kind = "latency"',
            'kind = "gremlins"',
            "faults[0].kind: 'gremlins' is not allowed; choose one of latency, error, hold, pause, lock-contention, clock-skew, crash",
        ),
        (
            'distribution = "uniform"',
            'distribution = "pareto"',
            "faults[0].distribution: 'pareto' is not allowed; choose one of fixed, uniform, exponential, lognormal",
        ),
        (
            'match = { actor = "enactor-c", service = "route53" }',
            'match = { actr = "enactor-c" }',
            "faults[0].match.actr: unknown key",
        ),
        (
            'record_types = ["A", "AAAA"]',
            'record_types = ["A", "MX"]',
            "world.endpoints[0].record_types: 'MX' is not a record type; choose from A, AAAA",
        ),
        ("[scenario]", "[scenaro]", "scenario: missing; it is required"),
    ],
)
def test_bad_scenario_files_exit_2_naming_file_key_and_choices(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ScenarioError, match=r"broken\.toml"):
        load(path)
    assert main(["run", str(path), "--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err
    assert not (tmp_path / "out.json").exists(), "nothing half-written"


def test_not_toml_and_missing_files_are_input_errors(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\nname=")
    assert main(["run", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "none.toml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err


def test_a_scenario_file_runs_and_replays_from_its_path(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "copy.toml"
    path.write_text(SHIPPED.read_text())
    out = tmp_path / "out.json"
    assert (
        main(["run", str(path), "--variant", "legacy", "--seed", "4", "--json", str(out), "-q"])
        == 1
    )
    recorded = json.loads(out.read_text())
    assert recorded["spec"]["scenario"] == str(path)
    capsys.readouterr()
    assert main(["replay", str(out), "-q"]) == 1
    assert "replay matches the recording" in capsys.readouterr().out


def test_fault_flag_adds_a_fault_that_takes_effect_and_replays(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flag = "kind=error,code=Throttling,actor=enactor-a,service=dynamodb,probability=0.5,start=0,end=100"
    fault = fault_from_flag(flag, 0)
    assert str(fault.matcher) == "(service=dynamodb & actor=enactor-a & probability=0.5)"
    out = tmp_path / "out.json"
    history = tmp_path / "h.jsonl"
    main(
        [
            "run",
            "incident-2025",
            "--variant",
            "safe",
            "--seed",
            "2",
            "--fault",
            flag,
            "--json",
            str(out),
            "--history",
            str(history),
            "-q",
        ]
    )
    entries = [json.loads(line) for line in history.read_text().splitlines()]
    hits = [
        e
        for e in entries
        if e["kind"] == "fault" and e["action"] == "hit" and e["fault"] == "cli-0"
    ]
    assert hits and all(e["actor"] == "enactor-a" and e["t"] < 100 for e in hits)
    throttled = [
        e
        for e in entries
        if e["kind"] == "complete" and e["outcome"].get("error") == "ThrottlingException"
    ]
    assert throttled, "the caller saw the throttle (and botocore retried)"
    capsys.readouterr()
    assert main(["replay", str(out), "-q"]) == 0
    assert "replay matches the recording" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("kind=latency,secnds=4", "secnds: unknown key"),
        ("kind=error,code=Teapot", "code: 'Teapot' is not allowed; choose one of Throttling"),
        ("latency", "'latency' is not KEY=VALUE"),
        ("kind=pause", "give exactly one of seconds > 0 or until_plans_ahead > 0"),
    ],
)
def test_bad_fault_flags_exit_2(
    flag: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "incident-2025", "--fault", flag]) == 2
    assert message in capsys.readouterr().err


def test_a_fault_that_applied_to_no_call_is_reported(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    never = "kind=pause,name=never,seconds=1,actor=planner,operation=DeleteTable"
    code = main(["run", "incident-2025", "--fault", never, "--json", str(out)])
    assert code == 1
    assert "faults that applied to no call: never" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["unmatched_faults"] == ["never"], "the scenario's own fault did hit"


def test_max_plans_must_be_a_positive_integer(tmp_path: pathlib.Path) -> None:
    text = (tmp_path / "s.toml").write_text(
        "[scenario]\nname = 'x'\n[world]\nmax_plans = 0\n"
        "[[world.endpoints]]\nname = 'e.chaos.test'\n"
    )
    assert text > 0
    with pytest.raises(ScenarioError, match=r"world\.max_plans"):
        load(tmp_path / "s.toml")
    assert builtin("spin-model").config("incident-2025").max_plans == 5
