"""The strict Route 53 layer's rules that boto3 cannot reach (it validates a request before
sending it, but a request on the wire can break them), and what the layer keeps in moto's
storage and on its own clock. The layer is called directly, as the harness reads it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.route53.models import route53_backends

from dnschaos.adapters.aws.target import FAKE_CREDENTIALS
from dnschaos.adapters.route53 import models as route53_strict
from dnschaos.adapters.route53.errors import StrictRoute53Error
from dnschaos.adapters.route53.models import RRSet, StrictRoute53
from dnschaos.sim.clock import ManualClock

ZONE = "strict.test."
DELAY = 60.0


class Layer:
    def __init__(self, layer: StrictRoute53, zone_id: str, client: Any, clock: ManualClock):
        self.layer, self.zone_id, self.client, self.clock = layer, zone_id, client, clock

    def change(self, *changes: dict[str, Any], comment: str | None = None) -> dict[str, Any]:
        return route53_strict.change_batch(self.layer, self.zone_id, list(changes), comment)

    def refused(self, *changes: dict[str, Any]) -> tuple[str, str]:
        before = self.layer.records(self.zone_id)
        with pytest.raises(StrictRoute53Error) as exc:
            self.change(*changes)
        assert self.layer.records(self.zone_id) == before
        return exc.value.code, exc.value.message


@pytest.fixture
def strict() -> Iterator[Layer]:
    clock = ManualClock()
    with mock_aws(), route53_strict.installed(clock, DELAY):
        client = boto3.client("route53", region_name="us-east-1", **FAKE_CREDENTIALS)
        zone_id = client.create_hosted_zone(Name=ZONE, CallerReference="s")["HostedZone"]["Id"]
        backend = route53_backends[DEFAULT_ACCOUNT_ID]["aws"]
        yield Layer(route53_strict.strict_for(backend), zone_id.split("/")[-1], client, clock)


def a(name: str, *values: str, ttl: int = 60, **more: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "A",
        "TTL": ttl,
        "ResourceRecords": [{"Value": v} for v in values],
        **more,
    }


def change(action: str, rr: dict[str, Any]) -> dict[str, Any]:
    return {"Action": action, "ResourceRecordSet": rr}


# ---------------------------------------------------------------- what boto3 never sends


def test_an_empty_batch_is_refused(strict: Layer) -> None:
    assert strict.refused() == ("InvalidInput", "Invalid request: the change batch has no changes")


def test_an_action_outside_the_three_is_refused(strict: Layer) -> None:
    assert strict.refused(change("REPLACE", a(f"x.{ZONE}", "192.0.2.1"))) == (
        "InvalidInput",
        "Invalid XML ; cvc-enumeration-valid: Value 'REPLACE' is not facet-valid with respect "
        "to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration.",
    )


@pytest.mark.parametrize(
    ("field", "value", "facet", "bound", "xml_type"),
    [
        ("Weight", -1, "minInclusive", 0, "ResourceRecordSetWeight"),
        ("Weight", 256, "maxInclusive", 255, "ResourceRecordSetWeight"),
        ("TTL", -1, "minInclusive", 0, "TTL"),
        ("TTL", 2147483648, "maxInclusive", 2147483647, "TTL"),
    ],
)
def test_weights_and_ttls_outside_the_schema_are_refused(
    strict: Layer, field: str, value: int, facet: str, bound: int, xml_type: str
) -> None:
    rr = a(f"x.{ZONE}", "192.0.2.1", SetIdentifier="one", Weight=1)
    rr[field] = value
    assert strict.refused(change("CREATE", rr)) == (
        "InvalidInput",
        f"Invalid XML ; cvc-{facet}-valid: Value '{value}' is not facet-valid with respect "
        f"to {facet} '{bound}' for type '{xml_type}'.",
    )


def test_the_schema_bounds_themselves_are_allowed(strict: Layer) -> None:
    strict.change(
        change("CREATE", a(f"w.{ZONE}", "192.0.2.1", ttl=0, SetIdentifier="lo", Weight=0)),
        change(
            "CREATE", a(f"w.{ZONE}", "192.0.2.2", ttl=2147483647, SetIdentifier="hi", Weight=255)
        ),
    )
    assert [(r.ttl, r.weight) for r in strict.layer.records(strict.zone_id) if r.type == "A"] == [
        (2147483647, 255),
        (0, 0),
    ]


def test_a_weight_needs_a_set_identifier(strict: Layer) -> None:
    name = f"x.{ZONE}"
    assert strict.refused(change("CREATE", a(name, "192.0.2.1", Weight=3))) == (
        "InvalidInput",
        "Invalid request: Missing field 'SetIdentifier' in Change with [Action=CREATE, "
        f"Name={name}, Type=A, SetIdentifier=null]",
    )


def test_records_need_at_least_one_value(strict: Layer) -> None:
    name = f"x.{ZONE}"
    assert strict.refused(change("UPSERT", a(name))) == (
        "InvalidInput",
        "Invalid request: ResourceRecords is empty in Change with [Action=UPSERT, "
        f"Name={name}, Type=A, SetIdentifier=null]",
    )


def test_a_change_to_an_unknown_zone_is_refused(strict: Layer) -> None:
    with pytest.raises(StrictRoute53Error) as exc:
        route53_strict.change_batch(
            strict.layer,
            "/hostedzone/ZNOSUCHZONE",
            [change("CREATE", a(f"x.{ZONE}", "1.2.3.4"))],
            None,
        )
    assert (exc.value.code, exc.value.message) == (
        "NoSuchHostedZone",
        "No hosted zone found with ID: ZNOSUCHZONE",
    )


# ---------------------------------------------------------------- a change and its clock


def test_a_change_is_shaped_like_aws_and_in_sync_after_the_delay(strict: Layer) -> None:
    strict.clock.sleep(12.5)
    submitted = strict.clock.now()
    info = strict.change(change("CREATE", a(f"x.{ZONE}", "192.0.2.1")), comment="plan 7")
    assert re.fullmatch(r"/change/C[A-Z2-7]{13}", info["Id"])
    assert info["Status"] == "PENDING"
    assert info["SubmittedAt"] == dt.datetime.fromtimestamp(submitted, tz=dt.UTC)
    assert info["Comment"] == "plan 7"
    record = strict.layer.get_change(info["Id"])
    assert (record.submitted_at, record.insync_at) == (submitted, submitted + DELAY)
    strict.clock.sleep(DELAY - 0.5)
    assert route53_strict.change_info(strict.layer, info["Id"])["Status"] == "PENDING"
    strict.clock.sleep(0.5)
    again = route53_strict.change_info(strict.layer, info["Id"])
    assert again == {**info, "Status": "INSYNC"}
    other = strict.change(change("CREATE", a(f"y.{ZONE}", "192.0.2.1")))
    assert other["Id"] != info["Id"] and "Comment" not in other


def test_an_unknown_change_id_is_no_such_change(strict: Layer) -> None:
    with pytest.raises(StrictRoute53Error) as exc:
        route53_strict.change_info(strict.layer, "/change/CNOSUCHCHANGE00")
    assert (exc.value.code, exc.value.message) == (
        "NoSuchChange",
        "A change with the specified change ID does not exist: CNOSUCHCHANGE00",
    )


def test_installing_needs_a_delay_of_zero_or_more() -> None:
    with pytest.raises(ValueError) as exc:
        route53_strict.install(ManualClock(), -1)
    assert str(exc.value) == "propagation_delay=-1: must be >= 0 seconds"
    assert not route53_strict.is_installed()


def test_the_layer_is_reached_only_while_installed() -> None:
    with mock_aws():
        backend = route53_backends[DEFAULT_ACCOUNT_ID]["aws"]
        with pytest.raises(RuntimeError, match=r"^the strict Route 53 layer is not installed"):
            route53_strict.strict_for(backend)
        with route53_strict.installed(ManualClock()):
            assert route53_strict.is_installed()
            layer = route53_strict.strict_for(backend)
            assert route53_strict.strict_for(backend) is layer
        assert not route53_strict.is_installed()


# ---------------------------------------------------------------- moto's storage


def test_moto_keeps_what_the_layer_wrote(strict: Layer) -> None:
    strict.change(
        change("CREATE", a(f"lb.{ZONE}", "192.0.2.1", SetIdentifier="blue", Weight=7)),
        change("CREATE", a(f"plain.{ZONE}", "192.0.2.2", "192.0.2.3", ttl=30)),
        change(
            "CREATE",
            {
                "Name": f"www.{ZONE}",
                "Type": "A",
                "AliasTarget": {
                    "HostedZoneId": strict.zone_id,
                    "DNSName": f"plain.{ZONE}",
                    "EvaluateTargetHealth": True,
                },
            },
        ),
    )
    written = strict.layer.records(strict.zone_id)
    stored = route53_backends[DEFAULT_ACCOUNT_ID]["aws"].zones[strict.zone_id].rrsets
    assert [RRSet.from_moto(rs) for rs in stored] == written
    by_name = {rs.name: rs for rs in stored}
    assert (by_name[f"lb.{ZONE}"].set_identifier, by_name[f"lb.{ZONE}"].weight) == ("blue", 7)
    assert by_name[f"www.{ZONE}"].alias_target["EvaluateTargetHealth"] is True


def test_a_zone_changed_outside_the_layer_is_read_again(strict: Layer) -> None:
    strict.change(change("CREATE", a(f"x.{ZONE}", "192.0.2.1")))
    backend = route53_backends[DEFAULT_ACCOUNT_ID]["aws"]
    zone = backend.zones[strict.zone_id]
    zone.rrsets = [rs for rs in zone.rrsets if rs.name != f"x.{ZONE}"]
    assert [r.name for r in strict.layer.records(strict.zone_id) if r.type == "A"] == []
    strict.change(change("CREATE", a(f"x.{ZONE}", "192.0.2.9")))  # no longer there: a CREATE


def test_listing_pages_hold_300_sets_by_default(strict: Layer) -> None:
    strict.change(*[change("CREATE", a(f"n{i:03d}.{ZONE}", "192.0.2.1")) for i in range(300)])
    # 302 sets with the apex NS and SOA.
    page = route53_strict.list_page(strict.layer, strict.zone_id, None, None, None, None)
    assert len(page["ResourceRecordSets"]) == 300 and page["MaxItems"] == "300"
    assert page["IsTruncated"] is True
    rest = route53_strict.list_page(
        strict.layer, strict.zone_id, page["NextRecordName"], page["NextRecordType"], None, None
    )
    assert len(rest["ResourceRecordSets"]) == 2 and rest["IsTruncated"] is False
    assert "NextRecordName" not in rest


def test_a_listed_set_reads_back_as_the_same_set(strict: Layer) -> None:
    strict.change(change("CREATE", a(f"lb.{ZONE}", "192.0.2.1", SetIdentifier="b", Weight=2)))
    for rr in strict.layer.records(strict.zone_id):
        assert route53_strict.rrset_from_api(rr.to_api()) == rr


def test_a_new_zones_change_is_shaped_like_aws(strict: Layer) -> None:
    info = strict.client.create_hosted_zone(Name="new.test.", CallerReference="n")["ChangeInfo"]
    assert re.fullmatch(r"/change/C[A-Z2-7]{13}", info["Id"])
    assert info["Status"] == "PENDING"


def test_the_layer_takes_zone_ids_with_their_path(strict: Layer) -> None:
    path = f"/hostedzone/{strict.zone_id}"
    assert strict.layer.zone_name(path) == ZONE
    assert strict.layer.records(path) == strict.layer.records(strict.zone_id)


def test_the_layer_reads_zone_names_and_ids(strict: Layer) -> None:
    other = strict.client.create_hosted_zone(Name="Other.Test", CallerReference="o")
    other_id = other["HostedZone"]["Id"].split("/")[-1]
    assert strict.layer.zone_ids() == sorted([strict.zone_id, other_id])
    assert strict.layer.zone_name(other_id) == "other.test."
    assert route53_strict.normalize_name(" WWW.Other.Test ") == "www.other.test."


def test_names_without_escapes_take_the_short_way_to_the_same_labels() -> None:
    # The short way (str.split) serves nearly every name; it must agree with the
    # escape-aware reading, which is what Route 53's rules are written against.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dnschaos.adapters.route53 import values

    @settings(max_examples=2000, deadline=None)
    @given(st.text(alphabet="ab-_.*0", max_size=70))
    def same(name: str) -> None:
        slow: list[str] = []
        current = ""
        for ch in name:
            if ch == ".":
                slow.append(current)
                current = ""
            else:
                current += ch
        slow.append(current)
        if len(slow) > 1 and slow[-1] == "":
            slow.pop()
        assert values._split_labels(name) == slow
        long_labels = [len(label) for label in slow]
        reference = (
            None
            if name in ("", ".")
            else "DomainLabelEmpty"
            if "" in slow
            else "DomainLabelTooLong"
            if max(long_labels) > values.MAX_LABEL
            else "DomainNameTooLong"
            if sum(long_labels) + len(slow) - 1 > values.MAX_NAME
            else None
        )
        got = values.name_problem(name)
        assert (got is None) == (reference is None) and (reference is None or reference in got)

    same()
    # A name with an escape still goes the long way.
    assert values._split_labels("a\\.b.c.") == ["a\\.b", "c"]
    assert values.name_problem("x" * 63 + "\\065.example.com") is not None
