"""An actor that is a separate process: any program, any language, behind a gate.

``[[actors]]`` with ``command`` instead of ``function`` names a program (a shell script
around the AWS CLI, a Node.js script with the JavaScript SDK, a boto3 script). The actor
starts it with its SDK's endpoint pointed at a loopback gate
(:mod:`dnschaos.adapters.gate`) and then serves it, one request at a time, on the
actor's own turn under the scheduler:

1. wait (in wall time, while every other actor stands still) for the process's next
   request, or its end;
2. read the request as an AWS call (service, operation, parameters) and make that
   call with the actor's own client, the one an in-process actor gets: the
   scheduler's yield points, the history, the latency and the faults all apply there;
3. send the process the answer the in-process target gave, byte for byte (or no
   answer at all, when a fault lost it).

Because the world stands still while the process works, and a single-threaded
process's next request depends only on the answers it got, the same RunSpec gives the
same requests in the same order, the same history and the same digest. What is not
controlled (the process's own threads, its CPU time, sleeps other than the ones the
gate's shims turn into virtual ones) is recorded in the history when it starts.

A process that neither sends a request nor ends within ``timeout`` wall seconds is
killed, and so is one still running when the run ends. A crash, a hang or an exit
status not in ``exit_codes`` is the actor's error (with the end of its stderr), judged
like any actor's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ParamValidationError,
)

from dnschaos.world.config import ActorSpec
from dnschaos.world.context import ActorContext

FUNCTION: Final = "dnschaos.world.external:process"
DEFAULT_TIMEOUT: Final = 30.0
# In a command, the Python that runs dnschaos (with boto3): scripts need no install.
PYTHON: Final = "{python}"


class ProcessError(Exception):
    """A process actor that crashed, hung or exited with a status it should not have."""


Answer = tuple[int, Mapping[str, str], bytes]


def process(
    command: Sequence[str],
    env: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    cwd: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    exit_codes: Sequence[int] = (0,),
) -> Callable[[ActorContext], None]:
    """The actor function that runs ``command`` behind a gate (see the module)."""
    import sys

    argv = tuple(sys.executable if part == PYTHON else str(part) for part in command)
    extra = dict(env)
    accepted = tuple(exit_codes)

    def actor(ctx: ActorContext) -> None:
        _serve(ctx, argv, tuple(command), extra, cwd or os.getcwd(), timeout, accepted)

    return actor


def _serve(
    ctx: ActorContext,
    argv: tuple[str, ...],
    shown: tuple[str, ...],
    extra: dict[str, str],
    cwd: str,
    timeout: float,
    accepted: tuple[int, ...],
) -> None:
    from dnschaos.adapters.gate import process as proc_mod
    from dnschaos.adapters.gate.network import private_network
    from dnschaos.adapters.gate.server import Exited, Gate

    kind = ctx.world.aws.spec.kind
    if kind != "moto":
        from dnschaos.errors import UsageError

        raise UsageError(
            f"actor {ctx.name}: a process actor is answered by in-process moto only, and this "
            f"run's target is {kind}; run it with --target moto"
        )
    make_clock = _faked_clock(ctx)
    home = proc_mod.ProcessHome()
    # The gate's socket and the process are made in a network of their own where the
    # platform allows: the process reaches the gate and nothing else.
    network_scope = contextlib.ExitStack()
    network = network_scope.enter_context(private_network())
    try:
        gate = Gate()
    except BaseException:
        network_scope.close()
        home.close()
        raise
    proc = None
    faked_clock = None
    try:
        faked_clock = None if make_clock is None else make_clock(home.path)
        clock_env = {} if faked_clock is None else _clock_env(faked_clock)
        env = proc_mod.environment(home, gate.url, extra, clock_env)
        controlled = list(proc_mod.CONTROLLED)
        uncontrolled = list(proc_mod.UNCONTROLLED)
        if faked_clock is None:
            controlled.remove("calendar clock")
            uncontrolled.append("calendar clock")
        (controlled if network.isolated else uncontrolled).append(f"network ({network.text})")
        ctx.event(
            "process-start",
            command=list(shown),
            controlled=controlled,
            uncontrolled=uncontrolled,
        )
        _move(faked_clock, ctx)
        try:
            proc = proc_mod.start(argv, env, cwd, home)
        except OSError as exc:
            raise ProcessError(f"actor {ctx.name}: cannot start {argv[0]}: {exc}") from None
        finally:
            network_scope.close()  # this thread goes back; the process stays in its network
        home.started(proc.pid)
        gate.watch(proc)
        answerer = _Answerer(ctx)
        while True:
            event = gate.next(timeout)
            if event is None:
                proc_mod.stop(proc)
                raise ProcessError(
                    f"actor {ctx.name}: the process sent no request and did not exit within "
                    f"{timeout:g} s of wall time; it was killed (raise the actor's timeout if it "
                    "needs longer). stderr: " + proc_mod.stderr_tail(home, gate.url)
                )
            if isinstance(event, Exited):
                code = event.code
                ctx.event("process-exit", code=code)
                if code not in accepted:
                    raise ProcessError(
                        f"actor {ctx.name}: the process exited with status {code} (expected "
                        f"{' or '.join(map(str, accepted))}). stderr: "
                        + proc_mod.stderr_tail(home, gate.url)
                    )
                return
            if ctx.should_stop():
                # The run's work is over (its duration, or an actor ended it): the process
                # is stopped at a request, the same one in every run of the spec.
                event.drop()
                proc_mod.stop(proc)
                ctx.event("process-stopped", reason="the run stopped")
                return
            if event.control:
                _control(ctx, event.target, event.body)
                _move(faked_clock, ctx)
                event.answer(200, {}, b"")
                continue
            answer = answerer.answer(event.method, event.target, event.headers, event.body)
            _move(faked_clock, ctx)
            if answer is None:
                event.drop()
            else:
                event.answer(*answer)
    finally:
        network_scope.close()
        gate.close()
        if proc is not None:
            proc_mod.stop(proc)
        if faked_clock is not None:
            _forget(proc)
        home.close()


def _faked_clock(ctx: ActorContext) -> Callable[[Any], Any] | None:
    """A maker of the process's faked calendar clock, or None without libfaketime
    (the history then says the calendar clock is not controlled)."""
    from dnschaos.adapters.dnsserve.servers import FakedClock, find_faketime
    from dnschaos.errors import DnsChaosError

    try:
        library = find_faketime()
    except DnsChaosError:
        return None
    return lambda folder: FakedClock(library, folder, ctx.now())


def _clock_env(faked: Any) -> dict[str, str]:
    env: dict[str, str] = faked.environment()
    out = {k: v for k, v in env.items() if k in ("NO_FAKE_STAT", "TZ") or k.startswith("FAKETIME")}
    out["LD_PRELOAD"] = faked.library  # alone: a preload of this environment's stays out
    return out


def _move(faked: Any, ctx: ActorContext) -> None:
    """The process's calendar clock to the actor's virtual time (never back)."""
    if faked is not None:
        faked.set(max(faked.now, ctx.now()))


def _forget(proc: Any) -> None:
    from dnschaos.adapters.dnsserve.servers import _remove_faketime_shm

    if proc is not None:
        _remove_faketime_shm(proc.pid)


def _control(ctx: ActorContext, target: str, body: bytes) -> None:
    from dnschaos.adapters.gate.server import SLEEP

    if target.split("?", 1)[0] == SLEEP:
        try:
            seconds = float(body.decode() or "0")
        except ValueError:
            seconds = 0.0
        ctx.sleep(seconds if seconds == seconds else 0.0)  # NaN sleeps nothing


class _Answerer:
    """Answers a process's requests with the actor's own clients."""

    def __init__(self, ctx: ActorContext) -> None:
        self.ctx = ctx
        self.clients: dict[str, Any] = {}
        self.raw: list[Any] = []

    def client(self, service: str) -> Any:
        client = self.clients.get(service)
        if client is None:
            client = self.ctx.client(service)
            events = client.meta.events
            service_id = client.meta.service_model.service_id.hyphenize()
            # One request of the process is one attempt: its own SDK decides on retries.
            events.unregister(f"needs-retry.{service_id}", unique_id=f"retry-config-{service_id}")

            def keep(http_response: Any, **_: Any) -> None:
                self.raw.append(http_response)

            events.register(f"after-call.{service_id}", keep, unique_id="dnschaos-gate-raw")
            self.clients[service] = client
        return client

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        """The in-process target's answer to one request; None when it was lost."""
        from dnschaos.adapters.gate.calls import GateRequestError, error_answer, read_request

        try:
            call = read_request(method, target, headers, body)
        except GateRequestError as exc:
            self.ctx.event(
                "gate-refused", method=method, path=target.split("?", 1)[0], code=exc.code
            )
            return error_answer("rest-xml", exc.status, exc.code, str(exc))
        client = self.client(call.service)
        self.raw.clear()
        try:
            getattr(client, xform_name(call.operation))(**call.params)
        except ClientError:
            pass  # its answer is the error response, kept below
        except ParamValidationError as exc:
            return error_answer(call.protocol, 400, "ValidationError", str(exc))
        except HTTPClientError:
            return None  # a timeout or a lost connection: the process gets no answer either
        except BotoCoreError as exc:
            return error_answer(
                call.protocol, 500, "InternalFailure", f"{type(exc).__name__}: {exc}"
            )
        if not self.raw:
            return None
        raw = self.raw[-1]
        return int(raw.status_code), dict(raw.headers), bytes(raw.content)


Fail = Callable[[str, Any, str, str], None]


def _raise(name: str) -> Fail:
    def fail(key: str, value: Any, wanted: str, choices: str = "") -> None:
        from dnschaos.errors import UsageError

        extra = f"; {choices}" if choices else ""
        raise UsageError(f"process actor {name}: {key}: {value!r} is not {wanted}{extra}")

    return fail


def process_spec(
    name: str,
    command: Any,
    *,
    env: Mapping[str, Any] | None = None,
    cwd: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    exit_codes: Sequence[int] = (0,),
    fail: Fail | None = None,
    shown_cwd: Any = None,
) -> ActorSpec:
    """The actor that runs ``command`` (checked: a program that exists, an env that leaves
    the gate's settings alone, a folder that exists). ``fail(key, value, wanted, choices)``
    refuses a value; by default it raises a UsageError naming the actor."""
    from dnschaos.adapters.gate.process import reserved

    fail = fail or _raise(name)
    folder = cwd or os.getcwd()
    if not os.path.isdir(folder):
        fail(
            "cwd",
            shown_cwd if shown_cwd is not None else cwd,
            f"a folder (actor {name}: {folder} is none)",
            "",
        )
    problem = command_problem(command, folder)
    if problem is not None:
        fail("command", command, f"{problem}, for actor {name}", "")
    for key, value in (env or {}).items():
        if not isinstance(value, str):
            fail(f"env.{key}", value, f"a string (actor {name})", "")
        if reserved(key):
            fail(
                f"env.{key}",
                key,
                f"a variable actor {name} may set",
                "the gate owns the AWS settings, credentials, proxies, preloads and HOME",
            )
    args = {
        "command": tuple(command),
        "env": tuple(sorted((env or {}).items())),
        "cwd": folder,
        "timeout": float(timeout),
        "exit_codes": tuple(exit_codes),
    }
    return ActorSpec(name, FUNCTION, args=tuple(sorted(args.items())), bind=False)


def command_problem(command: Any, cwd: str) -> str | None:
    """What is wrong with a scenario's ``command`` (run from ``cwd``), or None."""
    import shutil

    if not isinstance(command, list) or not command:
        return "a non-empty list of strings: the program and its arguments"
    if not all(isinstance(part, str) for part in command):
        return "a list of strings"
    program = command[0]
    if program == PYTHON:
        return None
    if os.sep in program:
        path = os.path.normpath(os.path.join(cwd, program))
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"a program that exists and is executable ({path} is not)"
        return None
    if shutil.which(program) is None:
        return f"a program on PATH ({program} is not), or a path to one"
    return None


__all__ = [
    "DEFAULT_TIMEOUT",
    "FUNCTION",
    "PYTHON",
    "ProcessError",
    "command_problem",
    "process",
    "process_spec",
]
