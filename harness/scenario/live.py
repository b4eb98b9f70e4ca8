"""Simulations made and run in this process, by reference.

A :class:`dnschaos.Simulation` run without a ``ref`` of its own is named
``dnschaos.scenario.live:sim_N`` so a spec can name it like any scenario; the name means
something only to the process that made it (a spec from another process says so).
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any, Final

MODULE: Final = __name__
PREFIX: Final = "sim_"
_live: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_ids = itertools.count(1)


def register(simulation: Any) -> str:
    """A reference to ``simulation`` for this process (kept only while it lives)."""
    number = next(_ids)
    _live[number] = simulation
    return f"{MODULE}:{PREFIX}{number}"


def is_live(ref: str) -> bool:
    return ref.startswith(f"{MODULE}:{PREFIX}")


def __getattr__(name: str) -> Any:
    if name.startswith(PREFIX):
        key = name[len(PREFIX) :]
        found = _live.get(int(key)) if key.isdigit() else None
        if found is None:
            raise AttributeError(name)
        return lambda: found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["is_live", "register"]
