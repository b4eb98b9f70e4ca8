"""Route 53's read calls as DNS tools page through them: zones, delegation sets, health checks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.route53.helpers import Zone, a_record, create


def _zones(zone: Zone, *names: str) -> list[str]:
    """Create hosted zones named ``names``; return their bare ids, in order."""
    ids = []
    for i, name in enumerate(names):
        hz = zone.client.create_hosted_zone(Name=name, CallerReference=f"read-{i}-{name}")
        ids.append(hz["HostedZone"]["Id"].split("/")[-1])
    return ids


def _health_check(zone: Zone, n: int) -> str:
    hc = zone.client.create_health_check(
        CallerReference=f"hc-{n}",
        HealthCheckConfig={
            "IPAddress": f"192.0.2.{n}",
            "Port": 80,
            "Type": "HTTP",
            "ResourcePath": "/health",
        },
    )
    return str(hc["HealthCheck"]["Id"])


def _bare(zone_id: str) -> str:
    return zone_id.split("/")[-1]


# ---------------------------------------------------------------- ListHostedZones


@pytest.mark.moto_deviation(reason="NextMarker is an opaque token, not the next zone's id")
def test_list_hosted_zones_next_marker_is_the_next_zones_id(zone: Zone) -> None:
    _zones(zone, "b.test.", "c.test.")
    first = zone.client.list_hosted_zones(MaxItems="2")
    assert first["IsTruncated"] is True
    assert first["MaxItems"] == "2"
    second = zone.client.list_hosted_zones(Marker=first["NextMarker"], MaxItems="2")
    assert _bare(second["HostedZones"][0]["Id"]) == first["NextMarker"]
    assert second["Marker"] == first["NextMarker"]
    assert second["IsTruncated"] is False and "NextMarker" not in second


def test_list_hosted_zones_pages_cover_every_zone_once(zone: Zone) -> None:
    ids = _zones(zone, *[f"z{i}.test." for i in range(6)])
    seen: list[str] = []
    for page in zone.client.get_paginator("list_hosted_zones").paginate(
        PaginationConfig={"PageSize": 4}
    ):
        seen += [_bare(z["Id"]) for z in page["HostedZones"]]
    assert len(seen) == len(set(seen)) == 7
    assert set(ids) <= set(seen)


@pytest.mark.moto_deviation(reason="a MaxItems over 100 returns more than 100 zones")
def test_list_hosted_zones_returns_at_most_100(zone: Zone) -> None:
    _zones(zone, *[f"z{i}.test." for i in range(100)])
    page = zone.client.list_hosted_zones(MaxItems="500")
    assert len(page["HostedZones"]) == 100
    assert page["IsTruncated"] is True


# ---------------------------------------------------------------- ListHostedZonesByName


@pytest.mark.moto_deviation(reason="DNSName returns only the zone of that exact name")
def test_list_hosted_zones_by_name_starts_at_dns_name(zone: Zone) -> None:
    _zones(zone, "b.example.test.", "a.example.test.", "example.test.", "other.test.")
    page = zone.client.list_hosted_zones_by_name(DNSName="a.example.test.")
    names = [z["Name"] for z in page["HostedZones"]]
    # Labels reversed: test.example.a < test.example.b < test.other
    assert names == ["a.example.test.", "b.example.test.", "other.test."]
    assert page["DNSName"] == "a.example.test."
    assert page["IsTruncated"] is False


def test_list_hosted_zones_by_name_orders_by_reversed_labels(zone: Zone) -> None:
    _zones(zone, "b.example.test.", "example.test.", "a.example.test.", "aaa.test.")
    names = [z["Name"] for z in zone.client.list_hosted_zones_by_name()["HostedZones"]]
    assert names == [
        "aaa.test.",
        "conformance.test.",
        "example.test.",
        "a.example.test.",
        "b.example.test.",
    ]


@pytest.mark.moto_deviation(reason="no paging: no MaxItems, IsTruncated or NextDNSName")
def test_list_hosted_zones_by_name_pages_with_next_name_and_id(zone: Zone) -> None:
    ids = _zones(zone, "a.test.", "b.test.", "c.test.")
    first = zone.client.list_hosted_zones_by_name(MaxItems="2")
    assert [z["Name"] for z in first["HostedZones"]] == ["a.test.", "b.test."]
    assert first["IsTruncated"] is True and first["MaxItems"] == "2"
    assert (first["NextDNSName"], first["NextHostedZoneId"]) == ("c.test.", ids[2])
    second = zone.client.list_hosted_zones_by_name(
        DNSName=first["NextDNSName"], HostedZoneId=first["NextHostedZoneId"], MaxItems="2"
    )
    assert [z["Name"] for z in second["HostedZones"]] == ["c.test.", "conformance.test."]
    assert second["HostedZoneId"] == ids[2]
    assert second["IsTruncated"] is False and "NextDNSName" not in second


# ---------------------------------------------------------------- GetHostedZone


@pytest.mark.moto_deviation(
    reason="the default delegation set has an empty Id and a CallerReference"
)
def test_get_hosted_zone_gives_the_name_servers(zone: Zone) -> None:
    resp = zone.client.get_hosted_zone(Id=zone.zone_id)
    assert resp["HostedZone"]["Id"] == f"/hostedzone/{zone.zone_id}"
    assert resp["HostedZone"]["Name"] == zone.name
    assert resp["DelegationSet"] == {"NameServers": resp["DelegationSet"]["NameServers"]}
    ns = zone.find(zone.name, "NS")
    assert ns is not None
    listed = [r["Value"].rstrip(".") for r in ns["ResourceRecords"]]
    assert sorted(listed) == sorted(n.rstrip(".") for n in resp["DelegationSet"]["NameServers"])


def test_get_hosted_zone_counts_record_sets(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("www"), "192.0.2.1")))
    resp = zone.client.get_hosted_zone(Id=f"/hostedzone/{zone.zone_id}")
    assert resp["HostedZone"]["ResourceRecordSetCount"] == 3  # NS, SOA, www


def test_get_hosted_zone_of_unknown_id_is_an_error(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.client.get_hosted_zone(Id="Z0000000NOSUCHZONE")
    assert exc.value.response["Error"]["Code"] == "NoSuchHostedZone"


# ---------------------------------------------------------------- health checks


@pytest.mark.moto_deviation(reason="ListHealthChecks has no paging: MaxItems is ignored")
def test_list_health_checks_pages_with_marker(zone: Zone) -> None:
    ids = [_health_check(zone, n) for n in range(1, 4)]
    first = zone.client.list_health_checks(MaxItems="2")
    assert [c["Id"] for c in first["HealthChecks"]] == ids[:2]
    assert first["IsTruncated"] is True and first["MaxItems"] == "2"
    assert first["NextMarker"] == ids[2]
    second = zone.client.list_health_checks(Marker=first["NextMarker"], MaxItems="2")
    assert [c["Id"] for c in second["HealthChecks"]] == ids[2:]
    assert second["Marker"] == ids[2]
    assert second["IsTruncated"] is False and "NextMarker" not in second


def test_list_health_checks_paginator_sees_each_once(zone: Zone) -> None:
    ids = [_health_check(zone, n) for n in range(1, 6)]
    seen: list[str] = []
    for page in zone.client.get_paginator("list_health_checks").paginate(
        PaginationConfig={"PageSize": 2}
    ):
        seen += [c["Id"] for c in page["HealthChecks"]]
    assert seen == ids


def test_get_health_check(zone: Zone) -> None:
    hc_id = _health_check(zone, 7)
    resp: dict[str, Any] = zone.client.get_health_check(HealthCheckId=hc_id)
    assert resp["HealthCheck"]["Id"] == hc_id
    assert resp["HealthCheck"]["HealthCheckConfig"]["IPAddress"] == "192.0.2.7"


def test_get_health_check_of_unknown_id_is_an_error(zone: Zone) -> None:
    unknown = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as exc:
        zone.client.get_health_check(HealthCheckId=unknown)
    err = exc.value.response["Error"]
    assert (err["Code"], err["Message"]) == (
        "NoSuchHealthCheck",
        f"A health check with id {unknown} does not exist.",
    )
