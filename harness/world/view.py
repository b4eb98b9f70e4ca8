"""What a user invariant sees after a step: a read-only view of the world.

* ``records(zone)``: Route 53 as its API shows it, ``{(name, type): values}`` (a weighted
  set's members' values merged; an alias as ``"ALIAS target"``);
* ``record_sets(zone)``: every record set exactly as ListResourceRecordSets returns it
  (``Name``, ``Type``, ``TTL``, ``ResourceRecords``, ``SetIdentifier``, ``Weight``,
  ``AliasTarget``), for invariants about weights and aliases;
* ``served(zone)``: Route 53 as its name servers answer, only changes that are
  INSYNC (the strict layer's propagation, ``[world] propagation_delay``);
* ``answer(name, type)``: the addresses DNS would answer for a name (aliases and
  weighted sets followed), from the served records;
* ``items(table)``: a DynamoDB table's items as plain values;
* ``history``: the entries so far; ``now``: virtual seconds since the start;
* ``recheck_at(t)``: be judged again at ``t`` although nothing happens then (a deadline).

The view remembers which names an invariant read, so that a violation's story can
tell the writes to exactly those records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from dnschaos.adapters.dnsserve.dataplane import possible_addresses
from dnschaos.adapters.route53.models import RRSet, StrictRoute53, normalize_name

Records = dict[tuple[str, str], tuple[str, ...]]


def _records(rrsets: Sequence[RRSet]) -> Records:
    out: Records = {}
    for r in rrsets:
        if r.alias is not None:
            out[(r.name, r.type)] = ("ALIAS " + r.alias.dns_name,)
        else:
            key = (r.name, r.type)
            out[key] = tuple(sorted(out.get(key, ()) + r.values))
    return out


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints or floats, sets as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    return value


class View:
    def __init__(
        self,
        strict: StrictRoute53,
        zone_ids: dict[str, str],
        history: Iterable[dict[str, Any]],
        now: float,
        scan: Callable[[str], list[dict[str, Any]]],
        at: float | None = None,
    ) -> None:
        self._at = at  # the time DNS is looked at (None: the clock's now)
        self._strict = strict
        self.zone_ids = dict(zone_ids)  # zone name (with the dot) -> hosted zone id
        self._history = history
        self._entries: list[dict[str, Any]] | None = None
        self.now = now
        self._scan = scan
        self.read: set[str] = set()  # names (or "zone:NAME") the invariant looked at
        self.rechecks: set[float] = set()  # times (like now) to be looked at again

    def recheck_at(self, t: float) -> None:
        """Be judged again at ``t`` (virtual seconds since the start, as ``now``) even if
        nothing happens then: a deadline the invariant's answer depends on. (Changes that
        become visible to DNS are looked at when they do, without asking.)"""
        self.rechecks.add(float(t))

    @property
    def history(self) -> list[dict[str, Any]]:
        """The entries so far (a copy, made on first use)."""
        if self._entries is None:
            self._entries = list(self._history)
        return self._entries

    def _zone_id(self, zone: str) -> str:
        fqdn = normalize_name(zone)
        if fqdn not in self.zone_ids:
            raise KeyError(f"zone {zone!r}: not in the world ({', '.join(sorted(self.zone_ids))})")
        return self.zone_ids[fqdn]

    def zones(self) -> list[str]:
        return sorted(self.zone_ids)

    def records(self, zone: str) -> Records:
        self.read.add("zone:" + normalize_name(zone))
        return _records(self._strict.records(self._zone_id(zone)))

    def record_sets(self, zone: str) -> list[dict[str, Any]]:
        """The zone's record sets as Route 53's ListResourceRecordSets returns them, weights,
        set identifiers and alias targets included (fresh dicts: changing them changes
        nothing)."""
        self.read.add("zone:" + normalize_name(zone))
        return [r.to_api() for r in self._strict.records(self._zone_id(zone))]

    def served(self, zone: str) -> Records:
        self.read.add("zone:" + normalize_name(zone))
        return _records(self._strict.visible_records(self._zone_id(zone), self._at))

    def record(self, name: str, rtype: str) -> tuple[str, ...]:
        """The values Route 53's API holds for (name, type); empty when there is none."""
        fqdn = normalize_name(name)
        self.read.add(fqdn)
        zone = self._zone_of(fqdn)
        if zone is None:
            return ()
        return _records(self._strict.records(self.zone_ids[zone])).get((fqdn, rtype), ())

    def answer(self, name: str, rtype: str = "A") -> tuple[str, ...]:
        """The addresses DNS answers for (name, type) now: propagated changes only."""
        fqdn = normalize_name(name)
        self.read.add(fqdn)
        zone = self._zone_of(fqdn)
        if zone is None:
            return ()
        visible = self._strict.visible_records(self.zone_ids[zone], self._at)
        return tuple(sorted(possible_addresses(visible, fqdn, rtype)))

    def items(self, table: str) -> list[dict[str, Any]]:
        self.read.add("table:" + table)
        return self._scan(table)

    def _zone_of(self, fqdn: str) -> str | None:
        best = None
        for zone in self.zone_ids:
            if (fqdn == zone or fqdn.endswith("." + zone)) and (
                best is None or len(zone) > len(best)
            ):
                best = zone
        return best


class FinalView:
    """The world as the run left it, for ``when="end"`` invariants (read from the history's
    ``final`` entry: the API's records of every zone, and DNS's)."""

    def __init__(self, history: Sequence[dict[str, Any]]) -> None:
        self.history = history
        final = next((e for e in reversed(history) if e["kind"] == "final"), None)
        self._final = final or {"zones": {}, "served": {}, "tables": {}}
        self.read: set[str] = set()  # as View's: what the story of a violation tells

    def records(self, zone: str) -> Records:
        self.read.add("zone:" + normalize_name(zone))
        return _decode(self._final["zones"].get(normalize_name(zone), []))

    def served(self, zone: str) -> Records:
        self.read.add("zone:" + normalize_name(zone))
        return _decode(self._final["served"].get(normalize_name(zone), []))

    def record(self, name: str, rtype: str) -> tuple[str, ...]:
        fqdn = normalize_name(name)
        self.read.add(fqdn)
        for rows in self._final["zones"].values():
            got = _decode(rows).get((fqdn, rtype))
            if got is not None:
                return got
        return ()

    def items(self, table: str) -> list[dict[str, Any]]:
        self.read.add("table:" + table)
        return list(self._final["tables"].get(table, []))


def encode(records: Records) -> list[list[Any]]:
    return [[n, t, list(v)] for (n, t), v in sorted(records.items())]


def _decode(rows: list[list[Any]]) -> Records:
    return {(n, t): tuple(v) for n, t, v in rows}


__all__ = ["FinalView", "View", "plain"]
