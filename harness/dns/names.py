"""The names a run's probes ask for: each with the record types asked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeName:
    """A DNS name probes ask for, as declared (``name``, recorded in each probe entry's
    ``endpoint``) and the record types asked for it."""

    name: str
    record_types: tuple[str, ...] = ("A",)

    @property
    def fqdn(self) -> str:
        return self.name.rstrip(".") + "."


__all__ = ["ProbeName"]
