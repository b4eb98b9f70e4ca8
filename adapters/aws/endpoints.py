"""Where ``--target aws`` sends its requests: one resolution for the account check and the run.

The account check proves something only if STS is asked with the credentials, and through
the endpoint configuration, that then sign and carry the run's Route 53 and DynamoDB
calls. So a run has one session (:class:`Guarded`), and its STS, Route 53 and DynamoDB
clients all come from it:

1. **Configuration that could move an endpoint is refused** (exit 2), naming where it came
   from (:func:`refuse_overrides`): ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``,
   a profile's ``endpoint_url`` or its ``services`` section (in the config file or the
   credentials file, whichever ``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE`` and
   ``AWS_PROFILE`` select), and other service models or endpoint rules (``AWS_DATA_PATH``,
   ``data_path``).
2. **The session is pinned** (:func:`_pin`): configured endpoints ignored, DynamoDB endpoint
   discovery and account-id endpoints off, STS at the region's own endpoint unless the
   configuration says otherwise, botocore's own models (``~/.aws/models`` is not read) and
   botocore's own certificate bundle. A bundle configured with ``AWS_CA_BUNDLE``,
   ``REQUESTS_CA_BUNDLE`` or ``ca_bundle`` is not used and is recorded as ignored: with a
   certificate authority of its choosing, a server that is not AWS could pass for it.
   Whatever the refusal above does not name can therefore not move an endpoint either.
3. **Each service's endpoint is resolved once** (:func:`_resolve`), by botocore itself,
   from a presigned URL (the endpoint rules a call runs; nothing is sent), and must be
   AWS's own for the region's partition (``https``, a host under the partition's DNS
   suffixes, no port) or the proven stand-in.
4. **Every request is checked on its way out** (``before-send``) against its service's
   endpoint; one going anywhere else is refused and never sent.

A proxy (``HTTPS_PROXY``) is recorded, not refused: the requests keep their TLS to AWS's
host, verified with botocore's own certificate bundle, so a proxy can carry them or drop
them but cannot answer for AWS. The stand-in session (a loopback moto server proven by its
token) uses no proxy at all.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore import configloader
from botocore.config import Config
from botocore.exceptions import BotoCoreError, NoCredentialsError
from botocore.httpsession import get_cert_path
from botocore.loaders import Loader
from botocore.utils import CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES, get_environ_proxies

from dnschaos.errors import RealAwsRefusedError, UsageError

# Every client --target aws makes, and an operation whose URL shows the client's endpoint.
SERVICES: Final = ("sts", "route53", "dynamodb")
_PROBES: Final = {
    "sts": "get_caller_identity",
    "route53": "list_hosted_zones",
    "dynamodb": "list_tables",
}
_GLOBAL_ENV: Final = "AWS_ENDPOINT_URL"
# Certificate bundles botocore would trust instead of its own, in the order it reads them.
_CA_ENV: Final = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE")  # botocore reads both
_DATA_ENV: Final = "AWS_DATA_PATH"
_STS_ENV: Final = "AWS_STS_REGIONAL_ENDPOINTS"

Hermetic = Callable[[str], boto3.session.Session]


def _refused(where: str, rule: str, fix: str) -> RealAwsRefusedError:
    return RealAwsRefusedError(f"--target aws: {where}: {rule}; {fix}")


def snake_id(service: str) -> str:
    """The name botocore gives ``service`` in AWS_ENDPOINT_URL_<NAME> and in a services
    section ("route53" -> "route_53")."""
    return CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(service, service).replace("-", "_")


@dataclass(frozen=True)
class _Files:
    """The shared config and credentials files botocore reads, and the selected profile."""

    config: str
    credentials: str
    profile: str | None
    scoped: dict[str, Any]
    full: dict[str, Any]

    def where(self, key: str) -> str:
        """Which file sets ``key`` in the profile (botocore merges the two)."""
        name = self.profile or "default"
        try:
            creds = configloader.raw_config_parse(self.credentials)
        except BotoCoreError:
            creds = {}
        path = self.credentials if key in creds.get(name, {}) else self.config
        return f"profile {name!r} in {path}"


def _files(core: botocore.session.Session) -> _Files:
    config = str(core.get_config_variable("config_file"))
    credentials = str(core.get_config_variable("credentials_file"))
    profile = core.get_config_variable("profile")
    try:
        scoped = core.get_scoped_config()
        full = core.full_config
    except BotoCoreError as exc:
        # A missing profile or a file that does not parse: botocore's message names it.
        raise UsageError(
            f"--target aws: the AWS configuration cannot be read ({exc}); the files are "
            f"{config} (AWS_CONFIG_FILE) and {credentials} (AWS_SHARED_CREDENTIALS_FILE), "
            "the profile comes from AWS_PROFILE"
        ) from None
    return _Files(config, credentials, profile, dict(scoped), dict(full))


def refuse_overrides(
    core: botocore.session.Session, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse (RealAwsRefusedError, exit 2) any setting that could move STS, Route 53 or
    DynamoDB away from AWS's own endpoints, or let another server pass for AWS. Reads the
    environment and the shared files; makes no client, resolves no credentials."""
    env = os.environ if environ is None else environ
    unset = "unset it: --target aws talks to AWS's own endpoints only"
    for service in SERVICES:
        name = f"{_GLOBAL_ENV}_{snake_id(service).upper()}"
        if env.get(name):
            raise _refused(
                f"{name}={env[name]} (environment)",
                f"an endpoint override for {service}",
                unset,
            )
    if env.get(_GLOBAL_ENV):
        raise _refused(
            f"{_GLOBAL_ENV}={env[_GLOBAL_ENV]} (environment)",
            "an endpoint override for every service",
            unset,
        )
    files = _files(core)
    scoped = files.scoped
    # In botocore's order: a service's own setting before the profile's global one.
    if "services" in scoped:
        section = str(scoped["services"])
        entries = files.full.get("services", {}).get(section)
        if not isinstance(entries, dict):
            raise _refused(
                f"services = {section} ({files.where('services')})",
                f"names a [services {section}] section that {files.config} does not have",
                "fix the profile or use another one (AWS_PROFILE)",
            )
        for service in SERVICES:
            sub = entries.get(snake_id(service))
            url = sub.get("endpoint_url") if isinstance(sub, dict) else sub
            if url:
                raise _refused(
                    f"{snake_id(service)} endpoint_url = {url} ([services {section}] in "
                    f"{files.config}, used by {files.where('services')})",
                    f"an endpoint override for {service}",
                    "use a profile without a services section (AWS_PROFILE) or remove it",
                )
    if scoped.get("endpoint_url"):
        raise _refused(
            f"endpoint_url = {scoped['endpoint_url']} ({files.where('endpoint_url')})",
            "an endpoint override for every service",
            "use a profile without it (AWS_PROFILE) or remove the line",
        )
    data = env.get(_DATA_ENV) or scoped.get("data_path")
    if data:
        where = (
            f"{_DATA_ENV}={data} (environment)"
            if env.get(_DATA_ENV)
            else f"data_path = {data} ({files.where('data_path')})"
        )
        raise _refused(
            where,
            "service models or endpoint rules other than botocore's own could send calls elsewhere",
            "unset it",
        )


def ignored_bundles(
    core: botocore.session.Session, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Certificate bundles configured for botocore that --target aws does not use."""
    env = os.environ if environ is None else environ
    found = [f"{name}={env[name]}" for name in _CA_ENV if env.get(name)]
    scoped = _files(core).scoped
    if scoped.get("ca_bundle"):
        found.append(f"ca_bundle = {scoped['ca_bundle']}")
    return found


def _pin(core: botocore.session.Session) -> None:
    """What the refusal cannot name must not move an endpoint either."""
    core.set_config_variable("ignore_configured_endpoint_urls", True)
    # botocore before 1.40 sends STS to its global endpoint in 16 regions unless told, later
    # ones to the region's own: the account check asks the region's own whichever botocore
    # is installed, unless the configuration chooses (it may choose legacy).
    if not os.environ.get(_STS_ENV) and not _files(core).scoped.get("sts_regional_endpoints"):
        core.set_config_variable("sts_regional_endpoints", "regional")
    # DynamoDB could be told another address by DescribeEndpoints, or use an account's own
    # host: one fixed endpoint per service is what is checked.
    core.set_config_variable("endpoint_discovery_enabled", False)
    core.set_config_variable("account_id_endpoint_mode", "disabled")
    core.set_config_variable("ca_bundle", get_cert_path(True))  # wins over REQUESTS_CA_BUNDLE
    core.set_config_variable("data_path", None)
    core.register_component(
        "data_loader",
        Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False),
    )


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what an endpoint is compared by."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass
class Guarded:
    """The one session of a --target aws run (or cleanup): its clients, where they go, and
    what the account check found."""

    session: boto3.session.Session
    region: str
    standin: str | None  # the stand-in's URL; None: AWS itself
    partition: str = ""
    endpoints: dict[str, str] = field(default_factory=dict)  # service -> origin
    account: str | None = None
    refused: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # configured, deliberately not used
    # The service id in botocore's event names ("route-53") -> the client name ("route53").
    _by_id: dict[str, str] = field(
        default_factory=lambda: {snake_id(s).replace("_", "-"): s for s in SERVICES}
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def client_kw(self) -> dict[str, Any]:
        return {"endpoint_url": self.standin} if self.standin else {}

    def client(self, service: str) -> Any:
        return self.session.client(service, **self.client_kw)  # type: ignore[call-overload]

    def _check_send(self, request: Any, event_name: str = "", **_: Any) -> None:
        """``before-send``: the run's requests go to their service's checked endpoint, or
        nowhere. Credential providers' requests (SSO, STS AssumeRole*, from their own
        clients) pass: what they fetch is proven by GetCallerIdentity at the checked STS."""
        parts = event_name.split(".")
        service = self._by_id.get(parts[1]) if len(parts) > 2 else None
        if service is None or (service == "sts" and parts[2] != "GetCallerIdentity"):
            return
        expected = self.endpoints.get(service)
        found = origin(str(request.url))
        if found == expected:
            return
        message = (
            f"--target aws: refused a {service} {parts[2]} request to {found}: the endpoint "
            f"checked for {service} is {expected or 'not resolved yet'}; nothing was sent"
        )
        with self._lock:
            self.refused.append(message)
        raise RealAwsRefusedError(message)

    def summary(self) -> dict[str, Any]:
        """Where the run's requests went, for the result (``aws`` block) and the report."""
        proxies = sorted(
            {
                _without_userinfo(p)
                for url in self.endpoints.values()
                for p in ({} if self.standin else get_environ_proxies(url)).values()
            }
        )
        creds = None if self.standin else self.session.get_credentials()
        core = self.session._session
        return {
            "account": self.account,
            "region": self.region,
            "partition": self.partition,
            "endpoints": dict(sorted(self.endpoints.items())),
            "standin": self.standin is not None,
            "proxy": proxies[0] if len(proxies) == 1 else (", ".join(proxies) or None),
            "credentials": getattr(creds, "method", None) if creds is not None else None,
            "profile": None if self.standin else core.get_config_variable("profile"),
            "ignored": list(self.ignored),
            "refused_requests": list(self.refused),
        }


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def _suffixes(partition: str) -> tuple[str, ...]:
    """The DNS suffixes of ``partition``'s endpoints, from botocore's own partition data."""
    data = Loader(
        extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False
    ).load_data("partitions")
    for part in data.get("partitions", []):
        if part.get("id") == partition:
            outputs = part.get("outputs", {})
            return tuple(
                s for s in (outputs.get("dnsSuffix"), outputs.get("dualStackDnsSuffix")) if s
            )
    return ()


def _built_url(client: Any, operation: str) -> str:
    """The URL botocore builds for ``operation`` (its endpoint rules, as a call would run
    them), learnt by presigning it: nothing is called, nothing is sent."""
    return str(client.generate_presigned_url(operation, ExpiresIn=1))


def _resolve(guarded: Guarded) -> None:
    """Each service's endpoint, as botocore builds it for a request; checked."""
    for service in SERVICES:
        client = guarded.client(service)
        service_id = client.meta.service_model.service_id.hyphenize()
        if guarded._by_id.get(service_id) != service:
            # Its requests would pass unchecked: fail closed on a botocore that names it so.
            raise RealAwsRefusedError(
                f"--target aws: botocore names {service} {service_id!r}, which the endpoint "
                "check does not know; refusing rather than sending unchecked requests"
            )
        guarded.partition = guarded.partition or str(client.meta.partition)
        found = origin(_built_url(client, _PROBES[service]))
        _check_endpoint(guarded, service, found)
        guarded.endpoints[service] = found


def _check_endpoint(guarded: Guarded, service: str, found: str) -> None:
    if guarded.standin is not None:
        if found != origin(guarded.standin):
            raise RealAwsRefusedError(
                f"--target aws: {service} would be called at {found or 'no endpoint'}, not at "
                f"the stand-in {guarded.standin}"
            )
        return
    parts = urlsplit(found)
    host = parts.hostname or ""
    suffixes = _suffixes(guarded.partition)
    if (
        parts.scheme != "https"
        or parts.port not in (None, 443)
        or parts.username is not None
        or not any(host.endswith(f".{s}") for s in suffixes)
    ):
        raise RealAwsRefusedError(
            f"--target aws: {service} would be called at {found or 'no endpoint'}, which is "
            f"not one of AWS's own endpoints for partition {guarded.partition!r} (https, a "
            f"host under {' or '.join(suffixes) or 'its DNS suffix'}); check --region and "
            "the AWS configuration"
        )


def guarded_session(
    core: botocore.session.Session, region: str, standin: str | None, hermetic: Hermetic
) -> Guarded:
    """The session of a run or a cleanup, from ``core`` (the standard chain, already passed
    by :func:`refuse_overrides`): pinned, its endpoints resolved and checked, every request
    checked on its way out. ``standin`` is an already proven stand-in URL: its session is
    ``hermetic(region)`` (moto's fake credentials, no AWS configuration), without proxies."""
    if standin is not None:
        session = hermetic(region)
        session._session.set_default_client_config(Config(proxies={}))
        ignored: list[str] = []
    else:
        ignored = [
            f"{b} (botocore's own certificate bundle is used)" for b in ignored_bundles(core)
        ]
        _pin(core)
        session = boto3.session.Session(botocore_session=core, region_name=region)
    guarded = Guarded(session, region, standin, ignored=ignored)
    # On the session before any client exists (clients copy its handlers when made), and
    # first for each service: ahead of a fault's handler that answers and moves the request.
    for service_id in guarded._by_id:
        session.events.register_first(
            f"before-send.{service_id}",
            guarded._check_send,
            unique_id=f"dnschaos-endpoints-{service_id}",
        )
    try:
        _resolve(guarded)
    except NoCredentialsError:
        raise RealAwsRefusedError(
            "--target aws: no AWS credentials found (environment, AWS_PROFILE's profile, "
            "~/.aws/credentials, SSO, container or instance role); nothing was called"
        ) from None
    except BotoCoreError as exc:
        raise RealAwsRefusedError(
            f"--target aws: botocore cannot make the clients ({exc}); check --region, the "
            "credentials and the AWS configuration"
        ) from None
    return guarded


__all__ = ["SERVICES", "Guarded", "guarded_session", "origin", "refuse_overrides", "snake_id"]
