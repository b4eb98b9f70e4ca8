"""The incident as clients see it, through real BIND9 / Knot and Unbound.

Under ``--clock real`` the legacy race empties the regional endpoint, probes get
NOERROR with no addresses, the operator repairs DNS, and clients behind Unbound
keep the empty answer for the zone's negative TTL: the caching tail. The race is
forced by the scenario's faults, but threads in wall time decide the exact
interleaving, so a run where it did not happen is tried again with another seed.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from dnschaos.dns.probes import answered
from dnschaos.runner import RunResult, run
from dnschaos.scenario.load import builtin_text
from dnschaos.scenario.resolve import build
from dnschaos.scenario.spec import RunSpec
from tests.e2e.test_dns_servers import require

SCENARIO = "incident-2025-dns"


def _probes(result: RunResult, **fields: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in result.history
        if e["kind"] == "probe" and all(e[k] == v for k, v in fields.items())
    ]


def _nodata(result: RunResult, view: str) -> list[dict[str, Any]]:
    """NOERROR with no addresses after that (endpoint, type) had answered with some: before
    the first plan is applied (and, through the cache, for a negative TTL after) the
    endpoint is still being set up."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in _probes(result, view=view):
        key = (e["endpoint"], e["rtype"])
        if answered(e):
            seen.add(key)
        elif e["rcode"] == "NOERROR" and key in seen:
            out.append(e)
    return out


@pytest.mark.parametrize("server", ["bind9", "knot"])
def test_legacy_incident_through_unbound_shows_nodata_and_the_negative_ttl_tail(
    server: str,
) -> None:
    require(server, "unbound")
    spec = RunSpec(SCENARIO, variant="legacy", dns=server, resolver="unbound", clock="real")
    scenario = build(spec)
    assert scenario.dns is not None
    negative_ttl = scenario.dns.negative_ttl
    tried = []
    for seed in (1, 2, 3):
        result = run(spec, seed=seed)
        tried.append(f"seed {seed}: {result.reason}")
        if _nodata(result, "cached"):
            break
    else:
        pytest.fail("the race never emptied the endpoint: " + "; ".join(tried))
    # Clients got NOERROR with zero addresses, straight from the server and through the cache.
    assert _nodata(result, "authoritative") and _nodata(result, "cached")
    assert "endpoint-never-empty-client" in {v.invariant for v in result.violations}
    assert result.dns is not None and result.dns["server"] == server
    # The repair held and every probe has addresses again: that ended the run.
    assert result.stop == "finished", result.reason
    assert "repair held" in result.reason
    tails = [
        views["cached"]["tail_seconds"]
        for views in result.dns["endpoints"].values()
        if views["cached"]["tail_seconds"] is not None
    ]
    assert tails, result.dns
    # The resolver kept the negative answer for the negative TTL, less the moment the
    # operator took to repair (repair_after = 0.2 s), plus Unbound's whole-second TTLs.
    for tail in tails:
        assert abs(tail - negative_ttl) <= 1.0, (tails, result.dns)
    # The authoritative view recovered first, the cached view only after the tail.
    regional = result.dns["endpoints"]["dynamodb.us-east-1.chaos.test"]
    assert regional["cached"]["empty_seconds"] > regional["authoritative"]["empty_seconds"]


def test_safe_variant_through_unbound_never_sees_an_empty_answer() -> None:
    require("bind9", "unbound")
    result = run(
        SCENARIO,
        variant="safe",
        seed=1,
        clock="real",
        dns="bind9",
        resolver="unbound",
        overrides=(("scenario.duration", 30.0),),
    )
    assert len(_probes(result, view="cached")) > 100
    assert not _nodata(result, "authoritative") and not _nodata(result, "cached")
    # Wall time: on a loaded machine a probe may time out now and then; a timeout is no
    # answer at all, not an empty one. Every answer that came back had addresses.
    later = [e for e in _probes(result, view="authoritative") if e["t"] > 3.0]
    came_back = [e for e in later if e["rcode"] != "TIMEOUT"]
    assert all(answered(e) for e in came_back), [e for e in came_back if not answered(e)][:3]
    assert len(came_back) >= 0.9 * len(later)
    assert not [v for v in result.violations if v.invariant.startswith("endpoint-never-empty")]


@pytest.mark.parametrize("server", ["bind9", "knot"])
def test_real_servers_under_the_scheduler_are_deterministic(server: str) -> None:
    require(server)
    spec = RunSpec(
        SCENARIO, variant="legacy", seed=4, dns=server, overrides=(("scenario.duration", 20.0),)
    )
    a = run(spec)
    b = run(spec)
    assert a.trace_digest == b.trace_digest
    pushes = [e for e in a.history if e["kind"] == "dns-push"]
    assert pushes and all("rrsets" in e for e in pushes)
    assert len(_probes(a)) > 50 and any(answered(e) for e in _probes(a))
    # The result (and so its report) names the server's own version.
    recorded = a.to_json()["versions"]
    assert recorded[server].startswith({"bind9": "BIND 9.", "knot": "knotd (Knot DNS)"}[server])
    assert "unbound" not in recorded
    from dnschaos.report import render_html

    assert html.escape(recorded[server]) in render_html(a.to_json(), list(a.history))


def quiet_scenario(folder: Path) -> Path:
    """The scenario without the operator and the race's faults, for a server-down fault alone."""
    text = builtin_text(SCENARIO)
    race, dns = text.index("[[faults]]"), text.index("[dns]")
    path = folder / "quiet.toml"
    path.write_text(text[:race] + text[dns : text.index("[operator]")])
    return path


@pytest.mark.parametrize("server", ["bind9", "knot"])
def test_authoritative_server_down_and_back_catches_up(server: str, tmp_path: Path) -> None:
    require(server)
    result = run(
        str(quiet_scenario(tmp_path)),
        variant="safe",
        seed=2,
        dns=server,
        faults=("kind=dns-server-down,name=server-down,start=8.0,end=16.0",),
        overrides=(("scenario.duration", 30.0),),
    )
    probes = _probes(result)
    assert not [e for e in probes if 8.5 <= e["t"] < 15.5 and answered(e)]
    assert [e for e in probes if 8.5 <= e["t"] < 15.5]  # the probes kept asking
    # Plans applied while the server was down reach it when it is back.
    after = [e for e in probes if e["t"] >= 17.0]
    assert after and all(answered(e) for e in after)
    failed_pushes = [e for e in result.history if e["kind"] == "dns-push" and "error" in e]
    assert not failed_pushes  # the propagator waits for the server instead of failing
    actions = [e["action"] for e in result.history if e["kind"] == "dns"]
    assert actions == ["started", "server-stopped", "server-started"]
