"""Phases of the cascade, measured from the downstream samples in a history.

Each phase is ``[begin, end]`` in seconds since the run began (``end`` None when
it never ended), and INCIDENT.md's own timeline gives the reference, in minutes
after the race fired at 11:48 PM.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, Final

Entry = Mapping[str, Any]

# INCIDENT.md section 3, minutes after 11:48 PM.
REFERENCE: Final[dict[str, tuple[float, float]]] = {
    "dynamodb-unreachable": (0.0, 172.0),  # 11:48 PM -> 2:40 AM
    "leases-lost": (20.0, 340.0),  # a lease timeout in -> 5:28 AM (assumed start)
    "collapse": (157.0, 266.0),  # 2:25 AM -> 4:14 AM
    "leases-restored": (266.0, 340.0),  # throttled, restarted: 4:14 AM -> all leases 5:28 AM
    "propagation-backlog": (393.0, 648.0),  # latency rises 6:21 AM -> normal 10:36 AM
    "nlb-failover": (424.0, 588.0),  # 6:52 AM -> 9:36 AM
    "recovery": (0.0, 842.0),  # the whole event, to 1:50 PM
}
ORDER: Final = tuple(REFERENCE)


def _span(samples: list[Entry], bad: Any) -> list[float | None] | None:
    begin = end = None
    for e in samples:
        if bad(e):
            if begin is None:
                begin = e["t"]
            end = None
        elif begin is not None and end is None:
            end = e["t"]
    if begin is None:
        return None
    return [begin, end]


def phases(history: Iterable[Entry], droplets: int, alarm: int) -> dict[str, list[float | None]]:
    samples = [e for e in history if e["kind"] == "downstream"]
    out: dict[str, list[float | None]] = {}
    spans = {
        "dynamodb-unreachable": _span(samples, lambda e: not e["reachable"]),
        "leases-lost": _span(samples, lambda e: e["live_leases"] < droplets),
        "propagation-backlog": _span(samples, lambda e: e["propagation_queue"] >= alarm),
        "nlb-failover": _span(samples, lambda e: e["failed_over_azs"] > 0),
    }
    re_expired = [e["t"] for e in samples if e["re_expired"]]
    if re_expired:
        spans["collapse"] = [re_expired[0], re_expired[-1]]
    # Re-leasing that gets somewhere: from the end of the collapse (or, with none, from
    # DynamoDB reachable again) to the whole fleet leased again.
    lost, unreachable = spans["leases-lost"], spans["dynamodb-unreachable"]
    since = re_expired[-1] if re_expired else (unreachable[1] if unreachable else None)
    if lost is not None and since is not None:
        spans["leases-restored"] = [since, lost[1]]

    def abnormal(e: Entry) -> bool:
        return bool(
            not e["reachable"]
            or e["live_leases"] < droplets
            or e["pending_launches"] >= 2.0
            or e["propagation_queue"] >= alarm
            or e["failed_over_azs"]
            or e["failing_targets"]
        )

    bad = [e["t"] for e in samples if abnormal(e)]
    if bad:
        after = [e["t"] for e in samples if e["t"] > bad[-1]]
        spans["recovery"] = [samples[0]["t"], after[0] if after else None]
    for name in ORDER:
        span = spans.get(name)
        if span is not None:
            out[name] = span
    return out


def compare(measured: Mapping[str, list[float | None]]) -> dict[str, dict[str, Any]]:
    """Each phase's duration beside INCIDENT.md's, in minutes, with their ratio."""
    out: dict[str, dict[str, Any]] = {}
    for name, (ref_begin, ref_end) in REFERENCE.items():
        span = measured.get(name)
        ref = ref_end - ref_begin
        row: dict[str, Any] = {"reference_minutes": [ref_begin, ref_end]}
        if span is None or span[1] is None:
            row.update(minutes=None, ratio=None)
        else:
            assert span[0] is not None
            mins = [round(span[0] / 60.0, 1), round(span[1] / 60.0, 1)]
            row.update(minutes=mins, ratio=round((mins[1] - mins[0]) / ref, 2))
        out[name] = row
    return out


def measures(history: Iterable[Entry]) -> dict[str, float]:
    """What the cascade cost, summed over the downstream samples (each covers one tick)."""
    samples = [e for e in history if e["kind"] == "downstream"]
    ticks = [b["t"] - a["t"] for a, b in itertools.pairwise(samples)]
    tick = ticks[0] / 60.0 if ticks else 1.0
    return {
        # Capacity NLB failover took out of DNS: availability zones x minutes.
        "nlb_capacity_removed_az_minutes": round(
            sum(e["failed_over_azs"] for e in samples) * tick, 1
        ),
        "launches_refused": float(sum(e["refused"] for e in samples)),
        "leases_lost_again": float(sum(e["re_expired"] for e in samples)),
        "peak_dwfm_backlog": float(max((e["dwfm_backlog"] for e in samples), default=0)),
        "peak_propagation_queue": float(max((e["propagation_queue"] for e in samples), default=0)),
        # Minutes during which NLB targets failed their health checks, summed over targets.
        "failing_target_minutes": round(sum(e["failing_targets"] for e in samples) * tick, 1),
    }
