"""A run: a :class:`RunSpec` in, a judged :class:`RunResult` out.

``run`` resolves the spec (seed, planner and scenario digest made explicit),
builds its scenario, assembles the world and its actors once on a driver (the
deterministic scheduler, or free threads with ``clock="real"``), records
everything in a history, and judges the history with the checkers. Running and
judging stay apart: the only thing decided online is whether to stop early, and
that uses the same safety checkers as the final verdict.
"""

from __future__ import annotations

import functools
import platform
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dnschaos import checkers, judging
from dnschaos import hashseed as hashseed
from dnschaos._version import __version__
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.assemble import assemble, prepare_target
from dnschaos.errors import UsageError
from dnschaos.faults.inject import unmatched
from dnschaos.history import History
from dnschaos.inputs import seal
from dnschaos.scenario.actors import actor_names
from dnschaos.scenario.live import is_live
from dnschaos.scenario.resolve import resolve_built
from dnschaos.scenario.spec import RESULT_SEALED, RunSpec, Scenario, delay_range
from dnschaos.sim.clock import INCIDENT_EPOCH
from dnschaos.sim.driver import Driver, SimDriver, ThreadDriver
from dnschaos.sim.scheduler import Choice, SimResult, Stop
from dnschaos.sim.strategies import DFSStrategy, ReplayStrategy, make_strategy
from dnschaos.sim.streams import RunStreams
from dnschaos.workload import Invariant


@dataclass
class RunResult:
    """A judged run: its spec (the one description of it, see
    :meth:`RunSpec.from_result`) and what it produced."""

    spec: RunSpec
    scenario: str  # the scenario's name (the spec names its file or reference)
    strategy: str  # the strategy that ran (a replay, a search, free threads...)
    verdict: str
    violations: list[checkers.Violation]
    verdicts: list[checkers.Verdict]
    stop: str
    reason: str
    steps: int
    virtual_seconds: float
    wall_seconds: float
    choices: Sequence[Choice]
    trace_digest: str
    history: History
    stop_on_violation: bool = True  # the spec's and the scenario's say together
    dns: dict[str, Any] | None = None  # DNS set-up and what clients saw (dnschaos.dns.metrics)
    workloads: dict[str, dict[str, Any]] = field(default_factory=dict)  # what each recorded
    unmatched_faults: tuple[str, ...] = ()  # faults whose match applied to no call
    aws: dict[str, Any] | None = None  # --target aws: run id, account, budget, cleanup
    # The process's string hash seed (dnschaos.hashseed): "0" when pinned, "random" when
    # another process may iterate the user's sets of strings in another order.
    hash_seed: str = hashseed.PINNED
    # Every client the actors made and how it retries (its code's own configuration, or
    # the harness's default): the retries the code under test ran with.
    clients: list[dict[str, Any]] = field(default_factory=list)
    # Made by the spec's own strategy: ``dnschaos run`` with the spec's flags makes it
    # again. Not so for a run that followed recorded choices, a search's prefix or a guide
    # (a fuzz case's holds, a shrunk schedule): only replaying its file does.
    rebuildable: bool = True

    @property
    def seed(self) -> int:
        return int(self.spec.seed or 0)

    @property
    def variant(self) -> str | None:
        return self.spec.variant

    @property
    def clock(self) -> str:
        return self.spec.clock

    @property
    def target(self) -> str:
        return self.spec.target

    @property
    def headline(self) -> checkers.Violation | None:
        """The violation reported first (see ``checkers.headline``)."""
        return checkers.headline(self.violations)

    def to_json(self) -> dict[str, Any]:
        payload = {
            "scenario": self.scenario,
            "strategy": self.strategy,
            "verdict": self.verdict,
            "violations": [v.as_dict() for v in self.violations],
            "checkers": [
                {"checker": v.checker, "status": v.status, "error": v.error} for v in self.verdicts
            ],
            "stop": self.stop,
            "reason": self.reason,
            "steps": self.steps,
            "virtual_seconds": round(self.virtual_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "choices": [[c.actor, c.label] for c in self.choices],
            "trace_digest": self.trace_digest,
            "stop_on_violation": self.stop_on_violation,
            "dns": self.dns,
            "workloads": self.workloads,
            "unmatched_faults": list(self.unmatched_faults),
            "versions": versions(self.dns),
            "hash_seed": self.hash_seed,
            "clients": self.clients,
            "spec": self.spec.to_json(),
            # A run that flags cannot make again gets its command where it is stored
            # (``stored_json``): replaying that file.
            # A Simulation made in place exists in its own process only: no command makes it.
            **(
                {"reproduce": self.spec.command()}
                if self.rebuildable and not is_live(self.spec.scenario)
                else {}
            ),
            **({"aws": self.aws} if self.aws is not None else {}),
        }
        return {**payload, "seal": seal(payload, RESULT_SEALED)}


def stored_json(payload: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """A result's JSON as it is written to ``path``: a run that no command line makes
    again (its ``reproduce`` is missing) is reproduced by replaying that file."""
    if "reproduce" in payload:
        return payload
    return {**payload, "reproduce": f"dnschaos replay {shlex.quote(str(path))}"}


def versions(setup: dict[str, Any] | None = None) -> dict[str, str]:
    """The versions a result records; with ``setup`` (a run's DNS set-up) the real DNS
    servers it ran too (BIND, Knot, Unbound: their own version lines)."""
    import boto3
    import botocore
    import dns.version
    import moto

    return {
        "dnschaos": __version__,
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "moto": moto.__version__,
        "dnspython": dns.version.version,
        **_dns_versions(setup),
    }


def _dns_versions(setup: dict[str, Any] | None) -> dict[str, str]:
    if not setup:
        return {}
    from dnschaos.adapters.dnsserve.servers import server_version

    kinds = [k for k in (setup.get("server"), setup.get("resolver")) if k in _REAL_SERVERS]
    return {str(kind): server_version(str(kind)) for kind in kinds}


_REAL_SERVERS = ("bind9", "knot", "unbound")  # "embedded" and "none" are no programs


def run(
    spec: RunSpec | str,
    *,
    replay: Sequence[Choice] | None = None,
    dfs: DFSStrategy | None = None,
    guide: Any = None,
    target: TargetSpec | None = None,
    **fields: Any,
) -> RunResult:
    """One run of ``spec`` (a :class:`RunSpec`, or a scenario's name or path with the spec's
    fields as keywords: ``run("incident-2025", variant="safe", seed=3)``).

    ``replay`` follows recorded choices; ``dfs`` follows a systematic explorer's prefix;
    ``guide`` is any other strategy object (the shrinker's). ``target`` overrides the
    spec's AWS target (``--target aws`` options, ordered replay's gate)."""
    if isinstance(spec, str):
        spec = RunSpec(scenario=spec, **fields)
    elif fields:
        spec = replace(spec, **fields)
    hashseed.warn_if_random()
    spec, scenario = resolve_built(spec)
    seed = int(spec.seed or 0)
    # Fault specs are immutable: their run state (active flags, counts) is the run's own.
    for fault in scenario.faults:
        fault.validate()
    names = actor_names(scenario)
    streams = RunStreams(seed, names)
    history = History(INCIDENT_EPOCH)
    driver: Driver
    if spec.clock == "real":
        if replay is not None or dfs is not None or guide is not None:
            raise UsageError("a --clock real run has no recorded interleaving to follow")
        threads = ThreadDriver(scenario.limits, spec.time_scale)
        history.clock = threads.clock
        driver, strategy_name = threads, "free-threads"
    else:
        strategy: Any
        if guide is not None:
            strategy = guide
        elif replay is not None:
            strategy = ReplayStrategy(replay)
        elif dfs is not None:
            strategy = dfs
        elif spec.strategy == "dfs":
            raise UsageError("--strategy dfs: systematic search runs through dnschaos.explore")
        else:
            strategy = make_strategy(
                spec.strategy,
                streams.strategy(),
                names,
                pct_depth=spec.pct_depth,
                delays=spec.delays,
                max_delay=delay_range(scenario),
                window=scenario.duration,
            )
        sim = SimDriver(strategy, scenario.limits, history)
        history.clock = sim.clock
        driver, strategy_name = sim, strategy.name
    target = target or TargetSpec(spec.target, endpoint_url=spec.endpoint_url)
    if target.kind == "aws":
        from dnschaos.adapters.aws.real import scope_run

        target, scenario = scope_run(target, scenario, spec)
    target = prepare_target(target, seed)
    stop_on_violation = spec.stop_on_violation and scenario.stop_at_first_violation
    judged = judging.chosen(scenario, spec.invariants)
    # Stop early only for what is judged: a search aimed at one invariant must not end
    # its runs at another. Each is fed every new entry once, so a run keeps no past.
    watched = {n: inv.stream() for n, inv in judged.items() if inv.safety and inv.stream}
    with open_target(
        target, clock=driver.clock, propagation_delay=scenario.propagation_delay, seed=seed
    ) as aws:
        deadline = driver.clock.now() + scenario.duration
        assembly = assemble(scenario, aws, driver, history, streams, deadline=deadline)
        observer = assembly.observer
        observer.streaming = stop_on_violation

        def observe() -> bool:
            before = len(history)
            observer.observe()
            return len(history) != before

        def violated() -> str | None:
            if not stop_on_violation:
                return None
            new = observer.take_new()
            for name, stream in watched.items():
                hits = [v for e in new for v in stream.feed(e)]
                if hits:
                    return f"{name} violated at t={hits[0].t:.0f}s"
            return None

        def look() -> bool:
            before = len(history)
            observer.look()
            return len(history) != before

        driver.watch(observer.note_change, observe, violated, look_at=observer.look_at, look=look)
        try:
            outcome = driver.run()
        finally:
            assembly.close()
        assembly.refused()
        observer.observe()
        clients = assembly.clients()
        why = assembly.why()
        if outcome.stop == Stop.FINISHED and why is not None:
            outcome = replace(outcome, reason=why)
        real = _real_side(aws)
    result = _result(spec, scenario, strategy_name, outcome, history, judged)
    result.clients = clients
    result.rebuildable = replay is None and dfs is None and guide is None
    if real is not None:
        from dnschaos.adapters.aws.real import judged_real

        judged_real(result, real)
    return result


def _value(read: tuple[Any, Exception | None]) -> Any:
    """What a reader of the history found; its error, raised again, when it failed."""
    value, error = read
    if error is not None:
        raise error
    return value


def _real_side(aws: Any) -> Any:
    from dnschaos.adapters.aws.real import opened

    return opened(aws)


def _result(
    spec: RunSpec,
    scenario: Scenario,
    strategy: str,
    sim: SimResult,
    history: History,
    judged: dict[str, Invariant],
) -> RunResult:
    entries = history  # read back from its file, never all in memory
    graceful = sim.stop in (Stop.FINISHED, Stop.CONDITION)
    # A run cut short is judged on safety only: liveness needs the whole working period.
    chosen = {n: inv.check for n, inv in judged.items() if sim.stop == Stop.FINISHED or inv.safety}
    readers: dict[str, Any] = {f"invariant {n}": check for n, check in chosen.items()}
    readers["unmatched faults"] = functools.partial(unmatched, scenario.faults)
    if scenario.dns is not None:
        from dnschaos.dns.metrics import dns_metrics

        readers["dns metrics"] = dns_metrics
    # One decode of the history feeds every checker (and the DNS metrics) at once.
    read = checkers.read_once(entries, readers)
    verdicts = checkers.verdicts_of({n: read[f"invariant {n}"] for n in chosen})
    violations = [v for verdict in verdicts for v in verdict.violations]
    verdict = checkers.overall(verdicts)
    reason = sim.reason
    if verdict == checkers.PASS and not graceful:
        verdict = checkers.UNKNOWN  # a run cut short proves nothing
    elif verdict == checkers.FAIL and sim.stop == Stop.WALL_LIMIT:
        # Where wall time cut the run depends on the machine's speed and load, so its
        # history and digest would not replay: what it saw is kept, but it is no verdict.
        verdict = checkers.UNKNOWN
        reason = (
            f"{sim.reason}; {len(violations)} violation(s) seen before the cut are not a "
            "verdict (where wall time ends a run depends on the machine's load, so it would "
            "not replay): raise max_wall_seconds (--max-wall-seconds) to judge the whole run"
        )
    dns = None
    if scenario.dns is not None:
        dns = {
            "server": scenario.dns.server,
            "resolver": scenario.dns.resolver,
            "negative_ttl": scenario.dns.negative_ttl,
            "probe_interval": scenario.dns.probe_interval,
            "endpoints": _value(read["dns metrics"]),
        }
    recorded = {p.name: p.workload.result(p.config, scenario, entries) for p in scenario.workloads}
    return RunResult(
        spec=spec,
        scenario=scenario.name,
        strategy=strategy,
        verdict=verdict,
        violations=violations,
        verdicts=verdicts,
        stop=str(sim.stop),
        reason=reason,
        steps=sim.steps,
        virtual_seconds=sim.virtual_seconds,
        wall_seconds=sim.wall_seconds,
        choices=sim.choices,
        trace_digest=history.digest(),
        history=history,
        stop_on_violation=spec.stop_on_violation and scenario.stop_at_first_violation,
        dns=dns,
        workloads={name: value for name, value in recorded.items() if value},
        unmatched_faults=tuple(_value(read["unmatched faults"])),
        hash_seed=hashseed.current(),
    )


__all__ = ["RunResult", "run", "stored_json", "versions"]
