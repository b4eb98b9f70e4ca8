"""One description of a run: spec -> run -> result -> RunSpec.from_result -> the same run.

Every way of re-running a case (replay, shrink, report, campaigns, the plugin) goes
through ``RunSpec.from_result``; these tests hold it to the promise that the rebuilt
run is the same run, for specs that once came back different.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from dnschaos.explore.replay import replay
from dnschaos.runner import run
from dnschaos.scenario.resolve import resolve
from dnschaos.scenario.spec import RunSpec

REPO = Path(__file__).resolve().parents[2]
CUSTOM = "tests.integration.custom_enactor"
SHORT = (("scenario.duration", 150.0),)

GRID = {
    "user-subclass-without-variant": RunSpec(
        "incident-2025", variant=f"{CUSTOM}:PlainSafeSubclass", seed=3, overrides=SHORT
    ),
    "custom-planner": RunSpec(
        "incident-2025", planner=f"{CUSTOM}:EveryOtherPlanner", seed=3, overrides=SHORT
    ),
    "mitigation": RunSpec(
        "cascade-2025",
        seed=15,
        mitigations=("dwfm-throttle",),
        overrides=(("scenario.duration", 900.0),),
    ),
    "fault": RunSpec(
        "incident-2025",
        seed=2,
        faults=("kind=latency,actor=enactor-c,service=route53,seconds=40,start=20,end=120",),
        overrides=SHORT,
    ),
    "pct-depth-2": RunSpec("incident-2025", strategy="pct", pct_depth=2, seed=5, overrides=SHORT),
    "knot": RunSpec(
        "incident-2025-dns", dns="knot", seed=4, overrides=(("scenario.duration", 40.0),)
    ),
    "invariant-and-limits": RunSpec(
        "incident-2025",
        seed=7,
        invariants=("active-plan-never-deleted",),
        max_steps=50_000,
        overrides=SHORT,
    ),
}


@pytest.mark.parametrize("name", sorted(GRID))
def test_a_result_rebuilds_the_same_run(name: str, tmp_path: Path) -> None:
    if name == "knot":
        from tests.e2e.test_dns_servers import require

        require("knot")
    result = run(GRID[name])
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result.to_json()))
    spec = RunSpec.from_result(path)
    assert spec == result.spec
    # As given, never a parent's name; a spec that named none records the workload's default.
    assert spec.variant == (GRID[name].variant or "legacy")
    # Run again from the rebuilt spec alone: the same history, byte for byte.
    again = run(spec)
    assert again.trace_digest == result.trace_digest
    assert again.spec == spec
    # And following the recorded choices gives it too.
    assert replay(path).matches


def test_the_spec_json_is_an_exact_inverse() -> None:
    for spec in GRID.values():
        resolved = resolve(spec)
        assert RunSpec.from_json(json.loads(json.dumps(resolved.to_json()))) == resolved


def test_a_changed_scenario_file_is_named_instead_of_replayed(tmp_path: Path) -> None:
    from dnschaos.errors import UsageError
    from dnschaos.scenario.load import scenario_text

    scenario = tmp_path / "mine.toml"
    scenario.write_text(scenario_text("incident-2025"))
    result = run(RunSpec(str(scenario), seed=1, overrides=SHORT))
    scenario.write_text(
        scenario_text("incident-2025").replace("duration = 360.0", "duration = 300.0")
    )
    with pytest.raises(UsageError, match="changed since this run was recorded"):
        run(RunSpec.from_result(result.to_json()))


def test_a_real_clock_run_records_its_spec_but_refuses_replay(tmp_path: Path) -> None:
    """Free threads on wall time interleave as the OS likes: such a run is described exactly
    (knot behind unbound, say) but has no recorded interleaving to replay."""
    from dnschaos.errors import UsageError
    from tests.e2e.test_dns_servers import require

    require("knot", "unbound")
    spec = RunSpec(
        "incident-2025-dns",
        dns="knot",
        resolver="unbound",
        clock="real",
        time_scale=0.05,
        seed=4,
        overrides=(("scenario.duration", 20.0),),
    )
    result = run(spec)
    assert RunSpec.from_result(result.to_json()) == result.spec
    assert (result.spec.dns, result.spec.resolver) == ("knot", "unbound")
    with pytest.raises(UsageError, match="no recorded interleaving"):
        replay(result.to_json())


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "dnschaos.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_replay_shrink_and_report_keep_a_users_classes(tmp_path: Path) -> None:
    """Once, shrink recorded the default planner (another system) and replay ran the parent
    class of a user's subclass (exit 3)."""
    out = tmp_path / "run.json"
    variant = f"{CUSTOM}:PlainSafeSubclass"
    planner = f"{CUSTOM}:EveryOtherPlanner"
    fault = "kind=pause,actor=enactor-c,seconds=90,start=20,end=200"
    made = _cli(
        "run",
        "incident-2025",
        "--variant",
        variant,
        "--planner",
        planner,
        "--seed",
        "2",
        "--fault",
        fault,
        "--set",
        "scenario.duration=200",
        "--keep-going",
        "--json",
        str(out),
        "-q",
        cwd=tmp_path,
    )
    assert made.returncode in (0, 1), made.stderr
    recorded = json.loads(out.read_text())
    assert recorded["spec"]["variant"] == variant and recorded["spec"]["planner"] == planner
    replayed = _cli("replay", str(out), "-q", cwd=tmp_path)
    assert replayed.returncode == made.returncode, replayed.stderr
    assert "same trace_digest" in replayed.stdout
    page = tmp_path / "report.html"
    reported = _cli("report", str(out), "-o", str(page), cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    assert page.stat().st_size > 0


def test_shrink_keeps_the_planner_and_the_shrunk_case_replays(tmp_path: Path) -> None:
    planner = f"{CUSTOM}:EveryOtherPlanner"
    base = RunSpec("incident-2025", planner=planner, overrides=(("scenario.duration", 240.0),))
    failing = next(
        r for r in (run(replace(base, seed=s)) for s in range(1, 30)) if r.verdict == "fail"
    )
    out = tmp_path / "fail.json"
    out.write_text(json.dumps(failing.to_json()))
    shrunk_path = tmp_path / "fail.shrunk.json"
    done = _cli("shrink", str(out), "--max-runs", "3", "-q", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    shrunk = json.loads(shrunk_path.read_text())
    assert shrunk["spec"]["planner"] == planner
    again = _cli("replay", str(shrunk_path), "-q", cwd=tmp_path)
    assert again.returncode == 1 and "same trace_digest" in again.stdout, again.stderr
