"""The optional parts of dnschaos and the extras that install them.

A plain ``pip install dnschaos`` runs simulations. The moto server, the PNG plots
and the Dask client come with extras; a command that needs one that is missing
stops with exit 2 and names the extra to install, before anything runs.
"""

from __future__ import annotations

import importlib.util
from typing import Final

from dnschaos.errors import UsageError

# extra -> the top-level modules it brings that dnschaos imports
EXTRAS: Final[dict[str, tuple[str, ...]]] = {
    "server": ("flask", "flask_cors"),
    "report": ("matplotlib",),
    "cluster": ("distributed",),
}


class MissingExtraError(UsageError):
    """A command needs an extra that is not installed. Exit code 2."""


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRAS[extra] if not _importable(name)]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: blocked (None in sys.modules)
        return False


def require(extra: str, what: str) -> None:
    """Refuse ``what`` (a command or a flag) when the modules of ``extra`` are missing."""
    absent = missing(extra)
    if absent:
        raise MissingExtraError(
            f"{what} needs the '{extra}' extra ({', '.join(absent)} not installed); "
            f"install it with: pip install 'dnschaos[{extra}]'"
        )
