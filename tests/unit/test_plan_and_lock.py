from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from dnschaos.workloads.incident2025.lock import LockFormatError, LockValue, preamble
from dnschaos.workloads.incident2025.plan import Plan, PlanFormatError, Target

_ser = TypeSerializer()


def _plan() -> Plan:
    t = (
        Target("lb-001", "192.0.2.1", "2001:db8::1", 100),
        Target("lb-002", "192.0.2.2", "2001:db8::2", 0),
    )
    return Plan(generation=7, created_at=1760940000.5, groups={"regional": t, "fips": t[:1]})


def _item(**overrides: Any) -> dict[str, Any]:
    plain: dict[str, Any] = {
        "pk": "plans",
        "generation": Decimal(3),
        "created_at": Decimal(1),
        "groups": {
            "regional": [
                {"lb_id": "lb-1", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1", "weight": Decimal(5)}
            ]
        },
    }
    plain.update(overrides)
    return {k: _ser.serialize(v) for k, v in plain.items() if v is not None}


def test_plan_round_trips_through_a_dynamodb_item() -> None:
    plan = _plan()
    assert Plan.from_item(plan.to_item()) == plan


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"generation": "seven"}, "generation must be an integer"),
        ({"generation": Decimal("7.5")}, "generation must be an integer"),
        ({"generation": Decimal(0)}, "generation must be at least 1"),
        ({"groups": None}, "groups must be a non-empty map"),
        ({"groups": {"regional": []}}, "must be a non-empty list"),
        (
            {
                "groups": {
                    "regional": [{"lb_id": "lb-1", "ipv4": "192.0.2.1", "weight": Decimal(1)}]
                }
            },
            "missing field 'ipv6'",
        ),
        (
            {
                "groups": {
                    "regional": [
                        {"lb_id": "lb-1", "ipv4": "300.1.1.1", "ipv6": "::1", "weight": Decimal(1)}
                    ]
                }
            },
            "300.1.1.1",
        ),
        (
            {
                "groups": {
                    "regional": [
                        {
                            "lb_id": "lb-1",
                            "ipv4": "192.0.2.1",
                            "ipv6": "::1",
                            "weight": Decimal(256),
                        }
                    ]
                }
            },
            "weight must be 0-255",
        ),
        (
            {
                "groups": {
                    "regional": [
                        {"lb_id": "lb-1", "ipv4": "192.0.2.1", "ipv6": "::1", "weight": "heavy"}
                    ]
                }
            },
            "weight must be an integer",
        ),
        (
            {
                "groups": {
                    "regional": [
                        {"lb_id": "lb-1", "ipv4": "192.0.2.1", "ipv6": "::1", "weight": Decimal(1)},
                        {"lb_id": "lb-1", "ipv4": "192.0.2.2", "ipv6": "::2", "weight": Decimal(1)},
                    ]
                }
            },
            "appears twice",
        ),
    ],
)
def test_malformed_plan_items_are_refused_naming_the_field(
    overrides: dict[str, Any], names: str
) -> None:
    with pytest.raises(PlanFormatError, match=names):
        Plan.from_item(_item(**overrides))


def test_plan_without_an_endpoint_group_names_it() -> None:
    with pytest.raises(PlanFormatError, match="no group 'ipv6-only'"):
        _plan().targets("ipv6-only")


def test_lock_value_round_trip_and_freedom() -> None:
    v = LockValue("enactor-a", 100)
    assert LockValue.parse(v.encode()) == v
    assert v.free_for("enactor-a", 50)  # our own lock
    assert not v.free_for("enactor-b", 99)
    assert v.free_for("enactor-b", 100)  # expired


@pytest.mark.parametrize(
    "raw", ['"holder=a"', "holder=a expires=1", '"holder=a b expires=1"', '"holder=a expires=-1"']
)
def test_lock_value_that_we_did_not_write_is_refused(raw: str) -> None:
    with pytest.raises(LockFormatError):
        LockValue.parse(raw)


def test_preamble_deletes_exact_current_lock_then_creates_ours() -> None:
    current = {
        "Name": "_lock.x.",
        "Type": "TXT",
        "TTL": 1,
        "ResourceRecords": [{"Value": '"holder=a expires=5"'}],
    }
    changes = preamble("_lock.x.", current, LockValue("b", 9))
    assert [c["Action"] for c in changes] == ["DELETE", "CREATE"]
    assert changes[0]["ResourceRecordSet"] is current
    assert changes[1]["ResourceRecordSet"]["ResourceRecords"] == [{"Value": '"holder=b expires=9"'}]
    assert [c["Action"] for c in preamble("_lock.x.", None, LockValue("b", 9))] == ["CREATE"]
