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
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError

from dnschaos.automation.fleet import FleetSource
from dnschaos.automation.plan import PLANS_PK, Plan, Target
from dnschaos.events import Emitter, EventSink, null_sink
from dnschaos.sim.clock import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

DEFAULT_GROUPS: Final = ("regional", "fips")


@dataclass(frozen=True)
class PlannerConfig:
    table: str = "dnschaos-plans"
    groups: tuple[str, ...] = DEFAULT_GROUPS
    interval: float = 30.0  # (assumed) seconds between plans


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
        while not should_stop():
            self.step()
            if should_stop():
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
        resp = self.dynamodb.query(
            TableName=self.config.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PLANS_PK}},
            ScanIndexForward=False,
            Limit=1,
            ProjectionExpression="generation",
        )
        items = resp.get("Items", [])
        return int(items[0]["generation"]["N"]) if items else 0
