"""EC2's lookups on the fast path (adapters/ec2/lookups.py) answer what moto's own do.

On one moto EC2 backend with moto's ~1,400 images, an image of our own and a few hundred
instances, every question is asked of moto's own method and of the fast path's, and
the answers must be the same objects in the same order (or the same error, in the same
words); the questions mix those the fast path answers with those it leaves to moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dnschaos.adapters.aws import target as aws
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.ec2 import lookups
from dnschaos.sim.clock import ManualClock


@pytest.fixture
def backend() -> Iterator[tuple[Any, list[str], str]]:
    from moto.core import DEFAULT_ACCOUNT_ID

    aws.set_fast_path(True)
    try:
        with open_target(TargetSpec("moto"), clock=ManualClock(), seed=1) as target:
            ec2 = target.client("ec2")
            image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            ours = ec2.register_image(Name="ours", RootDeviceName="/dev/sda1")["ImageId"]
            ids = [
                i["InstanceId"]
                for _ in range(30)
                for i in ec2.run_instances(ImageId=image, MinCount=10, MaxCount=10)["Instances"]
            ]
            from moto.ec2.models import ec2_backends

            assert lookups._originals, "the fast path's lookups are installed once EC2 is loaded"
            yield ec2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"], ids, ours
    finally:
        aws.set_fast_path(None)


def _both(method: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    def ask(fn: Any) -> Any:
        try:
            return ("answer", fn(*args, **kwargs))
        except Exception as exc:  # moto's error must be the same, in the same words
            return ("error", type(exc), str(exc))

    return ask(lookups._originals[method]), ask(getattr(lookups, method))


def test_describe_images_answers_as_moto(backend: tuple[Any, list[str], str]) -> None:
    be, _, ours = backend
    some = sorted(be.amis)[:3]
    questions: list[dict[str, Any]] = [
        {"filters": {"image-id": some[0]}},
        {"filters": {"image-id": [some[1]]}},
        {"filters": {"image-id": ours}},
        {"filters": {"image-id": "ami-00000000"}},
        {"filters": {"image-id": "ami-0*"}},  # a wildcard: moto's
        {"filters": {"image-id": "ami-?" + some[0][5:]}},
        {"filters": {"image-id": "ami-[0-9]*"}},
        {"filters": {"image-id": some[:2]}},  # two ids: moto's
        {"filters": {"image-id": some[0], "state": "available"}},
        {"filters": {"image-id": some[0]}, "owners": ["amazon"]},
        {"ami_ids": [some[2]]},
        {"ami_ids": ["ami-missing0"]},
        {"ami_ids": ["nonsense"]},
        {"owners": ["self"]},
        {},
    ]
    for q in questions:
        moto, fast = _both("describe_images", be, **q)
        assert fast == moto, q
    assert _both("describe_images", be, filters={"image-id": ours})[1][1] == [be.amis[ours]]


def test_get_instance_answers_as_moto(backend: tuple[Any, list[str], str]) -> None:
    be, ids, _ = backend
    for method in ("get_instance", "get_instance_by_id"):
        for instance_id in [ids[0], ids[137], ids[-1], "i-00000000000000000", "nonsense"]:
            moto, fast = _both(method, be, instance_id)
            assert fast == moto, (method, instance_id)
            if instance_id in ids:
                assert fast[1].id == instance_id


def test_off_the_fast_path_moto_answers_itself(backend: tuple[Any, list[str], str]) -> None:
    be, ids, _ = backend
    calls: list[str] = []
    original = lookups._originals["get_instance"]
    lookups._originals["get_instance"] = lambda *a: calls.append("moto") or original(*a)
    try:
        aws.set_fast_path(False)
        assert be.get_instance(ids[5]).id == ids[5] and calls == ["moto"]
        aws.set_fast_path(True)
        assert be.get_instance(ids[5]).id == ids[5] and calls == ["moto"]
    finally:
        lookups._originals["get_instance"] = original
