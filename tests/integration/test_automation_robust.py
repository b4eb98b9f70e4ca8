"""The built-in automation under malformed plan items: the planner skips generations
that are not whole numbers, and an enactor says so when its scan limit stops it."""

from __future__ import annotations

from typing import Any

from dnschaos.events import EventLog
from dnschaos.sim.clock import ManualClock
from dnschaos.workloads.incident2025.plan import PLANS_PK, Plan
from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig
from tests.integration.conftest import Rig


def put_plan_item(rig: Rig, generation: str, *, well_formed: bool = True) -> None:
    """A plan item written by someone else; its generation is stored as given."""
    item = Plan(1, rig.clock.now(), {"regional": (), "fips": ()}).to_item()
    if well_formed:
        good = rig.target.client("dynamodb").query(
            TableName=rig.world.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PLANS_PK}},
            Limit=1,
        )["Items"][0]
        item = dict(good)
    else:
        item.pop("groups")
    item["generation"] = {"N": generation}
    rig.target.client("dynamodb").put_item(TableName=rig.world.table, Item=item)


def test_the_planner_skips_a_fractional_generation(rig: Rig) -> None:
    assert rig.plans(2) == 2
    put_plan_item(rig, "2.5")
    assert rig.planner.step() == 3, "the newest whole generation is 2"
    [skipped] = rig.log.of_kind("generation-skipped")
    assert skipped.fields["item_generation"] == "2.5"
    assert "integer" in skipped.fields["reason"]
    assert rig.log.of_kind("wrote-plan")[-1].fields["generation"] == 3
    # The enactors take plan 3 (2.5 is refused there as well).
    assert rig.enactor("enactor-a").run_once().generation == 3


class _Pages:
    """A DynamoDB client stub: the query pages of a plans table, newest first."""

    def __init__(self, generations: list[dict[str, str]]) -> None:
        self.generations = generations
        self.queries: list[dict[str, Any]] = []
        self.put: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        start = int(kwargs.get("ExclusiveStartKey", {}).get("at", {}).get("N", "0"))
        end = start + int(kwargs["Limit"])
        page = [{"generation": g} for g in self.generations[start:end]]
        out: dict[str, Any] = {"Items": page}
        if end < len(self.generations):
            out["LastEvaluatedKey"] = {"at": {"N": str(end)}}
        return out

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self.put.append(kwargs)
        return {}


def _planner(client: _Pages, rig: Rig) -> tuple[Planner, EventLog]:
    log = EventLog()
    planner = Planner(
        "planner",
        dynamodb=client,  # type: ignore[arg-type]
        fleet=rig.world.fleet,
        config=PlannerConfig(table=rig.world.table),
        clock=ManualClock(),
        events=log,
    )
    return planner, log


def test_the_planner_skips_string_and_other_malformed_generations(rig: Rig) -> None:
    junk = [{"S": "seven"}, {"N": "1e400"}, {"N": "0"}, {"N": "-3"}, {"B": "AA=="}]
    client = _Pages([*junk * 6, {"N": "4"}, {"N": "3"}])
    planner, log = _planner(client, rig)
    assert planner.step() == 5
    assert len(log.of_kind("generation-skipped")) == 30
    assert client.put[0]["Item"]["generation"] == {"N": "5"}
    # The first query is the one the planner always made: one item, the newest.
    assert client.queries[0]["Limit"] == 1


def test_the_planner_starts_at_one_when_no_generation_is_whole(rig: Rig) -> None:
    planner, log = _planner(_Pages([{"N": "0.5"}]), rig)
    assert planner.step() == 1
    assert len(log.of_kind("generation-skipped")) == 1


def test_an_enactor_reports_hitting_its_scan_limit(rig: Rig) -> None:
    rig.plans(1)
    for gen in range(2, 28):  # 26 malformed plans above the good one
        put_plan_item(rig, str(gen), well_formed=False)
    a = rig.enactor("enactor-a")
    assert a.run_once().generation is None
    [hit] = rig.log.of_kind("scan-limit-hit")
    assert hit.actor == "enactor-a"
    assert hit.fields["limit"] == 25 and hit.fields["skipped"] == 25
    assert hit.fields["oldest_examined"] == "3"
    # Under the limit the good plan is found and nothing is reported.
    b = rig.enactor("enactor-b", plan_scan_limit=30)
    assert b.run_once().generation == 1
    assert len(rig.log.of_kind("scan-limit-hit")) == 1
