"""Mitigations side by side: rows, labels and the printed comparison (the runs that fill
them are made by ``dnschaos.workloads.incident2025.mitigations``).

The same run (scenario, variant, seed) with each one on.

The race part of the run is the same in every variant (the downstream starts to
differ only once the leases are gone), so the rows differ by the mitigation and
nothing else. Each row gives the minutes to full recovery, how much shorter
than the baseline that is, and the cascade's measures (``phases.measures``)
with their change, so a mitigation that does not shorten recovery still shows
what it did (velocity control removes less NLB capacity, for instance).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dnschaos.workloads.incident2025.downstream.model import MITIGATIONS

Row = dict[str, Any]


def variants() -> list[list[str]]:
    """Each mitigation alone, then all of them together."""
    return [[m] for m in MITIGATIONS] + [list(MITIGATIONS)]


def recovery_minutes(cascade: Mapping[str, Any] | None) -> float | None:
    minutes = ((cascade or {}).get("phases", {}).get("recovery") or {}).get("minutes")
    return None if minutes is None or minutes[1] is None else float(minutes[1])


def row(mitigations: list[str], cascade: Mapping[str, Any] | None) -> Row:
    phases = (cascade or {}).get("phases", {})
    return {
        "mitigations": mitigations,
        "recovery_minutes": recovery_minutes(cascade),
        "measures": dict((cascade or {}).get("measures", {})),
        # Each phase's length in minutes (None: it did not happen or never ended).
        "phase_minutes": {
            name: (None if p["minutes"] is None else round(p["minutes"][1] - p["minutes"][0], 1))
            for name, p in phases.items()
        },
    }


def against(base: Row, rows: list[Row]) -> list[Row]:
    """Fill in each row's change from the baseline."""
    for r in rows:
        got, ref = r["recovery_minutes"], base["recovery_minutes"]
        r["shorter_by_minutes"] = None if got is None or ref is None else round(ref - got, 1)
        r["measure_changes"] = {
            k: round(v - base["measures"].get(k, 0.0), 1) for k, v in r["measures"].items()
        }
    return rows


_SHOWN = (
    ("nlb_capacity_removed_az_minutes", "NLB capacity removed (AZ-min)"),
    ("leases_lost_again", "leases lost again"),
    ("launches_refused", "launches refused"),
    ("failing_target_minutes", "failing target-min"),
)


def label(r: Row) -> str:
    """A row's name: its mitigations, or what having none or all of them means."""
    if len(r["mitigations"]) == len(MITIGATIONS):
        return "all together"
    return ", ".join(r["mitigations"]) or "none (as in 2025)"


def difference(r: Row) -> str | None:
    """'N min shorter' (or longer) than the baseline; None for the baseline or no recovery."""
    shorter = r.get("shorter_by_minutes")
    if not r["mitigations"] or shorter is None:
        return None
    return f"{shorter:.0f} min shorter" if shorter >= 0 else f"{-shorter:.0f} min longer"


def lines(rows: list[Row]) -> list[str]:
    """The comparison as printed: recovery first, then what each mitigation changed."""
    out = ["time to full recovery, minutes after the run began, and what each mitigation changed:"]
    for r in rows:
        got = r["recovery_minutes"]
        text = f"  {label(r):22} " + ("not reached" if got is None else f"{got:6.0f} min")
        diff = difference(r)
        if diff is not None:
            text += f"  ({diff})"
        changes = r.get("measure_changes", {})
        if r["mitigations"]:
            moved = [
                f"{title} {r['measures'][key]:.0f} ({changes[key]:+.0f})"
                for key, title in _SHOWN
                if changes.get(key)
            ]
            text += "; " + ("; ".join(moved) if moved else "no measure changed")
        out.append(text)
    return out


def cascade_lines(cascade: dict[str, Any]) -> list[str]:
    """What the CLI prints of a cascade result: its phases beside INCIDENT.md's."""
    out: list[str] = []
    mitigations = ", ".join(cascade["mitigations"]) or "none (as in 2025)"
    out.append(
        f"the cascade (mitigations: {mitigations}), minutes since the run began "
        "(the race fires in its first minute) vs INCIDENT.md's minutes after 11:48 PM:"
    )
    for name, row in cascade["phases"].items():
        ref = row["reference_minutes"]
        if row["minutes"] is None:
            got = "did not happen" if name != "recovery" else "not reached"
            out.append(f"  {name:22} {got:>22}   2025: {ref[0]:.0f}-{ref[1]:.0f}")
        else:
            a, b = row["minutes"]
            out.append(
                f"  {name:22} {a:8.0f}-{b:<8.0f} ({b - a:4.0f})   2025: {ref[0]:.0f}-{ref[1]:.0f} "
                f"({ref[1] - ref[0]:.0f}); ratio {row['ratio']:.2f}"
            )
    m = cascade.get("measures") or {}
    if m:
        out.append(
            f"  NLB capacity removed {m['nlb_capacity_removed_az_minutes']:.0f} AZ-minutes; "
            f"{m['leases_lost_again']:.0f} leases lost again; "
            f"{m['launches_refused']:.0f} launches refused; peak DWFM backlog "
            f"{m['peak_dwfm_backlog']:.0f}; peak propagation queue {m['peak_propagation_queue']:.0f}"
        )
    if cascade["phases"].get("dynamodb-unreachable", {}).get("minutes") is None:
        out.append(
            "  the race did not empty the endpoint with this seed: no cascade (try another --seed)"
        )
    return out
