"""A moto server on loopback that follows Route 53's semantics: the ``moto-server`` target.

Run it on its own (``python -m dnschaos.adapters.aws.moto_server --port 0``) or from Python
with :func:`moto_server`. It installs the strict Route 53 layer (on wall time:
a separate process cannot share a virtual clock), serialises requests because
moto's backends take no lock, prints ``READY <url>`` once it accepts requests,
and exits when its parent dies, so a killed test run leaves no server behind.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dnschaos.errors import UsageError

READY = "READY"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: ask the kernel to SIGTERM us when the parent process exits."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the parent's context manager still stops us


def _require_server_extra() -> None:
    from dnschaos.extras import require

    require("server", "the moto server (the moto-server target)")


def _loopback(host: str) -> str:
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        if host == "localhost":
            return host
    raise SystemExit(
        f"--host {host}: the moto server listens on loopback only (127.0.0.0/8 or ::1)"
    )


def serve(host: str, port: int, propagation_delay: float, standin_token: str | None = None) -> None:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from dnschaos.adapters.aws.target import prepare_moto
    from dnschaos.adapters.route53 import models as route53_strict
    from dnschaos.sim.clock import SystemClock

    prepare_moto()  # moto's own region and model lookups read no AWS configuration
    route53_strict.install(SystemClock(), propagation_delay)
    dispatcher = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    proof = None
    if standin_token is not None:
        from dnschaos.adapters.aws.real import STANDIN_PATH, standin_digest, write_standin_token

        proof = (STANDIN_PATH, standin_digest(write_standin_token(standin_token)).encode())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if proof is not None and environ.get("PATH_INFO") == proof[0]:
            # The rehearsal's proof that this server is the stand-in its token file names.
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [proof[1]]
        # moto's backends are not thread-safe; one request at a time, body included.
        with lock:
            return list(dispatcher(environ, start_response))

    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    bound_port = server.server_address[1]
    print(f"{READY} http://{host}:{bound_port}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m dnschaos.adapters.aws.moto_server", description=__doc__
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    p.add_argument(
        "--propagation-delay",
        type=float,
        default=0.0,
        help="seconds a change stays PENDING (default 0)",
    )
    p.add_argument(
        "--standin-token",
        metavar="FILE",
        help="tests only: write a fresh secret to FILE (mode 0600) so this server may stand "
        "in for AWS in the --target aws rehearsal (see README)",
    )
    args = p.parse_args(argv)
    if args.propagation_delay < 0:
        p.error(f"--propagation-delay {args.propagation_delay}: must be >= 0")
    try:
        _require_server_extra()
    except UsageError as exc:
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    _die_with_parent()
    serve(_loopback(args.host), args.port, args.propagation_delay, args.standin_token)
    return 0


@contextmanager
def moto_server(
    propagation_delay: float = 0.0, timeout: float = 60.0, standin_token: str | None = None
) -> Iterator[str]:
    """Start a strict moto server in a child process; yields its endpoint URL. With
    ``standin_token`` (a file path) it may stand in for AWS in the rehearsal."""
    _require_server_extra()
    cmd = [
        sys.executable,
        "-m",
        "dnschaos.adapters.aws.moto_server",
        "--port",
        "0",
        "--propagation-delay",
        str(propagation_delay),
        *(["--standin-token", standin_token] if standin_token else []),
    ]
    env = {**_server_environment(os.environ), "PYTHONUNBUFFERED": "1"}
    # The server logs every request: a pipe nobody reads fills up and blocks it, so the
    # log goes to a file (quoted when the server fails to start) and stdout is drained.
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        try:
            url = _wait_ready(proc, timeout, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# Left out of the server's environment: AWS_* (the server is a moto target and reads
# no AWS configuration either) and moto's switches to another account or to
# server or proxy mode, which would change what it answers.
_MOTO_SWITCHES = frozenset({"MOTO_ACCOUNT_ID", "TEST_SERVER_MODE", "TEST_PROXY_MODE"})


def _server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in environ.items()
        if not key.startswith("AWS_") and key not in _MOTO_SWITCHES
    }


def _wait_ready(proc: subprocess.Popen[str], timeout: float, log: Any) -> str:
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # keeps reading after READY, so stdout never fills
            if not found and line.startswith(READY):
                found.append(line.split()[1])
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout):
        proc.kill()
        log.seek(0)
        raise RuntimeError(
            f"moto server did not report {READY} within {timeout:.0f}s; its log:\n{log.read()[-2000:]}"
        )
    return found[0]


def reset(url: str, seed: int) -> None:
    """Fresh state for a run, and moto's ids seeded like in-process runs."""
    import urllib.error
    import urllib.request

    # No proxy handler: HTTP_PROXY and friends must not send a loopback request elsewhere.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path in ("/moto-api/reset", f"/moto-api/seed?a={seed}"):
        req = urllib.request.Request(url.rstrip("/") + path, data=b"", method="POST")
        try:
            with opener.open(req, timeout=30) as resp:
                resp.read()
        except (urllib.error.URLError, OSError) as exc:
            raise _unreachable(url, exc) from None


def check_reachable(url: str, timeout: float = 3.0) -> None:
    """Refuse an endpoint URL nothing answers at, before a run starts (exit 2)."""
    import socket
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            pass
    except OSError as exc:
        raise _unreachable(url, exc) from None


def _unreachable(url: str, exc: BaseException) -> Exception:
    from dnschaos.extras import missing

    reason = getattr(exc, "reason", None) or exc
    extra = " (install it first: pip install 'dnschaos[server]')" if missing("server") else ""
    return UsageError(
        f"--endpoint-url {url}: no moto server answers there ({reason}); start one with "
        f"'python -m dnschaos.adapters.aws.moto_server'{extra} and pass the URL it prints"
    )


def http_deliver(request: Any) -> Any:
    """Send a prepared request to a server for real (a fault's "response lost")."""
    from botocore.httpsession import URLLib3Session

    return URLLib3Session().send(request)


if __name__ == "__main__":
    sys.exit(main())
