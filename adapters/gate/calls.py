"""What an HTTP request sent to the gate asks for, read with botocore's service models.

An external process speaks the AWS wire protocols; the harness records and matches calls
by service, operation and parameters, as botocore hands them to an in-process client's
hooks. This module reads a request the other way round: the service from the SigV4
credential scope (or the JSON target header), the operation from the method and path
(REST protocols) or the ``X-Amz-Target`` header (JSON; the query protocol is refused), and
the parameters from the URI labels, the query string, the headers and the body, each
where the operation's input shape puts it. The call is then made with the actor's own boto3
client, so it is recorded, scheduled and faulted as an in-process actor's call is.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import ServiceModel, Shape
from botocore.parsers import create_parser

# SigV4: "AWS4-HMAC-SHA256 Credential=AKID/20251020/us-east-1/route53/aws4_request, ..."
_SCOPE: Final = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class GateRequestError(Exception):
    """A request the gate cannot map to an AWS operation: answered with an error, never
    sent on."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class GateCall:
    """One request read: its service (botocore's name), operation, parameters and region."""

    service: str
    service_id: str  # botocore's hyphenized service id: the name hooks and matchers use
    operation: str
    params: dict[str, Any]
    region: str
    protocol: str


@functools.cache
def _session() -> botocore.session.Session:
    # Models only: no credential, region or endpoint is read through it.
    from dnschaos.adapters.aws.target import _hermetic_botocore_session

    return _hermetic_botocore_session("us-east-1")


@functools.cache
def service_model(name: str) -> ServiceModel:
    try:
        return _session().get_service_model(name)
    except Exception:
        raise GateRequestError(
            400, "UnknownService", f"service {name!r}: no AWS service of that name"
        ) from None


@functools.cache
def _by_signing_name() -> dict[str, str]:
    """botocore's service name by SigV4 signing name (and by its own name)."""
    out: dict[str, str] = {}
    loader = _session().get_component("data_loader")
    for name in _session().get_available_services():
        meta = loader.load_service_model(name, "service-2").get("metadata", {})
        out.setdefault(str(meta.get("signingName") or meta.get("endpointPrefix") or name), name)
    for name in _session().get_available_services():
        out[name] = name
    return out


@functools.cache
def _available() -> frozenset[str]:
    return frozenset(_session().get_available_services())


@functools.cache
def _service_named(signing: str) -> str | None:
    """The service a signing name stands for: the service of that name when it signs as
    itself (route53, dynamodb: one model loaded), else from every model (seconds)."""
    if signing in _available():
        own = service_model(signing).metadata
        if str(own.get("signingName") or own.get("endpointPrefix") or signing) == signing:
            return signing
    return _by_signing_name().get(signing)


Route = tuple[str, "re.Pattern[str]", tuple[str, ...], tuple[str, ...], str]


@functools.cache
def _routes(name: str) -> tuple[Route, ...]:
    """(method, path pattern, URI label names, fixed query keys, operation) of each
    operation of a REST service, literal paths before labelled ones."""
    model = service_model(name)
    out: list[Route] = []
    for op_name in model.operation_names:
        http = model.operation_model(op_name).http
        uri, _, fixed = str(http.get("requestUri", "/")).partition("?")
        labels: list[str] = []

        def label(match: re.Match[str], labels: list[str] = labels) -> str:
            labels.append(match.group(1).rstrip("+"))
            return "(.+)" if match.group(1).endswith("+") else "([^/]+)"

        pattern = re.sub(r"\\\{([^}]+)\\\}", label, re.escape(uri.rstrip("/") or "/"))
        keys = tuple(p.partition("=")[0] for p in fixed.split("&") if p)
        out.append(
            (
                str(http.get("method", "POST")),
                re.compile(f"^{pattern}/?$"),
                tuple(labels),
                keys,
                op_name,
            )
        )
    out.sort(key=lambda r: (len(r[2]), -len(r[3]), -len(r[1].pattern)))
    return tuple(out)


def read_request(method: str, target: str, headers: Mapping[str, str], body: bytes) -> GateCall:
    """The call an HTTP request makes (``target`` is its path and query), or a
    :class:`GateRequestError` saying why it is none."""
    lower = {k.lower(): v for k, v in headers.items()}
    scope = _SCOPE.search(lower.get("authorization", ""))
    region = scope.group(1) if scope else "us-east-1"
    signing = scope.group(2) if scope else None
    amz_target = lower.get("x-amz-target", "")
    if signing is None and "." in amz_target:
        signing = amz_target.split("_", 1)[0].lower()
    service = _service_named(signing or "")
    if service is None:
        raise GateRequestError(
            400,
            "UnknownService",
            "the request names no AWS service the gate knows (no SigV4 credential scope); "
            "sign requests as the SDKs do, with any credentials",
        )
    model = service_model(service)
    path, _, query_text = target.partition("?")
    query = urllib.parse.parse_qs(query_text, keep_blank_values=True)
    protocol = model.protocol
    if protocol == "json":
        op_name = amz_target.rpartition(".")[2]
        if op_name not in model.operation_names:
            raise GateRequestError(
                400, "UnknownOperation", f"X-Amz-Target {amz_target!r}: no such {service} operation"
            )
        params = _json_params(body)
    elif protocol in ("query", "ec2"):
        # Their flattened parameters (``Tags.member.1.Key``) are not read back into
        # botocore's shapes yet: refused, rather than answered with a guess.
        raise GateRequestError(
            400,
            "UnsupportedProtocol",
            f"{service} speaks the {protocol} protocol, which the gate does not read; "
            "Route 53, DynamoDB and other REST and JSON services are supported",
        )
    else:  # rest-xml, rest-json
        op_name, labels = _rest_operation(service, method, path, query)
        shape = model.operation_model(op_name).input_shape
        params = _rest_params(protocol, shape, labels, query, lower, body)
    return GateCall(service, model.service_id.hyphenize(), op_name, params, region, protocol)


def error_answer(
    protocol: str, status: int, code: str, message: str
) -> tuple[int, dict[str, str], bytes]:
    """An error answer in the wire form of ``protocol`` (status, headers, body)."""
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        return (
            status,
            {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code},
            body,
        )
    side = "Sender" if status < 500 else "Receiver"
    xml = (
        '<?xml version="1.0"?>\n<ErrorResponse><Error>'
        f"<Type>{side}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        "</Error><RequestId>dnschaos-gate</RequestId></ErrorResponse>"
    )
    return status, {"Content-Type": "text/xml"}, xml.encode()


def _json_params(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError as exc:
        raise GateRequestError(400, "SerializationException", f"body is not JSON: {exc}") from None
    return value if isinstance(value, dict) else {}


def _rest_operation(
    service: str, method: str, path: str, query: Mapping[str, list[str]]
) -> tuple[str, dict[str, str]]:
    for op_method, pattern, labels, keys, op_name in _routes(service):
        found = pattern.match(path) if op_method == method else None
        if found is None or any(k not in query for k in keys):
            continue
        return op_name, {
            k: urllib.parse.unquote(v) for k, v in zip(labels, found.groups(), strict=True)
        }
    raise GateRequestError(
        400, "UnknownOperation", f"{method} {path}: no {service} operation has this method and path"
    )


def _rest_params(
    protocol: str,
    shape: Shape | None,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    if body:
        try:
            parsed = create_parser(protocol).parse(
                {"body": body, "headers": dict(headers), "status_code": 200}, shape
            )
        except Exception as exc:
            raise GateRequestError(
                400, "MalformedInput", f"body: {type(exc).__name__}: {exc}"
            ) from None
        parsed.pop("ResponseMetadata", None)
        params.update(parsed)
    for member, member_shape in shape.members.items():  # type: ignore[attr-defined]
        where = member_shape.serialization.get("location")
        name = member_shape.serialization.get("name", member)
        if where == "uri" and name in labels:
            params[member] = labels[name]
        elif where == "querystring" and name in query:
            values = query[name]
            params[member] = (
                values if member_shape.type_name == "list" else _scalar(member_shape, values[0])
            )
        elif where == "header" and name.lower() in headers:
            params[member] = _scalar(member_shape, headers[name.lower()])
    return params


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


__all__ = ["GateCall", "GateRequestError", "error_answer", "read_request", "service_model"]
