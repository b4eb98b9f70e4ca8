"""What a Route 53 name server would answer, computed from zone records.

Alias records are followed within the zone; a weighted set answers with one
member, picked by weight; an alias whose target is gone answers NODATA
(NOERROR, no addresses) exactly as the endpoint did in October 2025; a name
that does not exist (and has nothing below it) answers NXDOMAIN. Negative
answers carry the zone's SOA, whose TTL (the lower of the SOA's own TTL and its
MINIMUM field, RFC 2308) is how long resolvers cache them.

``DataPlane`` answers DNS messages for a set of hosted zones from the records a
source returns; the runner's source is the strict layer's ``visible_records``,
so only changes that are INSYNC are ever answered. ``flatten`` turns a zone
into plain record sets for a real authoritative server, which knows nothing
of aliases or weights (see ``adapters.rfc2136``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnschaos.adapters.route53.models import RRSet, normalize_name

MAX_ALIAS_DEPTH: Final = 8
ADDRESS_TYPES: Final = ("A", "AAAA")
# Record types a real server is given as they are (aliases and weights only make sense
# for addresses here; SOA and NS at the apex belong to the server's own zone file).
PLAIN_TYPES: Final = ("TXT", "CNAME", "MX")
# Record sets kept built, and responses kept rendered, by a data plane (see DataPlane._rrset
# and DataPlane.respond_wire); zones change over a run, so a full table starts again.
MAX_BUILT: Final = 1024
MAX_ZONES: Final = 8  # zone versions kept looked up by a data plane (see DataPlane._zone)


class Rcode(StrEnum):
    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"


@dataclass(frozen=True)
class Answer:
    rcode: Rcode
    addresses: tuple[str, ...]
    ttl: int = 0  # of the answer's records (0 for a negative answer; see negative_ttl)

    @property
    def empty(self) -> bool:
        return not self.addresses


class Zone:
    """A zone's record sets looked up by (owner name, type), in the zone's order, and the
    names that exist: a question costs lookups instead of scans of the whole zone. Built
    from the records as they are; a zone that changes is another ``Zone``."""

    __slots__ = ("_by_key", "_names", "records")

    def __init__(self, records: Sequence[RRSet]) -> None:
        self.records = records
        by_key: dict[tuple[str, str], list[RRSet]] = {}
        names: set[str] = set()
        for r in records:
            by_key.setdefault((r.name, r.type), []).append(r)
            # A name exists if it owns records or ends another's after a dot (see exists).
            owner = r.name
            names.add(owner)
            dot = owner.find(".")
            while dot >= 0:
                names.add(owner[dot + 1 :])
                dot = owner.find(".", dot + 1)
        self._by_key = {key: tuple(found) for key, found in by_key.items()}
        self._names = frozenset(names)

    def sets(self, name: str, rtype: str) -> tuple[RRSet, ...]:
        return self._by_key.get((name, rtype), ())

    def exists(self, name: str) -> bool:
        """Whether some record's owner is ``name`` or ends with ``"." + name``."""
        return name in self._names


def _zone(records: Sequence[RRSet] | Zone) -> Zone:
    return records if isinstance(records, Zone) else Zone(records)


def _live(weighted: list[RRSet]) -> list[RRSet]:
    # Weight 0 members answer only if every member has weight 0.
    return [s for s in weighted if s.weight] or weighted


def _leaves(zone: Zone, name: str, rtype: str, depth: int) -> list[RRSet]:
    """Every concrete record set an answer for (name, type) could come from."""
    if depth > MAX_ALIAS_DEPTH:
        return []
    sets = zone.sets(name, rtype)
    weighted = [s for s in sets if s.weight is not None]
    out: list[RRSet] = []
    for s in _live(weighted) if weighted else sets:
        if s.alias is not None:
            out += _leaves(zone, normalize_name(s.alias.dns_name), rtype, depth + 1)
        else:
            out.append(s)
    return out


def possible_addresses(records: Sequence[RRSet] | Zone, name: str, rtype: str) -> frozenset[str]:
    """Every address some answer for (name, type) could hold; empty means clients get none."""
    leaves = _leaves(_zone(records), normalize_name(name), rtype, 0)
    return frozenset(v for s in leaves for v in s.values)


def name_exists(records: Sequence[RRSet] | Zone, name: str) -> bool:
    """A name exists if it owns records or has names below it (an empty non-terminal)."""
    return _zone(records).exists(name)


def negative_ttl(records: Sequence[RRSet] | Zone, origin: str) -> int:
    """How long a resolver caches a negative answer from this zone (RFC 2308 section 5)."""
    soa = next(iter(_zone(records).sets(origin, "SOA")), None)
    if soa is None or not soa.values:
        return 0
    minimum = int(soa.values[0].split()[-1])
    return min(soa.ttl or 0, minimum)


def answer(records: Sequence[RRSet] | Zone, name: str, rtype: str, rng: random.Random) -> Answer:
    """One answer, as a name server gives it: weighted sets pick one member by weight."""
    name = normalize_name(name)
    zone = _zone(records)
    if not zone.exists(name):
        return Answer(Rcode.NXDOMAIN, ())
    chosen = _pick(zone, name, rtype, rng, 0)
    if chosen is None:
        return Answer(Rcode.NOERROR, ())
    return Answer(Rcode.NOERROR, chosen.values, chosen.ttl or 0)


def _pick(zone: Zone, name: str, rtype: str, rng: random.Random, depth: int) -> RRSet | None:
    if depth > MAX_ALIAS_DEPTH:
        return None
    sets = zone.sets(name, rtype)
    if not sets:
        return None
    weighted = [s for s in sets if s.weight is not None]
    if weighted:
        live = _live(weighted)
        total = sum(s.weight or 0 for s in live)
        chosen = live[-1]
        if total == 0:
            chosen = live[rng.randrange(len(live))]
        else:
            pick = rng.uniform(0, total)
            acc = 0.0
            for s in live:
                acc += s.weight or 0
                if pick < acc:
                    chosen = s
                    break
    else:
        chosen = sets[0]
    if chosen.alias is not None:
        return _pick(zone, normalize_name(chosen.alias.dns_name), rtype, rng, depth + 1)
    return chosen


# --------------------------------------------------------------------------- real servers

FlatKey = tuple[str, str]  # (owner name, type)


@dataclass(frozen=True)
class FlatRecord:
    ttl: int
    values: tuple[str, ...]


def flatten(records: Sequence[RRSet], origin: str) -> dict[FlatKey, FlatRecord]:
    """The zone as plain record sets, for an authoritative server without aliases or weights.

    An address query is given every address a Route 53 answer could hold (the union
    over a weighted set's live members): clients of a real server see all of them at
    once instead of one member per query. The TTL is the lowest among the record sets
    an answer could come from. A name whose alias target is gone gets no addresses:
    NODATA at the apex and wherever names exist below it, as on Route 53.
    """
    origin = normalize_name(origin)
    zone = Zone(records)
    out: dict[FlatKey, FlatRecord] = {}
    for name in sorted({r.name for r in records}):
        for rtype in ADDRESS_TYPES:
            leaves = _leaves(zone, name, rtype, 0)
            values = tuple(sorted({v for s in leaves for v in s.values}))
            if values:
                out[(name, rtype)] = FlatRecord(min(s.ttl or 0 for s in leaves), values)
        for r in records:
            if r.name == name and r.type in PLAIN_TYPES and r.alias is None and r.weight is None:
                out[(name, r.type)] = FlatRecord(r.ttl or 0, tuple(r.values))
    return out


# --------------------------------------------------------------------------- wire answers

_BuiltKey = tuple[tuple[bytes, ...], int, int, tuple[str, ...]]  # labels, TTL, type, values
# What an answer holds: (FORMERR or REFUSED,), or (rcode, TTL, values, the negative
# answer's SOA as (origin, negative TTL, values) when there are no values, else None).
_Decision = tuple[str] | tuple[str, int, tuple[str, ...], tuple[str, int, tuple[str, ...]] | None]


# A query's one question as text: (owner name, type, class); None when it has not one.
_Question = tuple[str, str, int] | None
_UNREAD: Final = object()


def _question(query: dns.message.Message) -> _Question:
    if len(query.question) != 1:
        return None
    q = query.question[0]
    return q.name.to_text(), dns.rdatatype.to_text(q.rdtype), int(q.rdclass)


class DataPlane:
    """Route 53's name servers for some hosted zones, answering DNS messages.

    ``zones`` maps each zone's origin to a function that returns the records its
    name servers answer from at this moment. Weighted picks come from ``rng``;
    under the deterministic scheduler only one probe queries at a time, so the
    sequence of picks, and therefore every answer, follows from the seed.
    """

    def __init__(
        self, zones: Mapping[str, Callable[[], Sequence[RRSet]]], rng: random.Random
    ) -> None:
        self.zones = {normalize_name(origin): read for origin, read in zones.items()}
        self.rng = rng
        self._lock = threading.Lock()  # one generator, possibly UDP and TCP threads
        # Record sets already built from their text, handed out as copies: reading
        # eight addresses from text costs about 200 times the copy, and a probe asks the
        # same few answers thousands of times a run.
        self._built: dict[_BuiltKey, dns.rrset.RRset] = {}
        # Zone versions looked up, by the id of the tuple of their records (see _zone).
        self._zones: dict[int, Zone] = {}
        # Questions read, by the query's wire without its id (see respond_wire).
        self._questions: dict[bytes, _Question | None] = {}
        # Responses rendered, without their message id (see respond_wire).
        self._rendered: dict[tuple[bytes, int, object, _Decision], bytes] = {}

    def zone_for(self, name: str) -> str | None:
        name = normalize_name(name)
        matches = [o for o in self.zones if name == o or name.endswith("." + o)]
        return max(matches, key=len) if matches else None

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        return self._build(query, self._decide(query))

    def respond_wire(
        self,
        wire: bytes,
        query: dns.message.Message,
        max_size: int,
        render: Callable[[dns.message.Message, dns.message.Message, int], bytes],
    ) -> bytes:
        """:meth:`respond` to ``query`` (read from ``wire``), rendered by ``render``.

        A response's wire is a function of the query's own wire (all of it but the
        message id, which the response repeats), of what the answer holds (decided
        here for every query, weighted picks included) and of how it is rendered
        (``render(query, response, max_size)``); so each rendering is kept under those
        and given again with the query's id, rather than built and rendered again for
        every question a probe repeats. Answers of one record or none (the probes'
        usual ones) are kept; an answer of several records is rendered each time, since
        their order is drawn anew (dnspython shuffles them)."""
        asked = wire[2:]
        question = self._questions.get(asked, _UNREAD)
        if question is _UNREAD:
            question = _question(query)
            if len(self._questions) >= MAX_BUILT:
                self._questions.clear()
            self._questions[asked] = question
        decision = self._decide(query, question)
        if query.had_tsig or (len(decision) > 1 and len(decision[2]) > 1):
            # A signature covers the id; and records of a set are rendered in a new random
            # order every time (as Route 53 answers them): neither is kept.
            return render(query, self._build(query, decision), max_size)
        key = (asked, max_size, render, decision)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = render(query, self._build(query, decision), max_size)[2:]
            if len(self._rendered) >= MAX_BUILT:
                self._rendered.clear()
            self._rendered[key] = rendered
        return wire[:2] + rendered

    def _decide(self, query: dns.message.Message, question: Any = _UNREAD) -> _Decision:
        """What the answer to ``query`` holds (the weighted pick drawn here); ``question``
        is :func:`_question` of it, when known."""
        if question is _UNREAD:
            question = _question(query)
        if question is None:
            return ("FORMERR",)
        qname, rtype, rdclass = question
        origin = self.zone_for(qname)
        if origin is None or rdclass != dns.rdataclass.IN:
            return ("REFUSED",)  # not a zone these name servers host
        zone = self._zone(self.zones[origin]())
        name = normalize_name(qname)
        if rtype in ADDRESS_TYPES:
            with self._lock:
                got = answer(zone, name, rtype, self.rng)
            rcode, values, ttl = got.rcode, got.addresses, got.ttl
        else:
            exists = zone.exists(name)
            plain = [r for r in zone.sets(name, rtype) if r.alias is None]
            rcode = Rcode.NOERROR if exists else Rcode.NXDOMAIN
            values = tuple(v for r in plain for v in r.values)
            ttl = min((r.ttl or 0 for r in plain), default=0)
        soa: tuple[str, int, tuple[str, ...]] | None = None
        if not values:
            found = next(iter(zone.sets(origin, "SOA")), None)
            if found is not None:
                soa = (origin, negative_ttl(zone, origin), tuple(found.values))
        return (str(rcode), ttl, tuple(values), soa)

    def _zone(self, records: Sequence[RRSet]) -> Zone:
        """``records`` looked up as a :class:`Zone`. A tuple cannot change, so its Zone is
        kept (holding the tuple, whose id is the key) and given again while the zone's
        version is the one served; any other sequence is looked up afresh."""
        if type(records) is not tuple:
            return Zone(records)
        zone = self._zones.get(id(records))
        if zone is None or zone.records is not records:
            if len(self._zones) >= MAX_ZONES:
                self._zones.clear()
            zone = self._zones[id(records)] = Zone(records)
        return zone

    def _build(self, query: dns.message.Message, decision: _Decision) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA  # authoritative only: recursion is not offered
        if len(decision) == 1:
            response.set_rcode(dns.rcode.from_text(decision[0]))
            return response
        rcode, ttl, values, soa = decision
        q = query.question[0]
        response.flags |= dns.flags.AA
        if rcode == Rcode.NXDOMAIN:
            response.set_rcode(dns.rcode.NXDOMAIN)
        if values:
            response.answer.append(self._rrset(q.name, ttl, q.rdtype, values))
        elif soa is not None:
            origin, negative, soa_values = soa
            response.authority.append(
                self._rrset(dns.name.from_text(origin), negative, dns.rdatatype.SOA, soa_values)
            )
        return response

    def _rrset(
        self,
        name: dns.name.Name,
        ttl: int,
        rdtype: dns.rdatatype.RdataType,
        values: tuple[str, ...],
    ) -> dns.rrset.RRset:
        """The record set of ``values``, a copy of the one built the first time they were
        asked for. Keyed by the name's labels as sent (names compare without case, but
        the answer repeats the question's case), so a copy is what reading the text again
        would give; a value that does not parse raises every time, as it did."""
        key = (name.labels, ttl, rdtype, values)
        built = self._built.get(key)
        if built is None:
            # Route 53 stores names in values without the final dot; they are absolute.
            built = dns.rrset.from_text_list(
                name,
                ttl,
                dns.rdataclass.IN,
                rdtype,
                list(values),
                origin=dns.name.root,
                relativize=False,
            )
            if len(self._built) >= MAX_BUILT:
                self._built.clear()
            self._built[key] = built
        copy: dns.rrset.RRset = built.copy()  # type: ignore[no-untyped-call]
        return copy
