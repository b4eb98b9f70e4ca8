"""The operator: the human who repairs DNS by hand after clients start failing.

In October 2025 the automation wedged and people restored the endpoint's DNS
records. This actor does the same: ``repair_after`` seconds after clients first
got an empty answer for an endpoint (or, with no probes, after Route 53 shows
its root pointing at nothing), it points the root and the rollback record at the
newest plan tree that still exists, in one batch, bypassing the enactors' lock
as an operator's tooling would. It records ``operator`` entries: ``noticed``
and ``repaired`` (or ``no-tree`` when there is nothing left to point at).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.workload import actor_of
from dnschaos.workloads.incident2025.plan import Endpoint
from dnschaos.workloads.incident2025.tree import (
    alias_record,
    find_zone_id,
    plan_name,
    read_zone,
    rollback_name,
    root_name,
)

# The actors' shared key the operator leaves its switch in (a callable): the planner and
# the enactors stop when it says the automation is off.
AUTOMATION_OFF: Final = "automation_off"


@dataclass(frozen=True)
class OperatorConfig:
    repair_after: float = 60.0  # seconds from "clients get empty answers" to the fix
    stop_when_recovered: bool = True  # end the run once every probe has addresses again
    # Seconds from noticing to switching the DNS automation off (planner and enactors
    # stop, as in 2025, when it was disabled worldwide); None: it keeps running.
    disable_automation_after: float | None = None


class Operator:
    def __init__(
        self,
        route53: Any,
        endpoints: Sequence[Endpoint],
        *,
        config: OperatorConfig,
        clock: Clock,
        history: History,
        outage: Callable[[Endpoint], float | None],
        wait_until: Callable[[Callable[[], bool], str], None],
        recovered: Callable[[], bool] | None = None,
    ) -> None:
        self.route53 = route53
        self.endpoints = list(endpoints)
        self.config = config
        self.clock = clock
        self.history = history
        self.outage = outage  # when the current outage of an endpoint began, or None
        self.wait_until = wait_until
        self.recovered = recovered  # every client view answers again
        self.repairs = 0
        self.repaired_at: dict[str, float] = {}
        self.done = False
        self.automation_off = False  # repaired and recovered: the run can end

    def pending(self) -> list[tuple[Endpoint, float]]:
        """Endpoints whose current outage began after their last repair (or never repaired)."""
        out = []
        for ep in self.endpoints:
            began = self.outage(ep)
            if began is not None and self.repaired_at.get(ep.name, -1.0) < began:
                out.append((ep, began))
        return out

    def run(self, should_stop: Callable[[], bool]) -> None:
        def settled() -> bool:
            return bool(
                self.config.stop_when_recovered
                and self.repairs
                and self.recovered is not None
                and self.recovered()
                and not any(self.outage(ep) is not None for ep in self.endpoints)
            )

        while not should_stop():
            self.wait_until(
                lambda: bool(self.pending()) or settled() or should_stop(), "operator: watching"
            )
            if should_stop():
                return
            if not self.pending():  # settled: the repair held and clients have addresses
                self.history.append("operator", self.clock.now(), action="recovered")
                self.done = True
                return
            ep, began = min(self.pending(), key=lambda item: (item[1], item[0].name))
            self.history.append(
                "operator",
                self.clock.now(),
                action="noticed",
                endpoint=ep.name,
                since=round(began - self.history.start, 3),
            )
            due = began + self.config.repair_after
            off = self.config.disable_automation_after
            if off is not None and not self.automation_off:
                at = min(self.clock.now() + off, due)
                if at > self.clock.now():
                    self.clock.sleep(at - self.clock.now())
                self.automation_off = True
                self.history.append("operator", self.clock.now(), action="automation-disabled")
            if due > self.clock.now():
                self.clock.sleep(due - self.clock.now())
            # Whatever else is broken by now is fixed in the same sitting.
            for broken, _ in self.pending() or [(ep, began)]:
                self.repair(broken)
                self.repaired_at[broken.name] = self.clock.now()

    def repair(self, ep: Endpoint) -> None:
        zone_id = find_zone_id(self.route53, ep)
        snap = read_zone(self.route53, ep, zone_id)
        trees = sorted(snap.tree_generations())
        if not trees:
            self.history.append("operator", self.clock.now(), action="no-tree", endpoint=ep.name)
            return
        newest = trees[-1]
        target = plan_name(ep, newest)
        changes = [
            {"Action": "UPSERT", "ResourceRecordSet": alias_record(name, rtype, zone_id, target)}
            for rtype in ep.record_types
            for name in (root_name(ep), rollback_name(ep))
        ]
        self.route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Comment": "dnschaos operator repair", "Changes": changes},
        )
        self.repairs += 1
        self.history.append(
            "operator", self.clock.now(), action="repaired", endpoint=ep.name, generation=newest
        )


@actor_of("incident-2025")
def operator(config: OperatorConfig) -> Callable[[Any], None]:
    """The operator as an actor: notices an outage (from what the probes saw, else from
    Route 53's own records), switches the DNS automation off and repairs by hand. Its
    repair holding ends the run."""

    def run(ctx: Any) -> None:
        parts = ctx.parts
        stack = parts.dns
        world = ctx.workload("incident-2025")

        def outage(ep: Endpoint) -> float | None:
            if stack is not None:
                began: float | None = stack.seen.outage(ep.name, stack.client_view())
                return began
            since = world.watcher.empty_since.get(ep.name)
            return None if since is None else parts.history.start + since

        person = Operator(
            ctx.client("route53"),
            world.endpoints,
            config=config,
            clock=ctx.clock,
            history=ctx.history,
            outage=outage,
            wait_until=ctx.wait_until,
            recovered=stack.seen.all_answer if stack is not None else None,
        )
        parts.shared[AUTOMATION_OFF] = lambda: person.automation_off
        ctx.end_when(
            lambda: (
                "the operator's repair held and every probe answers again" if person.done else None
            )
        )
        person.run(ctx.should_stop)

    return run
