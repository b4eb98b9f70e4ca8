"""A probe's question over UDP, asked as dnspython's ``udp_with_fallback`` asks it, with
each distinct answer read once.

A probe asks the same few questions thousands of times a run, and the server answers
most of them with the same bytes but the message id: reading an answer (dnspython's
``from_wire``) cost more than the rest of the exchange. Here the exchange is the one
``dns.query.udp_with_fallback(query, host, port=port, timeout=timeout)`` makes, step
by step: a new UDP socket for each question, the query sent once, the answer awaited
until the timeout (``dns.exception.Timeout``), an answer from another address or port
refused (``dns.query.UnexpectedSource``), a truncated answer asked again over TCP
(dnspython's ``dns.query.tcp``), an answer that does not answer the query refused
(``dns.query.BadResponse``). What a probe keeps of an answer (:func:`summary`) is
kept under the query's and the answer's bytes after their ids, and given again when
the same answer comes back to the same query with its id; any other answer is read
by dnspython, as before. A signed query (its keyring set) goes to dnspython itself.
"""

from __future__ import annotations

import socket
import time
from typing import Final

import dns.exception
import dns.inet
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

# What a probe records of an answer: its rcode as text, the addresses of the type asked
# (sorted), and the TTL (the answer's, or for a negative answer its SOA's; None: neither).
Summary = tuple[str, list[str], int | None]

MAX_KEPT: Final = 1024  # answers kept read; a full table starts again
_TRUNCATED: Final = "truncated"  # kept for an answer that dnspython reads as truncated


def summary(response: dns.message.Message, want: int) -> Summary:
    """What a probe records of ``response`` to a question for type ``want``."""
    addresses = sorted(
        rd.to_text() for rrset in response.answer if rrset.rdtype == want for rd in rrset
    )
    ttls = [rrset.ttl for rrset in response.answer if rrset.rdtype == want]
    if not ttls:
        ttls = [rrset.ttl for rrset in response.authority if rrset.rdtype == dns.rdatatype.SOA]
    return dns.rcode.to_text(response.rcode()), addresses, min(ttls) if ttls else None


class Exchange:
    """One probe's exchanges, with the answers it has read (its own: probes run apart)."""

    def __init__(self) -> None:
        # (query, answer), each without its id -> the answer's summary, or _TRUNCATED
        self._kept: dict[tuple[bytes, bytes], Summary | str] = {}

    def ask(
        self, query: dns.message.Message, host: str, port: int, timeout: float, want: int
    ) -> tuple[Summary, bool]:
        """The summary of the answer to ``query``, and whether it came over TCP."""
        if query.keyring is not None:
            response, tcp = dns.query.udp_with_fallback(query, host, port=port, timeout=timeout)
            return summary(response, want), tcp
        wire = query.to_wire()
        af = dns.inet.af_for_address(host)
        destination = dns.inet.low_level_address_tuple((host, port), af)
        expiration = time.time() + timeout
        with socket.socket(af, socket.SOCK_DGRAM) as sock:
            _send(sock, wire, destination, expiration)
            answer = _receive(sock, af, destination, expiration)
        key = (wire[2:], answer[2:])
        kept = self._kept.get(key) if answer[:2] == wire[:2] else None
        if kept is None:
            kept = self._read(query, answer, want)
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[key] = kept
        if isinstance(kept, str):  # truncated: asked again over TCP, as dnspython does
            response = dns.query.tcp(query, host, timeout=timeout, port=port)
            return summary(response, want), True
        rcode, addresses, ttl = kept
        return (rcode, list(addresses), ttl), False  # the caller's own list

    @staticmethod
    def _read(query: dns.message.Message, answer: bytes, want: int) -> Summary | str:
        """Read ``answer`` as dnspython's ``udp`` reads it (its exceptions raised)."""
        try:
            response = dns.message.from_wire(
                answer, keyring=query.keyring, request_mac=query.mac, raise_on_truncation=True
            )
        except dns.message.Truncated:
            return _TRUNCATED
        if not query.is_response(response):
            raise dns.query.BadResponse
        return summary(response, want)


def _send(
    sock: socket.socket, wire: bytes, destination: tuple[object, ...], expiration: float
) -> None:
    sock.settimeout(_left(expiration))
    try:
        sock.sendto(wire, destination)
    except TimeoutError:
        raise dns.exception.Timeout from None


def _receive(
    sock: socket.socket, af: int, destination: tuple[object, ...], expiration: float
) -> bytes:
    """The first datagram back, from ``destination`` or refused as dnspython refuses it."""
    sock.settimeout(_left(expiration))
    try:
        answer, source = sock.recvfrom(65535)
    except TimeoutError:
        raise dns.exception.Timeout from None
    if not _same_address(af, source, destination) and not (
        dns.inet.is_multicast(str(destination[0])) and source[1:] == destination[1:]
    ):
        raise dns.query.UnexpectedSource(  # type: ignore[no-untyped-call]
            f"got a response from {source} instead of {destination}"
        )
    return answer


def _same_address(af: int, a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    try:
        return dns.inet.inet_pton(af, str(a[0])) == dns.inet.inet_pton(af, str(b[0])) and (
            a[1:] == b[1:]
        )
    except dns.exception.SyntaxError:
        return False


def _left(expiration: float) -> float:
    left = expiration - time.time()
    if left <= 0:
        raise dns.exception.Timeout
    return left
