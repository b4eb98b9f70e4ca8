"""Push record sets to a real authoritative server: RFC 2136 dynamic updates signed with TSIG.

A :class:`Pusher` owns the record sets it was asked to manage in one zone. Each
:meth:`Pusher.sync` compares what the caller wants with what it last pushed and
sends the difference as a single UPDATE message over TCP: whole record sets are
replaced (delete the rrset, then add the new records), record sets no longer
wanted are deleted, and anything it never managed is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.tsig
import dns.update

from dnschaos.adapters.dnsserve.servers import ServerHandle, Tsig

RecordKey = tuple[str, str]  # (absolute owner name, rtype)


@dataclass(frozen=True)
class RecordData:
    """One record set: its TTL and its values in presentation format."""

    ttl: int
    values: tuple[str, ...]


class UpdateRefused(Exception):
    """The server answered an UPDATE with something other than NOERROR."""

    def __init__(self, server: str, zone: str, rcode: str, detail: str = "") -> None:
        self.server = server
        self.zone = zone
        self.rcode = rcode
        suffix = f": {detail}" if detail else ""
        super().__init__(f"update of zone {zone} refused by {server}: {rcode}{suffix}")


# What a record set is compared by: the TTL and the parsed records, so that
# "2001:db8::1" and "2001:DB8:0::1" are the same value.
_Wanted = tuple[int, frozenset[dns.rdata.Rdata]]
_ABSENT: _Wanted = (0, frozenset())
# Ours, but a send failed part-way: the server may or may not have applied it.
_UNKNOWN: _Wanted = (-1, frozenset())


class Pusher:
    """Keeps a zone on a real server in step with the record sets a caller wants."""

    def __init__(
        self,
        server: ServerHandle | tuple[str, int],
        zone: str,
        tsig: Tsig,
        *,
        timeout: float = 2.0,
    ) -> None:
        if not zone.endswith("."):
            raise ValueError(f"zone {zone!r}: must be absolute (end with '.')")
        self._server = server
        self._zone = dns.name.from_text(zone)
        self._tsig = tsig
        self._timeout = timeout
        # What this pusher knows is on the server, by canonical key; _ABSENT for
        # record sets it deleted. Keys it never touched are unknown and not in here.
        self._known: dict[RecordKey, _Wanted] = {}

    @property
    def zone(self) -> str:
        return self._zone.to_text()

    @property
    def address(self) -> tuple[str, int]:
        # Read through the handle on every send rather than copied at construction,
        # so the pusher follows the handle whatever happens to it.
        if isinstance(self._server, ServerHandle):
            return self._server.host, self._server.port
        return self._server

    def pushed(self) -> dict[RecordKey, RecordData]:
        """The record sets this pusher last put on the server (canonical keys)."""
        return {
            key: RecordData(ttl, tuple(sorted(rd.to_text() for rd in rdatas)))
            for key, (ttl, rdatas) in self._known.items()
            if rdatas
        }

    def reset(self) -> None:
        """Forget what was pushed: the next sync writes everything it is given, deletes nothing else."""
        self._known.clear()

    def sync(self, desired: Mapping[RecordKey, RecordData]) -> int:
        """Make the server match ``desired`` for every managed key; returns rrsets changed.

        A key whose values are empty counts as absent. Nothing is sent when
        nothing changed. After a failed send the keys it carried are resent by
        the next call (replacing and deleting whole rrsets is idempotent).
        """
        wanted: dict[RecordKey, _Wanted] = {}
        for key, data in desired.items():
            canonical, rdtype = self._check_key(key)
            if canonical in wanted:
                raise ValueError(f"{key}: given twice (names are case-insensitive)")
            wanted[canonical] = self._parse(key, rdtype, data)

        deletes: list[RecordKey] = []
        adds: list[RecordKey] = []
        for key in sorted(self._known.keys() | wanted.keys()):
            known = self._known.get(key)
            if key in wanted:
                target = wanted[key]
            elif known is not None and known != _ABSENT:
                target = _ABSENT  # pushed before, no longer wanted
            else:
                continue  # not ours, or already deleted
            if known == target:
                continue
            deletes.append(key)
            if target[1]:
                adds.append(key)
        if not deletes:
            return 0

        update = dns.update.UpdateMessage(
            self._zone,
            keyring=self._tsig.keyring(),
            keyname=self._tsig.keyname,
            keyalgorithm=self._tsig.keyalgorithm,
        )
        # Every delete before every add: replacing an A by a CNAME at the same
        # name must not add the CNAME while the A is still there.
        for key in deletes:
            update.delete(dns.name.from_text(key[0]), dns.rdatatype.from_text(key[1]))
        for key in adds:
            ttl, rdatas = wanted[key]
            rdataset = dns.rdataset.from_rdata_list(ttl, sorted(rdatas))
            update.add(dns.name.from_text(key[0]), rdataset)

        host, port = self.address
        server = f"{host}:{port}"
        try:
            reply = dns.query.tcp(update, host, port=port, timeout=self._timeout)
        except BaseException as exc:
            # A lost reply may hide an applied update: the next sync must not
            # trust the old state of these keys, whatever it is asked for.
            for key in deletes:
                self._known[key] = _UNKNOWN
            if isinstance(exc, dns.tsig.PeerError):
                raise UpdateRefused(server, self.zone, "NOTAUTH", f"TSIG: {exc!r}") from exc
            raise
        rcode = reply.rcode()
        if rcode != dns.rcode.NOERROR:
            # Updates are all-or-nothing (RFC 2136 section 3.7): nothing changed.
            raise UpdateRefused(server, self.zone, dns.rcode.to_text(rcode))

        for key in deletes:
            self._known[key] = _ABSENT
        for key in adds:
            self._known[key] = wanted[key]
        return len(deletes)

    def _check_key(self, key: RecordKey) -> tuple[RecordKey, dns.rdatatype.RdataType]:
        owner, rtype = key
        if not owner.endswith("."):
            raise ValueError(f"{key}: owner name must be absolute (end with '.')")
        name = dns.name.from_text(owner)
        if not name.is_subdomain(self._zone):
            raise ValueError(f"{key}: {owner} is outside zone {self.zone}")
        try:
            rdtype = dns.rdatatype.from_text(rtype.upper())
        except dns.rdatatype.UnknownRdatatype:
            raise ValueError(f"{key}: unknown record type {rtype!r}") from None
        if dns.rdatatype.is_metatype(rdtype) or rdtype == dns.rdatatype.OPT:
            raise ValueError(f"{key}: {rtype} is not a record set type")
        if rdtype == dns.rdatatype.SOA or (rdtype == dns.rdatatype.NS and name == self._zone):
            raise ValueError(f"{key}: the zone's SOA and apex NS belong to the server")
        canonical = (name.canonicalize().to_text(), dns.rdatatype.to_text(rdtype))
        return canonical, rdtype

    @staticmethod
    def _parse(key: RecordKey, rdtype: dns.rdatatype.RdataType, data: RecordData) -> _Wanted:
        if not 0 <= data.ttl <= 2**31 - 1:
            raise ValueError(f"{key}: TTL {data.ttl} out of range 0..2^31-1")
        records: set[dns.rdata.Rdata] = set()
        for value in data.values:
            try:
                # Names inside values are taken as absolute, as Route 53 does.
                records.add(
                    dns.rdata.from_text(dns.rdataclass.IN, rdtype, value, origin=dns.name.root)
                )
            except dns.exception.DNSException as exc:
                raise ValueError(f"{key}: value {value!r} does not parse: {exc}") from None
        # An empty set is absent whatever its TTL.
        return (data.ttl, frozenset(records)) if records else _ABSENT


__all__ = ["Pusher", "RecordData", "RecordKey", "UpdateRefused"]
