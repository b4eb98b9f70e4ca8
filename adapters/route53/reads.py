"""Route 53's read calls as third-party DNS tools use them, answered the way Route 53 answers.

certbot-dns-route53, external-dns, octodns and Terraform find a zone by walking
ListHostedZones or ListHostedZonesByName page by page, and list health checks
the same way. moto 5.2 answers these calls, but not as Route 53 does:

* ListHostedZones: ``NextMarker`` is an opaque token rather than the id of the
  next zone, a ``MaxItems`` over 100 returns more than 100 zones, and the
  ``Marker`` sent is not echoed;
* ListHostedZonesByName: ``DNSName`` returns only the zone of that exact name
  instead of starting the list there, and there is no paging (``MaxItems``,
  ``HostedZoneId``, ``IsTruncated``, ``NextDNSName``, ``NextHostedZoneId``);
* GetHostedZone: the zone's default delegation set comes back with an empty
  ``Id`` and a made-up ``CallerReference`` (Route 53 gives only its name servers);
* ListHealthChecks: no paging at all (every health check, no ``IsTruncated``).

GetHealthCheck (``NoSuchHealthCheck`` for an unknown id) is right in moto and is
left to it. The handlers here replace moto's request handling for the calls
above while reading moto's own storage; :func:`dnschaos.adapters.route53.models.install`
installs them with the rest of the strict layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from moto.core.responses import ActionResult
from moto.route53.models import FakeZone
from moto.route53.responses import Route53 as Route53Response

from dnschaos.adapters.route53.errors import StrictRoute53Error

# Route 53 returns at most this many items a page, whatever MaxItems asks for.
MAX_ZONES_PER_PAGE = 100
MAX_HEALTH_CHECKS_PER_PAGE = 1000
DEFAULT_PAGE = 100

T = TypeVar("T")


def _invalid_input(message: str) -> StrictRoute53Error:
    return StrictRoute53Error("InvalidInput", message)


def _max_items(raw: str | None, ceiling: int) -> tuple[int, str]:
    """The page size to use and the MaxItems to echo (the value asked for)."""
    if raw in (None, ""):
        return min(DEFAULT_PAGE, ceiling), str(DEFAULT_PAGE)
    try:
        asked = int(str(raw))
    except ValueError:
        raise _invalid_input(f"Invalid request: MaxItems '{raw}' is not a number") from None
    if asked < 1:
        raise _invalid_input(f"Invalid request: MaxItems {asked} must be at least 1")
    return min(asked, ceiling), str(raw)


def _bare_zone_id(zone_id: str) -> str:
    return zone_id.split("/")[-1]


def _page_from(items: Sequence[T], start: int, size: int) -> tuple[list[T], T | None]:
    end = start + size
    return list(items[start:end]), (items[end] if end < len(items) else None)


def _index_of(items: Sequence[T], key: Callable[[T], str], marker: str, what: str) -> int:
    for i, item in enumerate(items):
        if key(item) == marker:
            return i
    # Route 53 documents a marker only as "the NextMarker of the previous response".
    raise _invalid_input(f"Invalid request: Marker '{marker}' does not name a {what}")


def _reversed_name(name: str) -> str:
    labels = name.lower().rstrip(".").split(".")
    return ".".join(reversed(labels)) + "."


# --------------------------------------------------------------------------- handlers


def list_hosted_zones(self: Route53Response) -> ActionResult:
    page_size, echoed = _max_items(self._get_param("MaxItems"), MAX_ZONES_PER_PAGE)
    marker = self._get_param("Marker")
    zones: list[FakeZone] = list(self.backend.zones.values())
    start = 0
    if marker:
        start = _index_of(zones, lambda z: z.resource_id, _bare_zone_id(marker), "hosted zone")
    page, nxt = _page_from(zones, start, page_size)
    result: dict[str, Any] = {"HostedZones": page, "IsTruncated": nxt is not None}
    if marker:
        result["Marker"] = marker
    if nxt is not None:
        result["NextMarker"] = nxt.resource_id
    result["MaxItems"] = echoed
    return ActionResult(result)


def list_hosted_zones_by_name(self: Route53Response) -> ActionResult:
    page_size, echoed = _max_items(self._get_param("MaxItems"), MAX_ZONES_PER_PAGE)
    dns_name = self._get_param("DNSName")
    zone_id = self._get_param("HostedZoneId")
    if zone_id and not dns_name:
        raise _invalid_input("Invalid request: HostedZoneId requires DNSName")

    def order(zone: FakeZone) -> tuple[str, str]:
        # Labels reversed, in ASCII order; zones of one name by id.
        return (_reversed_name(zone.name), zone.resource_id)

    zones = sorted(self.backend.zones.values(), key=order)
    start = 0
    if dns_name:
        first = (_reversed_name(dns_name), _bare_zone_id(zone_id) if zone_id else "")
        start = next((i for i, z in enumerate(zones) if order(z) >= first), len(zones))
    page, nxt = _page_from(zones, start, page_size)
    result: dict[str, Any] = {"HostedZones": page}
    if dns_name:
        result["DNSName"] = dns_name
    if zone_id:
        result["HostedZoneId"] = zone_id
    result["IsTruncated"] = nxt is not None
    if nxt is not None:
        result["NextDNSName"] = nxt.name
        result["NextHostedZoneId"] = nxt.resource_id
    result["MaxItems"] = echoed
    return ActionResult(result)


def get_hosted_zone(self: Route53Response) -> ActionResult:
    zone: FakeZone = self.backend.get_hosted_zone(self._get_param("Id"))
    result: dict[str, Any] = {"HostedZone": zone}
    if zone.private_zone:
        result["VPCs"] = zone.vpcs
    elif zone.delegation_set is not None:
        delegation = zone.delegation_set
        if delegation.id:
            # A reusable delegation set: Route 53 names it.
            result["DelegationSet"] = {
                "Id": delegation.id,
                "CallerReference": delegation.caller_reference,
                "NameServers": delegation.name_servers,
            }
        else:
            result["DelegationSet"] = {"NameServers": delegation.name_servers}
    return ActionResult(result)


def list_health_checks(self: Route53Response) -> ActionResult:
    page_size, echoed = _max_items(self._get_param("MaxItems"), MAX_HEALTH_CHECKS_PER_PAGE)
    marker = self._get_param("Marker")
    checks = list(self.backend.health_checks.values())
    start = 0
    if marker:
        start = _index_of(checks, lambda c: str(c.id), marker, "health check")
    page, nxt = _page_from(checks, start, page_size)
    result: dict[str, Any] = {"HealthChecks": page, "IsTruncated": nxt is not None}
    if marker:
        result["Marker"] = marker
    if nxt is not None:
        result["NextMarker"] = nxt.id
    result["MaxItems"] = echoed
    return ActionResult(result)


HANDLERS: dict[str, Callable[[Route53Response], ActionResult]] = {
    "list_hosted_zones": list_hosted_zones,
    "list_hosted_zones_by_name": list_hosted_zones_by_name,
    "get_hosted_zone": get_hosted_zone,
    "list_health_checks": list_health_checks,
}
