"""Minimal failing cases.

A fuzz case is a seed, a strategy and a list of faults (``--fault`` texts). A
failing case is reduced, one re-run per try, keeping every change after which
the run still fails *the same invariant* (the first one violated):

1. faults: drop them one at a time, as long as one can go;
2. values: halve each remaining fault's magnitudes (seconds, probabilities,
   plans ahead) while it still fails;
3. delays (``--strategy delay`` and ``dnschaos explore`` runs): re-run the
   recorded choices with the shrinker's guided strategy without each delay in
   turn, then with each remaining one halved while it still fails;
4. the schedule: re-run the case's recorded choices with the shrinker's guided
   strategy, taking out preemptions (switches away from an actor that could have
   gone on) in ever smaller groups, delta-debugging style.

Every try is a full deterministic run, so the shrunk case is itself a normal
recorded run: ``dnschaos replay`` reproduces it from its stored choices. Tries
are bounded (``max_runs``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from dnschaos.checkers import headline
from dnschaos.errors import UsageError
from dnschaos.faults.space import from_flag, numeric_keys, to_flag
from dnschaos.runner import RunResult, run
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.scheduler import Choice, delay_label, delay_seconds
from dnschaos.sim.strategies import (
    ExploreStrategy,
    GuidedStrategy,
    PlacedDelay,
    Point,
    delays,
    preemptions,
)


@dataclass(frozen=True)
class Case:
    seed: int
    strategy: str = "random"
    faults: tuple[str, ...] = ()
    # A guided fuzz case's holds: (actor, n, seconds) holds ``actor`` just before its n-th
    # AWS call, in a seeded random order (see :mod:`dnschaos.explore.guided`).
    holds: tuple[tuple[str, int, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seed": self.seed,
            "strategy": self.strategy,
            "faults": list(self.faults),
        }
        if self.holds:
            out["holds"] = [list(h) for h in self.holds]
        return out

    @classmethod
    def from_json(cls, data: Any, source: str = "case") -> Case:
        """A case as stored (a result's ``case``, a corpus), every value checked: an edited
        one is refused (exit 2) naming ``source`` and the key."""
        from dnschaos.scenario.spec import RUN_STRATEGIES
        from dnschaos.scenario.table import Table

        t = Table(source, "case", data)
        seed = t.get("seed", int, required=True)
        strategy = t.choice("strategy", RUN_STRATEGIES, "random")
        faults = t.get("faults", list, required=True)
        for text in faults:
            if not isinstance(text, str):
                t.fail(t.key("faults"), text, "a --fault text")
        holds = []
        for i, hold in enumerate(t.get("holds", list, [])):
            if not (
                isinstance(hold, list)
                and len(hold) == 3
                and isinstance(hold[0], str)
                and isinstance(hold[1], int)
                and not isinstance(hold[1], bool)
                and hold[1] >= 1
                and isinstance(hold[2], int | float)
                and not isinstance(hold[2], bool)
                and 0 <= hold[2] < math.inf
            ):
                t.fail(
                    t.key(f"holds[{i}]"),
                    hold,
                    "[actor, n, seconds] (n >= 1: the n-th AWS call; seconds >= 0)",
                )
            holds.append((hold[0], hold[1], float(hold[2])))
        return cls(seed, strategy, tuple(faults), tuple(holds))


def case_spec(base: RunSpec, case: Case) -> RunSpec:
    """The spec of one case: the base spec with the case's seed, strategy and faults."""
    return replace(base, seed=case.seed, strategy=case.strategy, faults=case.faults)


def case_of(spec: RunSpec) -> Case:
    return Case(int(spec.seed or 0), spec.strategy, spec.faults)


def run_case(base: RunSpec, case: Case, *, guide: Any = None) -> RunResult:
    if guide is None and case.holds:
        guide = held_order(case)
    return run(case_spec(base, case), guide=guide)


def held_order(case: Case) -> ExploreStrategy:
    """The strategy of a case with holds: the order drawn from the case's seed, each hold
    applied when its actor reaches the named call. Its result replays from its choices."""
    placed = [PlacedDelay(Point(a, n), s) for a, n, s in case.holds]
    return ExploreStrategy(placed, rng=random.Random(f"{case.seed}/held-order"))


def signature(result: RunResult) -> str | None:
    """The invariant of a failing run's headline violation (None when it did not fail)."""
    if result.verdict != "fail":
        return None
    first = headline(result.violations)
    return None if first is None else first.invariant


@dataclass(frozen=True)
class Size:
    faults: int
    magnitude: float  # the sum of the faults' shrinkable values
    choices: int
    preemptions: int
    delays: int = 0
    delayed: float = 0.0  # the delays' seconds, summed

    def to_json(self) -> dict[str, Any]:
        return {
            "faults": self.faults,
            "magnitude": round(self.magnitude, 3),
            "choices": self.choices,
            "preemptions": self.preemptions,
            "delays": self.delays,
            "delayed": round(self.delayed, 3),
        }


def size_of(case: Case, result: RunResult) -> Size:
    magnitude = 0.0
    for text in case.faults:
        fault = from_flag(text)
        magnitude += sum(float(fault[k]) for k in numeric_keys(fault))
    held = delays(result.choices)
    return Size(
        len(case.faults),
        magnitude,
        len(result.choices),
        len(preemptions(result.choices)),
        len(held),
        sum(delay_seconds(result.choices[i].label) or 0.0 for i in held),
    )


def _edited(choices: list[Choice], step: int, seconds: float | None) -> list[Choice]:
    """The recorded choices without the delay at ``step`` (None), or with it shortened."""
    if seconds is None:
        kept = choices[:step] + choices[step + 1 :]
    else:
        c = choices[step]
        kept = [
            *choices[:step],
            Choice(c.step, c.actor, delay_label(seconds)),
            *choices[step + 1 :],
        ]
    return [Choice(i, c.actor, c.label) for i, c in enumerate(kept)]


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
    spec: RunSpec,
    *,
    case: Case | None = None,
    original: RunResult | None = None,
    max_runs: int = 40,
    progress: Callable[[str], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Shrunk:
    """Reduce a failing run of ``spec`` (``original``, when it was already run) to a minimal
    one that fails the same invariant. Everything else in the spec (variant, planner, DNS,
    mitigations, limits) is kept: the shrunk case is the same system. ``case`` is the
    stored case when it says more than the spec (a guided case's holds). ``stop`` says
    when time is up: no re-run starts after it does, and the smallest case so far is
    the answer."""
    if spec.strategy not in ("random", "pct", "delay"):
        raise UsageError(
            f"shrink: a --strategy {spec.strategy} run cannot be re-drawn from its seed; "
            "shrink a random, pct or delay run"
        )
    if spec.clock != "sim":
        raise UsageError("shrink: a --clock real run has no recorded interleaving; use --clock sim")
    say = progress or (lambda _m: None)
    base, case = spec, case or case_of(spec)
    first = original or run_case(base, case)
    target = signature(first)
    if target is None:
        raise UsageError(f"shrink: the run with seed {case.seed} does not fail: nothing to shrink")
    state = Shrunk(case, first, target, size_of(case, first), size_of(case, first))

    def attempt(candidate: Case, guide: Any = None, what: str = "") -> RunResult | None:
        if state.runs >= max_runs:
            return None
        if stop is not None and stop():
            if not state.log or state.log[-1] != "stopped: budget":
                state.log.append("stopped: budget")
            return None
        state.runs += 1
        try:
            result = run_case(base, candidate, guide=guide)
        except UsageError as exc:
            # A candidate the loader refuses (a halved value below its floor) is skipped:
            # an invalid try never ends the shrink.
            state.log.append(f"skipped: {what} ({exc})")
            return None
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
    # 3. fewer and shorter delays; each try follows the recorded choices, so after a
    # delay is removed the rest of the schedule stays as close as it can
    for _ in range(len(delays(state.result.choices))):
        recorded_now = list(state.result.choices)
        removed = False
        for step in reversed(delays(recorded_now)):
            guide = GuidedStrategy(_edited(recorded_now, step, None))
            got = attempt(state.case, guide, f"without the delay at step {step}")
            if got is not None:
                state.result, removed = got, True
                break
        if not removed:
            break
    for index in range(len(delays(state.result.choices))):
        for _ in range(4):
            held = delays(state.result.choices)
            if index >= len(held):
                break
            step = held[index]
            seconds = delay_seconds(state.result.choices[step].label) or 0.0
            shorter = round(seconds / 2, 3)
            if shorter < 0.001:
                break
            guide = GuidedStrategy(_edited(list(state.result.choices), step, shorter))
            got = attempt(state.case, guide, f"the delay at step {step} shortened to {shorter}s")
            if got is None:
                break
            state.result = got
    # 4. fewer preemptions: ddmin over the switches of the recorded schedule
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
    state.after = size_of(state.case, state.result)
    return state


def shrunk_json(done: Shrunk, source: str) -> dict[str, Any]:
    """A shrunk case as a result file: its run (spec and choices, so it replays), the case,
    and how it was reduced."""
    return {
        **done.result.to_json(),
        "case": done.case.to_json(),
        "shrunk_from": source,
        "shrink": {
            "invariant": done.invariant,
            "before": done.before.to_json(),
            "after": done.after.to_json(),
            "runs": done.runs,
            "log": done.log,
        },
    }
