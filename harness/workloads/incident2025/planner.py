"""The DNS planner: turns the fleet into a new plan generation, on an interval.

A failing planner only means "no new plan": the system stays as it is. Each
generation is written once, with a conditional put; if two planners race for
the same generation, one loses and tries again next interval.

The planner protocol (for ``module:Class`` planners)::

    class MyPlanner:
        def __init__(self, name: str, *, dynamodb, fleet: FleetSource,
                     config: PlannerConfig, clock: Clock, events: EventSink) -> None: ...
        def step(self) -> int | None: ...   # write one plan, return its generation
        def run(self, should_stop: Callable[[], bool]) -> None: ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from dnschaos.events import Emitter, EventSink, null_sink
from dnschaos.sim.clock import Clock
from dnschaos.workloads.incident2025.fleet import FleetSource
from dnschaos.workloads.incident2025.plan import (
    PLANS_PK,
    Plan,
    PlanFormatError,
    Target,
    generation_of,
    generation_text,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

DEFAULT_GROUPS: Final = ("regional", "fips")
# Items a page once the newest item turned out malformed.
SKIP_PAGE: Final = 25


@dataclass(frozen=True)
class PlannerConfig:
    table: str = "dnschaos-plans"
    groups: tuple[str, ...] = DEFAULT_GROUPS
    interval: float = 30.0  # (assumed) seconds between plans
    max_plans: int | None = None  # stop after writing this many plans (None: never)


class Planner:
    def __init__(
        self,
        name: str,
        *,
        dynamodb: DynamoDBClient,
        fleet: FleetSource,
        config: PlannerConfig,
        clock: Clock,
        events: EventSink = null_sink,
    ) -> None:
        self.name = name
        self.dynamodb = dynamodb
        self.fleet = fleet
        self.config = config
        self.clock = clock
        self.emit = Emitter(name, clock, events)

    def run(self, should_stop: Callable[[], bool]) -> None:
        written = 0
        while not should_stop():
            if self.step() is not None:
                written += 1
            if should_stop():
                break
            if self.config.max_plans is not None and written >= self.config.max_plans:
                self.emit("planner-stopped", plans=written)
                break
            self.clock.sleep(self.config.interval)

    def step(self) -> int | None:
        try:
            lbs = self.fleet.load_balancers()
            if not lbs:
                self.emit("no-plan", reason="the fleet has no load balancers")
                return None
            generation = self.newest_generation() + 1
            targets = tuple(Target(lb.lb_id, lb.ipv4, lb.ipv6, lb.weight) for lb in lbs)
            plan = Plan(
                generation=generation,
                created_at=self.clock.now(),
                groups={group: targets for group in self.config.groups},
            )
            self.dynamodb.put_item(
                TableName=self.config.table,
                Item=plan.to_item(),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            reason = (
                "another planner wrote this generation"
                if code == "ConditionalCheckFailedException"
                else str(exc)
            )
            self.emit("no-plan", reason=reason)
            return None
        except BotoCoreError as exc:
            self.emit("no-plan", reason=str(exc))
            return None
        self.emit("wrote-plan", generation=generation, load_balancers=len(targets))
        return generation

    def newest_generation(self) -> int:
        """The newest whole generation in the table (0 when there is none).

        Items written by other code may hold a generation that is no whole number
        (``2.5``, a string): each is logged, reported as ``generation-skipped`` and
        passed over, and the next older item is read. Usually the first item is fine
        and this is a single one-item query.
        """
        kwargs: dict[str, Any] = {
            "TableName": self.config.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PLANS_PK}},
            "ScanIndexForward": False,
            "Limit": 1,
            "ProjectionExpression": "generation",
        }
        while True:
            resp = self.dynamodb.query(**kwargs)
            for item in resp.get("Items", []):
                try:
                    return generation_of(item)
                except PlanFormatError as exc:
                    text = generation_text(item)
                    log.warning(
                        "%s: skipping plan item with generation %s: %s", self.name, text, exc
                    )
                    self.emit("generation-skipped", item_generation=text, reason=str(exc))
            if "LastEvaluatedKey" not in resp:
                return 0
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            kwargs["Limit"] = SKIP_PAGE
