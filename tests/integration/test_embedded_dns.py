"""The embedded responder over real loopback sockets, queried with dnspython."""

from __future__ import annotations

import random
from collections.abc import Iterator

import dns.entropy
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from dnschaos.adapters.dnsserve.dataplane import DataPlane, negative_ttl
from dnschaos.adapters.dnsserve.embedded import EmbeddedResponder
from dnschaos.adapters.route53.models import AliasTarget, RRSet

HOST = "127.0.0.1"
TIMEOUT = 2.0
ORIGIN = "svc.chaos.test."
ZONE_ID = "ZSVCCHAOSTEST"
APEX_ADDRESS = "192.0.2.10"
MIX = f"mix.{ORIGIN}"
MIX_ADDRESSES = ("192.0.2.31", "192.0.2.32")
BIG = f"big.{ORIGIN}"
BIG_ADDRESSES = tuple(f"198.51.100.{i}" for i in range(1, 61))


def _alias(name: str, target: str, set_id: str | None = None, weight: int | None = None) -> RRSet:
    return RRSet(
        name, "A", set_identifier=set_id, weight=weight, alias=AliasTarget(ZONE_ID, target, False)
    )


def _leaf(name: str, *values: str, ttl: int = 60) -> RRSet:
    return RRSet(name, "A", ttl=ttl, values=values)


RECORDS: tuple[RRSet, ...] = (
    RRSet(
        ORIGIN,
        "SOA",
        ttl=900,
        values=("ns-1.awsdns-01.org. hostmaster.chaos.test. 1 7200 900 1209600 300",),
    ),
    RRSet(ORIGIN, "NS", ttl=172800, values=("ns-1.awsdns-01.org.", "ns-2.awsdns-02.net.")),
    # The apex: alias -> plan-1, a weighted set whose only live member is lb-a.
    _alias(ORIGIN, f"plan-1.{ORIGIN}"),
    _alias(f"plan-1.{ORIGIN}", f"lb-a.{ORIGIN}", "lb-a", 1),
    _alias(f"plan-1.{ORIGIN}", f"lb-b.{ORIGIN}", "lb-b", 0),
    _leaf(f"lb-a.{ORIGIN}", APEX_ADDRESS, ttl=45),
    _leaf(f"lb-b.{ORIGIN}", "192.0.2.20"),
    # mix: an even weighted set, so answers depend on the data plane's generator.
    *(
        RRSet(MIX, "A", set_identifier=f"m{i}", weight=1, ttl=30, values=(MIX_ADDRESSES[i],))
        for i in range(2)
    ),
    _leaf(BIG, *BIG_ADDRESSES),
)


def _plane(seed: int = 1) -> DataPlane:
    return DataPlane({ORIGIN: lambda: RECORDS}, random.Random(seed))


@pytest.fixture
def responder() -> Iterator[EmbeddedResponder]:
    with EmbeddedResponder(_plane()) as server:
        yield server


def _query(name: str, rtype: str = "A", *, edns: bool = False) -> dns.message.Message:
    if edns:
        return dns.message.make_query(name, rtype, use_edns=0, payload=1232)
    return dns.message.make_query(name, rtype, use_edns=False)


def _udp(server: EmbeddedResponder, name: str, timeout: float = TIMEOUT) -> dns.message.Message:
    return dns.query.udp(_query(name), HOST, port=server.port, timeout=timeout)


def _addresses(response: dns.message.Message) -> list[str]:
    return sorted(rdata.to_text() for rrset in response.answer for rdata in rrset)


def test_udp_and_tcp_answer_authoritatively(responder: EmbeddedResponder) -> None:
    assert responder.port != 0
    assert responder.running()
    for send in (dns.query.udp, dns.query.tcp):
        response = send(_query(ORIGIN), HOST, port=responder.port, timeout=TIMEOUT)
        assert response.rcode() == dns.rcode.NOERROR
        assert response.flags & dns.flags.AA
        assert not response.flags & dns.flags.TC
        assert _addresses(response) == [APEX_ADDRESS]
        assert response.answer[0].ttl == 45

    missing = _udp(responder, f"missing.{ORIGIN}")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.flags & dns.flags.AA
    assert missing.answer == []
    (soa,) = missing.authority
    assert soa.ttl == negative_ttl(RECORDS, ORIGIN) == 300

    refused = _udp(responder, "example.org.")
    assert refused.rcode() == dns.rcode.REFUSED
    assert responder.queries == 4


def test_stop_closes_the_port_and_restart_serves_on_the_same_one(
    responder: EmbeddedResponder,
) -> None:
    port = responder.port
    assert _addresses(_udp(responder, ORIGIN)) == [APEX_ADDRESS]

    responder.stop()
    assert not responder.running()
    with pytest.raises((dns.exception.Timeout, OSError)):
        _udp(responder, ORIGIN, timeout=0.3)
    with pytest.raises(OSError):  # nothing listens: connection refused
        dns.query.tcp(_query(ORIGIN), HOST, port=port, timeout=0.3)
    assert responder.queries == 1

    responder.restart()
    assert responder.running()
    assert responder.port == port
    for send in (dns.query.udp, dns.query.tcp):
        response = send(_query(ORIGIN), HOST, port=port, timeout=TIMEOUT)
        assert response.rcode() == dns.rcode.NOERROR
        assert _addresses(response) == [APEX_ADDRESS]
    assert responder.queries == 3


def test_servfail_switch(responder: EmbeddedResponder) -> None:
    responder.servfail = True
    for send in (dns.query.udp, dns.query.tcp):
        failed = send(_query(ORIGIN), HOST, port=responder.port, timeout=TIMEOUT)
        assert failed.rcode() == dns.rcode.SERVFAIL
        assert failed.answer == []
    responder.servfail = False
    healed = _udp(responder, ORIGIN)
    assert healed.rcode() == dns.rcode.NOERROR
    assert _addresses(healed) == [APEX_ADDRESS]


def test_same_seed_gives_the_same_weighted_answers() -> None:
    def answers(seed: int) -> list[list[str]]:
        with EmbeddedResponder(_plane(seed)) as server:
            out = []
            for i in range(40):
                # Alternate transports and interleave a name without weights.
                send = dns.query.udp if i % 2 else dns.query.tcp
                out.append(_addresses(send(_query(MIX), HOST, port=server.port, timeout=TIMEOUT)))
                if i % 5 == 0:
                    assert _addresses(_udp(server, ORIGIN)) == [APEX_ADDRESS]
            return out

    first, again, other = answers(7), answers(7), answers(8)
    assert first == again
    assert {a for (a,) in first} == set(MIX_ADDRESSES)  # both members answer
    assert first != other


def test_large_answer_is_truncated_over_udp_and_complete_over_tcp(
    responder: EmbeddedResponder,
) -> None:
    truncated = dns.query.udp(_query(BIG), HOST, port=responder.port, timeout=TIMEOUT)
    assert truncated.flags & dns.flags.TC
    assert truncated.rcode() == dns.rcode.NOERROR
    assert truncated.answer == []

    response, used_tcp = dns.query.udp_with_fallback(
        _query(BIG), HOST, port=responder.port, timeout=TIMEOUT
    )
    assert used_tcp
    assert not response.flags & dns.flags.TC
    assert response.flags & dns.flags.AA
    assert _addresses(response) == sorted(BIG_ADDRESSES)

    # A client offering a 1232-byte EDNS buffer gets all 60 records over UDP.
    with_edns = dns.query.udp(_query(BIG, edns=True), HOST, port=responder.port, timeout=TIMEOUT)
    assert not with_edns.flags & dns.flags.TC
    assert _addresses(with_edns) == sorted(BIG_ADDRESSES)
    assert responder.queries == 4  # the truncated query, its UDP + TCP retry, the EDNS one


def test_bad_packets_and_bad_records_never_stop_the_server() -> None:
    import socket

    records = [
        *RECORDS,
        # As moto stores them: names in values without the final dot (still absolute).
        RRSet(f"ns.{ORIGIN}", "NS", ttl=300, values=("ns-2048.awsdns-64.com",)),
        # A value no server could put on the wire.
        RRSet(f"broken.{ORIGIN}", "A", ttl=60, values=("not-an-ip",)),
    ]
    plane = DataPlane({ORIGIN: lambda: records}, random.Random(1))
    with EmbeddedResponder(plane) as server:
        # A response sent to the server is dropped, not answered, and serving goes on.
        stray = dns.message.make_query(ORIGIN, "A")
        stray.flags |= dns.flags.QR
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(stray.to_wire(), (HOST, server.port))
        ns = dns.query.udp(
            dns.message.make_query(f"ns.{ORIGIN}", "NS"), HOST, port=server.port, timeout=TIMEOUT
        )
        assert [rd.to_text() for rr in ns.answer for rd in rr] == ["ns-2048.awsdns-64.com."]
        broken = dns.query.udp(
            dns.message.make_query(f"broken.{ORIGIN}", "A"), HOST, port=server.port, timeout=TIMEOUT
        )
        assert broken.rcode() == dns.rcode.SERVFAIL
        for query in (dns.query.udp, dns.query.tcp):
            ok = query(dns.message.make_query(ORIGIN, "A"), HOST, port=server.port, timeout=TIMEOUT)
            assert ok.rcode() == dns.rcode.NOERROR and ok.answer


def test_kept_renderings_are_what_rendering_each_answer_afresh_gives() -> None:
    """The responder keeps each rendered response (without its id) and gives it again; a
    data plane that renders every answer afresh, with the same seed, gives the same
    bytes for every query: ids, case, EDNS sizes, weighted picks, negative answers,
    refusals, two questions, truncation, and a zone that changes between questions."""
    long_txt = f"long.{ORIGIN}"  # one record longer than 512 bytes: truncated over UDP
    records = [
        *RECORDS,
        RRSet(long_txt, "TXT", ttl=60, values=(" ".join(['"' + "x" * 250 + '"'] * 3),)),
    ]
    kept = DataPlane({ORIGIN: lambda: records}, random.Random(5))
    afresh = DataPlane({ORIGIN: lambda: records}, random.Random(5))
    two = _query(ORIGIN)
    two.question.append(_query(MIX).question[0])
    queries = [
        *(_query(MIX) for _ in range(30)),  # weighted: the pick is drawn for each
        _query(MIX.upper()),
        _query(ORIGIN),
        _query(ORIGIN, edns=True),
        _query(ORIGIN, "TXT"),
        _query(f"missing.{ORIGIN}"),
        _query("example.org."),
        two,
        _query(BIG),
        _query(BIG, edns=True),
        _query(long_txt, "TXT"),
    ]
    for i, query in enumerate(queries * 2):
        if i == len(queries):  # the zone changes: lb-a now answers another address
            records[5] = _leaf(f"lb-a.{ORIGIN}", "192.0.2.99", ttl=45)
        query.id = (7919 * i) % 65536
        wire = query.to_wire()
        for max_size in (512, 65535):
            parsed = dns.message.from_wire(wire)
            got = kept.respond_wire(wire, parsed, max_size, EmbeddedResponder._to_wire)
            want = EmbeddedResponder._to_wire(parsed, afresh.respond(parsed), max_size)
            if any(len(rrset) > 1 for rrset in dns.message.from_wire(got).answer):
                # Several records, in a new random order each time (never kept): the same set
                assert dns.message.from_wire(got) == dns.message.from_wire(want)
                assert len(got) == len(want)
                continue
            assert got == want, (i, query.question, max_size)
            assert dns.message.from_wire(got).id == query.id
            question = query.question[0]
            asks_apex = question.name.to_text() == ORIGIN and question.rdtype == 1
            if i >= len(queries) and asks_apex and len(query.question) == 1:
                assert _addresses(dns.message.from_wire(got)) == ["192.0.2.99"]
    assert len(kept._rendered) < len(queries) * 4  # repeated questions were given again
    # The records of a set come in a new order each time, as Route 53 gives them.
    orders = set()
    for _ in range(5):
        query = _query(BIG, edns=True)
        wire = query.to_wire()
        got = kept.respond_wire(wire, query, 65535, EmbeddedResponder._to_wire)
        orders.add(tuple(rd.to_text() for rd in dns.message.from_wire(got).answer[0]))
    assert len(orders) > 1


def test_a_probe_renders_its_query_once_and_sends_a_new_id_each_time() -> None:
    from dnschaos.dns.probes import RenderedQuery

    for name, rtype in ((MIX, "A"), (MIX.upper(), "AAAA"), (f"x.{ORIGIN}", "TXT")):
        rendered = RenderedQuery.of(name, rtype)
        made = dns.message.make_query(name, rtype)
        made.flags |= dns.flags.RD
        for query_id in (rendered.id, 0, 65535, 4242):
            rendered.id = made.id = query_id
            assert rendered.to_wire() == made.to_wire()
        # Rendered any other way (a size limit here), dnspython renders it.
        assert rendered.to_wire(max_size=512) == made.to_wire(max_size=512)

    seen: list[int] = []
    with EmbeddedResponder(_plane()) as server:
        answer_wire = server.answer_wire

        def recording(wire: bytes, max_size: int = 65535) -> bytes | None:
            seen.append(int.from_bytes(wire[:2], "big"))
            return answer_wire(wire, max_size)

        server.answer_wire = recording  # type: ignore[method-assign]
        query = RenderedQuery.of(ORIGIN, "A")
        for _ in range(20):
            query.id = dns.entropy.random_16()
            response, _tcp = dns.query.udp_with_fallback(
                query, HOST, port=server.port, timeout=TIMEOUT
            )
            assert response.id == query.id and _addresses(response) == [APEX_ADDRESS]
        big = RenderedQuery.of(BIG, "A")  # truncated over UDP, asked again over TCP
        response, used_tcp = dns.query.udp_with_fallback(
            big, HOST, port=server.port, timeout=TIMEOUT
        )
        assert used_tcp and _addresses(response) == sorted(BIG_ADDRESSES)
    assert len(set(seen[:20])) > 15  # ids drawn afresh (a repeat among 20 is possible)


def test_a_query_read_once_is_answered_with_each_querys_own_id() -> None:
    """The responder reads a question once and answers each later copy of it (another id)
    from that reading: every answer carries its own query's id, and is what a responder
    reading every query afresh gives, kept renderings, several records, SERVFAIL alike."""
    kept = EmbeddedResponder(_plane(3))
    afresh = EmbeddedResponder(_plane(3))
    questions = [_query(ORIGIN), _query(MIX), _query(BIG, edns=True), _query(f"no.{ORIGIN}")]
    for round_ in range(4):
        kept.servfail = afresh.servfail = round_ == 3
        for n, query in enumerate(questions):
            query.id = (round_ * 101 + n * 7) % 65536
            wire = query.to_wire()
            got = kept.answer_wire(wire)
            afresh._read_queries.clear()  # this one reads every query anew
            want = afresh.answer_wire(wire)
            assert got is not None and want is not None
            assert dns.message.from_wire(got).id == query.id
            if query.question[0].name.to_text() == BIG:
                assert dns.message.from_wire(got) == dns.message.from_wire(want)  # order drawn
            else:
                assert got == want, (round_, query.question)
    assert len(kept._read_queries) == len(questions)
