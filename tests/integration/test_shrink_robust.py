"""Shrinking never breaks a campaign: invalid candidates are skipped, and a shrink that
raises leaves the failure and the campaign's summary in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dnschaos.cli import main
from dnschaos.explore import shrink as shrink_module
from dnschaos.explore.shrink import Case, case_spec, shrink
from dnschaos.faults.space import from_flag, numeric_keys
from dnschaos.scenario.resolve import resolve
from dnschaos.scenario.spec import RunSpec

# Case 10 of the legacy steady-state campaign with seed 1: it fails only with its one
# fault. The fault's ``high`` comes before ``low``, as the fault space draws them, and
# an exponential latency ignores both, so halving ``high`` keeps the failure until it
# drops below ``low``, which the loader refuses.
FAULT = (
    "name=fuzz-0,distribution=exponential,high=2.238,kind=latency,low=0.777,actor=enactor-a,"
    "service=route53,seconds=3.491,start=20.449,where=after,end=100.736"
)
CASE = Case(seed=2580180321, strategy="random", faults=(FAULT,))


def test_a_candidate_the_loader_refuses_is_skipped_and_the_shrink_completes() -> None:
    assert numeric_keys(from_flag(FAULT))[:2] == ["high", "low"]
    base = resolve(RunSpec(scenario="steady-state", variant="legacy"))
    # Tries: without the fault (passes), high=1.119 (fails: kept), high=0.559 (below
    # low=0.777: refused), low=0.389 (kept). The budget ends the shrink there.
    done = shrink(case_spec(base, CASE), max_runs=4)
    assert done.runs == 4
    assert any(line.startswith("skipped: high=0.559 in fault 0") for line in done.log), done.log
    assert "kept: high=1.119 in fault 0" in done.log
    assert "kept: low=0.389 in fault 0" in done.log
    shrunk = from_flag(done.case.faults[0])
    assert (shrunk["high"], shrunk["low"]) == (1.119, 0.389)
    assert done.result.verdict == "fail" and done.after.magnitude < done.before.magnitude


def test_a_shrink_that_raises_leaves_the_failure_and_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the shrinker broke")

    monkeypatch.setattr(shrink_module, "shrink", broken)
    store = tmp_path / "store"
    summary = tmp_path / "summary.json"
    args = ["fuzz", "steady-state", "--variant", "legacy", "--seed", "1", "--budget", "2"]
    code = main([*args, "--workers", "1", "--store", str(store), "--json", str(summary)])
    assert code == 1  # the campaign's verdict, not a harness error
    err = capsys.readouterr().err
    assert "shrink of failure-000001.json failed: RuntimeError: the shrinker broke" in err
    state = json.loads((store / "campaign.json").read_text())
    assert (state["runs"], state["failures"], state["started"]) == (2, 1, [])
    [group] = state["groups"].values()
    assert group["files"] == ["failure-000001.json"]
    assert group["shrink_error"] == "RuntimeError: the shrinker broke"
    assert "shrunk" not in group
    failure = json.loads((store / "failure-000001.json").read_text())
    assert failure["verdict"] == "fail" and failure["case_index"] == 1
    assert not list(store.glob("shrunk-*.json"))
    out = json.loads(summary.read_text())
    assert out["failures"] == 1 and out["shrunk"] == []
