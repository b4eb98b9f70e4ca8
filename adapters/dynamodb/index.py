"""Key order and rendered items over moto's DynamoDB storage, kept between requests.

moto answers a Query by collecting every item of the table whose hash key matches, sorting
them by range key (a ``Decimal`` made for each side of each comparison) and copying them,
on every request. Here each partition's order is kept from one request to the next, and
each item's size and JSON rendering are kept while the item is the one moto holds.

moto's storage stays the truth: a partition's order is taken from moto's own items, and is
kept only while every write to DynamoDB went through :mod:`.wire`, which updates it. A write
that moto handles itself (any operation :mod:`.wire` does not answer, other than a read)
calls :func:`forget`, and so does every new target, whose moto backends are new objects.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import Any, Final

# An item's size and JSON, kept on moto's item itself (so they go when it goes), with
# the generation they were made in: forget() starts a new one, which makes them all stale.
_RENDERED: Final = "_dnschaos_rendered"
_generation = 0


@dataclass
class Partition:
    """One hash key's items in range-key order, as moto sorts them."""

    store: Any  # moto's dict of range key -> Item (or the Item of a table without range key)
    keys: list[Any] = field(default_factory=list)  # cast values of the range keys, ascending
    items: list[Any] = field(default_factory=list)


_partitions: dict[tuple[int, Any], tuple[Any, Partition]] = {}


def forget() -> None:
    """Drop everything kept: moto changed, or may have changed, outside :mod:`.wire`."""
    global _generation
    _partitions.clear()
    _generation += 1


def partition(table: Any, hash_value: Any) -> Partition | None:
    """The items of ``hash_value`` in ``table`` in moto's query order (None: no such key).

    Raises what moto's own sort would raise (a ``TypeError`` for range keys that do not
    compare): the caller leaves such a request to moto.
    """
    key = (id(table), hash_value)
    kept = _partitions.get(key)
    store = table.items.get(hash_value)
    if kept is not None and kept[0] is table and kept[1].store is store:
        part = kept[1]
        # A write this module was not told of changes the count (or is a forget()).
        if table.range_key_attr is None or len(store) == len(part.items):
            return part
    if store is None:
        return None
    if table.range_key_attr is None:
        made = Partition(store, [None], [store])
    else:
        # moto sorts with DynamoType.__lt__, which compares cast values: sorting by the cast
        # value compares the same pairs the same way. Range keys in a partition are unique.
        pairs = sorted(
            ((item.range_key.cast_value, item) for item in store.values()),
            key=lambda pair: pair[0],
        )
        made = Partition(store, [k for k, _ in pairs], [item for _, item in pairs])
    _partitions[key] = (table, made)
    return made


def stored(table: Any, hash_value: Any, item: Any, replaced: Any) -> None:
    """Record that :mod:`.wire` stored ``item`` in moto, in place of ``replaced`` (or None)."""
    kept = _partitions.get((id(table), hash_value))
    if kept is None or kept[0] is not table:
        return
    part = kept[1]
    if part.store is not table.items.get(hash_value):
        del _partitions[(id(table), hash_value)]
        return
    if table.range_key_attr is None:
        part.items[0] = item
        return
    cast = item.range_key.cast_value
    at = bisect.bisect_left(part.keys, cast)
    if at < len(part.keys) and part.keys[at] == cast:
        part.items[at] = item
    else:
        part.keys.insert(at, cast)
        part.items.insert(at, item)


def size(item: Any) -> int:
    """moto's size of ``item``."""
    return _kept(item)[1]


def rendered(item: Any) -> str:
    """``item``'s attributes as moto's JSON serializer writes them."""
    return _kept(item)[2]


def _kept(item: Any) -> tuple[int, int, str]:
    entry: tuple[int, int, str] | None = item.__dict__.get(_RENDERED)
    if entry is None or entry[0] != _generation:
        entry = item.__dict__[_RENDERED] = (_generation, item.size(), render_attrs(item.attrs))
    return entry


def render_attrs(attrs: Any) -> str:
    """A map of attribute name to moto ``DynamoType`` as moto's JSON serializer writes it."""
    return json.dumps({name: plain(value) for name, value in attrs.items()})


def plain(value: Any) -> Any:
    """A moto ``DynamoType`` as the plain ``{type: value}`` structure of the wire format."""
    kind = value.type
    inner = value.value
    if kind == "M":
        return {"M": {name: plain(v) for name, v in inner.items()}}
    if kind == "L":
        return {"L": [plain(v) for v in inner]}
    if kind in ("B", "BS") or isinstance(inner, bytes | bytearray):
        raise NotPlain(f"binary value of type {kind}")
    return {kind: inner}


class NotPlain(ValueError):
    """A value this module does not render exactly as moto would (binary data)."""
