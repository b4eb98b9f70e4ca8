"""A chaos suite as a team keeps it in its own repository.

It uses only the dnschaos plugin's public marker and fixtures. Run it with
``pytest --chaos-variant=safe`` (passes) or ``--chaos-variant=legacy`` (fails,
printing the story and the command lines that reproduce it).
"""

from typing import Any

import dns.message
import dns.query
import pytest


@pytest.mark.chaos(scenario="incident-2025", runs=2)
def test_the_endpoint_survives_the_2025_race(chaos_result: Any) -> None:
    assert chaos_result.passed


def test_the_world_is_provisioned(chaos_world: Any, chaos_clients: Any) -> None:
    zones = chaos_clients.route53.list_hosted_zones()["HostedZones"]
    assert {z["Name"] for z in zones} == {ep.fqdn for ep in chaos_world.endpoints}


def test_the_dns_server_answers_for_the_zones(chaos_world: Any, dns_server: Any) -> None:
    endpoint = chaos_world.endpoints[0]
    query = dns.message.make_query(endpoint.fqdn, "SOA")
    answer = dns.query.udp(query, dns_server.host, port=dns_server.port, timeout=2)
    assert answer.answer and answer.answer[0].name.to_text() == endpoint.fqdn


def test_seeds_differ_between_tests(chaos_seed: int) -> None:
    assert 0 <= chaos_seed < 2**32
