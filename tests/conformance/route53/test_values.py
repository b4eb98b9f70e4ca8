"""Record names and values as Route 53 checks them in ChangeResourceRecordSets.

Each refusal leaves the zone as it was: the valid changes of the same batch are
not applied either.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.route53.helpers import (
    Zone,
    a_record,
    alias_record,
    create,
    txt_record,
    upsert,
    weighted,
)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _refused_alone(zone: Zone, bad: dict[str, object]) -> tuple[str, str]:
    """Send ``bad`` after a valid CREATE in one batch; return the error; check nothing applied."""
    with pytest.raises(ClientError) as exc:
        zone.change(create(a_record(zone.fq("fine"), "192.0.2.1")), bad)
    assert zone.find(zone.fq("fine"), "A") is None, "the valid change must not be applied"
    return _error(exc)


def _record(name: str, rtype: str, *values: str, ttl: int = 60) -> dict[str, object]:
    return {
        "Name": name,
        "Type": rtype,
        "TTL": ttl,
        "ResourceRecords": [{"Value": v} for v in values],
    }


# ---------------------------------------------------------------- A and AAAA


@pytest.mark.moto_deviation(reason="an A value that is no IPv4 address is accepted")
@pytest.mark.parametrize("value", ["999.1.1.1", "abc", "192.0.2", "192.0.2.1.5"])
def test_a_value_must_be_an_ipv4_address(zone: Zone, value: str) -> None:
    assert _refused_alone(zone, create(a_record(zone.fq("www"), value))) == (
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address "
        f"(Value is not a valid IPv4 address) encountered with '{value}'']",
    )


@pytest.mark.moto_deviation(reason="an A value holding two addresses is accepted")
def test_a_value_holds_one_address(zone: Zone) -> None:
    value = "192.0.2.1, 192.0.2.2"
    code, message = _refused_alone(zone, create(a_record(zone.fq("www"), value)))
    assert code == "InvalidChangeBatch"
    assert "ARRDATANotSingleField (Value contains spaces)" in message


@pytest.mark.moto_deviation(reason="A values that are no IPv4 addresses are accepted")
def test_every_bad_value_is_reported(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(create(a_record(zone.fq("www"), "999.1.1.1", "abc")))
    message = _error(exc)[1]
    assert "encountered with '999.1.1.1''" in message
    assert "encountered with 'abc''" in message


@pytest.mark.moto_deviation(reason="an AAAA value that is no IPv6 address is accepted")
@pytest.mark.parametrize("value", ["2001:db8::g", "192.0.2.1", "2001:db8:::1"])
def test_aaaa_value_must_be_an_ipv6_address(zone: Zone, value: str) -> None:
    assert _refused_alone(zone, create(_record(zone.fq("www"), "AAAA", value))) == (
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address "
        f"(Value is not a valid IPv6 address) encountered with '{value}'']",
    )


def test_valid_addresses_are_accepted(zone: Zone) -> None:
    zone.change(
        create(a_record(zone.fq("www"), "192.0.2.1", "255.255.255.255", "0.0.0.0")),
        create(_record(zone.fq("www"), "AAAA", "2001:db8::1", "::ffff:192.0.2.1")),
    )
    assert zone.find(zone.fq("www"), "AAAA") is not None


# ---------------------------------------------------------------- TXT


@pytest.mark.moto_deviation(reason="an unquoted TXT value is accepted")
@pytest.mark.parametrize("value", ["holder=a", '"holder=a', 'holder "a"', '"a""b"'])
def test_txt_value_must_be_quoted(zone: Zone, value: str) -> None:
    assert _refused_alone(zone, create(txt_record(zone.fq("_lock"), value))) == (
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: InvalidCharacterString "
        f"(Value should be enclosed in quotation marks) encountered with '{value}'']",
    )


@pytest.mark.moto_deviation(reason="a TXT string over 255 characters is accepted")
def test_txt_character_string_is_at_most_255_characters(zone: Zone) -> None:
    value = '"' + "k" * 256 + '"'
    assert _refused_alone(zone, create(txt_record(zone.fq("dkim"), value))) == (
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) "
        f"encountered with '{value}'']",
    )


def test_long_txt_value_split_into_strings_is_accepted(zone: Zone) -> None:
    value = '"' + "k" * 255 + '" "' + "k" * 100 + '"'
    zone.change(create(txt_record(zone.fq("dkim"), value)))
    rec = zone.find(zone.fq("dkim"), "TXT")
    assert rec is not None and rec["ResourceRecords"] == [{"Value": value}]


def test_txt_escapes_count_as_one_character(zone: Zone) -> None:
    # 253 characters, an escaped quote and an escaped byte: 255 characters once unescaped.
    value = '"' + "k" * 253 + '\\"\\059"'
    zone.change(create(txt_record(zone.fq("escaped"), value)))
    assert zone.find(zone.fq("escaped"), "TXT") is not None


# ---------------------------------------------------------------- names


@pytest.mark.moto_deviation(reason="a label over 63 characters is accepted")
def test_label_is_at_most_63_characters(zone: Zone) -> None:
    label = "l" * 64
    assert _refused_alone(zone, create(a_record(zone.fq(label), "192.0.2.1"))) == (
        "InvalidChangeBatch",
        f"FATAL problem: DomainLabelTooLong (Domain label is too long) encountered with '{label}'",
    )


def test_label_of_63_characters_is_accepted(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("l" * 63), "192.0.2.1")))
    assert zone.find(zone.fq("l" * 63), "A") is not None


@pytest.mark.moto_deviation(reason="a name over 255 characters is accepted")
def test_name_is_at_most_255_characters(zone: Zone) -> None:
    # 4 labels of 60 and "conformance.test": 4 * 61 + 16 = 260 characters.
    name = ".".join(["n" * 60] * 4) + "." + zone.name
    code, message = _refused_alone(zone, create(a_record(name, "192.0.2.1")))
    assert code == "InvalidChangeBatch"
    assert message == (
        f"FATAL problem: DomainNameTooLong (Domain name is too long) encountered with '{name}'"
    )


@pytest.mark.moto_deviation(reason="a name with an empty label is accepted")
def test_name_has_no_empty_label(zone: Zone) -> None:
    name = f"a..{zone.name}"
    assert _refused_alone(zone, create(a_record(name, "192.0.2.1"))) == (
        "InvalidChangeBatch",
        f"FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '{name}'",
    )


@pytest.mark.moto_deviation(reason="a CNAME to a name that is no domain name is accepted")
def test_cname_value_must_be_a_domain_name(zone: Zone) -> None:
    target = "l" * 64 + ".example.net"
    code, message = _refused_alone(zone, create(_record(zone.fq("www"), "CNAME", target)))
    assert (code, message) == (
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: DomainLabelTooLong (Domain label is too long) "
        f"encountered with '{'l' * 64}'']",
    )


def test_cname_to_another_domain_is_accepted(zone: Zone) -> None:
    zone.change(create(_record(zone.fq("www"), "CNAME", "lb-1.example.net.")))
    assert zone.find(zone.fq("www"), "CNAME") is not None


@pytest.mark.moto_deviation(reason="an alias to a name that is no domain name is accepted")
def test_alias_target_must_be_a_domain_name(zone: Zone) -> None:
    target = f"plan..{zone.name}"
    code, message = _refused_alone(
        zone, create(alias_record(zone.fq("root"), zone.zone_id, target))
    )
    assert (code, message) == (
        "InvalidChangeBatch",
        f"FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '{target}'",
    )


# ---------------------------------------------------------------- TTL and weight


@pytest.mark.moto_deviation(reason="a TTL over 2147483647 is accepted")
def test_ttl_is_at_most_2147483647(zone: Zone) -> None:
    code, message = _refused_alone(
        zone, create(a_record(zone.fq("www"), "192.0.2.1", ttl=2147483648))
    )
    assert code == "InvalidInput"
    assert "maxInclusive '2147483647' for type 'TTL'" in message


def test_ttl_bounds_are_accepted(zone: Zone) -> None:
    zone.change(
        create(a_record(zone.fq("zero"), "192.0.2.1", ttl=0)),
        create(a_record(zone.fq("max"), "192.0.2.1", ttl=2147483647)),
    )
    rec = zone.find(zone.fq("max"), "A")
    assert rec is not None and rec["TTL"] == 2147483647


@pytest.mark.moto_deviation(reason="a weight over 255 is accepted")
def test_weight_over_255_names_the_schema_bound(zone: Zone) -> None:
    rr = weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 256)
    code, message = _refused_alone(zone, create(rr))
    assert code == "InvalidInput"
    assert "maxInclusive '255' for type 'ResourceRecordSetWeight'" in message


@pytest.mark.moto_deviation(reason="any number of weighted sets of one name and type is accepted")
def test_at_most_100_weighted_sets_per_name_and_type(zone: Zone) -> None:
    name = zone.fq("plan-1")
    zone.change(
        *[create(weighted(a_record(name, f"192.0.2.{i}"), f"lb-{i}", 1)) for i in range(1, 101)]
    )
    # Replacing one of the hundred is fine; a hundred-and-first is not.
    zone.change(upsert(weighted(a_record(name, "192.0.2.1"), "lb-1", 2)))
    with pytest.raises(ClientError) as exc:
        zone.change(create(weighted(a_record(name, "192.0.2.101"), "lb-101", 1)))
    assert _error(exc) == (
        "InvalidChangeBatch",
        f"[Exceeded limit on number of weighted RRSets for {name}, type A in this zone.]",
    )
    assert zone.find(name, "A", "lb-101") is None


# ---------------------------------------------------------------- request limits


@pytest.mark.moto_deviation(reason="a request with more than 1,000 records is accepted")
def test_at_most_1000_records_in_a_request(zone: Zone) -> None:
    # 101 sets of 5 records: 505 records, 1,010 when UPSERT counts each one twice.
    sets = [a_record(zone.fq(f"s{i}"), *(f"192.0.2.{j}" for j in range(1, 6))) for i in range(101)]
    with pytest.raises(ClientError) as exc:
        zone.change(*[upsert(rr) for rr in sets])
    assert _error(exc) == ("InvalidChangeBatch", "[Number of records limit of 1000 exceeded.]")
    assert zone.find(zone.fq("s0"), "A") is None
    zone.change(*[create(rr) for rr in sets])  # 505 as CREATEs


@pytest.mark.moto_deviation(
    reason="a request with more than 32,000 characters of values is accepted"
)
def test_at_most_32000_characters_of_values_in_a_request(zone: Zone) -> None:
    # 70 TXT records of 240 characters each: 16,800 characters, 33,600 as an UPSERT.
    value = '"' + "v" * 238 + '"'
    changes = [txt_record(zone.fq(f"t{i}"), value) for i in range(70)]
    with pytest.raises(ClientError) as exc:
        zone.change(*[upsert(rr) for rr in changes])
    assert _error(exc) == ("InvalidChangeBatch", "[RDATA character limit of 32000 exceeded.]")
    assert zone.find(zone.fq("t0"), "TXT") is None
    zone.change(*[create(rr) for rr in changes])
