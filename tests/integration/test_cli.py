"""The dnschaos command on the scripted story (incident-2025-scripted): verdicts, exit codes, input errors."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from dnschaos.cli import main

FAST = ["--set", "script.behind=12", "--set", "script.cleanup_window=10"]


def test_legacy_incident_exits_1_and_tells_the_story(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "legacy.json"
    assert (
        main(["run", "incident-2025-scripted", "--variant", "legacy", "--json", str(out), *FAST])
        == 1
    )
    text = capsys.readouterr().out
    story = [line for line in text.splitlines() if line.startswith("  t=")]
    # The decisive operations, in INCIDENT.md's order.
    order = [
        "enactor-c checked plan 100",
        "enactor-a flipped the root to plan 112",
        "enactor-c flipped the root to plan 100",
        "the ACTIVE tree",
    ]
    positions = [next(i for i, line in enumerate(story) if key in line) for key in order]
    assert positions == sorted(positions)
    result = json.loads(out.read_text())
    assert any(
        v["invariant"] == "progress" and v["detail"].startswith("plan 113 ")
        for v in result["violations"]
    ), "the wedge: no enactor could apply plan 113"
    assert result["verdict"] == "fail"
    assert {v["invariant"] for v in result["violations"]} >= {
        "endpoint-never-empty",
        "active-plan-never-deleted",
        "applied-generation-monotonic",
        "progress",
    }


def test_safe_incident_exits_0_serving_the_newest_plan(tmp_path: pathlib.Path) -> None:
    history = tmp_path / "safe.jsonl"
    argv = ["run", "incident-2025-scripted", "--variant", "safe", "--history", str(history)]
    assert main([*argv, *FAST]) == 0
    events = [e for e in map(json.loads, history.read_text().splitlines()) if e["kind"] == "event"]
    # Enactor C, far behind, gives its stale plan up instead of flipping the root back.
    stale = [e for e in events if e["event"] == "stale-plan"]
    assert stale and all(
        (e["actor"], e["generation"], e["active"]) == ("enactor-c", 100, 112) for e in stale
    )
    last: dict[str, int] = {}
    for e in events:
        if e["event"] == "flipped":
            last[e["endpoint"]] = e["generation"]
    assert last and set(last.values()) == {113}  # every endpoint serves the newest plan


def test_same_seed_same_result(tmp_path: pathlib.Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        main(
            [
                "run",
                "incident-2025-scripted",
                "--variant",
                "legacy",
                "--seed",
                "3",
                "--json",
                str(path),
                "-q",
                *FAST,
            ]
        )
    first, second = json.loads(a.read_text()), json.loads(b.read_text())
    assert first.pop("wall_seconds") >= 0 and second.pop("wall_seconds") >= 0
    assert first == second  # the digest of the history included


def test_users_own_enactor_plugs_in(capsys: pytest.CaptureFixture[str]) -> None:
    spec = "tests.integration.custom_enactor:CautiousEnactor"
    assert main(["run", "incident-2025-scripted", "--variant", spec, *FAST]) == 0
    # Recorded as given: a class's own `variant` attribute never stands in for its spec.
    assert f"variant {spec} ·" in capsys.readouterr().out


def test_an_exception_in_a_users_own_enactor_is_a_violation_not_a_harness_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The class is code under test, as a user's actor is: its error is judged (exit 1).
    spec = "tests.integration.custom_enactor:FailingEnactor"
    argv = ["run", "incident-2025", "--variant", spec, "--seed", "3", "--set"]
    assert main([*argv, "scenario.duration=150"]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION: no-actor-error" in out
    assert "raised KeyError: 'generation' (at tests/integration/custom_enactor.py:" in out
    story = out.split("story:", 1)[1].split("VIOLATION", 1)[0]
    assert "enactor-b ChangeResourceRecordSets" in story  # what that enactor did up to it
    # The same run judged on that invariant alone, by name.
    assert main([*argv, "scenario.duration=150", "--invariant", "no-actor-error"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "incident-2025-scripted", "--variant", "reckless"],
            "choose one of legacy, safe, or module:Class",
        ),
        (
            ["run", "incident-2025-scripted", "--variant", "no.such.module:X"],
            "cannot import module 'no.such.module'",
        ),
        (
            [
                "run",
                "incident-2025-scripted",
                "--variant",
                "tests.integration.custom_enactor:NotAnEnactor",
            ],
            "does not implement the enactor variant protocol (missing run_once, run)",
        ),
        (
            ["run", "incident-2024"],
            "scenario 'incident-2024': unknown; choose one of cascade-2025, incident-2025",
        ),
        (
            ["run", "incident-2025-scripted", "--set", "script.behind=3"],
            "script.behind: 3 is not more than script.cleanup_window (10); enactor C must fall",
        ),
        (
            ["run", "incident-2025", "--json", "/no/such/dir/out.json"],
            "directory /no/such/dir does not exist",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_flag(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_console_script_exit_codes() -> None:
    exe = pathlib.Path(sys.executable).with_name("dnschaos")
    bad = subprocess.run(
        [str(exe), "run", "incident-2025", "--variant", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "--variant 'nope'" in bad.stderr
    usage = subprocess.run([str(exe), "run"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2


def test_a_users_own_planner_plugs_in_and_replays(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "planner.json"
    planner = "tests.integration.custom_enactor:EveryOtherPlanner"
    code = main(
        ["run", "incident-2025", "--planner", planner, "--seed", "3", "--json", str(out), "-q"]
    )
    assert code in (0, 1)
    recorded = json.loads(out.read_text())
    assert recorded["spec"]["planner"] == planner
    assert main(["replay", str(out), "-q"]) == code
    assert "same trace_digest" in capsys.readouterr().out
    history = tmp_path / "h.jsonl"
    main(
        [
            "run",
            "incident-2025",
            "--planner",
            planner,
            "--seed",
            "3",
            "--history",
            str(history),
            "-q",
        ]
    )
    assert '"event":"skipped-step"' in history.read_text()
    assert (
        main(["run", "incident-2025", "--planner", "tests.integration.custom_enactor:NotAnEnactor"])
        == 2
    )
    assert "--planner" in capsys.readouterr().err
