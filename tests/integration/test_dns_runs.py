"""Runs with a DNS side under the deterministic scheduler: probes, the operator, DNS faults.

These use the embedded responder (no DNS software needed); the same runs against
BIND9 and Knot, and through Unbound in wall time, are in tests/e2e.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dnschaos.cli import main
from dnschaos.dns.probes import answered
from dnschaos.dns.stack import DnsConfig
from dnschaos.runner import run
from dnschaos.scenario.load import builtin_text
from dnschaos.scenario.resolve import build, load_scenario
from dnschaos.scenario.spec import RunSpec

REGIONAL = "dynamodb.us-east-1.chaos.test"
SCENARIO = "incident-2025-dns"


def _probes(result: Any, **fields: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in result.history
        if e["kind"] == "probe" and all(e[k] == v for k, v in fields.items())
    ]


def _nodata_after_answer(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for e in entries:
        key = (e["endpoint"], e["view"], e["rtype"])
        if answered(e):
            seen.add(key)
        elif e["rcode"] == "NOERROR" and key in seen:
            out.append(e)
    return out


def test_legacy_race_shows_clients_nodata_and_the_operator_repairs_it() -> None:
    result = run(SCENARIO, variant="legacy", seed=4)
    invariants = {v.invariant for v in result.violations}
    assert {"endpoint-never-empty-client", "active-plan-never-deleted"} <= invariants
    empty = _nodata_after_answer(_probes(result, view="authoritative"))
    assert empty, "no probe saw NOERROR with no addresses"
    assert all(e["answers"] == 0 and e["addresses"] == [] for e in empty)
    first = empty[0]
    # The empty answer comes after the clean-up that deleted the active tree.
    deleted = [
        e
        for e in result.history
        if e.get("event") == "cleaned-up" and e["endpoint"] == first["endpoint"]
    ]
    assert any(e["t"] <= first["t"] and e["root_generation"] in e["deleted"] for e in deleted)
    actions = [e["action"] for e in result.history if e["kind"] == "operator"]
    assert actions[0] == "noticed" and "repaired" in actions and actions[-1] == "recovered"
    # After the repair every probe had addresses again, and that is what ended the run:
    # at the operator's "recovered", the latest answer of every (endpoint, type) had some.
    recovered = next(
        e for e in result.history if e["kind"] == "operator" and e["action"] == "recovered"
    )
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for e in result.history:
        if e["kind"] == "probe" and e["seq"] < recovered["seq"]:
            latest[(e["endpoint"], e["rtype"])] = e
    assert latest and all(answered(e) for e in latest.values())
    assert result.stop == "finished"
    assert result.dns is not None
    metrics = result.dns["endpoints"][first["endpoint"]]["authoritative"]
    assert metrics["first_empty"] == first["t"]
    assert metrics["empty_answers"] == sum(1 for e in empty if e["endpoint"] == first["endpoint"])
    assert 0 < metrics["empty_seconds"] < 5


def test_probe_entries_are_deterministic_per_seed() -> None:
    a = run(SCENARIO, variant="legacy", seed=4)
    b = run(SCENARIO, variant="legacy", seed=4)
    assert a.trace_digest == b.trace_digest
    assert _probes(a) == _probes(b)
    assert all(e["latency_unit"] == "s" and e["latency"] == 0.0 for e in _probes(a))


@pytest.mark.parametrize("seed", [2, 4, 6])
def test_safe_variant_probes_never_see_an_empty_answer(seed: int) -> None:
    result = run(SCENARIO, variant="safe", seed=seed)
    probes = _probes(result)
    assert len(probes) > 100
    assert not _nodata_after_answer(probes)
    assert not [v for v in result.violations if v.invariant.startswith("endpoint-never-empty")]
    assert not [e for e in result.history if e["kind"] == "operator"]


def _quiet(tmp_path: Path, *faults: str) -> RunSpec:
    """The scenario without the operator and the race's faults: only DNS faults act."""
    text = builtin_text(SCENARIO)
    race, dns = text.index("[[faults]]"), text.index("[dns]")
    path = tmp_path / "quiet.toml"
    path.write_text(text[:race] + text[dns : text.index("[operator]")])
    return RunSpec(
        str(path),
        variant="safe",
        seed=3,
        faults=faults,
        overrides=(("scenario.duration", 40.0), ("scenario.stop_at_first_violation", False)),
    )


def _in(entry: dict[str, Any], start: float, end: float) -> bool:
    return bool(start <= entry["t"] < end)


def test_dns_timeout_fault_makes_probes_wait_and_get_nothing(tmp_path: Path) -> None:
    fault = "kind=dns-timeout,name=lost-queries,actor=probe-authoritative,start=10.0,end=20.0"
    result = run(_quiet(tmp_path, fault))
    probes = _probes(result)
    timed_out = [e for e in probes if e["rcode"] == "TIMEOUT"]
    assert timed_out and all(_in(e, 10.0, 20.0 + 1.0) for e in timed_out)
    # The probe waited its whole timeout (virtual seconds) for each lost query; the
    # scheduler's quantum may wake it a little later, never earlier.
    timeout = load_scenario(SCENARIO).dns.probe_timeout
    assert all(timeout <= e["latency"] < timeout + 0.5 for e in timed_out)
    assert all(answered(e) for e in probes if e["t"] >= 22.0)
    actions = [(e["action"], e["fault"]) for e in result.history if e["kind"] == "fault"]
    assert ("activate", "lost-queries") in actions and ("heal", "lost-queries") in actions
    hits = [e for e in result.history if e["kind"] == "fault" and e["action"] == "hit"]
    assert len(hits) == len(timed_out)


def test_dns_servfail_fault_answers_servfail_in_its_window_only(tmp_path: Path) -> None:
    fault = "kind=dns-servfail,name=broken-server,start=10.0,end=15.0"
    result = run(_quiet(tmp_path, fault))
    probes = _probes(result)
    failed = [e for e in probes if e["rcode"] == "SERVFAIL"]
    assert failed and all(_in(e, 10.0, 15.0) for e in failed)
    assert all(answered(e) for e in probes if _in(e, 3.0, 40.0) and not _in(e, 10.0, 15.0))
    # SERVFAIL is not NODATA: the client-view invariant is about empty NOERROR answers.
    assert "endpoint-never-empty-client" not in {v.invariant for v in result.violations}


def test_dns_server_down_fault_stops_and_restarts_the_responder(tmp_path: Path) -> None:
    fault = "kind=dns-server-down,name=server-down,start=10.0,end=20.0"
    result = run(_quiet(tmp_path, fault))
    probes = _probes(result)
    # Nothing listens on the port: a UDP query goes unanswered (or is refused).
    unanswered = [e for e in probes if e["rcode"] in ("TIMEOUT", "UNREACHABLE")]
    assert unanswered and all(_in(e, 10.0, 21.5) for e in unanswered)
    assert not [e for e in probes if _in(e, 10.5, 19.0) and answered(e)]
    assert all(answered(e) for e in probes if e["t"] >= 22.0)
    server = [e["action"] for e in result.history if e["kind"] == "dns"]
    assert server == ["started", "server-stopped", "server-started"]


def test_dns_fault_without_dns_in_the_run_is_refused(tmp_path: Path) -> None:
    text = builtin_text("incident-2025")
    path = tmp_path / "no-race.toml"
    path.write_text(text[: text.index("[[faults]]")])  # the DNS fault instead of the race's
    result = run(
        str(path),
        variant="safe",
        seed=1,
        faults=("kind=dns-server-down,name=down,start=1.0,end=2.0",),
        overrides=(("scenario.duration", 5.0),),
    )
    assert result.verdict == "unknown" and "dns-server-down needs DNS" in result.reason


def test_scenario_dns_section_is_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = Path("fixtures/scenarios/incident-2025-dns.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(base.replace('server = "embedded"', 'server = "powerdns"'))
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "dns.server" in err and "embedded, bind9, knot" in err and str(bad) in err
    bad.write_text(base.replace("probe_interval = 0.25", "probe_intervall = 0.25"))
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "dns.probe_intervall: unknown key" in err and "probe_interval" in err


def test_unknown_dns_server_or_resolver_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    code = main(["run", "incident-2025-dns", "--resolver", "bind9", "--json", str(out)])
    assert code == 2 and not out.exists()
    assert "none, unbound" in capsys.readouterr().err
    assert main(["run", "incident-2025-dns", "--dns", "nsd"]) == 2
    assert "choose one of embedded, bind9, knot" in capsys.readouterr().err


def test_cli_run_with_dns_prints_what_clients_saw_and_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "legacy.json"
    assert main(
        ["run", "incident-2025", "--dns", "embedded", "--seed", "3", "--json", str(out)]
    ) in (0, 1)
    text = capsys.readouterr().out
    assert "what clients saw (server embedded, resolver none" in text
    recorded = json.loads(out.read_text())
    assert recorded["dns"]["server"] == "embedded"
    assert REGIONAL in recorded["dns"]["endpoints"]
    assert main(["replay", str(out), "-q"]) == {"pass": 0, "fail": 1}[recorded["verdict"]]
    assert "same trace_digest" in capsys.readouterr().out


def test_dns_config_defaults_apply_to_scenarios_without_a_dns_section() -> None:
    plain = load_scenario("incident-2025")
    assert plain.dns is None
    chosen = build(RunSpec("incident-2025", dns="bind9"))
    assert chosen.dns == DnsConfig(server="bind9")
    assert build(RunSpec("incident-2025", dns=None, resolver=None)) == plain
