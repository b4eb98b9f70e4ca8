"""Reports: one self-contained HTML page per result, and a timeline plot.

The page shows the failure first: what clients saw and for how long, the story
(each line linked to the history entries behind it), then an interactive
timeline (inline SVG drawn by a little inline script) that opens on the window
around the first violation, with a lane per actor for its AWS calls, the locks
it believed it held and the faults that hit it. Then the violations in time
order, the faults with their hit counts, the command that reproduces the run,
the history entries the page links to, the run's parameters and versions. It
needs no file and no network: everything is inline.

``timeline_png`` is the static plot (``report -o timeline.png``): one panel per
endpoint with the active plan generation, the addresses the root can answer
with, what probes got, lock holders, fault windows and violations.

A cascade result (``cascade-2025``) adds a second plot, ``cascade_png``: its
phases on one timeline beside INCIDENT.md's, what the downstream did over the
run and, when the result holds one, the mitigations side by side.
"""

from __future__ import annotations

import base64
import html
import io
import json
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


def _aws_html(result: dict[str, Any]) -> str:
    """--target aws: which account, region, partition and endpoints the calls went to, and
    what cleanup did; a reader can check the run touched what it was meant to."""
    aws = result.get("aws")
    if not aws:
        return ""
    esc = html.escape
    where = "the rehearsal's loopback stand-in" if aws.get("standin") else "AWS"
    facts = [
        ("account", aws.get("account")),
        ("region", aws.get("region")),
        ("partition", aws.get("partition") or "not recorded"),
        *((f"{k} endpoint", v) for k, v in (aws.get("endpoints") or {}).items()),
        ("proxy", aws.get("proxy") or "none"),
        ("credentials from", aws.get("credentials") or "not recorded"),
        ("profile", aws.get("profile") or "default"),
        ("run id", aws.get("run_id")),
        ("journal", aws.get("journal")),
    ]
    rows = "".join(
        f"<tr><th>{esc(str(k))}</th><td><code>{esc(str(v))}</code></td></tr>" for k, v in facts
    )
    cleanup = aws.get("cleanup") or {}
    items = [
        *(f"deleted {x}" for x in cleanup.get("deleted", [])),
        *(f"not ours, left alone: {x}" for x in cleanup.get("left_alone", [])),
        *(f"bad journal: {x}" for x in cleanup.get("bad_journal", [])),
        *(f"could not delete {x}" for x in cleanup.get("errors", [])),
        *(f"not used: {x}" for x in aws.get("ignored", [])),
        *(f"refused: {x}" for x in aws.get("refused_requests", [])),
    ]
    listed = "".join(f"<li>{esc(x)}</li>" for x in items) or "<li>nothing deleted</li>"
    return (
        f"<section id='aws'><h2>Account: {esc(where)}</h2>"
        "<p>Every request was checked against its service's endpoint below before it was "
        f"sent.</p><table class='aws'>{rows}</table><ul>{listed}</ul></section>"
    )


# --- the page ---------------------------------------------------------------------------

# How much of the run the timeline opens on: a tenth of it around the first violation,
# at least a few seconds (the calls that led to it) and at most two minutes.
_FOCUS_MIN, _FOCUS_MAX, _FOCUS_SHARE = 6.0, 120.0, 0.1
# Entries of the focus window listed on the page besides the ones a line or row links to.
_WINDOW_ENTRIES = 300
_FAULT_COLOURS = ("#e65100", "#8e24aa", "#00897b", "#6d4c41", "#c2185b", "#827717")
_LOCK_OVER = frozenset({"lock-released", "lock-releasing", "release-failed", "lock-lost"})


def _by_time(violations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(violations, key=lambda v: (v["t"], v["seq"], v["invariant"]))


def _run_end(result: dict[str, Any], entries: Sequence[Entry]) -> float:
    last = max((float(e["t"]) for e in entries), default=0.0)
    return max(last, float(result.get("virtual_seconds") or 0.0))


def focus_window(result: dict[str, Any], entries: Sequence[Entry]) -> tuple[float, float]:
    """The span the timeline opens on: around the first violation (or the whole run)."""
    end = _run_end(result, entries)
    violations = _by_time(result.get("violations", []))
    if not violations:
        return 0.0, max(end, 1.0)
    t = float(violations[0]["t"])
    width = min(max(end * _FOCUS_SHARE, _FOCUS_MIN), _FOCUS_MAX)
    # Most of the window before the violation: that is where its causes are.
    start = max(0.0, t - width * 0.75)
    return start, start + width


def _calls(entries: Sequence[Entry], end: float) -> list[tuple[Entry, Entry | None]]:
    """Each AWS call as (invoke, complete); an actor has one call in flight at a time."""
    pending: dict[str, Entry] = {}
    out: list[tuple[Entry, Entry | None]] = []
    for e in entries:
        if e["kind"] == "invoke":
            pending[str(e.get("actor"))] = e
        elif e["kind"] == "complete":
            call = pending.pop(str(e.get("actor")), None)
            out.append((call if call is not None else e, e))
    out += [(call, None) for call in pending.values()]
    return out


def _locks(entries: Sequence[Entry], end: float) -> list[tuple[str, str, float, float]]:
    """(actor, endpoint, from, until): when each actor believed it held each lock."""
    held: dict[tuple[str, str], tuple[float, float]] = {}
    out: list[tuple[str, str, float, float]] = []

    def close(key: tuple[str, str], t: float) -> None:
        start, until = held.pop(key)
        out.append((*key, start, min(until, t)))

    for e in entries:
        if e["kind"] == "fault" and e.get("action") == "crashed":
            for key in [k for k in held if k[0] == e.get("actor")]:
                close(key, e["t"])
        if e["kind"] != "event":
            continue
        if e["event"] == "pass-failed":
            for key in [k for k in held if k[0] == e.get("actor")]:
                close(key, e["t"])
            continue
        if "endpoint" not in e:
            continue
        key = (str(e["actor"]), str(e["endpoint"]))
        if e["event"] in ("lock-taken", "lock-renewed"):
            if key in held and held[key][1] < e["t"]:
                close(key, e["t"])  # the lease ran out before this take: two holdings
            start = held[key][0] if key in held else e["t"]
            held[key] = (start, e["t"] + float(e.get("held_for") or 0.0))
        elif e["event"] in _LOCK_OVER and key in held:
            close(key, e["t"])
    for key in list(held):
        close(key, end)
    return out


def _fault_spans(entries: Sequence[Entry], end: float) -> dict[str, list[tuple[float, float]]]:
    open_: dict[str, float] = {}
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for e in entries:
        if e["kind"] != "fault" or "fault" not in e:
            continue
        if e.get("action") == "activate":
            open_.setdefault(e["fault"], e["t"])
        elif e.get("action") == "heal" and e["fault"] in open_:
            spans[e["fault"]].append((open_.pop(e["fault"]), e["t"]))
    for name, start in open_.items():
        spans[name].append((start, end))
    return spans


def fault_rows(entries: Sequence[Entry], end: float) -> list[dict[str, Any]]:
    """One row per fault: its kind, match, windows, and how often it hit whom and what."""
    spans = _fault_spans(entries, end)
    rows: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["kind"] != "fault" or "fault" not in e:
            continue
        row = rows.setdefault(
            e["fault"],
            {
                "fault": e["fault"],
                "kind": e.get("fault_kind", ""),
                "matcher": e.get("matcher", ""),
                "hits": 0,
                "actors": defaultdict(int),
                "ops": defaultdict(int),
                "first_hit_seq": None,
            },
        )
        if e.get("action") in ("activate", "heal"):
            continue
        row["hits"] += 1
        if row["first_hit_seq"] is None:
            row["first_hit_seq"] = e["seq"]
        if e.get("actor"):
            row["actors"][e["actor"]] += 1
        if e.get("op"):
            row["ops"][e["op"]] += 1
    for name, row in rows.items():
        row["windows"] = spans.get(name, [])
        row["actors"] = dict(sorted(row["actors"].items()))
        row["ops"] = dict(sorted(row["ops"].items()))
    return sorted(rows.values(), key=lambda r: (-r["hits"], r["fault"]))


def _served(result: dict[str, Any], entries: Sequence[Entry], end: float) -> list[str]:
    """Without probes, the impact as Route 53 served it: when each endpoint's root pointed
    at an older plan than it had served, or at nothing that answers."""
    observed: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e["kind"] == "observe":
            observed[e["endpoint"]].append(e)
    lines = []
    for endpoint, obs in sorted(observed.items()):
        spans: list[list[Any]] = []
        newest: int | None = None
        answered = False
        for i, o in enumerate(obs):
            until = obs[i + 1]["t"] if i + 1 < len(obs) else end
            total = sum((o.get("addresses") or {}).values())
            problem = None
            if o["root"] is not None and newest is not None and o["root"] < newest:
                problem = f"served plan {o['root']}, older than plan {newest} it had served"
            elif answered and (total == 0 or not o.get("root_exists")):
                problem = "answered with no addresses"
            if problem is not None:
                if spans and spans[-1][2] == problem and spans[-1][1] == o["t"]:
                    spans[-1][1] = until
                else:
                    spans.append([o["t"], until, problem])
            answered = answered or total > 0
            if o["root"] is not None:
                newest = max(newest or 0, o["root"])
        if not spans:
            lines.append(f"{endpoint}: always the newest plan it had, with addresses")
        for a, b, problem in spans:
            when = f"from t={a:.1f}s" + (f" to t={b:.1f}s ({b - a:.1f}s)" if b > a else "")
            if b >= end:
                when += ", when the run stopped" + (
                    " at its first violation (--keep-going shows how long it lasts)"
                    if result.get("stop_on_violation")
                    else ""
                )
            lines.append(f"{endpoint}: {problem} {when}")
    return lines


def impact_lines(result: dict[str, Any], entries: Sequence[Entry]) -> tuple[str, list[str]]:
    """What the failure did: a heading and its lines (the CLI's "what clients saw" when
    probes ran; otherwise what Route 53 served)."""
    dns = result.get("dns")
    if dns and dns.get("endpoints"):
        from dnschaos.metrics import describe

        head, *lines = describe(dns)
        return head[0].upper() + head[1:].rstrip(":"), lines
    end = _run_end(result, entries)
    if any(e["kind"] == "observe" for e in entries):
        return (
            "What Route 53 served (no DNS server ran, so no client was asked)",
            _served(result, entries, end),
        )
    # A run of the user's own actors observes no endpoint: its invariants say what broke.
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in _by_time(result.get("violations", [])):
        by_kind[v["invariant"]].append(v)
    lines = [
        f"{name}: {len(found)} violation{'s' if len(found) != 1 else ''} from "
        f"t={found[0]['t']:.1f}s to the end of the run at t={end:.1f}s "
        f"({end - found[0]['t']:.1f}s); first: {found[0]['endpoint']}: {found[0]['detail']}"
        for name, found in by_kind.items()
    ]
    return "What the invariants saw (no DNS server ran and no endpoint was observed)", lines


def _compact(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_entry(e: Entry) -> str:
    """One history entry in a line: the call, the outcome, the event and its fields."""
    skip = {"seq", "t", "kind", "actor", "op", "service", "event"}
    fields = ", ".join(
        f"{k}={_compact(v)}"
        for k, v in sorted(e.items())
        if k not in skip and k not in ("params", "outcome")
    )
    if e["kind"] == "invoke":
        params = e.get("params") or {}
        args = ", ".join(f"{k}={_compact(v)}" for k, v in sorted(params.items()))
        return f"{e.get('service', '')} {e['op']}({args})"
    if e["kind"] == "complete":
        outcome = e.get("outcome") or {}
        return f"{e['op']} → " + ", ".join(f"{k}={_compact(v)}" for k, v in sorted(outcome.items()))
    if e["kind"] == "event":
        return f"{e['event']}: {fields}" if fields else str(e["event"])
    return fields


def _story(
    result: dict[str, Any], entries: Sequence[Entry]
) -> tuple[dict[str, Any] | None, list[Any]]:
    from dnschaos.checkers import Violation
    from dnschaos.story import lines

    picked = worst(result.get("violations", []))
    if picked is None:
        return None, []
    violation = Violation(
        picked["invariant"], picked["endpoint"], picked["t"], picked["detail"], picked["seq"]
    )
    return picked, lines(entries, violation)


def _listed(
    result: dict[str, Any],
    entries: Sequence[Entry],
    story: Sequence[Any],
    window: tuple[float, float],
) -> list[Entry]:
    """The history entries the page lists: every one a story line or violation links to,
    and those of the focus window nearest the first violation."""
    wanted = {s for line in story for s in line.seqs} | {
        v["seq"] for v in result.get("violations", [])
    }
    first = _by_time(result.get("violations", []))
    pivot = float(first[0]["t"]) if first else window[1]
    near = [
        e
        for e in entries
        if window[0] <= e["t"] <= window[1] and e["kind"] not in ("choice", "clock")
    ]
    near.sort(key=lambda e: (abs(e["t"] - pivot), e["seq"]))
    wanted |= {e["seq"] for e in near[:_WINDOW_ENTRIES]}
    return [e for e in entries if e["seq"] in wanted]


def timeline_data(
    result: dict[str, Any],
    entries: Sequence[Entry],
    story: Sequence[Any],
    linked: set[int],
) -> dict[str, Any]:
    """What the page's script draws: lanes, and bars and marks in them, in virtual seconds."""
    from dnschaos.metrics import dns_metrics

    end = _run_end(result, entries)
    lanes: list[dict[str, str]] = []
    bars: list[list[Any]] = []
    marks: list[list[Any]] = []

    def lane(label: str, kind: str, title: str) -> int:
        lanes.append({"label": label, "kind": kind, "title": title})
        return len(lanes) - 1

    def seq_of(*seqs: int) -> int:
        return next((s for s in seqs if s in linked), -1)

    faults = fault_rows(entries, end)
    colour = {row["fault"]: i % len(_FAULT_COLOURS) for i, row in enumerate(faults)}
    for row in faults:
        i = lane(f"fault {row['fault']}", "fault", f"{row['kind']} {row['matcher']}")
        for a, b in row["windows"]:
            bars.append(
                [i, a, b, f"fault f{colour[row['fault']]}", f"{row['fault']} active", -1, ""]
            )

    observed: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e["kind"] == "observe":
            observed[e["endpoint"]].append(e)
    for endpoint in _endpoints(entries, result.get("violations", [])):
        obs = observed.get(endpoint, [])
        if not obs:
            continue
        i = lane(f"root {endpoint}", "root", f"the plan {endpoint}'s root points at")
        newest = 0
        for k, o in enumerate(obs):
            until = obs[k + 1]["t"] if k + 1 < len(obs) else end
            total = sum((o.get("addresses") or {}).values())
            if o["root"] is None:
                continue
            cls = "plan"
            if o["root"] < newest:
                cls = "plan stale"
            elif not o.get("root_exists") or total == 0:
                cls = "plan empty"
            newest = max(newest, o["root"])
            title = f"root → plan {o['root']} ({total} addresses, rollback plan {o['rollback']})"
            bars.append([i, o["t"], until, cls, title, seq_of(o["seq"]), f"plan {o['root']}"])
    for endpoint, views in sorted(dns_metrics(entries).items()):
        for view, m in sorted(views.items()):
            i = lane(f"clients {endpoint} [{view}]", "clients", "probes without addresses")
            for a, b in m["outages"]:
                stop = b if b is not None else end
                bars.append(
                    [i, a, stop, "outage", f"{view}: no addresses {a:.1f}s to {stop:.1f}s", -1, ""]
                )

    actors: list[str] = []
    for line in story:
        if line.actor and line.actor not in actors:
            actors.append(line.actor)
    called = {
        str(e["actor"]) for e in entries if e["kind"] in ("invoke", "event") and e.get("actor")
    }
    actors += sorted(called - set(actors))
    row_of = {
        actor: lane(actor, "actor", f"{actor}: AWS calls, locks held, faults") for actor in actors
    }
    for call, done in _calls(entries, end):
        actor = str(call.get("actor"))
        if actor not in row_of:
            continue
        outcome = (done or {}).get("outcome") or {}
        failed = done is None or "error" in outcome or int(outcome.get("status", 200)) >= 400
        service = str(call.get("service", "")).replace("-", "")
        cls = f"call {service}" + (" failed" if failed else "")
        title = f"{call.get('service', '')} {call['op']}"
        if done is None:
            title += " (never completed)"
        elif failed:
            title += f" → {outcome.get('error') or outcome.get('status')}"
        stop = done["t"] if done is not None else end
        link = seq_of(call["seq"], *([done["seq"]] if done is not None else []))
        bars.append([row_of[actor], call["t"], stop, cls, f"{title} (#{call['seq']})", link, ""])
    for actor, endpoint, a, b in _locks(entries, end):
        if actor in row_of:
            bars.append(
                [row_of[actor], a, b, "lock", f"believes it holds the lock of {endpoint}", -1, ""]
            )
    for e in entries:
        actor = str(e.get("actor"))
        if actor not in row_of:
            continue
        if e["kind"] == "fault" and e.get("action") not in ("activate", "heal"):
            f = colour.get(e.get("fault", ""), 0)
            what = f"{e.get('fault')} {e.get('action')}" + (f" {e['op']}" if e.get("op") else "")
            marks.append(
                [
                    row_of[actor],
                    e["t"],
                    f"hit f{f}",
                    f"fault: {what} (#{e['seq']})",
                    seq_of(e["seq"]),
                    "",
                ]
            )
        elif e["kind"] == "event" and e["event"] in ("lock-busy", "lock-lost"):
            marks.append(
                [
                    row_of[actor],
                    e["t"],
                    "lockfail",
                    f"{e['event']} (#{e['seq']})",
                    seq_of(e["seq"]),
                    "",
                ]
            )
    for n, line in enumerate(story, 1):
        where = row_of.get(line.actor)
        if where is not None:
            marks.append([where, line.t, "step", f"story {n}: {line.text}", -1, str(n)])
    start, stop = focus_window(result, entries)
    return {
        "start": 0.0,
        "end": end,
        "focus": [start, stop],
        "lanes": lanes,
        "bars": bars,
        "marks": marks,
        "violations": [
            [v["t"], v["invariant"], v["endpoint"], seq_of(v["seq"]), v["detail"]]
            for v in _by_time(result.get("violations", []))
        ],
        "faultColours": list(_FAULT_COLOURS),
        "story": [min(t.t for t in story), max(t.t for t in story)] if story else None,
    }


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:1.2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.35rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:.3rem;color:#fff;font-weight:600}
.fail{background:#c62828}.pass{background:#2e7d32}.unknown{background:#6d6d6d}
.headline{font-size:1.05rem;margin:.2rem 0 .6rem}
#impact{border-left:5px solid #c62828;background:#fff5f5;padding:.5rem 1rem;margin:.6rem 0}
#impact.held{border-color:#2e7d32;background:#f3faf3}
#impact h2{margin:.2rem 0}#impact ul{margin:.3rem 0;padding-left:1.2rem}
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.7rem;overflow-x:auto;white-space:pre-wrap}img{max-width:100%;border:1px solid #ddd}
code{font-size:.9em}
ol.story{padding-left:2rem;margin:.3rem 0}ol.story li{margin:.15rem 0}
.t{font-family:ui-monospace,monospace;white-space:nowrap}.actor{font-weight:600}
.refs{color:#666;font-size:.85em}.refs a{margin-left:.25rem}.refs details.more{display:inline}.refs details.more summary{display:inline;cursor:pointer;margin-left:.25rem}.refs details.more[open]{display:block}
.controls{margin:.3rem 0;display:flex;gap:.35rem;flex-wrap:wrap;align-items:center}
.controls button{font:inherit;padding:.15rem .6rem;cursor:pointer}
#timeline-range{color:#444;font-size:.9em;margin-left:.5rem}
#timeline-box{border:1px solid #ccc;overflow:hidden;user-select:none;cursor:grab}
.legend{font-size:.85em;color:#444}.legend span{margin-right:1rem;white-space:nowrap}
.sw{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.25rem;border:1px solid #999}
table.entries td{font-size:.85em}table.entries td.what{font-family:ui-monospace,monospace;word-break:break-all}
tr:target,li:target{background:#fff3b0}tr.linked td:first-child{border-left:3px solid #1565c0}
svg text{font:11px system-ui,sans-serif}
svg .lane-label{fill:#333}svg .lane-bg{fill:#fafafa}svg .lane-bg.alt{fill:#f0f0f0}
svg .grid{stroke:#ddd}svg .tick{fill:#555}
svg .call{fill:#1e88e5}svg .call.dynamodb{fill:#00897b}svg .call.failed{fill:#fff;stroke:#c62828;stroke-width:1.5}
svg .lock{fill:#7e57c2;opacity:.55}
svg .plan{fill:#90caf9;stroke:#1565c0}svg .plan.stale{fill:#ef9a9a;stroke:#c62828}svg .plan.empty{fill:#fff;stroke:#c62828;stroke-dasharray:3 2}
svg .outage{fill:#c62828;opacity:.7}
svg .hit{stroke:#111;stroke-width:1}
svg .lockfail{stroke:#6a1b9a;stroke-width:2}
svg .step circle{fill:#fff;stroke:#111}svg .step text{font-weight:700;fill:#111}
svg .vline{stroke:#c62828;stroke-width:1;stroke-dasharray:4 3}svg .vline.first{stroke-width:2.5;stroke-dasharray:none}
svg .vlabel{fill:#b71c1c;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
"""

# Draws the timeline from the JSON beside it, and redraws on every zoom or pan. Plain
# DOM calls only: the page must open offline in any browser.
_SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("timeline-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("timeline");
  var box = document.getElementById("timeline-box");
  var readout = document.getElementById("timeline-range");
  var LEFT = 230, RIGHT = 14, LANE = 24, AXIS = 20, ROWH = 14, ROWS = 3;
  var lo = Math.min(D.start, D.focus[0]), hi = Math.max(D.end, D.focus[1], D.start + 1e-3);
  var view = D.focus.slice();
  var plotW = 600;

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) { node.setAttribute(k, attrs[k]); }
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function titled(node, text) { el("title", {}, node, text); return node; }
  function linkTo(seq, parent) {
    return seq >= 0 ? el("a", {href: "#seq-" + seq}, parent) : parent;
  }
  function fmt(t) {
    var w = view[1] - view[0];
    return t.toFixed(w < 2 ? 3 : w < 60 ? 1 : 0) + "s";
  }
  function clamp(a, b) {
    var w = Math.max(b - a, 0.02);
    if (w >= hi - lo) { return [lo, hi]; }
    if (a < lo) { a = lo; }
    if (a + w > hi) { a = hi - w; }
    return [a, a + w];
  }
  function setView(a, b) { view = clamp(a, b); draw(); }
  function step(w) {
    var raw = w / 8, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
  }

  // Violation labels in rows above the lanes: each is measured as drawn and goes in the
  // first row where it clears its neighbours; one that fits nowhere is left out (counted).
  function layoutLabels(x) {
    var groups = [];
    D.violations.forEach(function (v) {
      if (v[0] < view[0] || v[0] > view[1]) { return; }
      var px = x(v[0]), g = groups[groups.length - 1];
      if (g && px - g.x < 3) { g.items.push(v); } else { groups.push({x: px, items: [v]}); }
    });
    var rows = [], hidden = 0;
    groups.forEach(function (g) {
      var names = [];
      g.items.forEach(function (v) { if (names.indexOf(v[1]) < 0) { names.push(v[1]); } });
      var text = names.join(", ") + (g.items.length > 1 ? " (" + g.items.length + ")" : "");
      var node = titled(el("text", {"class": "vlabel"}, svg, text), g.items.map(function (v) {
        return v[1] + " " + v[2] + " at t=" + v[0] + "s: " + v[4]; }).join("\n"));
      var width = node.getComputedTextLength();
      var right = g.x + 3 + width <= LEFT + plotW;
      var a = right ? g.x + 3 : g.x - 3 - width, b = a + width;
      for (var r = 0; r < ROWS; r++) {
        var row = rows[r] || (rows[r] = []);
        if (row.every(function (s) { return b + 4 < s[0] || a > s[1] + 4; })) {
          row.push([a, b]);
          node.setAttribute("x", right ? g.x + 3 : g.x - 3);
          node.setAttribute("y", AXIS + (r + 1) * ROWH - 2);
          node.setAttribute("text-anchor", right ? "start" : "end");
          return;
        }
      }
      svg.removeChild(node);
      hidden += 1;
    });
    return hidden;
  }

  function draw() {
    var W = Math.max(box.clientWidth, 640);
    plotW = W - LEFT - RIGHT;
    var w = view[1] - view[0];
    var x = function (t) { return LEFT + (t - view[0]) / w * plotW; };
    var top = AXIS + ROWS * ROWH + 6, H = top + D.lanes.length * LANE + 4;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    var defs = el("defs", {}, svg);
    D.faultColours.forEach(function (c, i) {
      var p = el("pattern", {id: "hatch-" + i, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                             patternTransform: "rotate(45)"}, defs);
      el("rect", {width: 6, height: 6, fill: c, opacity: 0.18}, p);
      el("line", {x1: 0, y1: 0, x2: 0, y2: 6, stroke: c, "stroke-width": 3}, p);
    });
    var clip = el("clipPath", {id: "plot-clip"}, defs);
    el("rect", {x: LEFT, y: 0, width: plotW, height: H}, clip);
    D.lanes.forEach(function (lane, i) {
      var y = top + i * LANE;
      el("rect", {x: 0, y: y, width: W, height: LANE,
                  "class": "lane-bg" + (i % 2 ? " alt" : "")}, svg);
      titled(el("text", {x: 6, y: y + 16, "class": "lane-label lane-" + lane.kind,
                         "data-lane": lane.label}, svg,
                lane.label.length > 36 ? lane.label.slice(0, 35) + "…" : lane.label), lane.title);
    });
    var s = step(w), plot = el("g", {"clip-path": "url(#plot-clip)"}, svg);
    for (var t = Math.ceil(view[0] / s) * s; t <= view[1]; t += s) {
      el("line", {x1: x(t), x2: x(t), y1: AXIS - 4, y2: H, "class": "grid"}, plot);
      el("text", {x: x(t) + 2, y: 12, "class": "tick"}, plot, fmt(t));
    }
    D.bars.forEach(function (b) {
      if (b[2] < view[0] || b[1] > view[1]) { return; }
      var y = top + b[0] * LANE, a = Math.max(x(b[1]), LEFT - 2), e = Math.min(x(b[2]), W);
      var cls = b[3], h = [y + 3, 18];
      if (cls.indexOf("call") === 0) { h = [y + 3, 10]; }
      if (cls === "lock") { h = [y + 15, 6]; }
      var g = linkTo(b[5], plot);
      var attrs = {x: a, y: h[0], width: Math.max(e - a, 1.5), height: h[1], "class": cls};
      if (cls.indexOf("fault") === 0) {
        attrs.fill = "url(#hatch-" + cls.slice(7) + ")";
        attrs.stroke = D.faultColours[+cls.slice(7)];
      }
      titled(el("rect", attrs, g), b[4] + " · " + b[1].toFixed(3) + "s to " + b[2].toFixed(3) + "s");
      if (b[6] && e - a > b[6].length * 6.5 + 4) {
        el("text", {x: a + 3, y: y + 16, "class": "bar-text"}, g, b[6]);
      }
    });
    D.marks.forEach(function (m) {
      if (m[1] < view[0] || m[1] > view[1]) { return; }
      var cx = x(m[1]), y = top + m[0] * LANE, g = linkTo(m[4], plot), node;
      if (m[2] === "step") {
        node = el("g", {"class": "step"}, g);
        el("circle", {cx: cx, cy: y + 12, r: 7}, node);
        el("text", {x: cx, y: y + 16, "text-anchor": "middle"}, node, m[5]);
      } else if (m[2] === "lockfail") {
        node = el("path", {d: "M" + (cx - 4) + " " + (y + 14) + "l8 8m0 -8l-8 8", "class": "lockfail"}, g);
      } else {
        var c = D.faultColours[+m[2].slice(5)];
        node = el("path", {d: "M" + cx + " " + (y + 2) + "l6 6l-6 6l-6 -6z", fill: c, "class": m[2]}, g);
      }
      titled(node, m[3] + " · t=" + m[1].toFixed(3) + "s");
    });
    D.violations.forEach(function (v, i) {
      if (v[0] < view[0] || v[0] > view[1]) { return; }
      titled(el("line", {x1: x(v[0]), x2: x(v[0]), y1: AXIS, y2: H,
                         "class": "vline" + (i === 0 ? " first" : "")}, plot),
             v[1] + " at t=" + v[0] + "s: " + v[4]);
    });
    var hidden = layoutLabels(x);
    svg.setAttribute("data-view-start", view[0]);
    svg.setAttribute("data-view-end", view[1]);
    readout.textContent = "showing t=" + fmt(view[0]) + " to " + fmt(view[1]) + " of a " +
      (D.end - D.start).toFixed(1) + "s run" +
      (hidden ? " · " + hidden + " violation labels left out here: zoom in" : "");
  }

  function timeAt(clientX) {
    var r = svg.getBoundingClientRect();
    return view[0] + (clientX - r.left - LEFT) / plotW * (view[1] - view[0]);
  }
  function zoom(f, t) {
    if (t === undefined) { t = (view[0] + view[1]) / 2; }
    setView(t - (t - view[0]) * f, t + (view[1] - t) * f);
  }
  function pan(f) { var d = (view[1] - view[0]) * f; setView(view[0] + d, view[1] + d); }
  var actions = {
    focus: function () { setView(D.focus[0], D.focus[1]); },
    "in": function () { zoom(0.5); },
    out: function () { zoom(2); },
    all: function () { setView(lo, hi); },
    story: function () {
      var pad = Math.max((D.story[1] - D.story[0]) * 0.05, 1);
      setView(D.story[0] - pad, D.story[1] + pad);
    },
    left: function () { pan(-0.4); },
    right: function () { pan(0.4); }
  };
  Array.prototype.forEach.call(document.querySelectorAll("[data-zoom]"), function (b) {
    b.addEventListener("click", function () { actions[b.getAttribute("data-zoom")](); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-jump]"), function (a) {
    a.addEventListener("click", function () {
      var t = +a.getAttribute("data-jump"), w = Math.min(view[1] - view[0], D.focus[1] - D.focus[0]);
      setView(t - w / 2, t + w / 2);
    });
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.clientX));
  }, {passive: false});
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    if (ev.button === 0) { drag = {x: ev.clientX, view: view.slice(), moved: false}; }
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x;
    if (Math.abs(dx) > 3) { drag.moved = true; }
    if (drag.moved) {
      var dt = dx / plotW * (drag.view[1] - drag.view[0]);
      setView(drag.view[0] - dt, drag.view[1] - dt);
    }
  });
  var dragged = false;  // a drag ends in a click: it must not follow a link
  svg.addEventListener("click", function (ev) {
    if (dragged) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
  window.addEventListener("mouseup", function () {
    if (drag && drag.moved) {
      dragged = true;
      setTimeout(function () { dragged = false; }, 0);
    }
    drag = null;
  });
  window.addEventListener("resize", draw);
  draw();
})();
"""


def _reproduce(result: dict[str, Any]) -> str | None:
    given = result.get("reproduce")
    if isinstance(given, str) and given:
        return given
    from dnschaos.errors import UsageError
    from dnschaos.spec import RunSpec

    try:
        return RunSpec.from_result(result).command()
    except (UsageError, KeyError, TypeError, ValueError):
        return None


SHOWN_LINKS = 6


def _seq_links(seqs: Sequence[int], listed: set[int]) -> str:
    """Links to a line's history entries: the first few inline, the rest folded (a line
    about 39 slowed calls must not run off the page)."""
    links = [f"<a href='#seq-{s}'>#{s}</a>" for s in seqs if s in listed]
    if len(links) <= SHOWN_LINKS:
        return "".join(links)
    return (
        "".join(links[:SHOWN_LINKS])
        + f"<details class='more'><summary>{len(links) - SHOWN_LINKS} more</summary>"
        + "".join(links[SHOWN_LINKS:])
        + "</details>"
    )


def render_html(
    result: dict[str, Any], entries: Sequence[Entry], cascade: bytes | None = None
) -> str:
    """The report page for ``result`` and its history ``entries``."""
    esc = html.escape
    verdict = str(result.get("verdict", "unknown"))
    violations = _by_time(result.get("violations", []))
    picked, story = _story(result, entries)
    window = focus_window(result, entries)
    listed_entries = _listed(result, entries, story, window)
    listed = {e["seq"] for e in listed_entries}
    end = _run_end(result, entries)

    if violations:
        first = violations[0]
        kinds = sorted({v["invariant"] for v in violations})
        headline = (
            f"{len(violations)} violation{'s' if len(violations) != 1 else ''} of "
            f"{', '.join(kinds)}; the first at t={first['t']:.1f}s: [{first['invariant']}] "
            f"{first['endpoint']}: {first['detail']}"
        )
    elif verdict == "pass":
        headline = "every invariant held"
    else:
        headline = f"no verdict: {result.get('reason')}"
    impact_head, impact = impact_lines(result, entries)
    impact_items = (
        "".join(f"<li>{esc(line)}</li>" for line in impact) or "<li>nothing recorded</li>"
    )
    if result.get("cascade"):
        recovery = (result["cascade"].get("phases", {}).get("recovery") or {}).get("minutes")
        if recovery and recovery[1] is not None:
            impact_items += (
                f"<li>the cascade: full recovery {recovery[1]:.0f} minutes after the run began "
                "(phases below)</li>"
            )

    if picked is None:
        story_html = "<p>Every invariant held; there is no violation to tell.</p>"
    else:
        items = []
        for n, line in enumerate(story, 1):
            refs = _seq_links(line.seqs, listed)
            items.append(
                f"<li id='story-{n}'><a class='t' href='#timeline-section' data-jump='{line.t}'>"
                f"t={line.t:.1f}s</a> <span class='actor'>{esc(line.actor)}</span> "
                f"{esc(line.text)}"
                + (f" <span class='refs'>history{refs}</span>" if refs else "")
                + "</li>"
            )
        story_html = (
            f"<p>Told for [{esc(picked['invariant'])}] on {esc(picked['endpoint'])} at "
            f"t={picked['t']:.1f}s. Times jump the timeline there; numbers are the timeline's "
            "markers.</p><ol class='story'>" + "".join(items) + "</ol>"
        )

    vrows = (
        "".join(
            f"<tr><td class='t'><a href='#timeline-section' data-jump='{v['t']}'>{v['t']:.3f}s</a></td>"
            f"<td>{esc(v['invariant'])}</td><td>{esc(v['endpoint'])}</td><td>{esc(v['detail'])}</td>"
            f"<td>{_seq_links([v['seq']], listed)}</td></tr>"
            for v in violations
        )
        or "<tr><td colspan=5>none</td></tr>"
    )

    faults = fault_rows(entries, end)
    frows = (
        "".join(
            f"<tr><td>{esc(f['fault'])}</td><td>{esc(str(f['kind']))}</td>"
            f"<td><code>{esc(str(f['matcher']))}</code></td>"
            f"<td>{esc('; '.join(f'{a:.1f}s to {b:.1f}s' for a, b in f['windows']) or 'never active')}</td>"
            f"<td class='hits'>{f['hits']}</td>"
            f"<td>{esc(', '.join(f'{k} {v}' for k, v in f['actors'].items()))}</td>"
            f"<td>{esc(', '.join(f'{k} {v}' for k, v in f['ops'].items()))}</td></tr>"
            for f in faults
        )
        or "<tr><td colspan=7>no fault was injected</td></tr>"
    )
    unmatched = result.get("unmatched_faults") or []
    if unmatched:
        frows += (
            f"<tr><td colspan=7>applied to no call: {esc(', '.join(unmatched))} "
            "(check their match and window)</td></tr>"
        )

    command = _reproduce(result)
    reproduce = (
        f"<pre id='reproduce'>{esc(command)}</pre>"
        if command
        else "<p id='reproduce'>This result does not say how it was made.</p>"
    )

    story_seqs = {seq for line in story for seq in line.seqs}
    told = " class='linked' title='behind a story line'"
    erows = "".join(
        f"<tr id='seq-{e['seq']}'{told if e['seq'] in story_seqs else ''}><td>{e['seq']}</td><td class='t'>{e['t']:.3f}s</td>"
        f"<td>{esc(str(e['kind']))}</td><td>{esc(str(e.get('actor') or ''))}</td>"
        f"<td class='what'>{esc(describe_entry(e))}</td></tr>"
        for e in listed_entries
    )

    versions = dict(result.get("versions") or {})
    dns = result.get("dns") or {}
    if dns.get("server"):
        versions["DNS server"] = str(dns["server"])
        versions["resolver"] = str(dns.get("resolver"))
    vtable = (
        "".join(
            f"<tr><th>{esc(k)}</th><td><code>{esc(str(v))}</code></td></tr>"
            for k, v in versions.items()
        )
        or "<tr><td>not recorded</td></tr>"
    )
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
    checks = "".join(
        f"<tr><td>{esc(c['checker'])}</td><td><span class='badge {esc(c['status'])}'>{esc(c['status'])}</span></td>"
        f"<td>{esc(c.get('error') or '')}</td></tr>"
        for c in result.get("checkers", [])
    )
    data = json.dumps(timeline_data(result, entries, story, listed), separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a "</script>" inside a string must not end the block
    legend = (
        "<span><i class='sw' style='background:#1e88e5'></i>Route 53 call</span>"
        "<span><i class='sw' style='background:#00897b'></i>DynamoDB call</span>"
        "<span><i class='sw' style='background:#fff;border-color:#c62828'></i>failed call</span>"
        "<span><i class='sw' style='background:#7e57c2;opacity:.55'></i>believes it holds the lock</span>"
        "<span>✕ lock busy or lost</span><span>◆ fault hit (colour of its fault)</span>"
        "<span><i class='sw' style='background:#ef9a9a'></i>root at an older plan</span>"
        "<span><i class='sw' style='background:#c62828'></i>clients got no addresses</span>"
        "<span style='color:#c62828'>| violation</span><span>① story step</span>"
    )
    own = bool(entries) and entries[0]["kind"] == "world"  # the user's own actors
    variant = "" if own else f" · variant {result.get('variant')}"
    title = f"{result.get('scenario')}{variant} seed {result.get('seed')}"
    story_button = (
        '<button type="button" data-zoom="story">The whole story</button>\n' if story else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>dnschaos report: {esc(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{esc(str(result.get("scenario")))}{esc(variant)} · seed {esc(str(result.get("seed")))} · <span class="badge {esc(verdict)}">{esc(verdict.upper())}</span></h1>
<p class="headline">{esc(headline)}</p>
<section id="impact" class="{"held" if not violations else "failed"}">
<h2>Impact: {esc(impact_head)}</h2>
<ul>{impact_items}</ul>
</section>
<section id="story"><h2>Story</h2>{story_html}</section>
<section id="timeline-section"><h2>Timeline</h2>
<div class="controls">
<button type="button" data-zoom="focus">Around the first violation</button>
<button type="button" data-zoom="in">Zoom in</button>
<button type="button" data-zoom="out">Zoom out</button>
{story_button}<button type="button" data-zoom="all">Whole run</button>
<button type="button" data-zoom="left" aria-label="earlier">◀</button>
<button type="button" data-zoom="right" aria-label="later">▶</button>
<span id="timeline-range"></span></div>
<div id="timeline-box"><svg id="timeline" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="timeline: a lane per fault, endpoint root, client view and actor"></svg></div>
<p class="legend">{legend}<br>Wheel to zoom, drag to move; hover for details, click a call to see its history entry.</p>
<script type="application/json" id="timeline-data">{data}</script>
<script>{_SCRIPT}</script>
</section>
<section id="violations"><h2>Violations, in time order</h2>
<table><tr><th>time</th><th>invariant</th><th>endpoint</th><th>detail</th><th>entry</th></tr>{vrows}</table></section>
<section id="faults"><h2>Faults</h2>
<table class="faults"><tr><th>fault</th><th>kind</th><th>match</th><th>active</th><th>hits</th><th>hit actors</th><th>hit calls</th></tr>{frows}</table></section>
{_cascade_html(result, cascade)}
{_aws_html(result)}
<section><h2>Reproduce</h2>{reproduce}
<p>then <code>dnschaos report RESULT.json -o report.html</code> draws this page again.</p></section>
<section id="entries"><h2>History entries</h2>
<p>The entries the story and the violations point to, and those of the first violation's window ({window[0]:.1f}s to {window[1]:.1f}s; scheduler choices and clock moves left out).</p>
<table class="entries"><tr><th>seq</th><th>t</th><th>kind</th><th>actor</th><th>what</th></tr>{erows}</table></section>
<section id="run"><h2>Run</h2><table>{rows}</table>
<h2>Versions</h2><table class="versions">{vtable}</table>
<h2>Checkers</h2>
<table><tr><th>checker</th><th>status</th><th>error</th></tr>{checks}</table></section>
</body></html>
"""
