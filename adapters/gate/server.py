"""The gate's listener: a loopback HTTP server whose requests wait until an actor answers.

A separate process sends its AWS requests here (its SDK's endpoint setting points at
:attr:`Gate.url`). The listener answers nothing by itself and sends nothing on: each
request becomes a :class:`Held` in a queue, and the connection that sent it waits until
the actor that owns the gate takes it (when the scheduler picks that actor), answers it
through the run's own in-process target, or drops it (a lost answer). The process's
exit is queued the same way (:meth:`Gate.watch`), so the actor waits for exactly one
thing at a time: the process's next request or its end.

The listener binds 127.0.0.1 and refuses any peer that is not on loopback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

HOST: Final = "127.0.0.1"
# Paths the gate's own helpers in the process use (a virtual sleep); no AWS API has them.
CONTROL: Final = "/__dnschaos__/"
SLEEP: Final = CONTROL + "sleep"
# Answer headers that describe the connection, not the answer: the gate sets its own.
_HOP: Final = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


@dataclass
class Held:
    """One request the process sent, held until :meth:`answer` or :meth:`drop`."""

    method: str
    target: str  # path and query
    headers: dict[str, str]
    body: bytes
    _done: threading.Event = field(default_factory=threading.Event)
    _answer: tuple[int, list[tuple[str, str]], bytes] | None = None

    @property
    def control(self) -> bool:
        return self.target.startswith(CONTROL)

    def answer(self, status: int, headers: Any, body: bytes) -> None:
        pairs = [(str(k), str(v)) for k, v in dict(headers).items() if k.lower() not in _HOP]
        self._answer = (status, pairs, body)
        self._done.set()

    def drop(self) -> None:
        """No answer: the connection closes, as when a response is lost on the way."""
        self._done.set()


@dataclass(frozen=True)
class Exited:
    """The process ended with ``code`` (negative: killed by that signal)."""

    code: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gate: Gate


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SDKs expect
    # Headers and body go out in two writes: with Nagle's algorithm the second waits for
    # the client's delayed ACK, some 40 ms a request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # the history records requests; stderr stays the harness's

    def _serve(self) -> None:
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self.close_connection = True
            return
        body = self._body()
        held = Held(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
        if not self.server.gate.hold(held):
            self.close_connection = True
            return
        held._done.wait()
        if held._answer is None:
            self.close_connection = True
            return
        status, headers, payload = held._answer
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve


class Gate:
    """One process's gate: :attr:`url` for its endpoint, :meth:`next` for the actor."""

    def __init__(self) -> None:
        self._events: queue.Queue[Held | Exited] = queue.Queue()
        self._held: list[Held] = []
        self._lock = threading.Lock()
        self._closed = False
        self._server = _Server((HOST, 0), _Handler)
        self._server.gate = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dnschaos-gate", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def hold(self, held: Held) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._held = [h for h in self._held if not h._done.is_set()]
            self._held.append(held)
        self._events.put(held)
        return True

    def watch(self, proc: subprocess.Popen[bytes]) -> None:
        """Queue the process's end when it comes."""

        def wait() -> None:
            self._events.put(Exited(proc.wait()))

        threading.Thread(target=wait, name="dnschaos-gate-wait", daemon=True).start()

    def next(self, timeout: float) -> Held | Exited | None:
        """The process's next request or its end, or None if neither came within
        ``timeout`` wall seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stop listening; every request still held loses its answer."""
        with self._lock:
            self._closed = True
            held, self._held = self._held, []
        for h in held:
            h.drop()
        with contextlib.suppress(OSError):
            self._server.shutdown()
            self._server.server_close()


__all__ = ["CONTROL", "HOST", "SLEEP", "Exited", "Gate", "Held"]
