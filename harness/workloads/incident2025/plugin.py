"""incident-2025 as a workload: what it hands the core.

Registered through the ``dnschaos.workloads`` entry point (``incident-2025 =
"dnschaos.workloads.incident2025.plugin:WORKLOAD"``), exactly as a user's workload
would be. The core asks it for its scenario keys, its actors, its part of the world,
its invariants and how to explain them; nothing in the core imports this package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.history import History
from dnschaos.workload import Invariant, Workload
from dnschaos.workloads.incident2025 import config as cfg
from dnschaos.workloads.incident2025 import invariants as inv
from dnschaos.world.config import ActorSpec

NAME: Final = "incident-2025"


def _is_user_class(name: str) -> bool:
    """A user's own enactor or planner class (``module:Class``): code under test, whose
    exceptions ``no-actor-error`` judges; a built-in one's are harness errors."""
    return ":" in name


class Incident2025(Workload):
    name = NAME
    description = "DynamoDB's DNS planner and enactors (INCIDENT.md), their endpoints and locks"
    arrays = cfg.ARRAYS
    options = ("variant", "planner", "mitigations")

    def __init__(self) -> None:
        self.keys = cfg.keys()

    # ------------------------------------------------------------------ scenario

    def configure(self, values: Mapping[str, Any], source: str) -> cfg.IncidentConfig:
        return cfg.configure(values, source)

    def takes(self, config: cfg.IncidentConfig, option: str) -> bool:
        # Mitigations act on the downstream cascade: without one they would mean nothing.
        return option in self.options and (option != "mitigations" or config.cascade is not None)

    def with_options(self, config: cfg.IncidentConfig, spec: Any) -> cfg.IncidentConfig:
        from dnschaos.workloads.incident2025.variants import resolve_enactor, resolve_planner

        variant = spec.variant or config.variant
        resolve_enactor(variant)  # a bad --variant is refused before anything runs
        planner = spec.planner or config.planner
        resolve_planner(planner)
        config = replace(config, variant=variant, planner=planner)
        if spec.mitigations:
            from dnschaos.workloads.incident2025.downstream.model import MITIGATIONS

            unknown = sorted(set(spec.mitigations) - set(MITIGATIONS))
            if unknown:
                raise UsageError(
                    f"--mitigation {unknown[0]!r}: unknown; choose from {', '.join(MITIGATIONS)}"
                )
            if config.cascade is None:
                raise UsageError(
                    f"--mitigation: scenario {spec.scenario} has no [cascade]; "
                    "use cascade-2025 or add a [cascade] table"
                )
            cascade = replace(config.cascade, mitigations=frozenset(spec.mitigations))
            config = replace(config, cascade=cascade)
        return config

    def option_problem(self, option: str, value: Any) -> str | None:
        import re

        from dnschaos.errors import DnsChaosError
        from dnschaos.workloads.incident2025.variants import resolve_enactor, resolve_planner

        resolve = {"variant": resolve_enactor, "planner": resolve_planner}.get(option)
        if resolve is None:
            return None
        try:
            resolve(value)
        except DnsChaosError as exc:
            # The library's message starts with the command line's flag; say it without it.
            return re.sub(r"^--(variant|planner) '[^']*': ", "", str(exc))
        return None

    def resolved_options(self, config: cfg.IncidentConfig, spec: Any) -> dict[str, Any]:
        return {"variant": config.variant, "planner": config.planner}

    def check(self, config: cfg.IncidentConfig, scenario: Any, source: str) -> None:
        from dnschaos.faults.kinds import LockContention
        from dnschaos.scenario.table import ScenarioError

        names = {ep.name for ep in config.endpoints}
        for f in scenario.faults:
            if isinstance(f, LockContention) and f.endpoint not in names:
                raise ScenarioError(
                    f"{source}: faults: {f.name}: endpoint {f.endpoint!r} is not in "
                    f"world.endpoints (choose from {', '.join(sorted(names))})"
                )
        if config.cascade is not None and scenario.dns is None:
            raise ScenarioError(
                f"{source}: cascade: needs a [dns] section (DWFM resolves DynamoDB's name)"
            )
        if config.script is not None and len(config.endpoints) < 2:
            raise ScenarioError(
                f"{source}: world.endpoints: the script needs the regional endpoint first and "
                "at least one more (see incident-2025-scripted)"
            )
        if config.script is not None and config.script.behind <= config.script.cleanup_window:
            raise ScenarioError(
                f"{source}: script.behind: {config.script.behind} is not more than "
                f"script.cleanup_window ({config.script.cleanup_window}); enactor C must fall "
                "more than the clean-up window behind for the race to exist"
            )

    def scoped(
        self, config: cfg.IncidentConfig, faults: tuple[Any, ...], rename: Callable[[str], str]
    ) -> tuple[cfg.IncidentConfig, tuple[Any, ...]]:
        renamed = {ep.name: rename(ep.name) for ep in config.endpoints}
        endpoints = tuple(replace(ep, name=renamed[ep.name]) for ep in config.endpoints)
        faults = tuple(
            replace(f, endpoint=renamed[f.endpoint])
            if getattr(f, "endpoint", None) in renamed
            else f
            for f in faults
        )
        return replace(config, endpoints=endpoints), faults

    def services(self, config: cfg.IncidentConfig) -> tuple[str, ...]:
        return ("ec2", "elbv2") if config.cascade is not None else ()

    def delay_range(self, config: cfg.IncidentConfig) -> float:
        return config.delay_range()

    # ------------------------------------------------------------------ a run

    def actors(self, config: cfg.IncidentConfig, scenario: Any) -> tuple[ActorSpec, ...]:
        if config.script is not None:
            from dnschaos.workloads.incident2025.scripted import ROLES

            return tuple(
                ActorSpec(
                    role,
                    "dnschaos.workloads.incident2025.scripted:scripted",
                    args=(("config", config),),
                    bind=False,
                    judge_errors=_is_user_class(config.variant) and role != "planner",
                )
                for role in ROLES
            )
        planner = ActorSpec(
            "planner",
            "dnschaos.workloads.incident2025.actors:planner",
            args=(
                ("planner", config.planner),
                ("interval", config.planner_interval),
                ("max_plans", config.max_plans),
            ),
            bind=False,
            judge_errors=_is_user_class(config.planner),
        )
        enactors = tuple(
            ActorSpec(
                name,
                "dnschaos.workloads.incident2025.actors:enactor",
                args=(("variant", config.variant), ("config", config.enactor)),
                bind=False,
                judge_errors=_is_user_class(config.variant),
            )
            for name in config.enactors
        )
        return (planner, *enactors)

    def watchers(self, config: cfg.IncidentConfig, scenario: Any) -> tuple[ActorSpec, ...]:
        def builtin(name: str, ref: str, **args: Any) -> ActorSpec:
            return ActorSpec(name, ref, args=tuple(args.items()), bind=False, judge_errors=False)

        out = []
        if config.operator is not None:
            out.append(
                builtin(
                    "operator",
                    "dnschaos.workloads.incident2025.operator:operator",
                    config=config.operator,
                )
            )
        if config.cascade is not None:
            out.append(
                builtin(
                    "downstream",
                    "dnschaos.workloads.incident2025.downstream.actor:downstream",
                    config=config.cascade,
                )
            )
        return tuple(out)

    def provision(self, config: cfg.IncidentConfig, run: Any) -> Any:
        from dnschaos.dns.names import ProbeName
        from dnschaos.workloads.incident2025.fleet import default_fleet
        from dnschaos.workloads.incident2025.world import EndpointWatcher, World
        from dnschaos.world.observer import api_records

        world = World(run.aws, endpoints=config.endpoints, fleet=default_fleet(config.fleet_size))
        real = getattr(run.aws.spec, "real", None)
        if real is not None:  # --target aws: the table is named under the run id
            from dnschaos.adapters.aws.real import plans_table

            world.table = plans_table(real.run_id)
        world.provision()
        if config.script is not None:
            from dnschaos.workloads.incident2025.scripted import Script

            world.script = Script(config)
        for ep in config.endpoints:
            run.add_zone(ep.fqdn, world.zone_ids[ep.name])
            run.probes.append(ProbeName(ep.name, ep.record_types))
        run.tables.append(world.table)
        strict = run.aws.strict_route53() if run.aws.spec.kind == "moto" else None
        records = (
            strict.records
            if strict is not None
            else api_records(run.aws.client("route53", actor="observer"))
        )
        world.watcher = EndpointWatcher(records, world, run.history, run.clock)
        run.watchers.append(world.watcher)
        return world

    def lock_holder(self, world: Any, route53: Any, clock: Any) -> Any:
        """A lock-contention fault's holder: it speaks the enactors' lock protocol."""
        from dnschaos.workloads.incident2025.phantom import PhantomHolder

        return PhantomHolder(route53, world.endpoints, clock)

    def invariants(self, config: cfg.IncidentConfig, scenario: Any) -> dict[str, Invariant]:
        out = {name: Invariant(stream.check, stream=stream) for name, stream in inv.STREAMS.items()}
        out["single-lock-holder"] = Invariant(inv.single_lock_holder, safety=False)
        out["progress"] = Invariant(inv.progress(config.progress_bound), safety=False)
        return out

    def checker(self, name: str) -> Callable[[Iterable[dict[str, Any]]], Any] | None:
        return inv.named(name)

    def checker_names(self) -> list[str]:
        return list(inv.NAMES)

    def result(
        self, config: cfg.IncidentConfig, scenario: Any, history: Iterable[dict[str, Any]]
    ) -> dict[str, Any]:
        if config.cascade is None:
            return {}
        from dnschaos.workloads.incident2025.downstream.phases import compare, measures, phases

        # The downstream samples, read once (a long run's history is mostly other kinds).
        samples = (
            history.of_kind("downstream")
            if isinstance(history, History)
            else [e for e in history if e["kind"] == "downstream"]
        )
        measured = phases(samples, config.cascade.droplets, config.cascade.propagation_alarm)
        return {
            "cascade": {
                "mitigations": sorted(config.cascade.mitigations),
                "phases": compare(measured),
                "measures": measures(samples),
            }
        }

    def compare(
        self,
        spec: Any,
        recorded: Mapping[str, Any],
        *,
        workers: int,
        progress: Callable[[str], None] | None,
    ) -> tuple[list[str], Any] | None:
        if not recorded.get("cascade"):
            return None
        from dnschaos.workloads.incident2025.downstream.compare import lines
        from dnschaos.workloads.incident2025.mitigations import compare

        rows = compare(spec, recorded["cascade"], workers=workers, progress=progress)
        return lines(rows), rows

    # ------------------------------------------------------------------ explaining

    def ranks(self) -> Mapping[str, int]:
        return inv.RANKS

    def tell(self, history: Sequence[dict[str, Any]], violation: Any) -> Any:
        from dnschaos.workloads.incident2025.story import tell

        return tell(history, violation)

    def report(
        self, result: Mapping[str, Any], recorded: Mapping[str, Any], entries: Sequence[Any]
    ) -> tuple[list[str], str] | None:
        cascade = recorded.get("cascade")
        if not cascade:
            return None
        from dnschaos.extras import MissingExtraError
        from dnschaos.workloads.incident2025 import report

        try:
            png: bytes | None = report.plot(dict(result), cascade, entries)
        except MissingExtraError:  # the page is complete without its plot
            png = None
        return report.impact(cascade), report.section(dict(result), cascade, png)

    def plot(
        self, result: Mapping[str, Any], recorded: Mapping[str, Any], entries: Sequence[Any]
    ) -> bytes | None:
        cascade = recorded.get("cascade")
        if not cascade:
            return None
        from dnschaos.workloads.incident2025 import report

        return report.plot(dict(result), cascade, entries)

    def summary(self, result: Mapping[str, Any]) -> list[str]:
        cascade = result.get("cascade")
        if not cascade:
            return []
        from dnschaos.workloads.incident2025.downstream.compare import cascade_lines

        return cascade_lines(cascade)


WORKLOAD: Final = Incident2025()

__all__ = ["NAME", "WORKLOAD", "Incident2025"]
