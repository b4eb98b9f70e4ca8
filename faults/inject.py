"""Faults injected through botocore's event system, on each actor's clients.

* ``before-parameter-build``: decide which active faults apply to this call
  (matchers see the API parameters), record each hit, and apply latency-before
  and pauses on the run's clock.
* ``before-send`` (registered first, ahead of moto's own stubber): an error
  fault answers instead of the backend (``never-arrived``), or lets the backend
  act and then answers with the error (``response-lost``).
* ``after-call``: latency-after.

Because the error comes back as an HTTP response (or a botocore exception for
timeouts and connection errors), the caller sees botocore's own parsing and
retries, and tenacity's on top: nothing is special-cased for the harness.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from dnschaos.checkers import shares_entries
from dnschaos.faults.kinds import ClockSkew, Crash, Error, Fault, Hold, Latency, Pause
from dnschaos.faults.matchers import Call
from dnschaos.faults.state import FaultState
from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.streams import RunStreams

_HITS_KEY = "dnschaos_hits"
_NOWHERE = "https://request-dropped.dnschaos.invalid/"  # served by no backend
# (HTTP status, Route 53 code, DynamoDB code)
_ERRORS: dict[str, tuple[int, str, str]] = {
    "Throttling": (400, "Throttling", "ThrottlingException"),
    "PriorRequestNotComplete": (400, "PriorRequestNotComplete", "ThrottlingException"),
    "InternalFailure": (500, "InternalFailure", "InternalServerError"),
    "ServiceUnavailable": (503, "ServiceUnavailable", "ServiceUnavailable"),
}


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def error_response(request: Any, service: str, code: str) -> AWSResponse:
    """The error an AWS endpoint would send, in the service's protocol."""
    status, r53_code, ddb_code = _ERRORS[code]
    if service == "dynamodb":
        body = (
            f'{{"__type":"com.amazonaws.dynamodb.v20120810#{ddb_code}",'
            '"message":"injected by dnschaos"}'
        ).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "dnschaos"}
    else:
        body = (
            '<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
            f"<Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{r53_code}</Code>"
            "<Message>injected by dnschaos</Message></Error><RequestId>dnschaos</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": "dnschaos"}
    response = AWSResponse(request.url, status, headers, _Body(body))  # type: ignore[arg-type]
    response._content = body  # type: ignore[attr-defined]  # what .content reads first
    return response


class Crashed(BaseException):
    """Raised in an actor at its next AWS call after a crash fault hit it.

    A BaseException, so the automation's ``except Exception`` cannot swallow it; the
    runner's supervisor catches it and starts a fresh instance after the delay.
    """

    def __init__(self, actor: str, restart_after: float) -> None:
        super().__init__(f"{actor} crashed; restart in {restart_after:g}s")
        self.actor = actor
        self.restart_after = restart_after


def restarting(
    name: str,
    attempt: Callable[[], None],
    should_stop: Callable[[], bool],
    clock: Clock,
    history: History,
) -> None:
    """Run ``attempt`` (one life of an actor); when a crash fault kills it, record the crash,
    wait out the restart delay and run a fresh life, until one ends or the run stops."""
    while True:
        try:
            attempt()
            return
        except Crashed as crash:
            history.append(
                "fault",
                clock.now(),
                action="crashed",
                actor=name,
                restart_after=crash.restart_after,
            )
            clock.sleep(crash.restart_after)
            if should_stop():
                return
            history.append("fault", clock.now(), action="restarted", actor=name)


class SkewedClock:
    """One actor's view of the clock: off by the active skew faults aimed at it."""

    def __init__(self, base: Clock, actor: str, state: FaultState) -> None:
        self.base = base
        self.actor = actor
        self.state = state
        self.skews = [f for f in state.faults if isinstance(f, ClockSkew) and f.actor == actor]

    def now(self) -> float:
        return self.base.now() + sum(f.offset for f in self.skews if self.state.is_active(f))

    def sleep(self, seconds: float) -> None:
        self.base.sleep(seconds)


class Injector:
    """Applies a run's faults to the clients of its actors."""

    def __init__(
        self,
        state: FaultState,
        *,
        history: History,
        clock: Clock,
        streams: RunStreams,
        deliver: Callable[[Any], Any],
        wait_until: Callable[[Callable[[], bool], str], None] | None = None,
        newest_plan: Callable[[], int] | None = None,
    ) -> None:
        self.state = state  # shared with the nemesis, which activates and heals
        self.faults = state.faults
        self.history = history
        self.clock = clock
        self.streams = streams
        self.deliver = deliver  # sends a prepared request to the backend, for response-lost
        self.wait_until = wait_until
        self.newest_plan = newest_plan or (lambda: 0)
        self.crashing: dict[str, Crash] = {}  # actor -> the crash waiting for its next call

    def crash(self, fault: Crash) -> None:
        self.crashing[fault.actor] = fault

    def attach(self, client: Any, actor: str) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_id.hyphenize()
        rng = self.streams.named("faults", actor, service)
        # The call being made by each thread on this client, from before-parameter-build to
        # its before-send (once per attempt). botocore 1.43 and older do not hand the call's
        # context to before-send (its prepared request has none), and a botocore call runs in
        # the calling thread from start to end: one slot per thread finds it with any botocore.
        making = threading.local()

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            crash = self.crashing.pop(actor, None)
            if crash is not None:
                self.history.append(
                    "fault",
                    self.clock.now(),
                    action="hit",
                    actor=actor,
                    op=model.name,
                    **crash.describe(),
                )
                raise Crashed(actor, crash.restart_after)
            call = Call(service, model.name, actor, params, self._t(), rng, self.state.counts)
            making.call = call
            hits = self._hits(call, (Latency, Pause))
            context[_HITS_KEY] = hits
            for fault in hits:
                if isinstance(fault, Latency) and fault.where in ("before", "both"):
                    self.clock.sleep(fault.draw(rng))
                elif isinstance(fault, Pause):
                    self._pause(fault)

        def send(request: Any, **_: Any) -> Any:
            # Errors are decided per attempt: botocore's retries each get their own draw.
            call: Call | None = getattr(making, "call", None)
            if call is None:
                return None
            call.t = self._t()
            for hold in self._hits(call, (Hold,)):
                assert isinstance(hold, Hold)
                self.clock.sleep(hold.seconds)  # in flight: later requests from others land first
            for fault in self._hits(call, (Error,)):
                assert isinstance(fault, Error)
                if fault.mode == "response-lost":
                    self.deliver(request)  # the backend acts; the answer never comes back
                answer = self._fail_or_raise(request, service, fault)
                # botocore offers before-send to every handler and takes the first answer,
                # so in-process moto would still act on this request: send it nowhere.
                request.url = _NOWHERE
                if isinstance(answer, BaseException):
                    raise answer
                return answer
            return None

        def after(model: Any, context: dict[str, Any], **_: Any) -> None:
            for fault in context.get(_HITS_KEY, []):
                if isinstance(fault, Latency) and fault.where in ("after", "both"):
                    self.clock.sleep(fault.draw(rng))

        events.register(
            f"before-parameter-build.{service}",
            before,
            unique_id=f"dnschaos-fault-before-{service}",
        )
        events.register_first(
            f"before-send.{service}", send, unique_id=f"dnschaos-fault-send-{service}"
        )
        events.register(f"after-call.{service}", after, unique_id=f"dnschaos-fault-after-{service}")

    def _t(self) -> float:
        return self.clock.now() - self.history.start

    def _hits(self, call: Call, kinds: tuple[type, ...]) -> list[Fault]:
        # Activity and kind are looked at before the matcher: matching counts (nth) and
        # draws (probability), and only calls a fault could act on may do either.
        hits = [
            f
            for f in self.faults
            if self.state.is_active(f) and isinstance(f, kinds) and f.matcher.matches(call)
        ]
        for fault in hits:
            self.history.append(
                "fault",
                self.clock.now(),
                action="hit",
                actor=call.actor,
                op=call.operation,
                **fault.describe(),
            )
        return hits

    def _pause(self, fault: Pause) -> None:
        if fault.seconds > 0:
            self.clock.sleep(fault.seconds)
            return
        target = self.newest_plan() + fault.until_plans_ahead
        if self.wait_until is None:
            raise RuntimeError(f"fault {fault.name}: pausing until a condition needs the scheduler")
        self.wait_until(lambda: self.newest_plan() >= target, f"{fault.name}: until plan {target}")

    @staticmethod
    def _fail_or_raise(request: Any, service: str, fault: Error) -> AWSResponse | BaseException:
        if fault.code == "ReadTimeout":
            return ReadTimeoutError(endpoint_url=request.url)
        if fault.code == "ConnectionError":
            return EndpointConnectionError(endpoint_url=request.url)
        return error_response(request, service, fault.code)


def moto_deliver(request: Any) -> Any:
    """Hand a prepared request to in-process moto, as its before-send stubber would."""
    from moto.core.models import botocore_stubber

    return botocore_stubber(event_name="before-send", request=request)


@shares_entries
def unmatched(faults: Iterable[Fault], entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """The faults that act on matching calls (latency, error, hold, pause, crash, DNS
    timeouts and SERVFAIL) but hit none during a run: a match that never applied."""
    from dnschaos.faults.kinds import DnsServfail, DnsTimeout

    per_call = (Latency, Error, Hold, Pause, Crash, DnsTimeout, DnsServfail)
    named = [f.name for f in faults if isinstance(f, per_call)]
    if not named:
        return []  # nothing to look for: the history is not read
    hit = {e.get("fault") for e in entries if e.get("kind") == "fault" and e.get("action") == "hit"}
    return [name for name in named if name not in hit]
