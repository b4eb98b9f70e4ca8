"""Invariants of what clients see, generic over the names a run's probes ask for.

A probe entry's ``endpoint`` is the name it asked for (an endpoint of a workload, or a
name a scenario's ``[[dns.probes]]`` declares); these invariants read nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dnschaos.checkers import Violation, over_history, shares_entries

Entry = dict[str, Any]


@shares_entries
@over_history
def endpoint_never_empty_client(history: Iterable[Entry]) -> list[Violation]:
    """What clients saw: once a probe got addresses for a name in a view (straight at the
    authoritative server, or through a caching resolver), it never gets an answer without
    any: NOERROR with none (NODATA, what Route 53 answers for an alias whose target is
    gone) or NXDOMAIN (what a name with no records at all gets). An error or no answer
    (SERVFAIL, a timeout) is no answer and not judged here. Reads ``probe`` entries:
    endpoint (the name), view, rtype, rcode, answers."""
    out: list[Violation] = []
    answered: set[tuple[str, str, str]] = set()
    for e in history:
        if e["kind"] != "probe":
            continue
        key = (e["endpoint"], e["view"], e["rtype"])
        if e["rcode"] == "NOERROR" and e["answers"] > 0:
            answered.add(key)
        elif e["rcode"] in ("NOERROR", "NXDOMAIN") and key in answered:
            out.append(
                Violation(
                    "endpoint-never-empty-client",
                    e["endpoint"],
                    e["t"],
                    f"{e['rtype']} through the {e['view']} view: "
                    + (
                        "NOERROR with zero addresses"
                        if e["rcode"] == "NOERROR"
                        else "NXDOMAIN, the name answers with nothing"
                    ),
                    e["seq"],
                )
            )
            answered.discard(key)  # one report per outage
    return out


__all__ = ["endpoint_never_empty_client"]
