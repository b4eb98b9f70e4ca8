"""Yield points at the AWS API boundary, from botocore's event system.

For each actor's boto3 client:

* ``before-parameter-build``: the call is recorded (actor, operation, key
  parameters) and the actor yields. This event fires before the request is
  serialised and long before moto's handler (a ``before-send`` hook) touches any
  state, so the scheduler decides *before* the effect whether another actor
  runs first. Optional latency is a virtual sleep at the same place.
* ``after-call`` / ``after-call-error``: the outcome is recorded and the actor
  yields again, so a response can be "delivered late".
* ``needs-retry``: botocore's own retry decision is kept, but its jitter comes
  from the actor's seeded generator and its wait is a virtual sleep, not
  ``time.sleep``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.sim.scheduler import Scheduler

log = logging.getLogger(__name__)


# (the actor's generator, botocore's service id, the operation) -> seconds of virtual latency
Latency = Callable[[random.Random, str, str], float]


def _rrset_text(change: dict[str, Any]) -> str:
    rr = change.get("ResourceRecordSet", {})
    value: str
    if "AliasTarget" in rr:
        value = "-> " + str(rr["AliasTarget"].get("DNSName", ""))
    else:
        value = ",".join(str(r.get("Value")) for r in rr.get("ResourceRecords", []))
    set_id = f" [{rr['SetIdentifier']}]" if "SetIdentifier" in rr else ""
    return f"{change.get('Action')} {rr.get('Name')} {rr.get('Type')}{set_id} {value}"


def summarize(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters worth keeping in the history for one call."""
    if operation == "ChangeResourceRecordSets":
        changes = params.get("ChangeBatch", {}).get("Changes", [])
        return {"zone": params.get("HostedZoneId"), "changes": [_rrset_text(c) for c in changes]}
    if operation == "ListResourceRecordSets":
        out = {"zone": params.get("HostedZoneId")}
        for key in ("StartRecordName", "StartRecordType", "StartRecordIdentifier", "MaxItems"):
            if key in params:
                out[key] = params[key]
        return out
    if operation in ("PutItem", "GetItem", "DeleteItem", "UpdateItem"):
        item = params.get("Item") or params.get("Key") or {}
        return {"table": params.get("TableName"), "generation": item.get("generation", {}).get("N")}
    if operation in ("Query", "Scan"):
        return {"table": params.get("TableName"), "limit": params.get("Limit")}
    return {k: v for k, v in sorted(params.items()) if isinstance(v, (str, int, float, bool))}


def _outcome(operation: str, parsed: dict[str, Any], status: int) -> dict[str, Any]:
    error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
    if error:
        return {"status": status, "error": error.get("Code"), "message": error.get("Message")}
    out: dict[str, Any] = {"status": status}
    if operation == "ChangeResourceRecordSets":
        info = parsed.get("ChangeInfo", {})
        out["change"] = info.get("Id")
        out["change_status"] = info.get("Status")
    elif operation == "ListResourceRecordSets":
        out["records"] = len(parsed.get("ResourceRecordSets", []))
    elif operation in ("Query", "Scan"):
        out["items"] = len(parsed.get("Items", []))
    return out


def instrument(
    client: Any,
    scheduler: Scheduler | None,
    history: History,
    *,
    actor: str,
    rng: random.Random,
    clock: Clock,
    latency: Latency | None = None,
    on_complete: Callable[[str], None] | None = None,
) -> None:
    """Record every call of ``client``; with a scheduler, make each a pair of yield points.

    Without a scheduler (``--clock real``) the calls are recorded and their latency is
    slept on ``clock``, but nobody decides the interleaving: threads run freely.
    ``on_complete(operation)`` runs after each successful call (the runner observes
    Route 53 there).
    """
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()

    def pause(label: str) -> None:
        if scheduler is not None:
            scheduler.yield_point(label)

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        op = model.name
        if latency is not None:
            delay = latency(rng, service, op)
            if delay > 0:
                clock.sleep(delay)
        history.append(
            "invoke", clock.now(), actor=actor, service=service, op=op, params=summarize(op, params)
        )
        pause(f"call {service}.{op}")

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        status = getattr(http_response, "status_code", 0)
        history.append(
            "complete",
            clock.now(),
            actor=actor,
            service=service,
            op=model.name,
            outcome=_outcome(model.name, parsed, status),
        )
        if on_complete is not None and status < 300:
            on_complete(model.name)
        pause(f"done {service}.{model.name}")

    def after_error(exception: BaseException, event_name: str = "", **_: Any) -> None:
        # botocore's after-call-error carries no operation model: the name ends the event.
        op = event_name.rsplit(".", 1)[-1] if event_name else "?"
        history.append(
            "complete",
            clock.now(),
            actor=actor,
            service=service,
            op=op,
            outcome={"status": 0, "error": type(exception).__name__, "message": str(exception)},
        )
        pause(f"done {service}.{op}")

    events.register(
        f"before-parameter-build.{service}", before, unique_id=f"dnschaos-before-{service}"
    )
    events.register(f"after-call.{service}", after, unique_id=f"dnschaos-after-{service}")
    events.register(
        f"after-call-error.{service}", after_error, unique_id=f"dnschaos-error-{service}"
    )
    _virtualize_retries(client, service, clock.sleep, rng)


def _virtualize_retries(
    client: Any, service: str, sleep: Callable[[float], None], rng: random.Random
) -> None:
    events = client.meta.events
    unique_id = f"retry-config-{service}"
    emitter = getattr(events, "_emitter", events)
    entry = getattr(emitter, "_unique_id_handlers", {}).get(unique_id)
    if entry is None:
        log.warning(
            "botocore retry handler %s not found; its retries would sleep in wall time", unique_id
        )
        return
    original = entry["handler"]
    handler = getattr(original, "__self__", None)
    backoff = getattr(getattr(handler, "_retry_policy", None), "_retry_backoff", None)
    if backoff is not None and hasattr(backoff, "_random"):
        backoff._random = rng.random  # botocore's jitter, from the actor's seeded generator
    events.unregister(f"needs-retry.{service}", unique_id=unique_id)

    def needs_retry(**kwargs: Any) -> float | None:
        delay = original(**kwargs)
        if delay is None:
            return None
        sleep(float(delay))  # the wait happens on the virtual clock...
        return 0  # ...so botocore's own time.sleep waits for nothing

    events.register(f"needs-retry.{service}", needs_retry, unique_id=unique_id)
