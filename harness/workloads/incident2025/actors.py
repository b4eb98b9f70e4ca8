"""The built-in planner and enactors as actors of the public actor API.

Each function here is a factory, named in a scenario's actor list with its arguments
(``dnschaos.workloads.incident2025.actors:enactor`` with ``variant="legacy"``), that returns an
actor function ``fn(ctx)``: it takes its clients, clock, seeded generator and stop
condition from the :class:`~dnschaos.world.context.ActorContext`, like any user's actor.
The planner and the enactors stop with the run, or when an operator switches the DNS
automation off (``ctx.parts.shared["automation_off"]``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from dnschaos.workload import actor_of
from dnschaos.workloads.incident2025.config import SCENARIO_ENACTOR
from dnschaos.workloads.incident2025.enactor import EnactorConfig
from dnschaos.workloads.incident2025.operator import AUTOMATION_OFF
from dnschaos.workloads.incident2025.planner import PlannerConfig
from dnschaos.workloads.incident2025.variants import resolve_enactor, resolve_planner

if TYPE_CHECKING:
    from dnschaos.world.context import ActorContext

NAME = "incident-2025"  # the workload whose world these actors act on


@actor_of(NAME)
def planner(
    planner: str = "default", interval: float = 15.0, max_plans: int | None = None
) -> Callable[[ActorContext], None]:
    """The planner (``planner``: a registered planner or ``module:Class``)."""
    cls = resolve_planner(planner)

    def run(ctx: ActorContext) -> None:
        world = ctx.workload(NAME)
        instance = cls(
            ctx.name,
            dynamodb=ctx.client("dynamodb"),
            fleet=world.fleet,
            config=PlannerConfig(
                table=world.table,
                groups=tuple(sorted({e.plan_key for e in world.endpoints})),
                interval=interval,
                max_plans=max_plans,
            ),
            clock=ctx.clock,
            events=ctx.history,
        )
        instance.run(automation_stop(ctx))

    return run


@actor_of(NAME)
def enactor(
    variant: str = "legacy", config: EnactorConfig | None = None
) -> Callable[[ActorContext], None]:
    """An enactor of ``variant`` (a registered variant or ``module:Class``) with ``config``
    (an EnactorConfig, a scenario's default if None; its endpoints and table are the
    world's). A crash fault's restart
    calls the function again: a new process, same clients, no memory."""
    cls = resolve_enactor(variant)

    def run(ctx: ActorContext) -> None:
        world = ctx.workload(NAME)
        own = replace(config or SCENARIO_ENACTOR, endpoints=world.endpoints, table=world.table)
        instance = cls(
            ctx.name,
            route53=ctx.client("route53"),
            dynamodb=ctx.client("dynamodb"),
            config=own,
            clock=ctx.clock,
            rng=ctx.stream(),
            events=ctx.history,
        )
        instance.run(automation_stop(ctx))

    return run


def automation_stop(ctx: ActorContext) -> Callable[[], bool]:
    """The run's stop, or an operator's switch (the run itself goes on)."""

    def stop() -> bool:
        if ctx.should_stop():
            return True
        off = ctx.parts.shared.get(AUTOMATION_OFF)
        return bool(off is not None and off())

    return stop


__all__ = ["automation_stop", "enactor", "planner"]
