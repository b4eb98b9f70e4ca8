"""The strict layer's Route 53 reads answered on the wire, without moto's HTTP emulation.

On the fast path (:func:`dnschaos.adapters.aws.target.fast_path`) the strict layer's
Route 53 calls, ListResourceRecordSets (three quarters of a run's AWS calls),
GetChange and ChangeResourceRecordSets, are answered at botocore's
``before-send`` from the request botocore serialized: its URL and XML body are
read here, the strict layer computes the answer
(:func:`~dnschaos.adapters.route53.models.list_page`,
:func:`~dnschaos.adapters.route53.models.change_info`,
:func:`~dnschaos.adapters.route53.models.change_batch`, the same functions
moto's handlers call), and the answer goes back as Route 53's XML with moto's
headers, for botocore to parse as it parses every response.

Only requests whose answer is provably the one moto would give are answered
here; anything else returns None and goes through moto: a request that is
signed (moto would read an account from its key) or carries moto's account
header, a path or query this module does not read exactly as moto would (an
escape, an empty or repeated parameter, an element of a change batch the strict
layer does not read), an error (moto renders Route 53's errors; a batch is
checked whole before anything changes), a text that is not printable ASCII, or
moto's request recorder or IAM authorisation switched on. moto's side effects
are kept: the account is marked as visited and the request id is drawn from
moto's seeded generator, so every id moto makes later in the run is the one it
would have made.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qsl
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from dnschaos.adapters.aws import moto_reply
from dnschaos.adapters.aws.moto_reply import Response
from dnschaos.adapters.route53 import models as route53_strict
from dnschaos.adapters.route53.errors import StrictRoute53Error
from dnschaos.adapters.route53.models import RRSet

_HOST: Final = "https://route53.amazonaws.com/2013-04-01/"
_XMLNS: Final = "https://route53.amazonaws.com/doc/2013-04-01/"
_NS: Final = "{" + _XMLNS + "}"
_SEGMENT = re.compile(r"[A-Za-z0-9]+")
# ListResourceRecordSets' query names and the members they carry.
_LIST_QUERY: Final = {
    "name": "StartRecordName",
    "type": "StartRecordType",
    "identifier": "StartRecordIdentifier",
    "maxitems": "MaxItems",
}
_REGION: Final = "us-east-1"


def answer(request: Any) -> Response | None:
    """Route 53's answer to ``request`` from the strict layer, or None for moto to answer."""
    if request.method not in ("GET", "POST") or not request.url.startswith(_HOST):
        return None
    if not route53_strict.is_installed() or not moto_reply.plain(request.headers):
        return None
    path, _, query = request.url[len(_HOST) :].partition("?")
    parts = path.split("/")
    render: Callable[[Any], str | None]
    if request.method == "POST":
        if not (len(parts) == 4 and parts[0] == "hostedzone" and parts[2:] == ["rrset", ""]):
            return None
        batch = _change_batch(request.body)
        if query or batch is None or not _SEGMENT.fullmatch(parts[1]):
            return None
        zone, (changes, comment) = parts[1], batch

        def render(layer: Any) -> str | None:
            info = route53_strict.change_batch(layer, zone, changes, comment)
            # The batch is applied: from here on there is no stepping aside for moto.
            body = _change_xml("ChangeResourceRecordSetsResponse", info)
            if body is None:
                raise RuntimeError(f"change {info['Id']}: its answer could not be rendered")
            return body

    elif len(parts) == 3 and parts[0] == "hostedzone" and parts[2] == "rrset":
        params = _query(query)
        if params is None or not _SEGMENT.fullmatch(parts[1]):
            return None
        zone_id = parts[1]

        def render(layer: Any) -> str | None:
            return _list_xml(
                route53_strict.list_page(
                    layer,
                    zone_id,
                    params.get("StartRecordName"),
                    params.get("StartRecordType"),
                    params.get("StartRecordIdentifier"),
                    params.get("MaxItems"),
                )
            )

    elif len(parts) == 2 and parts[0] == "change" and not query and _SEGMENT.fullmatch(parts[1]):
        change_id = parts[1]

        def render(layer: Any) -> str | None:
            return _change_xml("GetChangeResponse", route53_strict.change_info(layer, change_id))

    else:
        return None
    return _respond(render)


def _query(query: str) -> dict[str, str] | None:
    if "+" in query:  # a space to one decoder, a plus to another
        return None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    params: dict[str, str] = {}
    for key, value in pairs:
        member = _LIST_QUERY.get(key)
        if member is None or member in params or not value:
            return None
        params[member] = value
    return params


# ChangeResourceRecordSets' request, as far as the strict layer reads it: each
# element's children (None: text), and how many times each may appear.
_ONE, _OPTIONAL, _MANY = (1, 1), (0, 1), (1, 10**6)
_ELEMENTS: Final[dict[str, dict[str, tuple[int, int]]]] = {
    "ChangeResourceRecordSetsRequest": {"ChangeBatch": _ONE},
    "ChangeBatch": {"Comment": _OPTIONAL, "Changes": _ONE},
    "Changes": {"Change": _MANY},
    "Change": {"Action": _ONE, "ResourceRecordSet": _ONE},
    "ResourceRecordSet": {
        "Name": _ONE,
        "Type": _ONE,
        "SetIdentifier": _OPTIONAL,
        "Weight": _OPTIONAL,
        "TTL": _OPTIONAL,
        "ResourceRecords": _OPTIONAL,
        "AliasTarget": _OPTIONAL,
    },
    "ResourceRecords": {"ResourceRecord": _MANY},
    "ResourceRecord": {"Value": _ONE},
    "AliasTarget": {"HostedZoneId": _ONE, "DNSName": _ONE, "EvaluateTargetHealth": _ONE},
}
_LISTS: Final = {"Changes", "ResourceRecords"}
_INTEGERS: Final = {"Weight", "TTL"}
_BOOLEANS: Final = {"EvaluateTargetHealth": {"true": True, "false": False}}
_INTEGER = re.compile(r"-?[0-9]+")


def _change_batch(body: object) -> tuple[list[Any], str | None] | None:
    """The batch's changes and comment, as moto's request parser gives them, or None."""
    if not isinstance(body, bytes):
        return None
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    if root.tag != _NS + "ChangeResourceRecordSetsRequest":
        return None
    try:
        parsed = _read(root, "ChangeResourceRecordSetsRequest")
    except _NotPlain:
        return None
    batch = parsed["ChangeBatch"]
    return batch["Changes"], batch.get("Comment")


def _read(node: ElementTree.Element, name: str) -> Any:
    members = _ELEMENTS.get(name)
    if node.attrib or (members is None) != (len(node) == 0):
        raise _NotPlain
    if members is None:
        return _leaf(node, name)
    if node.text is not None and node.text.strip():
        raise _NotPlain
    counts = dict.fromkeys(members, 0)
    values: list[Any] = []
    out: dict[str, Any] = {}
    for child in node:
        tag = child.tag[len(_NS) :] if child.tag.startswith(_NS) else ""
        if tag not in members or (child.tail is not None and child.tail.strip()):
            raise _NotPlain
        counts[tag] += 1
        value = _read(child, tag)
        values.append(value)
        out[tag] = value
    if any(not low <= counts[tag] <= high for tag, (low, high) in members.items()):
        raise _NotPlain
    return values if name in _LISTS else out


def _leaf(node: ElementTree.Element, name: str) -> Any:
    text = node.text or ""
    if not text or not (text.isascii() and text.isprintable()):
        raise _NotPlain
    if name in _INTEGERS:
        if not _INTEGER.fullmatch(text):
            raise _NotPlain
        return int(text)
    if name in _BOOLEANS:
        if text not in _BOOLEANS[name]:
            raise _NotPlain
        return _BOOLEANS[name][text]
    return text


def _respond(render: Callable[[Any], str | None]) -> Response | None:
    from moto.route53.models import route53_backends

    headers = {"Content-Type": "application/xml"}
    account = moto_reply.open_request("route53", _REGION, headers)
    if account is None:
        return None
    try:
        body = render(route53_strict.strict_for(route53_backends[account]["aws"]))
    except StrictRoute53Error:
        return None  # moto renders the error (nothing has changed: these are reads)
    if body is None:
        return None
    if moto_reply.sends_status():
        headers["status"] = "200"
    moto_reply.close_request(headers)
    return 200, headers, body


def _text(value: object) -> str | None:
    text = str(value)
    # XML would not carry control characters as they are; moto's answer is left to moto.
    return escape(text) if text.isascii() and text.isprintable() else None


def _element(name: str, value: object) -> str:
    text = _text(value)
    if text is None:
        raise _NotPlain
    return f"<{name}>{text}</{name}>"


class _NotPlain(Exception):
    """A value this module does not render exactly as moto would."""


def _rrset_xml(rr: RRSet) -> str:
    """A record set's XML, rendered once and kept on the set itself: a zone's unchanged
    sets are the same objects from one version to the next, and nearly every
    ListResourceRecordSets reads a version it has read before. Kept on the set (in its
    ``__dict__``: the dataclass is frozen), the XML goes when the set does; a cache
    beside them kept thousands of dropped sets alive, and their moto records with them."""
    xml: str | None = rr.__dict__.get("_xml")
    if xml is None:
        xml = rr.__dict__["_xml"] = _render_rrset(rr)
    return xml


def _render_rrset(rr: RRSet) -> str:
    out = [_element("Name", rr.name), _element("Type", rr.type)]
    if rr.set_identifier is not None:
        out.append(_element("SetIdentifier", rr.set_identifier))
    if rr.weight is not None:
        out.append(_element("Weight", rr.weight))
    if rr.alias is not None:
        out.append(
            "<AliasTarget>"
            + _element("HostedZoneId", rr.alias.hosted_zone_id)
            + _element("DNSName", rr.alias.dns_name)
            + _element("EvaluateTargetHealth", _bool(rr.alias.evaluate_target_health))
            + "</AliasTarget>"
        )
    else:
        out.append(_element("TTL", rr.ttl))
        out.append("<ResourceRecords>")
        out.extend(f"<ResourceRecord>{_element('Value', v)}</ResourceRecord>" for v in rr.values)
        out.append("</ResourceRecords>")
    return "<ResourceRecordSet>" + "".join(out) + "</ResourceRecordSet>"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _document(root: str, inner: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<{root} xmlns="{_XMLNS}">{inner}</{root}>'


def _list_xml(result: dict[str, Any]) -> str | None:
    try:
        records = "".join(_rrset_xml(rr) for rr in result["ResourceRecordSets"])
        out = [f"<ResourceRecordSets>{records}</ResourceRecordSets>"]
        out.append(_element("IsTruncated", _bool(result["IsTruncated"])))
        for key in ("NextRecordName", "NextRecordType", "NextRecordIdentifier", "MaxItems"):
            if key in result:
                out.append(_element(key, result[key]))
    except _NotPlain:
        return None
    return _document("ListResourceRecordSetsResponse", "".join(out))


def _timestamp(when: dt.datetime) -> str:
    # Route 53's ISO 8601, with fractions of a second only when there are any.
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if when.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def _change_xml(root: str, info: dict[str, Any]) -> str | None:
    try:
        inner = (
            _element("Id", info["Id"])
            + _element("Status", info["Status"])
            + _element("SubmittedAt", _timestamp(info["SubmittedAt"]))
            + (_element("Comment", info["Comment"]) if "Comment" in info else "")
        )
    except _NotPlain:
        return None
    return _document(root, f"<ChangeInfo>{inner}</ChangeInfo>")
