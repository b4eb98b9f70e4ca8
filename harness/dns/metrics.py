"""What clients lived through, measured from the probe entries of a history.

Per endpoint and view (``authoritative``: straight at the authoritative server;
``cached``: through the caching resolver):

Empty answers before a view first had addresses for a record type are set-up, not
outages, and are not counted.

* ``first_empty``: when a probe first got no addresses (NODATA, NXDOMAIN, an
  error or no answer at all), in seconds since the run began;
* ``empty_seconds``: the total time with no addresses. An outage begins at the
  first probe without addresses and ends at the next probe of that view that has
  them for every record type; one still open at the end of the history counts
  until the last probe;
* ``outages``: each outage as ``[begin, end]`` (``end`` null when never over);
* for the cached view, ``tail_seconds``: from "the authoritative server answers
  again" (the end of the authoritative outage that overlaps it) to "clients get
  addresses again" (the end of the cached outage). This is the caching tail of
  INCIDENT.md's 2:25 to 2:40 AM: a resolver keeps a negative answer for the
  zone's negative TTL, so the tail is that TTL less the time the negative
  answer had already spent in the cache when DNS was repaired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dnschaos.checkers import shares_entries
from dnschaos.dns.probes import answered

Entry = Mapping[str, Any]


def _outages(probes: list[Entry]) -> tuple[list[list[float | None]], float | None]:
    """Outages of one (endpoint, view): every record type must answer for one to end."""
    out: list[list[float | None]] = []
    state: dict[str, bool] = {}
    last_t: float | None = None
    for e in probes:
        if e["rtype"] not in state and not answered(e):
            continue  # not answering yet: the world is being set up, not failing
        state[e["rtype"]] = answered(e)
        last_t = e["t"]
        all_good = all(state.values())
        if not all_good and (not out or out[-1][1] is not None):
            out.append([e["t"], None])
        elif all_good and out and out[-1][1] is None:
            out[-1][1] = e["t"]
    return out, last_t


def _empty_answers(probes: list[Entry]) -> int:
    """NODATA answers (NOERROR, no addresses) after the type first answered."""
    seen: set[str] = set()
    count = 0
    for e in probes:
        if answered(e):
            seen.add(e["rtype"])
        elif e["rcode"] == "NOERROR" and e["rtype"] in seen:
            count += 1
    return count


@shares_entries
def dns_metrics(history: Iterable[Entry]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{endpoint: {view: metrics}}`` for every (endpoint, view) some probe asked about."""
    by_key: dict[tuple[str, str], list[Entry]] = {}
    for e in history:
        if e["kind"] == "probe":
            by_key.setdefault((e["endpoint"], e["view"]), []).append(e)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for (endpoint, view), probes in sorted(by_key.items()):
        outages, last_t = _outages(probes)
        total = 0.0
        for begin, end in outages:
            assert begin is not None
            stop = end if end is not None else last_t
            total += (stop or begin) - begin
        result.setdefault(endpoint, {})[view] = {
            "probes": len(probes),
            "empty_answers": _empty_answers(probes),
            "first_empty": outages[0][0] if outages else None,
            "empty_seconds": round(total, 3),
            "outages": outages,
        }
    for views in result.values():
        cached, auth = views.get("cached"), views.get("authoritative")
        if cached is None or auth is None:
            continue
        tails = []
        for begin, end in cached["outages"]:
            if end is None:
                continue
            # The authoritative recovery this cached outage waited for: the last one before it ended.
            ends = [
                a_end for a_begin, a_end in auth["outages"] if a_end is not None and a_end <= end
            ]
            if ends and ends[-1] >= begin:
                tails.append(round(end - ends[-1], 3))
        cached["tails"] = tails
        cached["tail_seconds"] = tails[-1] if tails else None
    return result


def describe(dns: Mapping[str, Any]) -> list[str]:
    """What clients saw, in words: a heading, then one line per endpoint and view.

    ``dns`` is a result's ``dns`` section (set-up and :func:`dns_metrics`); the terminal
    prints these lines and the report opens with them.
    """
    lines = [
        f"what clients saw (server {dns['server']}, resolver {dns['resolver']}, "
        f"negative TTL {dns['negative_ttl']}s):"
    ]
    for endpoint, views in sorted(dns["endpoints"].items()):
        for view, m in sorted(views.items()):
            line = f"{endpoint} [{view}]: {m['probes']} queries"
            if m["first_empty"] is None:
                line += ", always answered with addresses"
            else:
                line += (
                    f", {m['empty_answers']} NOERROR with no addresses, "
                    f"{m['empty_seconds']:.1f}s without addresses from t={m['first_empty']:.1f}s"
                )
            if m.get("tail_seconds") is not None:
                line += f"; caching tail {m['tail_seconds']:.1f}s after the authoritative repair"
            lines.append(line)
    return lines
