"""Real BIND 9, Knot and Unbound processes on loopback, driven by RFC 2136 updates.

These need the Debian packages bind9, knot and unbound. Without them a test is
skipped on a developer machine, but fails under CI=true: a CI run that silently
tested nothing would look green.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.update
import pytest

from dnschaos.adapters.dnsserve import servers as dns_servers
from dnschaos.adapters.dnsserve.rfc2136 import Pusher, RecordData, UpdateRefused
from dnschaos.adapters.dnsserve.servers import (
    AUTHORITATIVE,
    DnsServerError,
    ServerHandle,
    Tsig,
    ZoneSpec,
    find_binary,
    free_port,
    start_authoritative,
    start_unbound,
)

REPO = Path(__file__).resolve().parents[2]
ZONE = "dynamodb.us-east-1.chaos.test."
CHILD = f"ddb-a.{ZONE}"


def require(*kinds: str) -> None:
    missing: list[str] = []
    for kind in kinds:
        try:
            find_binary(kind)
        except DnsServerError as exc:
            missing.append(str(exc))
    if not missing:
        return
    reason = "; ".join(missing)
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"DNS server missing under CI: {reason}")
    pytest.skip(reason)


@dataclass
class Auth:
    server: ServerHandle
    tsig: Tsig
    pusher: Pusher


@pytest.fixture(params=AUTHORITATIVE)
def auth(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Auth]:
    kind = str(request.param)
    require(kind)
    tsig = Tsig.generate(random.Random(f"e2e-{kind}"))
    server = start_authoritative(
        kind, [ZoneSpec(ZONE, soa_ttl=5, negative_ttl=2)], tsig, workdir=tmp_path
    )
    with server:
        yield Auth(server, tsig, Pusher(server, ZONE, tsig))


def ask(
    server: ServerHandle, name: str, rdtype: str = "A", *, timeout: float = 2.0
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if server.kind == "unbound":
        query.flags |= dns.flags.RD
    return dns.query.udp(query, server.host, port=server.port, timeout=timeout)


def values(reply: dns.message.Message, rdtype: str = "A") -> list[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in reply.answer if rrset.rdtype == wanted for rd in rrset)


def port_is_free(port: int) -> bool:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # TIME_WAIT from earlier TCP updates must not count as "still listening".
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        udp.bind(("127.0.0.1", port))
        tcp.bind(("127.0.0.1", port))
        tcp.listen()
    except OSError:
        return False
    finally:
        udp.close()
        tcp.close()
    return True


def is_dead(pid: int) -> bool:
    """Gone, or a zombie: the parent that would reap it may be an init that never does."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    # The state follows the command name, which is in parentheses and may hold spaces.
    state = stat.rsplit(")", 1)[1].split()[0]
    return state in {"Z", "X", "x"}


# --- no servers needed ----------------------------------------------------------------


def test_unknown_kind_names_the_allowed_ones() -> None:
    tsig = Tsig.generate(random.Random(1))
    with pytest.raises(ValueError, match=r"bind9.*knot"):
        start_authoritative("powerdns", [ZoneSpec(ZONE)], tsig)
    with pytest.raises(ValueError, match="unbound"):
        find_binary("nsd")


def test_missing_binary_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dns_servers._PROGRAMS, "knot", ("knotd-not-installed", "knot"))
    with pytest.raises(DnsServerError, match=r"knotd-not-installed.*apt-get install knot"):
        find_binary("knot")


def test_free_port_is_free_for_udp_and_tcp() -> None:
    assert port_is_free(free_port())


def test_tsig_is_reproducible_and_checked() -> None:
    first = Tsig.generate(random.Random(5))
    assert first == Tsig.generate(random.Random(5)) == Tsig.random(random.Random(5))
    assert first != Tsig.generate(random.Random(6))
    assert first.name == "dnschaos-update." and first.algorithm == "hmac-sha256"
    key = first.keyring()[first.keyname]
    assert len(key.secret) == 32
    with pytest.raises(ValueError, match="base64"):
        Tsig("not base64!")
    with pytest.raises(ValueError, match="algorithm"):
        Tsig(first.secret, algorithm="hmac-whirlpool")


def test_zone_spec_defaults_and_zone_file() -> None:
    spec = ZoneSpec(ZONE, negative_ttl=2)
    assert spec.ns == f"ns1.{ZONE}"
    text = spec.zone_file()
    assert f"@ 5 IN SOA ns1.{ZONE} hostmaster.{ZONE} 1 3600 600 86400 2" in text
    assert f"ns1.{ZONE} 5 IN A 127.0.0.1" in text
    with pytest.raises(ValueError, match="absolute"):
        ZoneSpec("chaos.test")


def test_unbound_upstream_must_be_ipv4_loopback() -> None:
    for host in ("192.0.2.1", "::1", "localhost"):
        with pytest.raises(ValueError, match="loopback"):
            start_unbound([ZONE], (host, 53))


def test_pusher_rejects_keys_it_must_not_touch() -> None:
    pusher = Pusher(("127.0.0.1", 9), ZONE, Tsig.generate(random.Random(1)))
    data = RecordData(60, ("192.0.2.1",))
    for key in [
        ("example.com.", "A"),  # outside the zone
        (CHILD.rstrip("."), "A"),  # relative
        (ZONE, "SOA"),
        (ZONE, "NS"),
        (ZONE, "ANY"),
    ]:
        with pytest.raises(ValueError):
            pusher.sync({key: data})
    with pytest.raises(ValueError, match="does not parse"):
        pusher.sync({(CHILD, "A"): RecordData(60, ("not-an-address",))})
    # Nothing valid changed, so nothing was sent to the (non-existent) server.
    assert pusher.sync({}) == 0


# --- authoritative servers ------------------------------------------------------------


def test_start_answers_soa_and_stop_frees_the_port(auth: Auth) -> None:
    server = auth.server
    assert server.running() and server.pid is not None
    assert server.host == "127.0.0.1"
    assert server.log_path.parent == server.directory and server.log_path.exists()
    reply = ask(server, ZONE, "SOA")
    assert reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA
    (soa_rrset,) = reply.answer
    assert soa_rrset.ttl == 5
    soa = soa_rrset[0]
    assert soa.minimum == 2 and soa.serial == 1
    assert str(soa.mname) == f"ns1.{ZONE}"
    ns = ask(server, f"ns1.{ZONE}")
    assert values(ns) == ["127.0.0.1"]
    # No recursion for names it is not authoritative for.
    outside = ask(server, "example.com.")
    assert outside.rcode() == dns.rcode.REFUSED

    pid = server.pid
    server.stop()
    assert not server.running() and server.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert port_is_free(server.port)
    server.stop()  # idempotent


def test_pusher_adds_replaces_and_deletes(auth: Auth) -> None:
    server, pusher = auth.server, auth.pusher
    desired = {
        (ZONE, "A"): RecordData(60, ("192.0.2.10",)),
        (ZONE, "AAAA"): RecordData(60, ("2001:db8::1", "2001:db8::2")),
        (ZONE, "TXT"): RecordData(60, ('"holder=x expires=1"',)),
        (CHILD, "A"): RecordData(30, ("192.0.2.20", "192.0.2.21")),
    }
    assert pusher.sync(desired) == 4
    assert values(ask(server, ZONE)) == ["192.0.2.10"]
    assert values(ask(server, ZONE, "AAAA"), "AAAA") == ["2001:db8::1", "2001:db8::2"]
    assert values(ask(server, ZONE, "TXT"), "TXT") == ['"holder=x expires=1"']
    child = ask(server, CHILD)
    assert values(child) == ["192.0.2.20", "192.0.2.21"] and child.answer[0].ttl == 30

    assert pusher.sync(desired) == 0  # nothing changed: nothing sent
    # The same values written differently are the same record set.
    assert (
        pusher.sync({**desired, (ZONE, "AAAA"): RecordData(60, ("2001:DB8:0::2", "2001:db8::1"))})
        == 0
    )

    desired[(CHILD, "A")] = RecordData(30, ("192.0.2.22",))
    desired[(ZONE, "TXT")] = RecordData(60, ('"holder=y expires=2"',))
    assert pusher.sync(desired) == 2
    assert values(ask(server, CHILD)) == ["192.0.2.22"]
    assert values(ask(server, ZONE, "TXT"), "TXT") == ['"holder=y expires=2"']

    del desired[(ZONE, "AAAA")]
    desired[(CHILD, "A")] = RecordData(45, ("192.0.2.22",))  # a TTL change is a change
    assert pusher.sync(desired) == 2
    assert values(ask(server, ZONE, "AAAA"), "AAAA") == []
    assert ask(server, CHILD).answer[0].ttl == 45
    assert pusher.sync(desired) == 0

    # SOA and NS at the apex are untouched throughout.
    assert values(ask(server, ZONE, "NS"), "NS") == [f"ns1.{ZONE}"]
    assert ask(server, ZONE, "SOA").answer[0][0].serial > 1


def test_updates_without_the_key_are_refused(auth: Auth) -> None:
    server = auth.server
    name = f"intruder.{ZONE}"

    unsigned = dns.update.UpdateMessage(ZONE)
    unsigned.add(name, 60, "A", "192.0.2.66")
    reply = dns.query.tcp(unsigned, server.host, port=server.port, timeout=2)
    assert reply.rcode() in (dns.rcode.REFUSED, dns.rcode.NOTAUTH)

    wrong = Tsig.generate(random.Random("not the server's key"))
    assert wrong.name == auth.tsig.name and wrong.secret != auth.tsig.secret
    forged = dns.update.UpdateMessage(
        ZONE, keyring=wrong.keyring(), keyname=wrong.keyname, keyalgorithm=wrong.keyalgorithm
    )
    forged.add(name, 60, "A", "192.0.2.66")
    try:
        reply = dns.query.tcp(forged, server.host, port=server.port, timeout=2)
    except dns.tsig.PeerError:
        pass  # the server answered BADSIG; dnspython raises on it
    else:
        assert reply.rcode() in (dns.rcode.REFUSED, dns.rcode.NOTAUTH)

    with pytest.raises(UpdateRefused) as refused:
        Pusher(server, ZONE, wrong).sync({(name, "A"): RecordData(60, ("192.0.2.66",))})
    assert refused.value.zone == ZONE and str(server.port) in refused.value.server

    assert ask(server, name).rcode() == dns.rcode.NXDOMAIN


def test_nodata_at_the_apex_and_nxdomain_elsewhere(auth: Auth) -> None:
    server, pusher = auth.server, auth.pusher
    pusher.sync({(ZONE, "A"): RecordData(60, ("192.0.2.10",))})
    assert values(ask(server, ZONE)) == ["192.0.2.10"]
    assert pusher.sync({}) == 1  # deletes the apex A set

    nodata = ask(server, ZONE)
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []
    (soa,) = nodata.authority
    assert soa.rdtype == dns.rdatatype.SOA
    assert soa.ttl == 2  # min(SOA TTL, MINIMUM): what resolvers cache it for

    nxdomain = ask(server, f"nothing-here.{ZONE}")
    assert nxdomain.rcode() == dns.rcode.NXDOMAIN
    assert [rrset.rdtype for rrset in nxdomain.authority] == [dns.rdatatype.SOA]


def test_restart_keeps_port_and_pushed_data(auth: Auth) -> None:
    server, pusher = auth.server, auth.pusher
    pusher.sync(
        {
            (ZONE, "A"): RecordData(60, ("192.0.2.10",)),
            (CHILD, "AAAA"): RecordData(60, ("2001:db8::a",)),
        }
    )
    port, directory, old_pid = server.port, server.directory, server.pid

    server.stop()
    assert ask_fails(server)
    server.restart()

    assert server.running() and server.pid not in (None, old_pid)
    assert (server.port, server.directory) == (port, directory)
    assert values(ask(server, ZONE)) == ["192.0.2.10"]
    assert values(ask(server, CHILD, "AAAA"), "AAAA") == ["2001:db8::a"]

    # Updates keep working after the restart, and a reset pusher rewrites all it is given.
    pusher.reset()
    assert pusher.sync({(ZONE, "A"): RecordData(60, ("192.0.2.11",))}) == 1
    assert values(ask(server, ZONE)) == ["192.0.2.11"]
    # After the reset the pusher does not know CHILD AAAA, so it leaves it alone.
    assert values(ask(server, CHILD, "AAAA"), "AAAA") == ["2001:db8::a"]

    server.restart()  # a running server restarts too
    assert values(ask(server, ZONE)) == ["192.0.2.11"]


def test_failed_send_is_resent_whatever_comes_next(auth: Auth) -> None:
    server, pusher = auth.server, auth.pusher
    gone = f"gone.{ZONE}"
    assert (
        pusher.sync(
            {
                (CHILD, "A"): RecordData(60, ("192.0.2.1",)),
                (gone, "A"): RecordData(60, ("192.0.2.9",)),
            }
        )
        == 2
    )
    server.stop()
    with pytest.raises(OSError):
        pusher.sync({(CHILD, "A"): RecordData(60, ("192.0.2.2",))})
    server.restart()
    # Asking for the state from before the failed send must still send it: the
    # pusher cannot know whether the server applied the lost update.
    assert pusher.sync({(CHILD, "A"): RecordData(60, ("192.0.2.1",))}) == 2
    assert values(ask(server, CHILD)) == ["192.0.2.1"]
    assert ask(server, gone).rcode() == dns.rcode.NXDOMAIN
    assert pusher.sync({(CHILD, "A"): RecordData(60, ("192.0.2.1",))}) == 0


@pytest.mark.parametrize("kind", AUTHORITATIVE)
def test_other_tsig_algorithms(kind: str, tmp_path: Path) -> None:
    require(kind)
    tsig = Tsig.generate(random.Random(9), name="other-key.chaos.test.", algorithm="hmac-sha512")
    with start_authoritative(kind, [ZoneSpec(ZONE)], tsig, workdir=tmp_path) as server:
        assert Pusher(server, ZONE, tsig).sync({(CHILD, "TXT"): RecordData(5, ('"x"',))}) == 1
        assert values(ask(server, CHILD, "TXT"), "TXT") == ['"x"']


def ask_fails(server: ServerHandle) -> bool:
    try:
        ask(server, ZONE, "SOA", timeout=0.3)
    except (dns.exception.Timeout, OSError):
        return True
    return False


@pytest.mark.parametrize("kind", AUTHORITATIVE)
def test_start_failure_reports_the_log_and_leaves_nothing_running(
    kind: str, tmp_path: Path
) -> None:
    require(kind)
    tsig = Tsig.generate(random.Random(2))
    with pytest.raises(DnsServerError) as failed:
        # No server answers within no time at all.
        start_authoritative(kind, [ZoneSpec(ZONE)], tsig, workdir=tmp_path, timeout=0)
    message = str(failed.value)
    assert kind in message and find_binary(kind) in message
    # The log is named (Knot's directory may sit outside a tmp_path too deep for its socket).
    assert "server.log" in message and "dnschaos-" + kind in message
    assert "not answering" in message and "last lines" in message
    assert processes_under(tmp_path) == []


def processes_under(directory: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(directory) in cmdline and not is_dead(int(entry.name)):
            found.append(int(entry.name))
    return found


# --- Unbound in front of an authoritative server ----------------------------------------


@dataclass
class Stack:
    auth: ServerHandle
    pusher: Pusher
    cache: ServerHandle


class StackFactory(Protocol):
    def __call__(self, kind: str = "bind9", *, serve_expired: bool = False) -> Stack: ...


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[StackFactory]:
    started: list[ServerHandle] = []

    def make(kind: str = "bind9", *, serve_expired: bool = False) -> Stack:
        require(kind, "unbound")
        tsig = Tsig.generate(random.Random(f"stack-{kind}"))
        auth = start_authoritative(
            kind, [ZoneSpec(ZONE, soa_ttl=5, negative_ttl=2)], tsig, workdir=tmp_path
        )
        started.append(auth)
        cache = start_unbound(
            [ZONE], (auth.host, auth.port), serve_expired=serve_expired, workdir=tmp_path
        )
        started.append(cache)
        return Stack(auth, Pusher(auth, ZONE, tsig), cache)

    yield make
    for server in reversed(started):
        server.stop()


def watch(
    cache: ServerHandle, name: str, rdtype: str, until: float, settle_on: list[str]
) -> list[tuple[float, list[str]]]:
    """Ask every 50 ms until ``until`` (monotonic); (time, answer values) per reply.

    Stops early once ``settle_on`` has been answered for half a second: long
    enough to see the cache does not flip back.
    """
    seen: list[tuple[float, list[str]]] = []
    settled_at: float | None = None
    while time.monotonic() < until:
        reply = ask(cache, name, rdtype, timeout=1.0)
        assert reply.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(reply.rcode())
        now = time.monotonic()
        seen.append((now, values(reply, rdtype)))
        if seen[-1][1] == settle_on:
            settled_at = now if settled_at is None else settled_at
            if now - settled_at >= 0.5:
                break
        time.sleep(0.05)
    return seen


def test_unbound_caches_a_positive_answer_for_its_ttl(stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.pusher.sync({(CHILD, "A"): RecordData(2, ("192.0.2.1",))})
    cached_at = time.monotonic()
    assert values(ask(stack.cache, CHILD)) == ["192.0.2.1"]

    stack.pusher.sync({(CHILD, "A"): RecordData(2, ("192.0.2.2",))})
    changed_at = time.monotonic()
    assert values(ask(stack.auth, CHILD)) == ["192.0.2.2"]

    seen = watch(stack.cache, CHILD, "A", cached_at + 2 + 2.5, ["192.0.2.2"])
    old = [t for t, v in seen if v == ["192.0.2.1"]]
    new = [t for t, v in seen if v == ["192.0.2.2"]]
    assert old and new, seen
    assert max(old) < min(new)  # no flapping back once the cache refreshed
    assert max(old) - changed_at >= 1.0
    assert min(new) - cached_at <= 2 + 1.5


def test_unbound_caches_nodata_for_the_soa_minimum(stack_factory: StackFactory) -> None:
    stack = stack_factory()
    # The name exists (it has a TXT record) but has no address: NODATA.
    stack.pusher.sync({(CHILD, "TXT"): RecordData(60, ('"lock"',))})
    cached_at = time.monotonic()
    empty = ask(stack.cache, CHILD)
    assert empty.rcode() == dns.rcode.NOERROR and values(empty) == []

    stack.pusher.sync(
        {
            (CHILD, "TXT"): RecordData(60, ('"lock"',)),
            (CHILD, "A"): RecordData(60, ("192.0.2.7",)),
        }
    )
    repaired_at = time.monotonic()
    assert values(ask(stack.auth, CHILD)) == ["192.0.2.7"]

    seen = watch(stack.cache, CHILD, "A", cached_at + 2 + 2.5, ["192.0.2.7"])
    still_empty = [t for t, v in seen if v == []]
    answered = [t for t, v in seen if v == ["192.0.2.7"]]
    assert still_empty and answered, seen
    assert max(still_empty) < min(answered)
    assert max(still_empty) - repaired_at >= 1.0
    assert min(answered) - cached_at <= 2 + 1.5


def test_unbound_serves_expired_answers_while_upstream_is_down(
    stack_factory: StackFactory,
) -> None:
    stack = stack_factory(serve_expired=True)
    stack.pusher.sync({(CHILD, "A"): RecordData(1, ("192.0.2.1",))})
    cached_at = time.monotonic()
    assert values(ask(stack.cache, CHILD)) == ["192.0.2.1"]

    stack.auth.stop()
    # Unbound counts whole seconds: a 1 s TTL is surely over 2 s later.
    time.sleep(max(0.0, cached_at + 2.2 - time.monotonic()))
    reply = ask(stack.cache, CHILD, timeout=5.0)
    assert reply.rcode() == dns.rcode.NOERROR
    assert values(reply) == ["192.0.2.1"]
    # Expired data goes out with serve-expired-reply-ttl, not the record's own TTL.
    assert reply.answer[0].ttl == 30


@pytest.mark.parametrize("kind", AUTHORITATIVE)
def test_unbound_uses_a_restarted_upstream_again_quickly(
    stack_factory: StackFactory, kind: str
) -> None:
    stack = stack_factory(kind)
    stack.pusher.sync({(CHILD, "A"): RecordData(60, ("192.0.2.5",))})
    stack.auth.stop()
    # Queries while the server is down fail (no answer in time, or SERVFAIL).
    for _ in range(2):
        try:
            reply = ask(stack.cache, CHILD, timeout=0.4)
        except dns.exception.Timeout:
            continue
        assert reply.rcode() == dns.rcode.SERVFAIL
    stack.auth.restart()
    back_at = time.monotonic()
    while True:
        try:
            reply = ask(stack.cache, CHILD, timeout=0.3)
            if values(reply) == ["192.0.2.5"]:
                break
        except dns.exception.Timeout:
            pass
        assert time.monotonic() - back_at < 2.0, "Unbound did not use the restarted server"
        time.sleep(0.05)


# --- servers die with the process that started them -----------------------------------


def test_servers_started_from_short_lived_threads_outlive_them(tmp_path: Path) -> None:
    require("bind9")
    tsig = Tsig.generate(random.Random(4))
    started: list[ServerHandle] = []

    def start() -> None:
        started.append(start_authoritative("bind9", [ZoneSpec(ZONE)], tsig, workdir=tmp_path))

    worker = threading.Thread(target=start)
    worker.start()
    worker.join(20)
    (server,) = started
    with server:
        restarter = threading.Thread(target=server.restart)
        restarter.start()
        restarter.join(20)
        # Both threads have ended; the parent-death signal must not have fired.
        time.sleep(0.3)
        assert server.running()
        assert ask(server, ZONE, "SOA").rcode() == dns.rcode.NOERROR


_CHILD_SCRIPT = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from dnschaos.adapters.dnsserve.servers import Tsig, ZoneSpec, start_authoritative, start_unbound

    workdir = Path(sys.argv[1])
    tsig = Tsig.generate(random.Random(1))
    zone = ZoneSpec("orphan.chaos.test.")
    bind9 = start_authoritative("bind9", [zone], tsig, workdir=workdir)
    knot = start_authoritative("knot", [zone], tsig, workdir=workdir)
    cache = start_unbound([zone.origin], (bind9.host, bind9.port), workdir=workdir)
    print(bind9.pid, knot.pid, cache.pid, flush=True)
    time.sleep(120)
    """
)


def test_servers_die_when_their_parent_is_killed(tmp_path: Path) -> None:
    require("bind9", "knot", "unbound")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    parent = subprocess.Popen(
        [sys.executable, "-c", _CHILD_SCRIPT, str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout = parent.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    parent.send_signal(signal.SIGKILL)
    _, err = parent.communicate(timeout=10)
    assert lines and lines[0].strip(), f"the child printed no pids; its stderr:\n{err[-3000:]}"
    pids = [int(word) for word in lines[0].split()]
    assert len(pids) == 3

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(is_dead(pid) for pid in pids):
        time.sleep(0.05)
    alive = [pid for pid in pids if not is_dead(pid)]
    for pid in alive:  # keep them out of the rest of the run
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"still running after their parent was killed: {alive}"
