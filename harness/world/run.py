"""The world of one run as it is provisioned: what the core and every workload made.

The user's described zones and tables (:mod:`dnschaos.world.provision`) and each
workload's part (its :meth:`~dnschaos.workload.Workload.provision`) land here: the
hosted zones by name, the tables, the names probes ask for, and what the observer
watches. Actors see it as ``ctx.world``; a workload's own object is
``ctx.workload(name)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dnschaos.adapters.aws.target import AwsTarget
from dnschaos.adapters.route53.models import normalize_name
from dnschaos.dns.names import ProbeName
from dnschaos.history import History
from dnschaos.sim.clock import Clock


@dataclass
class RunWorld:
    aws: AwsTarget
    history: History
    clock: Clock
    zones: dict[str, str] = field(default_factory=dict)  # zone name (with the dot) -> id
    tables: list[str] = field(default_factory=list)
    probes: list[ProbeName] = field(default_factory=list)  # names the DNS side's probes ask
    watchers: list[Any] = field(default_factory=list)  # dnschaos.world.observer.Watcher
    workloads: dict[str, Any] = field(default_factory=dict)  # name -> what it provisioned

    @property
    def target(self) -> AwsTarget:
        return self.aws

    def add_zone(self, name: str, zone_id: str) -> None:
        self.zones[normalize_name(name)] = zone_id

    def client(self, service: str) -> Any:
        """An uninstrumented client of the run's target (for provisioning)."""
        return self.aws.client(service)


__all__ = ["RunWorld"]
