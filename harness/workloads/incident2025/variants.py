"""Automation variants by name, or any class given as ``module:Class``."""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any, Final, Protocol, runtime_checkable

from dnschaos.errors import UnknownVariantError
from dnschaos.events import EventSink
from dnschaos.sim.clock import Clock
from dnschaos.workloads.incident2025.enactor import EnactorConfig, LegacyEnactor, SafeEnactor
from dnschaos.workloads.incident2025.fleet import FleetSource
from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig


@runtime_checkable
class EnactorProtocol(Protocol):
    """What the harness needs of an enactor class given as ``module:Class``."""

    def __init__(
        self,
        name: str,
        *,
        route53: Any,
        dynamodb: Any,
        config: EnactorConfig,
        clock: Clock,
        rng: random.Random,
        events: EventSink,
    ) -> None: ...

    def run_once(self) -> Any: ...

    def run(self, should_stop: Callable[[], bool]) -> None: ...


@runtime_checkable
class PlannerProtocol(Protocol):
    """What the harness needs of a planner class given as ``module:Class``."""

    def __init__(
        self,
        name: str,
        *,
        dynamodb: Any,
        fleet: FleetSource,
        config: PlannerConfig,
        clock: Clock,
        events: EventSink,
    ) -> None: ...

    def step(self) -> int | None: ...

    def run(self, should_stop: Callable[[], bool]) -> None: ...


ENACTORS: Final[dict[str, type]] = {"legacy": LegacyEnactor, "safe": SafeEnactor}
PLANNERS: Final[dict[str, type]] = {"default": Planner}
_ENACTOR_METHODS: Final = ("run_once", "run")
_PLANNER_METHODS: Final = ("step", "run")


def resolve_enactor(spec: str) -> type:
    """An enactor class: a registered variant name or ``module:Class``."""
    return _resolve(spec, ENACTORS, _ENACTOR_METHODS, "enactor variant", "--variant")


def resolve_planner(spec: str) -> type:
    return _resolve(spec, PLANNERS, _PLANNER_METHODS, "planner", "--planner")


def _resolve(
    spec: str, registry: dict[str, type], methods: tuple[str, ...], what: str, flag: str
) -> type:
    choices = ", ".join(sorted(registry)) + ", or module:Class"
    if spec in registry:
        return registry[spec]
    if ":" not in spec:
        raise UnknownVariantError(f"{flag} {spec!r}: unknown {what}; choose one of {choices}")
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure is the user's module's
        raise UnknownVariantError(
            f"{flag} {spec!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc}); "
            f"choose one of {choices}"
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise UnknownVariantError(
            f"{flag} {spec!r}: module {module_name!r} has no class {class_name!r}; choose one of {choices}"
        )
    missing = [m for m in methods if not callable(getattr(cls, m, None))]
    if missing:
        raise UnknownVariantError(
            f"{flag} {spec!r}: {class_name} does not implement the {what} protocol "
            f"(missing {', '.join(missing)}); see the README's 'Bring your own automation'"
        )
    return cls


def variant_name(cls: type) -> str:
    """How a class is named in a spec: its registered name when it is exactly a registered
    class, else ``module:Class``; never a parent's name."""
    for name, registered in {**ENACTORS, **PLANNERS}.items():
        if cls is registered:
            return name
    return f"{cls.__module__}:{cls.__qualname__}"
