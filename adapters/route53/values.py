"""Route 53's checks of record names and values in a ChangeResourceRecordSets request.

moto stores whatever it is given: ``999.1.1.1`` as an A record, an unquoted TXT
value, a 300-character TXT string, a 70-character label. Route 53 refuses each
of them, and automation that builds values by hand meets those refusals only in
production. The functions here say what Route 53 would say; the strict layer
(:mod:`dnschaos.adapters.route53.models`) decides when to say it.

The message texts are Route 53's own. A value it cannot parse is reported as
``Invalid Resource Record: 'FATAL problem: <CODE> (<why>) encountered with '<value>''``
inside the bracketed list of an ``InvalidChangeBatch``; a bad record name or
alias target name is reported alone, as ``FATAL problem: <CODE> (<why>)
encountered with '<name or label>'``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

# DomainNameFormat: labels of at most 63 bytes, names of at most 255 bytes.
MAX_LABEL = 63
MAX_NAME = 255
# A TXT or SPF record is one or more character-strings of at most 255 bytes each.
MAX_CHARACTER_STRING = 255
# The sum of the characters of every Value element of one request (UPSERT counts twice).
MAX_VALUE_CHARS_PER_BATCH = 32000
# Weighted sets with one name and type.
MAX_WEIGHTED_PER_NAME_AND_TYPE = 100
# TTL is an xs:long limited to a signed 32-bit range in Route 53's schema.
MAX_TTL = 2147483647

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(r"\\(\d{3}|.)", re.DOTALL)
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def fatal(code: str, why: str, encountered: str) -> str:
    """Route 53's text for a name or value its parser refuses."""
    return f"FATAL problem: {code} ({why}) encountered with '{encountered}'"


def invalid_resource_record(code: str, why: str, value: str) -> str:
    """Route 53's text for a record value it refuses, one entry of an InvalidChangeBatch."""
    return f"Invalid Resource Record: '{fatal(code, why, value)}'"


def _unescaped_length(text: str) -> int:
    # \DDD (an octal-style decimal escape) and \X both stand for one byte.
    return len(_ESCAPE.sub("x", text)) if "\\" in text else len(text)


def _split_labels(name: str) -> list[str]:
    """The labels of ``name``, split at dots that are not escaped; no trailing empty label."""
    # Nearly every name has no escape: then every dot splits.
    labels = name.split(".") if "\\" not in name else _split_escaped(name)
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # the root: a fully qualified name ends with a dot
    return labels


def _split_escaped(name: str) -> list[str]:
    """``name`` split at its dots that no backslash escapes (``\\.`` stays in a label)."""
    labels: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(name):
        ch = name[i]
        if ch == "\\" and i + 1 < len(name):
            current.append(name[i : i + 2])
            i += 2
            continue
        if ch == ".":
            labels.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    labels.append("".join(current))
    return labels


def name_problem(name: str) -> str | None:
    """Why Route 53 refuses ``name`` as a domain name (record name, CNAME or alias target), if it does."""
    if name in ("", "."):
        return None
    labels = _split_labels(name)
    if any(label == "" for label in labels):
        return fatal("DomainLabelEmpty", "Domain label is empty", name)
    for label in labels:
        if _unescaped_length(label) > MAX_LABEL:
            return fatal("DomainLabelTooLong", "Domain label is too long", label)
    # The dots between labels count; the final dot of a fully qualified name does not.
    if sum(_unescaped_length(label) for label in labels) + len(labels) - 1 > MAX_NAME:
        return fatal("DomainNameTooLong", "Domain name is too long", name)
    return None


# A hosted zone's name: letters, digits, hyphens and underscores per label (any other
# character escaped as \DDD), as CreateHostedZone requires.
_ZONE_LABEL = re.compile(r"(?:[A-Za-z0-9_-]|\\\d{3})+")


def zone_name_problem(name: str) -> str | None:
    """Why Route 53 refuses ``name`` as a hosted zone's name (CreateHostedZone), if it does."""
    if name in ("", "."):
        return f"InvalidDomainName: {name!r} is not a domain name a hosted zone can have"
    problem = name_problem(name)
    if problem is not None:
        return problem
    for label in _split_labels(name):
        if not _ZONE_LABEL.fullmatch(label):
            return (
                f"InvalidDomainName: {name} is not a valid domain name (label {label!r}: "
                "letters, digits, - and _ only; escape others as \\DDD)"
            )
    return None


def _ipv4_problem(value: str) -> str | None:
    if any(ch.isspace() for ch in value.strip()):
        return invalid_resource_record("ARRDATANotSingleField", "Value contains spaces", value)
    if _IPV4.fullmatch(value) and all(int(part) <= 255 for part in value.split(".")):
        return None
    return invalid_resource_record(
        "ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address", value
    )


def _ipv6_problem(value: str) -> str | None:
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return invalid_resource_record(
            "AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", value
        )
    if "%" in value:  # a zone index is not an address
        return invalid_resource_record(
            "AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", value
        )
    return None


def character_strings(value: str) -> list[str] | None:
    """The quoted character-strings of a TXT value (quotes kept), or None if it is not made of them."""
    strings: list[str] = []
    pos = 0
    text = value.strip()
    while pos < len(text):
        match = _QUOTED.match(text, pos)
        if match is None:
            return None
        strings.append(match.group(0))
        pos = match.end()
        if pos < len(text):
            if not text[pos].isspace():
                return None
            while pos < len(text) and text[pos].isspace():
                pos += 1
    return strings or None


def _txt_problem(value: str) -> str | None:
    strings = character_strings(value)
    if strings is None:
        return invalid_resource_record(
            "InvalidCharacterString", "Value should be enclosed in quotation marks", value
        )
    if any(_unescaped_length(s[1:-1]) > MAX_CHARACTER_STRING for s in strings):
        return invalid_resource_record("CharacterStringTooLong", "Value is too long", value)
    return None


def _domain_value_problem(value: str) -> str | None:
    problem = name_problem(value)
    return None if problem is None else f"Invalid Resource Record: '{problem}'"


_CHECKS = {
    "A": _ipv4_problem,
    "AAAA": _ipv6_problem,
    "TXT": _txt_problem,
    "SPF": _txt_problem,
    "CNAME": _domain_value_problem,
}


def value_problems(rtype: str, values: Sequence[str]) -> list[str]:
    """Route 53's messages for the values of one record set that it refuses (one per value)."""
    check = _CHECKS.get(rtype)
    if check is None:
        return []
    return [problem for problem in map(check, values) if problem is not None]
