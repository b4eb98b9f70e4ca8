"""boto3 clients for one AWS target: moto in-process, a moto server, or real AWS.

The automation under test receives ordinary boto3 clients from here and never
knows which target is behind them.

* ``moto`` (default): moto's in-process mock with the strict Route 53 layer.
* ``moto-server``: a moto server at an endpoint URL (see ``dnschaos.adapters.aws.moto_server``
  for one that runs the strict layer too).
* ``aws``: a real AWS account. It refuses to start unless it is enabled twice:
  by the caller (``allow_real_aws=True``, the CLI's ``--allow-real-aws``) and by
  the environment (``DNSCHAOS_ALLOW_REAL_AWS=1``), so a test run can never reach
  AWS by accident. It is the one target that reads the standard configuration
  chain: environment, ``~/.aws/config`` and ``~/.aws/credentials``, profiles.

The fast path (on unless ``DNSCHAOS_FAST=0``; :func:`fast_path`) keeps one
hermetic session per process, lends each run in-process moto clients from a
pool, reset to the handlers they were created with and fresh retry state, and
sends in-process moto unsigned requests (it reads neither account nor region
from a signature the harness makes; a moto server reads the service from it).
:mod:`dnschaos.adapters.aws.moto_dispatch` holds the moto side of it.

The moto targets are hermetic: their sessions read no AWS configuration at all
(:func:`_hermetic_botocore_session`), so a developer's profile, endpoint, FIPS or
proxy settings change neither where a run's requests go nor what it finds.

moto takes no lock across threads: with four threads we saw lost DynamoDB
updates and two winners of one conditional write. Every in-process request is
therefore serialised through one lock (:data:`MOTO_LOCK`).
"""

from __future__ import annotations

import copy
import os
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, cast

import boto3
import botocore.session
from botocore import UNSIGNED, handlers
from botocore.client import BaseClient
from botocore.config import Config
from botocore.configprovider import (
    BOTOCORE_DEFAUT_SESSION_VARIABLES,
    ConfigChainFactory,
    ConfigValueStore,
    ConstantProvider,
)
from botocore.credentials import CredentialResolver
from botocore.loaders import Loader
from botocore.retries import standard
from botocore.tokens import TokenProviderChain
from botocore.useragent import UserAgentString

from dnschaos.adapters.aws import moto_tracking
from dnschaos.adapters.aws.retries import HARNESS_MODE, Retries
from dnschaos.adapters.dynamodb import index as dynamodb_index
from dnschaos.adapters.route53 import models as route53_strict
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

# moto answers every request for this account when it is set, while the harness
# reads Route 53 state from moto's default account: refused rather than obeyed.
MOTO_ACCOUNT_ENV: Final = "MOTO_ACCOUNT_ID"
# botocore's default for each of these would read a file or depend on the environment.
_HERMETIC_DEFAULTS: Final = {
    # No file: the profile map is empty, so no profile, credential_process,
    # endpoint_url or services section can come from one.
    "config_file": None,
    "credentials_file": None,
    # botocore adds a per-client endpoint provider that reads AWS_ENDPOINT_URL,
    # AWS_ENDPOINT_URL_<SERVICE> and the config file itself; this turns it off.
    "ignore_configured_endpoint_urls": True,
    # "auto" would ask the EC2 instance metadata service for a region.
    "defaults_mode": "legacy",
}

# "0" turns the fast path off; read once per process (see fast_path()).
FAST_ENV: Final = "DNSCHAOS_FAST"

MOTO_LOCK = threading.RLock()
_moto_prepared = False
_fast_from_env: bool | None = None
_fast_override: bool | None = None


def fast_path() -> bool:
    """Whether this process runs the fast path: ``DNSCHAOS_FAST``, read once (default on).

    Both paths give the same histories and trace digests; the slow one makes a
    fresh session and clients for every run, signs requests, and sends every
    request through moto's full HTTP emulation.
    """
    global _fast_from_env
    if _fast_override is not None:
        return _fast_override
    if _fast_from_env is None:
        raw = os.environ.get(FAST_ENV, "1").strip()
        if raw not in ("0", "1"):
            raise UsageError(
                f"{FAST_ENV}={raw!r}: must be 1 (the fast path, the default) or 0 (off)"
            )
        _fast_from_env = raw == "1"
    return _fast_from_env


def set_fast_path(enabled: bool | None) -> None:
    """Turn the fast path on or off in this process, between runs (None: back to the
    environment's ``DNSCHAOS_FAST``)."""
    global _fast_override
    _fast_override = enabled


def prepare_moto() -> None:
    """Once per process: one request at a time in moto, and moto's own lookups hermetic.

    moto's backends take no lock, so its in-process dispatcher is wrapped in
    :data:`MOTO_LOCK`. moto also makes default botocore sessions of its own to
    list regions and services and to load error models; those read AWS_PROFILE
    (a missing profile fails the run), the config and credentials files,
    AWS_DATA_PATH and ``~/.aws/models``. They are pointed at a hermetic session
    and loader. (moto modules the harness does not use, such as EC2's region
    list, still make their own sessions.)
    """
    global _moto_prepared
    with MOTO_LOCK:
        if _moto_prepared:
            return
        import moto.core.utils
        from moto.core import loaders as moto_loaders
        from moto.core.base_backend import AccountSpecificBackend
        from moto.core.botocore_stubber import BotocoreStubber

        from dnschaos.adapters.aws import moto_dispatch

        original = BotocoreStubber.process_request

        def process_request(self: Any, request: Any) -> Any:
            with MOTO_LOCK:
                if fast_path():
                    return moto_dispatch.process_request(self, request)
                return original(self, request)

        BotocoreStubber.process_request = process_request
        moto_dispatch.prepare(original, fast_path)

        core = _hermetic_botocore_session(DEFAULT_REGION)
        listing = boto3.session.Session(botocore_session=core)

        def moto_loader() -> Any:
            return moto_loaders.Loader(
                extra_search_paths=[moto_loaders.moto_root, Loader.BUILTIN_DATA_PATH],
                include_default_search_paths=False,
            )

        AccountSpecificBackend.get_session = classmethod(lambda cls: listing)
        moto.core.utils.Session = lambda: core
        moto.core.utils.create_loader = moto_loader
        _moto_prepared = True


@dataclass(frozen=True)
class TargetSpec:
    """Which AWS to talk to; validated by :func:`open_target`."""

    kind: str = "moto"
    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    allow_real_aws: bool = False
    max_attempts: int = 3
    real: Any = None  # --target aws: dnschaos.adapters.aws.real.RealAwsOptions
    # Called with each session before clients are made (ordered replay's gate).
    hooks: tuple[Any, ...] = ()

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
        if self.kind != "aws":
            fast_path()  # a bad DNSCHAOS_FAST is refused before anything starts
        if self.kind == "moto" and MOTO_ACCOUNT_ENV in os.environ:
            raise UsageError(
                f"--target moto: {MOTO_ACCOUNT_ENV} is set in the environment; it would move "
                "every request to another moto account than the one the harness reads. "
                f"Unset {MOTO_ACCOUNT_ENV} for dnschaos runs."
            )


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
    _clients: dict[tuple[str, str | None, Retries | None], BaseClient] = field(default_factory=dict)
    fast: bool = False
    _leased: list[_Pooled] = field(default_factory=list)

    @property
    def default_retries(self) -> Retries:
        """How a client that configures no retries of its own retries."""
        return Retries(HARNESS_MODE, self.spec.max_attempts)

    def client(
        self, service: str, *, actor: str | None = None, retries: Retries | None = None
    ) -> Any:
        """A boto3 client for ``service``; one per (service, actor), so events can tell actors
        apart, and per retry configuration the actor's code gave (``retries``)."""
        if retries == self.default_retries:
            retries = None
        key = (service, actor, retries)
        if key not in self._clients:
            if self.fast and self.spec.kind == "moto" and retries is None:
                pooled = _lease(self, service, actor)
                self._leased.append(pooled)
                self._clients[key] = pooled.client
            else:
                self._clients[key] = self._new_client(service, actor, retries)
        return self._clients[key]

    def _new_client(
        self, service: str, actor: str | None, retries: Retries | None = None
    ) -> BaseClient:
        options: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        if self.spec.kind != "aws":
            # Given, so neither HTTP(S)_PROXY nor REQUESTS_CA_BUNDLE is looked up.
            options["proxies"] = {}
            kwargs["verify"] = True
            if self.fast and self.spec.kind == "moto":
                # In-process moto routes by the URL and takes neither account nor region
                # from our fake key's signature (the account is its default either way,
                # the region is the URL's or us-east-1): signing is work for nothing. A
                # moto server is another matter: it finds the service in the signature.
                options["signature_version"] = UNSIGNED
        kwargs["config"] = Config(
            region_name=self.spec.region,
            # total_max_attempts counts the first try too (max_attempts counts retries).
            retries=cast(Any, (retries or self.default_retries).botocore()),
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra=f"dnschaos-actor/{actor or 'harness'}",
            **options,
        )
        if self.spec.endpoint_url:
            kwargs["endpoint_url"] = self.spec.endpoint_url
        client: BaseClient = self._session.client(service, **kwargs)  # type: ignore[call-overload]
        return client

    def close(self) -> None:
        """Give leased clients back to the pool, reset: a pooled client must not keep the
        run's hooks, and with them its history (and that history's file) alive after it."""
        with _pool_lock:
            for pooled in self._leased:
                if pooled.pristine is None:
                    continue  # made for this run alone (a botocore the pool cannot reset)
                _reset(pooled)
                pooled.in_use = False
        self._leased.clear()
        self._clients.clear()

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


# --------------------------------------------------------------------------- the client pool
#
# Creating a client costs milliseconds (its class, its methods, its endpoint
# rules); a run makes ten or more. On the fast path a run leases in-process moto
# clients instead. A client keeps nothing of an earlier run: its event handlers
# are put back to those it was created with (the run's hooks, fault handlers and
# anything user code registered are gone), and its retry handler, whose quota
# and jitter generator are state, is made anew.


@dataclass
class _Pooled:
    client: BaseClient
    service_event: str
    max_attempts: int
    pristine: Any  # the client's handlers as created, less its retry handler
    in_use: bool = True


_pool: dict[tuple[str, str | None, int, str, str | None], list[_Pooled]] = {}
_pool_lock = threading.Lock()
_sessions: dict[tuple[str, str], boto3.session.Session] = {}


def _emitter(client: BaseClient) -> Any:
    events = client.meta.events
    return getattr(events, "_emitter", events)  # botocore wraps it in an EventAliaser


def _retry_parts(client: BaseClient, service_event: str) -> tuple[Any, ...] | None:
    """(event, handler, unique id) of every handler ``standard.register_retry_handler`` added."""
    ids = _emitter(client)._unique_id_handlers
    entry = ids.get(f"retry-config-{service_event}")
    handler = getattr(entry["handler"], "__self__", None) if entry else None
    quota = getattr(handler, "_retry_quota", None)
    if quota is None or f"seed-max-attempts-{service_event}" not in ids:
        return None
    return (
        (f"needs-retry.{service_event}", None, f"retry-config-{service_event}"),
        (f"request-created.{service_event}", None, f"seed-max-attempts-{service_event}"),
        (f"after-call.{service_event}", quota.release_retry_quota, None),
    )


def _pooled(target: AwsTarget, service: str, actor: str | None) -> _Pooled | None:
    client = target._new_client(service, actor)
    service_event = client.meta.service_model.service_id.hyphenize()
    parts = _retry_parts(client, service_event)
    if parts is None:
        return None  # another botocore's retry wiring: not reused
    for event, handler, unique_id in parts:
        client.meta.events.unregister(event, handler, unique_id=unique_id)
    pristine = copy.copy(_emitter(client))
    pristine._lookup_cache = {}
    pooled = _Pooled(client, service_event, target.spec.max_attempts, pristine)
    _reset(pooled)
    return pooled


def _reset(pooled: _Pooled) -> None:
    fresh = copy.copy(pooled.pristine)
    fresh._lookup_cache = {}
    _emitter(pooled.client).__dict__.update(fresh.__dict__)
    standard.register_retry_handler(pooled.client, max_attempts=pooled.max_attempts)


def _lease(target: AwsTarget, service: str, actor: str | None) -> _Pooled:
    spec = target.spec
    key = (spec.region, spec.endpoint_url, spec.max_attempts, service, actor)
    with _pool_lock:
        for pooled in _pool.get(key, []):
            if not pooled.in_use:
                pooled.in_use = True
                _reset(pooled)
                return pooled
    made = _pooled(target, service, actor)
    if made is None:
        return _Pooled(target._new_client(service, actor), "", spec.max_attempts, None)
    with _pool_lock:
        _pool.setdefault(key, []).append(made)
    return made


def _shared_session(kind: str, region: str) -> boto3.session.Session:
    """The fast path's one session per target kind and region in this process."""
    with _pool_lock:
        if (kind, region) not in _sessions:
            _sessions[kind, region] = _hermetic_session(region)
        return _sessions[kind, region]


def _hermetic_botocore_session(region: str) -> botocore.session.Session:
    """A botocore session that reads no AWS configuration: no file, no environment variable.

    botocore resolves every setting through the session's ``config_store``
    component, a map from setting to a chain of providers (session variable,
    environment, config file, default). Here every chain is built by botocore's
    own :class:`ConfigChainFactory` with an empty environment and no config-file
    names, so it holds the value set in code, else botocore's default (made
    hermetic where that default is a file or a network lookup). The components
    that would still look elsewhere are replaced: the model loader
    (``~/.aws/models``, ``AWS_DATA_PATH``), the credential and token resolvers
    (files, ``credential_process``, SSO), and the user agent (``AWS_EXECUTION_ENV``).
    Credentials are given by the caller; proxies and certificate bundle per
    client (:meth:`AwsTarget.client`).
    """
    core = botocore.session.Session()
    chains = ConfigChainFactory(session=core, environ={})
    defaults = {**_HERMETIC_DEFAULTS, "region": region}
    mapping: dict[str, Any] = {
        name: chains.create_config_chain(
            instance_name=name,
            default=defaults.get(name, default),
            conversion_func=convert,
        )
        for name, (_file, _env, default, convert) in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
    }
    # Sections of the config file only (and AWS_S3_* variables).
    mapping["s3"] = ConstantProvider(None)
    mapping["proxies_config"] = ConstantProvider(None)
    core.register_component("config_store", ConfigValueStore(mapping))
    core.register_component(
        "data_loader",
        Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False),
    )
    core.register_component("credential_provider", CredentialResolver(providers=[]))
    core.register_component("token_provider", TokenProviderChain(providers=[]))
    core.register_component(
        "user_agent_creator",
        UserAgentString(
            platform_name=platform.system(),
            platform_version=platform.release(),
            platform_machine=platform.machine(),
            python_version=platform.python_version(),
            python_implementation=platform.python_implementation(),
            execution_env="",  # read from AWS_EXECUTION_ENV by default
            crt_version=None,
        ),
    )
    # Copies a trace id from the environment into a header when run inside Lambda.
    core.unregister("before-call", handlers.add_recursion_detection_header)  # type: ignore[arg-type]
    return core


def _hermetic_session(region: str) -> boto3.session.Session:
    """The session of a moto target: hermetic, with moto's fake credentials."""
    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        aws_session_token=FAKE_CREDENTIALS["aws_session_token"],
        region_name=region,
        botocore_session=_hermetic_botocore_session(region),
    )


def _hooked(spec: TargetSpec, session: boto3.session.Session) -> AwsTarget:
    for hook in spec.hooks:
        hook(session)
    return AwsTarget(spec, session)


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
        # Real credentials come from the usual chain only here, and only when enabled;
        # the guard, journal, budget and cleanup live in aws_real.
        from dnschaos.adapters.aws.real import open_real

        with open_real(spec, _hooked, _hermetic_session) as target:
            yield target
        return
    fast = fast_path()
    if spec.kind == "moto-server":
        # Its own session every run: spec.hooks act on the session, and must not
        # outlive the run.
        yield _hooked(spec, _hermetic_session(spec.region))
        return
    # Imported before the session is made: importing moto adds its request
    # interceptor to botocore's built-in handlers, which a session copies.
    from moto.core.models import MockAWS

    prepare_moto()
    from moto.moto_api._internal import mock_random

    session = _shared_session(spec.kind, spec.region) if fast else _hermetic_session(spec.region)
    # MockAWS itself rather than mock_aws(), which picks a server- or proxy-mode
    # mock when TEST_SERVER_MODE or TEST_PROXY_MODE is set. Our clients carry
    # explicit fake credentials, so moto need not write AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY into the process environment (mock_credentials).
    mock = MockAWS(
        {
            "core": {
                "mock_credentials": False,
                "passthrough": {"urls": [], "services": []},
                "reset_boto3_session": True,
                "service_whitelist": None,
            }
        }
    )
    mock.start()
    moto_tracking.install()  # moto's dashboard record would keep every object alive
    dynamodb_index.forget()  # kept over the last run's tables, which are gone
    mock_random.seed(seed)
    route53_strict.install(clock, propagation_delay)
    target = AwsTarget(spec, session, fast=fast)
    try:
        yield target
    finally:
        target.close()
        route53_strict.uninstall()
        dynamodb_index.forget()
        mock.stop()
