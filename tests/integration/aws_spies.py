"""Servers an attacker would point --target aws at, on loopback, each counting what reaches it.

* :class:`Counting`: passes every request on to a moto server and records the AWS operation
  of each (from ``X-Amz-Target``, the ``Action`` of a query request, or Route 53's REST
  routes in botocore's own model), so a test can say "0 create calls" of any server.
* :class:`Forging`: an HTTPS proxy that answers ``CONNECT`` for any host with a certificate
  of its own authority, and, to a client that trusts that authority, says the caller is the
  allowed account. It shows that a proxy plus a certificate bundle could forge the account
  check, and that --target aws does not let it.
"""

from __future__ import annotations

import datetime
import http.client
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ALLOWED = "123456789012"  # the account the forged answers name (the allow-listed one)
# Operations that make or change something, and those that remove something.
_CHANGES = frozenset(
    {
        "ChangeResourceRecordSets",
        "ChangeTagsForResource",
        "PutItem",
        "UpdateItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TagResource",
    }
)


def is_create(op: str) -> bool:
    return op.startswith("Create") or op in _CHANGES


def is_delete(op: str) -> bool:
    return op.startswith("Delete")


@cache
def _rest_routes() -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path pattern, operation) of every Route 53 operation, most literal first."""
    from dnschaos.adapters.aws.target import _hermetic_botocore_session

    model = _hermetic_botocore_session("us-east-1").get_service_model("route53")
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = str(http["requestUri"]).split("?")[0].rstrip("/")
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri))
        routes.append((str(http["method"]), re.compile(f"{pattern}/?"), name))
    return sorted(routes, key=lambda r: -len(re.sub(r"\[\^/\]\+", "", r[1].pattern)))


def operation(method: str, path: str, headers: Any, body: bytes) -> str:
    """The AWS operation a request asks for."""
    target = headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    parts = urlsplit(path)
    form = parse_qs(body.decode(errors="replace")) if body else {}
    action = (form.get("Action") or parse_qs(parts.query).get("Action") or [""])[0]
    if action:
        return action
    for verb, pattern, name in _rest_routes():
        if verb == method and pattern.fullmatch(parts.path):
            return name
    return f"{method} {parts.path}"


@dataclass
class Counting:
    """A loopback server in front of ``backend`` (a moto server) that counts operations."""

    name: str
    backend: str
    url: str = ""
    calls: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        spy = self
        backend = urlsplit(self.backend)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                op = operation(self.command, self.path, self.headers, body)
                if not self.path.startswith("/dnschaos/") and not self.path.startswith("/moto"):
                    with spy._lock:
                        spy.calls.append(op)
                conn = http.client.HTTPConnection(backend.hostname, backend.port, timeout=60)
                skip = {"host", "connection", "content-length", "transfer-encoding"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in skip:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def counting(name: str, backend: str) -> Iterator[Counting]:
    spy = Counting(name, backend)
    with serving(spy.handler()) as url:
        spy.url = url
        yield spy


# ---------------------------------------------------------------- the forging proxy


def _authority(directory: Path) -> tuple[Path, Any, Any]:
    """A certificate authority of the attacker's: its certificate file, key and name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Not Amazon Root CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / "forging-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def _leaf(directory: Path, host: str, ca_key: Any, ca_cert: Any) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file = directory / f"leaf-{host}.pem"
    key_file = directory / f"leaf-{host}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


_IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    "<GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/forged</Arn>"
    "<UserId>AIDAFORGED</UserId><Account>{account}</Account></GetCallerIdentityResult>"
    "<ResponseMetadata><RequestId>forged</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)


@dataclass
class Forging:
    """An HTTPS proxy that impersonates every host it is asked to tunnel to."""

    directory: Path
    url: str = ""
    ca_file: Path = Path()
    tunnels: list[str] = field(default_factory=list)  # hosts asked for with CONNECT
    refused_handshakes: int = 0  # clients that did not trust the forged certificate
    calls: list[str] = field(default_factory=list)  # operations decoded inside a tunnel
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        spy = self
        ca_path, ca_key, ca_cert = _authority(self.directory)
        self.ca_file = ca_path
        contexts: dict[str, ssl.SSLContext] = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_CONNECT(self) -> None:
                host = self.path.rsplit(":", 1)[0]
                with spy._lock:
                    spy.tunnels.append(host)
                    if host not in contexts:
                        contexts[host] = _leaf(spy.directory, host, ca_key, ca_cert)
                self.send_response(200, "Connection established")
                self.end_headers()
                try:
                    tls = contexts[host].wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError):
                    with spy._lock:
                        spy.refused_handshakes += 1
                    self.close_connection = True
                    return
                self._answer(tls)
                self.close_connection = True

            def _answer(self, tls: socket.socket) -> None:
                stream = tls.makefile("rb")
                request_line = stream.readline().decode(errors="replace").split()
                headers: dict[str, str] = {}
                while True:
                    line = stream.readline().decode(errors="replace").strip()
                    if not line:
                        break
                    key, _, value = line.partition(":")
                    headers[key.strip()] = value.strip()
                length = int(headers.get("Content-Length") or 0)
                body = stream.read(length) if length else b""
                method, path = [*request_line, "", ""][:2]
                op = operation(method, path, headers, body)
                with spy._lock:
                    spy.calls.append(op)
                if op == "GetCallerIdentity":
                    status, data = "200 OK", _IDENTITY.format(account=ALLOWED).encode()
                else:
                    status, data = "500 Internal Server Error", b"<Error/>"
                tls.sendall(
                    f"HTTP/1.1 {status}\r\nContent-Type: text/xml\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                    + data
                )
                tls.close()

        return Handler


@contextmanager
def forging(directory: Path) -> Iterator[Forging]:
    spy = Forging(directory)
    with serving(spy.handler()) as url:
        spy.url = url
        yield spy
