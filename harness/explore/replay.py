"""Replaying a recorded run, and proving it is the same run.

A result holds its spec and the scheduler's choices; following the choices under
the same spec must give the same history, byte for byte, so the same trace digest.
Anything else is a divergence: the harness, the code under test or the scenario
changed, and the replay says which digest it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnschaos.errors import ReplayDivergenceError, UsageError
from dnschaos.inputs import MAX_SECONDS
from dnschaos.runner import RunResult, run
from dnschaos.scenario.spec import RunSpec, load_result
from dnschaos.sim.scheduler import Choice, delay_seconds


@dataclass
class Replayed:
    result: RunResult
    recorded_digest: str
    choices: int

    @property
    def matches(self) -> bool:
        return self.result.trace_digest == self.recorded_digest


def recorded_choices(recorded: dict[str, Any], source: str) -> list[Choice]:
    raw = recorded.get("choices")
    if not isinstance(raw, list) or not all(
        isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in raw
    ):
        raise UsageError(f"{source}: choices: not a list of [actor, label] pairs")
    for i, (_, label) in enumerate(raw):
        # A recorded hold the scheduler could not have made (it rounds to milliseconds
        # and holds only for a while): an edited file, not a run to follow.
        seconds = delay_seconds(label)
        if seconds is not None and not 0.001 <= seconds <= MAX_SECONDS:
            raise UsageError(
                f"{source}: choices[{i}]: {label!r} holds an actor for {seconds:g}s; a "
                f"recorded delay is from 0.001 to {MAX_SECONDS:g} seconds"
            )
    return [Choice(i, actor, label) for i, (actor, label) in enumerate(raw)]


def replayable(recorded: dict[str, Any], source: str) -> RunSpec:
    """The spec of a result that can be replayed, or a UsageError saying why it cannot."""
    spec = RunSpec.from_result(recorded, source=source)
    for key in ("choices", "trace_digest"):
        if key not in recorded:
            raise UsageError(f"{source}: not a dnschaos result (missing {key})")
    if spec.clock != "sim":
        raise UsageError(
            f"{source}: a --clock {spec.clock} run has no recorded interleaving to replay "
            "(free threads on wall time are not deterministic); run it again instead"
        )
    if spec.target != "moto":
        raise UsageError(
            f"{source}: replays run on in-process moto; this run used --target {spec.target}, "
            "whose state the harness cannot reset to the same point"
        )
    return spec


def replay(
    result: str | Path | dict[str, Any] | RunResult,
    *,
    check: bool = True,
    source: str | None = None,
) -> Replayed:
    """Run a recorded result again, following its choices. With ``check``, a different
    trace digest raises :class:`ReplayDivergenceError` (exit 3). ``source`` names a result
    given as a dict in messages."""
    if source is None:
        source = str(result) if isinstance(result, (str, Path)) else "result"
    if isinstance(result, RunResult):
        recorded = result.to_json()
    elif isinstance(result, dict):
        recorded = result
    else:
        recorded = load_result(result)
    spec = replayable(recorded, source)
    choices = recorded_choices(recorded, source)
    again = run(spec, replay=choices)
    if isinstance(recorded.get("strategy"), str):
        again.strategy = recorded["strategy"]  # the strategy that made the choices
    done = Replayed(again, str(recorded["trace_digest"]), len(choices))
    if check and not done.matches:
        raise ReplayDivergenceError(
            f"replay of {source} finished but its history differs: trace_digest "
            f"{again.trace_digest} != recorded {recorded['trace_digest']}"
        )
    return done


def history_of(recorded: dict[str, Any], source: str) -> list[dict[str, Any]]:
    """A simulated run's history, rebuilt by replaying it (and proven the same)."""
    return list(replay(recorded, source=source).result.history)
