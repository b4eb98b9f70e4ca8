"""The report page: one self-contained HTML file per result.

The page shows the failure first: what clients saw and for how long, the story (each
line linked to the history entries behind it), then an interactive timeline (inline SVG
drawn by the script in ``assets/report.js``) that opens on the window around the first
violation, with a lane per actor for its AWS calls, the locks it believed it held and
the faults that hit it. Then the violations in time order, the faults with their hit
counts, each workload's own section, the command that reproduces the run, the history
entries the page links to, the run's parameters and versions. It needs no file and no
network: the style and the script are read from the package and put inline.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from dnschaos.checkers import headline_dict

Entry = dict[str, Any]


@cache
def asset(name: str) -> str:
    """The page's style sheet or script, shipped with the package (report/assets)."""
    return resources.files(__package__ or "").joinpath("assets", name).read_text(encoding="utf-8")


# --- the page ---------------------------------------------------------------------------

# How much of the run the timeline opens on: a tenth of it around the first violation,
# at least a few seconds (the calls that led to it) and at most two minutes.
_FOCUS_MIN, _FOCUS_MAX, _FOCUS_SHARE = 6.0, 120.0, 0.1
# Entries of the focus window listed on the page besides the ones a line or row links to.


def _endpoints(entries: Sequence[Entry], violations: Sequence[dict[str, Any]] = ()) -> list[str]:
    """Endpoints with a violation first (that is where the story is), then by name."""
    names = {e["endpoint"] for e in entries if e["kind"] in ("observe", "probe")}
    hit = {v["endpoint"] for v in violations}
    return sorted(names, key=lambda n: (n not in hit, n))


def worst(violations: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The violation a story should be told about (the common headline rule)."""
    return headline_dict(violations)


_WINDOW_ENTRIES = 300
_FAULT_COLOURS = ("#e65100", "#8e24aa", "#00897b", "#6d4c41", "#c2185b", "#827717")
_LOCK_OVER = frozenset({"lock-released", "lock-releasing", "release-failed", "lock-lost"})


def _by_time(violations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(violations, key=lambda v: (v["t"], v["seq"], v["invariant"]))


def _run_end(result: dict[str, Any], entries: Sequence[Entry]) -> float:
    last = max((float(e["t"]) for e in entries), default=0.0)
    return max(last, float(result.get("virtual_seconds") or 0.0))


def focus_window(
    result: dict[str, Any], entries: Sequence[Entry], story: Sequence[Any] = ()
) -> tuple[float, float]:
    """The span the timeline opens on: around the first violation (or the whole run),
    widened to open on the first entry the ``story`` (its StoryLines) names: the cause."""
    end = _run_end(result, entries)
    violations = _by_time(result.get("violations", []))
    if not violations:
        return 0.0, max(end, 1.0)
    t = float(violations[0]["t"])
    width = min(max(end * _FOCUS_SHARE, _FOCUS_MIN), _FOCUS_MAX)
    # Most of the window before the violation: that is where its causes are.
    start = max(0.0, t - width * 0.75)
    stop = start + width
    # A line that sums up the lines left out names no cause of its own.
    named = {s for line in story if not line.text.startswith("... ") for s in line.seqs}
    cause = min((float(e["t"]) for e in entries if e["seq"] in named), default=start)
    if cause < start:
        start = max(0.0, cause - width * 0.05)
    return start, stop


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
        from dnschaos.dns.metrics import describe

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
        picked["invariant"],
        picked["endpoint"],
        picked["t"],
        picked["detail"],
        picked["seq"],
        tuple(picked.get("read", ())),
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
    from dnschaos.dns.metrics import dns_metrics

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
    start, stop = focus_window(result, entries, story)
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


def _reproduce(result: dict[str, Any]) -> str | None:
    """The result's own command. A result without one was made by no command line (a
    fuzz case's holds, a shrunk schedule) and is reproduced by replaying its file, whose
    name the page does not know: its spec's command would make another run."""
    given = result.get("reproduce")
    return given if isinstance(given, str) and given else None


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


def _workload_sections(
    result: dict[str, Any], entries: Sequence[Entry]
) -> list[tuple[list[str], str]]:
    """Each workload's impact lines and section of the page, from what it recorded."""
    from dnschaos import workload

    out = []
    for name, recorded in (result.get("workloads") or {}).items():
        told = workload.load(name).report(result, recorded, entries)
        if told is not None:
            out.append(told)
    return out


def workload_png(result: dict[str, Any], entries: Sequence[Entry]) -> bytes | None:
    """A workload's own plot of the run (``report -o x.png``), when one has one."""
    from dnschaos import workload

    for name, recorded in (result.get("workloads") or {}).items():
        png = workload.load(name).plot(result, recorded, entries)
        if png is not None:
            return png
    return None


def _spec(result: dict[str, Any]) -> dict[str, Any]:
    """A result's spec, as it recorded it (older results: their flat fields)."""
    spec = result.get("spec")
    return spec if isinstance(spec, dict) else result


def render_html(result: dict[str, Any], entries: Sequence[Entry]) -> str:
    """The report page for ``result`` and its history ``entries``."""
    esc = html.escape
    verdict = str(result.get("verdict", "unknown"))
    violations = _by_time(result.get("violations", []))
    picked, story = _story(result, entries)
    window = focus_window(result, entries, story)
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
    sections = _workload_sections(result, entries)
    for lines, _section in sections:
        impact_items += "".join(f"<li>{esc(line)}</li>" for line in lines)

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
    spec = _spec(result)
    meta = [
        ("scenario", result.get("scenario")),
        *([("variant", spec.get("variant"))] if spec.get("variant") else []),
        ("seed", spec.get("seed")),
        ("strategy", result.get("strategy")),
        ("clock", spec.get("clock")),
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
    variant = f" · variant {spec['variant']}" if spec.get("variant") else ""
    title = f"{result.get('scenario')}{variant} seed {spec.get('seed')}"
    story_button = (
        '<button type="button" data-zoom="story">The whole story</button>\n' if story else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>dnschaos report: {esc(title)}</title>
<style>{asset("report.css")}</style></head>
<body>
<h1>{esc(str(result.get("scenario")))}{esc(variant)} · seed {esc(str(spec.get("seed")))} · <span class="badge {esc(verdict)}">{esc(verdict.upper())}</span></h1>
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
<script>{asset("report.js")}</script>
</section>
<section id="violations"><h2>Violations, in time order</h2>
<table><tr><th>time</th><th>invariant</th><th>endpoint</th><th>detail</th><th>entry</th></tr>{vrows}</table></section>
<section id="faults"><h2>Faults</h2>
<table class="faults"><tr><th>fault</th><th>kind</th><th>match</th><th>active</th><th>hits</th><th>hit actors</th><th>hit calls</th></tr>{frows}</table></section>
{"".join(section for _lines, section in sections)}
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
