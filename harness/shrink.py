"""Minimal failing cases.

A fuzz case is a seed, a strategy and a list of faults (``--fault`` texts). A
failing case is reduced, one re-run per try, keeping every change after which
the run still fails *the same invariant* (the first one violated):

1. faults: drop them one at a time, as long as one can go;
2. values: halve each remaining fault's magnitudes (seconds, probabilities,
   plans ahead) while it still fails;
3. the schedule: re-run the case's recorded choices with the shrinker's guided
   strategy, taking out preemptions (switches away from an actor that could have
   gone on) in ever smaller groups, delta-debugging style.

Every try is a full deterministic run, so the shrunk case is itself a normal
recorded run: ``dnschaos replay`` reproduces it from its stored choices. Tries
are bounded (``max_runs``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dnschaos.faultspace import from_flag, numeric_keys, to_flag
from dnschaos.runner import RunResult, Scenario, run
from dnschaos.scenario import fault_from_flag
from dnschaos.sim.strategies import GuidedStrategy, preemptions


@dataclass(frozen=True)
class Case:
    seed: int
    strategy: str = "random"
    faults: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "strategy": self.strategy, "faults": list(self.faults)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        return cls(int(data["seed"]), str(data.get("strategy", "random")), tuple(data["faults"]))


def with_faults(scenario: Scenario, faults: Sequence[str]) -> Scenario:
    built = tuple(fault_from_flag(text, i) for i, text in enumerate(faults))
    return replace(scenario, faults=scenario.faults + built, cli_faults=tuple(faults))


def run_case(scenario: Scenario, variant: str, case: Case, *, guide: Any = None) -> RunResult:
    return run(
        with_faults(scenario, case.faults),
        variant,
        seed=case.seed,
        strategy=case.strategy,
        guide=guide,
    )


def signature(result: RunResult) -> str | None:
    """The invariant a failing run broke first (None when it did not fail)."""
    if result.verdict != "fail" or not result.violations:
        return None
    first = min(result.violations, key=lambda v: (v.t, v.invariant))
    return first.invariant


@dataclass(frozen=True)
class Size:
    faults: int
    magnitude: float  # the sum of the faults' shrinkable values
    choices: int
    preemptions: int

    def to_json(self) -> dict[str, Any]:
        return {
            "faults": self.faults,
            "magnitude": round(self.magnitude, 3),
            "choices": self.choices,
            "preemptions": self.preemptions,
        }


def size_of(case: Case, result: RunResult) -> Size:
    magnitude = 0.0
    for text in case.faults:
        fault = from_flag(text)
        magnitude += sum(float(fault[k]) for k in numeric_keys(fault))
    return Size(len(case.faults), magnitude, len(result.choices), len(preemptions(result.choices)))


@dataclass
class Shrunk:
    case: Case
    result: RunResult
    invariant: str
    before: Size
    after: Size
    runs: int = 0
    log: list[str] = field(default_factory=list)


def shrink(
    scenario: Scenario,
    variant: str,
    case: Case,
    *,
    original: RunResult | None = None,
    max_runs: int = 40,
    progress: Callable[[str], None] | None = None,
) -> Shrunk:
    say = progress or (lambda _m: None)
    first = original or run_case(scenario, variant, case)
    target = signature(first)
    if target is None:
        raise ValueError(f"case seed={case.seed} does not fail: nothing to shrink")
    state = Shrunk(case, first, target, size_of(case, first), size_of(case, first))

    def attempt(candidate: Case, guide: Any = None, what: str = "") -> RunResult | None:
        if state.runs >= max_runs:
            return None
        state.runs += 1
        result = run_case(scenario, variant, candidate, guide=guide)
        if signature(result) == target:
            state.log.append(f"kept: {what}")
            say(f"shrink: {what} still fails {target}")
            return result
        return None

    # 1. fewer faults
    changed = True
    while changed and state.runs < max_runs:
        changed = False
        for i in range(len(state.case.faults)):
            fewer = replace(state.case, faults=state.case.faults[:i] + state.case.faults[i + 1 :])
            got = attempt(fewer, what=f"without fault {state.case.faults[i].split(',')[0]}")
            if got is not None:
                state.case, state.result, changed = fewer, got, True
                break
    # 2. smaller values
    for i in range(len(state.case.faults)):
        fault = from_flag(state.case.faults[i])
        for key in numeric_keys(fault):
            for _ in range(4):
                value = fault[key]
                smaller: float | int = (
                    max(1, value // 2) if isinstance(value, int) else round(value / 2, 3)
                )
                if smaller == value:
                    break
                trial = {**fault, key: smaller}
                faults = list(state.case.faults)
                faults[i] = to_flag(trial)
                candidate = replace(state.case, faults=tuple(faults))
                got = attempt(candidate, what=f"{key}={smaller} in fault {i}")
                if got is None:
                    break
                state.case, state.result, fault = candidate, got, trial
    # 3. fewer preemptions: ddmin over the switches of the recorded schedule
    recorded = state.result.choices
    switches = preemptions(recorded)
    dropped: frozenset[int] = frozenset()
    chunks = 2
    while switches and chunks <= len(switches) and state.runs < max_runs:
        size = -(-len(switches) // chunks)
        progress_made = False
        for start in range(0, len(switches), size):
            part = frozenset(switches[start : start + size])
            guide = GuidedStrategy(recorded, dropped | part)
            got = attempt(state.case, guide, f"{len(dropped | part)} switches taken out")
            if got is not None:
                dropped |= part
                switches = [s for s in switches if s not in part]
                state.result = got
                chunks = max(chunks - 1, 2)
                progress_made = True
                break
        if not progress_made:
            chunks *= 2
    if dropped:
        # The schedule the kept run actually followed is its own recording.
        state.case = replace(state.case, strategy="guided")
    state.after = size_of(state.case, state.result)
    return state
