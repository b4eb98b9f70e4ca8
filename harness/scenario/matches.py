"""Faults whose ``match`` can never hit are refused: a service the run does not call, an
operation its service does not have, an actor the run does not have."""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from dnschaos.faults.kinds import Fault
from dnschaos.faults.matchers import Actor, Matcher, Operation, Service
from dnschaos.scenario.keys import PROBE_TYPES
from dnschaos.scenario.spec import Scenario
from dnschaos.scenario.table import ScenarioError

# The services a fault's match may name (boto3's client names, botocore's ids) and the
# botocore model each one's operations come from.
_MODELS: Final = {
    "route53": "route53",
    "route-53": "route53",
    "dynamodb": "dynamodb",
    "ec2": "ec2",
    "elbv2": "elbv2",
    "elastic-load-balancing-v2": "elbv2",
}


@functools.cache
def _operations(model: str) -> frozenset[str]:
    import botocore.loaders

    loaded = botocore.loaders.create_loader().load_service_model(model, "service-2")
    return frozenset(loaded["operations"])


def _atoms(matcher: Matcher) -> list[Matcher]:
    from dnschaos.faults.matchers import All, Any_, Not

    if isinstance(matcher, (All, Any_)):
        return [a for p in matcher.parts for a in _atoms(p)]
    if isinstance(matcher, Not):
        return _atoms(matcher.inner)
    return [matcher]


def check_matches(scenario: Scenario, faults: Sequence[Fault], source: str) -> None:
    """Refuse a fault that can never apply: one that starts after every run has ended, or
    whose ``match`` names a service the run does not call, an operation its service does
    not have, an actor the scenario does not have."""
    from dnschaos.faults.kinds import DnsServfail, DnsTimeout
    from dnschaos.scenario.actors import actor_names

    services = ["route53", "dynamodb"]
    for part in scenario.workloads:
        services += [s for s in part.workload.services(part.config) if s not in services]
    if scenario.dns is not None:
        services.append("dns")
    actors = actor_names(replace(scenario, faults=scenario.faults or tuple(faults)))
    horizon = scenario.limits.max_virtual_seconds
    for fault in faults:
        if fault.start >= horizon:
            raise ScenarioError(
                f"{source}: fault {fault.name}: start {fault.start:g} is at or after the end "
                f"of every run (limits.max_virtual_seconds = {horizon:g}), so the fault would "
                "never apply; give a start within the run"
            )
        target = getattr(fault, "actor", None)  # a crash's or a clock skew's own actor
        if isinstance(target, str) and target not in actors:
            raise ScenarioError(
                f"{source}: fault {fault.name}: actor {target!r} is not an actor of this run; "
                f"choose one of {', '.join(actors)}"
            )
        where = f"{source}: fault {fault.name}: match"
        atoms = _atoms(fault.matcher)
        named = []
        for atom in atoms:
            if isinstance(atom, Service):
                service = atom.name.lower()
                allowed = {*services, *(k for k, v in _MODELS.items() if v in services)}
                if service not in allowed:
                    raise ScenarioError(
                        f"{where}.service: {atom.name!r} is not a service this run calls, so "
                        f"the fault would never apply; choose one of {', '.join(services)}"
                    )
                named.append(service)
        dns_only = isinstance(fault, (DnsTimeout, DnsServfail))
        for atom in atoms:
            if isinstance(atom, Operation):
                pool = named or (["dns"] if dns_only else [s for s in services if s != "dns"])
                if any(
                    atom.name in (PROBE_TYPES if s == "dns" else _operations(_MODELS[s]))
                    for s in pool
                ):
                    continue
                hint = (
                    f"a query type ({', '.join(PROBE_TYPES)})"
                    if pool == ["dns"]
                    else f"an operation of {', '.join(pool)} as botocore names it, such as "
                    "ChangeResourceRecordSets or PutItem"
                )
                raise ScenarioError(
                    f"{where}.operation: {atom.name!r} is not an operation of "
                    f"{', '.join(pool)}, so the fault would never apply; give {hint}"
                )
            if isinstance(atom, Actor) and not any(
                fnmatch.fnmatchcase(a, atom.name) for a in actors
            ):
                raise ScenarioError(
                    f"{where}.actor: {atom.name!r} names no actor of this run, so the fault "
                    f"would never apply; choose from {', '.join(actors)} (or a glob such as "
                    "enactor-*)"
                )


__all__ = ["check_matches"]
