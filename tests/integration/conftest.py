"""A provisioned world on in-process moto with the strict layer and a manual clock."""

from __future__ import annotations

import pathlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dnschaos.adapters.aws.target import AwsTarget, TargetSpec, open_target
from dnschaos.events import EventLog
from dnschaos.sim.clock import ManualClock
from dnschaos.workloads.incident2025.enactor import (
    BaseEnactor,
    EnactorConfig,
    LegacyEnactor,
    SafeEnactor,
)
from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig
from dnschaos.workloads.incident2025.world import World


@dataclass
class Rig:
    target: AwsTarget
    world: World
    clock: ManualClock
    log: EventLog
    planner: Planner

    def enactor(self, name: str, variant: str = "safe", **config: Any) -> BaseEnactor:
        cls = {"safe": SafeEnactor, "legacy": LegacyEnactor}[variant]
        return cls(
            name,
            route53=self.target.client("route53", actor=name),
            dynamodb=self.target.client("dynamodb", actor=name),
            config=EnactorConfig(endpoints=self.world.endpoints, table=self.world.table, **config),
            clock=self.clock,
            rng=random.Random(name),
            events=self.log,
        )

    def plans(self, n: int) -> int:
        gen = 0
        for _ in range(n):
            written = self.planner.step()
            assert written is not None
            gen = written
        return gen

    @property
    def regional(self) -> Any:
        return self.world.endpoints[0]

    def strict(self) -> Any:
        return self.target.strict_route53()

    def names(self, ep: Any) -> set[str]:
        return {r.name for r in self.strict().records(self.world.zone_ids[ep.name])}

    def root_target(self, ep: Any, rtype: str = "A") -> str | None:
        for r in self.strict().records(self.world.zone_ids[ep.name]):
            if r.name == ep.fqdn and r.type == rtype and r.alias is not None:
                return str(r.alias.dns_name)
        return None

    def before_change(
        self,
        client: Any,
        hook: Callable[[dict[str, Any]], None],
        when: Callable[[dict[str, Any]], bool] = lambda _params: True,
    ) -> None:
        """Run ``hook(params)`` once, just before ``client`` sends a batch that ``when`` picks.

        The hook runs inside botocore's before-parameter-build event, so whatever it does
        lands in Route 53 between the caller's read and its write.
        """
        fired: list[bool] = []

        def handler(params: dict[str, Any], **_: Any) -> None:
            if not fired and when(params):
                fired.append(True)
                hook(params)

        client.meta.events.register(
            "before-parameter-build.route53.ChangeResourceRecordSets", handler
        )


@pytest.fixture
def rig() -> Iterator[Rig]:
    clock = ManualClock()
    log = EventLog()
    with open_target(TargetSpec("moto"), clock=clock) as target:
        world = World(target).provision()
        planner = Planner(
            "planner",
            dynamodb=target.client("dynamodb", actor="planner"),
            fleet=world.fleet,
            config=PlannerConfig(table=world.table),
            clock=clock,
            events=log,
        )
        yield Rig(target, world, clock, log, planner)


def touches(name: str) -> Callable[[dict[str, Any]], bool]:
    """A ``when`` for :meth:`Rig.before_change`: the batch writes a record called ``name``."""

    def pick(params: dict[str, Any]) -> bool:
        return any(
            c["Action"] in ("CREATE", "UPSERT") and c["ResourceRecordSet"]["Name"] == name
            for c in params["ChangeBatch"]["Changes"]
        )

    return pick


@pytest.fixture(scope="module")
def campaign_store(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The store of a short steady-state campaign, for tests that damage copies of it."""
    from dnschaos.cli import main

    store = tmp_path_factory.mktemp("campaign") / "store"
    argv = ["fuzz", "steady-state", "--budget", "2", "--store", str(store), "--no-shrink", "-q"]
    assert main(argv) in (0, 1)
    return store
