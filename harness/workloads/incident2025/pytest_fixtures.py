"""incident-2025's pytest fixtures: its world on the plugin's in-process target, and DNS
servers serving that world's zones.

Loaded by pytest through this package's ``pytest11`` entry point, beside the core's
plugin (:mod:`dnschaos.fixtures.plugin`, whose ``chaos_target`` and ``chaos_seed`` these
use):

* ``chaos_world``: the endpoints' hosted zones and the plans table, provisioned;
* ``dns_server``: those zones on an authoritative server (``.host``, ``.port``);
* ``caching_resolver``: Unbound in front of one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def chaos_world(chaos_target: Any) -> Any:
    from dnschaos.workloads.incident2025.world import World

    return World(chaos_target).provision()


def _stack(request: pytest.FixtureRequest, world: Any, seed: int, resolver: str) -> Any:
    from dnschaos.dns.names import ProbeName
    from dnschaos.dns.stack import DnsConfig, DnsStack
    from dnschaos.history import History
    from dnschaos.sim.clock import SystemClock
    from dnschaos.sim.streams import RunStreams
    from dnschaos.world.run import RunWorld

    marker = request.node.get_closest_marker("chaos")
    server = (marker.kwargs.get("dns") if marker is not None else None) or "embedded"
    clock = SystemClock()
    config = DnsConfig(server=server, resolver=resolver, negative_ttl=5)
    config.validate("real")
    history = History(clock.now(), clock)
    run = RunWorld(world.target, history, clock)
    for ep in world.endpoints:
        run.add_zone(ep.fqdn, world.zone_ids[ep.name])
        run.probes.append(ProbeName(ep.name, ep.record_types))
    return DnsStack(
        config, world.target, run, clock=clock, history=history, streams=RunStreams(seed, [])
    ).start()


@pytest.fixture
def dns_server(request: pytest.FixtureRequest, chaos_world: Any, chaos_seed: int) -> Iterator[Any]:
    """The world's zones on an authoritative server (``.host``, ``.port``): embedded, or
    the marker's ``dns="bind9"|"knot"``. Changes reach BIND/Knot through
    ``stack.propagator.push_once()``; the embedded server answers from Route 53's
    in-sync state directly."""
    stack = _stack(request, chaos_world, chaos_seed, "none")
    try:
        yield stack.authoritative
    finally:
        stack.close()


@pytest.fixture
def caching_resolver(
    request: pytest.FixtureRequest, chaos_world: Any, chaos_seed: int
) -> Iterator[Any]:
    """Unbound in front of an authoritative server for the world's zones (``.host``, ``.port``)."""
    stack = _stack(request, chaos_world, chaos_seed, "unbound")
    try:
        yield stack.resolver
    finally:
        stack.close()
