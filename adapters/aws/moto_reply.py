"""What moto does around every request it answers, for the answers the fast path gives.

The fast path answers some requests itself (:mod:`dnschaos.adapters.route53.wire`,
:mod:`dnschaos.adapters.dynamodb.wire`). Each such answer must leave moto as moto's
own handling would have left it, and carry the headers moto would have sent: the
account is marked as visited, the response is dated before the request is handled,
and the request id is drawn from moto's seeded generator, so every id moto makes
later in the run is the one it would have made.

An answer is given only for a plain request: unsigned (a signature names an access
key whose account moto looks up), without moto's account header, and with neither
moto's request recorder nor its IAM authorisation switched on.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Callable
from typing import Any, Final

Response = tuple[int, dict[str, str], str]

# What moto assumes of a request without a signature.
UNSIGNED_ACCESS_KEY: Final = "AKIAEXAMPLE"


def plain(headers: Any) -> bool:
    """Whether a request's headers leave its account and region to the URL."""
    # A signature names an access key (moto looks its account up), and moto's account
    # header names an account: both are moto's to read. So is a region in the user agent.
    agent = headers.get("User-Agent", b"")
    agent = agent.decode("latin-1") if isinstance(agent, bytes) else str(agent)
    return (
        "Authorization" not in headers
        and "x-moto-account-id" not in headers
        and "region/" not in agent
    )


def open_request(service: str, region: str, headers: dict[str, str]) -> str | None:
    """Start answering a request as moto would: its account (None: moto must answer).

    ``headers`` gets moto's ``server`` and ``date`` headers, and the account is marked
    as visited, in the order moto does both.
    """
    from moto import settings
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.utils import utcnow
    from moto.iam.models import get_account_id_from, mark_account_as_visited
    from moto.moto_api import recorder
    from werkzeug.http import http_date

    if recorder._user_enabled:
        return None  # moto would record the request
    if not math.isinf(settings.INITIAL_NO_AUTH_ACTION_COUNT):
        return None  # moto would authorise the request against IAM
    account: str = get_account_id_from(UNSIGNED_ACCESS_KEY)
    if account != DEFAULT_ACCOUNT_ID:
        return None
    headers["server"] = "amazon.com"
    headers["date"] = http_date(utcnow())  # moto dates the response before handling it
    mark_account_as_visited(account, UNSIGNED_ACCESS_KEY, service, region)
    return account


def close_request(headers: dict[str, str]) -> None:
    """Finish an answer as moto does: the request id, from moto's seeded generator."""
    headers["x-amzn-requestid"] = _request_id()()


# moto's request id: 52 characters drawn one by one with ``choice`` from this pool.
_ID_POOL: Final = string.ascii_letters + string.digits
_ID_LENGTH: Final = 52


@functools.cache
def sends_status() -> bool:
    """Whether moto's answers carry a ``status`` header.

    From moto 5.2.6 on, moto's response serializer (through which it answers Route 53 and
    DynamoDB) adds the status code as a header, and botocore hands it on in
    ``HTTPHeaders``; 5.2.0 to 5.2.5 send no such header. The fast paths' answers follow
    the moto installed (``make test-oldest`` runs the conformance tests at 5.2.5).
    """
    import moto

    release = tuple(int(part) for part in re.findall(r"\d+", moto.__version__)[:3])
    return release >= (5, 2, 6)


def _drawn_id() -> str:
    """moto's request id, drawn from moto's generator as ``Random.choice`` draws: six bits
    at a time, again while they name no character of the pool (a tenth of the cost)."""
    from moto.moto_api._internal import mock_random

    bits = mock_random.getrandbits
    size = len(_ID_POOL)
    width = size.bit_length()
    out = []
    for _ in range(_ID_LENGTH):
        r = bits(width)
        while r >= size:
            r = bits(width)
        out.append(_ID_POOL[r])
    return "".join(out)


@functools.cache
def _request_id() -> Callable[[], str]:
    """:func:`_drawn_id` if it gives moto's own ids from the same generator state (checked
    once, on a saved state that is put back), else moto's function itself."""
    from moto.moto_api._internal import mock_random
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    saved = mock_random.getstate()
    try:
        same = True
        for seed in range(8):
            mock_random.seed(seed)
            theirs = [gen_amzn_requestid_long() for _ in range(4)]
            mock_random.seed(seed)
            same = same and theirs == [_drawn_id() for _ in range(4)]
    finally:
        mock_random.setstate(saved)
    return _drawn_id if same else gen_amzn_requestid_long
