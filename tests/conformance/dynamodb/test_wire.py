"""DynamoDB answered at before-send (adapters/dynamodb/wire.py) is moto's answer, byte for byte.

The same generated calls run on fresh moto state twice, once through moto's HTTP
emulation (``DNSCHAOS_FAST=0``) and once on the fast path; every answer's status,
headers (but the date) and body must be the same bytes, and so must the tables as a
Scan reads them at the end. The calls mix what the fast path answers (Query, GetItem,
PutItem in the forms it reads) with what it leaves to moto (errors, conditions that
fail, other operations that write, forms it does not read), so that both its answers
and its stepping aside are checked.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dnschaos.adapters.aws import target as aws
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.dynamodb import wire as dynamodb_wire
from dnschaos.sim.clock import ManualClock

TABLES: dict[str, tuple[tuple[str, str], tuple[str, str] | None]] = {
    "plans": (("pk", "S"), ("generation", "N")),
    "named": (("pk", "S"), ("name", "S")),
    "single": (("id", "S"), None),
}


@pytest.fixture
def fast_setting() -> Iterator[None]:
    yield
    aws.set_fast_path(None)


def _value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["S", "N", "BOOL", "NULL", "SS", "NS"] + (["M", "L"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "S":
        return {"S": rng.choice(["x", "é ü", 'a"b\\c', "tab\there", "long" * 20, "0"])}
    if kind == "N":
        return {"N": rng.choice(["0", "1", "-3", "1.50", "12345678901234567890", "0.001", "7"])}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": rng.sample(["a", "b", "c", "d"], rng.randint(1, 3))}
    if kind == "NS":
        return {"NS": rng.sample(["1", "2", "3.5", "-4"], rng.randint(1, 3))}
    if kind == "M":
        return {"M": {f"k{i}": _value(rng, depth + 1) for i in range(rng.randint(0, 3))}}
    return {"L": [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}


def _key(rng: random.Random, table: str) -> dict[str, Any]:
    (hash_name, _), range_key = TABLES[table]
    key = {hash_name: {"S": rng.choice(["plans", "other", "p3"])}}
    if range_key is not None:
        name, kind = range_key
        if kind == "N":
            key[name] = {"N": str(rng.choice([1, 2, 3, 5, 8, 13, 21, 34, 55, 89]))}
        else:
            key[name] = {"S": rng.choice(["a", "b", "ab", "abc", "b1", "z"])}
    return key


def _call(rng: random.Random) -> tuple[str, dict[str, Any]]:
    table = rng.choice(list(TABLES))
    (hash_name, _), range_key = TABLES[table]
    roll = rng.random()
    if roll < 0.35:
        item = {**_key(rng, table), **{f"a{i}": _value(rng) for i in range(rng.randint(0, 4))}}
        params: dict[str, Any] = {"TableName": table, "Item": item}
        form = rng.randint(0, 7)
        if form == 1:
            params["ConditionExpression"] = f"attribute_not_exists({hash_name})"
        elif form == 2:
            params["ConditionExpression"] = "attribute_exists(#h)"
            params["ExpressionAttributeNames"] = {"#h": hash_name}
        elif form == 3:
            params["ConditionExpression"] = "a0 = :v OR attribute_not_exists(a0)"
            params["ExpressionAttributeValues"] = {":v": _value(rng)}
        elif form == 4:
            params["ConditionExpression"] = "attribute_not_exists(pk)"
            params["ExpressionAttributeNames"] = {"#unused": "x"}  # moto refuses it
        elif form == 6:
            params["ReturnValues"] = "ALL_OLD"  # moto writes this one itself
        elif form == 7:
            params["ReturnConsumedCapacity"] = "TOTAL"  # and this one
        return "put_item", params
    if roll < 0.75:
        params = {
            "TableName": table,
            "KeyConditionExpression": rng.choice(
                [f"{hash_name} = :h", "#h = :h", f"{hash_name}=:h"]
            ),
            "ExpressionAttributeValues": {":h": {"S": rng.choice(["plans", "other", "nope"])}},
        }
        if "#h" in params["KeyConditionExpression"]:
            params["ExpressionAttributeNames"] = {"#h": hash_name}
        if range_key is not None and rng.random() < 0.4:
            name, kind = range_key
            op = rng.choice(["<", "<=", ">", ">=", "="])
            params["KeyConditionExpression"] += f" AND {name} {op} :r"
            if kind == "N":
                params["ExpressionAttributeValues"][":r"] = {"N": str(rng.choice([2, 5, 30]))}
            else:
                params["ExpressionAttributeValues"][":r"] = {"S": rng.choice(["ab", "b"])}
        if rng.random() < 0.6:
            params["ScanIndexForward"] = rng.random() < 0.5
        if rng.random() < 0.7:
            params["Limit"] = rng.randint(1, 4)
        if rng.random() < 0.3:
            params["ProjectionExpression"] = rng.choice(["a0", "a0, a1", "#p", "a0.k0", "nothere"])
            if "#p" in params["ProjectionExpression"]:
                params.setdefault("ExpressionAttributeNames", {})["#p"] = "a1"
        if rng.random() < 0.2:
            params["ConsistentRead"] = True
        if rng.random() < 0.05:
            params["ReturnConsumedCapacity"] = "TOTAL"
        return "query", params
    if roll < 0.9:
        params = {"TableName": table, "Key": _key(rng, table)}
        if rng.random() < 0.3:
            params["ProjectionExpression"] = rng.choice(["a0", "a1, a0", "#p"])
            if params["ProjectionExpression"] == "#p":
                params["ExpressionAttributeNames"] = {"#p": "a2"}
        if rng.random() < 0.05:
            params["TableName"] = "missing"
        return "get_item", params
    if roll < 0.95:
        return "delete_item", {"TableName": table, "Key": _key(rng, table)}
    key = _key(rng, table)
    return "update_item", {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET a0 = :v",
        "ExpressionAttributeValues": {":v": _value(rng)},
    }


def _create(client: Any, name: str) -> None:
    (hash_name, hash_kind), range_key = TABLES[name]
    schema = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    attrs = [{"AttributeName": hash_name, "AttributeType": hash_kind}]
    if range_key is not None:
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
    client.create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )


def _session(fast: bool, seed: int, calls: int) -> tuple[list[Any], int]:
    """Every raw answer of one generated sequence on fresh moto state, and how many
    the fast path answered."""
    aws.set_fast_path(fast)
    rng = random.Random(seed)
    raw: list[Any] = []
    answered = 0
    original = dynamodb_wire.answer

    def counting(request: Any) -> Any:
        nonlocal answered
        out = original(request)
        answered += out is not None
        return out

    def record(response_dict: Any = None, **_: Any) -> None:
        if response_dict is not None:
            headers = {k: v for k, v in response_dict["headers"].items() if k != "date"}
            raw.append((response_dict["status_code"], headers, response_dict["body"]))

    with open_target(TargetSpec("moto"), clock=ManualClock(1_761_000_000.0), seed=seed) as target:
        client = target.client("dynamodb", actor="probe")
        for name in TABLES:
            _create(client, name)
        client.meta.events.register("response-received.dynamodb.*", record)
        dynamodb_wire.answer = counting
        try:
            for _ in range(calls):
                method, params = _call(rng)
                try:
                    answer = getattr(client, method)(**params)
                except ClientError as error:
                    answer = error.response
                except TypeError as error:
                    # moto's own projection of a nested path fails on a value that is not
                    # a map (a0.k0 of a string): the fast path leaves those paths to moto,
                    # so both ways must fail alike.
                    raw.append(("moto failed", str(error)))
                    continue
                last = answer.get("LastEvaluatedKey")
                if method == "query" and last is not None and rng.random() < 0.7:
                    page = getattr(client, method)(**params, ExclusiveStartKey=last)
                    raw.append(("page", page.get("Items")))
            for name in TABLES:
                raw.append(("scan", client.scan(TableName=name)["Items"]))
        finally:
            dynamodb_wire.answer = original
    return raw, answered


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_dynamodb_answers_at_before_send_are_motos_byte_for_byte(
    fast_setting: None, seed: int
) -> None:
    fast, answered = _session(True, seed, 160)
    slow, none = _session(False, seed, 160)
    assert none == 0
    assert len(fast) == len(slow)
    for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
        # Request ids too: both drew them from moto's seeded generator.
        assert a == b, f"answer {i}:\nfast path {a!r}\nmoto      {b!r}"
    # Most calls are in the forms the fast path reads; the rest are moto's.
    assert answered > 60, answered
    assert sum(1 for a in slow if a[0] == 400) > 5


@pytest.mark.parametrize(
    "moto_write",
    [
        {"ReturnValues": "ALL_OLD"},
        {"ReturnConsumedCapacity": "TOTAL"},
        {"Item": {"pk": {"S": "plans"}, "generation": {"N": "2"}, "a0": {"B": b"\x01"}}},
    ],
    ids=["return-values", "consumed-capacity", "binary"],
)
def test_a_put_that_moto_answers_is_seen_by_the_next_query(
    fast_setting: None, moto_write: dict[str, Any]
) -> None:
    # The fast path keeps each partition's order and rendered items between requests; a
    # PutItem in a form it leaves to moto replaces an item behind its back.
    aws.set_fast_path(True)
    query = {
        "TableName": "plans",
        "KeyConditionExpression": "pk = :h",
        "ExpressionAttributeValues": {":h": {"S": "plans"}},
    }
    key = {"pk": {"S": "plans"}, "generation": {"N": "2"}}
    with open_target(TargetSpec("moto"), clock=ManualClock(1_761_000_000.0), seed=1) as target:
        client = target.client("dynamodb", actor="probe")
        _create(client, "plans")
        client.put_item(TableName="plans", Item={**key, "a0": {"S": "old"}})
        assert client.query(**query)["Items"] == [{**key, "a0": {"S": "old"}}]
        put = {"TableName": "plans", "Item": {**key, "a0": {"S": "new"}}, **moto_write}
        answered = []
        original = dynamodb_wire.answer

        def counting(request: Any) -> Any:
            out = original(request)
            answered.append(out is not None)
            return out

        dynamodb_wire.answer = counting
        try:
            client.put_item(**put)
        finally:
            dynamodb_wire.answer = original
        assert answered == [False], "the fast path answered a put it should leave to moto"
        assert client.query(**query)["Items"] == [put["Item"]]
