"""dnschaos: chaos injection for DNS automation.

The public API is what ``__all__`` lists; everything else is internal and may change.
Names are imported on first use, so ``import dnschaos`` stays cheap (no boto3, no moto)::

    import dnschaos

    result = dnschaos.run("incident-2025", variant="legacy", seed=7)
    print(result.verdict, result.headline)
    again = dnschaos.replay(result)            # same choices, same trace digest
    spec = dnschaos.RunSpec.from_result(result)

See the README's "Python API" section.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from dnschaos._version import __version__

# name -> the module that defines it
_EXPORTS: Final[dict[str, str]] = {
    # running and exploring
    "run": "dnschaos.runner",
    "RunResult": "dnschaos.runner",
    "RunSpec": "dnschaos.scenario.spec",
    "Scenario": "dnschaos.scenario.spec",
    "load_scenario": "dnschaos.scenario.resolve",
    "replay": "dnschaos.explore.replay",
    "shrink": "dnschaos.explore.shrink",
    "fuzz": "dnschaos.explore.campaign",
    "open_campaign": "dnschaos.explore.campaign",
    "seeds": "dnschaos.explore.search",
    "Simulation": "dnschaos.simulation",
    "ActorContext": "dnschaos.world.context",
    "systematic": "dnschaos.explore.search",
    # fault kinds
    "Latency": "dnschaos.faults.kinds",
    "Error": "dnschaos.faults.kinds",
    "Hold": "dnschaos.faults.kinds",
    "Pause": "dnschaos.faults.kinds",
    "LockContention": "dnschaos.faults.kinds",
    "ClockSkew": "dnschaos.faults.kinds",
    "Crash": "dnschaos.faults.kinds",
    "DnsTimeout": "dnschaos.faults.kinds",
    "DnsServfail": "dnschaos.faults.kinds",
    "DnsServerDown": "dnschaos.faults.kinds",
    # judging
    "Violation": "dnschaos.checkers",
    "Verdict": "dnschaos.checkers",
    "checker": "dnschaos.judging",
    "headline": "dnschaos.checkers",
    "endpoint_never_empty": "dnschaos.workloads.incident2025.invariants",
    "endpoint_never_empty_client": "dnschaos.dns.invariants",
    "active_plan_never_deleted": "dnschaos.workloads.incident2025.invariants",
    "applied_generation_monotonic": "dnschaos.workloads.incident2025.invariants",
    "rollback_target_exists": "dnschaos.workloads.incident2025.invariants",
    "single_lock_holder": "dnschaos.workloads.incident2025.invariants",
    "progress": "dnschaos.workloads.incident2025.invariants",
    # the invariants library for your own world
    "never_empty": "dnschaos.invariants",
    "no_foreign_delete": "dnschaos.invariants",
    "converges_to": "dnschaos.invariants",
    "no_actor_error": "dnschaos.invariants",
    # your own workload
    "Workload": "dnschaos.workload",
    "Invariant": "dnschaos.workload",
    "actor_of": "dnschaos.workload",
    # time
    "Clock": "dnschaos.sim.clock",
    # errors
    "DnsChaosError": "dnschaos.errors",
    "UsageError": "dnschaos.errors",
    "HarnessError": "dnschaos.errors",
    "ReplayDivergenceError": "dnschaos.errors",
    "ScenarioError": "dnschaos.scenario.load",
    # the built-in automation, and what your own must look like
    "Planner": "dnschaos.workloads.incident2025.planner",
    "PlannerConfig": "dnschaos.workloads.incident2025.planner",
    "LegacyEnactor": "dnschaos.workloads.incident2025.enactor",
    "SafeEnactor": "dnschaos.workloads.incident2025.enactor",
    "EnactorConfig": "dnschaos.workloads.incident2025.enactor",
    "EnactorProtocol": "dnschaos.workloads.incident2025.variants",
    "PlannerProtocol": "dnschaos.workloads.incident2025.variants",
}

# Listed literally (not derived from _EXPORTS) so that tools can read it.
__all__ = [
    "ActorContext",
    "Clock",
    "ClockSkew",
    "Crash",
    "DnsChaosError",
    "DnsServerDown",
    "DnsServfail",
    "DnsTimeout",
    "EnactorConfig",
    "EnactorProtocol",
    "Error",
    "HarnessError",
    "Hold",
    "Invariant",
    "Latency",
    "LegacyEnactor",
    "LockContention",
    "Pause",
    "Planner",
    "PlannerConfig",
    "PlannerProtocol",
    "ReplayDivergenceError",
    "RunResult",
    "RunSpec",
    "SafeEnactor",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "UsageError",
    "Verdict",
    "Violation",
    "Workload",
    "__version__",
    "active_plan_never_deleted",
    "actor_of",
    "applied_generation_monotonic",
    "checker",
    "converges_to",
    "endpoint_never_empty",
    "endpoint_never_empty_client",
    "fuzz",
    "headline",
    "load_scenario",
    "never_empty",
    "no_actor_error",
    "no_foreign_delete",
    "open_campaign",
    "progress",
    "replay",
    "rollback_target_exists",
    "run",
    "seeds",
    "shrink",
    "single_lock_holder",
    "systematic",
]


assert set(__all__) == {"__version__", *_EXPORTS}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dnschaos' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from dnschaos.checkers import Verdict, Violation, headline
    from dnschaos.dns.invariants import endpoint_never_empty_client
    from dnschaos.errors import DnsChaosError, HarnessError, ReplayDivergenceError, UsageError
    from dnschaos.explore.campaign import fuzz, open_campaign
    from dnschaos.explore.replay import replay
    from dnschaos.explore.search import seeds, systematic
    from dnschaos.explore.shrink import shrink
    from dnschaos.faults.kinds import (
        ClockSkew,
        Crash,
        DnsServerDown,
        DnsServfail,
        DnsTimeout,
        Error,
        Hold,
        Latency,
        LockContention,
        Pause,
    )
    from dnschaos.invariants import converges_to, never_empty, no_actor_error, no_foreign_delete
    from dnschaos.judging import checker
    from dnschaos.runner import RunResult, run
    from dnschaos.scenario.load import ScenarioError
    from dnschaos.scenario.resolve import load_scenario
    from dnschaos.scenario.spec import RunSpec, Scenario
    from dnschaos.sim.clock import Clock
    from dnschaos.simulation import Simulation
    from dnschaos.workload import Invariant, Workload, actor_of
    from dnschaos.workloads.incident2025.enactor import EnactorConfig, LegacyEnactor, SafeEnactor
    from dnschaos.workloads.incident2025.invariants import (
        active_plan_never_deleted,
        applied_generation_monotonic,
        endpoint_never_empty,
        progress,
        rollback_target_exists,
        single_lock_holder,
    )
    from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig
    from dnschaos.workloads.incident2025.variants import EnactorProtocol, PlannerProtocol
    from dnschaos.world.context import ActorContext
