from __future__ import annotations

import pytest

from dnschaos.adapters.aws import REAL_AWS_ENV, TargetSpec, open_target
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
