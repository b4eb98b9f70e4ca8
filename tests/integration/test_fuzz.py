"""Fuzz campaigns, the failure store, shrinking and replaying what they found."""

from __future__ import annotations

import json
import random
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from dnschaos.checkers import headline_dict
from dnschaos.cli import main
from dnschaos.explore.shrink import Case, case_spec, run_case, shrink, signature
from dnschaos.faults.space import draw_case, from_flag, to_flag
from dnschaos.scenario.resolve import load_scenario
from dnschaos.scenario.spec import RunSpec

SCHEMA = json.loads(resources.files("dnschaos").joinpath("result.schema.json").read_text())
STEADY = "steady-state"


def test_cases_are_drawn_from_the_fault_space_reproducibly() -> None:
    scenario = load_scenario(STEADY)
    a = draw_case(scenario.fuzz_faults, scenario.fuzz_max_faults, random.Random(3))
    b = draw_case(scenario.fuzz_faults, scenario.fuzz_max_faults, random.Random(3))
    assert a == b and 1 <= len(a) <= scenario.fuzz_max_faults
    for fault in a:
        assert from_flag(to_flag(fault)) == fault
        assert fault["kind"] in ("latency", "error", "lock-contention", "pause")
    kinds = {
        f["kind"]
        for seed in range(40)
        for f in draw_case(scenario.fuzz_faults, scenario.fuzz_max_faults, random.Random(seed))
    }
    assert kinds == {"latency", "error", "lock-contention", "pause"}


def test_a_bad_fault_template_is_refused_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = Path(f"fixtures/scenarios/{STEADY}.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('code = ["Throttling"', 'code = ["Gremlins"'))
    assert main(["fuzz", str(bad), "--budget", "1"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "fuzz.faults[1]" in err and "Throttling" in err


def test_fuzz_finds_stores_groups_shrinks_and_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    summary = tmp_path / "summary.json"
    code = main(
        [
            "fuzz",
            STEADY,
            "--variant",
            "legacy",
            "--budget",
            "90s",
            "--stop-after",
            "1",
            "--store",
            str(store),
            "--shrink-runs",
            "6",
            "--json",
            str(summary),
            "-q",
        ]
    )
    assert code == 1
    out = json.loads(summary.read_text())
    assert out["failures"] >= 1 and out["groups"] and out["first_failure_wall_seconds"] > 0
    failures = sorted(store.glob("failure-*.json"))
    assert failures
    stored = json.loads(failures[0].read_text())
    jsonschema.validate(
        {k: v for k, v in stored.items() if k not in ("case", "case_index")}, SCHEMA
    )
    assert stored["verdict"] == "fail" and stored["case"]["faults"] == stored["spec"]["faults"]
    # Every stored failure replays to the same history.
    assert main(["replay", str(failures[0]), "-q"]) == 1
    assert "same trace_digest" in capsys.readouterr().out
    # The first failure of its invariant was shrunk, and the shrunk case replays too.
    shrunk = json.loads((store / out["shrunk"][0]["file"].split("/")[-1]).read_text())
    before, after = shrunk["shrink"]["before"], shrunk["shrink"]["after"]
    assert after["faults"] <= before["faults"] and after["magnitude"] <= before["magnitude"]
    first = headline_dict(shrunk["violations"])
    assert first is not None and first["invariant"] == shrunk["shrink"]["invariant"]
    assert main(["replay", out["shrunk"][0]["file"], "-q"]) == 1
    state = json.loads((store / "campaign.json").read_text())
    assert state["next_index"] >= state["runs"] >= 1


def test_a_store_is_resumed_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    args = ["fuzz", STEADY, "--variant", "legacy", "--budget", "2", "--store", str(store)]
    assert main([*args, "--no-shrink", "-q"]) in (0, 1)
    first = json.loads((store / "campaign.json").read_text())
    assert first["runs"] == 2 and first["next_index"] == 2
    assert main([*args, "-q"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--resume", "--no-shrink", "-q"]) in (0, 1)
    again = json.loads((store / "campaign.json").read_text())
    assert again["runs"] == 4 and again["next_index"] == 4
    other = ["fuzz", STEADY, "--variant", "safe", "--budget", "1", "--store", str(store)]
    assert main([*other, "--resume"]) == 2
    assert "variant legacy" in capsys.readouterr().err


def test_shrinking_keeps_the_invariant_and_never_grows_the_case() -> None:
    base = RunSpec(STEADY, variant="legacy")
    case = Case(
        seed=5,
        strategy="random",
        faults=(
            "name=slow,kind=latency,distribution=fixed,seconds=4.0,actor=enactor-c,service=route53",
            "name=noise,kind=error,code=Throttling,actor=enactor-a,service=route53,probability=0.05",
        ),
    )
    original = run_case(base, case)
    target = signature(original)
    assert target is not None
    done = shrink(case_spec(base, case), original=original, max_runs=12)
    assert done.invariant == target and signature(done.result) == target
    assert done.after.faults <= done.before.faults
    assert done.after.magnitude <= done.before.magnitude
    assert done.runs <= 12
    # The noise was not needed for the race.
    assert not any("noise" in f for f in done.case.faults)


def test_fuzzing_a_scenario_without_a_fault_space_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["fuzz", "incident-2025", "--budget", "1"]) == 2
    assert "no [fuzz] fault space" in capsys.readouterr().err
    assert main(["fuzz", STEADY, "--budget", "soon"]) == 2
    assert "--budget 'soon'" in capsys.readouterr().err


def test_bad_fuzz_flags_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    for flags in (["--workers", "0"], ["--shrink-runs", "0"], ["--variant", "nope"]):
        assert main(["fuzz", STEADY, "--budget", "1", "--store", str(store), *flags]) == 2
        assert flags[0] in capsys.readouterr().err
        assert not store.exists()


def test_a_case_with_holds_runs_and_replays_from_its_choices(tmp_path: Path) -> None:
    from dnschaos.explore.replay import replay

    base = RunSpec("spin-model", variant="legacy", invariants=("active-plan-never-deleted",))
    plain = run_case(base, Case(3))
    held = run_case(base, Case(3, holds=(("enactor-b", 2, 40.0),)))
    assert held.trace_digest != plain.trace_digest
    assert any(c.label.startswith("delay 40.000s") for c in held.choices)
    path = tmp_path / "held.json"
    path.write_text(json.dumps(held.to_json()))
    assert replay(str(path), check=False).matches


def test_guided_fuzzing_finds_the_spin_model_race_and_stores_its_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No fault space, no faults: holds placed where coverage grows find the stale flip that
    blind random orders do not (the issue's 160 schedules never did)."""
    store = tmp_path / "guided"
    args = ["fuzz", "spin-model", "--variant", "legacy", "--guided", "--seed", "1"]
    args += ["--invariant", "active-plan-never-deleted", "--store", str(store)]
    assert main([*args, "--budget", "80", "--stop-after", "1", "--shrink-runs", "3"]) == 1
    out = capsys.readouterr().out
    assert "active-plan-never-deleted" in out and "coverage:" in out
    campaign = json.loads((store / "campaign.json").read_text())
    assert campaign["guided"] and campaign["coverage"]["states"] > 10
    coverage = json.loads((store / "coverage.json").read_text())
    assert len(coverage["states"]) == campaign["coverage"]["states"]
    assert coverage["growth"] and coverage["growth"][-1][2] == campaign["coverage"]["states"]
    corpus = json.loads((store / "corpus.json").read_text())
    assert corpus["corpus"] and any(e["case"].get("holds") for e in corpus["corpus"])
    failure = next(store.glob("failure-*.json"))
    jsonschema.validate(json.loads(failure.read_text()), SCHEMA)
    # The shrinker starts from the stored case, holds and all (not a fresh draw of its seed).
    shrunk = json.loads(next(store.glob("shrunk-*.json")).read_text())
    assert shrunk["case"].get("holds") == json.loads(failure.read_text())["case"].get("holds")
    assert main(["replay", str(failure), "-q"]) == 1
    assert "same trace_digest" in capsys.readouterr().out
    # Resumed, it goes on from its corpus; as a blind campaign it is refused.
    assert main([*args, "--budget", "2", "--resume", "--no-shrink"]) in (0, 1)
    assert json.loads((store / "campaign.json").read_text())["runs"] == campaign["runs"] + 2
    blind = [a for a in args if a != "--guided"]
    assert main([*blind, "--budget", "1", "--resume"]) == 2
    assert "--guided" in capsys.readouterr().err


def test_blind_fuzzing_without_a_fault_space_needs_a_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "delay"
    args = ["fuzz", "spin-model", "--budget", "2", "--store", str(store), "--no-shrink", "-q"]
    assert main([*args, "--strategy", "delay"]) in (0, 1)
    campaign = json.loads((store / "campaign.json").read_text())
    assert campaign["strategies"] == ["delay"] and campaign["runs"] == 2
    assert main(["fuzz", "spin-model", "--budget", "1", "--strategy", "nope"]) == 2
    assert "delay" in capsys.readouterr().err
    assert main(["fuzz", "steady-state", "--guided", "--strategy", "pct", "--budget", "1"]) == 2
