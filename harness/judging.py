"""Which invariants judge a run of a scenario, and how each is judged.

Every scenario is judged by the invariants of the workloads it switches on, by what
clients saw when it has a DNS side (``endpoint-never-empty-client``), by the user's own
invariants, and by ``no-actor-error`` whenever it runs code under test whose errors are
judged (the user's actors, a user's class in a workload). A run may be asked to judge
only some of them (``--invariant``): a name the scenario cannot judge is refused, with
what it would need.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dnschaos.checkers import NO_ACTOR_ERROR, ActorErrors, Check, Checker, actor_errors
from dnschaos.dns.invariants import endpoint_never_empty_client
from dnschaos.errors import UsageError
from dnschaos.scenario.actors import run_actors
from dnschaos.scenario.spec import Scenario
from dnschaos.workload import Invariant, installed
from dnschaos.world.invariants import checks

DNS_CLIENT = "endpoint-never-empty-client"


def invariants(scenario: Scenario) -> dict[str, Invariant]:
    """Every invariant a run of ``scenario`` is judged by, by name, in judging order."""
    out: dict[str, Invariant] = {}
    for part in scenario.workloads:
        out.update(part.workload.invariants(part.config, scenario))
    if scenario.dns is not None:  # probes ran: judge what clients saw too
        out[DNS_CLIENT] = Invariant(endpoint_never_empty_client, safety=False, needs=("dns",))
    own = checks(scenario.world, lambda name: _named(scenario, out, name))
    out.update(own)
    if judges_actor_errors(scenario):
        # A run of the user's own actors stops at an actor's error; a workload running a
        # user's class judges its errors at the end (its other actors go on meanwhile).
        safety = bool(scenario.world.actors and scenario.world.no_actor_error)
        out[NO_ACTOR_ERROR] = Invariant(actor_errors, stream=ActorErrors, safety=safety)
    return out


def judges_actor_errors(scenario: Scenario) -> bool:
    """Whether ``no-actor-error`` judges a run: some actor runs code under test whose
    exceptions are judged (the user's actors, unless switched off; a user's own class a
    workload runs)."""
    world = scenario.world
    if world.actors and world.no_actor_error:
        return True
    own = {a.name for a in world.actors}
    return any(a.judge_errors and a.name not in own for a in run_actors(scenario))


def names(scenario: Scenario) -> list[str]:
    return list(invariants(scenario))


def chosen(scenario: Scenario, wanted: Iterable[str] = ()) -> dict[str, Invariant]:
    """The invariants a run judges: all of the scenario's, or only the named ones."""
    every = invariants(scenario)
    only = list(wanted)
    unknown = [n for n in only if n not in every]
    if unknown:
        raise UsageError(
            f"--invariant {unknown[0]!r}: scenario {scenario.name} has no such invariant; "
            f"choose from {', '.join(every)}"
        )
    return {n: inv for n, inv in every.items() if not only or n in only}


def _named(scenario: Scenario, judged: dict[str, Invariant], name: str) -> Any:
    """An invariant the user's ``[[invariants]]`` names instead of a function."""
    if name in judged:
        return judged[name]
    if name == DNS_CLIENT:
        raise UsageError(
            f"invariant {name}: scenario {scenario.name} has no DNS side for it to judge; "
            "add a [dns] table (and [[dns.probes]] for your names)"
        )
    owners = [w.name for w in installed() if w.checker(name) is not None]
    if owners:
        raise UsageError(
            f"invariant {name}: an invariant of the {owners[0]} workload, which scenario "
            f"{scenario.name} does not switch on; add that workload's tables to judge it"
        )
    raise UsageError(
        f"invariant {name!r}: neither module:function nor an invariant of scenario "
        f"{scenario.name} ({', '.join(judged) or 'it has none'})"
    )


def checker(name: str) -> Checker:
    """A named checker of an installed workload (``progress:300`` passes an argument), or
    the core's ``no-actor-error`` and ``endpoint-never-empty-client``."""
    core: dict[str, Check] = {
        NO_ACTOR_ERROR: actor_errors,
        "endpoint-never-empty-client": endpoint_never_empty_client,
    }
    if name in core:
        return Checker(name, core[name])
    known = list(core)
    for w in installed():
        found = w.checker(name)
        if found is not None:
            return Checker(name.partition(":")[0], found)
        known += w.checker_names()
    raise KeyError(f"checker {name!r}: unknown; choose one of {', '.join(sorted(known))}")


__all__ = ["DNS_CLIENT", "checker", "chosen", "invariants", "judges_actor_errors", "names"]
