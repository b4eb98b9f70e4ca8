"""Keys of scenario files and flags, declared as data.

The core's tables (:mod:`dnschaos.scenario.keys`), each workload's tables, and the fault
kinds (:mod:`dnschaos.faults.registry`) declare their keys with :class:`Key`; the loader
reads and checks them from those declarations, and the JSON Schema of scenario files is
generated from them, so a key is declared in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

# The one character set of the names a scenario gives (scenario, actors, faults): they
# become thread names, file names of a store, story lines and metric labels, so they are
# plain ASCII that prints the same everywhere (no spaces, controls, NUL, bidi marks or
# look-alike letters): a letter, digit or "_" first, then letters, digits and . _ - : @ +,
# at most 128 characters.
NAME_CHARS: Final = (
    "ASCII letters, digits and . _ - : @ + (a letter, digit or _ first, at most 128)"
)
_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:@+-]{0,127}")


def name_problem(name: str) -> str | None:
    """What is wrong with a name a scenario gives, as what is wanted, or None."""
    if _NAME.fullmatch(name) is None:
        return f"a name of {NAME_CHARS}"
    return None


@dataclass(frozen=True)
class Key:
    """One key of a scenario file's table, a fault or its ``match``, as a file or a flag spells it:
    declared once, read and checked by the loader, published in the JSON Schema."""

    name: str
    type: type  # float, int or str
    default: Any  # what an absent key means (ignored when required)
    description: str
    required: bool = False
    minimum: float | None = None  # numbers: the smallest value allowed
    maximum: float | None = None  # numbers: the largest value allowed
    choices: tuple[str, ...] = ()  # strings: the only values allowed
    # A shrinker may make the value smaller. Not so for the window (moving it changes
    # when, not how much) nor for counts that pick calls (nth, every).
    shrinks: bool = True
    # Lists: the type of each item (``choices`` then lists the values an item may take).
    items: Any = None  # a type: float, int, str or dict


__all__ = ["Key"]
