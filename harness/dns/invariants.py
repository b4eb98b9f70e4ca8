"""Invariants of what clients see, generic over the names a run's probes ask for.

A probe entry's ``endpoint`` is the name it asked for (an endpoint of a workload, or a
name a scenario's ``[[dns.probes]]`` declares); these invariants read nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dnschaos.checkers import Violation

Entry = dict[str, Any]


def endpoint_never_empty_client(history: Iterable[Entry]) -> list[Violation]:
    """What clients saw: once a probe got addresses for an endpoint in a view (straight at
    the authoritative server, or through a caching resolver), it never gets NOERROR with
    none. Reads ``probe`` entries: endpoint, view, rtype, rcode, answers."""
    out: list[Violation] = []
    answered: set[tuple[str, str, str]] = set()
    for e in history:
        if e["kind"] != "probe":
            continue
        key = (e["endpoint"], e["view"], e["rtype"])
        if e["rcode"] == "NOERROR" and e["answers"] > 0:
            answered.add(key)
        elif e["rcode"] == "NOERROR" and key in answered:
            out.append(
                Violation(
                    "endpoint-never-empty-client",
                    e["endpoint"],
                    e["t"],
                    f"{e['rtype']} through the {e['view']} view: NOERROR with zero addresses",
                    e["seq"],
                )
            )
            answered.discard(key)  # one report per outage
    return out


__all__ = ["endpoint_never_empty_client"]
