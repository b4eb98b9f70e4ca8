"""A Simulation named as a scenario: ``module:function`` returning a dnschaos.Simulation.

The spec's scenario is the reference; its digest covers the source of the
function's module. A Simulation made and run in place is named by
:mod:`dnschaos.scenario.live` and is known to the process that made it only. Whatever
the function returns is taken by what it can do (``scenario()``, ``describe()``): this
layer does not import the Simulation class, which sits above the runner.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.scenario.live import is_live
from dnschaos.scenario.spec import Scenario
from dnschaos.world.config import import_user_module, is_ref, load_ref, module_of

_OVERRIDABLE: Final = {
    "scenario.duration": "duration",
    "scenario.seed": "seed",
    "scenario.stop_at_first_violation": "stop_at_first_violation",
    "world.propagation_delay": "propagation_delay",
}


def load_simulation(ref: str) -> Any:
    """The Simulation ``ref`` returns (its ``ref`` set, so its results name it)."""
    if not is_ref(ref):
        raise UsageError(f"scenario {ref!r}: not module:function")
    try:
        made = load_ref(ref, f"scenario {ref}")()
    except UsageError:
        if is_live(ref):
            raise UsageError(
                f"scenario {ref}: a Simulation run in place (no ref=) is known only to the "
                "process that made it; give it ref='module:function' to rebuild it elsewhere"
            ) from None
        raise
    if not all(callable(getattr(made, m, None)) for m in ("scenario", "describe")):
        raise UsageError(
            f"scenario {ref}: returned {type(made).__name__}, not a dnschaos.Simulation"
        )
    if made.ref is None and not is_live(ref):
        made.ref = ref
    return made


def simulation_text(ref: str) -> str:
    """What a spec's digest covers: the source of the function's module (a Simulation run
    in place: its description)."""
    if is_live(ref):
        return str(load_simulation(ref).describe())
    module = str(module_of(ref))
    try:
        return inspect.getsource(import_user_module(module))
    except ImportError as exc:
        raise UsageError(f"scenario {ref}: cannot import {module!r} ({exc})") from None
    except (OSError, TypeError):  # no source file: what it declares
        return str(load_simulation(ref).describe())


def simulation_scenario(ref: str, overrides: Sequence[tuple[str, Any]] = ()) -> Scenario:
    """The Scenario of the Simulation ``ref`` returns, with a spec's overrides."""
    sim = load_simulation(ref)
    for key, value in overrides:
        if key.startswith("limits."):
            sim.limits(**{key.split(".", 1)[1]: value})
        elif key in _OVERRIDABLE:
            setattr(sim, _OVERRIDABLE[key], value)
        else:
            raise UsageError(
                f"--set {key}: a Simulation takes {', '.join(sorted(_OVERRIDABLE))} or limits.*"
            )
    scenario: Scenario = sim.scenario()
    return scenario


__all__ = ["load_simulation", "simulation_scenario", "simulation_text"]
