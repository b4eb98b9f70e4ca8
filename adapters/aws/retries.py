"""How a client retries: its own botocore configuration, or the harness's default.

Code under test may configure its clients' retries (``Config(retries={"max_attempts":
1, "mode": "standard"})``, a tool's own max-attempts setting): its calls must then
retry exactly that way under the harness, since that is what decides whether an
injected error reaches it. A client that says nothing retries as the harness's
default (botocore's standard mode, 3 attempts in all). Counts follow botocore:
``max_attempts`` counts the retries, ``total_max_attempts`` every attempt, and a mode
given without a count gets that mode's own default. A configuration that gives a
count without a mode runs in botocore's default mode, legacy, as it does outside the
harness (no configuration file or variable is read: the targets are hermetic).

``adaptive`` mode adds client-side rate limiting on the wall clock to standard
retries; under the harness it retries as standard mode and its result says so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

MODES: Final = ("legacy", "standard", "adaptive")
HARNESS_MODE: Final = "standard"


@dataclass(frozen=True)
class Retries:
    """A client's retry configuration: its mode and its attempts in all (the first one
    included); ``configured``: the client's own, not the harness's default."""

    mode: str = HARNESS_MODE
    total_max_attempts: int = 3
    configured: bool = False

    @property
    def runs_as(self) -> str:
        """The mode the harness runs it in (adaptive's rate limiter waits on the wall clock)."""
        return "standard" if self.mode == "adaptive" else self.mode

    def botocore(self) -> dict[str, Any]:
        """The ``retries`` of a botocore ``Config`` that makes a client retry this way."""
        return {"mode": self.runs_as, "total_max_attempts": self.total_max_attempts}

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "total_max_attempts": self.total_max_attempts,
            "configured": self.configured,
        }
        if self.runs_as != self.mode:
            out["runs_as"] = self.runs_as
        return out


def of_config(config: Any, default: Retries) -> Retries:
    """The retries a client made with botocore ``config`` (None: none given) runs with."""
    given = getattr(config, "retries", None)
    if not isinstance(given, dict) or not given:
        return default
    mode = str(given.get("mode") or "legacy")
    if mode not in MODES:
        mode = "legacy"  # botocore refuses other values when the Config is made
    if "total_max_attempts" in given:
        total = int(given["total_max_attempts"])
    elif "max_attempts" in given:
        total = int(given["max_attempts"]) + 1  # botocore's max_attempts counts retries
    else:
        total = _default_attempts(mode)
    return Retries(mode, max(1, total), configured=True)


def _default_attempts(mode: str) -> int:
    if mode != "legacy":
        from botocore.retries.standard import DEFAULT_MAX_ATTEMPTS

        return int(DEFAULT_MAX_ATTEMPTS)
    return _legacy_default()


@functools.cache
def _legacy_default() -> int:
    from botocore.loaders import Loader

    data = Loader(include_default_search_paths=False, extra_search_paths=[Loader.BUILTIN_DATA_PATH])
    return int(data.load_data("_retry")["retry"]["__default__"]["max_attempts"])


__all__ = ["HARNESS_MODE", "MODES", "Retries", "of_config"]
