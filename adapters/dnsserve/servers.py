"""Real DNS servers on loopback: BIND 9 and Knot as authoritative servers, Unbound as a cache.

Every start gets a fresh directory holding the generated configuration, the zone
files, the journals and one log file (the process's stdout and stderr), and free
ports on 127.0.0.1. A start returns only once the server answers, so a caller can
query it straight away:

    tsig = Tsig.generate(random.Random(7))
    with start_authoritative("bind9", [ZoneSpec("chaos.test.")], tsig) as auth:
        with start_unbound(["chaos.test."], (auth.host, auth.port)) as cache:
            ...

The servers die with the Python process that started them (see
:func:`_die_with_parent`) and an ``atexit`` hook stops any still running, so a
killed or crashed test run leaves no process behind.

A server's directory lives as long as its handle: :meth:`ServerHandle.stop` keeps
it (a restart needs the journal), :meth:`ServerHandle.close` (or leaving the
``with`` block) removes it, and so do dropping the handle and the end of the
process. A directory is named ``dnschaos-<kind>-<pid>-XXXXXXXX`` after the
process that made it, and every start removes the ones whose process is gone, so
a run killed with SIGKILL leaves its directories only until the next start.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextlib
import ctypes
import functools
import ipaddress
import math
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig

AUTHORITATIVE: Final = ("bind9", "knot")
KINDS: Final = (*AUTHORITATIVE, "unbound")
HOST: Final = "127.0.0.1"

# kind -> (program, Debian package that ships it)
_PROGRAMS: Final = {
    "bind9": ("named", "bind9"),
    "knot": ("knotd", "knot"),
    "unbound": ("unbound", "unbound"),
}
# Daemons live in sbin, which is often missing from a non-root user's PATH.
_SBIN_DIRS: Final = ("/usr/sbin", "/usr/local/sbin", "/sbin")

# Secret length per algorithm: the digest size, as RFC 4635 recommends.
_TSIG_ALGORITHMS: Final = {
    "hmac-sha1": 20,
    "hmac-sha224": 28,
    "hmac-sha256": 32,
    "hmac-sha384": 48,
    "hmac-sha512": 64,
}
# Names end up quoted in BIND's and Knot's configuration files, so only
# host-name characters (plus "_" for service labels) are let through.
_SAFE_NAME: Final = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+$")

_LOG_NAME: Final = "server.log"
_TAIL_LINES: Final = 20
_START_ATTEMPTS: Final = 3
_STOP_GRACE: Final = 5.0
_PROBE_TIMEOUT: Final = 0.1
_POLL_INTERVAL: Final = 0.05
# What the servers log when another process holds their port. Seen in the log
# before the process exits (or while it keeps running without the socket), it
# means: try again on another port rather than wait for answers.
_PORT_BUSY: Final = re.compile(
    r"address (?:already )?in use|unable to listen on any configured interfaces",
    re.IGNORECASE,
)


class DnsServerError(Exception):
    """A DNS server could not be found, started or made to answer."""


def _log_tail(log_path: Path, offset: int = 0, lines: int = _TAIL_LINES) -> str:
    try:
        with log_path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return "(no log yet: the server was not started)"
    except OSError as exc:
        return f"(log unreadable: {exc})"
    text = data.decode("utf-8", "replace").rstrip("\n")
    if not text:
        return "(log is empty)"
    return "\n".join(text.splitlines()[-lines:])


def _failure(
    kind: str, binary: str, reason: str, log_path: Path, offset: int = 0
) -> DnsServerError:
    return DnsServerError(
        f"{kind} ({binary}): {reason}; log {log_path}, last lines:\n{_log_tail(log_path, offset)}"
    )


def find_binary(kind: str) -> str:
    """The path of the server program for ``kind``; DnsServerError names the package if absent."""
    try:
        program, package = _PROGRAMS[kind]
    except KeyError:
        raise ValueError(f"unknown DNS server kind {kind!r}; expected one of {KINDS}") from None
    found = shutil.which(program)
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = os.path.join(directory, program)
        if os.access(candidate, os.X_OK):
            return candidate
    raise DnsServerError(
        f"{kind}: program {program!r} not found on PATH nor in {', '.join(_SBIN_DIRS)}; "
        f"install the Debian package {package!r} (apt-get install {package}, "
        f"or `make dns-servers`)"
    )


# kind -> the flag that makes its program print its version
_VERSION_FLAGS: Final = {"bind9": "-v", "knot": "--version", "unbound": "-V"}


@functools.cache
def server_version(kind: str) -> str:
    """The version line of ``kind``'s program (``BIND 9.18.28-...``, ``knotd (Knot DNS),
    version 3.2.6``, ``Version 1.17.1``), or why it could not be read."""
    try:
        binary = find_binary(kind)
        done = subprocess.run(
            [binary, _VERSION_FLAGS[kind]], capture_output=True, text=True, timeout=10
        )
    except (DnsServerError, OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})".splitlines()[0]
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else f"unknown (exit {done.returncode})"


def free_port() -> int:
    """A port on 127.0.0.1 that is free for both UDP and TCP right now.

    Another process may still take it before the server binds it; the starters
    notice that and retry with a new port.
    """
    for _ in range(64):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((HOST, 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((HOST, port))
                except OSError:
                    continue
                return port
    raise DnsServerError("free_port: no port on 127.0.0.1 free for both UDP and TCP")


def _check_name(what: str, text: str) -> str:
    if text != "." and not _SAFE_NAME.match(text):
        raise ValueError(
            f"{what} {text!r}: must be an absolute domain name (ending in '.') "
            f"made of letters, digits, '-' and '_'"
        )
    dns.name.from_text(text)  # label and name length limits
    return text


@dataclass(frozen=True)
class Tsig:
    """A TSIG key (RFC 8945) shared by the authoritative server and whoever updates it."""

    secret: str  # base64
    name: str = "dnschaos-update."
    algorithm: str = "hmac-sha256"

    def __post_init__(self) -> None:
        _check_name("TSIG key name", self.name)
        if self.name == ".":
            raise ValueError("TSIG key name: the root name is not a usable key name")
        if self.algorithm not in _TSIG_ALGORITHMS:
            raise ValueError(
                f"TSIG algorithm {self.algorithm!r}: expected one of {sorted(_TSIG_ALGORITHMS)}"
            )
        try:
            raw = base64.b64decode(self.secret, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("TSIG secret: not valid base64") from None
        if not raw:
            raise ValueError("TSIG secret: empty")

    @classmethod
    def generate(
        cls,
        rng: random.Random,
        *,
        name: str = "dnschaos-update.",
        algorithm: str = "hmac-sha256",
    ) -> Tsig:
        """A key with a secret drawn from ``rng``: reproducible under a seed, never for real use."""
        size = _TSIG_ALGORITHMS.get(algorithm, 32)
        return cls(base64.b64encode(rng.randbytes(size)).decode("ascii"), name, algorithm)

    @property
    def keyname(self) -> dns.name.Name:
        return dns.name.from_text(self.name)

    @property
    def keyalgorithm(self) -> dns.name.Name:
        return dns.name.from_text(self.algorithm)

    def keyring(self) -> dict[dns.name.Name, dns.tsig.Key]:
        """For ``dns.update.Update(zone, keyring=..., keyname=..., keyalgorithm=...)``."""
        return {self.keyname: dns.tsig.Key(self.keyname, self.secret, self.keyalgorithm)}

    # Tsig.random(rng) reads naturally at call sites; kept last in the class body
    # so the name does not hide the random module from the annotations above.
    random = generate


@dataclass(frozen=True)
class ZoneSpec:
    """A zone an authoritative server starts with: SOA, NS and the NS's address only."""

    origin: str
    soa_ttl: int = 5
    # The SOA MINIMUM field; resolvers cache NXDOMAIN and NODATA for
    # min(SOA TTL, MINIMUM) (RFC 2308 section 5).
    negative_ttl: int = 5
    # Empty means ns1.<origin>, which gets an A record 127.0.0.1 in the zone.
    ns: str = ""

    def __post_init__(self) -> None:
        _check_name("zone origin", self.origin)
        if self.origin == ".":
            raise ValueError("zone origin: the root zone is not supported")
        for field, value in (("soa_ttl", self.soa_ttl), ("negative_ttl", self.negative_ttl)):
            if not 0 <= value <= 2**31 - 1:
                raise ValueError(f"{self.origin}: {field} {value} out of range 0..2^31-1")
        if not self.ns:
            object.__setattr__(self, "ns", f"ns1.{self.origin}")
        _check_name("NS name", self.ns)

    @property
    def ns_in_zone(self) -> bool:
        return dns.name.from_text(self.ns).is_subdomain(dns.name.from_text(self.origin))

    def zone_file(self) -> str:
        """Master-file text both BIND and Knot load."""
        lines = [
            f"$ORIGIN {self.origin}",
            f"$TTL {self.soa_ttl}",
            # refresh/retry/expire only matter to secondaries, of which there are none.
            f"@ {self.soa_ttl} IN SOA {self.ns} hostmaster.{self.origin} "
            f"1 3600 600 86400 {self.negative_ttl}",
            f"@ {self.soa_ttl} IN NS {self.ns}",
        ]
        if self.ns_in_zone:
            lines.append(f"{self.ns} {self.soa_ttl} IN A {HOST}")
        return "\n".join(lines) + "\n"


# --- process lifetime ---------------------------------------------------------------

_PR_SET_PDEATHSIG: Final = 1


def _find_prctl() -> Callable[..., int] | None:
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: atexit and stop() still clean up
    return prctl


# Looked up once, here: between fork and exec only the call itself is safe, since
# loading a library there could wait on a lock another thread held at the fork.
_prctl: Final = _find_prctl()
_live: set[ServerHandle] = set()
# Every handle whose directory is not removed yet, running or not.
_open: weakref.WeakSet[ServerHandle] = weakref.WeakSet()
_live_lock = threading.Lock()


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL it when its parent goes away.

    The kernel ties PR_SET_PDEATHSIG to the *thread* that forked, not to the
    process: a server forked by a thread that later exits is killed right then.
    So every server is forked by :data:`_forker`'s thread, which lives as long as
    the process; a caller may start and restart servers from any thread.
    """
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


class _SpawnJob:
    def __init__(self, spawn: Callable[[], subprocess.Popen[bytes]]) -> None:
        self.spawn = spawn
        self.done = threading.Event()
        self.result: subprocess.Popen[bytes] | None = None
        self.error: BaseException | None = None


class _Forker:
    """Forks every server from one daemon thread that is never joined.

    Callers' threads come and go (a fault injector's worker restarting a server,
    a test's helper thread); this one only ends with the process, so the
    parent-death signal means what it says: the Python process is gone.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_SpawnJob] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, spawn: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="dnschaos-server-forker", daemon=True
                )
                self._thread.start()
        job = _SpawnJob(spawn)
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job.result = job.spawn()
            except BaseException as exc:  # handed to the waiting caller
                job.error = exc
            finally:
                job.done.set()
            # The job's closure refers to the server's handle; held here until the
            # next start, it would keep a dropped handle (and its directory) alive.
            del job


_forker: Final = _Forker()


@atexit.register
def _stop_all() -> None:
    with _live_lock:
        handles = [*_live, *_open]
    for handle in handles:
        with contextlib.suppress(Exception):
            handle.close()


# --- server directories -------------------------------------------------------------

# dnschaos-<kind>-<pid>-<mkdtemp's suffix>. Kept short: Knot's control socket lives in
# the directory, and a Unix socket path holds at most 107 bytes.
# A process actor's folder (dnschaos.adapters.gate.process) is made and swept the same way.
_DIRECTORY_NAME: Final = re.compile(
    r"^dnschaos-(?:bind9|knot|unbound|process)-(\d+)-[A-Za-z0-9_]+$"
)
# "<pid> <start time>" of the process that made the directory: a pid alone could
# have been reused by an unrelated process since.
_OWNER_FILE: Final = "owner"
_UNKNOWN_START: Final = "-"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _start_time(pid: int) -> str | None:
    """When ``pid`` started (Linux: clock ticks after boot); "-" if unknown; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if os.path.exists("/proc/self/stat"):
            return None
        return _UNKNOWN_START if _pid_exists(pid) else None  # no /proc on this system
    except OSError:
        return _UNKNOWN_START
    # The command name is in parentheses and may hold anything; after it come
    # the state (field 3) and, 19 fields on, the start time (field 22).
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in {"Z", "X", "x"}:
        return None  # exited, not yet reaped
    return fields[19]


def _owner_alive(directory: Path, pid: int) -> bool:
    started = _start_time(pid)
    if started is None:
        return False
    try:
        owner_pid, owner_started = (directory / _OWNER_FILE).read_text().split()
    except (OSError, ValueError):
        # No owner file yet: its live process is between mkdtemp and writing it.
        return True
    if owner_pid != str(pid):
        return True  # not a directory of ours after all; leave it
    return _UNKNOWN_START in (owner_started, started) or owner_started == started


def _sweep(parent: Path) -> None:
    """Remove the server directories in ``parent`` whose process is gone (a killed run's)."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        match = _DIRECTORY_NAME.match(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        directory = Path(entry.path)
        if not _owner_alive(directory, int(match.group(1))):
            _remove_stale_faketime(directory)
            _remove_directory(directory)


def _remove_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def _removed_on_failure(directory: Path) -> Iterator[None]:
    """A start that fails leaves no directory behind; its error quotes the log's last lines."""
    try:
        yield
    except BaseException as exc:
        _remove_directory(directory)
        exc.add_note(f"{directory} is removed")
        raise


# A Unix socket path holds at most 107 bytes; Knot's control socket is
# <directory>/knot.sock, and the directory's own name takes up to ~40 of them.
_SOCKET_PATH_MAX: Final = 107
_KNOT_NAME_ROOM: Final = 45


def _fresh_directory(kind: str, workdir: Path | None) -> Path:
    """A new directory for a server, in ``workdir`` or the temporary folder, swept first.

    A parent too deep for Knot's control socket (a test's tmp_path, a long TMPDIR)
    gives way to a short one: Knot would otherwise exit at start with "not enough
    space provided" for the socket's path.
    """
    parent = Path(tempfile.gettempdir()) if workdir is None else workdir
    if parent.is_dir():
        _sweep(parent)  # also when the new directory goes elsewhere (below)
    if kind == "knot" and len(str(parent.resolve())) + _KNOT_NAME_ROOM > _SOCKET_PATH_MAX:
        shorter = Path(tempfile.gettempdir()).resolve()
        if len(str(shorter)) + _KNOT_NAME_ROOM > _SOCKET_PATH_MAX:
            shorter = Path("/tmp")
        parent = shorter
    parent.mkdir(parents=True, exist_ok=True)
    _sweep(parent)
    pid = os.getpid()
    directory = Path(tempfile.mkdtemp(prefix=f"dnschaos-{kind}-{pid}-", dir=parent)).resolve()
    (directory / _OWNER_FILE).write_text(f"{pid} {_start_time(pid) or _UNKNOWN_START}\n")
    return directory


class _PortBusy(Exception):
    pass


# A readiness check: None when the server answers as wanted, else why not.
_Probe = Callable[[int], str | None]


class ServerHandle:
    """One server process in its directory, on its port; restartable in place."""

    def __init__(
        self,
        *,
        kind: str,
        binary: str,
        argv: Sequence[str],
        directory: Path,
        port: int,
        probe: _Probe,
        timeout: float,
        host: str = HOST,
        faked: FakedClock | None = None,
    ) -> None:
        self.kind = kind
        self.binary = binary
        self.host = host
        self.port = port
        self.directory = directory
        self.log_path = directory / _LOG_NAME
        self.timeout = timeout
        self._argv = tuple(argv)
        self._probe = probe
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._remove: weakref.finalize[[Path], ServerHandle] | None = None
        # Set when the server runs under libfaketime: its clock stands where this says.
        self.faked = faked

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running() else "stopped"
        return f"<ServerHandle {self.kind} {self.host}:{self.port} {state} {self.directory}>"

    @property
    def pid(self) -> int | None:
        """The process id while the process exists (not yet reaped), else None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; always reaps. Safe to call again.

        The directory stays, so that :meth:`restart` finds the zone and its journal.
        """
        with self._lock:
            proc = self._proc
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    proc.wait(timeout=_STOP_GRACE)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    proc.wait()
                if self.faked is not None:
                    _remove_faketime_shm(proc.pid)
            with _live_lock:
                _live.discard(self)

    def close(self) -> None:
        """Stop for good and remove the server's directory, log included. Safe to call again."""
        with self._lock:
            self.stop()
            self._closed = True
            # Called, not through the finalizer: finalizers do nothing once the
            # interpreter has begun to exit, which is when _stop_all closes handles.
            if self._remove is not None and self._remove.detach() is not None:
                _remove_directory(self.directory)
            with _live_lock:
                _open.discard(self)

    def _own_directory(self) -> None:
        """Remove the directory when this handle is closed or dropped (or at exit, see _stop_all)."""
        self._remove = weakref.finalize(self, _remove_directory, self.directory)
        # At exit _stop_all closes every open handle: the server stops, then its directory goes.
        self._remove.atexit = False
        with _live_lock:
            _open.add(self)

    def restart(self, timeout: float | None = None) -> None:
        """Stop if running, then start again on the same port and directory and wait for answers."""
        with self._lock:
            if self._closed:
                raise DnsServerError(
                    f"{self.kind} on {self.host}:{self.port}: closed, its directory is removed; "
                    "start a new server instead"
                )
            self.stop()
            try:
                self._start(time.monotonic() + (self.timeout if timeout is None else timeout))
            except _PortBusy:
                raise _failure(
                    self.kind,
                    self.binary,
                    f"port {self.port} was taken by another process while the server was down",
                    self.log_path,
                ) from None

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self, deadline: float) -> None:
        """Spawn and wait until the probe passes; on any failure the process is gone."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:

            def spawn() -> subprocess.Popen[bytes]:
                return subprocess.Popen(
                    self._argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    env=None if self.faked is None else self.faked.environment(),
                    close_fds=True,
                    # Own session: a Ctrl-C on the terminal reaches the Python process
                    # first, which then stops the servers in order.
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )

            try:
                self._proc = _forker.popen(spawn)
            except OSError as exc:
                raise _failure(
                    self.kind, self.binary, f"cannot execute: {exc}", self.log_path
                ) from exc
        if self.faked is not None:
            (self.directory / _FAKETIME_PID_FILE).write_text(f"{self._proc.pid}\n")
        with _live_lock:
            _live.add(self)
        try:
            self._wait_ready(deadline, offset)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, deadline: float, offset: int) -> None:
        assert self._proc is not None
        why = "no answer yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                if _PORT_BUSY.search(_log_tail(self.log_path, offset, lines=200)):
                    raise _PortBusy
                raise _failure(
                    self.kind, self.binary, f"exited with status {code}", self.log_path, offset
                )
            if _PORT_BUSY.search(_log_tail(self.log_path, offset, lines=200)):
                raise _PortBusy
            # The deadline is checked before the probe: a server that answers only after
            # its time is up has not started in time (and a zero timeout always fails).
            late = time.monotonic() >= deadline
            answer = None if late else self._probe(self.port)
            if answer is None and not late:
                return
            why = answer or why
            if late:
                raise _failure(
                    self.kind,
                    self.binary,
                    f"not answering on {self.host}:{self.port} in time ({why})",
                    self.log_path,
                    offset,
                )
            time.sleep(_POLL_INTERVAL)


def _soa_probe(names: Sequence[str], *, authoritative: bool) -> _Probe:
    """Passes once every name's SOA is answered NOERROR over UDP (with AA if authoritative)."""

    def probe(port: int) -> str | None:
        for name in names:
            query = dns.message.make_query(name, dns.rdatatype.SOA)
            if not authoritative:
                query.flags |= dns.flags.RD
            try:
                reply = dns.query.udp(query, HOST, port=port, timeout=_PROBE_TIMEOUT)
            except (dns.exception.DNSException, OSError) as exc:
                return f"SOA {name}: {type(exc).__name__}"
            rcode = reply.rcode()
            if rcode != dns.rcode.NOERROR:
                return f"SOA {name}: {dns.rcode.to_text(rcode)}"
            if authoritative and not reply.flags & dns.flags.AA:
                return f"SOA {name}: answer not authoritative"
            if not any(rrset.rdtype == dns.rdatatype.SOA for rrset in reply.answer):
                return f"SOA {name}: no SOA in the answer"
        return None

    return probe


def _any_answer_probe(name: str) -> _Probe:
    def probe(port: int) -> str | None:
        query = dns.message.make_query(name, dns.rdatatype.A)
        try:
            dns.query.udp(query, HOST, port=port, timeout=_PROBE_TIMEOUT)
        except (dns.exception.DNSException, OSError) as exc:
            return f"{name}: {type(exc).__name__}"
        return None

    return probe


def _launch(
    kind: str,
    directory: Path,
    timeout: float,
    configure: Callable[[int], tuple[list[str], _Probe]],
    faked: FakedClock | None = None,
) -> ServerHandle:
    """Pick a port, write the configuration for it, start; a new port if that one got taken."""
    binary = find_binary(kind)
    deadline = time.monotonic() + timeout
    for _attempt in range(_START_ATTEMPTS):
        port = free_port()
        args, probe = configure(port)
        handle = ServerHandle(
            kind=kind,
            binary=binary,
            argv=[binary, *args],
            directory=directory,
            port=port,
            probe=probe,
            timeout=timeout,
            faked=faked,
        )
        try:
            handle._start(deadline)
        except _PortBusy:
            continue
        handle._own_directory()
        return handle
    raise _failure(
        kind,
        binary,
        f"every port tried was taken by another process ({_START_ATTEMPTS} attempts)",
        directory / _LOG_NAME,
    )


# --- authoritative servers --------------------------------------------------------


def _q(text: str | Path) -> str:
    """A double-quoted string for named.conf / knot.conf (paths from mkdtemp, checked names)."""
    value = str(text)
    if '"' in value or "\\" in value or "\n" in value:
        raise ValueError(f"cannot quote {value!r} in a server configuration")
    return f'"{value}"'


def _zone_file_name(zone: ZoneSpec) -> str:
    return f"{zone.origin.rstrip('.').lower()}.zone"


def _bind_config(directory: Path, port: int, zones: Sequence[ZoneSpec], tsig: Tsig) -> str:
    zone_blocks = "".join(
        f"zone {_q(zone.origin)} {{\n"
        f"    type primary;\n"
        f"    file {_q(directory / _zone_file_name(zone))};\n"
        f"    allow-update {{ key {_q(tsig.name)}; }};\n"
        f"}};\n"
        for zone in zones
    )
    return (
        f"options {{\n"
        f"    directory {_q(directory)};\n"
        f"    pid-file {_q(directory / 'named.pid')};\n"
        f"    session-keyfile {_q(directory / 'session.key')};\n"
        f"    managed-keys-directory {_q(directory)};\n"
        f"    dump-file {_q(directory / 'named_dump.db')};\n"
        f"    statistics-file {_q(directory / 'named.stats')};\n"
        f"    listen-on port {port} {{ {HOST}; }};\n"
        f"    listen-on-v6 {{ none; }};\n"
        # One socket per port: with SO_REUSEPORT a second server handed the same
        # port by accident would bind too and share the queries silently.
        f"    reuseport no;\n"
        f"    recursion no;\n"
        f"    allow-recursion {{ none; }};\n"
        f"    notify no;\n"
        f"    allow-transfer {{ none; }};\n"
        f"    dnssec-validation no;\n"
        # Keep NS/glue out of positive answers, as Knot does: resolvers in front
        # then learn nothing beyond what was asked.
        f"    minimal-responses yes;\n"
        f"}};\n"
        # No rndc channel: the process is controlled by signals only.
        f"controls {{ }};\n"
        f"key {_q(tsig.name)} {{\n"
        f"    algorithm {tsig.algorithm};\n"
        f"    secret {_q(tsig.secret)};\n"
        f"}};\n"
        f"{zone_blocks}"
    )


def _knot_config(directory: Path, port: int, zones: Sequence[ZoneSpec], tsig: Tsig) -> str:
    zone_entries = "".join(
        f"  - domain: {_q(zone.origin)}\n    file: {_q(_zone_file_name(zone))}\n" for zone in zones
    )
    return (
        f"server:\n"
        f"    rundir: {_q(directory)}\n"
        f"    listen: {HOST}@{port}\n"
        f"    background-workers: 1\n"
        f"    udp-workers: 1\n"
        f"    tcp-workers: 1\n"
        f"log:\n"
        f"  - target: stderr\n"
        f"    any: info\n"
        f"database:\n"
        f"    storage: {_q(directory)}\n"
        f"key:\n"
        f"  - id: {_q(tsig.name)}\n"
        f"    algorithm: {tsig.algorithm}\n"
        f"    secret: {_q(tsig.secret)}\n"
        f"acl:\n"
        f"  - id: update_with_key\n"
        f"    key: {_q(tsig.name)}\n"
        f"    action: update\n"
        f"template:\n"
        f"  - id: default\n"
        f"    storage: {_q(directory)}\n"
        f"    acl: update_with_key\n"
        # Updates live in the journal only; on restart Knot loads the untouched
        # zone file and replays the journal on top of it.
        f"    zonefile-sync: -1\n"
        f"    zonefile-load: whole\n"
        f"    journal-content: changes\n"
        f"    semantic-checks: on\n"
        f"zone:\n"
        f"{zone_entries}"
    )


def start_authoritative(
    kind: str,
    zones: Sequence[ZoneSpec],
    tsig: Tsig,
    *,
    workdir: Path | None = None,
    timeout: float = 15.0,
) -> ServerHandle:
    """An authoritative server ("bind9" or "knot") for ``zones`` on 127.0.0.1.

    Each zone starts with SOA and NS (and the NS's address when it is in the
    zone) and takes RFC 2136 updates signed with ``tsig`` only. No recursion, no
    NOTIFY, no zone transfers, IPv4 loopback only. Returns once every zone's SOA
    is answered authoritatively.
    """
    if kind not in AUTHORITATIVE:
        raise ValueError(
            f"unknown authoritative server kind {kind!r}; expected one of {AUTHORITATIVE}"
        )
    if not zones:
        raise ValueError("start_authoritative: at least one zone is needed")
    origins = [dns.name.from_text(zone.origin) for zone in zones]
    if len(set(origins)) != len(origins):
        raise ValueError(
            f"start_authoritative: duplicate zone origins in {[z.origin for z in zones]}"
        )
    find_binary(kind)
    directory = _fresh_directory(kind, workdir)
    probe = _soa_probe([zone.origin for zone in zones], authoritative=True)

    def configure(port: int) -> tuple[list[str], _Probe]:
        if kind == "bind9":
            conf = directory / "named.conf"
            conf.write_text(_bind_config(directory, port, zones, tsig))
            _precheck(kind, directory, "named-checkconf", str(conf))
            # -g rather than -f: with -f, whatever named says before it has read
            # its logging statement (a port it cannot bind, a bad zone) goes to
            # syslog, which a container does not have; -g sends it all to stderr.
            # -4: no IPv6 sockets at all; -n 1: one worker thread is plenty.
            return ["-g", "-4", "-n", "1", "-c", str(conf)], probe
        conf = directory / "knot.conf"
        conf.write_text(_knot_config(directory, port, zones, tsig))
        _precheck(kind, directory, "knotc", "-c", str(conf), "conf-check")
        return ["-c", str(conf)], probe

    with _removed_on_failure(directory):
        for zone in zones:
            (directory / _zone_file_name(zone)).write_text(zone.zone_file())
        return _launch(kind, directory, timeout, configure)


def _precheck(kind: str, directory: Path, checker: str, *args: str) -> None:
    """Run a configuration checker if it is installed, so a bad config fails with its words."""
    path = shutil.which(checker) or next(
        (
            os.path.join(d, checker)
            for d in (*_SBIN_DIRS, "/usr/bin")
            if os.access(os.path.join(d, checker), os.X_OK)
        ),
        None,
    )
    if path is None:
        return  # the server itself reports the same problems, only less directly
    done = subprocess.run(
        [path, *args],
        capture_output=True,
        text=True,
        cwd=directory,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise _failure(
            kind,
            find_binary(kind),
            f"{checker} rejected the generated configuration in {directory}:\n{output}",
            directory / _LOG_NAME,
        )


# --- libfaketime: a server clock that follows the run's virtual clock ---------------

# The multithreaded build first: it serialises libfaketime's own cached state.
_FAKETIME_LIBRARIES: Final = ("libfaketimeMT.so.1", "libfaketime.so.1")
_FAKETIME_FILE: Final = "faketime.rc"
_FAKETIME_PID_FILE: Final = "faketime.pid"  # the faked server's pid, for the sweep
# Where libfaketime 0.9.10 keeps a semaphore and shared memory per process (later
# versions skip them when FAKETIME_DISABLE_SHM is set); a killed process leaves them.
_SHM_DIR: Final = Path("/dev/shm")


def _faketime_dirs() -> list[str]:
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    dirs = [f"/usr/lib/{multiarch}/faketime"] if multiarch else []
    return [*dirs, "/usr/lib/faketime", "/usr/lib64/faketime", "/usr/local/lib/faketime"]


def find_faketime() -> str:
    """The path of libfaketime for this machine's architecture; DnsServerError names the
    package if it is absent."""
    dirs = _faketime_dirs()
    for directory in dirs:
        for library in _FAKETIME_LIBRARIES:
            candidate = os.path.join(directory, library)
            if os.path.isfile(candidate):
                return candidate
    raise DnsServerError(
        f"libfaketime: {' or '.join(_FAKETIME_LIBRARIES)} not found in {', '.join(dirs)}; "
        "a caching resolver follows the run's virtual clock (--clock sim) through it: "
        "install the Debian package 'libfaketime' (apt-get install libfaketime, "
        "or `make dns-servers`), or run with --clock real"
    )


class FakedClock:
    """The calendar clock of a server started under libfaketime, set from outside.

    The server sees an absolute libfaketime date, which stands still at the time
    last :meth:`set`, however much wall time passes; libfaketime reads it from a file
    in the server's directory on every clock call (its cache is off), so a ``set``
    takes effect at the server's next look at the clock. Only the calendar clock
    (time, gettimeofday, CLOCK_REALTIME) is faked: the monotonic clock stays real,
    so the event loop's timers (retransmits, client time-outs) still run in wall
    time.
    """

    def __init__(self, library: str, directory: Path, now: float) -> None:
        self.library = library
        self.path = directory / _FAKETIME_FILE
        self._lock = threading.Lock()
        self._now = -math.inf
        self.set(now)

    @property
    def now(self) -> float:
        return self._now

    def set(self, now: float) -> None:
        """Move the server's clock to ``now`` (seconds since the Unix epoch), never back:
        a cache whose clock went back would hand out TTLs longer than it received."""
        if not math.isfinite(now) or now < 0:
            raise ValueError(f"faked time {now!r}: must be seconds since the Unix epoch")
        with self._lock:
            if now < self._now:
                raise ValueError(
                    f"faked time asked to go back from {self._now:.6f} to {now:.6f}; "
                    "a server's faked clock only moves forward"
                )
            if now == self._now:
                return
            # Replaced in one step: the server may read the file at any moment.
            partial = self.path.with_name(_FAKETIME_FILE + ".new")
            partial.write_text(f"{now:.6f}\n")
            os.replace(partial, self.path)
            self._now = now

    def environment(self) -> dict[str, str]:
        """The server's environment: this process's, with libfaketime preloaded."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAKETIME")}
        preload = env.get("LD_PRELOAD", "")
        env.update(
            LD_PRELOAD=f"{self.library} {preload}".strip(),
            FAKETIME_TIMESTAMP_FILE=str(self.path),
            FAKETIME_NO_CACHE="1",
            # Seconds since the epoch with a fraction: "1760940000.250000".
            FAKETIME_FMT="%s",
            FAKETIME_DONT_FAKE_MONOTONIC="1",
            FAKETIME_DISABLE_SHM="1",
            # File times stay true: only the clock is the run's.
            NO_FAKE_STAT="1",
            # libfaketime turns "%s" into a local time and back; in a zone with
            # daylight saving an hour that occurs twice could come back an hour off.
            TZ="UTC",
        )
        return env


def _remove_stale_faketime(directory: Path) -> None:
    """What libfaketime left behind for a killed run's server, named after the server's pid."""
    try:
        pid = int((directory / _FAKETIME_PID_FILE).read_text())
    except (OSError, ValueError):
        return  # not a faked server, or it never started
    if _start_time(pid) is None:
        _remove_faketime_shm(pid)


def _remove_faketime_shm(pid: int) -> None:
    """Remove what libfaketime 0.9.10 left in /dev/shm for process ``pid`` (gone by now)."""
    for name in (f"faketime_shm_{pid}", f"sem.faketime_sem_{pid}"):
        with contextlib.suppress(OSError):
            (_SHM_DIR / name).unlink()


# --- Unbound -----------------------------------------------------------------------

# Unbound keeps serving an expired answer for this long past its TTL while the
# authoritative side fails; RFC 8767 suggests 1 to 3 days, but a chaos run is
# minutes long and an hour keeps the behaviour visible without being unbounded.
SERVE_EXPIRED_TTL: Final = 3600
# How long Unbound tries upstream before it answers with expired data (RFC 8767's
# client response timer; the RFC suggests 1.8 s). So an upstream that is up
# always wins with fresh data, and while it is down a client gets the stale
# answer after this wait. Unbound treats a refused port like a lost packet, so
# the wait is the full timer: 1 s keeps that visible but short.
SERVE_EXPIRED_CLIENT_TIMEOUT_MS: Final = 1000


def _unbound_config(
    directory: Path,
    port: int,
    zones: Sequence[str],
    upstream: tuple[str, int],
    *,
    serve_expired: bool,
    cache_min_ttl: int,
    cache_max_negative_ttl: int,
    tcp_upstream: bool = False,
) -> str:
    up_host, up_port = upstream
    yes_no = "yes" if serve_expired else "no"
    lines = [
        "server:",
        f"    directory: {_q(directory)}",
        '    chroot: ""',
        '    username: ""',
        "    use-syslog: no",
        # -d with no logfile logs to stderr, which is the log file.
        '    logfile: ""',
        "    log-time-ascii: yes",
        "    verbosity: 1",
        f"    pidfile: {_q(directory / 'unbound.pid')}",
        f"    interface: {HOST}",
        f"    port: {port}",
        "    do-ip4: yes",
        "    do-ip6: no",
        "    do-udp: yes",
        "    do-tcp: yes",
        # Queries only ever leave from loopback: anything outside the stub zones
        # fails locally instead of reaching the root servers.
        f"    outgoing-interface: {HOST}",
        "    so-reuseport: no",
        "    num-threads: 1",
        "    outgoing-range: 64",
        "    num-queries-per-thread: 32",
        "    msg-cache-size: 4m",
        "    rrset-cache-size: 4m",
        "    access-control: 127.0.0.0/8 allow",
        # The authoritative servers listen on 127.0.0.1, which Unbound skips by default.
        "    do-not-query-localhost: no",
        # Iterator only: no DNSSEC validation (the test zones are unsigned anyway).
        '    module-config: "iterator"',
        # One upstream query per client query, for the name and type asked:
        # what reaches the cache is exactly what the harness asked for.
        "    qname-minimisation: no",
        "    prefetch: no",
        "    minimal-responses: yes",
        "    rrset-roundrobin: no",
        f"    cache-min-ttl: {cache_min_ttl}",
        f"    cache-max-negative-ttl: {cache_max_negative_ttl}",
        # Recovery after the authoritative server was down. Each timeout backs
        # off the server's retransmit timer (up to infra-cache-max-rtt, 2 min)
        # and a server at that ceiling is skipped until its host-cache entry
        # expires (infra-host-ttl, 900 s by default). A 1 s host-cache lifetime
        # resets that state every second, so in-flight and new queries reach a
        # restarted server within about a second; infra-keep-probing keeps
        # probing a server marked down instead of waiting for the entry to
        # expire. The retransmit ceiling stays at its default on purpose: a low
        # one makes Unbound give up within ~3 s and answer SERVFAIL, which it
        # then caches for 5 s per name (NORR_TTL, compiled in), delaying
        # recovery for exactly the names that were being asked for.
        "    infra-host-ttl: 1",
        "    infra-keep-probing: yes",
        f"    serve-expired: {yes_no}",
    ]
    if tcp_upstream:
        # A stopped server refuses a TCP connection at once, where a UDP query to it is
        # only given up on retransmit timers that run in wall time: over TCP the answer
        # to a query (SERVFAIL, or a stale one with serve-expired) depends on the
        # resolver's clock and cache only, never on how fast the machine is (and TCP
        # has no retransmits, which a frozen clock would time at the 50 ms minimum).
        # An idle connection is closed by Unbound after 1.5 s, before any server's
        # idle timer (embedded 2 s, Knot 10 s, BIND 30 s) could close it under a query.
        lines += ["    tcp-upstream: yes", "    tcp-reuse-timeout: 1500"]
    if serve_expired:
        lines += [
            f"    serve-expired-ttl: {SERVE_EXPIRED_TTL}",
            "    serve-expired-ttl-reset: no",
            # The TTL handed out with an expired answer (RFC 8767 recommends 30).
            "    serve-expired-reply-ttl: 30",
            f"    serve-expired-client-timeout: {SERVE_EXPIRED_CLIENT_TIMEOUT_MS}",
        ]
    # Names outside the stub zones are refused on the spot rather than looked up
    # from the root; outgoing-interface above is the backstop for lookups that
    # start inside Unbound (a CNAME pointing out of the zones).
    lines.append('    local-zone: "." refuse')
    for zone in zones:
        # Unbound answers some names itself ("test.", "invalid.", reverse zones of
        # private ranges); a transparent local zone hands the zone to the stub.
        lines.append(f"    local-zone: {_q(zone)} transparent")
    lines += ["remote-control:", "    control-enable: no"]
    for zone in zones:
        lines += [
            "stub-zone:",
            f"    name: {_q(zone)}",
            f"    stub-addr: {up_host}@{up_port}",
            # The addresses are given; no priming query for the zone's NS set.
            "    stub-prime: no",
            # No fallback to the public tree when the stub fails.
            "    stub-first: no",
        ]
    return "\n".join(lines) + "\n"


def start_unbound(
    zones: Sequence[str],
    upstream: tuple[str, int],
    *,
    serve_expired: bool = False,
    cache_min_ttl: int = 0,
    cache_max_negative_ttl: int = 3600,
    faked_now: float | None = None,
    workdir: Path | None = None,
    timeout: float = 15.0,
) -> ServerHandle:
    """A caching resolver on 127.0.0.1 sending queries for ``zones`` to ``upstream``.

    Upstream is an authoritative server (a stub zone: queries go without RD).
    TTLs are honoured as received; NXDOMAIN and NODATA are cached for
    min(SOA TTL, SOA MINIMUM) as RFC 2308 says, capped by
    ``cache_max_negative_ttl``. Returns once the first zone's SOA is answered
    through the resolver.

    With ``faked_now`` (seconds since the Unix epoch) the resolver runs under
    libfaketime and its clock stands at ``faked_now`` until the caller moves it
    with ``handle.faked.set(t)``: its cache then ages in the caller's time only.
    It then asks upstream over TCP, so that a stopped upstream fails at once
    instead of after wall-time retransmits.
    """
    for zone in zones:
        _check_name("zone", zone)
    if not 0 <= cache_min_ttl <= 2**31 - 1 or not 0 <= cache_max_negative_ttl <= 2**31 - 1:
        raise ValueError("cache_min_ttl and cache_max_negative_ttl must be 0..2^31-1")
    up_host, up_port = upstream
    _check_loopback(up_host)
    if not 0 < up_port < 65536:
        raise ValueError(f"upstream port {up_port} out of range")
    find_binary("unbound")
    library = find_faketime() if faked_now is not None else ""
    directory = _fresh_directory("unbound", workdir)
    probe = (
        _soa_probe([zones[0]], authoritative=False) if zones else _any_answer_probe("localhost.")
    )

    def configure(port: int) -> tuple[list[str], _Probe]:
        conf = directory / "unbound.conf"
        conf.write_text(
            _unbound_config(
                directory,
                port,
                zones,
                upstream,
                serve_expired=serve_expired,
                cache_min_ttl=cache_min_ttl,
                cache_max_negative_ttl=cache_max_negative_ttl,
                tcp_upstream=faked_now is not None,
            )
        )
        _precheck("unbound", directory, "unbound-checkconf", str(conf))
        return ["-d", "-c", str(conf)], probe

    with _removed_on_failure(directory):
        faked = FakedClock(library, directory, faked_now) if faked_now is not None else None
        return _launch("unbound", directory, timeout, configure, faked)


def _check_loopback(host: str) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    # IPv4 only, like the servers started here (Unbound runs with do-ip6: no).
    if not isinstance(address, ipaddress.IPv4Address) or not address.is_loopback:
        raise ValueError(f"upstream {host!r}: must be an IPv4 loopback address (127.0.0.0/8)")


__all__ = [
    "AUTHORITATIVE",
    "HOST",
    "KINDS",
    "DnsServerError",
    "FakedClock",
    "ServerHandle",
    "Tsig",
    "ZoneSpec",
    "find_binary",
    "find_faketime",
    "free_port",
    "start_authoritative",
    "start_unbound",
]
