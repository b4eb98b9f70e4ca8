"""The rehearsal stand-in for tests: a project moto server with a token, and what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from dnschaos.adapters.aws.moto_server import moto_server
from dnschaos.adapters.aws.target import _hermetic_session

ACCOUNT = "123456789012"  # moto's default account, what the stand-in's STS answers


@dataclass
class StandIn:
    url: str
    token: Path
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def env(self, **extra: str) -> dict[str, str]:
        """The enablers and the stand-in setting, as a test sets them."""
        return {
            "DNSCHAOS_ALLOW_REAL_AWS": "1",
            "DNSCHAOS_AWS_STANDIN": str(self.token),
            "DNSCHAOS_AWS_ACCOUNTS": ACCOUNT,
            **extra,
        }

    def client(self, service: str) -> Any:
        """A client of the server itself (made once: making one takes a good part of a
        second)."""
        if service not in self._clients:
            session: boto3.session.Session = _hermetic_session("us-east-1")
            self._clients[service] = session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]
        return self._clients[service]

    def snapshot(self) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """Every hosted zone (id, name) and every table the stand-in holds."""
        zones = self.client("route53").list_hosted_zones()["HostedZones"]
        tables = self.client("dynamodb").list_tables()["TableNames"]
        return tuple(sorted((z["Id"], z["Name"]) for z in zones)), tuple(sorted(tables))


@contextmanager
def stand_in(directory: Path, propagation_delay: float = 0.3) -> Iterator[StandIn]:
    token = directory / "standin.token"
    with moto_server(propagation_delay=propagation_delay, standin_token=str(token)) as url:
        yield StandIn(url, token)
