"""incident-2025's part of the report: the cascade's phases beside INCIDENT.md's.

``plot`` draws the phases on one timeline beside INCIDENT.md's, what the downstream
did over the run and, when the result holds one, the mitigations side by side;
``section`` is the page's table of phases, measures and the comparison.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

Entry = dict[str, Any]


def plot(result: dict[str, Any], cascade: dict[str, Any], entries: Sequence[Entry]) -> bytes:
    """The cascade's phases on one timeline beside INCIDENT.md's, over the downstream samples.

    Top: per phase, the 2025 span (grey) and this run's (coloured), in minutes, with the
    ratio of durations. Middle: what the downstream did (live leases, DWFM backlog,
    propagation queue, failing NLB targets, failed-over AZs). Bottom, when the result holds
    a mitigation comparison: minutes to full recovery for each variant.
    """
    from dnschaos.report.plots import pyplot

    plt = pyplot()
    from dnschaos.workloads.incident2025.downstream.compare import difference
    from dnschaos.workloads.incident2025.downstream.compare import label as variant
    from dnschaos.workloads.incident2025.downstream.phases import ORDER, REFERENCE

    measured = cascade.get("phases", {})
    comparison = result.get("mitigation_comparison") or []
    panels = 3 if comparison else 2
    fig, axes = plt.subplots(
        panels,
        1,
        figsize=(11, 4.2 + 2.6 * (panels - 1)),
        gridspec_kw={"height_ratios": [3, 2, 1.6][:panels]},
        squeeze=False,
    )
    gantt, series = axes[0][0], axes[1][0]
    names = [n for n in ORDER if n in REFERENCE]
    for row, name in enumerate(names):
        y = len(names) - 1 - row
        ref_a, ref_b = REFERENCE[name]
        gantt.broken_barh([(ref_a, ref_b - ref_a)], (y + 0.05, 0.4), color="0.7")
        got = (measured.get(name) or {}).get("minutes")
        if got is None or got[1] is None:
            text = "did not happen" if got is None else "never ended"
            gantt.text(ref_b + 5, y - 0.25, f"this run: {text}", fontsize=8, va="center")
            continue
        a, b = got
        gantt.broken_barh([(a, max(b - a, 1.0))], (y - 0.45, 0.4), color=f"C{row}")
        ratio = measured[name].get("ratio")
        label = f"{b - a:.0f} min" + (f" (x{ratio:.2f})" if ratio is not None else "")
        gantt.text(max(b, ref_b) + 5, y - 0.25, label, fontsize=8, va="center")
    gantt.set_yticks(range(len(names)), list(reversed(names)), fontsize=9)
    gantt.set_xlabel("minutes (this run: since it began; 2025: after the race at 11:48 PM)")
    mitigations = ", ".join(cascade.get("mitigations") or []) or "none, as in 2025"
    gantt.set_title(
        f"{result.get('scenario')} · seed {(result.get('spec') or {}).get('seed')} · mitigations: {mitigations}\n"
        "each phase: INCIDENT.md's 2025 timeline (grey, upper bar) and this run (colour, lower bar)",
        loc="left",
        fontsize=10,
    )
    gantt.grid(axis="x", alpha=0.3)

    samples = [e for e in entries if e["kind"] == "downstream"]
    minutes = [e["t"] / 60.0 for e in samples]
    for key, label in (
        ("live_leases", "live leases"),
        ("dwfm_backlog", "DWFM backlog"),
        ("propagation_queue", "propagation queue"),
        ("failing_targets", "failing NLB targets"),
    ):
        series.plot(minutes, [e[key] for e in samples], label=label, linewidth=1.2)
    azs = series.twinx()
    azs.step(
        minutes,
        [e["failed_over_azs"] for e in samples],
        where="post",
        color="tab:red",
        alpha=0.6,
        label="AZs failed over",
    )
    azs.set_ylabel("AZs failed over")
    azs.set_ylim(bottom=0)
    handles = series.get_legend_handles_labels()[0] + azs.get_legend_handles_labels()[0]
    labels = series.get_legend_handles_labels()[1] + azs.get_legend_handles_labels()[1]
    if handles:
        series.legend(handles, labels, loc="upper right", fontsize=8)
    series.set_xlabel("minutes since the run began")
    # The DWFM backlog in a collapse is thousands; the rest are tens: a log scale shows both.
    series.set_yscale("symlog", linthresh=10)
    series.set_ylim(bottom=0)
    series.set_ylabel("count (log scale above 10)")
    series.set_xlim(gantt.get_xlim())

    if comparison:
        bars = axes[2][0]
        labels = [variant(r) for r in comparison]
        values = [r["recovery_minutes"] or 0.0 for r in comparison]
        bars.barh(range(len(values)), values, color=["0.5", *["tab:green"] * (len(values) - 1)])
        bars.set_yticks(range(len(labels)), labels, fontsize=8)
        bars.invert_yaxis()
        for i, r in enumerate(comparison):
            got = r["recovery_minutes"]
            note = "not reached" if got is None else f"{got:.0f} min"
            diff = difference(r)
            if diff is not None:
                note += f", {diff}"
            bars.text((got or 0.0) + 5, i, note, va="center", fontsize=8)
        bars.set_xlabel("minutes to full recovery")
        bars.set_xlim(0, max([*values, 1.0]) * 1.35)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def section(result: dict[str, Any], cascade: dict[str, Any], png: bytes | None) -> str:
    esc = html.escape
    from dnschaos.workloads.incident2025.downstream.phases import ORDER

    rows = []
    given = cascade.get("phases", {})
    # JSON results keep keys sorted; the table follows the timeline.
    for name in [n for n in ORDER if n in given] + sorted(set(given) - set(ORDER)):
        p = given[name]
        ref = p["reference_minutes"]
        got = p["minutes"]
        span = "did not happen" if got is None else f"{got[0]:.0f} to {got[1]:.0f}"
        if got is not None and got[1] is None:
            span = f"{got[0]:.0f} to (never ended)"
        ratio = "" if p["ratio"] is None else f"{p['ratio']:.2f}"
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{span}</td><td>{ref[0]:.0f} to {ref[1]:.0f}</td>"
            f"<td>{ratio}</td></tr>"
        )
    measures = "".join(
        f"<tr><th>{esc(k)}</th><td>{v:g}</td></tr>" for k, v in cascade.get("measures", {}).items()
    )
    comparison = ""
    if result.get("mitigation_comparison"):
        lines = []
        for r in result["mitigation_comparison"]:
            got = r["recovery_minutes"]
            shorter = r.get("shorter_by_minutes")
            changes = ", ".join(
                f"{k} {v:+g}" for k, v in sorted((r.get("measure_changes") or {}).items()) if v
            )
            lines.append(
                f"<tr><td>{esc(', '.join(r['mitigations']) or 'none (as in 2025)')}</td>"
                f"<td>{'not reached' if got is None else f'{got:.0f}'}</td>"
                f"<td>{'' if not r['mitigations'] or shorter is None else f'{shorter:.0f}'}</td>"
                f"<td>{esc(changes) if r['mitigations'] else ''}</td></tr>"
            )
        comparison = (
            "<h2>Mitigations side by side</h2><table><tr><th>mitigations</th>"
            "<th>full recovery (min)</th><th>shorter by (min)</th><th>measures changed</th></tr>"
            + "".join(lines)
            + "</table>"
        )
    img = ""
    if png is not None:
        img = (
            "<img alt='cascade phases of this run beside INCIDENT.md timeline' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        )
    mitigations = ", ".join(cascade.get("mitigations") or []) or "none (as in 2025)"
    return (
        f"<h2>The cascade (mitigations: {esc(mitigations)})</h2>{img}"
        "<table><tr><th>phase</th><th>this run (minutes since it began)</th>"
        "<th>2025 (minutes after 11:48 PM)</th><th>ratio of durations</th></tr>"
        + "".join(rows)
        + f"</table><table>{measures}</table>{comparison}"
    )


def impact(cascade: dict[str, Any]) -> list[str]:
    recovery = (cascade.get("phases", {}).get("recovery") or {}).get("minutes")
    if recovery and recovery[1] is not None:
        return [
            f"the cascade: full recovery {recovery[1]:.0f} minutes after the run began (phases below)"
        ]
    return []


__all__ = ["impact", "plot", "section"]
