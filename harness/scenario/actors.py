"""Who acts in a run of a scenario, in the order they are spawned.

The workloads' own actors first (a planner, enactors), then the user's, then the
nemesis that activates and heals the faults (when there are any), then the DNS side
(a probe per view, and the propagator that feeds a real server), then the workloads'
watchers (an operator, downstream models), which react to what the others did.
"""

from __future__ import annotations

from typing import Any, Final

from dnschaos.world.config import ActorSpec

NEMESIS: Final = "nemesis"


def run_actors(scenario: Any) -> tuple[ActorSpec, ...]:
    """The actors of a run of ``scenario`` (a Scenario), in the order they are spawned."""
    parts = scenario.workloads
    out: list[ActorSpec] = []
    for part in parts:
        out += part.workload.actors(part.config, scenario)
    out += scenario.world.actors
    if scenario.faults:
        out.append(
            ActorSpec(
                NEMESIS,
                "dnschaos.faults.nemesis:nemesis",
                bind=False,
                judge_errors=False,
                harness=True,
            )
        )
    out += dns_actors(scenario)
    for part in parts:
        out += part.workload.watchers(part.config, scenario)
    return tuple(out)


def dns_actors(scenario: Any) -> tuple[ActorSpec, ...]:
    """The probes (one per view) and, for a real server, the propagator."""
    dns = scenario.dns
    if dns is None:
        return ()

    def builtin(name: str, ref: str, **args: Any) -> ActorSpec:
        return ActorSpec(name, ref, args=tuple(args.items()), bind=False, judge_errors=False)

    out = [builtin("probe-authoritative", "dnschaos.dns.stack:probe", view="authoritative")]
    if dns.resolver != "none":
        out.append(builtin("probe-cached", "dnschaos.dns.stack:probe", view="cached"))
    if dns.server != "embedded":
        out.append(builtin("propagator", "dnschaos.dns.stack:propagator"))
    return tuple(out)


def holdable(scenario: Any) -> tuple[str, ...]:
    """The actors a search may hold: the code under test (the workloads' own actors and the
    user's), not the harness's nemesis, probes, propagator or reacting watchers."""
    own = [a.name for p in scenario.workloads for a in p.workload.actors(p.config, scenario)]
    return (*own, *(a.name for a in scenario.world.actors))


def actor_names(scenario: Any) -> list[str]:
    """Every actor of a run of ``scenario``, sorted (the order their seeds are drawn in)."""
    return sorted(a.name for a in run_actors(scenario))


__all__ = ["NEMESIS", "actor_names", "dns_actors", "holdable", "run_actors"]
