"""Fuzzing: many cases of one scenario across worker processes, with a failure store.

Case ``i`` of a campaign is drawn from ``random.Random(f"{campaign_seed}/{i}")``:
a run seed, a strategy (random or pct), and faults drawn from the scenario's
fault space (``[fuzz]``, see ``dnschaos.faults.space``). So a campaign is itself
reproducible, and ``--resume`` carries on from the next case index.

The store directory holds ``campaign.json`` (scenario, variant, seed, the next
case index, the cases started but not finished, counts, groups) and one
``failure-<index>.json`` per failing case, written the moment it comes back
(atomically), so a crash loses nothing. A case is recorded as started before it
is handed to a worker and as finished only once its result is stored; whatever
ends a session (``--stop-after``, Ctrl-C, a kill) leaves the cases in flight in
``started``, and ``--resume`` runs those again before drawing new ones. So an
interrupted and resumed campaign covers the same cases as one that ran
through. A failure file is a normal result JSON plus its ``case``: ``dnschaos
replay`` runs it. Failures are grouped by the invariant broken first and the
shape of their story (the decisive steps with numbers taken out).

Every case's run is mapped to abstract states (:mod:`dnschaos.explore.coverage`);
the store's ``coverage.json`` holds the campaign's coverage map (each state and
transition with the first case that reached it) and how it grew. With
``--guided`` the cases are mutations of a corpus of cases that reached
something new (:mod:`dnschaos.explore.guided`), kept in ``corpus.json``.

Cases run on a ``CaseRunner``: worker processes here (``LocalRunner``), or the
workers of a Dask cluster (``dnschaos.explore.cluster``); the store is the same.

Workers die with the campaign: on Linux the kernel sends them SIGTERM when
their parent goes (``PR_SET_PDEATHSIG``), and a watchdog thread in each worker
exits when its parent pid changes, should the signal not come. They ignore
SIGINT: a Ctrl-C is the parent's to handle (it stops them itself).

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
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final, Protocol

from dnschaos.errors import UsageError
from dnschaos.explore.coverage import CoverageMap, call_points, coverage_keys
from dnschaos.explore.guided import GuidedSource
from dnschaos.explore.shrink import Case, run_case, signature
from dnschaos.faults.space import draw_case, to_flag
from dnschaos.history import process_alive, sweep
from dnschaos.inputs import MAX_INTEGER, check_seal, read_object, seal, shape
from dnschaos.runner import stored_json
from dnschaos.scenario.spec import RunSpec
from dnschaos.scenario.table import Table

STRATEGY_MIX: Final = ("random", "random", "pct")
_STRATEGIES: Final = ("random", "pct", "delay")  # what a blind case may be drawn with
# More cases than a campaign could run (a million a day for a thousand years): a count
# beyond it in a store is an edit, not a campaign.
MAX_CASES: Final = 10**9
# What makes a campaign this campaign: a resume refuses a store where they were edited.
SEALED: Final = ("scenario", "variant", "spec", "seed", "strategies", "guided")


def draw(
    scenario: Any, campaign_seed: int, index: int, mix: tuple[str, ...] = STRATEGY_MIX
) -> Case:
    rng = random.Random(f"{campaign_seed}/{index}")
    seed = rng.getrandbits(32)
    strategy = mix[rng.randrange(len(mix))]
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
    if value <= 0:
        raise UsageError(f"--budget {text!r}: no time to run anything; give more than 0{unit}")
    return value * {"s": 1, "m": 60, "h": 3600}[unit], None


_FAULT_LINE: Final = re.compile(
    r" by [\w-]+ fault |\(error fault |had its clock |earlier lines left out"
)
_HELD_UP: Final = re.compile(
    r"^(?:found the lock|lost the lock|found it expired|gave up on the lock|had its pass fail)"
)


def story_shape(lines: list[str]) -> str:
    """The skeleton of a story: runs that failed the same way match.

    Times and numbers are taken out, each step is cut to its head (before the first
    ``:``, ``;``, ``,`` or parenthesis); the faults that touched a step and how an actor
    was held up (lock looks, losses, backoffs) are left out: they vary from case to case
    of one failure.
    The violation line is kept whole.
    """
    shape: list[str] = []
    for line in lines:
        text = re.sub(r"^t=\s*[\d.]+s\s+", "", line)
        text = re.sub(r"\d+(\.\d+)?", "#", text)
        if not text.startswith("["):
            if _FAULT_LINE.search(text):
                continue
            if _HELD_UP.match(text.partition(" ")[2]):
                continue  # where it falls between the other steps varies from case to case
            text = re.split(r"[:;,]| \(", text, maxsplit=1)[0]
        if not shape or shape[-1] != text:
            shape.append(text)
    return " | ".join(shape)


# --------------------------------------------------------------------------- worker side

_WORKER_SPEC: RunSpec | None = None
_PR_SET_PDEATHSIG: Final = 1
WATCHDOG_INTERVAL: Final = 0.5  # seconds between a worker's looks at its parent


def _die_with_parent() -> None:
    """Linux: ask the kernel to SIGTERM this process when its parent exits."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the watchdog still ends the worker


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCHDOG_INTERVAL)
        if os.getppid() != parent:
            os._exit(1)  # orphaned: nobody will read a result, and nothing to clean up


def init_worker(spec_json: dict[str, Any] | None, campaign_pid: int | None = None) -> None:
    global _WORKER_SPEC
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    parent = os.getppid()
    # The parent may have died before the death signal was asked for.
    if campaign_pid is not None and not process_alive(campaign_pid):
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent,), name="dnschaos-parent-watchdog", daemon=True
    ).start()
    if spec_json is not None:  # else each case brings its spec
        _WORKER_SPEC = RunSpec.from_json(spec_json)


def _run_one(
    index: int, case_json: dict[str, Any], spec_json: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One case; its base spec is the worker's (``init_worker``) or, on a worker shared
    with other campaigns (a cluster's), the one given."""
    spec = _WORKER_SPEC if spec_json is None else RunSpec.from_json(spec_json)
    assert spec is not None, "worker not initialised"
    case = Case.from_json(case_json)
    result = run_case(spec, case)
    try:
        return _outcome(index, case, result)
    finally:
        result.history.close()  # a worker ends with os._exit: no finalizer would


def _outcome(index: int, case: Case, result: Any) -> dict[str, Any]:
    from dnschaos.checkers import headline
    from dnschaos.story import tell

    states, transitions = coverage_keys(result.history)
    out: dict[str, Any] = {
        "index": index,
        "verdict": result.verdict,
        "steps": result.steps,
        "wall": result.wall_seconds,
        "reason": result.reason,
        "coverage": {"states": sorted(states), "transitions": sorted(transitions)},
        "points": call_points(result.history),
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
    # Cases handed to a worker whose result is not stored yet: run again on resume.
    started: set[int] = field(default_factory=set)
    runs: int = 0
    failures: int = 0
    unknown: int = 0
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall: float = 0.0
    first_failure_wall: float | None = None
    first_failure_runs: int | None = None  # cases run when the first failure came back
    # Which strategies blind cases are drawn from (one is picked per case).
    mix: tuple[str, ...] = STRATEGY_MIX
    coverage: CoverageMap = field(default_factory=CoverageMap)
    # (runs, wall seconds, states, transitions) after each case that added coverage.
    growth: list[list[float]] = field(default_factory=list)
    guided: GuidedSource | None = None

    def case(self, scenario: Any, index: int) -> Case:
        if self.guided is not None:
            return self.guided.case(index)
        return draw(scenario, self.seed, index, self.mix)

    def learn(self, out: dict[str, Any]) -> int:
        """Fold a finished case's coverage into the map (and the corpus); the count added."""
        cov = out.get("coverage") or {}
        new = self.coverage.add(out["index"], cov.get("states", ()), cov.get("transitions", ()))
        if new:
            cells = self.coverage.summary()
            self.growth.append(
                [self.runs, round(self.wall, 3), cells["states"], cells["transitions"]]
            )
        if self.guided is not None:
            points = [(str(a), int(n)) for a, n in out.get("points", ())]
            keys = [*cov.get("states", ()), *cov.get("transitions", ())]
            self.guided.learn(out["index"], points, new, keys)
        return new

    @property
    def scenario_ref(self) -> str:
        return self.spec.scenario

    @property
    def variant(self) -> str | None:
        return self.spec.variant

    def to_json(self) -> dict[str, Any]:
        payload = {
            "scenario": self.scenario_ref,
            "variant": self.variant,
            "spec": self.spec.to_json(),
            "seed": self.seed,
            "next_index": self.next_index,
            "started": sorted(self.started),
            "runs": self.runs,
            "failures": self.failures,
            "unknown": self.unknown,
            "groups": self.groups,
            "wall_seconds": round(self.wall, 3),
            "first_failure_wall_seconds": None
            if self.first_failure_wall is None
            else round(self.first_failure_wall, 3),
            "first_failure_runs": self.first_failure_runs,
            "strategies": list(self.mix),
            "guided": self.guided is not None,
            "coverage": self.coverage.summary(),
        }
        return {**payload, "seal": seal(payload, SEALED)}

    def save(self) -> None:
        # The corpus and the map first: campaign.json is what says a case is finished.
        write_atomic(
            self.store / "coverage.json", {**self.coverage.to_json(), "growth": self.growth}
        )
        if self.guided is not None:
            write_atomic(self.store / "corpus.json", self.guided.to_json())
        write_atomic(self.store / "campaign.json", self.to_json())


def write_atomic(path: Path, payload: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def open_campaign(
    spec: RunSpec,
    seed: int,
    store: Path,
    *,
    resume: bool,
    guided: bool = False,
    mix: tuple[str, ...] = STRATEGY_MIX,
    scenario: Any = None,
) -> Campaign:
    """A new campaign of ``spec`` in ``store``, or (``resume``) the one stored there.
    ``guided``: coverage-guided (:mod:`dnschaos.explore.guided`); ``mix``: the strategies
    blind cases are drawn from. ``scenario`` is the spec's built scenario (built when needed
    and not given)."""
    campaign = _open(spec, seed, store, resume=resume, mix=mix)
    if resume and guided != (store / "corpus.json").exists():
        raise UsageError(
            f"--resume: {store} holds a {'blind' if guided else 'guided'} campaign; "
            f"resume it {'without' if guided else 'with'} --guided"
        )
    cov = store / "coverage.json"
    if resume and os.path.lexists(cov):

        def coverage(data: dict[str, Any]) -> None:
            campaign.coverage = CoverageMap.from_json(data)
            campaign.growth = [[float(x) for x in g] for g in data.get("growth", ())]

        _read_state(cov, "the coverage.json of a fuzz campaign", coverage)
    if guided:
        if scenario is None:
            from dnschaos.scenario.resolve import build

            scenario = build(campaign.spec)
        campaign.guided = GuidedSource(scenario, campaign.seed)
        corpus = store / "corpus.json"
        if resume and os.path.lexists(corpus):
            _read_state(corpus, "the corpus.json of a guided campaign", campaign.guided.load)
    return campaign


def _open(spec: RunSpec, seed: int, store: Path, *, resume: bool, mix: tuple[str, ...]) -> Campaign:
    if store.exists() and not store.is_dir():
        raise UsageError(f"--store {store}: is a file; give a directory for the failure store")
    state = store / "campaign.json"
    if os.path.lexists(state):
        if not resume:
            raise UsageError(
                f"--store {store}: holds a campaign already; add --resume to continue it, "
                "or give an empty directory"
            )
        return _stored(spec, store, state)
    if resume:
        raise UsageError(f"--resume: {state} does not exist; start the campaign without --resume")
    store.mkdir(parents=True, exist_ok=True)
    return Campaign(spec, seed, store, mix=mix)


def _stored(spec: RunSpec, store: Path, state: Path) -> Campaign:
    """The campaign of ``state``, every value checked: a store is a file a user may have
    edited, cut short or replaced, and a resumed campaign must be the one that was begun."""
    source = str(state)
    data = read_object(state, "the campaign.json of a fuzz campaign's --store")
    check_seal(
        data,
        SEALED,
        source,
        "restore it as the campaign wrote it, or start a new campaign in an empty --store",
    )
    t = Table(source, "", data)
    stored = RunSpec.from_json(t.get("spec", dict, required=True), source=source)
    if (stored.scenario, stored.variant) != (spec.scenario, spec.variant):
        raise UsageError(
            f"--resume: {state} is a campaign of {stored.scenario} with variant "
            f"{stored.variant}, not {spec.scenario} with {spec.variant}"
        )
    if t.get("scenario", str, stored.scenario) != stored.scenario:
        t.fail("scenario", data["scenario"], f"its spec's scenario ({stored.scenario})")
    if None not in (stored.scenario_digest, spec.scenario_digest) and (
        stored.scenario_digest != spec.scenario_digest
    ):
        raise UsageError(
            f"--resume: the scenario {spec.scenario} changed since the campaign in {store} "
            "began; restore it as it was, or start a new campaign in an empty --store"
        )
    next_index = _count(t, "next_index", required=True)
    started = t.get("started", list, [])
    for i in started:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < next_index:
            t.fail("started", i, f"the index of a case below next_index ({next_index})")
    runs = _count(t, "runs", required=True)
    failures, unknown = _count(t, "failures", required=True), _count(t, "unknown")
    if failures + unknown > runs:
        t.fail("failures", failures, f"a count that, with unknown ({unknown}), is <= runs ({runs})")
    groups = t.get("groups", dict, required=True)
    for key, group in groups.items():
        g = Table(source, f"groups.{key}", group)
        files = g.get("files", list, required=True)
        if not files or not all(isinstance(f, str) and _stored_name(f) for f in files):
            g.fail(g.key("files"), files, "a list of file names in the store")
        g.get("invariant", str, required=True)
        g.get("story", list, [])
    # null: no failure yet
    first_wall = _optional(t, "first_failure_wall_seconds", float)
    if first_wall is not None and first_wall < 0:
        t.fail("first_failure_wall_seconds", first_wall, "a number >= 0")
    first_runs = _optional(t, "first_failure_runs", int)
    if first_runs is not None and not 0 <= first_runs <= runs:
        t.fail("first_failure_runs", first_runs, f"a count <= runs ({runs})")
    strategies = t.get("strategies", list, list(STRATEGY_MIX))
    if not strategies or not all(s in _STRATEGIES for s in strategies):
        t.fail("strategies", strategies, "a list of strategies", f"from {', '.join(_STRATEGIES)}")
    return Campaign(
        stored,
        _count(t, "seed", required=True, most=MAX_INTEGER),
        store,
        next_index=next_index,
        started=set(started),
        runs=runs,
        failures=failures,
        unknown=unknown,
        groups=dict(groups),
        wall=t.number("wall_seconds", 0.0),
        first_failure_wall=first_wall,
        first_failure_runs=first_runs,
        mix=tuple(strategies),
    )


def _optional(t: Table, name: str, kind: type) -> Any:
    return None if t.data.get(name) is None else t.get(name, kind)


def _count(t: Table, name: str, *, required: bool = False, most: int = MAX_CASES) -> int:
    value: int = t.get(name, int, 0, required=required)
    if not 0 <= value <= most:
        t.fail(name, value, f"a whole number from 0 to {most}")
    return value


def _stored_name(name: str) -> bool:
    """A file name of the store itself (no directory, no way out of the store)."""
    return bool(name) and name == os.path.basename(name) and name not in (".", "..")


def _read_state(path: Path, what: str, load: Callable[[dict[str, Any]], None]) -> None:
    """``coverage.json`` or ``corpus.json`` of a resumed campaign, handed to ``load``."""
    data = read_object(path, what)
    with shape(str(path), what):
        load(data)


@contextmanager
def _sigint_as_flag() -> Iterator[threading.Event]:
    """While the campaign runs, Ctrl-C (or SIGTERM) sets a flag the loop looks at between
    results, so the store is never saved half-updated."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        flag.set()

    # SIGTERM too: a campaign told to stop by its supervisor stops as cleanly as by Ctrl-C.
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, was in previous.items():
            signal.signal(sig, signal.SIG_DFL if was is None else was)


class CaseRunner(Protocol):
    """Where a campaign's cases run: worker processes here (``LocalRunner``) or a Dask
    cluster (``dnschaos.explore.cluster``). Handles are the runner's futures."""

    @property
    def slots(self) -> int:
        """Cases that run at once (the campaign keeps twice as many in flight)."""
        ...

    def submit(self, index: int, case_json: dict[str, Any]) -> Any: ...

    def wait(self, pending: Collection[Any], timeout: float) -> list[Any]:
        """The handles of ``pending`` that finished, waiting up to ``timeout`` for one."""
        ...

    def result(self, handle: Any) -> dict[str, Any] | None:
        """A finished case's outcome (``_run_one``), or None when it was lost: it stays
        started, to be run again on resume."""
        ...

    def close(self, *, kill: bool) -> None:
        """``kill``: cases still running are stopped (or abandoned), not waited for."""
        ...


class LocalRunner:
    """Worker processes on this machine, which die with the campaign."""

    def __init__(self, spec: RunSpec, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            initializer=init_worker,
            initargs=(spec.to_json(), os.getpid()),
        )

    @property
    def slots(self) -> int:
        return self.workers

    def submit(self, index: int, case_json: dict[str, Any]) -> Future[dict[str, Any]]:
        return self.pool.submit(_run_one, index, case_json)

    def wait(self, pending: Collection[Any], timeout: float) -> list[Any]:
        done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        return list(done)

    def result(self, handle: Any) -> dict[str, Any] | None:
        out: dict[str, Any] = handle.result()
        return out

    def close(self, *, kill: bool) -> None:
        close_pool(self.pool, kill=kill)


def close_pool(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    """Shut the pool down; ``kill``: its workers are stopped mid-case (their cases stay
    started, to be run again on resume) instead of being waited for. The history files
    of stopped workers are removed after them."""
    if not kill:
        pool.shutdown(wait=True)
        sweep()
        return
    processes = list((pool._processes or {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
    for process in processes:
        process.join(timeout=10.0)
    sweep()


def budget_line(elapsed: float, done: int, *, seconds: float | None, runs: int | None) -> str:
    """What is left of a session's budget and when it ends, as the progress line's tail:
    `` · 42s left`` for a time budget; `` · 12 runs left, ETA 30s`` for a number of runs
    (the ETA from this session's rate; none before the first run has finished)."""
    if runs is not None:
        left = max(runs - done, 0)
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f", ETA {left / rate:.0f}s" if done and rate > 0 else ""
        return f" · {left} runs left{eta}"
    if seconds is not None:
        return f" · {max(seconds - elapsed, 0.0):.0f}s left"
    return ""


def fuzz(
    campaign: Campaign,
    scenario: Any = None,
    *,
    seconds: float | None,
    runs: int | None,
    workers: int,
    stop_after: int | None = None,
    progress: Callable[[str], None] | None = None,
    runner: CaseRunner | None = None,
) -> list[dict[str, Any]]:
    """Run cases until the budget is spent; return the failures found in this session,
    each as ``{"index", "invariant", "shape", "path"}``: its result (with the story's
    violation) is the JSON file at ``path`` in the store, which ``dnschaos replay`` and
    ``dnschaos report`` read.
    ``scenario`` is the campaign spec's built scenario (built here when not given).
    ``runner`` runs the cases (default: ``workers`` processes here); the campaign
    closes it.

    ``runs`` cases are run in this session, no more and no fewer (unless ``seconds``,
    ``stop_after`` or Ctrl-C end it first): cases left started by an earlier session
    first, then new ones. With ``stop_after`` failures found, the cases still in flight
    are stopped and left started for a later resume. Ctrl-C does the same, saves the
    store and raises ``KeyboardInterrupt``."""
    if scenario is None:
        from dnschaos.scenario.resolve import build

        scenario = build(campaign.spec)
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    say = progress or (lambda _m: None)
    start = time.monotonic()
    wall0 = campaign.wall
    found: list[dict[str, Any]] = []
    submitted = 0
    session_runs = 0
    last_line = 0.0
    retry = sorted(campaign.started)  # started in an earlier session, never finished
    pending: dict[Any, int] = {}

    def enough_found() -> bool:
        return stop_after is not None and len(found) >= stop_after

    def budget_left() -> bool:
        if enough_found():
            return False
        if runs is not None and submitted >= runs:
            return False
        return seconds is None or time.monotonic() - start < seconds

    def time_spent() -> bool:
        return seconds is not None and time.monotonic() - start >= seconds

    def take_index() -> int:
        if retry:
            return retry.pop(0)
        index = campaign.next_index
        campaign.next_index += 1
        campaign.started.add(index)
        return index

    def record(out: dict[str, Any]) -> None:
        nonlocal session_runs
        if out["index"] not in campaign.started:
            return  # counted already: a case is recorded once, however often it ran
        session_runs += 1
        campaign.runs += 1
        campaign.wall = wall0 + time.monotonic() - start
        if out["verdict"] == "unknown":
            campaign.unknown += 1
        campaign.learn(out)
        if "invariant" in out:
            campaign.failures += 1
            if campaign.first_failure_wall is None:
                campaign.first_failure_wall = campaign.wall
                campaign.first_failure_runs = campaign.runs
            path = campaign.store / f"failure-{out['index']:06d}.json"
            write_atomic(path, stored_json(out["result"], path))
            key = f"{out['invariant']} :: {out['shape']}"
            group = campaign.groups.setdefault(
                key,
                {"invariant": out["invariant"], "story": out["story"], "files": []},
            )
            if path.name not in group["files"]:
                group["files"].append(path.name)
            # Where it is and what broke, nothing more (not the result, its choices of a few
            # hundred KB, nor the story): the store holds them, and the parent's memory must
            # not grow with the failures a long campaign finds.
            found.append(
                {
                    "index": out["index"],
                    "invariant": out["invariant"],
                    "shape": out["shape"],
                    "path": str(path),
                }
            )
            say(f"failure: {out['invariant']} (case {out['index']}) -> {path}")
        # The same save that counts the case takes it out of ``started``.
        campaign.started.discard(out["index"])
        campaign.save()

    with _sigint_as_flag() as interrupted:
        cases = runner if runner is not None else LocalRunner(campaign.spec, workers)
        try:
            while not interrupted.is_set():
                batch: list[int] = []
                while budget_left() and len(pending) + len(batch) < cases.slots * 2:
                    batch.append(take_index())
                    submitted += 1
                if batch:
                    campaign.save()  # started, before any of them runs
                    for index in batch:
                        case = campaign.case(scenario, index)
                        pending[cases.submit(index, case.to_json())] = index
                if not pending or enough_found() or time_spent():
                    # Time is up: cases still running are stopped, not waited for (they
                    # stay started, and --resume runs them).
                    break
                done = cases.wait(pending, 0.25)
                for fut in sorted(done, key=lambda f: pending[f]):
                    index = pending.pop(fut)
                    out = cases.result(fut)
                    if out is None:
                        say(f"case {index} was lost; it stays started and --resume runs it")
                        continue
                    record(out)
                now = time.monotonic()
                if now - last_line >= 1.0 or not pending:
                    last_line = now
                    elapsed = now - start
                    rate = session_runs / elapsed if elapsed > 0 else 0.0
                    cells = campaign.coverage.summary()
                    say(
                        f"runs {campaign.runs} · {rate:.2f} runs/s · failures "
                        f"{campaign.failures} ({len(campaign.groups)} groups) · coverage "
                        f"{cells['states']} states {cells['transitions']} transitions"
                        + (
                            f" · corpus {len(campaign.guided.corpus)}"
                            if campaign.guided is not None
                            else ""
                        )
                        + f" · {elapsed:.0f}s"
                        + budget_line(elapsed, session_runs, seconds=seconds, runs=runs)
                    )
        finally:
            cases.close(kill=bool(pending))
            campaign.wall = wall0 + time.monotonic() - start
            campaign.save()
        if pending:
            why = (
                "interrupted"
                if interrupted.is_set()
                else "time is up"
                if time_spent() and not enough_found()
                else f"{len(found)} failure(s) found"
            )
            say(
                f"{why}: case(s) {', '.join(map(str, sorted(pending.values())))} not finished; "
                "--resume runs them again"
            )
    if interrupted.is_set():
        raise KeyboardInterrupt
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
    stop: Callable[[], bool] | None = None,
) -> list[dict[str, Any]]:
    """Shrink the first failure of each group, one shrink per invariant.

    ``stop`` says when the budget is spent: a group not begun then is marked "not shrunk:
    budget" (its failure stays as found), and a shrink under way ends with the smallest
    case it has.

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
        if stop is not None and stop():
            group["not_shrunk"] = "budget"
            campaign.save()
            if progress is not None:
                progress(f"not shrunk: budget ({group['files'][0]} kept as found)")
            continue
        group.pop("not_shrunk", None)
        done_invariants.add(group["invariant"])
        source = campaign.store / group["files"][0]
        try:
            spec = RunSpec.from_result(source)
            stored = read_object(source, "a failure file of the store").get("case")
            with shape(str(source), "a failure file of a campaign"):
                case = None if stored is None else Case.from_json(stored)
            done = shrink(spec, case=case, max_runs=max_runs, progress=progress, stop=stop)
        except Exception as exc:
            group["shrink_error"] = f"{type(exc).__name__}: {exc}"
            campaign.save()
            if progress is not None:
                progress(f"shrink of {source.name} failed: {group['shrink_error']}")
            continue
        out = campaign.store / group["files"][0].replace("failure-", "shrunk-")
        write_atomic(out, stored_json(shrunk_json(done, group["files"][0]), out))
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
