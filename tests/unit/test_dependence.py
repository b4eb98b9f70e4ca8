"""Footprints of AWS calls, read from the history's invoke entries, and when two steps commute."""

from __future__ import annotations

from typing import Any

import pytest

from dnschaos.explore.dependence import LOCAL, Footprint, PendingCalls, dependent, invoke_footprint
from dnschaos.sim.scheduler import Actor, ActorState


def _call(service: str, op: str, **params: Any) -> Footprint:
    return invoke_footprint({"kind": "invoke", "service": service, "op": op, "params": params})


def _upsert(zone: str, *names: str, alias: bool = False) -> Footprint:
    value = "-> target.example.com." if alias else "192.0.2.1"
    changes = [f"UPSERT {n} A {value}" for n in names]
    return _call("route-53", "ChangeResourceRecordSets", zone=zone, changes=changes)


def _list(zone: str) -> Footprint:
    return _call("route-53", "ListResourceRecordSets", zone=zone)


def _item(op: str, table: str, generation: Any = None) -> Footprint:
    return _call("dynamodb", op, table=table, generation=generation)


def test_route53_footprints() -> None:
    write = _upsert("/hostedzone/Z1", "WWW.example.com")
    assert write.writes == {("route-53", "Z1", "www.example.com.")}
    assert write.reads == {("route-53", "Z1")}  # validation and quotas read the zone
    # The zone id with or without its prefix is one zone.
    assert dependent(write, _list("Z1"))
    assert not dependent(write, _list("Z2"))
    # An alias may point anywhere: the batch reads all of Route 53.
    assert dependent(_upsert("Z1", "a.example.com", alias=True), _upsert("Z2", "b.other.com"))
    assert _upsert("Z1", "a.example.com", alias=True).reads == {("route-53",)}
    # Reads that name no zone read every zone.
    assert dependent(write, _call("route-53", "ListHostedZonesByName", DNSName="example.com."))
    assert dependent(write, _call("route-53", "GetChange", Id="C123"))
    # A batch the history could not describe writes all of Route 53.
    assert _call("route-53", "ChangeResourceRecordSets", zone="Z1").writes == {("route-53",)}
    assert _call("route-53", "CreateHostedZone", Name="x.").writes == {("route-53",)}


def test_dynamodb_footprints() -> None:
    put5, get5, get6 = (
        _item("PutItem", "plans", "5"),
        _item("GetItem", "plans", 5.0),
        _item("GetItem", "plans", "6"),
    )
    assert dependent(put5, get5)  # "5" and 5.0 are one number
    assert not dependent(put5, get6)
    assert dependent(put5, _item("GetItem", "plans"))  # no key kept: the whole table
    assert dependent(put5, _call("dynamodb", "Query", table="plans", limit=1))
    assert dependent(put5, _call("dynamodb", "DescribeTable", TableName="plans"))  # item count
    assert not dependent(put5, _call("dynamodb", "Scan", table="other"))
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/plans"
    assert dependent(put5, _item("GetItem", arn))
    # Reads that name no table, and writes the history cannot place, touch all of DynamoDB.
    assert dependent(put5, _call("dynamodb", "ListTables"))
    assert _call("dynamodb", "BatchWriteItem").writes == {("dynamodb",)}
    assert _call("dynamodb", "TransactGetItems").writes == {("dynamodb",)}  # counted a write


def test_what_commutes() -> None:
    put1, put2 = _item("PutItem", "t", 1), _item("PutItem", "t", 2)
    get1, get2 = _item("GetItem", "t", 1), _item("GetItem", "t", 2)
    assert not dependent(get1, get1)  # two reads, whatever they read
    assert dependent(put1, put2)  # two writes, even of different items: both are seen
    assert dependent(put1, _upsert("Z1", "a.example.com"))
    assert not dependent(put1, get2) and dependent(put1, get1)
    assert not dependent(put1, _list("Z1"))  # different services
    # Actor code: depends on actor code and on writes, not on reads.
    assert dependent(LOCAL, LOCAL)
    assert dependent(LOCAL, put1) and dependent(put1, LOCAL)
    assert not dependent(LOCAL, get1) and not dependent(_list("Z1"), LOCAL)
    # Other services: a read reads the whole service, anything else writes it.
    assert dependent(_call("sts", "AssumeRole"), _call("sts", "GetCallerIdentity"))
    assert not dependent(_call("sts", "GetCallerIdentity"), _call("sts", "GetSessionToken"))


class _History(list[dict[str, Any]]):
    pass


@pytest.mark.parametrize(
    ("state", "label", "expected"),
    [
        (ActorState.READY, "call dynamodb.GetItem", "call"),
        (ActorState.READY, "done dynamodb.GetItem", "local"),
        (ActorState.READY, "start", "local"),
        # Before: the entry says another call, and the step was taken for actor code,
        # which commutes with reads; a call this view cannot place commutes with nothing.
        (ActorState.READY, "call dynamodb.PutItem", None),
        (ActorState.SLEEPING, "call dynamodb.GetItem", None),  # picking it moves the clock
    ],
)
def test_the_pending_step_of_a_candidate(state: ActorState, label: str, expected: Any) -> None:
    history = _History(
        [
            {
                "kind": "invoke",
                "actor": "a",
                "service": "dynamodb",
                "op": "GetItem",
                "params": {"table": "t", "generation": "1"},
            },
        ]
    )
    if not label.startswith("call "):  # the call ended before the actor's code went on
        history.append({"kind": "complete", "actor": "a", "service": "dynamodb", "op": "GetItem"})
    pending = PendingCalls()
    pending.bind(history)
    got = pending.of(Actor("a", lambda: None, state=state, label=label))
    if expected is None:
        assert got is None
    elif expected == "local":
        assert got == LOCAL
    else:
        assert got == _item("GetItem", "t", "1")
        assert pending.independent(got, _item("GetItem", "t", "1"))
        assert pending.independent(got, LOCAL)  # a read commutes with actor code


@pytest.mark.parametrize(("completed", "expected"), [(False, None), (True, LOCAL)])
def test_a_wait_inside_a_call_is_not_taken_for_actor_code(completed: bool, expected: Any) -> None:
    # botocore's retry backoff sleeps between a call's invoke and its complete, and the
    # step that ends the wait sends the write again. Before: that step was local, so it
    # commuted with another actor's read of the item it writes.
    history = _History(
        [
            {
                "kind": "invoke",
                "actor": "a",
                "service": "dynamodb",
                "op": "PutItem",
                "params": {"table": "t", "generation": "1"},
            }
        ]
    )
    if completed:
        history.append({"kind": "complete", "actor": "a", "service": "dynamodb", "op": "PutItem"})
    pending = PendingCalls()
    pending.bind(history)
    got = pending.of(Actor("a", lambda: None, state=ActorState.READY, label="sleep 0.05"))
    assert got == expected
    if got is not None:
        assert pending.independent(got, _item("GetItem", "t", "1"))


def test_footprints_name_what_they_touch() -> None:
    # TestDNSAnswer reads what one zone answers, not all of Route 53.
    assert _call("route-53", "TestDNSAnswer", zone="Z1").reads == {("route-53", "Z1")}
    # An item written by UpdateItem is that generation's, like PutItem's.
    update = _item("UpdateItem", "plans", "7")
    assert update.writes == {("dynamodb", "plans", "gen", "7")}
    assert not dependent(update, _item("GetItem", "plans", "8"))
    # A table named by its ARN (an index's too) is the table.
    by_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/plans/index/by-generation"
    assert _item("GetItem", by_arn, "7").reads == {("dynamodb", "plans", "gen", "7")}
    assert _call("dynamodb", "Query", table="arn:aws:dynamodb:r:1:table/").reads == {("dynamodb",)}
    # What a search prints for a step.
    assert LOCAL.describe() == "actor code"
    assert _upsert("Z1", "www.example.com").describe() == (
        "reads route-53/Z1; writes route-53/Z1/www.example.com."
    )
    assert _list("Z1").describe() == "reads route-53/Z1; writes -"


def _ready(name: str, label: str) -> Actor:
    return Actor(name, lambda: None, state=ActorState.READY, label=label)


def test_pending_calls_follow_a_history_streamed_to_its_file() -> None:
    from dnschaos.history import History

    history = History(0.0)
    try:
        pending = PendingCalls()
        assert pending.of(_ready("a", "start")) == LOCAL  # nothing bound yet: actor code
        pending.bind(history)
        history.append("choice", 0.0, actor="a", label="start")  # read past, not noted
        params = {"table": "t", "generation": "1"}
        history.append("invoke", 0.0, actor="a", service="dynamodb", op="GetItem", params=params)
        assert pending.of(_ready("a", "call dynamodb.GetItem")) == _item("GetItem", "t", "1")
        # The file is read on from where it stopped: the next call is seen too.
        history.append("complete", 0.0, actor="a", service="dynamodb", op="GetItem")
        assert pending.of(_ready("a", "done dynamodb.GetItem")) == LOCAL
        history.append("invoke", 1.0, actor="a", service="dynamodb", op="PutItem", params=params)
        assert pending.of(_ready("a", "call dynamodb.PutItem")) == _item("PutItem", "t", "1")
        assert pending.of(_ready("a", "sleep 0.05")) is None  # inside the call: unplaced
        # A new run's history starts clean: no call of the last one is still open.
        pending.bind([])
        assert pending.of(_ready("a", "sleep 0.05")) == LOCAL
    finally:
        history.close()


def test_footprints_of_table_reads_zone_ids_and_short_changes() -> None:
    # A Query reads one table, whatever generation it asks for.
    assert _call("dynamodb", "Query", table="plans").reads == {("dynamodb", "plans")}
    # GetHostedZone names its zone by Id.
    assert _call("route-53", "GetHostedZone", Id="/hostedzone/Z1").reads == {("route-53", "Z1")}
    # A DELETE is summarised without values: it still writes its one name.
    delete = _call("route-53", "ChangeResourceRecordSets", zone="Z1", changes=["DELETE www A"])
    assert delete.writes == {("route-53", "Z1", "www.")}
    # A change that cannot be read writes all of Route 53.
    broken = _call("route-53", "ChangeResourceRecordSets", zone="Z1", changes=["UPSERT www"])
    assert broken.writes == {("route-53",)}
    both = Footprint(reads=frozenset({("route-53", "Z1"), ("dynamodb", "t")}))
    assert both.describe() == "reads dynamodb/t, route-53/Z1; writes -"


def test_a_call_before_any_history_is_unplaced() -> None:
    assert PendingCalls().of(_ready("a", "call dynamodb.GetItem")) is None
