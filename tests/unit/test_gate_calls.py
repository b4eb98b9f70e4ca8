"""The gate reads a request back into the call a boto3 client made: service, operation,
parameters. Each request here is the one botocore itself serialises (and signs), so
what the gate reads must be what the caller passed."""

from __future__ import annotations

from typing import Any

import pytest

from dnschaos.adapters.aws.target import FAKE_CREDENTIALS, _hermetic_botocore_session
from dnschaos.adapters.gate.calls import GateRequestError, error_answer, read_request


class _Sent(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _wire(service: str, operation: str, **params: Any) -> tuple[str, str, dict[str, str], bytes]:
    """The request botocore sends for one call: method, path and query, headers, body."""
    session = _hermetic_botocore_session("us-east-1")
    client = session.create_client(
        service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9", **FAKE_CREDENTIALS
    )

    def capture(request: Any, **_: Any) -> None:
        raise _Sent(request)

    client.meta.events.register_first("before-send", capture)
    with pytest.raises(_Sent) as sent:
        getattr(client, operation)(**params)
    request = sent.value.request
    target = request.url.split("127.0.0.1:9", 1)[1] or "/"
    body = request.body or b""
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    return request.method, target, headers, body if isinstance(body, bytes) else body.encode()


CHANGE = {
    "HostedZoneId": "Z123",
    "ChangeBatch": {
        "Comment": "x",
        "Changes": [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": "_tally.example.com.",
                    "Type": "TXT",
                    "TTL": 60,
                    "ResourceRecords": [{"Value": '"a"'}, {"Value": '"b"'}],
                },
            },
            {
                "Action": "DELETE",
                "ResourceRecordSet": {
                    "Name": "www.example.com.",
                    "Type": "A",
                    "SetIdentifier": "blue",
                    "Weight": 10,
                    "AliasTarget": {
                        "HostedZoneId": "Z2",
                        "DNSName": "lb.example.net.",
                        "EvaluateTargetHealth": True,
                    },
                },
            },
        ],
    },
}


@pytest.mark.parametrize(
    ("service", "method", "operation", "params"),
    [
        ("route53", "change_resource_record_sets", "ChangeResourceRecordSets", CHANGE),
        (
            "route53",
            "list_resource_record_sets",
            "ListResourceRecordSets",
            {
                "HostedZoneId": "Z123",
                "StartRecordName": "a.example.com.",
                "StartRecordType": "TXT",
                "MaxItems": "1",
            },
        ),
        ("route53", "get_change", "GetChange", {"Id": "C2682N5HXP0BZ4"}),
        (
            "route53",
            "list_hosted_zones_by_name",
            "ListHostedZonesByName",
            {"DNSName": "example.com"},
        ),
        ("route53", "list_hosted_zones", "ListHostedZones", {}),
        (
            "dynamodb",
            "put_item",
            "PutItem",
            {
                "TableName": "plans",
                "Item": {"pk": {"S": "a"}, "generation": {"N": "3"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        ),
        (
            "dynamodb",
            "update_item",
            "UpdateItem",
            {
                "TableName": "plans",
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "SET g = :g",
                "ExpressionAttributeValues": {":g": {"N": "4"}},
            },
        ),
    ],
)
def test_a_request_reads_back_as_the_call_that_made_it(
    service: str, method: str, operation: str, params: dict[str, Any]
) -> None:
    call = read_request(*_wire(service, method, **params))
    assert (call.service, call.operation) == (service, operation)
    assert call.params == params


def test_an_unknown_path_is_refused_not_guessed() -> None:
    method, _, headers, body = _wire("route53", "list_hosted_zones")
    with pytest.raises(GateRequestError) as refused:
        read_request(method, "/2013-04-01/nothing-here", headers, body)
    assert refused.value.code == "UnknownOperation"


def test_an_unsigned_request_names_no_service() -> None:
    with pytest.raises(GateRequestError) as refused:
        read_request("GET", "/2013-04-01/hostedzone", {}, b"")
    assert refused.value.code == "UnknownService"


def test_the_query_protocol_is_refused_with_what_is_supported() -> None:
    with pytest.raises(GateRequestError) as refused:
        read_request(*_wire("sts", "get_caller_identity"))
    assert refused.value.code == "UnsupportedProtocol"
    assert "Route 53, DynamoDB" in str(refused.value)


@pytest.mark.parametrize("protocol", ["rest-xml", "json"])
def test_an_error_answer_parses_as_that_error(protocol: str) -> None:
    from botocore.parsers import create_parser

    status, headers, body = error_answer(protocol, 400, "Throttling", "slow <down> & wait")
    parsed = create_parser(protocol).parse(
        {"body": body, "headers": headers, "status_code": status}, None
    )
    assert parsed["Error"]["Code"] == "Throttling"
    assert parsed["Error"]["Message"] == "slow <down> & wait"
