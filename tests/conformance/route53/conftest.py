"""A Route 53 client on the chosen target: the strict layer over moto, or plain moto."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from dnschaos.adapters.aws.target import FAKE_CREDENTIALS
from dnschaos.adapters.route53 import models as route53_strict
from dnschaos.sim.clock import ManualClock
from tests.conformance.route53.helpers import Zone

PROPAGATION_DELAY = 60.0


@pytest.fixture
def zone(against: str) -> Iterator[Zone]:
    clock = ManualClock()
    with mock_aws():
        if against == "strict":
            route53_strict.install(clock, PROPAGATION_DELAY)
        try:
            client = boto3.client("route53", region_name="us-east-1", **FAKE_CREDENTIALS)
            hz = client.create_hosted_zone(Name="conformance.test.", CallerReference="c1")
            yield Zone(client, hz["HostedZone"]["Id"].split("/")[-1], "conformance.test.", clock)
        finally:
            route53_strict.uninstall()
