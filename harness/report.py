"""Reports: a timeline plot and one self-contained HTML page per result.

The plot has one panel per endpoint: the active plan generation over time (the
root's target, from the history's observations), the number of addresses the
root can answer with (control plane) and, when probes ran, what clients got;
a lane per enactor showing when it believed it held the lock; fault windows
shaded; violations marked. The HTML page carries the verdict, the story, the
violations, every checker's status and the plot, inline: no file or network
access is needed to open it.

A cascade result (``cascade-2025``) adds a second plot, ``cascade_png``: its
phases on one timeline beside INCIDENT.md's, what the downstream did over the
run and, when the result holds one, the mitigations side by side.
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit
import matplotlib.pyplot as plt

from dnschaos.checkers import headline_dict

Entry = dict[str, Any]


def worst(violations: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The violation a story should be told about (the common headline rule)."""
    return headline_dict(violations)


def _endpoints(entries: Sequence[Entry], violations: Sequence[dict[str, Any]] = ()) -> list[str]:
    """Endpoints with a violation first (that is where the story is), then by name."""
    names = {e["endpoint"] for e in entries if e["kind"] in ("observe", "probe")}
    hit = {v["endpoint"] for v in violations}
    return sorted(names, key=lambda n: (n not in hit, n))


def _lock_intervals(
    entries: Sequence[Entry], endpoint: str, end: float
) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    held: dict[str, tuple[float, float]] = {}
    for e in entries:
        if e["kind"] != "event" or e.get("endpoint") != endpoint:
            continue
        if e["event"] in ("lock-taken", "lock-renewed"):
            start = (
                held[e["actor"]][0]
                if e["actor"] in held and e["event"] == "lock-renewed"
                else e["t"]
            )
            held[e["actor"]] = (start, e["t"] + float(e["held_for"]))
        elif e["event"] == "lock-released" and e["actor"] in held:
            start, _ = held.pop(e["actor"])
            out[e["actor"]].append((start, e["t"]))
    for actor, (start, until) in held.items():
        out[actor].append((start, min(until, end)))
    return out


def _faults(entries: Sequence[Entry]) -> list[tuple[str, float, float]]:
    open_: dict[str, float] = {}
    spans: list[tuple[str, float, float]] = []
    end = entries[-1]["t"] if entries else 0.0
    for e in entries:
        if e["kind"] != "fault":
            continue
        if e.get("action") == "activate":
            open_[e["fault"]] = e["t"]
        elif e.get("action") == "heal" and e["fault"] in open_:
            spans.append((e["fault"], open_.pop(e["fault"]), e["t"]))
    spans += [(name, start, end) for name, start in open_.items()]
    return spans


def timeline_png(result: dict[str, Any], entries: Sequence[Entry]) -> bytes:
    endpoints = _endpoints(entries, result.get("violations", [])) or ["(no endpoint observed)"]
    last = max((e["t"] for e in entries), default=1.0) or 1.0
    end = last * 1.04 + 1  # show the final state for a moment, not just its first instant
    fig, axes = plt.subplots(
        2 * len(endpoints),
        1,
        figsize=(11, 3.6 * len(endpoints)),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1] * len(endpoints)},
        squeeze=False,
    )
    faults = _faults(entries)
    for i, endpoint in enumerate(endpoints):
        ax, lanes = axes[2 * i][0], axes[2 * i + 1][0]
        obs = [e for e in entries if e["kind"] == "observe" and e["endpoint"] == endpoint]
        ts = [e["t"] for e in obs] + [end]
        gens = [e["root"] if e["root"] is not None else float("nan") for e in obs]
        if obs:
            ax.step(
                ts, [*gens, gens[-1]], where="post", color="tab:blue", label="active plan (root)"
            )
        ax.set_ylabel("plan generation")
        ax.set_title(
            f"{endpoint}  ·  {result.get('variant')} · seed {result.get('seed')}", loc="left"
        )
        counts = ax.twinx()
        if obs:
            total = [sum(e["addresses"].values()) if e["addresses"] else 0 for e in obs]
            counts.step(
                ts,
                [*total, total[-1]],
                where="post",
                color="tab:green",
                alpha=0.7,
                label="addresses (control plane)",
            )
        probes = [e for e in entries if e["kind"] == "probe" and e["endpoint"] == endpoint]
        for view, marker in (("authoritative", "o"), ("cached", "x")):
            pts = [e for e in probes if e["view"] == view]
            if pts:
                counts.plot(
                    [e["t"] for e in pts],
                    [e["answers"] for e in pts],
                    marker,
                    ms=3,
                    label=f"answers seen ({view})",
                )
        counts.set_ylabel("addresses")
        counts.set_ylim(bottom=0)
        for name, start, stop in faults:
            ax.axvspan(start, stop, color="tab:orange", alpha=0.15, label=f"fault: {name}")
        for v in result.get("violations", []):
            if v["endpoint"] == endpoint:
                ax.axvline(v["t"], color="tab:red", linestyle="--", linewidth=1.2)
                ax.annotate(
                    v["invariant"],
                    (v["t"], ax.get_ylim()[1]),
                    color="tab:red",
                    fontsize=8,
                    rotation=90,
                    va="top",
                    ha="right",
                )
        handles = ax.get_legend_handles_labels()[0] + counts.get_legend_handles_labels()[0]
        labels = ax.get_legend_handles_labels()[1] + counts.get_legend_handles_labels()[1]
        if handles:
            ax.legend(handles, labels, loc="upper left", fontsize=8)
        intervals = _lock_intervals(entries, endpoint, end)
        actors = sorted(intervals)
        for row, actor in enumerate(actors):
            lanes.broken_barh(
                [(s, max(e - s, end / 500)) for s, e in intervals[actor]],
                (row - 0.4, 0.8),
                color="tab:purple",
            )
        lanes.set_yticks(range(len(actors)), actors, fontsize=8)
        lanes.set_ylabel("lock held", fontsize=8)
        lanes.set_ylim(-0.6, max(len(actors), 1) - 0.4)
    axes[-1][0].set_xlabel("virtual seconds since the run started")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def cascade_png(result: dict[str, Any], entries: Sequence[Entry]) -> bytes:
    """The cascade's phases on one timeline beside INCIDENT.md's, over the downstream samples.

    Top: per phase, the 2025 span (grey) and this run's (coloured), in minutes, with the
    ratio of durations. Middle: what the downstream did (live leases, DWFM backlog,
    propagation queue, failing NLB targets, failed-over AZs). Bottom, when the result holds
    a mitigation comparison: minutes to full recovery for each variant.
    """
    from dnschaos.downstream.compare import difference
    from dnschaos.downstream.compare import label as variant
    from dnschaos.downstream.phases import ORDER, REFERENCE

    cascade = result.get("cascade") or {}
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
        f"{result.get('scenario')} · seed {result.get('seed')} · mitigations: {mitigations}\n"
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


def _cascade_html(result: dict[str, Any], png: bytes | None) -> str:
    cascade = result.get("cascade")
    if not cascade:
        return ""
    esc = html.escape
    from dnschaos.downstream.phases import ORDER

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


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.4rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin-top:1.6rem}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:.3rem;color:#fff;font-weight:600}
.fail{background:#c62828}.pass{background:#2e7d32}.unknown{background:#6d6d6d}
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.8rem;overflow-x:auto}img{max-width:100%;border:1px solid #ddd}
code{font-size:.9em}
"""


def render_html(
    result: dict[str, Any], story: Sequence[str], png: bytes, cascade: bytes | None = None
) -> str:
    esc = html.escape
    verdict = str(result.get("verdict", "unknown"))
    meta = [
        ("scenario", result.get("scenario")),
        ("variant", result.get("variant")),
        ("seed", result.get("seed")),
        ("strategy", result.get("strategy")),
        ("clock", result.get("clock")),
        ("steps", result.get("steps")),
        ("virtual seconds", result.get("virtual_seconds")),
        ("wall seconds", result.get("wall_seconds")),
        ("stopped", result.get("reason")),
        ("trace digest", result.get("trace_digest")),
    ]
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td><code>{esc(str(v))}</code></td></tr>" for k, v in meta
    )
    violations = (
        "".join(
            f"<tr><td>{esc(v['invariant'])}</td><td>{esc(v['endpoint'])}</td><td>{v['t']:.1f}s</td><td>{esc(v['detail'])}</td></tr>"
            for v in result.get("violations", [])
        )
        or "<tr><td colspan=4>none</td></tr>"
    )
    checks = "".join(
        f"<tr><td>{esc(c['checker'])}</td><td><span class='badge {esc(c['status'])}'>{esc(c['status'])}</span></td>"
        f"<td>{esc(c.get('error') or '')}</td></tr>"
        for c in result.get("checkers", [])
    )
    story_text = (
        esc("\n".join(story)) if story else "Every invariant held; there is no violation to tell."
    )
    img = base64.b64encode(png).decode()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>dnschaos report: {esc(str(result.get("scenario")))} {esc(str(result.get("variant")))} seed {esc(str(result.get("seed")))}</title>
<style>{_CSS}</style></head>
<body>
<h1>{esc(str(result.get("scenario")))} · variant {esc(str(result.get("variant")))} · <span class="badge {esc(verdict)}">{esc(verdict.upper())}</span></h1>
<table>{rows}</table>
<h2>Story</h2>
<pre>{story_text}</pre>
<h2>Timeline</h2>
<img alt="timeline: active plan, addresses, lock holders, faults and violations over virtual time" src="data:image/png;base64,{img}">
{_cascade_html(result, cascade)}
<h2>Violations</h2>
<table><tr><th>invariant</th><th>endpoint</th><th>time</th><th>detail</th></tr>{violations}</table>
<h2>Checkers</h2>
<table><tr><th>checker</th><th>status</th><th>error</th></tr>{checks}</table>
</body></html>
"""
