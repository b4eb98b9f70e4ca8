"""Starting a separate process behind a gate: its environment, its clock, its end.

The process gets a fresh environment built from this one minus everything that could
send its requests elsewhere or give it credentials: every ``AWS_*``, ``BOTO*``,
proxy, preload and ``FAKETIME*`` variable is dropped, ``HOME`` is an empty folder of
its own (no ``~/.aws``), and the standard SDK settings point at the gate: an
endpoint (``AWS_ENDPOINT_URL``), fixed fake credentials, a region, empty config and
credentials files, the instance metadata service off.

Its time follows the run's virtual clock where the platform allows it:

* the calendar clock (``time()``, ``Date.now()``, ``date``) through libfaketime, the
  way the caching resolver's is (:class:`dnschaos.adapters.dnsserve.servers.FakedClock`),
  moved to the actor's virtual time before each answer;
* sleeps of Python code (``time.sleep``, so botocore's retries and the AWS CLI's
  waiters) through a ``sitecustomize`` the process imports, and the ``sleep``
  command through a stand-in first on ``PATH``: each asks the gate to sleep, which
  the actor does on the virtual clock.

Anything else (a sleep by other means, the process's own threads, its CPU time) is
not controlled; :data:`CONTROLLED` and :data:`UNCONTROLLED` say so in the history.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Final

from dnschaos.adapters.aws.target import DEFAULT_REGION, FAKE_CREDENTIALS
from dnschaos.adapters.gate.server import SLEEP

GATE_ENV: Final = "DNSCHAOS_GATE"
# Variables a scenario's env may not set: they would take requests, credentials or the
# clock away from the gate. Matched as prefixes, case-insensitively.
RESERVED: Final = (
    "AWS_",
    "BOTO",
    "FAKETIME",
    "DNSCHAOS_",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "NODE_OPTIONS",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HOME",
)
CONTROLLED: Final = ("request order", "answers", "faults", "calendar clock", "sleeps")
UNCONTROLLED: Final = ("the process's own threads and CPU time", "sleeps by other means")
STDERR_TAIL: Final = 2000  # characters of a failed process's stderr kept in its verdict

_SITECUSTOMIZE: Final = '''"""Put here by dnschaos for a process it runs: time.sleep waits on the run's clock."""
import http.client
import os
import time

_GATE = os.environ.get("{env}", "")


def _virtual_sleep(seconds):
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    host, _, port = _GATE.rpartition("/")[2].partition(":")
    conn = http.client.HTTPConnection(host, int(port))
    try:
        conn.request("POST", "{path}", body=repr(seconds).encode())
        conn.getresponse().read()
    finally:
        conn.close()


if _GATE.startswith("http://127.0.0.1:"):
    time.sleep = _virtual_sleep
'''

_SLEEP_COMMAND: Final = '''#!{python} -SE
"""Put here by dnschaos for a process it runs: sleep waits on the run's clock."""
import sys

sys.path.insert(0, {shims!r})
import sitecustomize  # noqa: E402

_UNITS = {{"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}}
total = 0.0
for arg in sys.argv[1:]:
    unit = _UNITS.get(arg[-1:], None)
    try:
        total += float(arg[:-1]) * unit if unit else float(arg)
    except ValueError:
        sys.exit(f"sleep: invalid time interval {{arg!r}}")
sitecustomize.time.sleep(total)
'''


class ProcessHome:
    """A process's own folder: empty AWS files, a home, the time shims. Removed by
    :meth:`close`."""

    def __init__(self) -> None:
        # Named, owned and swept as a DNS server's directory is: the next run removes the
        # folder (and libfaketime's leftovers) of a run that was killed.
        from dnschaos.adapters.dnsserve.servers import _fresh_directory

        self.path = _fresh_directory("process", None)
        self.home = self.path / "home"
        self.home.mkdir()
        self.aws_config = self.path / "aws-config"
        self.aws_credentials = self.path / "aws-credentials"
        self.aws_config.write_text("")
        self.aws_credentials.write_text("")
        self.shims = self.path / "python"
        self.shims.mkdir()
        (self.shims / "sitecustomize.py").write_text(
            _SITECUSTOMIZE.format(env=GATE_ENV, path=SLEEP)
        )
        self.bin = self.path / "bin"
        self.bin.mkdir()
        sleep = self.bin / "sleep"
        sleep.write_text(_SLEEP_COMMAND.format(python=sys.executable, shims=str(self.shims)))
        sleep.chmod(0o755)
        self.stdout = self.path / "stdout"
        self.stderr = self.path / "stderr"

    def started(self, pid: int) -> None:
        """Note the process's pid, for the sweep of libfaketime's leftovers."""
        from dnschaos.adapters.dnsserve.servers import _FAKETIME_PID_FILE

        (self.path / _FAKETIME_PID_FILE).write_text(f"{pid}\n")

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def reserved(name: str) -> bool:
    """Whether a scenario's env may not set ``name``."""
    upper = name.upper()
    return any(upper.startswith(prefix) for prefix in RESERVED)


def environment(
    home: ProcessHome,
    gate_url: str,
    extra: Mapping[str, str],
    clock_env: Mapping[str, str],
) -> dict[str, str]:
    """The process's environment: this one's, cleaned, then ``extra`` (the scenario's,
    already checked against :func:`reserved`), then the gate's settings."""
    env = {k: v for k, v in os.environ.items() if not reserved(k) and k.upper() != "PYTHONPATH"}
    env.update(extra)
    python_path = [str(home.shims), *filter(None, [extra.get("PYTHONPATH", "")])]
    env.update(clock_env)
    env.update(
        {
            "HOME": str(home.home),
            "PATH": os.pathsep.join([str(home.bin), env.get("PATH", os.defpath)]),
            "PYTHONPATH": os.pathsep.join(python_path),
            GATE_ENV: gate_url,
            "AWS_ENDPOINT_URL": gate_url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": FAKE_CREDENTIALS["aws_session_token"],
            "AWS_REGION": DEFAULT_REGION,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_CONFIG_FILE": str(home.aws_config),
            "AWS_SHARED_CREDENTIALS_FILE": str(home.aws_credentials),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            # A proxy would see (and could forward) the gate's traffic.
            "NO_PROXY": "*",
            "no_proxy": "*",
        }
    )
    return env


def _die_with_parent() -> None:
    # Linux: the process is killed when the thread that started it ends, so even a
    # SIGKILL of the harness leaves no process behind.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start(
    command: Sequence[str], env: Mapping[str, str], cwd: str, home: ProcessHome
) -> subprocess.Popen[bytes]:
    with home.stdout.open("wb") as out, home.stderr.open("wb") as err:
        return subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own group: its children end with it
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process and everything it started; reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def stderr_tail(home: ProcessHome, gate_url: str) -> str:
    """The end of what the process wrote to stderr, with the gate's address and the
    process's folder (which differ between runs of one spec) written out as names."""
    try:
        text = home.stderr.read_bytes()[-STDERR_TAIL:].decode("utf-8", "replace")
    except OSError:
        return ""
    for seen, name in ((gate_url, "<gate>"), (gate_url.split("//", 1)[-1], "<gate>")):
        text = text.replace(seen, name)
    return text.replace(str(home.path), "<process-home>").strip()


__all__ = [
    "CONTROLLED",
    "GATE_ENV",
    "RESERVED",
    "UNCONTROLLED",
    "ProcessHome",
    "environment",
    "reserved",
    "start",
    "stderr_tail",
    "stop",
]
