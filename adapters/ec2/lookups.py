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
* whether RunInstances' instance type is offered: moto asks ``matches_filters`` of
  every offering of the region (about 500) and keeps whether any matched; each of its
  tables answers that once per question (:func:`_run_instances_offerings`).

Off the fast path (``DNSCHAOS_FAST=0``) moto's own methods run; the conformance suite
holds each answer to moto's own method's on the same backend.
"""

from __future__ import annotations

import itertools
import sys
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
        found = []
        for image in list(backend.amis.values()):
            image_id = image.id
            if type(image_id) is not str:
                break  # an id fnmatch would not read as a string: moto's way
            if image_id == wanted:
                found.append(image)
        else:
            return found
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


_SEEN: Final = "_dnschaos_seen"  # the backend's attribute that holds its _Seen


def _find_instance(backend: Any, instance_id: str) -> Any:
    """The first instance with ``instance_id`` in moto's reservations, in moto's order."""
    # Kept on the backend, so it goes with it: its instances point back at the backend,
    # and a table beside it would keep every run's backend alive.
    seen: _Seen | None = backend.__dict__.get(_SEEN)
    if seen is None:
        seen = backend.__dict__[_SEEN] = _Seen()
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


# (id of one of moto's tables of offerings, the location type, the filters) -> whether
# moto's matches_filters answers True for any offering of the table
_any_offered: dict[tuple[int, str, tuple[tuple[str, Any], ...]], bool] = {}
_table_of: dict[int, list[Any]] = {}  # id of an offering -> moto's table that holds it


def _moto_tables() -> dict[int, list[Any]]:
    """moto's tables of instance-type offerings (one per location type and region), by
    the id of each offering they hold."""
    from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

    return {
        id(offering): offerings
        for regions in INSTANCE_TYPE_OFFERINGS.values()
        for offerings in regions.values()
        for offering in offerings
    }


def _run_instances_offerings(base: Any) -> type:
    """What RunInstances asks whether its instance type is offered.

    moto's RunInstances asks ``matches_filters`` of every offering of one of its tables
    (the region's, about 500) and only keeps whether any of them matched. Here each
    offering answers for its whole table: whether any offering of the table matches,
    worked out once with moto's own method and remembered (the tables are loaded once
    and never changed). ``any()`` over the table gives moto's answer from the first
    offering. Only RunInstances' module sees this class; everything else asks moto's
    per offering."""

    class RunInstancesOfferings(base):  # type: ignore[misc]
        def matches_filters(self, offering: Any, filters: Any, location_type: str) -> bool:
            table = _table_of.get(id(offering))
            if not _on() or table is None or not isinstance(filters, dict):
                return bool(base.matches_filters(self, offering, filters, location_type))
            key = (id(table), location_type, tuple(filters.items()))
            try:
                answer = _any_offered.get(key)
            except TypeError:  # a list among the filters' values: not a key
                return bool(base.matches_filters(self, offering, filters, location_type))
            if answer is None:
                answer = _any_offered[key] = any(
                    base.matches_filters(self, each, filters, location_type) for each in table
                )
            return answer

    return RunInstancesOfferings


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
    from moto.ec2.models import instances as instances_module
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.models.instance_types import InstanceTypeOfferingBackend
    from moto.ec2.models.instances import InstanceBackend

    if _originals:
        return
    _on = on
    # The tables are moto's module constants: alive for good, so their ids stay theirs.
    _table_of.update(_moto_tables())
    _originals["describe_images"] = AmiBackend.describe_images
    _originals["get_instance"] = InstanceBackend.get_instance
    _originals["get_instance_by_id"] = InstanceBackend.get_instance_by_id
    _originals["offerings"] = instances_module.InstanceTypeOfferingBackend
    AmiBackend.describe_images = describe_images
    InstanceBackend.get_instance = get_instance
    InstanceBackend.get_instance_by_id = get_instance_by_id
    instances_module.InstanceTypeOfferingBackend = _run_instances_offerings(
        InstanceTypeOfferingBackend
    )


def uninstall() -> None:
    """moto's own lookups again (the conformance suite compares the two)."""
    from moto.ec2.models import instances as instances_module
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.models.instances import InstanceBackend

    if not _originals:
        return
    AmiBackend.describe_images = _originals.pop("describe_images")
    InstanceBackend.get_instance = _originals.pop("get_instance")
    InstanceBackend.get_instance_by_id = _originals.pop("get_instance_by_id")
    instances_module.InstanceTypeOfferingBackend = _originals.pop("offerings")
    _any_offered.clear()
    _table_of.clear()


__all__ = [
    "describe_images",
    "get_instance",
    "get_instance_by_id",
    "install",
    "install_once_loaded",
    "uninstall",
]
