"""A :class:`~dnschaos.scenario.spec.RunSpec` resolved, and built into the scenario a run
assembles: the seed, the scenario's path and digest and the workloads' options made
explicit, every override applied and checked before anything starts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.scenario.load import fault_from_flag, load, scenario_text
from dnschaos.scenario.matches import check_matches
from dnschaos.scenario.spec import (
    DEFAULT_SEED,
    RunSpec,
    Scenario,
    is_scenario_file,
    is_simulation_ref,
)
from dnschaos.workload import Part, options_taken


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _from_text(ref: str, text: str, overrides: Sequence[tuple[str, Any]] = ()) -> Scenario:
    if is_simulation_ref(ref):
        from dnschaos.scenario.simref import simulation_scenario

        return simulation_scenario(ref, overrides)
    if is_scenario_file(ref):
        return replace(load(ref, text, overrides), source=ref)
    return load(f"fixtures/scenarios/{ref}.toml", text, overrides)


def load_scenario(ref: str) -> Scenario:
    """A built-in scenario by name, a scenario file by path, or a ``module:function``
    returning a Simulation."""
    return _from_text(ref, scenario_text(ref))


def resolve(spec: RunSpec) -> RunSpec:
    """The spec with its seed, planner, scenario path and scenario digest made explicit, and
    every value checked: what a result records. A spec that carries a digest must find the
    scenario's text unchanged."""
    return resolve_built(spec)[0]


def resolve_built(spec: RunSpec) -> tuple[RunSpec, Scenario]:
    """:func:`resolve`, and the scenario the resolved spec builds (read and checked once)."""
    spec.validate()
    text = scenario_text(spec.scenario)
    digest = _digest(text)
    if spec.scenario_digest is not None and spec.scenario_digest != digest:
        raise UsageError(
            f"scenario {spec.scenario}: its text changed since this run was recorded "
            f"(digest {spec.scenario_digest}, now {digest}); restore it as it was, "
            "or run the scenario afresh"
        )
    scenario = _from_text(spec.scenario, text, spec.overrides)
    spec = _options_taken(spec, scenario)
    seed = spec.seed
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else DEFAULT_SEED
    is_file = is_scenario_file(spec.scenario) and not is_simulation_ref(spec.scenario)
    ref = str(Path(spec.scenario).resolve()) if is_file else spec.scenario
    if is_file:
        scenario = replace(scenario, source=ref)
    resolved = replace(spec, scenario=ref, seed=seed, scenario_digest=digest)
    built = _applied(resolved, scenario)
    # The options the workloads made explicit (a default variant) are part of what the
    # result records.
    explicit: dict[str, Any] = {}
    for part in built.workloads:
        explicit.update(part.workload.resolved_options(part.config, resolved))
    return replace(resolved, **explicit), built


_FLAGS: Final = {"variant": "--variant", "planner": "--planner", "mitigations": "--mitigation"}
# What a spec recorded for an option before options were the workloads' to take: a result
# of a run of the user's own actors holds these defaults, which meant nothing.
_OLD_DEFAULTS: Final = {"variant": "legacy", "planner": "default"}


def _options_taken(spec: RunSpec, scenario: Scenario) -> RunSpec:
    """Refuse an option no workload of the scenario takes: it would be recorded and mean
    nothing."""
    taken = options_taken(scenario)
    for option, flag in _FLAGS.items():
        value = getattr(spec, option)
        if option in taken or value in (None, ()):
            continue
        if value == _OLD_DEFAULTS.get(option):
            spec = (
                replace(spec, variant=None) if option == "variant" else replace(spec, planner=None)
            )
            continue
        shown = ", ".join(value) if isinstance(value, tuple) else value
        raise UsageError(
            f"{flag} {shown}: no workload of scenario {spec.scenario} takes {flag} (it "
            f"runs {_what_runs(scenario)}); drop {flag}"
        )
    return spec


def _what_runs(scenario: Scenario) -> str:
    names = [p.name for p in scenario.workloads]
    if not names:
        return "your own actors only"
    return "workloads " + ", ".join(names)


def build(spec: RunSpec) -> Scenario:
    """The scenario with a spec's overrides applied: the world a run assembles."""
    return _applied(spec, _from_text(spec.scenario, scenario_text(spec.scenario), spec.overrides))


def _applied(spec: RunSpec, scenario: Scenario) -> Scenario:
    """``scenario`` (as its file and ``--set`` make it) with the rest of the spec applied."""
    if spec.resolver is not None and spec.dns is None and scenario.dns is None:
        raise UsageError(
            f"--resolver {spec.resolver}: scenario {scenario.name} has no DNS side; add "
            "--dns embedded (or another server), or use incident-2025-dns"
        )
    if spec.dns is not None or spec.resolver is not None:
        from dnschaos.dns.stack import DnsConfig

        base = scenario.dns or DnsConfig()
        dns = replace(base, server=spec.dns or base.server, resolver=spec.resolver or base.resolver)
        scenario = replace(scenario, dns=dns)
    scenario = replace(
        scenario,
        workloads=tuple(
            Part(p.name, p.workload.with_options(p.config, spec)) for p in scenario.workloads
        ),
    )
    if spec.faults:
        extra = tuple(fault_from_flag(text, i) for i, text in enumerate(spec.faults))
        taken = {f.name for f in scenario.faults}
        for fault, text in zip(extra, spec.faults, strict=True):
            if fault.name in taken:
                raise UsageError(
                    f"--fault {text!r}: fault name {fault.name!r} is taken (by the scenario or "
                    "another --fault); give it another name=..."
                )
            taken.add(fault.name)
        scenario = replace(scenario, faults=scenario.faults + extra, cli_faults=spec.faults)
        for part in scenario.workloads:
            part.workload.check(part.config, scenario, "--fault")
        check_matches(scenario, extra, "--fault")
    limits = scenario.limits
    if spec.max_steps is not None:
        limits = replace(limits, max_steps=spec.max_steps)
    if spec.max_virtual_seconds is not None:
        limits = replace(limits, max_virtual_seconds=spec.max_virtual_seconds)
    if spec.max_wall_seconds is not None:
        limits = replace(limits, max_wall_seconds=spec.max_wall_seconds)
    scenario = replace(scenario, limits=limits)
    # Every invariant checked against the scenario (a named one it cannot judge, or an
    # --invariant it has not, is refused) before anything starts.
    from dnschaos.judging import chosen

    chosen(scenario, spec.invariants)
    if scenario.dns is not None:
        scenario.dns.validate(spec.clock, spec.target)
    return scenario


__all__ = ["build", "load_scenario", "resolve", "resolve_built"]
