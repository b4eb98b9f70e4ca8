"""boto3 clients for one AWS target: moto in-process, a moto server, or real AWS.

The automation under test receives ordinary boto3 clients from here and never
knows which target is behind them.

* ``moto`` (default): moto's in-process mock with the strict Route 53 layer.
* ``moto-server``: a moto server at an endpoint URL (see ``dnschaos.adapters.moto_server``
  for one that runs the strict layer too).
* ``aws``: a real AWS account. It refuses to start unless it is enabled twice:
  by the caller (``allow_real_aws=True``, the CLI's ``--allow-real-aws``) and by
  the environment (``DNSCHAOS_ALLOW_REAL_AWS=1``), so a test run can never reach
  AWS by accident.

moto takes no lock across threads: with four threads we saw lost DynamoDB
updates and two winners of one conditional write. Every in-process request is
therefore serialised through one lock (:data:`MOTO_LOCK`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from dnschaos.adapters import route53_strict
from dnschaos.errors import RealAwsRefusedError, UsageError
from dnschaos.sim.clock import Clock

TARGETS: Final = ("moto", "moto-server", "aws")
REAL_AWS_ENV: Final = "DNSCHAOS_ALLOW_REAL_AWS"
DEFAULT_REGION: Final = "us-east-1"
# moto accepts any key; fixed fake ones mean no credential file or variable is read.
FAKE_CREDENTIALS: Final = {
    "aws_access_key_id": "AKIADNSCHAOSFAKEKEY0",
    "aws_secret_access_key": "dnschaos-fake-secret-never-valid-anywhere",
    "aws_session_token": "dnschaos-fake-session",
}

MOTO_LOCK = threading.RLock()
_serialized = False


def _serialize_moto() -> None:
    """Wrap moto's in-process dispatcher so that one request at a time touches its backends."""
    global _serialized
    with MOTO_LOCK:
        if _serialized:
            return
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.process_request

        def process_request(self: Any, request: Any) -> Any:
            with MOTO_LOCK:
                return original(self, request)

        BotocoreStubber.process_request = process_request
        _serialized = True


@dataclass(frozen=True)
class TargetSpec:
    """Which AWS to talk to; validated by :func:`open_target`."""

    kind: str = "moto"
    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    allow_real_aws: bool = False
    max_attempts: int = 3

    def validate(self) -> None:
        if self.kind not in TARGETS:
            raise UsageError(
                f"--target {self.kind!r}: unknown AWS target; choose one of {', '.join(TARGETS)}"
            )
        if self.kind == "moto-server" and not self.endpoint_url:
            raise UsageError(
                "--target moto-server needs --endpoint-url (for example http://127.0.0.1:5000)"
            )
        if self.kind == "moto-server" and self.endpoint_url:
            _require_loopback(self.endpoint_url)
        if self.kind == "aws":
            enabled_env = os.environ.get(REAL_AWS_ENV) == "1"
            if not (self.allow_real_aws and enabled_env):
                missing = []
                if not self.allow_real_aws:
                    missing.append("the --allow-real-aws flag")
                if not enabled_env:
                    missing.append(f"{REAL_AWS_ENV}=1 in the environment")
                raise RealAwsRefusedError(
                    "--target aws: refusing to touch a real AWS account; it needs both "
                    "--allow-real-aws and DNSCHAOS_ALLOW_REAL_AWS=1, and is missing "
                    + " and ".join(missing)
                    + ". Use a sandbox account only."
                )
        if self.max_attempts < 1:
            raise UsageError(f"max_attempts={self.max_attempts}: must be at least 1")


def _require_loopback(url: str) -> None:
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise UsageError(
            f"--endpoint-url {url}: a moto server must listen on loopback "
            "(127.0.0.0/8, localhost or [::1])"
        )


@dataclass
class AwsTarget:
    """An opened target: hands out boto3 clients and, in-process, the strict layer."""

    spec: TargetSpec
    _session: boto3.session.Session
    _clients: dict[tuple[str, str | None], BaseClient] = field(default_factory=dict)

    def client(self, service: str, *, actor: str | None = None) -> Any:
        """A boto3 client for ``service``; one per (service, actor), so events can tell actors apart."""
        key = (service, actor)
        if key not in self._clients:
            config = Config(
                region_name=self.spec.region,
                # total_max_attempts counts the first try too (max_attempts counts retries).
                retries={"mode": "standard", "total_max_attempts": self.spec.max_attempts},
                connect_timeout=5,
                read_timeout=30,
                user_agent_extra=f"dnschaos-actor/{actor or 'harness'}",
            )
            kwargs: dict[str, Any] = {"config": config}
            if self.spec.endpoint_url:
                kwargs["endpoint_url"] = self.spec.endpoint_url
            self._clients[key] = self._session.client(service, **kwargs)  # type: ignore[call-overload]
        return self._clients[key]

    def strict_route53(self) -> route53_strict.StrictRoute53:
        """The strict layer's view of Route 53 (in-process moto only)."""
        if self.spec.kind != "moto":
            raise UsageError(
                f"target {self.spec.kind!r}: the harness reads Route 53 state directly only "
                "for the in-process moto target"
            )
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.route53.models import route53_backends

        return route53_strict.strict_for(route53_backends[DEFAULT_ACCOUNT_ID]["aws"])


@contextmanager
def open_target(
    spec: TargetSpec, *, clock: Clock, propagation_delay: float = 0.0, seed: int = 0
) -> Iterator[AwsTarget]:
    """Open ``spec`` for one run; in-process moto state is fresh and dropped afterwards.

    ``seed`` seeds moto's own generator, so hosted zone ids and every other id
    moto makes up are the same on every run with the same seed.
    """
    spec.validate()
    if spec.kind == "aws":
        # Real credentials come from the usual chain only here, and only when enabled.
        yield AwsTarget(spec, boto3.session.Session(region_name=spec.region))
        return
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        aws_session_token=FAKE_CREDENTIALS["aws_session_token"],
        region_name=spec.region,
    )
    if spec.kind == "moto-server":
        yield AwsTarget(spec, session)
        return
    from moto import mock_aws

    _serialize_moto()
    from moto.moto_api._internal import mock_random

    mock = mock_aws()
    mock.start()
    mock_random.seed(seed)
    route53_strict.install(clock, propagation_delay)
    try:
        yield AwsTarget(spec, session)
    finally:
        route53_strict.uninstall()
        mock.stop()
