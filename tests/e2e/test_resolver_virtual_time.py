"""A caching resolver on the run's virtual clock: real Unbound under libfaketime.

The resolver's calendar clock stands at the time last set and only moves when the
caller moves it, so TTLs, negative caching and serve-expired count virtual seconds:
hours of them pass between two queries without any wall time passing.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from dnschaos.adapters.dnsserve.rfc2136 import Pusher, RecordData
from dnschaos.adapters.dnsserve.servers import (
    AUTHORITATIVE,
    DnsServerError,
    ServerHandle,
    Tsig,
    ZoneSpec,
    find_faketime,
    start_authoritative,
    start_unbound,
)
from dnschaos.cli import main
from dnschaos.dns.probes import answered
from dnschaos.runner import RunResult, run
from dnschaos.scenario.resolve import build
from dnschaos.scenario.spec import RunSpec
from dnschaos.sim.clock import INCIDENT_EPOCH
from tests.e2e.test_dns_incident import quiet_scenario
from tests.e2e.test_dns_servers import is_dead, require

REPO = Path(__file__).resolve().parents[2]
ZONE = "virtual.chaos.test."
WWW = f"www.{ZONE}"
NEGATIVE_TTL = 30
HOURS = 3600.0


def require_faketime() -> None:
    require("unbound")
    try:
        find_faketime()
    except DnsServerError as exc:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"libfaketime missing under CI: {exc}")
        pytest.skip(str(exc))


class Stack:
    """An authoritative server with its pusher, and Unbound in front on a faked clock."""

    def __init__(self, auth: ServerHandle, pusher: Pusher, cache: ServerHandle) -> None:
        self.auth = auth
        self.pusher = pusher
        self.cache = cache
        self.records: dict[tuple[str, str], RecordData] = {}

    def push(self, name: str, rtype: str, ttl: int, *values: str) -> None:
        self.records[(name, rtype)] = RecordData(ttl, values)
        self.pusher.sync(dict(self.records))

    def ask(self, at: float, name: str, rtype: str = "A") -> tuple[str, list[str], int | None]:
        """The resolver's answer at virtual ``at`` seconds after the incident epoch."""
        assert self.cache.faked is not None
        self.cache.faked.set(INCIDENT_EPOCH + at)
        query = dns.message.make_query(name, rtype)
        query.flags |= dns.flags.RD
        reply = dns.query.udp(query, self.cache.host, port=self.cache.port, timeout=5.0)
        addresses = sorted(rd.to_text() for rrset in reply.answer for rd in rrset)
        ttls = [rrset.ttl for rrset in reply.answer] or [rrset.ttl for rrset in reply.authority]
        return dns.rcode.to_text(reply.rcode()), addresses, min(ttls) if ttls else None


@contextlib.contextmanager
def _stack(kind: str, *, serve_expired: bool = False) -> Iterator[Stack]:
    require(kind)
    require_faketime()
    tsig = Tsig.generate(random.Random(f"virtual-{kind}"))
    spec = ZoneSpec(ZONE, soa_ttl=NEGATIVE_TTL, negative_ttl=NEGATIVE_TTL)
    with start_authoritative(kind, [spec], tsig) as auth:
        pusher = Pusher(auth, ZONE, tsig)
        with start_unbound(
            [ZONE], (auth.host, auth.port), faked_now=INCIDENT_EPOCH, serve_expired=serve_expired
        ) as cache:
            yield Stack(auth, pusher, cache)


@pytest.fixture(params=AUTHORITATIVE)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    with _stack(str(request.param)) as both:
        yield both


def test_cached_ttls_count_virtual_seconds(stack: Stack) -> None:
    stack.push(WWW, "A", 60, "192.0.2.1")
    # Straight from upstream: the TTL as the server gave it.
    assert stack.ask(10, WWW) == ("NOERROR", ["192.0.2.1"], 60)
    stack.push(WWW, "A", 60, "192.0.2.2")  # upstream changes; the cache does not know yet
    assert stack.ask(40, WWW) == ("NOERROR", ["192.0.2.1"], 30)
    assert stack.ask(69.9, WWW) == ("NOERROR", ["192.0.2.1"], 1)
    # Unbound counts whole seconds and still answers in the second its entry expires.
    assert stack.ask(70.9, WWW) == ("NOERROR", ["192.0.2.1"], 0)
    assert stack.ask(71, WWW) == ("NOERROR", ["192.0.2.2"], 60)  # fetched again
    # Hours of virtual time between two queries, and the clock keeps its word after the jump.
    stack.push(WWW, "A", 60, "192.0.2.3")
    assert stack.ask(5 * HOURS, WWW) == ("NOERROR", ["192.0.2.3"], 60)
    assert stack.ask(5 * HOURS + 59.5, WWW) == ("NOERROR", ["192.0.2.3"], 1)
    stack.push(WWW, "A", 60, "192.0.2.4")
    assert stack.ask(30 * HOURS, WWW) == ("NOERROR", ["192.0.2.4"], 60)


def test_negative_answers_are_cached_for_the_soa_minimum_in_virtual_time(stack: Stack) -> None:
    stack.push(WWW, "A", 60, "192.0.2.1")
    start = 6 * HOURS
    missing = f"missing.{ZONE}"
    assert stack.ask(start, WWW, "AAAA") == ("NOERROR", [], NEGATIVE_TTL)  # NODATA
    assert stack.ask(start, missing) == ("NXDOMAIN", [], NEGATIVE_TTL)
    # Both names get data upstream; the cache keeps the negative answers for their TTL.
    stack.push(WWW, "AAAA", 60, "2001:db8::1")
    stack.push(missing, "A", 60, "192.0.2.9")
    for at, ttl in ((start + 10, 20), (start + 29, 1), (start + 30.5, 0)):
        assert stack.ask(at, WWW, "AAAA") == ("NOERROR", [], ttl)
        assert stack.ask(at, missing) == ("NXDOMAIN", [], ttl)
    assert stack.ask(start + 31, WWW, "AAAA") == ("NOERROR", ["2001:db8::1"], 60)
    assert stack.ask(start + 31, missing) == ("NOERROR", ["192.0.2.9"], 60)


def test_a_stopped_upstream_fails_at_once_and_recovers_in_virtual_time() -> None:
    with _stack("knot") as stack:
        stack.push(WWW, "A", 2, "192.0.2.1")
        assert stack.ask(1, WWW) == ("NOERROR", ["192.0.2.1"], 2)
        stack.auth.stop()
        assert stack.ask(3, WWW) == ("NOERROR", ["192.0.2.1"], 0)  # still in the cache
        # Over TCP a stopped server refuses at once: SERVFAIL, no wall-time retransmits.
        assert stack.ask(4, WWW) == ("SERVFAIL", [], None)
        assert stack.ask(2 * HOURS, WWW) == ("SERVFAIL", [], None)
        stack.auth.restart()
        stack.pusher.sync(dict(stack.records))  # Knot's zone came back from its file
        # The SERVFAIL Unbound cached for the name runs out in virtual seconds.
        answers = [stack.ask(2 * HOURS + s, WWW)[:2] for s in range(1, 12)]
        failed = answers.index(("NOERROR", ["192.0.2.1"]))
        assert failed > 0 and answers[:failed] == [("SERVFAIL", [])] * failed, answers
        assert answers[failed:] == [("NOERROR", ["192.0.2.1"])] * (len(answers) - failed)


def test_serve_expired_hands_out_the_stale_answer_while_upstream_is_down() -> None:
    with _stack("bind9", serve_expired=True) as stack:
        stack.push(WWW, "A", 2, "192.0.2.1")
        assert stack.ask(1, WWW) == ("NOERROR", ["192.0.2.1"], 2)
        stack.auth.stop()
        # Expired, upstream refuses: the stale answer with serve-expired-reply-ttl (30).
        assert stack.ask(10, WWW) == ("NOERROR", ["192.0.2.1"], 30)
        assert stack.ask(30 * 60, WWW) == ("NOERROR", ["192.0.2.1"], 30)
        # serve-expired-ttl is an hour of the resolver's clock: past it, nothing to serve.
        assert stack.ask(2 * HOURS, WWW) == ("SERVFAIL", [], None)


def test_the_faked_clock_leaves_nothing_behind(tmp_path: Path) -> None:
    require("bind9")
    require_faketime()
    tsig = Tsig.generate(random.Random("leftovers"))
    with start_authoritative("bind9", [ZoneSpec(ZONE)], tsig, workdir=tmp_path) as auth:
        cache = start_unbound([ZONE], (auth.host, auth.port), faked_now=INCIDENT_EPOCH)
        pid, directory = cache.pid, cache.directory
        assert pid is not None and cache.faked is not None
        assert cache.faked.path.parent == directory
        cache.close()
    assert is_dead(pid) and not directory.exists()
    assert not Path(f"/dev/shm/faketime_shm_{pid}").exists()
    assert not Path(f"/dev/shm/sem.faketime_sem_{pid}").exists()


_KILLED_RUN = textwrap.dedent(
    """
    import random
    from dnschaos.adapters.dnsserve.servers import Tsig, ZoneSpec, start_authoritative, start_unbound
    from dnschaos.sim.clock import INCIDENT_EPOCH
    zone = "virtual.chaos.test."
    auth = start_authoritative("bind9", [ZoneSpec(zone)], Tsig.generate(random.Random(1)))
    cache = start_unbound([zone], (auth.host, auth.port), faked_now=INCIDENT_EPOCH)
    print(cache.pid, cache.directory, flush=True)
    input()
    """
)


def test_the_sweep_removes_what_a_killed_runs_faked_resolver_left() -> None:
    require("bind9")
    require_faketime()
    tmp = Path(tempfile.mkdtemp(prefix="dcs-", dir="/tmp"))
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout = child.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(60)
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=10)
    assert lines and lines[0].strip(), f"the child did not start unbound; stderr:\n{err[-3000:]}"
    pid_text, directory_text = lines[0].split()
    pid, directory = int(pid_text), Path(directory_text)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not is_dead(pid):
        time.sleep(0.05)
    assert is_dead(pid), "unbound dies with the process that started it"
    assert directory.is_dir()
    try:
        # The next start in that folder sweeps the dead run's directory and libfaketime's
        # shared memory named after the killed resolver.
        with start_authoritative(
            "bind9", [ZoneSpec(ZONE)], Tsig.generate(random.Random(2)), workdir=tmp
        ):
            pass
        assert not directory.exists()
        assert not Path(f"/dev/shm/faketime_shm_{pid}").exists()
        assert not Path(f"/dev/shm/sem.faketime_sem_{pid}").exists()
    finally:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


# --- whole runs under the scheduler ---------------------------------------------------

SCENARIO = "incident-2025-dns"


def _probes(result: RunResult, view: str, endpoint: str) -> list[dict[str, Any]]:
    return [
        e
        for e in result.history
        if e["kind"] == "probe" and e["view"] == view and e["endpoint"] == endpoint
    ]


def _history_bytes(result: RunResult) -> bytes:
    return "\n".join(json.dumps(e, sort_keys=True) for e in result.history).encode()


@pytest.fixture(scope="module")
def legacy_runs() -> tuple[RunSpec, RunResult, RunResult]:
    """The legacy race through Unbound on the virtual clock, run twice."""
    require_faketime()
    spec = RunSpec(SCENARIO, variant="legacy", seed=2, resolver="unbound")
    return spec, run(spec), run(spec)


def test_a_run_through_the_resolver_is_deterministic(
    legacy_runs: tuple[RunSpec, RunResult, RunResult],
) -> None:
    _spec, a, b = legacy_runs
    assert a.trace_digest == b.trace_digest
    assert _history_bytes(a) == _history_bytes(b)
    cached = [e for e in a.history if e["kind"] == "probe" and e["view"] == "cached"]
    assert len(cached) > 300
    assert all(e["latency"] == 0 and e["latency_unit"] == "s" for e in cached)


def test_the_cached_view_keeps_nodata_for_the_negative_ttl_after_the_repair(
    legacy_runs: tuple[RunSpec, RunResult, RunResult],
) -> None:
    spec, result, _ = legacy_runs
    scenario = build(spec)
    assert scenario.dns is not None and scenario.config("incident-2025").operator is not None
    negative_ttl = scenario.dns.negative_ttl
    assert "endpoint-never-empty-client" in {v.invariant for v in result.violations}
    assert [e for e in result.history if e["kind"] == "operator"], "the operator repaired DNS"
    assert result.dns is not None
    tails = []
    for endpoint, views in result.dns["endpoints"].items():
        if views["cached"]["tail_seconds"] is None:
            continue
        tails.append(views["cached"]["tail_seconds"])
        # The authoritative view answers again before the cached one does.
        authoritative = _probes(result, "authoritative", endpoint)
        cached = _probes(result, "cached", endpoint)
        emptied = next(e["t"] for e in authoritative if e["t"] > 3 and not answered(e))
        back = next(e["t"] for e in authoritative if e["t"] > emptied and answered(e))
        recovered = next(e["t"] for e in cached if e["t"] > back and answered(e))
        assert 0 < recovered - back <= negative_ttl + 1
        # Between the two, clients behind the cache kept the negative answer (not an error).
        tail = [e for e in cached if back <= e["t"] < recovered]
        assert tail and all(e["rcode"] == "NOERROR" and e["answers"] == 0 for e in tail)
        # Its TTL counts down with virtual time (in whole seconds), or starts again at the
        # negative TTL where the resolver fetched the NODATA anew before the repair.
        for first, then in itertools.pairwise(tail):
            if then["ttl"] <= first["ttl"]:
                elapsed = then["t"] - first["t"]
                assert abs((first["ttl"] - then["ttl"]) - elapsed) < 1.0 + 1e-6, (first, then)
            else:
                assert then["ttl"] == negative_ttl, (first, then)
    assert tails and all(0 < t <= negative_ttl + 1 for t in tails), result.dns
    # Several endpoints kept NODATA for most of the negative TTL.
    assert max(tails) >= negative_ttl - 1


def test_replay_of_a_run_through_the_resolver_gives_its_digest(
    legacy_runs: tuple[RunSpec, RunResult, RunResult],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _spec, result, _ = legacy_runs
    out = tmp_path / "resolver.json"
    out.write_text(json.dumps(result.to_json()))
    assert main(["replay", str(out), "-q"]) == 1
    assert "same trace_digest" in capsys.readouterr().out


def test_a_server_down_fault_through_the_resolver_is_deterministic(tmp_path: Path) -> None:
    require_faketime()
    # Only the authoritative server goes down, for 8 s.
    spec = RunSpec(
        str(quiet_scenario(tmp_path)),
        variant="safe",
        seed=2,
        resolver="unbound",
        faults=("kind=dns-server-down,name=server-down,start=8.0,end=16.0",),
        overrides=(("scenario.duration", 24.0),),
    )
    a, b = run(spec), run(spec)
    assert a.trace_digest == b.trace_digest
    assert _history_bytes(a) == _history_bytes(b)
    cached = [e for e in a.history if e["kind"] == "probe" and e["view"] == "cached"]
    down = [e for e in cached if 11.0 <= e["t"] < 16.0]
    # Once the cached answers expired (leaf TTL 2 s), clients got SERVFAIL at once.
    assert down and all(e["rcode"] == "SERVFAIL" for e in down)
    assert all(answered(e) for e in cached if e["t"] >= 23.0)
