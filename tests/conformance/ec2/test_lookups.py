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


def _launch(be: Any, image: str, instance_type: str = "m5.large", count: int = 1) -> Any:
    """moto's RunInstances on the backend, as its EC2 handler calls it."""
    return be.run_instances(
        image, count, None, [], instance_type=instance_type, is_instance_type_default=False
    )


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


def test_remembered_instances_follow_launches_removals_and_moves(
    backend: tuple[Any, list[str], str],
) -> None:
    """Where an instance was found is remembered, but only as long as it is still true."""
    be, ids, _ = backend

    def same(instance_id: str) -> None:
        for method in ("get_instance", "get_instance_by_id"):
            moto, fast = _both(method, be, instance_id)
            assert fast == moto, (method, instance_id)
            if fast[0] == "answer" and fast[1] is not None:
                assert fast[1] is moto[1]

    for instance_id in (ids[3], ids[200]):
        same(instance_id)  # found, and remembered
    image = next(iter(be.amis))
    later = _launch(be, image, count=2)
    for instance in later.instances:
        same(instance.id)  # made after the last look: read from the new reservations
    same(ids[3])

    # A reservation removed: its instances are gone for moto, and so here.
    gone = next(r for r in be.reservations.values() if any(i.id == ids[3] for i in r.instances))
    del be.reservations[gone.id]
    same(ids[3])
    # An instance moved to another reservation (moto's order changes where it is found).
    home = next(r for r in be.reservations.values() if any(i.id == ids[200] for i in r.instances))
    moved = next(i for i in home.instances if i.id == ids[200])
    home.instances.remove(moved)
    later.instances.append(moved)
    same(ids[200])
    # Reservations removed and as many made again: the count alone does not hide them.
    for reservation in list(be.reservations.values())[:2]:
        del be.reservations[reservation.id]
    again = [_launch(be, image) for _ in range(2)]
    for reservation in again:
        same(reservation.instances[0].id)
    for instance_id in (ids[0], ids[1], ids[-1], "i-00000000000000000"):
        same(instance_id)


def test_instance_type_offerings_answer_as_moto(backend: tuple[Any, list[str], str]) -> None:
    """RunInstances asks each offering of a table whether it matches its instance type,
    and keeps whether any did: the same as moto's, for every table and question."""
    from moto.ec2.models import instances as instances_module
    from moto.ec2.models.instance_types import (
        INSTANCE_TYPE_OFFERINGS,
        InstanceTypeOfferingBackend,
    )

    be, _, _ = backend
    ours = instances_module.InstanceTypeOfferingBackend()
    assert type(ours) is not InstanceTypeOfferingBackend, "installed for RunInstances"
    moto = InstanceTypeOfferingBackend()
    filters: list[Any] = [
        {"instance-type": "m5.large"},
        {"instance-type": "t2.micro"},
        {"instance-type": "zz.huge"},  # offered nowhere
        {"instance-type": "m5"},  # moto tests 'in' on the string: a part of a name matches
        {"instance-type": ["m5.large", "t3.nano"]},  # a list: not a key, moto's own answer
        {"location": ["us-east-1a"]},
        {"location": ["us-east-1"]},  # a region: a prefix of the zone, as of "region"
        {"location": "us-east-1"},  # a string, so a key: read as of each location type
        {"nonsense": ["x"]},
        {},
    ]
    asked = 0
    for regions in INSTANCE_TYPE_OFFERINGS.values():
        for region in ("us-east-1", "eu-west-1", "ap-south-2"):
            table = regions.get(region, [])
            # Each table is asked as of every location type: 'location' reads differently.
            for location_type in [*INSTANCE_TYPE_OFFERINGS, "nonsense"]:
                for f in filters:
                    for _ in range(2):  # asked again: the remembered answer
                        want = any(moto.matches_filters(o, f, location_type) for o in table)
                        got = any(ours.matches_filters(o, f, location_type) for o in table)
                        assert got == want, (region, f, location_type)
                        asked += 1
    assert asked > 100
    # An offering that is not one of moto's own tables (a copy) is asked as moto asks it.
    copy = dict(INSTANCE_TYPE_OFFERINGS["availability-zone"]["us-east-1"][0])
    copy["InstanceType"] = "zz.huge"
    assert ours.matches_filters(copy, {"instance-type": "zz.huge"}, "region") is True
    assert ours.matches_filters(copy, {"instance-type": "m5.large"}, "region") is False
    # Everything else still asks moto's per offering.
    question = {"instance-type": ["m5.large"]}
    fast = be.describe_instance_type_offerings("availability-zone", question)
    aws.set_fast_path(False)
    assert be.describe_instance_type_offerings("availability-zone", question) == fast
    aws.set_fast_path(True)
    assert {o["Location"] for o in fast} >= {"us-east-1a", "us-east-1b"}
    # RunInstances still runs moto's check: with validation on, an unknown type is refused.
    from moto import settings

    validating = settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION
    settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION = True
    try:
        image = next(iter(be.amis))
        with pytest.raises(Exception, match=r"zz\.huge"):
            _launch(be, image, "zz.huge")
        _launch(be, image)
    finally:
        settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION = validating


def test_where_instances_were_found_is_kept_by_the_backend_alone(
    backend: tuple[Any, list[str], str],
) -> None:
    """Where instances were found is kept on the backend, not in a table beside it: its
    instances point back at the backend, so a table would keep every run's backend (and
    every instance of the run) alive for good."""
    import gc

    be, ids, _ = backend
    assert be.get_instance(ids[7]).id == ids[7]
    (seen,) = (v for v in vars(be).values() if type(v).__name__ == "_Seen")
    assert [r for r in gc.get_referrers(seen) if r is not vars(be)] == []
