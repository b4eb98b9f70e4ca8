"""Simulations of users' own actors for the explorer's tests: plain boto3 code."""

from __future__ import annotations

from typing import Any

import boto3

import dnschaos

TABLE = "counters"


def _count(history: Any) -> int:
    items = history.items(TABLE)
    return int(items[0]["n"]) if items else -1


def increment() -> None:
    """Read the counter, then write it back one higher: two of these at once lose an update."""
    ddb = boto3.client("dynamodb")
    got = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "hits"}})
    n = int(got["Item"]["n"]["N"])
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "hits"}, "n": {"N": str(n + 1)}})


def both_counted(history: Any) -> str | None:
    n = _count(history)
    return None if n == 2 else f"the counter ends at {n}, not 2: an increment was lost"


both_counted.when = "end"  # type: ignore[attr-defined]


def lost_update() -> dnschaos.Simulation:
    """Two actors increment one counter; calls take no time, so without a hold one of them
    is done before the other starts."""
    sim = dnschaos.Simulation("lost-update", duration=120, latency=(0.0, 0.0))
    sim.table(TABLE, key="pk", items=[{"pk": "hits", "n": 0}])
    sim.actor("a", increment)
    sim.actor("b", increment)
    sim.invariant(both_counted)
    return sim


def raise_flag() -> None:
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "flag"}, "n": {"N": "1"}})


def wait_for_flag() -> None:
    """Polls until the flag is up: a long wait runs into the step limit."""
    import time

    ddb = boto3.client("dynamodb")
    while "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "flag"}}):
        time.sleep(0.5)


def flag_wait() -> dnschaos.Simulation:
    """When ``a`` is held before it raises the flag, ``b`` polls until the run's step limit:
    those runs have no verdict."""
    sim = dnschaos.Simulation("flag-wait", duration=120, latency=(0.0, 0.0))
    sim.table(TABLE, key="pk")
    sim.actor("a", raise_flag)
    sim.actor("b", wait_for_flag)
    sim.limits(max_steps=120)
    return sim
