"""Fuzzing: many cases of one scenario across worker processes, with a failure store.

Case ``i`` of a campaign is drawn from ``random.Random(f"{campaign_seed}/{i}")``:
a run seed, a strategy (random or pct), and faults drawn from the scenario's
fault space (``[fuzz]``, see ``dnschaos.faultspace``). So a campaign is itself
reproducible, and ``--resume`` carries on from the next case index.

The store directory holds ``campaign.json`` (scenario, variant, seed, the next
case index, counts, groups) and one ``failure-<index>.json`` per failing case,
written the moment it comes back (atomically), so a crash loses nothing. A
failure file is a normal result JSON plus its ``case``: ``dnschaos replay``
runs it. Failures are grouped by the invariant broken first and the shape of
their story (the decisive steps with numbers taken out).

Why not Hypothesis as the engine: one case is a whole multi-actor run of
seconds, deterministic in (seed, strategy, faults), and the useful reductions
are structural (drop a fault, halve a latency, take out a preemption), which
Hypothesis' byte-stream shrinker cannot see through the scheduler; its example
database also knows nothing of our replayable results. The campaign keeps its
own store and shrinker (``dnschaos.explore.shrink``) instead.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.explore.shrink import Case, run_case, signature
from dnschaos.faultspace import draw_case, to_flag
from dnschaos.spec import RunSpec

STRATEGY_MIX: Final = ("random", "random", "pct")


def draw(scenario: Any, campaign_seed: int, index: int) -> Case:
    rng = random.Random(f"{campaign_seed}/{index}")
    seed = rng.getrandbits(32)
    strategy = STRATEGY_MIX[rng.randrange(len(STRATEGY_MIX))]
    faults = draw_case(scenario.fuzz_faults, scenario.fuzz_max_faults, rng)
    return Case(seed, strategy, tuple(to_flag(f) for f in faults))


def parse_budget(text: str) -> tuple[float | None, int | None]:
    """``60s``, ``2m``, ``1h`` (wall time) or ``N`` (runs)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m:
        raise UsageError(f"--budget {text!r}: give seconds (60s, 2m, 1h) or a number of runs (500)")
    value, unit = float(m.group(1)), m.group(2)
    if not unit:
        if not value.is_integer() or value < 1:
            raise UsageError(f"--budget {text!r}: a number of runs is a whole number >= 1")
        return None, int(value)
    return value * {"s": 1, "m": 60, "h": 3600}[unit], None


def story_shape(lines: list[str]) -> str:
    """The story with times and numbers taken out: runs that failed the same way match."""
    shape = []
    for line in lines:
        text = re.sub(r"^t=\s*[\d.]+s\s+", "", line)
        shape.append(re.sub(r"\d+(\.\d+)?", "#", text))
    return " | ".join(shape)


# --------------------------------------------------------------------------- worker side

_WORKER_SPEC: RunSpec | None = None


def _init_worker(spec_json: dict[str, Any]) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = RunSpec.from_json(spec_json)


def _run_one(index: int, case_json: dict[str, Any]) -> dict[str, Any]:
    from dnschaos.checkers import headline
    from dnschaos.story import tell

    assert _WORKER_SPEC is not None, "worker not initialised"
    case = Case.from_json(case_json)
    result = run_case(_WORKER_SPEC, case)
    out: dict[str, Any] = {
        "index": index,
        "verdict": result.verdict,
        "steps": result.steps,
        "wall": result.wall_seconds,
        "reason": result.reason,
    }
    invariant = signature(result)
    if invariant is not None:
        first = headline(result.violations)
        assert first is not None
        lines = tell(list(result.history), first)
        out.update(
            invariant=invariant,
            story=lines,
            shape=story_shape(lines),
            result={**result.to_json(), "case": case.to_json(), "case_index": index},
        )
    return out


# --------------------------------------------------------------------------- campaign


@dataclass
class Campaign:
    spec: RunSpec  # the base of every case: each case sets its seed, strategy and faults
    seed: int
    store: Path
    next_index: int = 0
    runs: int = 0
    failures: int = 0
    unknown: int = 0
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall: float = 0.0
    first_failure_wall: float | None = None

    @property
    def scenario_ref(self) -> str:
        return self.spec.scenario

    @property
    def variant(self) -> str:
        return self.spec.variant

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario_ref,
            "variant": self.variant,
            "spec": self.spec.to_json(),
            "seed": self.seed,
            "next_index": self.next_index,
            "runs": self.runs,
            "failures": self.failures,
            "unknown": self.unknown,
            "groups": self.groups,
            "wall_seconds": round(self.wall, 3),
            "first_failure_wall_seconds": None
            if self.first_failure_wall is None
            else round(self.first_failure_wall, 3),
        }

    def save(self) -> None:
        write_atomic(self.store / "campaign.json", self.to_json())


def write_atomic(path: Path, payload: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def open_campaign(spec: RunSpec, seed: int, store: Path, *, resume: bool) -> Campaign:
    """A new campaign of ``spec`` in ``store``, or (``resume``) the one stored there."""
    if store.exists() and not store.is_dir():
        raise UsageError(f"--store {store}: is a file; give a directory for the failure store")
    store.mkdir(parents=True, exist_ok=True)
    state = store / "campaign.json"
    if state.exists():
        if not resume:
            raise UsageError(
                f"--store {store}: holds a campaign already; add --resume to continue it, "
                "or give an empty directory"
            )
        data = json.loads(state.read_text())
        stored = RunSpec.from_json(data["spec"], source=str(state)) if "spec" in data else None
        if stored is None or (stored.scenario, stored.variant) != (spec.scenario, spec.variant):
            raise UsageError(
                f"--resume: {state} is a campaign of {data['scenario']} with variant "
                f"{data['variant']}, not {spec.scenario} with {spec.variant}"
            )
        return Campaign(
            stored,
            int(data["seed"]),
            store,
            next_index=int(data["next_index"]),
            runs=int(data["runs"]),
            failures=int(data["failures"]),
            unknown=int(data.get("unknown", 0)),
            groups=dict(data["groups"]),
            wall=float(data.get("wall_seconds", 0.0)),
            first_failure_wall=data.get("first_failure_wall_seconds"),
        )
    if resume:
        raise UsageError(f"--resume: {state} does not exist; start the campaign without --resume")
    return Campaign(spec, seed, store)


def fuzz(
    campaign: Campaign,
    scenario: Any = None,
    *,
    seconds: float | None,
    runs: int | None,
    workers: int,
    stop_after: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run cases until the budget is spent; return the failures found in this session.
    ``scenario`` is the campaign spec's built scenario (built here when not given)."""
    if scenario is None:
        from dnschaos.scenario import build

        scenario = build(campaign.spec)
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    say = progress or (lambda _m: None)
    start = time.monotonic()
    wall0 = campaign.wall
    found: list[dict[str, Any]] = []
    session_runs = 0
    last_line = 0.0

    def budget_left() -> bool:
        if stop_after is not None and len(found) >= stop_after:
            return False
        if runs is not None and session_runs + len(pending) >= runs:
            return False
        return seconds is None or time.monotonic() - start < seconds

    pending: dict[Future[dict[str, Any]], int] = {}
    with ProcessPoolExecutor(
        max_workers=workers,
        initializer=_init_worker,
        initargs=(campaign.spec.to_json(),),
    ) as pool:
        while True:
            while budget_left() and len(pending) < workers * 2:
                index = campaign.next_index
                campaign.next_index += 1
                case = draw(scenario, campaign.seed, index)
                fut = pool.submit(_run_one, index, case.to_json())
                pending[fut] = index
            if not pending:
                break
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in done:
                pending.pop(fut)
                out = fut.result()
                session_runs += 1
                campaign.runs += 1
                campaign.wall = wall0 + time.monotonic() - start
                if out["verdict"] == "unknown":
                    campaign.unknown += 1
                if "invariant" in out:
                    campaign.failures += 1
                    if campaign.first_failure_wall is None:
                        campaign.first_failure_wall = campaign.wall
                    path = campaign.store / f"failure-{out['index']:06d}.json"
                    write_atomic(path, out["result"])
                    key = f"{out['invariant']} :: {out['shape']}"
                    group = campaign.groups.setdefault(
                        key,
                        {"invariant": out["invariant"], "story": out["story"], "files": []},
                    )
                    group["files"].append(path.name)
                    found.append({**out, "path": str(path)})
                    say(f"failure: {out['invariant']} (case {out['index']}) -> {path}")
                campaign.save()
            now = time.monotonic()
            if now - last_line >= 1.0 or not pending:
                last_line = now
                elapsed = now - start
                rate = session_runs / elapsed if elapsed > 0 else 0.0
                say(
                    f"runs {campaign.runs} · {rate:.2f} runs/s · failures {campaign.failures} "
                    f"({len(campaign.groups)} groups) · {elapsed:.0f}s"
                )
            if stop_after is not None and len(found) >= stop_after and pending:
                # Enough found: cases not finished are given back to a later --resume.
                campaign.next_index = min(pending.values())
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                break
    campaign.wall = wall0 + time.monotonic() - start
    campaign.save()
    return found


def default_progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def shrink_groups(
    campaign: Campaign,
    *,
    max_runs: int,
    enabled: bool = True,
    progress: Callable[[str], None] | None = None,
    on_group: Callable[[dict[str, Any]], None] | None = None,
    on_shrunk: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Shrink the first failure of each group, one shrink per invariant.

    Groups that differ only in their story's shape mostly shrink to the same minimal
    case, at ``max_runs`` re-runs each, so one per invariant is enough. A shrink that
    fails is noted in its group and the campaign goes on: the unshrunk failure and the
    summary stay in place.
    """
    from dnschaos.explore.shrink import shrink, shrunk_json

    done_invariants = {g["invariant"] for g in campaign.groups.values() if "shrunk" in g}
    shrunk: list[dict[str, Any]] = []
    for key, group in campaign.groups.items():
        if on_group is not None:
            on_group(group)
        if not enabled or group["invariant"] in done_invariants:
            continue
        done_invariants.add(group["invariant"])
        source = campaign.store / group["files"][0]
        try:
            spec = RunSpec.from_result(source)
            done = shrink(spec, max_runs=max_runs, progress=progress)
        except Exception as exc:
            group["shrink_error"] = f"{type(exc).__name__}: {exc}"
            campaign.save()
            if progress is not None:
                progress(f"shrink of {source.name} failed: {group['shrink_error']}")
            continue
        out = campaign.store / group["files"][0].replace("failure-", "shrunk-")
        write_atomic(out, shrunk_json(done, group["files"][0]))
        group["shrunk"] = out.name
        campaign.save()
        entry = {
            "group": key,
            "file": str(out),
            "before": done.before.to_json(),
            "after": done.after.to_json(),
            "runs": done.runs,
        }
        shrunk.append(entry)
        if on_shrunk is not None:
            on_shrunk(entry)
    return shrunk
