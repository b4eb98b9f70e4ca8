"""What a Route 53 name server would answer, computed from zone records.

Alias records are followed within the zone; a weighted set answers with one
member, picked by weight; an alias whose target is gone answers NODATA
(NOERROR, no addresses) exactly as the endpoint did in October 2025.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from adapters.route53_strict import RRSet, normalize_name

MAX_ALIAS_DEPTH = 8


class Rcode(StrEnum):
    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"


@dataclass(frozen=True)
class Answer:
    rcode: Rcode
    addresses: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.addresses


def _sets(records: Sequence[RRSet], name: str, rtype: str) -> list[RRSet]:
    return [r for r in records if r.name == name and r.type == rtype]


def possible_addresses(records: Sequence[RRSet], name: str, rtype: str) -> frozenset[str]:
    """Every address some answer for (name, type) could hold; empty means clients get none."""
    return _possible(records, normalize_name(name), rtype, 0)


def _possible(records: Sequence[RRSet], name: str, rtype: str, depth: int) -> frozenset[str]:
    if depth > MAX_ALIAS_DEPTH:
        return frozenset()
    out: set[str] = set()
    sets = _sets(records, name, rtype)
    weighted = [s for s in sets if s.weight is not None]
    # Weight 0 members answer only if every member has weight 0.
    live = [s for s in weighted if s.weight] or weighted
    for s in live if weighted else sets:
        if s.alias is not None:
            out |= _possible(records, s.alias.dns_name, rtype, depth + 1)
        else:
            out |= set(s.values)
    return frozenset(out)


def answer(records: Sequence[RRSet], name: str, rtype: str, rng: random.Random) -> Answer:
    """One answer, as a name server gives it: weighted sets pick one member by weight."""
    name = normalize_name(name)
    if not any(r.name == name or r.name.endswith("." + name) for r in records):
        return Answer(Rcode.NXDOMAIN, ())
    return Answer(Rcode.NOERROR, _answer(records, name, rtype, rng, 0))


def _answer(
    records: Sequence[RRSet], name: str, rtype: str, rng: random.Random, depth: int
) -> tuple[str, ...]:
    if depth > MAX_ALIAS_DEPTH:
        return ()
    sets = _sets(records, name, rtype)
    if not sets:
        return ()
    weighted = [s for s in sets if s.weight is not None]
    if weighted:
        live = [s for s in weighted if s.weight] or weighted
        total = sum(s.weight or 0 for s in live)
        if total == 0:
            chosen = live[rng.randrange(len(live))]
        else:
            pick = rng.uniform(0, total)
            acc = 0.0
            chosen = live[-1]
            for s in live:
                acc += s.weight or 0
                if pick < acc:
                    chosen = s
                    break
    else:
        chosen = sets[0]
    if chosen.alias is not None:
        return _answer(records, chosen.alias.dns_name, rtype, rng, depth + 1)
    return chosen.values
