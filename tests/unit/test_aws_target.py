from __future__ import annotations

from pathlib import Path

import pytest

from dnschaos.adapters.aws.target import MOTO_ACCOUNT_ENV, REAL_AWS_ENV, TargetSpec, open_target
from dnschaos.errors import RealAwsRefusedError, UsageError
from dnschaos.sim.clock import ManualClock


def test_real_aws_is_refused_without_both_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REAL_AWS_ENV, raising=False)
    with pytest.raises(RealAwsRefusedError, match="--allow-real-aws and DNSCHAOS_ALLOW_REAL_AWS=1"):
        TargetSpec("aws").validate()
    with pytest.raises(RealAwsRefusedError, match="DNSCHAOS_ALLOW_REAL_AWS=1 in the environment"):
        TargetSpec("aws", allow_real_aws=True).validate()
    monkeypatch.setenv(REAL_AWS_ENV, "1")
    with pytest.raises(RealAwsRefusedError, match="the --allow-real-aws flag"):
        TargetSpec("aws").validate()


def test_real_aws_refusal_happens_before_any_client_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REAL_AWS_ENV, raising=False)
    with pytest.raises(RealAwsRefusedError), open_target(TargetSpec("aws"), clock=ManualClock()):
        raise AssertionError("must not get here")


def test_unknown_target_lists_choices() -> None:
    with pytest.raises(UsageError, match="choose one of moto, moto-server, aws"):
        TargetSpec("localstack").validate()


def test_moto_server_needs_a_loopback_endpoint() -> None:
    with pytest.raises(UsageError, match="needs --endpoint-url"):
        TargetSpec("moto-server").validate()
    with pytest.raises(UsageError, match="must listen on loopback"):
        TargetSpec("moto-server", endpoint_url="http://10.0.0.5:5000").validate()
    TargetSpec("moto-server", endpoint_url="http://127.0.0.1:5000").validate()


def test_moto_target_uses_fake_credentials_only() -> None:
    with open_target(TargetSpec("moto"), clock=ManualClock()) as target:
        creds = target.client("route53").meta.events  # noqa: F841 - the client builds
        resolved = target._session.get_credentials()
        assert resolved is not None
        assert resolved.access_key.startswith("AKIADNSCHAOSFAKE")


HOSTILE_CONFIG = """\
[default]
region = eu-west-3
endpoint_url = http://127.0.0.1:9
use_fips_endpoint = true
[profile other]
region = eu-west-3
"""


def hostile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.write_text(HOSTILE_CONFIG)
    for name, value in {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(config),
        "AWS_PROFILE": "no-such-profile",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_ROUTE_53": "http://127.0.0.1:9",
        "AWS_USE_FIPS_ENDPOINT": "true",
        "AWS_USE_DUALSTACK_ENDPOINT": "true",
        "AWS_DEFAULTS_MODE": "auto",
        "AWS_CA_BUNDLE": str(tmp_path / "no-such-bundle.pem"),
        "AWS_DATA_PATH": str(tmp_path / "no-such-models"),
    }.items():
        monkeypatch.setenv(name, value)
    return config


def test_moto_target_reads_no_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hostile(monkeypatch, tmp_path)
    with open_target(TargetSpec("moto"), clock=ManualClock()) as target:
        core = target._session._session
        for name, expected in {
            "config_file": None,
            "credentials_file": None,
            "profile": None,
            "region": "us-east-1",
            "use_fips_endpoint": None,
            "use_dualstack_endpoint": None,
            "ignore_configured_endpoint_urls": True,
            "defaults_mode": "legacy",
            "ca_bundle": None,
            "data_path": None,
        }.items():
            assert core.get_config_variable(name) == expected, name
        assert core.full_config == {"profiles": {}, "services": {}, "sso_sessions": {}}
        r53 = target.client("route53")
        assert r53.meta.endpoint_url == "https://route53.amazonaws.com"
        ddb = target.client("dynamodb")
        assert ddb.meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"
        # A request goes to moto (not to the endpoint in the environment) and succeeds.
        assert r53.list_hosted_zones()["HostedZones"] == []


def test_moto_server_target_ignores_configured_endpoints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hostile(monkeypatch, tmp_path)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    spec = TargetSpec("moto-server", endpoint_url="http://127.0.0.1:5999")
    with open_target(spec, clock=ManualClock()) as target:
        client = target.client("dynamodb")
        assert client.meta.endpoint_url == "http://127.0.0.1:5999"
        assert client.meta.config.proxies == {}


def test_moto_account_override_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MOTO_ACCOUNT_ENV, "111111111111")
    with pytest.raises(UsageError, match="Unset MOTO_ACCOUNT_ID"):
        TargetSpec("moto").validate()


def test_real_aws_target_still_reads_the_standard_chain(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A profile that moves no endpoint is read as usual: its region and FIPS setting pick
    AWS's own FIPS endpoints (resolved without a call: nothing here reaches AWS)."""
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = eu-west-3\nuse_fips_endpoint = true\n")
    for name, value in {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(config),
        "AWS_PROFILE": "other",
        "AWS_ACCESS_KEY_ID": "AKIADNSCHAOSUNITTEST",
        "AWS_SECRET_ACCESS_KEY": "never-sent",
        "AWS_EC2_METADATA_DISABLED": "true",
        REAL_AWS_ENV: "1",
    }.items():
        monkeypatch.setenv(name, value)
    from dnschaos.adapters.aws.real import make_session
    from dnschaos.adapters.aws.target import _hermetic_session

    TargetSpec("aws", allow_real_aws=True).validate()
    guarded = make_session("eu-west-3", None, _hermetic_session)
    core = guarded.session._session
    assert core.get_config_variable("config_file") == str(config)
    assert core.get_config_variable("profile") == "other"
    assert core.get_config_variable("use_fips_endpoint") is True
    assert guarded.partition == "aws"
    assert guarded.endpoints == {
        "dynamodb": "https://dynamodb-fips.eu-west-3.amazonaws.com",
        "route53": "https://route53-fips.amazonaws.com",
        "sts": "https://sts-fips.eu-west-3.amazonaws.com",
    }
