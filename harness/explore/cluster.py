"""Campaigns on a Dask cluster: ``dnschaos fuzz ... --cluster tcp://HOST:PORT``.

A case is a Dask task: the case and the campaign's base spec go as JSON, and a
worker runs the same function the local worker processes run
(``campaign._run_one``, in a case-runner process of the worker's own), so a case's result does not depend on where it ran.
Results come back as they finish and the campaign records them in its failure
store exactly as it does for local workers: a case is started (saved) before
it is submitted and finished only once its result is stored, so ``--resume``
and Ctrl-C behave the same.

A worker that dies takes its cases with it; the scheduler runs them again on
another worker (up to its ``allowed-failures``, 3 by default). A case that
killed that many workers comes back as lost: it stays started and ``--resume``
tries it again. The campaign records a case once even if it ran more than once.

The cluster is someone else's: the campaign never starts or stops workers.
Workers need the same dnschaos (and the same variant modules) installed; the
campaign checks the version on every worker before it submits anything.

``dnschaos explore --cluster`` runs the chains of each level of the search as
tasks in the same way (``explore_chains``).

Needs the ``cluster`` extra: ``pip install 'dnschaos[cluster]'``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Collection
from typing import IO, Any, Final

from dnschaos._version import __version__
from dnschaos.errors import HarnessError, UsageError
from dnschaos.explore.campaign import _run_one
from dnschaos.extras import require
from dnschaos.hashseed import child_environment
from dnschaos.scenario.spec import RunSpec

CONNECT_TIMEOUT: Final = 10.0  # seconds to reach the scheduler
WORKER_TIMEOUT: Final = 30.0  # seconds to wait for a first worker to join
ADDRESS: Final = re.compile(r"(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?")

# Dask's own housekeeping, as environment variables for 'dask scheduler' and 'dask
# worker'. With Dask's defaults an idle scheduler and one idle worker use about 6% of a
# core between them (BENCHMARKS.md), which a campaign pays on top of its cases: the
# event loop's health check every 20 ms, the worker's statistical profiler sampling its
# threads every 10 ms (a case runs in the worker's case-runner process, where the
# profiler cannot see it), the system monitor's psutil readings every 500 ms and the
# memory monitor's every 100 ms. With these values the idle pair uses under 1% (the loop
# check still warns of a loop blocked for 3 s; the dashboard's plots are coarser).
_QUIET: Final[tuple[tuple[str, str | bool], ...]] = (
    ("distributed.admin.tick.interval", "1s"),
    ("distributed.worker.profile.enabled", False),
    ("distributed.admin.system-monitor.interval", "5s"),
    ("distributed.worker.memory.monitor-interval", "1s"),
)
# The same as environment variables (Dask reads '__' as a level, '_' as '-').
QUIET_DASK: Final[dict[str, str]] = {
    "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value) for key, value in _QUIET
}


def _distributed() -> Any:
    require("cluster", "--cluster")
    import distributed

    return distributed


def _version() -> str:
    """Run on each worker: the dnschaos it would run cases with."""
    from dnschaos._version import __version__ as version

    return version


def _housekeeping() -> dict[str, Any]:
    """Run on each worker: its values of the settings of :data:`QUIET_DASK`."""
    import dask.config

    return {key: dask.config.get(key, None) for key, _ in _QUIET}


def _busy(key: str, got: Any, quiet: str | bool) -> bool:
    """Whether ``got`` (a worker's or the scheduler's value of ``key``) wakes more often
    than the quiet value."""
    from dask.utils import parse_timedelta

    if isinstance(quiet, bool):
        return bool(got) != quiet
    try:
        return float(parse_timedelta(got, default="ms")) < float(parse_timedelta(quiet))
    except (TypeError, ValueError, KeyError):  # KeyError: an unknown unit
        return False  # a value Dask itself would refuse: not ours to judge


def housekeeping_note(client: Any) -> str | None:
    """A line for the user when the cluster's scheduler or workers run Dask's
    housekeeping more often than :data:`QUIET_DASK` (a campaign pays for it in CPU),
    else None."""
    busy: dict[str, set[str]] = {}

    def look(who: str, settings: Any, keys: tuple[tuple[str, str | bool], ...]) -> None:
        if not isinstance(settings, dict):
            return  # a worker that could not answer: the version check speaks for it
        for key, quiet in keys:
            if _busy(key, settings.get(key), quiet):
                busy.setdefault(who, set()).add(key)

    for settings in client.run(_housekeeping, on_error="return").values():
        look("workers", settings, _QUIET)
    # The scheduler has no profiler and no memory monitor: its settings are the admin
    # ones. It need not have dnschaos installed, so it is asked with Dask's own function.
    # The note is advice: a scheduler that does not answer leaves it unsaid, never stops
    # a campaign.
    admin = tuple((k, v) for k, v in _QUIET if k.startswith("distributed.admin."))
    import dask.config

    with contextlib.suppress(Exception):
        asked = {k: client.run_on_scheduler(dask.config.get, k, None) for k, _ in admin}
        look("scheduler", asked, admin)
    if not busy:
        return None
    parts = "; ".join(f"{who}: {', '.join(sorted(keys))}" for who, keys in sorted(busy.items()))
    return (
        f"cluster: Dask's housekeeping runs often ({parts}); at Dask's defaults an idle "
        "scheduler and worker use about 6% of a core, paid on top of the cases. MANUAL.md "
        "'Campaigns on a Dask cluster' gives the settings that bring it under 1%"
    )


def connect(
    address: str, *, timeout: float = CONNECT_TIMEOUT, note: Callable[[str], None] | None = None
) -> Any:
    """A Dask client of the scheduler at ``address``, whose workers run this dnschaos.

    ``note`` is given :func:`housekeeping_note`'s line when the workers have one."""
    if not ADDRESS.fullmatch(address):
        raise UsageError(
            f"--cluster {address!r}: give the scheduler's address as tcp://HOST:PORT "
            "(what 'dask scheduler' prints as 'Scheduler at:')"
        )
    distributed = _distributed()
    try:
        client = distributed.Client(
            address, timeout=f"{timeout}s", set_as_default=False, direct_to_workers=False
        )
    except (OSError, TimeoutError) as exc:
        raise HarnessError(
            f"--cluster {address}: cannot reach the Dask scheduler ({type(exc).__name__}: "
            f"{exc}); start one with 'dask scheduler' and give the address it prints"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (TimeoutError, OSError):
            raise HarnessError(
                f"--cluster {address}: no worker joined the scheduler within "
                f"{WORKER_TIMEOUT:.0f}s; start some with 'dask worker {address}'"
            ) from None
        versions: dict[str, Any] = client.run(_version, on_error="return")
        wrong = {w: v for w, v in versions.items() if v != __version__}
        if wrong:
            worker, seen = sorted(wrong.items())[0]
            what = f"dnschaos {seen}" if isinstance(seen, str) else f"no dnschaos ({seen!r})"
            raise HarnessError(
                f"--cluster {address}: worker {worker} has {what}, this campaign runs "
                f"dnschaos {__version__}; install the same version on every worker"
            )
        if note is not None and (line := housekeeping_note(client)) is not None:
            note(line)
    except BaseException:
        client.close()
        raise
    return client


class _Child:
    """A process of this Dask worker's own that runs its tasks' work, one call at a time.

    A case runs in a child, not in the Dask worker: the run's actor threads and the
    worker's event loop (heartbeats, transfers) must not share a process, where a stuck
    or busy run would stall the worker until the scheduler gives it up. It is a plain
    subprocess (a worker under a nanny is daemonic and may not use multiprocessing) that
    reads one pickled call at a time and answers with its pickled result; it dies with
    the worker (``campaign.init_worker``), and ends when the worker closes its input."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dnschaos.explore.cluster", str(os.getpid()), str(write)],
            stdin=subprocess.PIPE,
            pass_fds=(write,),
            # The cases run with the pinned hash seed, whatever the worker was started with.
            env=child_environment(),
        )
        os.close(write)
        self._answers = os.fdopen(read, "rb")

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert self.proc.stdin is not None
        _send(self.proc.stdin, (fn, args))
        answer = _receive(self._answers)
        if answer is None:
            raise HarnessError(f"the case runner process exited ({self.proc.wait()})")
        ok, value = answer
        if not ok:
            raise HarnessError(f"on worker {os.getpid()}: {value}")
        return value


def _send(fh: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(struct.pack("!Q", len(data)) + data)
    fh.flush()


def _receive(fh: IO[bytes]) -> Any:
    head = fh.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("!Q", head)
    return pickle.loads(fh.read(size))


_CHILDREN = threading.local()


def in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """A task: ``fn(*args)`` in this worker thread's case runner (started on first use)."""
    child: _Child | None = getattr(_CHILDREN, "child", None)
    if child is None or child.proc.poll() is not None:
        child = _CHILDREN.child = _Child()
    return child.call(fn, *args)


def run_case(index: int, case_json: dict[str, Any], spec_json: dict[str, Any]) -> dict[str, Any]:
    """A task: one case of a campaign, in the worker thread's case runner."""
    out: dict[str, Any] = in_child(_run_one, index, case_json, spec_json)
    return out


def _serve(parent: int, answers_fd: int) -> None:
    """The child's loop (``python -m dnschaos.explore.cluster PARENT FD``)."""
    from dnschaos.explore.campaign import init_worker

    init_worker(None, parent)
    with os.fdopen(answers_fd, "wb") as answers:
        while (request := _receive(sys.stdin.buffer)) is not None:
            fn, args = request
            try:
                answer: tuple[bool, Any] = (True, fn(*args))
            except Exception as exc:  # reported to the campaign as a harness error
                answer = (False, f"{type(exc).__name__}: {exc}")
            _send(answers, answer)


class ClusterRunner:
    """The campaign's :class:`~dnschaos.explore.campaign.CaseRunner` on a Dask cluster."""

    def __init__(self, client: Any, spec: RunSpec) -> None:
        distributed = _distributed()
        self.client = client
        self.spec_json = spec.to_json()
        self._wait = distributed.wait
        self._lost = (distributed.KilledWorker, distributed.client.FutureCancelledError)
        self.finished = distributed.as_completed(loop=client.loop)

    @classmethod
    def connect(cls, address: str, spec: RunSpec) -> ClusterRunner:
        return cls(connect(address), spec)

    @property
    def slots(self) -> int:
        # Workers may join or leave during the campaign: count their threads each time.
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def submit(self, index: int, case_json: dict[str, Any]) -> Any:
        future = self.client.submit(run_case, index, case_json, self.spec_json, pure=False)
        self.finished.add(future)
        return future

    def wait(self, pending: Collection[Any], timeout: float) -> list[Any]:
        try:
            with self.client.as_current():
                self._wait(list(pending), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        if self.client.status not in ("running", "connecting"):
            raise HarnessError(
                f"--cluster: lost the Dask scheduler ({self.client.status}); the cases in "
                "flight stay started, and --resume runs them again"
            )
        # In the order they finished; ``as_completed`` holds each finished future once.
        return [f for f in self.finished.next_batch(block=False) if f in pending]

    def result(self, handle: Any) -> dict[str, Any] | None:
        if handle.status == "error":
            exc = handle.exception()
            if isinstance(exc, self._lost):
                return None
            raise exc
        if handle.status == "cancelled":
            return None
        out: dict[str, Any] = handle.result()
        handle.release()
        return out

    def close(self, *, kill: bool) -> None:
        try:
            if kill:
                # A running task cannot be stopped on its worker; it finishes there and
                # its result is dropped. Its case stays started.
                self.client.cancel(list(self.finished.futures))
            self.client.close(timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            pass  # the scheduler went first: nothing left to tell it


# --------------------------------------------------------------------------- explore


class ClusterPool:
    """What ``dnschaos explore`` needs of a process pool, on a Dask cluster: each chain of
    a level is a task, its result read in the chains' order."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._futures: list[Any] = []

    @classmethod
    def connect(cls, address: str, note: Callable[[str], None] | None = None) -> ClusterPool:
        return cls(connect(address, note=note))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self.client.submit(in_child, fn, *args, pure=False)
        self._futures.append(future)
        return future

    def shutdown(self, cancel_futures: bool = False) -> None:
        try:
            if cancel_futures:
                self.client.cancel(self._futures)
            self.client.close(timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            pass


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
