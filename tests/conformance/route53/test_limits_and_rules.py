"""Route 53's request limits counted per action, the zone apex it protects, aliases across
zones, the alias-or-records rule in every combination, and what a change answers with.

The limits are the API reference's: at most 1,000 ResourceRecord elements and 32,000
characters of Value elements in one request, each UPSERT counted twice (so a CREATE or a
DELETE counts once). Every refusal leaves the zone as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.route53.helpers import (
    Zone,
    a_record,
    alias_record,
    create,
    delete,
    txt_record,
    upsert,
    weighted,
)

RECORDS_OVER = ("InvalidChangeBatch", "[Number of records limit of 1000 exceeded.]")
CHARACTERS_OVER = ("InvalidChangeBatch", "[RDATA character limit of 32000 exceeded.]")
# ELB's hosted zone in us-east-1: an AWS service's zone, not one of the account's.
ELB_ZONE = "Z35SXDOTRQ7X7K"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _refused(zone: Zone, *changes: dict[str, Any]) -> tuple[str, str]:
    before = zone.records()
    with pytest.raises(ClientError) as exc:
        zone.change(*changes)
    assert zone.records() == before, "a refused request changes nothing"
    return _error(exc)


def _a_set(zone: Zone, label: str, count: int) -> dict[str, Any]:
    """One A set of ``count`` distinct addresses."""
    return a_record(zone.fq(label), *(f"10.{i // 250}.{i % 250}.1" for i in range(count)))


def _txt_value(i: int, extra: int = 0) -> str:
    """A TXT value of exactly 1,000 characters (``extra`` more): four quoted strings."""
    head = f"{i:04d}" + "a" * (244 + extra)
    return " ".join(['"' + head + '"'] + ['"' + "b" * 247 + '"'] * 3)


def _txt_set(zone: Zone, label: str, count: int, extra: int = 0) -> dict[str, Any]:
    values = [_txt_value(i, extra if i == 0 else 0) for i in range(count)]
    return {
        "Name": zone.fq(label),
        "Type": "TXT",
        "TTL": 60,
        "ResourceRecords": [{"Value": v} for v in values],
    }


# ---------------------------------------------------------------- request limits


def test_the_limits_hold_exactly_at_their_bound(zone: Zone) -> None:
    assert len(_txt_value(0)) == 1000 and len(_txt_value(0, extra=1)) == 1001
    zone.change(*[create(_a_set(zone, f"r{i}", 100)) for i in range(10)])  # 1,000 records
    zone.change(create(_txt_set(zone, "chars", 32)))  # 32,000 characters
    assert zone.find(zone.fq("r9"), "A") is not None
    assert zone.find(zone.fq("chars"), "TXT") is not None


@pytest.mark.moto_deviation(reason="a request with more than 1,000 records is accepted")
def test_created_records_count_toward_the_record_limit(zone: Zone) -> None:
    changes = [create(_a_set(zone, f"r{i}", 100)) for i in range(10)]
    assert _refused(zone, *changes, create(_a_set(zone, "one-more", 1))) == RECORDS_OVER


@pytest.mark.moto_deviation(reason="a request with more than 1,000 records is accepted")
def test_deleted_records_count_once_toward_the_record_limit(zone: Zone) -> None:
    old = [_a_set(zone, f"old{i}", 100) for i in range(6)]
    zone.change(*[create(rr) for rr in old])
    # 600 deleted and 400 created: 1,000.
    new = [_a_set(zone, f"new{i}", 100) for i in range(4)]
    zone.change(*[delete(rr) for rr in old], *[create(rr) for rr in new])
    # 400 deleted and 601 created: 1,001.
    more = [_a_set(zone, f"more{i}", 100) for i in range(6)] + [_a_set(zone, "last", 1)]
    assert _refused(zone, *[delete(rr) for rr in new], *[create(rr) for rr in more]) == (
        RECORDS_OVER
    )


@pytest.mark.moto_deviation(reason="a request with more than 1,000 records is accepted")
def test_upserted_records_count_twice_toward_the_record_limit(zone: Zone) -> None:
    zone.change(*[upsert(_a_set(zone, f"u{i}", 100)) for i in range(5)])  # 500, counted 1,000
    mixed = [upsert(_a_set(zone, "u0", 100)), create(_a_set(zone, "c", 100))]
    mixed += [create(_a_set(zone, f"d{i}", 100)) for i in range(7)]  # 200 + 100 + 700
    assert _refused(zone, *mixed, create(_a_set(zone, "one-more", 1))) == RECORDS_OVER
    zone.change(*mixed)


@pytest.mark.moto_deviation(
    reason="a request with more than 32,000 characters of values is accepted"
)
def test_created_values_count_toward_the_character_limit(zone: Zone) -> None:
    assert _refused(zone, create(_txt_set(zone, "chars", 32, extra=1))) == CHARACTERS_OVER


@pytest.mark.moto_deviation(
    reason="a request with more than 32,000 characters of values is accepted"
)
def test_deleted_values_count_once_toward_the_character_limit(zone: Zone) -> None:
    first = _txt_set(zone, "first", 16)
    zone.change(create(first))
    second = _txt_set(zone, "second", 16)
    zone.change(delete(first), create(second))  # 16,000 + 16,000
    third = _txt_set(zone, "third", 16, extra=1)
    assert _refused(zone, delete(second), create(third)) == CHARACTERS_OVER


@pytest.mark.moto_deviation(
    reason="a request with more than 32,000 characters of values is accepted"
)
def test_upserted_values_count_twice_toward_the_character_limit(zone: Zone) -> None:
    zone.change(upsert(_txt_set(zone, "u", 16)))  # 16,000, counted 32,000
    assert _refused(zone, upsert(_txt_set(zone, "u", 16, extra=1))) == CHARACTERS_OVER


# ---------------------------------------------------------------- the zone apex


@pytest.mark.moto_deviation(reason="a DELETE of the apex NS or SOA is refused with another error")
@pytest.mark.parametrize(
    ("rtype", "message"),
    [
        ("NS", "[A HostedZone must contain at least one NS record for the zone itself.]"),
        ("SOA", "[A HostedZone must contain exactly one SOA record.]"),
    ],
)
def test_the_apex_ns_and_soa_cannot_be_deleted(zone: Zone, rtype: str, message: str) -> None:
    current = zone.find(zone.name, rtype)
    assert current is not None
    assert _refused(zone, delete(current)) == ("InvalidChangeBatch", message)


def test_the_apex_ns_can_be_replaced_and_a_delegation_deleted(zone: Zone) -> None:
    ns = zone.find(zone.name, "NS")
    assert ns is not None
    replaced = {**ns, "TTL": 3600}
    zone.change(upsert(replaced))
    assert zone.find(zone.name, "NS") == replaced
    delegation = {
        "Name": zone.fq("sub"),
        "Type": "NS",
        "TTL": 300,
        "ResourceRecords": [{"Value": "ns1.example.net."}],
    }
    zone.change(create(delegation))
    zone.change(delete(delegation))
    assert zone.find(zone.fq("sub"), "NS") is None


# ---------------------------------------------------------------- aliases


def _second_zone(zone: Zone, name: str = "other.test.") -> str:
    hz = zone.client.create_hosted_zone(Name=name, CallerReference=f"second-{name}")
    return str(hz["HostedZone"]["Id"].split("/")[-1])


@pytest.mark.moto_deviation(reason="an alias to a missing target is accepted")
def test_an_alias_to_another_zone_needs_its_target_in_that_zone(zone: Zone) -> None:
    other = _second_zone(zone)
    # The name exists, but in this zone, not in the zone the alias names.
    zone.change(create(a_record(zone.fq("here"), "192.0.2.1")))
    alias = alias_record(zone.fq("www"), other, zone.fq("here"))
    assert _refused(zone, create(alias)) == (
        "InvalidChangeBatch",
        f"[Tried to create an alias that targets {zone.fq('here')}, type A in zone {other}, "
        "but that target was not found]",
    )
    zone.client.change_resource_record_sets(
        HostedZoneId=other,
        ChangeBatch={"Changes": [create(a_record("there.other.test.", "192.0.2.2"))]},
    )
    zone.change(create(alias_record(zone.fq("www"), other, "there.other.test.")))
    assert zone.find(zone.fq("www"), "A") is not None


@pytest.mark.moto_deviation(reason="an alias to a missing target is accepted")
def test_an_alias_needs_a_target_of_its_own_type(zone: Zone) -> None:
    zone.change(
        create(
            {
                "Name": zone.fq("v6"),
                "Type": "AAAA",
                "TTL": 60,
                "ResourceRecords": [{"Value": "2001:db8::1"}],
            }
        )
    )
    assert _refused(zone, create(alias_record(zone.fq("www"), zone.zone_id, zone.fq("v6")))) == (
        "InvalidChangeBatch",
        f"[Tried to create an alias that targets {zone.fq('v6')}, type A in zone "
        f"{zone.zone_id}, but that target was not found]",
    )
    zone.change(create(alias_record(zone.fq("www"), zone.zone_id, zone.fq("v6"), rtype="AAAA")))


def test_an_alias_to_a_weighted_target_finds_it(zone: Zone) -> None:
    zone.change(create(weighted(a_record(zone.fq("lb"), "192.0.2.1"), "blue", 5)))
    zone.change(create(alias_record(zone.fq("www"), zone.zone_id, zone.fq("lb"))))
    assert zone.find(zone.fq("www"), "A") is not None


def test_an_alias_to_an_aws_service_zone_is_accepted(zone: Zone) -> None:
    target = "my-lb-1234567890.us-east-1.elb.amazonaws.com."
    zone.change(create(alias_record(zone.fq("www"), ELB_ZONE, target)))
    rec = zone.find(zone.fq("www"), "A")
    assert rec is not None
    assert rec["AliasTarget"] == {
        "HostedZoneId": ELB_ZONE,
        "DNSName": target,
        "EvaluateTargetHealth": False,
    }


# ---------------------------------------------------------------- alias or records


def _described(zone: Zone, label: str) -> str:
    return f"Change with [Action=CREATE, Name={zone.fq(label)}, Type=A, SetIdentifier=null]"


@pytest.mark.moto_deviation(
    reason="an alias with a TTL or records, or a TTL or records alone, is accepted"
)
@pytest.mark.parametrize(
    ("alias", "ttl", "records", "found"),
    [
        (True, True, True, "more than one"),
        (True, True, False, "more than one"),
        (True, False, True, "more than one"),
        (False, True, False, "none"),
        (False, False, True, "none"),
    ],
)
def test_exactly_one_of_an_alias_or_a_ttl_with_records(
    zone: Zone, alias: bool, ttl: bool, records: bool, found: str
) -> None:
    zone.change(create(a_record(zone.fq("target"), "192.0.2.1")))
    rr: dict[str, Any] = {"Name": zone.fq("x"), "Type": "A"}
    if alias:
        rr["AliasTarget"] = alias_record(zone.fq("x"), zone.zone_id, zone.fq("target"))[
            "AliasTarget"
        ]
    if ttl:
        rr["TTL"] = 60
    if records:
        rr["ResourceRecords"] = [{"Value": "192.0.2.9"}]
    assert _refused(zone, create(rr)) == (
        "InvalidInput",
        "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and "
        f"ResourceRecords], or TrafficPolicyInstanceId], but found {found} in "
        + _described(zone, "x"),
    )


# ---------------------------------------------------------------- weighted sets


@pytest.mark.moto_deviation(reason="any number of weighted sets of one name and type is accepted")
def test_the_weighted_set_limit_counts_one_name_and_type(zone: Zone) -> None:
    name = zone.fq("lb")
    zone.change(*[create(weighted(a_record(name, "192.0.2.1"), f"lb-{i}", 1)) for i in range(100)])
    zone.change(
        create(weighted(a_record(zone.fq("other"), "192.0.2.1"), "lb-100", 1)),
        create(
            weighted(
                {"Name": name, "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"x"'}]},
                "lb-100",
                1,
            )
        ),
        upsert(weighted(a_record(name, "192.0.2.7"), "lb-5", 9)),  # replaces: no new set
    )
    assert _refused(zone, create(weighted(a_record(name, "192.0.2.1"), "lb-100", 1))) == (
        "InvalidChangeBatch",
        f"[Exceeded limit on number of weighted RRSets for {name}, type A in this zone.]",
    )


def test_weights_and_set_identifiers_come_back_as_written(zone: Zone) -> None:
    zone.change(
        create(weighted(a_record(zone.fq("lb"), "192.0.2.1"), "blue", 0)),
        create(weighted(a_record(zone.fq("lb"), "192.0.2.2"), "green", 255)),
    )
    listed = [r for r in zone.records() if r["Name"] == zone.fq("lb")]
    assert listed == [
        {
            "Name": zone.fq("lb"),
            "Type": "A",
            "SetIdentifier": "blue",
            "Weight": 0,
            "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}],
        },
        {
            "Name": zone.fq("lb"),
            "Type": "A",
            "SetIdentifier": "green",
            "Weight": 255,
            "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.2"}],
        },
    ]


# ---------------------------------------------------------------- what a change answers


@pytest.mark.moto_deviation(reason="the batch's Comment is left out of ChangeInfo")
def test_a_batch_comment_comes_back_from_the_change_and_get_change(zone: Zone) -> None:
    answer = zone.client.change_resource_record_sets(
        HostedZoneId=zone.zone_id,
        ChangeBatch={
            "Comment": "plan 42",
            "Changes": [create(txt_record(zone.fq("c"), '"x"'))],
        },
    )
    assert answer["ChangeInfo"]["Comment"] == "plan 42"
    polled = zone.client.get_change(Id=answer["ChangeInfo"]["Id"])
    assert polled["ChangeInfo"]["Comment"] == "plan 42"
    plain = zone.change(create(txt_record(zone.fq("d"), '"y"')))
    assert "Comment" not in plain["ChangeInfo"]
    assert "Comment" not in zone.client.get_change(Id=plain["ChangeInfo"]["Id"])["ChangeInfo"]
