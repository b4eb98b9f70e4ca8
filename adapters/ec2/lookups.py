"""Two of moto's EC2 lookups, answered as moto answers them without moto's costs.

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
* ``get_instance`` and ``get_instance_by_id`` (RegisterTargets' lookup): the first
  instance with that id in moto's reservations, read in place (the copies held the same
  instance objects); no such instance is moto's error, or None.

Off the fast path (``DNSCHAOS_FAST=0``) moto's own methods run; the conformance suite
holds each answer to moto's own method's on the same backend.
"""

from __future__ import annotations

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


def _find_instance(backend: Any, instance_id: str) -> Any:
    """The first instance with ``instance_id`` in moto's reservations, in moto's order."""
    for reservation in list(backend.reservations.values()):
        for instance in reservation.instances:
            if instance.id == instance_id:
                return instance
    return None


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
    from moto.ec2.models.instances import InstanceBackend

    if _originals:
        return
    _on = on
    _originals["describe_images"] = AmiBackend.describe_images
    _originals["get_instance"] = InstanceBackend.get_instance
    _originals["get_instance_by_id"] = InstanceBackend.get_instance_by_id
    AmiBackend.describe_images = describe_images
    InstanceBackend.get_instance = get_instance
    InstanceBackend.get_instance_by_id = get_instance_by_id


def uninstall() -> None:
    """moto's own lookups again (the conformance suite compares the two)."""
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.models.instances import InstanceBackend

    if not _originals:
        return
    AmiBackend.describe_images = _originals.pop("describe_images")
    InstanceBackend.get_instance = _originals.pop("get_instance")
    InstanceBackend.get_instance_by_id = _originals.pop("get_instance_by_id")


__all__ = [
    "describe_images",
    "get_instance",
    "get_instance_by_id",
    "install",
    "install_once_loaded",
    "uninstall",
]
