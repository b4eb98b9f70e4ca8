"""Unmodified code on an actor's thread runs in the run's world.

While a run of user actors lasts, a few process-wide names are patched with
functions that look at the calling thread:

* ``boto3.session.Session.__init__``: a session made on an actor's thread reads no
  profile, configuration file or variable (``boto3.DEFAULT_SESSION`` is put back
  after the run).
* ``botocore.session.Session.create_client`` (so ``boto3.client``,
  ``boto3.Session().client`` and ``boto3.resource`` too): on an actor's thread,
  the actor's own client for that service, hermetic and instrumented with the
  scheduler's yield points, the history and the run's faults (one per actor, service
  and retry configuration: the retries of a ``config`` argument are honoured,
  :mod:`dnschaos.adapters.aws.retries`; region, endpoint and credential arguments are
  ignored). In the run's
  setup and invariants, an uninstrumented hermetic client of the same world.
* ``time.sleep``, ``time.time``, ``time.time_ns``, ``time.monotonic``,
  ``time.monotonic_ns``, ``time.perf_counter``, ``time.perf_counter_ns``: the virtual
  clock.
* the ``random`` module's functions: the actor's own seeded generator.
* ``datetime.datetime`` (a subclass whose ``now``, ``utcnow`` and ``today`` read the
  virtual clock; ``isinstance`` with it still accepts every datetime).
* ``threading.Thread.start`` and ``join``: a thread an actor starts becomes a
  child actor under the scheduler (``parent/1``, ``parent/2``, ...);
  ``ThreadPoolExecutor.submit`` runs each task as a child actor, and
  ``Future.result``, ``concurrent.futures.wait`` and ``as_completed`` wait for it
  under the scheduler (``as_completed`` once all are done).

Elsewhere (any other thread, and the harness's own modules on any thread) the
originals run. Names the user's modules bound before the run (``from time import
sleep``) are rebound for the run in those modules and in every module they reach
(their helpers, however deep; :mod:`dnschaos.world.rebind`). Everything is restored
when the run ends, whatever happened.

What cannot be intercepted: names bound by ``from ... import`` in a module first
imported while the run goes, ``datetime.date.today``,
``os.urandom``, ``uuid.uuid4`` and ``secrets``, real locks, queues and events
shared between an actor and its threads (they block outside the scheduler), and
``wait(..., return_when=FIRST_COMPLETED)``, which waits for all.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any, Final

import boto3.session
import botocore.session

from dnschaos.world.rebind import reachable, rebind

_real_datetime: Final = _dt.datetime
_RANDOM_FUNCTIONS: Final = (
    "random",
    "uniform",
    "randint",
    "randrange",
    "choice",
    "choices",
    "shuffle",
    "sample",
    "getrandbits",
    "gauss",
    "normalvariate",
    "expovariate",
    "triangular",
    "betavariate",
    "randbytes",
)
_TIME_FUNCTIONS: Final = (
    "sleep",
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
)
# The harness's own code (the scheduler's wall-time limit, the history's wall column)
# keeps the real functions even on an actor's thread; libraries the actor calls (botocore,
# moto) see the run's, as the actor does.
_HARNESS: Final = "dnschaos"
_CLIENT_INTERNAL: Final = ("boto3", "botocore", "dnschaos", "moto")
_MONOTONIC_BASE: Final = 10_000.0

_local = threading.local()
_active: Binding | None = None
_install_lock = threading.Lock()


def current_actor() -> str | None:
    """The user actor whose thread is calling, or None."""
    name: str | None = getattr(_local, "actor", None)
    return name


@contextmanager
def acting_as(name: str | None) -> Iterator[None]:
    before = getattr(_local, "actor", None)
    _local.actor = name
    try:
        yield
    finally:
        _local.actor = before


@contextmanager
def harness_scope() -> Iterator[None]:
    """User code the harness calls (setup, invariants): real time, harness clients."""
    before = getattr(_local, "actor", None), getattr(_local, "harness", False)
    _local.actor, _local.harness = None, True
    try:
        yield
    finally:
        _local.actor, _local.harness = before


def _caller_is_harness(depth: int = 2) -> bool:
    name = sys._getframe(depth).f_globals.get("__name__", "")
    return isinstance(name, str) and (name == _HARNESS or name.startswith(_HARNESS + "."))


def _bound(depth: int = 3) -> Binding | None:
    binding = _active
    if binding is None or getattr(_local, "actor", None) is None:
        return None
    if _caller_is_harness(depth):
        return None
    return binding


class Binding:
    """The patches of one run. ``client_for(actor, service, config)`` makes an actor's client
    (retrying as the botocore ``config`` its code gave says);
    ``harness_client(service)`` an uninstrumented one; ``rng_for(actor)`` the actor's
    generator for the ``random`` module; ``spawn_child(fn)`` makes a thread an actor
    (returns a function that waits for it, or None when threads run freely)."""

    def __init__(
        self,
        *,
        clock: Any,
        client_for: Callable[[str, str, Any], Any],
        harness_client: Callable[[str], Any],
        rng_for: Callable[[str], random.Random],
        spawn_child: Callable[[str, Callable[[], None]], Callable[[], None]] | None = None,
        wait_until: Callable[[Callable[[], bool], str], None] | None = None,
        modules: tuple[str, ...] = (),
        clock_for: Callable[[str], Any] | None = None,
    ) -> None:
        self.wait_until = wait_until
        self.clock = clock
        self.clock_for = clock_for  # an actor's wall clock (a clock-skew fault shifts it)
        self.client_for = client_for
        self.harness_client = harness_client
        self.rng_for = rng_for
        self.spawn_child = spawn_child
        self.modules = modules
        self._saved: list[tuple[Any, str, Any]] = []
        self._children: dict[str, int] = {}
        self._children_lock = threading.Lock()

    def wall(self) -> float:
        """The wall time the current actor reads: the run's clock, shifted by a clock-skew
        fault aimed at the actor (monotonic time and sleeps are not shifted)."""
        actor = current_actor()
        if self.clock_for is None or actor is None:
            return float(self.clock.now())
        return float(self.clock_for(actor).now())

    def child_name(self, parent: str) -> str:
        """``parent/1``, ``parent/2``, ...: the next child of ``parent``."""
        with self._children_lock:
            self._children[parent] = self._children.get(parent, 0) + 1
            return f"{parent}/{self._children[parent]}"

    # ------------------------------------------------------------------ patching

    def _set(self, owner: Any, name: str, value: Any) -> None:
        saved = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        self._saved.append((owner, name, saved))
        setattr(owner, name, value)

    def install(self) -> None:
        global _active
        with _install_lock:
            if _active is not None:
                from dnschaos.errors import HarnessError

                raise HarnessError(
                    "two runs of user actors at once in one process: their patches of boto3, "
                    "time and random would mix; run them one after the other"
                )
            _active = self
        try:
            originals: dict[tuple[Any, str], Any] = {}
            for name in _TIME_FUNCTIONS:
                originals[(time, name)] = getattr(time, name)
                self._set(time, name, _time_dispatch(name, getattr(time, name)))
            for name in _RANDOM_FUNCTIONS:
                if hasattr(random, name):
                    originals[(random, name)] = getattr(random, name)
                    self._set(random, name, _random_dispatch(name, getattr(random, name)))
            fake = _fake_datetime()
            originals[(_dt, "datetime")] = _real_datetime
            self._set(_dt, "datetime", fake)
            create = botocore.session.Session.create_client
            self._set(botocore.session.Session, "create_client", _client_dispatch(create))
            init = boto3.session.Session.__init__
            self._set(boto3.session.Session, "__init__", _session_dispatch(init))
            # A default session made on an actor's thread is hermetic; the one before stays.
            self._set(boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)
            start, join = threading.Thread.start, threading.Thread.join
            self._set(threading.Thread, "start", _start_dispatch(start))
            self._set(threading.Thread, "join", _join_dispatch(join))
            self._set(threading.Thread, "is_alive", _is_alive_dispatch(threading.Thread.is_alive))
            executor = futures.ThreadPoolExecutor
            self._set(executor, "submit", _submit_dispatch(executor.submit))
            for method in ("result", "exception"):
                self._set(futures.Future, method, _future_dispatch(getattr(futures.Future, method)))
            for name in ("wait", "as_completed"):
                originals[(futures, name)] = getattr(futures, name)
                self._set(futures, name, _futures_wait_dispatch(getattr(futures, name)))
            # Names the user's modules, and the helpers they reach, imported before the
            # run: ``from time import sleep`` (dnschaos.world.rebind).
            replacement = {
                id(orig): getattr(owner, name) for (owner, name), orig in originals.items()
            }
            for module_name in self.modules:
                if module_name not in sys.modules:
                    importlib.import_module(module_name)
            rebind(reachable(self.modules), replacement, self._set)
        except BaseException:
            self.uninstall()
            raise

    def uninstall(self) -> None:
        global _active
        while self._saved:
            owner, name, value = self._saved.pop()
            setattr(owner, name, value)
        with _install_lock:
            if _active is self:
                _active = None


# ---------------------------------------------------------------------- dispatchers


def _time_dispatch(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def dispatch(*args: Any) -> Any:
        binding = _bound()
        if binding is None:
            return original(*args)
        if name in ("time", "time_ns"):
            wall = binding.wall()
            return wall if name == "time" else round(wall * 1e9)
        now = float(binding.clock.now())
        if name == "sleep":
            (seconds,) = args
            if seconds < 0:
                raise ValueError("sleep length must be non-negative")
            binding.clock.sleep(float(seconds))
            return None
        elapsed = now - float(binding.clock.start) + _MONOTONIC_BASE
        if name in ("monotonic_ns", "perf_counter_ns"):
            return round(elapsed * 1e9)
        return elapsed

    dispatch.__name__ = name
    dispatch.__doc__ = original.__doc__
    return dispatch


def _random_dispatch(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        binding = _bound()
        if binding is None:
            return original(*args, **kwargs)
        actor = current_actor()
        assert actor is not None
        return getattr(binding.rng_for(actor), name)(*args, **kwargs)

    dispatch.__name__ = name
    dispatch.__doc__ = original.__doc__
    return dispatch


class _DatetimeMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _real_datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _real_datetime)


def _fake_datetime() -> type:
    def now(cls: Any, tz: Any = None) -> Any:
        binding = _bound()
        if binding is None:
            return _real_datetime.now(tz)
        return _real_datetime.fromtimestamp(binding.wall(), tz)

    def today(cls: Any) -> Any:
        binding = _bound()
        if binding is None:
            return _real_datetime.today()
        return _real_datetime.fromtimestamp(binding.wall())

    def utcnow(cls: Any) -> Any:
        binding = _bound()
        if binding is None:
            return _real_datetime.now(_dt.UTC).replace(tzinfo=None)
        return _real_datetime.fromtimestamp(binding.wall(), _dt.UTC).replace(tzinfo=None)

    namespace = {
        "now": classmethod(now),
        "utcnow": classmethod(utcnow),
        "today": classmethod(today),
        "__module__": "datetime",
    }
    # A real datetime subclass, so constructing and arithmetic keep working.
    meta = type("datetime_meta", (_DatetimeMeta, type(_real_datetime)), {})
    made: type = meta("datetime", (_real_datetime,), namespace)
    return made


def _session_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if (
            _active is None
            or _from_internal()
            or (current_actor() is None and not getattr(_local, "harness", False))
        ):
            original(self, *args, **kwargs)
            return
        # On an actor's thread no profile, file or variable is read: the run's clients
        # are handed out by create_client anyway.
        from dnschaos.adapters.aws.target import (
            DEFAULT_REGION,
            FAKE_CREDENTIALS,
            _hermetic_botocore_session,
        )

        region = kwargs.get("region_name") or DEFAULT_REGION
        original(
            self,
            region_name=region,
            botocore_session=_hermetic_botocore_session(region),
            **FAKE_CREDENTIALS,
        )

    return __init__


def _client_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        binding = _active
        if binding is None or _from_internal():
            return original(self, service_name, *args, **kwargs)
        actor = current_actor()
        if actor is not None:
            # botocore's create_client(service_name, region_name, api_version, use_ssl,
            # verify, endpoint_url, key, secret, token, config): only the retries of its
            # config are the code's own; the rest is the run's world.
            config = kwargs.get("config", args[8] if len(args) > 8 else None)
            return binding.client_for(actor, service_name, config)
        if getattr(_local, "harness", False):
            return binding.harness_client(service_name)
        return original(self, service_name, *args, **kwargs)

    return create_client


def _from_internal() -> bool:
    """Whether the first frame outside boto3 and botocore is the harness's or moto's."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        top = name.split(".", 1)[0] if isinstance(name, str) else ""
        if top not in ("boto3", "botocore"):
            return top in _CLIENT_INTERNAL
        frame = frame.f_back  # type: ignore[assignment]
    return False


_CHILD_ATTR: Final = "_dnschaos_wait"
_DONE_ATTR: Final = "_dnschaos_done"


def _start_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def start(self: threading.Thread) -> None:
        binding = _active
        parent = current_actor()
        if binding is None or parent is None or _caller_is_harness():
            original(self)
            return
        run = self.run
        if binding.spawn_child is None:
            # Free threads (--clock real): a real thread, bound to the run as a child.
            name = binding.child_name(parent)

            def bound_run() -> None:
                with acting_as(name):
                    run()

            self.run = bound_run  # type: ignore[method-assign]
            original(self)
            return

        def body() -> None:
            try:
                run()
            finally:
                setattr(self, _DONE_ATTR, True)

        wait = binding.spawn_child(parent, body)
        setattr(self, _CHILD_ATTR, wait)
        # The thread object itself never starts: the child actor runs its target.
        self._started.set()  # type: ignore[attr-defined]

    return start


def _children_bound() -> Binding | None:
    binding = _active
    if binding is None or current_actor() is None or binding.spawn_child is None:
        return None
    return binding


def _submit_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def submit(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        binding = _children_bound()
        parent = current_actor()
        if binding is None or parent is None or _caller_is_harness():
            return original(self, fn, *args, **kwargs)
        assert binding.spawn_child is not None
        future: futures.Future[Any] = futures.Future()

        def body() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # the caller sees it through the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        binding.spawn_child(parent, body)
        return future

    return submit


def _future_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: futures.Future[Any], timeout: float | None = None) -> Any:
        binding = _children_bound()
        if binding is not None and binding.wait_until is not None and not self.done():
            binding.wait_until(self.done, "future")
        return original(self, timeout)

    return method


def _futures_wait_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def wait(fs: Any, *args: Any, **kwargs: Any) -> Any:
        binding = _children_bound()
        if binding is not None and binding.wait_until is not None:
            pending = list(fs)
            # Every future done before the original looks: nothing blocks outside the
            # scheduler (as_completed then yields them in the order it finds them).
            binding.wait_until(lambda: all(f.done() for f in pending), "futures")
            fs = pending
        return original(fs, *args, **kwargs)

    return wait


def _is_alive_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def is_alive(self: threading.Thread) -> bool:
        if getattr(self, _CHILD_ATTR, None) is None:
            return bool(original(self))
        return not getattr(self, _DONE_ATTR, False)

    return is_alive


def _join_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    def join(self: threading.Thread, timeout: float | None = None) -> None:
        wait = getattr(self, _CHILD_ATTR, None)
        if wait is None:
            original(self, timeout)
            return
        wait()

    return join


__all__ = ["Binding", "acting_as", "current_actor", "harness_scope"]
