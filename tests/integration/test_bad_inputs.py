"""Bad input, table by table: every case exits 2 before anything runs, names its culprit
(the file, the key or the flag) on stderr, prints no traceback and writes nothing."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dnschaos.cli import main

SCENARIOS = pathlib.Path(__file__).parents[2] / "fixtures" / "scenarios"
INCIDENT = (SCENARIOS / "incident-2025.toml").read_text()
DNS = (SCENARIOS / "incident-2025-dns.toml").read_text()
DROP = object()  # a key taken out of a result

# ------------------------------------------------------------------ helpers


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _refused(code: int, err: str, culprit: str, *unwritten: pathlib.Path) -> None:
    assert code == 2, err
    assert culprit in err, err
    assert "Traceback" not in err, err
    for path in unwritten:
        assert not path.exists(), f"{path} was written"


@pytest.fixture(scope="module")
def good_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("good") / "good.json"
    assert main(["run", "incident-2025", "--seed", "7", "--json", str(out), "-q"]) == 1
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


# ------------------------------------------------------------------ scenario files

# (old text, new text, culprit): incident-2025.toml with one edit.
EDITS: list[tuple[str, str, str]] = [
    ("duration = 360.0", "duration = nan", "scenario.duration: nan is not a finite number"),
    ("duration = 360.0", "duration = inf", "scenario.duration: inf is not a finite number"),
    ("duration = 360.0", "duration = -inf", "scenario.duration"),
    ("duration = 360.0", "duration = 0.5", "scenario.duration: 0.5 is not a number >= 1"),
    ("duration = 360.0", 'duration = "long"', "scenario.duration: 'long' is not a number"),
    ("duration = 360.0", "duration = true", "scenario.duration"),
    ("progress_bound = 180.0", "progress_bound = -1.0", "scenario.progress_bound"),
    ("progress_bound = 180.0", "progress_bound = nan", "scenario.progress_bound"),
    ('name = "incident-2025"', "name = 5", "scenario.name: 5 is not a string"),
    ('name = "incident-2025"', 'nam = "x"', "scenario.nam"),
    ("[scenario]", "[scenario]\nseed = 'seven'", "scenario.seed"),
    ("[scenario]", "[scenario]\ncolour = 'red'", "scenario.colour: unknown key"),
    ("[scenario]", "[scenario]\nstop_at_first_violation = 'yes'", "stop_at_first_violation"),
    ("fleet_size = 3", "fleet_size = 0", "world.fleet_size: 0 is not an integer >= 1"),
    ("fleet_size = 3", "fleet_size = 101", "at most 100 weighted record sets"),
    ("fleet_size = 3", "fleet_size = 150", "world.fleet_size: 150 is not an integer <= 100"),
    ("fleet_size = 3", "fleet_size = 3.5", "world.fleet_size: 3.5 is not an integer"),
    ("fleet_size = 3", 'fleet_size = "3"', "world.fleet_size"),
    ("planner_interval = 15.0", "planner_interval = 0.0", "world.planner_interval"),
    ("planner_interval = 15.0", "planner_interval = inf", "world.planner_interval"),
    ("propagation_delay = 0.0", "propagation_delay = -1.0", "world.propagation_delay"),
    ("propagation_delay = 0.0", "propagation_delay = nan", "world.propagation_delay"),
    ('name = "dynamodb.us-east-1.chaos.test"', 'name = "bad name!"', "endpoints[0].name"),
    ('name = "dynamodb.us-east-1.chaos.test"', 'name = "nodots"', "is not a DNS name"),
    ('name = "dynamodb.us-east-1.chaos.test"', 'name = "-x.chaos.test"', "endpoints[0].name"),
    ('name = "dynamodb.us-east-1.chaos.test"', 'name = "a..chaos.test"', "endpoints[0].name"),
    ('name = "dynamodb.us-east-1.chaos.test"', 'name = "' + "x" * 64 + '.test"', "a DNS name"),
    ('name = "dynamodb.us-east-1.chaos.test"', "name = 7", "endpoints[0].name"),
    ('record_types = ["A", "AAAA"]', "record_types = []", "record_types: [] is not a non-empty"),
    ('record_types = ["A", "AAAA"]', 'record_types = ["A", "A"]', "record type 'A' is given twice"),
    ('record_types = ["A", "AAAA"]', 'record_types = ["MX"]', "'MX' is not a record type"),
    ('record_types = ["A", "AAAA"]', 'record_types = "A"', "record_types: 'A' is not a list"),
    ('record_types = ["A", "AAAA"]', "record_types = [1]", "record_types: 1"),
    ('plan_key = "regional"', "plan_key = 5", "endpoints[0].plan_key"),
    ('plan_key = "regional"', 'plan_key = "regional"\nweight = 3', "endpoints[0].weight"),
    (
        "[enactors]",
        '[[world.endpoints]]\nname = "DynamoDB.us-east-1.chaos.test"\n\n[enactors]',
        "world.endpoints: endpoint 'dynamodb.us-east-1.chaos.test' is given twice",
    ),
    ('names = ["enactor-a", "enactor-b", "enactor-c"]', "names = []", "enactors.names"),
    (
        'names = ["enactor-a", "enactor-b", "enactor-c"]',
        'names = ["enactor-a", "enactor-a"]',
        "enactors.names",
    ),
    ('names = ["enactor-a", "enactor-b", "enactor-c"]', 'names = [""]', "enactors.names"),
    ('names = ["enactor-a", "enactor-b", "enactor-c"]', 'names = "enactor-a"', "enactors.names"),
    ("lock_ttl = 30.0", "lock_ttl = 0.5", "enactors.lock_ttl"),
    ("lock_ttl = 30.0", "lock_ttl = nan", "enactors.lock_ttl: nan is not a finite number"),
    ("lock_attempts = 40", "lock_attempts = 0", "enactors.lock_attempts"),
    ("lock_attempts = 40", "lock_attempts = 4.5", "enactors.lock_attempts"),
    ("backoff_base = 2.0", "backoff_base = -1.0", "enactors.backoff_base"),
    ("backoff_max = 15.0", "backoff_max = inf", "enactors.backoff_max"),
    ("cleanup_window = 5", "cleanup_window = 0", "enactors.cleanup_window"),
    ("poll_interval = 5.0", "poll_interval = 0.0", "enactors.poll_interval"),
    ("poll_interval = 5.0", "poll_interval = 5.0\nleaf_ttl = -1", "enactors.leaf_ttl"),
    ("low = 0.05", "low = -0.1", "latency.low"),
    ("high = 0.3", "high = 0.01", "latency.high: 0.01 is not >= low"),
    ("high = 0.3", "high = inf", "latency.high: inf is not a finite number"),
    ("max_steps = 200000", "max_steps = 0", "limits.max_steps: 0 is not an integer >= 1"),
    ("max_steps = 200000", "max_steps = -5", "limits.max_steps"),
    ("max_virtual_seconds = 4800.0", "max_virtual_seconds = 0.5", "limits.max_virtual_seconds"),
    ("max_virtual_seconds = 4800.0", "max_virtual_seconds = nan", "limits.max_virtual_seconds"),
    ("max_wall_seconds = 300.0", "max_wall_seconds = 0.0", "limits.max_wall_seconds"),
    ("max_wall_seconds = 300.0", "max_wall_seconds = inf", "limits.max_wall_seconds"),
    ("quantum = 1.0", "quantum = -1.0", "limits.quantum"),
    ("quantum = 1.0", "quantum = nan", "limits.quantum"),
    ('kind = "latency"', 'kind = "slow"', "faults[0].kind: 'slow' is not allowed"),
    ('distribution = "uniform"', 'distribution = "gaussian"', "faults[0].distribution"),
    ("low = 1.0", "low = -1.0", "faults[0].low"),
    ("low = 1.0", "low = nan", "faults[0].low: nan is not a finite number"),
    ("high = 4.0", "high = inf", "faults[0].high: inf is not a finite number"),
    (
        "high = 4.0",
        "high = 4.0\nstart = 100.0\nend = 50.0",
        "faults[0].end: 50.0 is not after start",
    ),
    ("high = 4.0", "high = 4.0\ncolour = 'red'", "faults[0].colour: unknown key"),
    (
        'service = "route53" }',
        'service = "s3" }',
        "match.service: 's3' is not a service this run calls",
    ),
    ('service = "route53" }', 'service = "route-53x" }', "match.service"),
    ('service = "route53" }', 'service = "dns" }', "match.service: 'dns'"),
    ('service = "route53" }', 'service = "ec2" }', "match.service: 'ec2'"),
    ('actor = "enactor-c"', 'actor = "enactor-z"', "match.actor: 'enactor-z' names no actor"),
    ('actor = "enactor-c"', 'actor = "probe-*"', "match.actor: 'probe-*'"),
    (
        'service = "route53" }',
        'service = "route53", operation = "PutObject" }',
        "match.operation: 'PutObject'",
    ),
    (
        'service = "route53" }',
        'service = "route53", operation = "PutItem" }',
        "is not an operation of route53",
    ),
    ('service = "route53" }', 'operation = "Invoke" }', "match.operation: 'Invoke'"),
    ('service = "route53" }', 'service = "route53", nth = 0 }', "match.nth"),
    ('service = "route53" }', 'service = "route53", probability = 1.5 }', "match.probability"),
    ('service = "route53" }', 'service = "route53", probability = nan }', "match.probability"),
    ('service = "route53" }', 'service = "route53", table = 5 }', "match.table"),
    (
        'service = "route53" }',
        'service = "route53", not = { actor = "ghost" } }',
        "'ghost' names no actor",
    ),
    (
        'match = { actor = "enactor-c", service = "route53" }',
        'match = "enactor-c"',
        "faults[0].match",
    ),
    (
        'match = { actor = "enactor-c", service = "route53" }',
        'match = { actor = "enactor-c" }\n\n[[faults]]\nname = "enactor-c-slow-route53"\nkind = "pause"\nseconds = 3.0',
        "fault name 'enactor-c-slow-route53' is given twice",
    ),
    (
        'match = { actor = "enactor-c", service = "route53" }',
        'match = { actor = "enactor-c" }\n\n[[faults]]\nkind = "lock-contention"\nendpoint = "nowhere.chaos.test"\nend = 60.0',
        "endpoint 'nowhere.chaos.test' is not in world.endpoints",
    ),
    (
        'match = { actor = "enactor-c", service = "route53" }',
        'match = { actor = "enactor-c" }\n\n[[faults]]\nkind = "crash"',
        "faults[1].actor: missing",
    ),
    ("[latency]", "[wrld]\n[latency]", "wrld: unknown key"),
    (
        "[latency]",
        "[dns]\nserver = 'powerdns'\n\n[latency]",
        "dns.server: 'powerdns' is not allowed",
    ),
    ("[latency]", "[dns]\nresolver = 'bind'\n\n[latency]", "dns.resolver"),
    ("[latency]", "[dns]\nprobe_interval = 0.0\n\n[latency]", "dns.probe_interval"),
    ("[latency]", "[dns]\nnegative_ttl = -1\n\n[latency]", "dns.negative_ttl"),
    ("[latency]", "[dns]\nserve_expired = 1\n\n[latency]", "dns.serve_expired"),
    ("[latency]", "[operator]\nrepair_after = -5.0\n\n[latency]", "operator.repair_after"),
    (
        "[latency]",
        "[operator]\ndisable_automation_after = nan\n\n[latency]",
        "operator.disable_automation_after",
    ),
    ("[latency]", "[fuzz]\nmax_faults = 0\nfaults = []\n\n[latency]", "fuzz.max_faults"),
    ("[latency]", "[fuzz]\nmax_faults = 2\n\n[latency]", "fuzz.faults: missing"),
    ("[latency]", "[cascade]\ndroplets = 10\n\n[latency]", "cascade: needs a [dns] section"),
    ("[world]", "[world]\nfleet_size = 4", "not valid TOML"),
]


@pytest.mark.parametrize(("old", "new", "culprit"), EDITS)
def test_a_broken_scenario_file(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], old: str, new: str, culprit: str
) -> None:
    assert old in INCIDENT
    path = tmp_path / "broken.toml"
    path.write_text(INCIDENT.replace(old, new, 1))
    out, hist = tmp_path / "out.json", tmp_path / "hist.jsonl"
    code, err = _cli(["run", str(path), "--json", str(out), "--history", str(hist), "-q"], capsys)
    _refused(code, err, culprit, out, hist)
    assert str(path) in err


def _not_utf8(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "latin1.toml"
    path.write_bytes(INCIDENT.replace("Enactor", "Enact\xf6r").encode("latin-1"))
    return path


def _directory(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "dir.toml"
    path.mkdir()
    return path


def _binary(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\x00\x01\x02\xff")
    return path


@pytest.mark.parametrize(
    ("make", "culprit"),
    [
        (_not_utf8, "not UTF-8 text"),
        (_directory, "is a directory"),
        (_binary, "binary.toml"),
        (lambda tmp: tmp / "missing.toml", "no such scenario file"),
    ],
)
def test_an_unreadable_scenario_file(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[pathlib.Path], pathlib.Path],
    culprit: str,
) -> None:
    path = make(tmp_path)
    out = tmp_path / "out.json"
    code, err = _cli(["run", str(path), "--json", str(out)], capsys)
    _refused(code, err, culprit, out)


# ------------------------------------------------------------------ flags

RUN_FLAGS: list[tuple[list[str], str]] = [
    (["incident-2025", "--seed", "x"], "--seed"),
    (["incident-2025", "--clock", "real", "--time-scale", "0"], "--time-scale 0.0"),
    (["incident-2025", "--clock", "real", "--time-scale", "nan"], "--time-scale nan"),
    (["incident-2025", "--clock", "real", "--time-scale", "inf"], "--time-scale inf"),
    (["incident-2025", "--clock", "real", "--time-scale", "-1"], "--time-scale -1.0"),
    (["incident-2025", "--time-scale", "0.5"], "--time-scale: applies to --clock real only"),
    (["incident-2025", "--runs", "0"], "--runs 0"),
    (["incident-2025", "--runs", "-3"], "--runs -3"),
    (["incident-2025", "--strategy", "pct", "--pct-depth", "0"], "--pct-depth 0"),
    (["incident-2025", "--pct-depth", "5"], "--pct-depth: applies to --strategy pct only"),
    (["incident-2025", "--strategy", "dfs", "--dfs-bound", "0"], "--dfs-bound 0"),
    (["incident-2025", "--dfs-bound", "5"], "--dfs-bound: applies to --strategy dfs only"),
    (["incident-2025", "--strategy", "replay"], "use 'dnschaos replay FILE'"),
    (["incident-2025", "--strategy", "bfs"], "--strategy 'bfs'"),
    (["incident-2025", "--clock", "moon"], "--clock 'moon'"),
    (
        ["incident-2025", "--clock", "real", "--strategy", "pct"],
        "--strategy applies to --clock sim",
    ),
    (["incident-2025", "--target", "moon"], "--target 'moon'"),
    (["incident-2025", "--target", "moto-server"], "--endpoint-url"),
    (
        ["incident-2025", "--target", "moto-server", "--endpoint-url", "http://example.com:5000"],
        "--endpoint-url",
    ),
    (
        ["incident-2025", "--target", "moto-server", "--endpoint-url", "http://127.0.0.1:1"],
        "--endpoint-url http://127.0.0.1:1: no moto server answers there",
    ),
    (["incident-2025", "--dns", "powerdns"], "--dns 'powerdns'"),
    (["incident-2025-dns", "--resolver", "bind"], "--resolver 'bind'"),
    (
        ["incident-2025", "--resolver", "unbound"],
        "--resolver unbound: scenario incident-2025 has no DNS",
    ),
    (["cascade-2025", "--mitigation", "prayer"], "--mitigation 'prayer'"),
    (
        ["incident-2025", "--mitigation", "dwfm-throttle"],
        "--mitigation dwfm-throttle: no workload of scenario incident-2025 takes --mitigation",
    ),
    (
        ["incident-2025", "--compare-mitigations"],
        "--compare-mitigations: no workload of scenario incident-2025 takes mitigations",
    ),
    (
        ["cascade-2025", "--compare-mitigations", "--mitigation", "dwfm-throttle"],
        "drop --mitigation",
    ),
    (["cascade-2025", "--compare-mitigations", "--workers", "0"], "--workers 0"),
    (["incident-2025", "--invariant", "nope"], "--invariant 'nope'"),
    (["incident-2025", "--variant", "nope"], "nope"),
    (["incident-2025", "--variant", "no_such_module:Enactor"], "no_such_module"),
    (["incident-2025", "--planner", "nope"], "nope"),
    (["incident-2025", "--fault", "kind=gremlins"], "kind: 'gremlins' is not allowed"),
    (["incident-2025", "--fault", "garbage"], "'garbage' is not KEY=VALUE"),
    (["incident-2025", "--fault", "kind=pause,seconds=nan"], "seconds: nan is not a finite number"),
    (
        ["incident-2025", "--fault", "kind=latency,seconds=inf"],
        "seconds: inf is not a finite number",
    ),
    (["incident-2025", "--fault", "kind=pause,seconds=-1"], "seconds: -1"),
    (["incident-2025", "--fault", "kind=pause,seconds=1,service=s3"], "match.service: 's3'"),
    (
        ["incident-2025", "--fault", "kind=pause,seconds=1,operation=PutObject"],
        "match.operation: 'PutObject'",
    ),
    (["incident-2025", "--fault", "kind=pause,seconds=1,actor=ghost"], "match.actor: 'ghost'"),
    (
        [
            "incident-2025",
            "--fault",
            "kind=pause,seconds=1,service=dynamodb,operation=ChangeResourceRecordSets",
        ],
        "is not an operation of dynamodb",
    ),
    (["incident-2025", "--fault", "kind=pause,seconds=1,service=dns"], "match.service: 'dns'"),
    (["incident-2025", "--fault", "kind=crash,actor=ghost"], "actor 'ghost' is not an actor"),
    (
        ["incident-2025", "--fault", "kind=clock-skew,actor=enactor-z,offset=5"],
        "actor 'enactor-z' is not an actor",
    ),
    (
        ["incident-2025", "--fault", "kind=pause,seconds=1,name=enactor-c-slow-route53"],
        "fault name 'enactor-c-slow-route53' is taken",
    ),
    (
        [
            "incident-2025",
            "--fault",
            "kind=pause,seconds=1,name=x",
            "--fault",
            "kind=pause,seconds=2,name=x",
        ],
        "fault name 'x' is taken",
    ),
    (["incident-2025", "--set", "nokey"], "--set 'nokey': not KEY=VALUE"),
    (["incident-2025", "--set", "scenario.duration=nan"], "scenario.duration: nan"),
    (["incident-2025", "--set", "scenario.duration=-inf"], "scenario.duration: -inf"),
    (["incident-2025", "--set", "world.fleet_size=101"], "world.fleet_size: 101"),
    (["incident-2025", "--set", "limits.max_steps=-5"], "limits.max_steps: -5"),
    (["incident-2025", "--set", "nope.key=1"], "nope: unknown key"),
    (["incident-2025", "--set", "scenario.name.x=1"], "scenario.name is not a table"),
    (["incident-2025", "--set", "..=1"], "not a dotted key"),
    (["cascade-2025", "--set", "cascade.nlb_share=1.5"], "cascade.nlb_share: 1.5"),
    (["cascade-2025", "--set", 'cascade.mitigations=["prayer"]'], "'prayer' is not a mitigation"),
    (["cascade-2025", "--set", "cascade.tick=0.5"], "cascade.tick"),
    (["cascade-2025", "--set", "cascade.race_by=nan"], "cascade.race_by"),
    (["cascade-2025", "--set", "cascade.dwfm_hosts=0"], "cascade.dwfm_hosts"),
    (
        ["incident-2025", "--set", "script.behind=20"],
        "the script needs the regional endpoint first",
    ),
    (["incident-2025-scripted", "--set", "script.cleanup_window=0"], "script.cleanup_window: 0"),
    (["no-such-scenario"], "scenario 'no-such-scenario': unknown"),
]


@pytest.mark.parametrize(("argv", "culprit"), RUN_FLAGS)
def test_a_bad_run_flag(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], argv: list[str], culprit: str
) -> None:
    out, hist = tmp_path / "out.json", tmp_path / "hist.jsonl"
    code, err = _cli(["run", *argv, "--json", str(out), "--history", str(hist), "-q"], capsys)
    _refused(code, err, culprit, out, hist)


def test_history_wall_without_history(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    code, err = _cli(["run", "incident-2025", "--history-wall", "--json", str(out)], capsys)
    _refused(code, err, "--history-wall", out)


FUZZ_FLAGS: list[tuple[list[str], str]] = [
    (["steady-state", "--budget", "forever"], "--budget"),
    (["steady-state", "--workers", "0"], "--workers 0"),
    (["steady-state", "--stop-after", "0"], "--stop-after 0"),
    (["steady-state", "--shrink-runs", "0"], "--shrink-runs 0"),
    (["incident-2025"], "has no [fuzz] fault space"),
    (["steady-state", "--variant", "nope"], "nope"),
    (["steady-state", "--dns", "powerdns"], "--dns 'powerdns'"),
]


@pytest.mark.parametrize(("argv", "culprit"), FUZZ_FLAGS)
def test_a_bad_fuzz_flag(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], argv: list[str], culprit: str
) -> None:
    out, store = tmp_path / "out.json", tmp_path / "store"
    code, err = _cli(["fuzz", *argv, "--store", str(store), "--json", str(out), "-q"], capsys)
    _refused(code, err, culprit, out, store)


def test_a_fuzz_store_that_is_a_file(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    store.write_text("not a directory\n")
    out = tmp_path / "out.json"
    code, err = _cli(
        ["fuzz", "steady-state", "--budget", "1", "--store", str(store), "--json", str(out)], capsys
    )
    _refused(code, err, f"--store {store}", out)


# ------------------------------------------------------------------ result files


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    if value is DROP:
        del data[path[-1]]
    else:
        data[path[-1]] = value


# (JSON path, new value, what the error names)
MUTATIONS: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("seed",), "x", "seed: 'x' is not of type 'integer'"),
    (("violations",), 5, "violations: 5 is not of type 'array'"),
    (("choices",), "x", "choices: 'x' is not of type 'array'"),
    (("spec", "seed"), "x", "spec.seed"),
    (("spec", "clock"), "moon", "spec.clock"),
    (("trace_digest",), 5, "trace_digest"),
    (("verdict",), "maybe", "verdict"),
    (("spec", "scenario"), DROP, "spec: 'scenario' is a required property"),
    (("choices", 0), ["enactor-a"], "choices[0]"),
    (("violations", 0, "t"), "soon", "violations[0].t"),
]


@pytest.mark.parametrize("command", ["replay", "shrink", "report"])
@pytest.mark.parametrize(("path", "value", "culprit"), MUTATIONS)
def test_a_result_file_with_a_bad_field(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    good_result: dict[str, Any],
    command: str,
    path: tuple[str | int, ...],
    value: Any,
    culprit: str,
) -> None:
    data = json.loads(json.dumps(good_result))
    _set(data, path, value)
    result = tmp_path / "bad.json"
    result.write_text(json.dumps(data))
    code, err = _cli(_result_argv(command, result, tmp_path), capsys)
    _refused(code, err, culprit, *_outputs(tmp_path))
    assert str(result) in err


def _result_argv(command: str, result: pathlib.Path, tmp_path: pathlib.Path) -> list[str]:
    if command == "replay":
        return ["replay", str(result), "--json", str(tmp_path / "out.json"), "-q"]
    if command == "shrink":
        return ["shrink", str(result), "-o", str(tmp_path / "out.json"), "-q"]
    return ["report", str(result), "-o", str(tmp_path / "out.html")]


def _outputs(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    yield tmp_path / "out.json"
    yield tmp_path / "out.html"


def _write_bytes(data: bytes) -> Callable[[pathlib.Path], pathlib.Path]:
    def make(tmp_path: pathlib.Path) -> pathlib.Path:
        path = tmp_path / "result.json"
        path.write_bytes(data)
        return path

    return make


UNREADABLE: list[tuple[Callable[[pathlib.Path], pathlib.Path], str]] = [
    (_write_bytes(b"\x00\xff\xfe\x01"), "not UTF-8 text"),
    (_write_bytes(b"{not json"), "not JSON"),
    (_write_bytes(b"[1, 2]"), "a JSON object is expected"),
    (lambda tmp: tmp / "missing.json", "no such file"),
]


@pytest.mark.parametrize("command", ["replay", "shrink", "report"])
@pytest.mark.parametrize(("make", "culprit"), UNREADABLE)
def test_an_unreadable_result_file(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    make: Callable[[pathlib.Path], pathlib.Path],
    culprit: str,
) -> None:
    result = make(tmp_path)
    code, err = _cli(_result_argv(command, result, tmp_path), capsys)
    _refused(code, err, culprit, *_outputs(tmp_path))


@pytest.mark.parametrize("command", ["replay", "shrink", "report"])
def test_a_result_file_that_is_a_directory(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    result = tmp_path / "result.json"
    result.mkdir()
    code, err = _cli(_result_argv(command, result, tmp_path), capsys)
    _refused(code, err, "is a directory", *_outputs(tmp_path))


# ------------------------------------------------------------------ output paths


@pytest.fixture
def result_file(tmp_path: pathlib.Path, good_result: dict[str, Any]) -> pathlib.Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(good_result))
    return path


OUTPUTS: list[tuple[str, str]] = [
    ("run --json", "--json"),
    ("run --history", "--history"),
    ("replay --json", "--json"),
    ("fuzz --json", "--json"),
    ("shrink -o", "-o"),
    ("report -o", "-o"),
]


def _output_argv(which: str, target: str, result: pathlib.Path) -> list[str]:
    return {
        "run --json": ["run", "incident-2025", "--json", target, "-q"],
        "run --history": ["run", "incident-2025", "--history", target, "-q"],
        "replay --json": ["replay", str(result), "--json", target, "-q"],
        "fuzz --json": ["fuzz", "steady-state", "--budget", "1", "--json", target, "-q"],
        "shrink -o": ["shrink", str(result), "-o", target, "-q"],
        "report -o": ["report", str(result), "-o", target + ".html"],
    }[which]


@pytest.mark.parametrize(("which", "flag"), OUTPUTS)
def test_an_output_path_under_a_file(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    result_file: pathlib.Path,
    which: str,
    flag: str,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "out"
    code, err = _cli(_output_argv(which, str(target), result_file), capsys)
    _refused(code, err, f"{flag} {target}", target)
    assert "is a file, not a directory" in err


@pytest.mark.parametrize(("which", "flag"), OUTPUTS)
def test_an_output_path_in_a_missing_directory(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    result_file: pathlib.Path,
    which: str,
    flag: str,
) -> None:
    target = tmp_path / "nowhere" / "out"
    code, err = _cli(_output_argv(which, str(target), result_file), capsys)
    _refused(code, err, "does not exist; create it first", target)
    assert not target.parent.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
@pytest.mark.parametrize(("which", "flag"), OUTPUTS)
def test_an_output_path_in_a_directory_without_write_permission(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    result_file: pathlib.Path,
    which: str,
    flag: str,
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    target = locked / "out"
    try:
        code, err = _cli(_output_argv(which, str(target), result_file), capsys)
    finally:
        locked.chmod(0o755)
    _refused(code, err, "not writable", target)


def test_an_output_path_that_is_a_directory(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _cli(["run", "incident-2025", "--json", str(tmp_path)], capsys)
    _refused(code, err, "is a directory; give a file name")


def test_a_report_that_is_neither_html_nor_png(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], result_file: pathlib.Path
) -> None:
    out = tmp_path / "report.txt"
    code, err = _cli(["report", str(result_file), "-o", str(out)], capsys)
    _refused(code, err, f"-o {out}", out)


def test_a_report_history_that_is_missing(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], result_file: pathlib.Path
) -> None:
    out, history = tmp_path / "report.html", tmp_path / "missing.jsonl"
    code, err = _cli(
        ["report", str(result_file), "-o", str(out), "--history", str(history)], capsys
    )
    _refused(code, err, f"--history {history}", out)


@pytest.mark.parametrize(
    ("lines", "culprit"),
    [
        ("[1]\n", "line 1 is not a history entry"),
        ('{"kind": "x"}\n', "line 1"),
        ("{\n", "not JSON"),
    ],
)
def test_a_report_history_that_is_not_a_history(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    result_file: pathlib.Path,
    lines: str,
    culprit: str,
) -> None:
    out, history = tmp_path / "report.html", tmp_path / "history.jsonl"
    history.write_text(lines)
    code, err = _cli(
        ["report", str(result_file), "-o", str(out), "--history", str(history)], capsys
    )
    _refused(code, err, f"--history {history}: {culprit}", out)


def test_an_output_path_that_is_a_pipe(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    code, err = _cli(["run", "incident-2025", "--json", str(pipe), "-q"], capsys)
    _refused(code, err, f"--json {pipe}: not a regular file")
    assert pipe.is_fifo(), "the pipe is left alone"


def test_shrink_max_runs_below_one(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], result_file: pathlib.Path
) -> None:
    out = tmp_path / "shrunk.json"
    code, err = _cli(["shrink", str(result_file), "-o", str(out), "--max-runs", "0"], capsys)
    _refused(code, err, "--max-runs 0", out)


# ------------------------------------------------------------------ as a real process


@pytest.mark.parametrize(
    ("argv", "culprit"),
    [
        (["run", "{dir}/dir.toml"], "is a directory"),
        (["replay", "{dir}/dir.toml"], "is a directory"),
        (
            [
                "run",
                "incident-2025",
                "--target",
                "moto-server",
                "--endpoint-url",
                "http://127.0.0.1:1",
            ],
            "http://127.0.0.1:1",
        ),
    ],
)
def test_as_a_process(tmp_path: pathlib.Path, argv: list[str], culprit: str) -> None:
    (tmp_path / "dir.toml").mkdir()
    out = tmp_path / "out.json"
    argv = [a.format(dir=tmp_path) for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", "dnschaos.cli", *argv, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    _refused(done.returncode, done.stderr, culprit, out)


def test_an_output_directory_the_user_may_not_write(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root every directory is writable; the refusal itself is checked through os.access."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if str(path) == str(locked) else real(path, mode)
    )
    target = locked / "out.json"
    code, err = _cli(["run", "incident-2025", "--json", str(target), "-q"], capsys)
    _refused(code, err, f"--json {target}: not writable", target)
