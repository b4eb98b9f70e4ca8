"""moto's record of every model object it ever made, kept weakly in this process.

Each moto model class (a record set, an item, an instance...) appends every object of
it to a class-level list, ``instances_tracked``, for moto server's dashboard, and moto
empties the lists only when a mock stops. A run that rewrites records keeps every
version of them alive until it ends: a 24-hour run's memory grew with its length for
that alone. In this process nothing serves that dashboard, so the lists are replaced by
:class:`WeakTracked`, which still yields every live object (moto's S3 reset disposes of
the live keys it yields) but keeps none alive. moto sets a plain list again when it
makes a model class (a service's models are imported on first use) and when a mock stops,
so :func:`install` patches the first and is called again after every mock start.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from typing import Any


class WeakTracked:
    """A model class's objects in the order made, without keeping any of them alive."""

    def __init__(self) -> None:
        self._objects: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._strong: list[Any] = []  # objects that cannot be weakly referenced
        self._counter = itertools.count()

    def append(self, obj: Any) -> None:
        try:
            self._objects[next(self._counter)] = obj
        except TypeError:
            self._strong.append(obj)

    def __iter__(self) -> Iterator[Any]:
        return iter([*self._objects.values(), *self._strong])

    def __len__(self) -> int:
        return len(self._objects) + len(self._strong)


_patched = False


def install() -> None:
    """Track every moto model class weakly: those made so far, and any made later."""
    global _patched
    from moto.core.base_backend import InstanceTrackerMeta
    from moto.core.model_instances import model_data

    if not _patched:
        _patched = True
        original = InstanceTrackerMeta.__new__

        def tracked_weakly(meta: type, name: str, bases: Any, dct: dict[str, Any]) -> type:
            cls: type = original(meta, name, bases, dct)
            if isinstance(cls.__dict__.get("instances_tracked"), list):
                cls.instances_tracked = WeakTracked()  # type: ignore[attr-defined]
            return cls

        InstanceTrackerMeta.__new__ = tracked_weakly
    for models in model_data.values():
        for model in models.values():
            if not isinstance(getattr(model, "instances_tracked", None), WeakTracked):
                model.instances_tracked = WeakTracked()


__all__ = ["WeakTracked", "install"]
