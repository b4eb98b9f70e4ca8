"""Bad input an adversarial user gives, table by table: files cut short, nested thousands
deep, holding 1e300 or an edited seed; names Route 53 or a terminal would not take; output
paths nothing can be written to. Every case exits 2 naming its culprit, prints no
traceback and writes nothing (a campaign store is left as it was)."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from dnschaos.cli import main

ROOT = pathlib.Path(__file__).parents[2]
OPS = (ROOT / "examples" / "ops_script.toml").read_text()
STEADY = (ROOT / "fixtures" / "scenarios" / "steady-state.toml").read_text()
DEEP_TOML = "[x]\ny = " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_JSON = '{"a":' * 5000 + "1" + "}" * 5000


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _refused(code: int, err: str, culprit: str) -> None:
    assert code == 2, err
    assert culprit in err, err
    assert "Traceback" not in err, err


def _digest(directory: pathlib.Path) -> dict[str, str]:
    """Every file of a directory and its content's digest: what a refusal must not change."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------ scenario files

# (scenario text, an edit of it, what the error names)
SCENARIOS: list[tuple[str, Callable[[str], str], str]] = [
    (OPS, lambda t: t + DEEP_TOML, "nested too deeply"),
    (OPS, lambda t: t + "[limits]\nmax_wall_seconds = 1e300\n", "limits.max_wall_seconds"),
    (OPS, lambda t: t + "[limits]\nmax_steps = 99999999999999999999\n", "limits.max_steps"),
    (
        OPS,
        lambda t: t.replace('name = "example.com"', 'name = "exa mple.com"'),
        "world.zones[0].name: 'exa mple.com'",
    ),
    (
        OPS,
        lambda t: t.replace('name = "example.com"', 'name = "ex\u00e4mple.com"'),
        "world.zones[0].name",
    ),
    (
        OPS,
        lambda t: t.replace(
            'values = ["192.0.2.1"] }]\n\n[[world.zones]]',
            'values = ["999.1.1.1"] }]\n\n[[world.zones]]',
        ),
        "world.zones[0].records[0].values",
    ),
    (
        OPS,
        lambda t: t.replace('{ name = "www.example.com"', '{ name = "www.example.org"', 1),
        "not permitted in zone example.com.",
    ),
    (
        OPS,
        lambda t: t.replace('{ name = "www.example.com"', '{ name = "www..example.com"', 1),
        "world.zones[0].records[0].name",
    ),
    (OPS, lambda t: t.replace('name = "ops"', 'name = "ops\U0001f600"'), "actors[0].name"),
    (OPS, lambda t: t.replace('name = "ops"', 'name = "op\u00e9"'), "actors[0].name"),
    (OPS, lambda t: t.replace('name = "ops"', 'name = "o ps"'), "actors[0].name"),
    (OPS, lambda t: t.replace('name = "ops-script"', 'name = "ops\\u0000"'), "scenario.name"),
    (
        OPS,
        lambda t: t.replace('name = "ops-script"', 'name = "ops\\u202escript"'),
        "scenario.name",
    ),
    (
        STEADY,
        lambda t: t.replace("seconds = [0.5, 5.0]", "seconds = [5.0, 1.0]"),
        "fuzz.faults[0].seconds: [5.0, 1.0] is not a range [low, high]; write [1.0, 5.0]",
    ),
    (
        STEADY,
        lambda t: t + '[[faults]]\nname = "late"\nkind = "latency"\nseconds = 1.0\nstart = 1e8\n',
        "fault late: start 1e+08 is at or after the end of every run",
    ),
    (
        STEADY,
        lambda t: t + '[[faults]]\nname = "x\u202eb"\nkind = "latency"\nseconds = 1.0\n',
        "faults[0].name",
    ),
]


@pytest.mark.parametrize(("text", "edit", "culprit"), SCENARIOS)
def test_a_scenario_file(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    edit: Callable[[str], str],
    culprit: str,
) -> None:
    edited = edit(text)
    assert edited != text
    path = tmp_path / "scenario.toml"
    path.write_text(edited, encoding="utf-8")
    out, history = tmp_path / "out.json", tmp_path / "h.jsonl"
    code, err = _cli(["run", str(path), "--json", str(out), "--history", str(history)], capsys)
    _refused(code, err, culprit)
    assert str(path) in err, err
    assert not out.exists() and not history.exists()


# ------------------------------------------------------------------ flags

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="only root may seem to write /proc")

RUN = ["run", "steady-state", "-q"]
FUZZ = ["fuzz", "steady-state", "-q", "--budget", "1", "--store", "store"]
# (the command, its flags, what the error names)
FLAGS: list[Any] = [
    (RUN, ["--set", "limits.max_wall_seconds=1e300"], "--set 'limits.max_wall_seconds=1e300'"),
    (RUN, ["--set", "scenario.duration=" + "[" * 2000 + "]" * 2000], "nested too deeply"),
    (RUN, ["--fault", "kind=latency,seconds=1,seconds=2"], "seconds is given twice"),
    (RUN, ["--fault", "kind=latency,seconds=1,start=1e308"], "start: 1e+308 is beyond"),
    (RUN, ["--fault", "kind=latency,seconds=1e20"], "seconds: 1e+20 is beyond"),
    (RUN, ["--fault", "kind=latency,distribution=uniform,low=0,high=1e300"], "high: 1e+300"),
    (RUN, ["--fault", "kind=latency,seconds=1,start=5000"], "would never apply"),
    (RUN, ["--fault", "kind=latency,seconds=1,name=a\u202eb"], "name: 'a\\u202eb'"),
    (RUN, ["--fault", "kind=latency,seconds=1,name=\U0001f600"], "name:"),
    (RUN, ["--json", "x" * 300 + ".json"], "longer than 255 bytes"),
    (RUN, ["--history", "x" * 300 + ".jsonl"], "longer than 255 bytes"),
    pytest.param(RUN, ["--json", "/proc/out.json"], "--json /proc/out.json", marks=ROOT_ONLY),
    pytest.param(RUN, ["--json", "/sys/out.json"], "--json /sys/out.json", marks=ROOT_ONLY),
    pytest.param(RUN, ["--history", "/proc/h.jsonl"], "--history /proc/h.jsonl", marks=ROOT_ONLY),
    (RUN, ["--json", "a\x00b.json"], "a NUL byte is in no file name"),
    (FUZZ, ["--store", "s\x00"], "a NUL byte is in no file name"),
    (FUZZ, ["--budget", "0s"], "--budget '0s'"),
    (FUZZ, ["--budget", "0m"], "--budget '0m'"),
    (FUZZ, ["--json", "y" * 300 + ".json"], "longer than 255 bytes"),
    (FUZZ, ["--store", "z" * 300], "longer than 255 bytes"),
    pytest.param(FUZZ, ["--store", "/proc/store"], "--store /proc/store", marks=ROOT_ONLY),
    pytest.param(FUZZ, ["--store", "/sys/store"], "--store /sys/store", marks=ROOT_ONLY),
]


@pytest.mark.parametrize(("command", "flags", "culprit"), FLAGS)
def test_a_flag(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    flags: list[str],
    culprit: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = _cli([*command, *flags], capsys)
    _refused(code, err, culprit)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ campaign stores


def _edit(name: str, change: Callable[[dict[str, Any]], Any]) -> Callable[[pathlib.Path], None]:
    def apply(store: pathlib.Path) -> None:
        data = json.loads((store / name).read_text())
        changed = change(data)
        (store / name).write_text(json.dumps(data if changed is None else changed))

    return apply


def _text(name: str, text: str) -> Callable[[pathlib.Path], None]:
    return lambda store: (store / name).write_text(text)


def _cut(name: str) -> Callable[[pathlib.Path], None]:
    def apply(store: pathlib.Path) -> None:
        text = (store / name).read_text()
        (store / name).write_text(text[: len(text) // 2])

    return apply


def _directory(name: str) -> Callable[[pathlib.Path], None]:
    def apply(store: pathlib.Path) -> None:
        (store / name).unlink()
        (store / name).mkdir()

    return apply


STORES: list[tuple[Callable[[pathlib.Path], None], str]] = [
    (_cut("campaign.json"), "campaign.json: not JSON"),
    (_text("campaign.json", ""), "campaign.json: not JSON"),
    (_text("campaign.json", "\x00garbage"), "campaign.json: not JSON"),
    (_text("campaign.json", "[1, 2]"), "campaign.json: (top level): an array"),
    (_text("campaign.json", DEEP_JSON), "campaign.json: nested too deeply"),
    (_text("campaign.json", '{"runs": NaN}'), "campaign.json: not JSON"),
    (_text("campaign.json", '{"runs": 1e400}'), "campaign.json: not JSON"),
    (_directory("campaign.json"), "campaign.json: is a directory"),
    (_edit("campaign.json", lambda d: d.update(runs="x")), "runs: 'x' is not an integer"),
    (_edit("campaign.json", lambda d: d.update(runs=-5)), "runs: -5 is not a whole number"),
    (_edit("campaign.json", lambda d: d.update(failures=-1)), "failures: -1"),
    (_edit("campaign.json", lambda d: d.update(next_index=10**30)), "next_index"),
    (_edit("campaign.json", lambda d: d.update(next_index=10**12)), "next_index"),
    (_edit("campaign.json", lambda d: d.update(started=[10**6])), "started"),
    (_edit("campaign.json", lambda d: d.update(wall_seconds=-3.0)), "wall_seconds"),
    (_edit("campaign.json", lambda d: d.update(groups=[1])), "groups: [1] is not a table"),
    (_edit("campaign.json", lambda d: d.update(seed=99)), "edited since it was written"),
    (_edit("campaign.json", lambda d: d.update(scenario="x")), "edited since it was written"),
    (
        _edit("campaign.json", lambda d: d["spec"].update(seed=5)),
        "edited since it was written",
    ),
    (
        _edit("campaign.json", lambda d: d.update(strategies=["dfs"])),
        "edited since it was written",
    ),
    (
        _edit(
            "campaign.json",
            lambda d: [g.update(files=["../../etc/passwd"]) for g in d["groups"].values()] and d,
        ),
        ".files",
    ),
    (_text("coverage.json", "garbage"), "coverage.json: not JSON"),
    (_text("coverage.json", "[]"), "coverage.json: (top level): an array"),
    (_text("coverage.json", DEEP_JSON), "coverage.json: nested too deeply"),
    (_edit("coverage.json", lambda d: d.update(states=[1, 2])), "coverage.json: not"),
    (_edit("coverage.json", lambda d: d.update(growth=[["x"]])), "coverage.json: not"),
]


@pytest.mark.parametrize(("damage", "culprit"), STORES)
def test_a_campaign_store_on_resume(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    campaign_store: pathlib.Path,
    damage: Callable[[pathlib.Path], None],
    culprit: str,
) -> None:
    store = tmp_path / "store"
    shutil.copytree(campaign_store, store)
    damage(store)
    before = _digest(store)
    argv = ["fuzz", "steady-state", "--budget", "1", "--store", str(store), "--resume", "-q"]
    code, err = _cli(argv, capsys)
    _refused(code, err, culprit)
    assert _digest(store) == before


# ------------------------------------------------------------------ result files


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("result") / "result.json"
    argv = ["run", "steady-state", "--strategy", "delay", "--seed", "3", "--json", str(out), "-q"]
    assert main(argv) in (0, 1)
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def _negative_delay(data: dict[str, Any]) -> None:
    for choice in data["choices"]:
        if choice[1].startswith("delay "):
            choice[1] = "delay -5.000s"
            return
    raise AssertionError("the run recorded no delay")


RESULTS: list[tuple[Callable[[dict[str, Any]], Any], str]] = [
    (lambda d: DEEP_JSON, "nested too deeply"),
    (lambda d: d.update(steps=10**30), "steps"),
    (lambda d: d.update(strategy="pct"), "edited since it was written"),
    (lambda d: d["spec"].update(strategy="pct"), "edited since it was written"),
    (lambda d: d["spec"].update(seed=8), "edited since it was written"),
    (lambda d: d["versions"].update(moto="0.0.1"), "edited since it was written"),
    (_negative_delay, "'delay -5.000s' holds an actor for -5s"),
]


@pytest.mark.parametrize("command", ["replay", "shrink", "report"])
@pytest.mark.parametrize(("change", "culprit"), RESULTS)
def test_a_result_file(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    result: dict[str, Any],
    command: str,
    change: Callable[[dict[str, Any]], Any],
    culprit: str,
) -> None:
    data = json.loads(json.dumps(result))
    changed = change(data)
    path = tmp_path / "result.json"
    path.write_text(changed if isinstance(changed, str) else json.dumps(data))
    out = tmp_path / ("out.html" if command == "report" else "out.json")
    argv = [command, str(path)]
    argv += ["--max-runs", "2", "-o", str(out)] if command == "shrink" else []
    argv += ["-o", str(out)] if command == "report" else []
    code, err = _cli(argv, capsys)
    _refused(code, err, culprit)
    assert str(path) in err, err
    assert not out.exists()


def test_an_unedited_result_still_replays(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], result: dict[str, Any]
) -> None:
    """The seal refuses edits only: the file as written replays (exit of its verdict)."""
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    code, err = _cli(["replay", str(path)], capsys)
    assert code == (1 if result["verdict"] == "fail" else 0), err


@pytest.mark.parametrize(
    ("output", "culprit"),
    [
        ("r" * 300 + ".html", "longer than 255 bytes"),
        pytest.param("/proc/report.html", "-o /proc/report.html", marks=ROOT_ONLY),
        pytest.param("/sys/report.html", "-o /sys/report.html", marks=ROOT_ONLY),
    ],
)
def test_a_report_output(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    result: dict[str, Any],
    output: str,
    culprit: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    pathlib.Path("result.json").write_text(json.dumps(result))
    code, err = _cli(["report", "result.json", "-o", output], capsys)
    _refused(code, err, culprit)
    assert sorted(os.listdir(".")) == ["result.json"]


@pytest.mark.parametrize("command", [["replay"], ["shrink"], ["report", "-o", "r.html"]])
def test_a_result_path_with_a_nul_byte(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = _cli([command[0], "x\x00.json", *command[1:]], capsys)
    _refused(code, err, "a NUL byte is in no file name")
    assert os.listdir(".") == []
