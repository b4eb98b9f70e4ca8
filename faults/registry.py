"""The fault kinds a scenario may name, and the keys each one takes.

A kind is a frozen dataclass in ``faults.kinds`` registered under its name
(``@register``); the fields it declares with :func:`key` are the keys a
scenario file's ``[[faults]]`` entry and a ``--fault`` flag accept for it, with
their type, default, allowed range or choices and meaning. The scenario loader,
the ``--fault`` parser and the fuzzer's fault space read them from here, so a
new kind or key is declared once, on its class, and every error that lists the
allowed keys or values lists what the class declares.

The keys of a fault's ``match`` table (which calls it applies to) are declared
here too, in :data:`MATCH_KEYS`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, TypeVar

from dnschaos.keys import Key

if TYPE_CHECKING:
    from dnschaos.faults.kinds import Fault

_T = TypeVar("_T")
_FaultT = TypeVar("_FaultT", bound="type[Fault]")

_META: Final = "dnschaos.key"


def key(
    default: _T,
    *,
    description: str,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
    shrinks: bool = True,
) -> _T:
    """A dataclass field that is also a key of the fault in scenario files and flags.

    ``default`` is the field's default in Python as well; ``required`` keys have one
    for Python callers but must be given in a scenario file or flag.
    """
    meta = {
        "description": description,
        "required": required,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "shrinks": shrinks,
    }
    field: _T = dataclasses.field(default=default, metadata={_META: meta})
    return field


_KINDS: dict[str, type[Fault]] = {}
_KEYS: dict[type, tuple[Key, ...]] = {}
_TYPES: Final = {"float": float, "int": int, "str": str}


def register(cls: _FaultT) -> _FaultT:
    """Register a fault class under its ``kind``; its declared keys are read once, here."""
    name = cls.kind
    if name in _KINDS and _KINDS[name] is not cls:
        raise ValueError(
            f"fault kind {name!r}: already registered by {_KINDS[name].__qualname__}; "
            "choose another kind name"
        )
    _KINDS[name] = cls
    _KEYS[cls] = _declared(cls)
    return cls


def _declared(cls: type) -> tuple[Key, ...]:
    hints = typing.get_type_hints(cls)
    keys = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            continue
        kind = hints[f.name]
        if kind not in _TYPES.values():
            raise TypeError(
                f"{cls.__qualname__}.{f.name}: a key's type must be one of float, int, str"
            )
        keys.append(Key(name=f.name, type=kind, default=f.default, **meta))
    return tuple(keys)


def kinds() -> tuple[str, ...]:
    """Every registered kind, in the order registered."""
    return tuple(_KINDS)


def kind_class(name: str) -> type[Fault]:
    if name not in _KINDS:
        raise ValueError(f"fault kind {name!r}: unknown; choose one of {', '.join(_KINDS)}")
    return _KINDS[name]


def keys_of(cls: type[Fault]) -> tuple[Key, ...]:
    """Every key a fault class declares (the common ones first), registered or not."""
    if cls not in _KEYS:  # read once: type hints are slow to evaluate, and asked for often
        _KEYS[cls] = _declared(cls)
    return _KEYS[cls]


_BASE: list[type] = []  # the base class of every kind, handed in by faults.kinds


def register_base(cls: _FaultT) -> _FaultT:
    """Mark the base class whose keys every kind shares (the window)."""
    _BASE[:] = [cls]
    return cls


def common_keys() -> tuple[Key, ...]:
    """The keys every kind takes (the window), beside ``name``, ``kind`` and ``match``."""
    if not _BASE:
        raise RuntimeError("no fault base class registered: import dnschaos.faults.kinds first")
    return keys_of(_BASE[0])


def own_keys(cls: type[Fault]) -> tuple[Key, ...]:
    """The keys a kind takes beyond the common ones, in the order it declares them."""
    common = {k.name for k in common_keys()}
    return tuple(k for k in _KEYS[cls] if k.name not in common)


def key_names(kind: str) -> tuple[str, ...]:
    """Every top-level key of a fault of this kind (``match`` included)."""
    cls = kind_class(kind)
    common = (k.name for k in common_keys())
    return ("name", "kind", *common, "match", *(k.name for k in own_keys(cls)))


MATCH_KEYS: Final[tuple[Key, ...]] = (
    Key("service", str, None, "the AWS service (route53, dynamodb, ec2, elbv2) or dns"),
    Key("operation", str, None, "the API operation (ChangeResourceRecordSets) or query type"),
    Key("actor", str, None, "the calling actor, a glob (enactor-*)"),
    Key("record", str, None, "a record name the call touches, a glob (_lock.*)"),
    Key("table", str, None, "the DynamoDB table, a glob"),
    Key("nth", int, None, "the n-th matching call (1-based)", minimum=1, shrinks=False),
    Key("every", int, 0, "and every every-th call after it (0: only the n-th)", shrinks=False),
    Key("probability", float, None, "the chance a call is picked", minimum=0.0, maximum=1.0),
)
"""The keys of a fault's ``match`` table that take a value (``not`` takes a table)."""


def match_key_names() -> tuple[str, ...]:
    return tuple(k.name for k in MATCH_KEYS)


def is_match_key(kind: str | None, name: str) -> bool:
    """Whether a flat key (a ``--fault`` flag, a fuzz case) belongs in ``match``.

    A kind's own key wins over a match key of the same name: ``actor`` of a crash or
    a clock skew is the actor it acts on, not a filter on calls.
    """
    if name not in match_key_names():
        return False
    if kind in _KINDS:
        return name not in {k.name for k in own_keys(_KINDS[kind])}
    return True


def no_shrink_keys() -> frozenset[str]:
    """Keys whose values a shrinker leaves alone, in any kind or in ``match``."""
    declared: Iterator[Key] = (k for keys in _KEYS.values() for k in keys)
    return frozenset(k.name for k in (*declared, *common_keys(), *MATCH_KEYS) if not k.shrinks)
