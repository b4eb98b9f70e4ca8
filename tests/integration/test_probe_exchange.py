"""A probe's exchange (``dnschaos.dns.exchange``) against dnspython's ``udp_with_fallback``:
the same summary of every answer, over real sockets, and the same exceptions for a
silent server, an answer from elsewhere, an answer to another query and a closed port;
each distinct answer is read once, and an answer that is not the query's never comes
from what was kept."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import dns.rrset
import pytest

from dnschaos.adapters.dnsserve.embedded import EmbeddedResponder
from dnschaos.dns import exchange
from dnschaos.dns.exchange import Exchange, summary
from dnschaos.dns.probes import RenderedQuery
from tests.integration.test_embedded_dns import BIG, HOST, MIX, ORIGIN, _plane

TIMEOUT = 2.0


def _theirs(query: dns.message.Message, port: int, want: int) -> tuple[exchange.Summary, bool]:
    response, tcp = dns.query.udp_with_fallback(query, HOST, port=port, timeout=TIMEOUT)
    return summary(response, want), tcp


def test_answers_are_summarised_as_dnspython_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    here = threading.current_thread()
    reads: list[int] = []
    from_wire = dns.message.from_wire

    def counting(*args: Any, **kwargs: Any) -> dns.message.Message:
        if threading.current_thread() is here:  # not the servers' own reading of queries
            reads.append(1)
        return from_wire(*args, **kwargs)

    questions = [
        (ORIGIN, "A"),  # one address, through an alias and a weighted set
        (MIX, "A"),  # an even weighted set: either address
        (ORIGIN, "AAAA"),  # NODATA: the SOA's TTL
        (f"missing.{ORIGIN}", "A"),  # NXDOMAIN
        (ORIGIN, "NS"),  # two records of another type: none of the type asked
        ("example.org.", "A"),  # REFUSED
        (BIG, "A"),  # sixty addresses: truncated over UDP, asked again over TCP
    ]
    rounds = 5
    asked = [(name, rtype, i) for i in range(rounds) for name, rtype in questions]
    ours = Exchange()
    monkeypatch.setattr(dns.message, "from_wire", counting)
    with EmbeddedResponder(_plane(7)) as mine:
        got = []
        for n, (name, rtype, _) in enumerate(asked):
            query = RenderedQuery.of(name, rtype)
            query.id = (n * 7919) % 65536
            got.append(ours.ask(query, HOST, mine.port, TIMEOUT, dns.rdatatype.from_text(rtype)))
    ours_read = len(reads)
    with EmbeddedResponder(_plane(7)) as other:  # the same seed: the same weighted picks
        theirs = []
        for n, (name, rtype, _) in enumerate(asked):
            query = RenderedQuery.of(name, rtype)
            query.id = (n * 7919) % 65536
            theirs.append(_theirs(query, other.port, dns.rdatatype.from_text(rtype)))
    assert got == theirs
    assert {g[0][0] for g in got} == {"NOERROR", "NXDOMAIN", "REFUSED"}
    assert any(tcp for _, tcp in got) and any(len(g[0][1]) == 60 for g in got)
    # dnspython read each answer; the exchange each distinct UDP answer once, and the
    # answer over TCP every time (dnspython's own ``tcp``).
    assert len(reads) - ours_read == len(asked) + rounds
    assert ours_read == len(ours._kept) + rounds
    # MIX answers one of two addresses, and the two NS records come in either order.
    assert len(ours._kept) <= len(questions) + 2


class _Server:
    """A UDP server on loopback that answers each datagram with ``reply(query)``, sent
    from its own socket or, with ``elsewhere``, from another one."""

    def __init__(self, reply: Callable[[bytes], bytes | None], elsewhere: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if elsewhere else None
        if self.other is not None:
            self.other.bind((HOST, 0))
        self.reply = reply
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            out = self.reply(wire)
            if out is not None:
                (self.other or self.sock).sendto(out, peer)

    @contextlib.contextmanager
    def running(self) -> Iterator[_Server]:
        self.thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            self.thread.join()
            self.sock.close()
            if self.other is not None:
                self.other.close()


def _answer(wire: bytes) -> bytes:
    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "192.0.2.1"))
    return bytes(response.to_wire())


def _both_raise(port: int, timeout: float = TIMEOUT) -> tuple[type, type]:
    query = RenderedQuery.of(ORIGIN, "A")
    errors: list[type] = []
    for ask in (
        lambda: Exchange().ask(query, HOST, port, timeout, dns.rdatatype.A),
        lambda: dns.query.udp_with_fallback(query, HOST, port=port, timeout=timeout),
    ):
        with pytest.raises(Exception) as caught:
            ask()
        errors.append(type(caught.value))
    return errors[0], errors[1]


def test_a_silent_server_times_out() -> None:
    with _Server(lambda _wire: None).running() as server:
        ours, theirs = _both_raise(server.port, timeout=0.3)
    assert ours is theirs is dns.exception.Timeout


def test_an_answer_from_another_port_is_refused() -> None:
    with _Server(_answer, elsewhere=True).running() as server:
        ours, theirs = _both_raise(server.port)
    assert ours is theirs is dns.query.UnexpectedSource


def test_an_answer_to_another_query_is_refused_even_when_kept() -> None:
    """The same answer bytes, first with the query's id and then with another: the second
    is no answer to the query, whatever was kept of the first."""
    ids = iter([None, 1])

    def reply(wire: bytes) -> bytes:
        out = bytearray(_answer(wire))
        other = next(ids, 1)
        if other is not None:
            out[:2] = ((int.from_bytes(wire[:2], "big") + other) % 65536).to_bytes(2, "big")
        return bytes(out)

    query = RenderedQuery.of(ORIGIN, "A")
    ours = Exchange()
    with _Server(reply).running() as server:
        query.id = 4242
        (rcode, addresses, ttl), tcp = ours.ask(query, HOST, server.port, TIMEOUT, dns.rdatatype.A)
        assert (rcode, addresses, ttl, tcp) == ("NOERROR", ["192.0.2.1"], 60, False)
        with pytest.raises(dns.query.BadResponse):
            ours.ask(query, HOST, server.port, TIMEOUT, dns.rdatatype.A)
        with pytest.raises(dns.query.BadResponse):
            dns.query.udp_with_fallback(query, HOST, port=server.port, timeout=TIMEOUT)


def test_a_closed_port_fails_as_with_dnspython() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    ours, theirs = _both_raise(port, timeout=0.3)
    assert ours is theirs


def test_what_is_kept_is_a_copy_for_each_caller() -> None:
    query = RenderedQuery.of(ORIGIN, "A")
    ours = Exchange()
    with EmbeddedResponder(_plane()) as server:
        (_, first, _), _ = ours.ask(query, HOST, server.port, TIMEOUT, dns.rdatatype.A)
        first.append("spoiled")
        (_, again, _), _ = ours.ask(query, HOST, server.port, TIMEOUT, dns.rdatatype.A)
    assert "spoiled" not in again
