"""DynamoDB's Query, GetItem and PutItem answered at ``before-send``, over moto's storage.

On the fast path (:func:`dnschaos.adapters.aws.target.fast_path`) these three calls, which
are nearly all the DynamoDB calls automation makes, are answered from the JSON botocore
serialized, without moto's HTTP emulation: no request routing, no model-driven parsing of
the request, no expression tokenizer on every call, no sort of the partition, no deep copy.

What is answered is what moto would answer, computed from moto's own storage and with
moto's own functions wherever a rule lives in one:

* the expressions (key condition, projection, condition) are parsed and validated by
  moto's parsers, once per distinct expression and values, and the parse is kept;
* items are read from and written to moto's tables as moto's handlers do
  (``Table.get_item``, ``Item``, the table's validations, its stream);
* a partition's range-key order is kept between requests (:mod:`.index`).

Only requests whose answer is provably moto's are answered; anything else returns None
and goes through moto: a signed request or one with moto's account header, a member this
module does not read, binary values (moto decodes them as it parses), consumed capacity
asked for, a table named by ARN, a secondary index, a filter, an error of any kind (moto
renders it; nothing has changed when one is found), and every other operation. When moto
handles a write itself, what :mod:`.index` keeps is dropped first.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from typing import Any, Final

from dnschaos.adapters.aws import moto_reply
from dnschaos.adapters.aws.moto_reply import Response
from dnschaos.adapters.dynamodb import index

_TARGET_PREFIX: Final = "DynamoDB_20120810."
_CONTENT_TYPE: Final = "application/x-amz-json-1.0"
# Operations moto answers without changing any table: they leave what index keeps alone.
_READS: Final = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)
_QUERY_MEMBERS: Final = frozenset(
    {
        "TableName",
        "KeyConditionExpression",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "ScanIndexForward",
        "Limit",
        "ExclusiveStartKey",
        "ProjectionExpression",
        "ConsistentRead",
        "ReturnConsumedCapacity",
    }
)
_GET_MEMBERS: Final = frozenset(
    {
        "TableName",
        "Key",
        "ProjectionExpression",
        "ExpressionAttributeNames",
        "ConsistentRead",
        "ReturnConsumedCapacity",
    }
)
_PUT_MEMBERS: Final = frozenset(
    {
        "TableName",
        "Item",
        "ConditionExpression",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "ReturnValues",
        "ReturnConsumedCapacity",
        "ReturnValuesOnConditionCheckFailure",
    }
)
_MAX_PARSES: Final = 4096  # distinct expressions kept; the table is cleared when full


class _Moto(Exception):
    """This request is moto's to answer."""


def answer(request: Any) -> Response | None:
    """DynamoDB's answer to ``request``, or None for moto to answer."""
    operation, region = _operation(request)
    if operation is None:
        return None
    handler = _HANDLERS.get(operation)
    if handler is not None and moto_reply.plain(request.headers):
        try:
            params = _params(request.body)
            body = _respond(region, lambda backend: handler(backend, params))
        except _Moto:
            body = None
        if body is not None:
            return body
    # moto answers; a write it makes (a PutItem in a form not answered here too) moves
    # its storage on behind what index keeps.
    if operation not in _READS:
        index.forget()
    return None


def _operation(request: Any) -> tuple[str | None, str]:
    url: str = request.url
    if request.method != "POST" or not url.startswith("https://dynamodb."):
        return None, ""
    host, _, rest = url[len("https://") :].partition("/")
    labels = host.split(".")
    if rest or len(labels) != 4 or labels[2:] != ["amazonaws", "com"]:
        return None, ""
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode("latin-1") if isinstance(target, bytes) else str(target)
    if not target.startswith(_TARGET_PREFIX):
        return None, ""
    return target[len(_TARGET_PREFIX) :], labels[1]


def _params(body: object) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not isinstance(body, str):
        raise _Moto
    # Binary values are decoded by moto's request parser; they are left to it.
    if '"B"' in body or '"BS"' in body:
        raise _Moto
    try:
        params = json.loads(body)
    except ValueError:
        raise _Moto from None
    if not isinstance(params, dict):
        raise _Moto
    return params


def _respond(region: str, handle: Callable[[Any], str]) -> Response | None:
    from moto.dynamodb.models import dynamodb_backends

    headers: dict[str, str] = {}
    account = moto_reply.open_request("dynamodb", region, headers)
    if account is None:
        return None
    body = handle(dynamodb_backends[account][region])
    headers["Content-Type"] = _CONTENT_TYPE
    if moto_reply.sends_status():
        headers["status"] = "200"
    moto_reply.close_request(headers)
    headers["x-amz-crc32"] = str(binascii.crc32(body.encode("utf-8")))
    return 200, headers, body


# --------------------------------------------------------------------------- requests


def _members(params: dict[str, Any], allowed: frozenset[str]) -> None:
    if not params.keys() <= allowed:
        raise _Moto
    if params.get("ReturnConsumedCapacity", "NONE") != "NONE":
        raise _Moto


def _table(backend: Any, params: dict[str, Any]) -> Any:
    table = backend.tables.get(params.get("TableName"))
    if table is None:
        raise _Moto  # no such table, or one named by its ARN
    return table


def _values(params: dict[str, Any]) -> dict[str, Any]:
    # moto's checks of ExpressionAttributeValues, before anything else reads them.
    values = params.get("ExpressionAttributeValues")
    if values is None:
        return {}
    if not values or any(not k.startswith(":") or v == {"NS": []} for k, v in values.items()):
        raise _Moto
    return dict(values)


_parses: dict[str, Any] = {}


def _parsed(kind: str, parse: Callable[[], Any], *key: Any) -> Any:
    """moto's parse of an expression, once per distinct expression, names and values."""
    memo = kind + json.dumps(key, sort_keys=True)
    if memo not in _parses:
        if len(_parses) >= _MAX_PARSES:
            _parses.clear()
        try:
            _parses[memo] = (True, parse())
        except Exception:  # moto rejects it: moto renders its error
            _parses[memo] = (False, None)
    ok, parsed = _parses[memo]
    if not ok:
        raise _Moto
    return parsed


def _projection(expression: str | None, names: dict[str, str]) -> tuple[list[str], list[str]]:
    """moto's projection paths when each is one top-level name, and the names used."""
    from moto.dynamodb.responses import ProjectionExpressionParser

    def parse() -> tuple[list[list[str]], list[str]]:
        parser = ProjectionExpressionParser(expression, names)
        return parser.parse(), parser.expr_attr_names_found

    paths, used = _parsed("projection", parse, expression, names)
    if any(len(path) != 1 or "[" in path[0] for path in paths):
        raise _Moto  # nested paths and list elements: moto's projection is moto's
    return [path[0] for path in paths], list(used)


def _project(item: Any, names: list[str]) -> Any:
    """``item`` projected on top-level ``names``, as moto's ``Item.project`` does it."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from moto.dynamodb.models.dynamo_type import Item

    attrs = {}
    for name in names:
        if name in item.attrs:
            value = TypeDeserializer().deserialize(item.attrs[name].to_regular_json())
            attrs[name] = TypeSerializer().serialize(value)
    return Item(hash_key=item.hash_key, range_key=item.range_key, attrs=attrs)


def _empty_projection(params: dict[str, Any]) -> bool:
    return "ProjectionExpression" in params and not params["ProjectionExpression"]


def _used_all(names: dict[str, str], used: list[str]) -> None:
    if any(name not in used for name in names):
        raise _Moto  # moto refuses names that no expression uses


def _query(backend: Any, params: dict[str, Any]) -> str:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT
    from moto.dynamodb.parsing.key_condition_expression import parse_expression

    _members(params, _QUERY_MEMBERS)
    expression = params.get("KeyConditionExpression")
    if not isinstance(expression, str) or _empty_projection(params):
        raise _Moto
    names: dict[str, str] = params.get("ExpressionAttributeNames") or {}
    if "ExpressionAttributeNames" in params and not names:
        raise _Moto
    values = _values(params)
    table = _table(backend, params)
    projection, used = _projection(params.get("ProjectionExpression"), names)

    def parse() -> Any:
        return parse_expression(
            key_condition_expression=expression,
            expression_attribute_names=names,
            expression_attribute_values=values,
            schema=table.schema,
        )

    hash_conditions, range_conditions, key_names = _parsed(
        "key", parse, expression, names, values, table.schema
    )
    _used_all(names, used + list(key_names))
    if len(hash_conditions) != 1 or hash_conditions[0][0] != table.hash_key_attr:
        raise _Moto
    comparison = None
    if range_conditions:
        if len(range_conditions) != 1 or range_conditions[0][0] != table.range_key_attr:
            raise _Moto
        comparison = (range_conditions[0][1], [DynamoType(v) for v in range_conditions[0][2]])
    limit = params.get("Limit")
    forward = params.get("ScanIndexForward", True)
    start = params.get("ExclusiveStartKey")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise _Moto
    if not isinstance(forward, bool) or not isinstance(params.get("ConsistentRead", False), bool):
        raise _Moto

    try:
        part = index.partition(table, DynamoType(hash_conditions[0][1]))
    except TypeError:
        raise _Moto from None
    ordered = [] if part is None else part.items if forward else reversed(part.items)
    results: list[Any] = []
    result_size = 0
    last_key = None
    skipping = start is not None
    hash_attrs, range_attrs = [table.hash_key_attr], [table.range_key_attr]
    try:
        for item in ordered:
            # moto's loop, step for step: the start key, the limits, the range condition.
            if skipping:
                if table._item_comes_before_dct(item, start, hash_attrs, range_attrs, forward):
                    continue
                skipping = False
            if len(results) == limit or result_size + index.size(item) > RESULT_SIZE_LIMIT:
                last_key = table._get_last_evaluated_key(results[-1], None)
                break
            if comparison is None or item.attrs[table.range_key_attr].compare(*comparison):
                results.append(item)
                result_size += index.size(item)
    except Exception:  # moto's loop fails the same way, or answers an error: moto's to give
        raise _Moto from None
    try:
        if projection:
            items = [index.render_attrs(_project(item, projection).attrs) for item in results]
        else:
            items = [index.rendered(item) for item in results]
        out = '{"Items": [' + ", ".join(items) + "]"
        out += f', "Count": {len(results)}, "ScannedCount": {len(results)}'
        if last_key is not None:
            out += ', "LastEvaluatedKey": ' + index.render_attrs(last_key)
    except Exception:  # a value not rendered as moto would (binary), or moto fails alike
        raise _Moto from None
    return out + "}"


def _get_item(backend: Any, params: dict[str, Any]) -> str:
    from moto.dynamodb.models.dynamo_type import DynamoType

    _members(params, _GET_MEMBERS)
    key = params.get("Key")
    if not isinstance(key, dict) or _empty_projection(params):
        raise _Moto
    if any(not next(iter(v.values()), None) for v in key.values()):
        raise _Moto  # an empty key value: moto's error
    names = params.get("ExpressionAttributeNames")
    if names is not None and ("ProjectionExpression" not in params or not names):
        raise _Moto
    table = _table(backend, params)
    if set(key) != set(table.table_key_attrs):
        raise _Moto
    projection, used = _projection(params.get("ProjectionExpression"), names or {})
    _used_all(names or {}, used)
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    try:
        item = table.get_item(DynamoType(key[table.hash_key_attr]), range_value)
    except Exception:
        raise _Moto from None
    if item is None:
        return "{}"
    try:
        if projection:
            return '{"Item": ' + index.render_attrs(_project(item, projection).attrs) + "}"
        return '{"Item": ' + index.rendered(item) + "}"
    except Exception:  # a value not rendered as moto would (binary), or moto fails alike
        raise _Moto from None


def _put_item(backend: Any, params: dict[str, Any]) -> str:
    from moto.dynamodb.comparisons import create_condition_expression_parser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.responses import (
        validate_put_has_empty_attrs,
        validate_put_has_empty_keys,
        validate_put_has_gsi_keys_set_to_none,
    )

    _members(params, _PUT_MEMBERS)
    if params.get("ReturnValues", "NONE") != "NONE":
        raise _Moto
    attrs = params.get("Item")
    if not isinstance(attrs, dict):
        raise _Moto
    table = _table(backend, params)
    condition = params.get("ConditionExpression")
    names = params.get("ExpressionAttributeNames") or {}
    values = _values(params)

    def parse() -> Any:
        parser = create_condition_expression_parser(condition, names, values)
        op = parser.parse()
        _used_all(names, parser.expr_attr_names_found)
        return op

    op = _parsed("condition", parse, condition, names, values)
    try:
        # The handler's checks, then Table.put_item's, in moto's order; each only reads.
        validate_put_has_empty_keys(attrs, table)
        validate_put_has_empty_attrs(attrs, table)
        validate_put_has_gsi_keys_set_to_none(attrs, table)
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = None
        if table.range_key_attr is not None:
            range_value = DynamoType(attrs[table.range_key_attr])
        if hash_value.type != table.hash_key_type or (
            range_value is not None and range_value.type != table.range_key_type
        ):
            raise _Moto
        table._validate_item_types(attrs)
        table._validate_key_sizes(attrs)
        current = table.get_item(hash_value, range_value)
        item = Item(hash_value, range_value, attrs)
        if condition and not op.expr(current):
            raise _Moto  # moto answers ConditionalCheckFailedException
        index.rendered(item)  # a value this module cannot render: moto stores it instead
    except _Moto:
        raise
    except Exception:
        raise _Moto from None
    if range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item
    if table.stream_shard is not None:
        table.stream_shard.add(current, item)
    index.stored(table, hash_value, item, current)
    return "{}"


_HANDLERS: Final[dict[str, Callable[[Any, dict[str, Any]], str]]] = {
    "Query": _query,
    "GetItem": _get_item,
    "PutItem": _put_item,
}
