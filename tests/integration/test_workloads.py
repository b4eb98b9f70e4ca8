"""Workloads as plug-ins: the user's world has everything the built-in one has (DNS through
real servers, composition with a workload, exploration), and wrong combinations are refused.

The automation under test here is written for the test, as an SRE would write it: a
blue/green switch racing a janitor (userdns/bluegreen.py), and an ops script that deletes
"old" plan trees beside the built-in enactors (compose/opsclean.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dnschaos
from dnschaos.cli import main
from dnschaos.story import tell

HERE = Path(__file__).parent
USERDNS = HERE / "userdns"
COMPOSE = HERE / "compose"


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch) -> object:
    def enter(folder: Path) -> None:
        monkeypatch.chdir(folder)
        monkeypatch.syspath_prepend(str(folder))

    return enter


def _empty_answers(result: dnschaos.RunResult) -> list[dict[str, object]]:
    return [
        e
        for e in result.history
        if e["kind"] == "probe"
        and e["endpoint"] == "www.example.com"
        and e["rcode"] in ("NXDOMAIN", "NOERROR")
        and e["answers"] == 0
    ]


def test_a_user_scenario_served_through_knot_shows_the_race_to_clients(
    tmp_path: Path, in_dir: object
) -> None:
    in_dir(USERDNS)  # type: ignore[operator]
    out = tmp_path / "r.json"
    code = main(["run", "bluegreen.toml", "--seed", "1", "--json", str(out), "-q"])
    assert code == 1
    recorded = json.loads(out.read_text())
    [violation] = recorded["violations"]
    assert violation["invariant"] == "endpoint-never-empty-client"
    assert violation["endpoint"] == "www.example.com"
    assert "NXDOMAIN" in violation["detail"]
    assert recorded["dns"]["server"] == "knot"
    # The same run, replayed from its recorded choices, gives the same history.
    assert main(["replay", str(out), "-q"]) == 1
    again = dnschaos.replay(str(out))
    assert again.result.trace_digest == recorded["trace_digest"]
    # The story names the writes behind what clients saw: the flip, then the delete.
    lines = tell(list(again.result.history), again.result.headline)
    assert any("deployer UPSERT www.example.com A -> green.example.com" in line for line in lines)
    assert any("janitor DELETE green.example.com" in line for line in lines)


def test_the_same_world_as_a_simulation_gives_the_same_verdict(in_dir: object) -> None:
    in_dir(USERDNS)  # type: ignore[operator]
    sys.modules.pop("bluegreen", None)
    from bluegreen import simulation  # type: ignore[import-not-found]

    result = simulation().run(seed=1)
    assert result.verdict == "fail"
    assert result.headline.invariant == "endpoint-never-empty-client"
    assert _empty_answers(result), "a probe saw www answer with nothing"
    by_name = dnschaos.run("bluegreen:simulation", seed=1)
    assert by_name.trace_digest == result.trace_digest
    assert dnschaos.replay(by_name).result.trace_digest == result.trace_digest


@pytest.mark.skipif(
    shutil.which("faketime") is None
    and not Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1").exists()
    and not Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1").exists(),
    reason="needs libfaketime for a resolver under virtual time",
)
def test_a_user_world_through_knot_with_unbound_in_front(in_dir: object) -> None:
    in_dir(USERDNS)  # type: ignore[operator]
    sys.modules.pop("bluegreen", None)
    result = dnschaos.run("bluegreen:simulation_unbound", seed=1)
    assert result.verdict == "fail"
    views = {e["view"] for e in _empty_answers(result)}
    assert "cached" in views, "clients behind the cache saw www answer with nothing"
    assert dnschaos.replay(result).result.trace_digest == result.trace_digest


def test_an_ops_script_racing_the_built_in_enactors_deletes_the_active_tree(
    in_dir: object,
) -> None:
    in_dir(COMPOSE)  # type: ignore[operator]
    result = dnschaos.run("ops.toml", variant="safe", seed=6)
    assert result.verdict == "fail"
    assert "active-plan-never-deleted" in {v.invariant for v in result.violations}
    names = {e["actor"] for e in result.history if e["kind"] == "invoke"}
    assert {"ops", "planner", "enactor-a", "enactor-b", "enactor-c"} <= names
    # The story of the deleted active tree names the ops script's call.
    deleted = next(v for v in result.violations if v.invariant == "active-plan-never-deleted")
    lines = tell(list(result.history), deleted)
    assert any(" ops deleted plan 1's tree, the ACTIVE tree" in line for line in lines), lines
    assert dnschaos.replay(result).result.trace_digest == result.trace_digest


def test_a_workload_invariant_named_by_a_composed_scenario_is_judged(
    tmp_path: Path, in_dir: object
) -> None:
    in_dir(COMPOSE)  # type: ignore[operator]
    text = (COMPOSE / "ops.toml").read_text()
    path = tmp_path / "named.toml"
    path.write_text(text + '\n[[invariants]]\nfunction = "active-plan-never-deleted"\n')
    result = dnschaos.run(
        str(path), variant="safe", seed=6, invariants=("active-plan-never-deleted",)
    )
    assert [v.invariant for v in result.violations] == ["active-plan-never-deleted"]


WRONG = [
    (
        '[scenario]\nname = "x"\n[[actors]]\nname = "e"\n'
        'function = "dnschaos.workloads.incident2025.actors:enactor"\nargs = {variant = "safe"}\n',
        [],
        "an actor of the incident-2025 workload",
    ),
    (
        '[scenario]\nname = "x"\n[[actors]]\nname = "a"\nfunction = "os:getcwd"\n'
        '[[invariants]]\nfunction = "active-plan-never-deleted"\n',
        [],
        "which scenario x does not switch on",
    ),
    (
        '[scenario]\nname = "x"\n[[actors]]\nname = "a"\nfunction = "os:getcwd"\n'
        '[[invariants]]\nfunction = "endpoint-never-empty-client"\n',
        [],
        "no DNS side",
    ),
    (
        '[scenario]\nname = "x"\n[[actors]]\nname = "a"\nfunction = "os:getcwd"\n',
        ["--variant", "safe"],
        "--variant safe: no workload of scenario",
    ),
    (
        '[scenario]\nname = "x"\n[[actors]]\nname = "a"\n'
        'function = "dnschaos.byo.invariants:never_empty"\n',
        [],
        "name dnschaos.invariants:never_empty",
    ),
    ('[scenario]\nname = "x"\n', [], "give at least one [[actors]] entry"),
]


@pytest.mark.parametrize(("text", "flags", "said"), WRONG)
def test_wrong_combinations_exit_2_saying_what_is_missing(
    tmp_path: Path, text: str, flags: list[str], said: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnschaos.cli",
            "run",
            str(path),
            *flags,
            "--json",
            str(tmp_path / "o.json"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o.json").exists()
