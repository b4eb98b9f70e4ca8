"""moto's EC2 lookups that RunInstances and RegisterTargets repeat, answered as moto answers
them without moto's costs.

The downstream models of cascade-2025 launch an instance (RunInstances) and register it
with a target group (RegisterTargets) a thousand times a run. In moto each launch looks
its image up with ``describe_images(filters={"image-id": ...})``, which runs the
filter's ``fnmatch`` over every one of moto's ~1,400 images, and each registration finds
its instance with ``get_instance_by_id``, which first makes a shallow copy of every
reservation of the run: a cost that grows with the instances launched so far.

On the fast path (:func:`dnschaos.adapters.aws.target.fast_path`) the two are answered
without them, and with the same result:

* ``describe_images`` asked only for an ``image-id`` with no ``*``, ``?`` or ``[`` in it:
  ``fnmatch`` of a pattern without those is string equality (``normcase`` changes
  nothing on POSIX), so the images whose id equals it, in moto's order. Anything else
  (ids, owners, other filters, a wildcard, an id that is not a string) goes to moto.
* ``get_instance`` and ``get_instance_by_id`` (RunInstances' and RegisterTargets'
  lookup): the first instance with that id in moto's reservations, read in place (the
  copies held the same instance objects); no such instance is moto's error, or None.
  Where each id was found is remembered, per backend: an answer remembered is given
  only while its reservation is still the backend's and still holds it, and an id not
  remembered is looked for in the reservations made since the last look, then in all
  of them. Ids are drawn at random (17 hex digits), so no two instances share one and
  the first with that id is the only one.
* ``matches_filters`` of the instance-type offerings, which RunInstances asks of every
  offering of the region (about 500) to see whether its instance type is offered: an
  offering of moto's own tables (loaded once, never changed) with the same filters
  gives the same answer every time, so each answer is remembered. Other offerings, and
  filters that cannot be a key, go to moto.

Off the fast path (``DNSCHAOS_FAST=0``) moto's own methods run; the conformance suite
holds each answer to moto's own method's on the same backend.
"""

from __future__ import annotations

import itertools
import sys
import weakref
from collections.abc import Callable
from typing import Any, Final

_WILDCARDS: Final = frozenset("*?[")
_originals: dict[str, Callable[..., Any]] = {}


def describe_images(
    backend: Any,
    ami_ids: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    exec_users: list[str] | None = None,
    owners: list[str] | None = None,
) -> Any:
    wanted = _one_image_id(ami_ids, filters, exec_users, owners)
    if wanted is not None and _on():
        images = list(backend.amis.values())
        if all(isinstance(image.id, str) for image in images):
            return [image for image in images if image.id == wanted]
    return _originals["describe_images"](backend, ami_ids, filters, exec_users, owners)


def _one_image_id(
    ami_ids: list[str] | None,
    filters: dict[str, Any] | None,
    exec_users: list[str] | None,
    owners: list[str] | None,
) -> str | None:
    """The image id asked for, when the question is only that id, without wildcards."""
    if ami_ids or exec_users or owners or not filters or list(filters) != ["image-id"]:
        return None
    value = filters["image-id"]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or _WILDCARDS & set(value):
        return None
    return value


def get_instance(backend: Any, instance_id: str) -> Any:
    if not _on():
        return _originals["get_instance"](backend, instance_id)
    found = _find_instance(backend, instance_id)
    if found is None:
        return _originals["get_instance"](backend, instance_id)  # moto's error, in its words
    return found


def get_instance_by_id(backend: Any, instance_id: str) -> Any:
    if not _on():
        return _originals["get_instance_by_id"](backend, instance_id)
    return _find_instance(backend, instance_id)


class _Seen:
    """Where a backend's instances were found: id -> (reservation, instance), and how
    many of its reservations (in moto's order, which only ever appends) were read."""

    __slots__ = ("read", "where")

    def __init__(self) -> None:
        self.where: dict[str, tuple[Any, Any]] = {}
        self.read = 0


_seen: weakref.WeakKeyDictionary[Any, _Seen] = weakref.WeakKeyDictionary()


def _find_instance(backend: Any, instance_id: str) -> Any:
    """The first instance with ``instance_id`` in moto's reservations, in moto's order."""
    seen = _seen.get(backend)
    if seen is None:
        seen = _seen[backend] = _Seen()
    found = seen.where.get(instance_id)
    if found is not None and _still_holds(backend, *found):
        return found[1]
    reservations = backend.reservations
    if seen.read <= len(reservations):
        # Only the reservations made since the last look (appended at the end).
        for reservation in itertools.islice(reservations.values(), seen.read, None):
            for instance in reservation.instances:
                seen.where.setdefault(instance.id, (reservation, instance))
        seen.read = len(reservations)
        found = seen.where.get(instance_id)
        if found is not None and _still_holds(backend, *found):
            return found[1]
    # Reservations were removed, or an instance moved: read them all again.
    seen.where.clear()
    for reservation in list(reservations.values()):
        for instance in reservation.instances:
            seen.where.setdefault(instance.id, (reservation, instance))
    seen.read = len(reservations)
    found = seen.where.get(instance_id)
    return None if found is None else found[1]


def _still_holds(backend: Any, reservation: Any, instance: Any) -> bool:
    return backend.reservations.get(reservation.id) is reservation and any(
        held is instance for held in reservation.instances
    )


# (id of one of moto's offerings, its location type, the filters) -> moto's answer
_offered: dict[tuple[int, str, tuple[tuple[str, Any], ...]], bool] = {}
_static_offerings: dict[int, Any] = {}  # id -> offering, of moto's own tables only


def matches_filters(self: Any, offering: Any, filters: Any, location_type: str) -> bool:
    original = _originals["matches_filters"]
    if not _on() or id(offering) not in _static_offerings or not isinstance(filters, dict):
        return bool(original(self, offering, filters, location_type))
    key = (id(offering), location_type, tuple(filters.items()))
    try:
        answer = _offered.get(key)
    except TypeError:  # a list among the filters' values: not a key
        return bool(original(self, offering, filters, location_type))
    if answer is None:
        answer = _offered[key] = bool(original(self, offering, filters, location_type))
    return answer


def _moto_offerings() -> dict[int, Any]:
    """moto's tables of instance-type offerings, by the id of each offering."""
    from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

    return {
        id(offering): offering
        for regions in INSTANCE_TYPE_OFFERINGS.values()
        for offerings in regions.values()
        for offering in offerings
    }


def _off() -> bool:
    return False


# Whether the fast path is on (``fast_path`` of the AWS target, handed over at install).
_on: Callable[[], bool] = _off


def install_once_loaded(on: Callable[[], bool]) -> None:
    """:func:`install`, once a run has loaded moto's EC2 (loading it costs a second, which a
    run without EC2 does not pay). Cheap enough to ask before every request."""
    if not _originals and "moto.ec2.models.instances" in sys.modules:
        install(on)


def install(on: Callable[[], bool]) -> None:
    """Answer the lookups here, while ``on()`` (the fast path is on), for every moto EC2
    backend of this process (once)."""
    global _on
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.models.instance_types import InstanceTypeOfferingBackend
    from moto.ec2.models.instances import InstanceBackend

    if _originals:
        return
    _on = on
    # Kept alive here, so the ids that key the remembered answers stay theirs.
    _static_offerings.update(_moto_offerings())
    _originals["describe_images"] = AmiBackend.describe_images
    _originals["get_instance"] = InstanceBackend.get_instance
    _originals["get_instance_by_id"] = InstanceBackend.get_instance_by_id
    _originals["matches_filters"] = InstanceTypeOfferingBackend.matches_filters
    AmiBackend.describe_images = describe_images
    InstanceBackend.get_instance = get_instance
    InstanceBackend.get_instance_by_id = get_instance_by_id
    InstanceTypeOfferingBackend.matches_filters = matches_filters


def uninstall() -> None:
    """moto's own lookups again (the conformance suite compares the two)."""
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.models.instance_types import InstanceTypeOfferingBackend
    from moto.ec2.models.instances import InstanceBackend

    if not _originals:
        return
    AmiBackend.describe_images = _originals.pop("describe_images")
    InstanceBackend.get_instance = _originals.pop("get_instance")
    InstanceBackend.get_instance_by_id = _originals.pop("get_instance_by_id")
    InstanceTypeOfferingBackend.matches_filters = _originals.pop("matches_filters")
    _seen.clear()
    _offered.clear()
    _static_offerings.clear()


__all__ = [
    "describe_images",
    "get_instance",
    "get_instance_by_id",
    "install",
    "install_once_loaded",
    "matches_filters",
    "uninstall",
]
