"""moto's in-process request dispatch on the fast path: the same answers, less work.

moto's ``before-send`` stubber does the same work on every request: it matches
the URL against about 180 service patterns (Route 53 is near the end), rebuilds
the service's table of URL patterns (with a regular-expression substitution
each), compiles and matches those, and then, in the response class, lists the
class's methods with ``inspect`` to see whether the action exists. Here:

* the strict layer's calls, and DynamoDB's Query, GetItem and PutItem, are answered
  before moto sees them (:mod:`dnschaos.adapters.route53.wire`,
  :mod:`dnschaos.adapters.dynamodb.wire`);
* the service and handler a URL routes to are remembered, for the services whose
  routing depends on the URL alone (Route 53 and DynamoDB); everything else,
  and every URL seen for the first time, goes through moto's own routing;
* the method names of a response class are listed once per class;
* moto's response serializer reads each member of an answer without working out anew
  where to read it from (:mod:`dnschaos.adapters.aws.moto_serialize`);
* once a run has loaded moto's EC2, two of its lookups are answered without its costs
  (:mod:`dnschaos.adapters.ec2.lookups`).

What moto does with a routed request is unchanged: the same backend lookup (which
makes the backend on first use), the same request normalisation, recorder and
handler, and the same handling of its HTTP errors. Everything here runs under
:data:`dnschaos.adapters.aws.target.MOTO_LOCK`, and only while the fast path is on.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, Final

from dnschaos.adapters.aws import moto_serialize
from dnschaos.adapters.dynamodb import wire as dynamodb_wire
from dnschaos.adapters.ec2 import lookups as ec2_lookups
from dnschaos.adapters.route53 import wire as route53_wire

# Services whose handler is a function of the URL alone: their URL patterns come
# from their modules, not from settings or a backend's state.
_CACHED_SERVICES: Final = frozenset({"route53", "dynamodb"})
_MAX_ROUTES: Final = 4096  # URLs carry zone and change ids; the table is cleared when full

_original: Callable[[Any, Any], Any] | None = None
# URL without its query -> (moto's clean URL, service, handler), or None: moto's own routing
_routes: dict[str, tuple[str, str, Callable[..., Any]] | None] = {}
_backend_dicts: dict[str, Any] = {}
_method_names: dict[tuple[type, tuple[int, ...]], frozenset[str]] = {}


def _not_prepared() -> bool:
    return False


_fast_path: Callable[[], bool] = _not_prepared  # the target's fast_path, given to prepare()


def prepare(original: Callable[[Any, Any], Any], fast_path: Callable[[], bool]) -> None:
    """Once per process: keep moto's own ``process_request``, and list method names once
    while ``fast_path()`` says the fast path is on."""
    global _original, _fast_path
    _original = original
    _fast_path = fast_path
    import moto.core.responses

    listing = moto.core.responses.method_names_from_class

    def method_names(clazz: Any) -> Any:
        if not fast_path():
            return listing(clazz)
        # A class that gains or loses an attribute (here or in a base) is listed again.
        key = (clazz, tuple(len(c.__dict__) for c in clazz.__mro__))
        names = _method_names.get(key)
        if names is None:
            names = frozenset(name for name, _ in inspect.getmembers(clazz, inspect.isfunction))
            _method_names[key] = names
        return names

    moto.core.responses.method_names_from_class = method_names
    moto_serialize.install(fast_path)


def process_request(stubber: Any, request: Any) -> Any:
    """moto's ``BotocoreStubber.process_request``, with the fast path's shortcuts."""
    assert _original is not None, "prepare() first"
    ec2_lookups.install_once_loaded(_fast_path)
    answered = route53_wire.answer(request)
    if answered is None:
        answered = dynamodb_wire.answer(request)
    if answered is not None:
        return answered
    key = request.url.partition("?")[0]
    if key not in _routes:
        if len(_routes) >= _MAX_ROUTES:
            _routes.clear()
        _routes[key] = _route(request.url)
    route = _routes[key]
    if route is None:
        return _original(stubber, request)
    return _dispatch(request, *route)


def _route(url: str) -> tuple[str, str, Callable[..., Any]] | None:
    """Where moto's routing sends ``url``, if it is one of the cached services."""
    import moto.backend_index as backend_index
    from moto.core.utils import get_equivalent_url_in_aws_domain

    parsed, changed = get_equivalent_url_in_aws_domain(url)
    if changed:
        return None  # moto's host rewriting reads settings: left to moto each time
    clean_url = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    for service, pattern in backend_index.backend_url_patterns:
        if pattern.match(clean_url):
            if service not in _CACHED_SERVICES:
                return None
            backend = _backend(service)
            for url_pattern, handler in backend.urls.items():
                if re.compile(url_pattern).match(clean_url):
                    return clean_url, service, handler
            return None
    return None


def _backend_dict(service: str) -> Any:
    if service not in _backend_dicts:
        import moto.backends as backends

        _backend_dicts[service] = backends.get_backend(service)
    return _backend_dicts[service]


def _backend(service: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    backend_dict = _backend_dict(service)
    if not isinstance(backend_dict, BackendDict):
        return backend_dict["global"]
    account = backend_dict[DEFAULT_ACCOUNT_ID]
    return account["us-east-1"] if "us-east-1" in account else account["aws"]


def _dispatch(request: Any, clean_url: str, service: str, handler: Callable[..., Any]) -> Any:
    from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
    from moto.core.exceptions import HTTPException, ServiceNotWhitelisted
    from moto.core.request import normalize_request
    from moto.moto_api import recorder

    if passthrough_url(clean_url) or passthrough_service(service):
        return None
    if not service_whitelisted(service):
        raise ServiceNotWhitelisted(service)
    _backend(service)  # moto makes the backend here on first use
    normalized = normalize_request(request)
    try:
        recorder._record_request(normalized)
        status, headers, body = handler(normalized, normalized.raw_url, normalized.headers)
    except HTTPException as error:
        status, headers, body = error.code, error.get_headers(), error.get_body()
    return status, headers, body
