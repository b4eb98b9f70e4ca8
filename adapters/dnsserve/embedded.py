"""The embedded authoritative responder: the data plane served over UDP and TCP on loopback.

It is the default DNS server of a run: no process to start, and its answers
come straight from the strict layer's INSYNC state, with Route 53's weighted
picks. It serves real DNS wire format, so probes (and any resolver put in front
of it) talk to it exactly as they would to BIND or Knot.

Determinism: the responder's threads only read zone state and draw weighted
picks from the data plane's seeded generator. Under the scheduler, a probe's
query is a yield point and the probe keeps the baton until the answer arrives,
so queries reach the responder one at a time, in schedule order, while every
other actor is parked: the same seed gives the same answers.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import struct
import threading
from typing import Final

import dns.exception
import dns.flags
import dns.message
import dns.rcode

from dnschaos.adapters.dnsserve.dataplane import DataPlane

UDP_PAYLOAD: Final = 1232  # what we answer over UDP at most when the client offers EDNS
POLL: Final = 0.2  # seconds a socket waits before checking whether to stop
MAX_READ: Final = 1024  # queries kept read (see EmbeddedResponder._read); a full table starts again


class _ServFail(Exception):
    """The SERVFAIL switch is on."""


class EmbeddedResponder:
    """Serves ``dataplane`` on ``host``; ``port=0`` picks a free port shared by UDP and TCP."""

    kind: Final = "embedded"

    def __init__(self, dataplane: DataPlane, host: str = "127.0.0.1", port: int = 0) -> None:
        self.dataplane = dataplane
        self.host = host
        self.port = port
        self.queries = 0
        # Fault switches, set by the DNS fault layer for a window and cleared by its heal.
        self.servfail = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._read_queries: dict[bytes, dns.message.Message] = {}  # see _read

    # ------------------------------------------------------------------ life cycle

    def start(self) -> EmbeddedResponder:
        for _attempt in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                udp.bind((self.host, self.port))
                port = udp.getsockname()[1]
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                if self.port:  # a fixed port (a restart) that is taken: nothing to retry
                    raise
                continue
            tcp.listen(16)
            udp.settimeout(POLL)
            tcp.settimeout(POLL)
            self.port, self._udp, self._tcp = port, udp, tcp
            break
        else:
            raise OSError(f"embedded DNS responder: no free UDP+TCP port on {self.host}")
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._serve_udp, name="dns-embedded-udp", daemon=True),
            threading.Thread(target=self._serve_tcp, name="dns-embedded-tcp", daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2 * POLL + 1)
        self._threads = []
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    def restart(self) -> None:
        """Start again on the same port (after ``stop``, e.g. a server-down fault healing)."""
        self.stop()
        self.start()

    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    def __enter__(self) -> EmbeddedResponder:
        return self if self.running() else self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def answer_wire(self, wire: bytes, max_size: int = 65535) -> bytes | None:
        query = self._read(wire)
        if query is None:
            return None  # not DNS: a server drops it
        if query.flags & dns.flags.QR:
            return None  # a response sent to us: answering it could start a loop
        self.queries += 1
        try:
            if self.servfail:
                raise _ServFail
            wire_out = self.dataplane.respond_wire(wire, query, max_size, self._to_wire)
        except Exception:
            # Whatever the zone holds, one bad record must not take the server down:
            # the query gets SERVFAIL, as a real server's would, and serving goes on.
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
            wire_out = self._to_wire(query, response, max_size)
        return wire_out

    def _read(self, wire: bytes) -> dns.message.Message | None:
        """The query in ``wire`` (None: not DNS). A probe asks the same few questions
        thousands of times a run, with a new message id each time: the message read
        from the bytes after the id is kept, and each query gets a copy of it with its
        own id (reading the message cost half of answering it). A signed query is read
        every time (its signature covers the id)."""
        asked = wire[2:]
        kept = self._read_queries.get(asked)
        if kept is None:
            try:
                query = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                return None
            if not query.had_tsig:
                if len(self._read_queries) >= MAX_READ:
                    self._read_queries.clear()
                self._read_queries[asked] = query
            return query
        query = copy.copy(kept)  # the sections are shared, and only read
        query.id = int.from_bytes(wire[:2], "big")
        return query

    @staticmethod
    def _to_wire(query: dns.message.Message, response: dns.message.Message, max_size: int) -> bytes:
        if query.edns >= 0 and max_size == 512:
            max_size = min(UDP_PAYLOAD, max(512, query.payload))
        try:
            return response.to_wire(max_size=max_size)
        except dns.exception.TooBig:
            response.answer.clear()
            response.authority.clear()
            response.flags |= dns.flags.TC
            return response.to_wire()

    def _serve_udp(self) -> None:
        sock = self._udp
        assert sock is not None
        while not self._stop.is_set():
            try:
                wire, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer_wire(wire, max_size=512)
            if reply is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        sock = self._tcp
        assert sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                with contextlib.suppress(OSError, struct.error):
                    while True:
                        head = _read_exact(conn, 2)
                        if head is None:
                            break
                        wire = _read_exact(conn, struct.unpack("!H", head)[0])
                        if wire is None:
                            break
                        reply = self.answer_wire(wire)
                        if reply is None:
                            break
                        conn.sendall(struct.pack("!H", len(reply)) + reply)


def _read_exact(conn: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
