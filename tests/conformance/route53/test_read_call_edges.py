"""Route 53's read calls at their edges: the default page, a page size or marker that names
nothing, ListHostedZonesByName's HostedZoneId alone, and what GetHostedZone gives for a
zone on a reusable delegation set and for a private zone."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from dnschaos.adapters.aws.target import FAKE_CREDENTIALS
from tests.conformance.route53.helpers import Zone


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_list_hosted_zones_gives_100_a_page_by_default(zone: Zone) -> None:
    for i in range(100):
        zone.client.create_hosted_zone(Name=f"d{i}.test.", CallerReference=f"default-{i}")
    page = zone.client.list_hosted_zones()
    assert len(page["HostedZones"]) == 100
    assert (page["IsTruncated"], page["MaxItems"]) == (True, "100")
    rest = zone.client.list_hosted_zones(Marker=page["NextMarker"])
    assert len(rest["HostedZones"]) == 1 and rest["IsTruncated"] is False


def test_a_page_of_one(zone: Zone) -> None:
    zone.client.create_hosted_zone(Name="one.test.", CallerReference="page-of-one")
    page = zone.client.list_hosted_zones(MaxItems="1")
    assert len(page["HostedZones"]) == 1 and page["IsTruncated"] is True


@pytest.mark.moto_deviation(
    reason="a MaxItems of 0 or below is accepted; one that is no number crashes"
)
@pytest.mark.parametrize("max_items", ["abc", "0", "-3"])
def test_a_page_size_that_is_no_positive_number_is_refused(zone: Zone, max_items: str) -> None:
    for call in (zone.client.list_hosted_zones, zone.client.list_health_checks):
        with pytest.raises(ClientError) as exc:
            call(MaxItems=max_items)
        code, message = _error(exc)
        assert code == "InvalidInput" and f"MaxItems {max_items}" in message.replace("'", "")


@pytest.mark.moto_deviation(reason="an unknown Marker is InvalidToken, in moto's own words")
def test_a_marker_that_names_nothing_is_refused(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.client.list_hosted_zones(Marker="ZNOSUCHZONE")
    assert _error(exc) == (
        "InvalidInput",
        "Invalid request: Marker 'ZNOSUCHZONE' does not name a hosted zone",
    )
    with pytest.raises(ClientError) as exc:
        zone.client.list_health_checks(Marker="no-such-check")
    assert _error(exc) == (
        "InvalidInput",
        "Invalid request: Marker 'no-such-check' does not name a health check",
    )


@pytest.mark.moto_deviation(reason="HostedZoneId without DNSName is accepted")
def test_list_by_name_needs_a_name_with_a_zone_id(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.client.list_hosted_zones_by_name(HostedZoneId=zone.zone_id)
    assert _error(exc) == ("InvalidInput", "Invalid request: HostedZoneId requires DNSName")


def test_a_zone_on_a_reusable_delegation_set_names_the_set(zone: Zone) -> None:
    reusable = zone.client.create_reusable_delegation_set(CallerReference="reusable-1")
    set_id = reusable["DelegationSet"]["Id"]
    hz = zone.client.create_hosted_zone(
        Name="shared.test.", CallerReference="shared", DelegationSetId=set_id
    )
    got = zone.client.get_hosted_zone(Id=hz["HostedZone"]["Id"])
    delegation = got["DelegationSet"]
    assert delegation["Id"] == set_id
    assert delegation["NameServers"] == reusable["DelegationSet"]["NameServers"]


def test_a_private_zone_gives_its_vpcs_and_no_name_servers(zone: Zone) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1", **FAKE_CREDENTIALS)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    hz = zone.client.create_hosted_zone(
        Name="private.test.",
        CallerReference="private",
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc},
        HostedZoneConfig={"PrivateZone": True},
    )
    got = zone.client.get_hosted_zone(Id=hz["HostedZone"]["Id"])
    assert got["VPCs"] == [{"VPCRegion": "us-east-1", "VPCId": vpc}]
    assert "DelegationSet" not in got
