"""Route 53's checks of names and values at their exact bounds: a name of 255 characters, a
label with escapes, an IPv6 zone index, SPF values read as TXT, types whose values are not
checked. (test_values.py states the rules; these are their edges.)"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.route53.helpers import Zone, a_record, create


def _record(name: str, rtype: str, *values: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": rtype,
        "TTL": 60,
        "ResourceRecords": [{"Value": v} for v in values],
    }


def _refused(zone: Zone, *changes: dict[str, Any]) -> tuple[str, str]:
    before = zone.records()
    with pytest.raises(ClientError) as exc:
        zone.change(*changes)
    assert zone.records() == before
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _name_of_length(zone: Zone, length: int) -> str:
    """A name of ``length`` characters (the final dot not counted) in the zone."""
    rest = length - len(zone.name.rstrip(".")) - 1  # the labels in front, with their dots
    labels = []
    while rest > 0:
        size = min(63, rest)
        labels.append("n" * size)
        rest -= size + 1
    assert rest == -1, "a length a dot cannot end"
    return ".".join(labels) + "." + zone.name


def _invalid(code: str, why: str, value: str) -> str:
    return f"[Invalid Resource Record: 'FATAL problem: {code} ({why}) encountered with '{value}'']"


def test_a_name_of_255_characters_is_accepted(zone: Zone) -> None:
    name = _name_of_length(zone, 255)
    assert len(name.rstrip(".")) == 255
    zone.change(create(a_record(name, "192.0.2.1")))
    assert zone.find(name, "A") is not None


@pytest.mark.moto_deviation(reason="a name over 255 characters is accepted")
def test_a_name_of_256_characters_is_refused(zone: Zone) -> None:
    name = _name_of_length(zone, 256)
    assert _refused(zone, create(a_record(name, "192.0.2.1"))) == (
        "InvalidChangeBatch",
        f"FATAL problem: DomainNameTooLong (Domain name is too long) encountered with '{name}'",
    )


def test_an_escape_in_a_label_counts_as_one_character(zone: Zone) -> None:
    label = "e" * 62 + "\\101"
    zone.change(create(a_record(zone.fq(label), "192.0.2.1")))


@pytest.mark.moto_deviation(reason="a label over 63 characters is accepted")
def test_an_escaped_dot_does_not_end_a_label(zone: Zone) -> None:
    label = "a" * 40 + "\\." + "b" * 40
    assert _refused(zone, create(a_record(zone.fq(label), "192.0.2.1"))) == (
        "InvalidChangeBatch",
        f"FATAL problem: DomainLabelTooLong (Domain label is too long) encountered with '{label}'",
    )


@pytest.mark.moto_deviation(reason="an AAAA value that is no IPv6 address is accepted")
def test_an_ipv6_zone_index_is_not_an_address(zone: Zone) -> None:
    value = "fe80::1%eth0"
    assert _refused(zone, create(_record(zone.fq("v6"), "AAAA", value))) == (
        "InvalidChangeBatch",
        _invalid("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", value),
    )


@pytest.mark.moto_deviation(reason="an A value holding two addresses is accepted")
def test_an_a_value_with_spaces_is_one_field_too_many(zone: Zone) -> None:
    value = "192.0.2.1 192.0.2.2"
    assert _refused(zone, create(a_record(zone.fq("www"), value))) == (
        "InvalidChangeBatch",
        _invalid("ARRDATANotSingleField", "Value contains spaces", value),
    )


@pytest.mark.moto_deviation(reason="an A value that is no IPv4 address is accepted")
def test_an_octet_is_at_most_255(zone: Zone) -> None:
    assert _refused(zone, create(a_record(zone.fq("www"), "192.0.2.256"))) == (
        "InvalidChangeBatch",
        _invalid("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address", "192.0.2.256"),
    )


@pytest.mark.moto_deviation(reason="an unquoted TXT value is accepted")
def test_spf_values_are_character_strings_like_txt(zone: Zone) -> None:
    value = "v=spf1 -all"
    assert _refused(zone, create(_record(zone.fq("mail"), "SPF", value))) == (
        "InvalidChangeBatch",
        _invalid("InvalidCharacterString", "Value should be enclosed in quotation marks", value),
    )
    zone.change(create(_record(zone.fq("mail"), "SPF", '"v=spf1 -all"')))


@pytest.mark.moto_deviation(reason="a TXT string over 255 characters is accepted")
def test_every_string_of_a_txt_value_is_at_most_255_characters(zone: Zone) -> None:
    value = '"' + "k" * 255 + '"  "' + "k" * 256 + '"'
    assert _refused(zone, create(_record(zone.fq("dkim"), "TXT", value))) == (
        "InvalidChangeBatch",
        _invalid("CharacterStringTooLong", "Value is too long", value),
    )
    zone.change(create(_record(zone.fq("dkim"), "TXT", '"' + "k" * 255 + '"  "x" ')))


@pytest.mark.moto_deviation(reason="a CNAME to a name that is no domain name is accepted")
def test_the_last_label_of_a_name_without_its_final_dot_is_checked(zone: Zone) -> None:
    target = "lb.example." + "n" * 64
    assert _refused(zone, create(_record(zone.fq("www"), "CNAME", target))) == (
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: DomainLabelTooLong (Domain label is too "
        f"long) encountered with '{'n' * 64}'']",
    )


def test_a_name_of_one_label_and_its_final_dot_is_a_name(zone: Zone) -> None:
    zone.change(create(_record(zone.fq("www"), "CNAME", "localhost.")))


def test_values_of_other_types_are_stored_as_given(zone: Zone) -> None:
    zone.change(
        create(_record(zone.fq("mail"), "MX", "10 mail.example.net.")),
        create(_record(zone.fq("_sip._tcp"), "SRV", "1 10 5060 sip.example.net.")),
    )
    rec = zone.find(zone.fq("mail"), "MX")
    assert rec is not None and rec["ResourceRecords"] == [{"Value": "10 mail.example.net."}]
