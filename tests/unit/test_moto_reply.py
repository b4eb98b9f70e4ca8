"""The request ids of answers given at before-send are moto's own (adapters/aws/moto_reply.py)."""

from __future__ import annotations

from moto.moto_api._internal import mock_random
from moto.utilities.aws_headers import gen_amzn_requestid_long

from dnschaos.adapters.aws import moto_reply


def test_the_drawn_request_ids_are_motos_from_the_same_state() -> None:
    saved = mock_random.getstate()
    try:
        mock_random.seed(1234)
        theirs = [gen_amzn_requestid_long() for _ in range(50)]
        after_theirs = mock_random.getstate()
        mock_random.seed(1234)
        ours = [moto_reply._drawn_id() for _ in range(50)]
        assert ours == theirs
        assert mock_random.getstate() == after_theirs  # every later id moto makes is the same
    finally:
        mock_random.setstate(saved)


def test_checking_the_drawn_ids_leaves_motos_generator_where_it_was() -> None:
    moto_reply._request_id.cache_clear()
    before = mock_random.getstate()
    chosen = moto_reply._request_id()
    assert mock_random.getstate() == before
    # With the moto installed, the cheaper draw is the one used.
    assert chosen is moto_reply._drawn_id
