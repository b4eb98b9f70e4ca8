"""The static timeline plot of a run (``report -o timeline.png``): one panel per name with
the active plan generation, the addresses the root can answer with, what probes got, lock
holders, fault windows and violations. It needs matplotlib (``pip install
dnschaos[report]``); the HTML page does not."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from dnschaos.report.page import _endpoints

Entry = dict[str, Any]


# What needs matplotlib (the ``report`` extra); the HTML page alone does not.
PLOTS = "the PNG plots (report -o PLOT.png, and a cascade result's plot)"


def pyplot() -> Any:
    """matplotlib's pyplot, drawing off screen (exit 2 naming the extra when it is missing)."""
    from dnschaos.extras import require

    require("report", PLOTS)
    import matplotlib

    matplotlib.use("Agg")  # headless: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    return plt


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
    plt = pyplot()
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


__all__ = ["PLOTS", "pyplot", "timeline_png"]
