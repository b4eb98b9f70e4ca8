"""The one guarded session of --target aws: what is refused and where it came from, where
each client's requests go, and that every request is checked before it is sent. Nothing
here sends a request: presigned URLs resolve the endpoints, and a handler after the guard's
stops each call before the network."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.httpsession import get_cert_path
from botocore.loaders import Loader

from dnschaos.adapters.aws.endpoints import Guarded, refuse_overrides
from dnschaos.adapters.aws.real import make_session
from dnschaos.adapters.aws.target import _hermetic_session
from dnschaos.errors import RealAwsRefusedError, UsageError


class Stopped(Exception):
    """Raised after the guard let a request through: nothing is sent."""


@pytest.fixture
def real(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keys in the environment, no AWS configuration, no instance metadata, a HOME of its own."""
    for name in list(os.environ):
        if name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DATA_PATH", "AWS_USE_")):
            monkeypatch.delenv(name)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIADNSCHAOSUNITTEST",
        "AWS_SECRET_ACCESS_KEY": "never-sent",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config"
    path.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    return path


# (environment, config file text, what the refusal names)
REFUSED: dict[str, tuple[dict[str, str], str, tuple[str, ...]]] = {
    "env-sts": ({"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}, "", ("AWS_ENDPOINT_URL_STS",)),
    "env-route53": (
        {"AWS_ENDPOINT_URL_ROUTE_53": "http://127.0.0.1:9"},
        "",
        ("AWS_ENDPOINT_URL_ROUTE_53", "route53"),
    ),
    "env-dynamodb": (
        {"AWS_ENDPOINT_URL_DYNAMODB": "https://x"},
        "",
        ("AWS_ENDPOINT_URL_DYNAMODB",),
    ),
    "env-global": ({"AWS_ENDPOINT_URL": "https://x"}, "", ("AWS_ENDPOINT_URL=https://x",)),
    "profile": ({}, "[default]\nendpoint_url = https://x\n", ("endpoint_url = https://x",)),
    "services": (
        {},
        "[default]\nservices = s\n[services s]\ndynamodb =\n  endpoint_url = https://x\n",
        ("dynamodb endpoint_url = https://x", "[services s]"),
    ),
    "services-flat-value": (
        {},
        "[default]\nservices = s\n[services s]\nsts = https://x\n",
        ("sts endpoint_url = https://x",),
    ),
    "services-missing-section": (
        {},
        "[default]\nservices = nowhere\n",
        ("services = nowhere", "does not have"),
    ),
    "data-path-env": ({"AWS_DATA_PATH": "/tmp/models"}, "", ("AWS_DATA_PATH=/tmp/models",)),
    "data-path-profile": ({}, "[default]\ndata_path = /tmp/m\n", ("data_path = /tmp/m",)),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_overrides_are_refused_naming_where_they_came_from(
    name: str, real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, config, says = REFUSED[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = _config(monkeypatch, real, config) if config else None
    with pytest.raises(RealAwsRefusedError) as refused:
        refuse_overrides(botocore.session.Session())
    for fragment in (*says, *([str(path)] if path else [])):
        assert fragment in str(refused.value)


def test_a_missing_profile_is_a_usage_error(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(UsageError, match="no-such-profile"):
        refuse_overrides(botocore.session.Session())


def _through(guarded: Guarded, service: str, call: str) -> str:
    """Call ``service``; return the URL the guard let through (stopped before sending)."""
    client = guarded.client(service)
    seen: list[str] = []

    def stop(request: Any, **_: Any) -> None:
        seen.append(request.url)
        raise Stopped

    client.meta.events.register("before-send", stop)  # after the guard's (less specific)
    with pytest.raises(Stopped):
        getattr(client, call)()
    return seen[0]


CASES = {
    "default": ({}, "us-east-1", "https://sts.us-east-1.amazonaws.com"),
    "fips": (
        {"AWS_USE_FIPS_ENDPOINT": "true"},
        "eu-west-1",
        "https://sts-fips.eu-west-1.amazonaws.com",
    ),
    "dualstack": (
        {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
        "eu-west-1",
        "https://sts.eu-west-1.api.aws",
    ),
    "sts-legacy": (
        {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        "us-east-1",
        "https://sts.amazonaws.com",
    ),
    "china": ({}, "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_requests_go_where_the_guard_checked(
    case: str, real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, region, sts = CASES[case]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    guarded = make_session(region, None, _hermetic_session)
    assert guarded.endpoints["sts"] == sts
    for service, call in (
        ("sts", "get_caller_identity"),
        ("route53", "list_hosted_zones"),
        ("dynamodb", "list_tables"),
    ):
        assert _through(guarded, service, call).startswith(guarded.endpoints[service] + "/")
    assert guarded.refused == []
    summary = guarded.summary()
    assert summary["region"] == region and summary["partition"] == guarded.partition
    assert summary["endpoints"] == guarded.endpoints and summary["credentials"] == "env"


def test_a_request_moved_after_the_check_is_refused_and_never_sent(real: Path) -> None:
    guarded = make_session("us-east-1", None, _hermetic_session)
    client = guarded.client("route53")
    sent: list[str] = []

    def move(request: Any, **_: Any) -> None:
        request.url = "http://127.0.0.1:9/2013-04-01/hostedzone"

    client.meta.events.register("request-created.route-53", move)
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    with pytest.raises(RealAwsRefusedError, match=r"refused a route53 CreateHostedZone request"):
        client.create_hosted_zone(Name="a.example.", CallerReference="r")
    assert sent == []
    assert guarded.refused and "http://127.0.0.1:9" in guarded.refused[0]


def test_models_in_home_cannot_move_an_endpoint(
    real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.aws/models is botocore's default place for service models and endpoint rules; the
    guarded session reads botocore's own only. A plain session is fooled (the control)."""
    # botocore expands ~ once, when it is imported: point its default there instead.
    monkeypatch.setattr(Loader, "CUSTOMER_DATA_PATH", str(real / ".aws" / "models"))
    builtin = Loader(
        extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False
    )
    rules = builtin.load_service_model("sts", "endpoint-rule-set-1", "2011-06-15")
    text = json.dumps(rules).replace('"https://sts', '"https://evil.example/sts')
    place = real / ".aws" / "models" / "sts" / "2011-06-15"
    place.mkdir(parents=True)
    (place / "endpoint-rule-set-1.json").write_text(text)
    plain = botocore.session.Session().create_client("sts", region_name="us-east-1")
    assert "evil.example" in plain.generate_presigned_url("get_caller_identity")
    guarded = make_session("us-east-1", None, _hermetic_session)
    assert guarded.endpoints["sts"] == "https://sts.us-east-1.amazonaws.com"


def test_a_configured_certificate_bundle_is_recorded_and_not_used(
    real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = real / "other-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    guarded = make_session("us-east-1", None, _hermetic_session)
    assert any(f"AWS_CA_BUNDLE={bundle}" in x for x in guarded.summary()["ignored"])
    verify = guarded.client("sts")._endpoint.http_session._verify
    assert verify == get_cert_path(True) != str(bundle)


def test_no_credentials_is_refused_before_any_call(
    real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with pytest.raises(RealAwsRefusedError, match="no AWS credentials found"):
        make_session("us-east-1", None, _hermetic_session)


def test_a_proxy_is_recorded(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    guarded = make_session("us-east-1", None, _hermetic_session)
    assert guarded.summary()["proxy"] == "http://127.0.0.1:3128"  # no credentials in it


@pytest.mark.parametrize(
    ("config", "sts"),
    [
        ("", "https://sts.us-east-1.amazonaws.com"),
        ("[default]\nsts_regional_endpoints = legacy\n", "https://sts.amazonaws.com"),
        ("[default]\nsts_regional_endpoints = regional\n", "https://sts.us-east-1.amazonaws.com"),
    ],
)
def test_sts_is_the_regions_own_unless_the_profile_chooses(
    config: str, sts: str, real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore before 1.40 sends STS to sts.amazonaws.com unless told otherwise: the guard
    asks the region's own STS whichever botocore is installed, and keeps a profile's choice."""
    if config:
        _config(monkeypatch, real, config)
    guarded = make_session("us-east-1", None, _hermetic_session)
    assert guarded.endpoints["sts"] == sts
    assert _through(guarded, "sts", "get_caller_identity").startswith(sts + "/")
