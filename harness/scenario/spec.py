"""What a run is: the scenario model, and :class:`RunSpec`, the one description of a run.

A :class:`Scenario` is the world and its actors as a scenario file describes them.
A :class:`RunSpec` is everything else a run depends on, exactly as the user gave
it: which scenario (with a digest of its text), which enactor and planner
(``module:Class`` kept as written), seed, strategy, clock, target, DNS, faults and
mitigations added on the command line, limits. Every result stores its spec, and
:meth:`RunSpec.from_result` is the only way anything (replay, shrink, report,
campaign workers, the mitigation comparison, the pytest plugin) rebuilds a run,
so a re-run can never quietly differ from the run it repeats.

Scenario defaults live here, once: the dataclass fields below are what the
TOML loader fills in for a key a file leaves out.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

from dnschaos.errors import UsageError
from dnschaos.inputs import check_seal
from dnschaos.sim.scheduler import Limits
from dnschaos.workload import Part
from dnschaos.world.config import WorldSpec

CLOCKS: Final = ("sim", "real")
RUN_STRATEGIES: Final = ("random", "pct", "delay", "dfs")
DEFAULT_SEED: Final = 7  # the seed of a run whose scenario names none
# What a result's seal covers: how it was made. Its choices and digest are not sealed: a
# replay checks those itself (and says where an edited one diverges).
RESULT_SEALED: Final = ("spec", "strategy", "versions")


@dataclass(frozen=True)
class CallLatency:
    """Virtual latency of AWS calls: uniform between ``low`` and ``high`` seconds."""

    low: float = 0.05
    high: float = 0.3
    service: str | None = None  # botocore's hyphenated service id, e.g. "route-53"

    def applies(self, service: str) -> bool:
        return self.service is None or self.service == service


def default_limits(duration: float) -> Limits:
    # An hour past the working period leaves room for the tail (an operator's repair,
    # the cascade) without letting a wedged run go on for ever.
    return Limits(
        max_steps=200_000,
        max_virtual_seconds=duration + 3600.0,
        max_wall_seconds=300.0,
        quantum=1.0,
    )


@dataclass(frozen=True)
class Scenario:
    """A world and its actors, as a scenario file describes them (see ``dnschaos.scenario``):
    the core's parts (the described world, DNS, faults, limits) and the workloads switched
    on, each with its own config (:class:`dnschaos.workload.Part`)."""

    name: str
    description: str = ""
    duration: float = 360.0  # virtual seconds the actors keep working
    seed: int | None = None  # the seed the scenario is meant to run with
    latency: CallLatency = CallLatency()
    propagation_delay: float = 0.0
    limits: Limits = field(default_factory=lambda: default_limits(360.0))
    faults: tuple[Any, ...] = ()  # dnschaos.faults.kinds.Fault instances
    fuzz_faults: tuple[dict[str, Any], ...] = ()  # fault templates of the fuzzer's fault space
    fuzz_max_faults: int = 0
    source: str | None = None  # the scenario file, when it came from a path
    cli_faults: tuple[str, ...] = ()  # faults added with --fault
    aws_accounts: tuple[str, ...] = ()  # [aws] accounts: the allow-list of --target aws
    dns: Any = None  # dnschaos.dns.stack.DnsConfig: probes and a DNS server; None: no DNS side
    stop_at_first_violation: bool = True
    world: WorldSpec = field(
        default_factory=WorldSpec
    )  # the zones, tables, actors and invariants the user describes
    workloads: tuple[Part, ...] = ()  # the workloads switched on, with their configs

    def config(self, workload: str) -> Any:
        """The config of ``workload`` in this scenario, or None when it is not switched on."""
        for part in self.workloads:
            if part.name == workload:
                return part.config
        return None

    def with_config(self, workload: str, config: Any) -> Scenario:
        parts = tuple(Part(p.name, config) if p.name == workload else p for p in self.workloads)
        return replace(self, workloads=parts)


# Holds longer than this change nothing in a scenario whose workloads say nothing: the
# longest timeout of the built-in world before workloads said their own.
DEFAULT_DELAY_RANGE: Final = 75.0


def delay_range(scenario: Scenario) -> float:
    """The longest delay worth drawing for ``scenario``: the longest any of its workloads
    names (its timeouts, intervals, leases), else DEFAULT_DELAY_RANGE. Longer holds change
    nothing a shorter one does not."""
    ranges = [p.workload.delay_range(p.config) for p in scenario.workloads]
    given = [r for r in ranges if r is not None]
    return max(given) if given else DEFAULT_DELAY_RANGE


def scenario_default(name: str) -> Any:
    """The default of one Scenario field: what a scenario file that leaves it out gets."""
    for f in fields(Scenario):
        if f.name == name:
            return f.default
    raise KeyError(name)


def is_scenario_file(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref or os.sep in ref or is_simulation_ref(ref)


def is_simulation_ref(ref: str) -> bool:
    """``module:function`` returning a :class:`dnschaos.Simulation` (not a path, not .toml)."""
    return ":" in ref and "/" not in ref and "\\" not in ref and not ref.endswith(".toml")


@dataclass(frozen=True)
class RunSpec:
    """One run, exactly as asked for. Frozen; :meth:`to_json` and :meth:`from_json` are exact
    inverses, and a result's spec rebuilds the same run (same trace digest under the
    deterministic scheduler)."""

    scenario: str  # a built-in scenario's name, or the path of a scenario file
    variant: str | None = None  # a workload option: legacy, safe, module:Class (None: its default)
    planner: str | None = None  # a workload option (None: the scenario's own)
    seed: int | None = None  # None: the scenario's own seed, else DEFAULT_SEED
    strategy: str = "random"
    pct_depth: int = 3
    delays: int = 2  # --strategy delay: at most this many holds of an actor per run
    dfs_bound: int = 12
    clock: str = "sim"
    time_scale: float = 1.0
    target: str = "moto"
    endpoint_url: str | None = None
    dns: str | None = None  # None: the scenario's [dns] as it is
    resolver: str | None = None
    faults: tuple[str, ...] = ()  # --fault texts, added to the scenario's own
    mitigations: tuple[str, ...] = ()  # a workload option
    stop_on_violation: bool = True
    invariants: tuple[str, ...] = ()  # judge only these (empty: all)
    max_steps: int | None = None  # limits over the scenario's own
    max_virtual_seconds: float | None = None
    max_wall_seconds: float | None = None
    # Values set over the scenario file's, by dotted key (``--set scenario.duration=600``);
    # checked by the loader like the file's own.
    overrides: tuple[tuple[str, Any], ...] = ()
    scenario_digest: str | None = None  # of the scenario's text; see dnschaos.scenario.resolve

    def __post_init__(self) -> None:
        # Lists become tuples, so a spec is hashable and one read back from JSON equals it.
        for name in ("faults", "mitigations", "invariants"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(
            self, "overrides", tuple((str(k), _frozen(v)) for k, v in self.overrides)
        )

    def validate(self) -> None:
        """Every value in range before anything starts (the scenario's name is checked when
        it is loaded, the workloads' options by the workloads): errors name the flag and
        the choices."""
        if not isinstance(self.scenario, str) or not self.scenario:
            raise UsageError("scenario: give a built-in scenario's name or a .toml path")
        if self.clock not in CLOCKS:
            raise UsageError(f"--clock {self.clock!r}: unknown; choose one of {', '.join(CLOCKS)}")
        if self.strategy not in RUN_STRATEGIES:
            hint = "; to replay, use 'dnschaos replay FILE'" if self.strategy == "replay" else ""
            raise UsageError(
                f"--strategy {self.strategy!r}: choose one of {', '.join(RUN_STRATEGIES)}{hint}"
            )
        if self.clock == "real" and self.strategy != "random":
            raise UsageError(
                "--clock real runs free threads: --strategy applies to --clock sim only"
            )
        if self.pct_depth < 1:
            raise UsageError(f"--pct-depth {self.pct_depth}: must be at least 1")
        if self.delays < 0:
            raise UsageError(f"--delays {self.delays}: must be 0 or more")
        if self.dfs_bound < 1:
            raise UsageError(f"--dfs-bound {self.dfs_bound}: must be at least 1")
        if not (math.isfinite(self.time_scale) and self.time_scale > 0):
            raise UsageError(f"--time-scale {self.time_scale}: must be a finite number > 0")
        for flag, value in (
            ("--max-steps", self.max_steps),
            ("--max-virtual-seconds", self.max_virtual_seconds),
            ("--max-wall-seconds", self.max_wall_seconds),
        ):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise UsageError(f"{flag} {value}: must be a finite number > 0")
        from dnschaos.adapters.aws.target import TargetSpec

        if self.target != "aws":  # its enablers belong to the run, checked as it opens
            TargetSpec(self.target, endpoint_url=self.endpoint_url).validate()

    # ------------------------------------------------------------------ recording

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "overrides":
                value = [[k, v] for k, v in value]
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Any, *, source: str = "spec") -> RunSpec:
        if not isinstance(data, dict):
            raise UsageError(f"{source}: spec: not a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise UsageError(
                f"{source}: spec.{unknown[0]}: unknown key; allowed: {', '.join(sorted(known))}"
            )
        if "scenario" not in data or not isinstance(data["scenario"], str):
            raise UsageError(f"{source}: spec.scenario: missing or not a string")
        values: dict[str, Any] = {}
        for name, value in data.items():
            default = known[name].default
            if name == "overrides":
                if not isinstance(value, list) or not all(
                    isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in value
                ):
                    raise UsageError(f"{source}: spec.overrides: not a list of [key, value] pairs")
                values[name] = tuple((k, _frozen(v)) for k, v in value)
                continue
            if isinstance(default, tuple):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise UsageError(f"{source}: spec.{name}: {value!r} is not a list of strings")
                value = tuple(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise UsageError(f"{source}: spec.{name}: {value!r} is not true or false")
            elif (
                isinstance(default, (int, float))
                and not isinstance(default, bool)
                and (isinstance(value, bool) or not isinstance(value, (int, float)))
            ):
                raise UsageError(f"{source}: spec.{name}: {value!r} is not a number")
            values[name] = value
        return cls(**values)

    @classmethod
    def from_result(cls, result: Any, *, source: str = "result") -> RunSpec:
        """The spec a result was made with: a loaded result JSON (a dict), a path to one, or a
        :class:`~dnschaos.runner.RunResult`."""
        if isinstance(result, (str, Path)):
            source = str(result)
            result = load_result(result)
        if hasattr(result, "spec") and isinstance(result.spec, RunSpec):
            return result.spec
        if not isinstance(result, dict):
            raise UsageError(f"{source}: not a dnschaos result (a JSON object is expected)")
        if "spec" in result:
            spec = cls.from_json(result["spec"], source=source)
            check_seal(
                result,
                RESULT_SEALED,
                source,
                "give the file as dnschaos wrote it (a run of other options is a new run: "
                "'dnschaos run' it)",
            )
            return spec
        return cls._from_flat(result, source)

    @classmethod
    def _from_flat(cls, recorded: dict[str, Any], source: str) -> RunSpec:
        """Results written before specs were stored: their flat fields."""
        missing = [k for k in ("scenario", "variant", "seed") if k not in recorded]
        if missing:
            raise UsageError(f"{source}: not a dnschaos result (missing {', '.join(missing)})")
        dns = recorded.get("dns") or {}
        mitigations = (recorded.get("cascade") or {}).get("mitigations") or []
        strategy = recorded.get("strategy", "random")
        return cls(
            scenario=recorded.get("scenario_file") or recorded["scenario"],
            variant=recorded["variant"],
            planner=recorded.get("planner"),
            seed=int(recorded["seed"]),
            strategy=strategy if strategy in RUN_STRATEGIES else "random",
            clock=recorded.get("clock", "sim"),
            target=recorded.get("target", "moto"),
            dns=dns.get("server"),
            resolver=dns.get("resolver"),
            faults=tuple(recorded.get("faults_added") or ()),
            mitigations=tuple(mitigations),
            stop_on_violation=recorded.get("stop_on_violation", True),
        )

    def command(self) -> str:
        """The command line that makes this run."""
        parts = ["dnschaos", "run", _quote(self.scenario)]
        if self.variant is not None:
            parts += ["--variant", _quote(self.variant)]
        if self.seed is not None:
            parts += ["--seed", str(self.seed)]
        parts += ["--strategy", self.strategy]
        if self.strategy == "pct":
            parts += ["--pct-depth", str(self.pct_depth)]
        if self.strategy == "delay":
            parts += ["--delays", str(self.delays)]
        if self.planner not in (None, "default"):
            parts += ["--planner", _quote(str(self.planner))]
        if self.clock != "sim":
            parts += ["--clock", self.clock, "--time-scale", f"{self.time_scale:g}"]
        if self.target != "moto":
            parts += ["--target", self.target]
            if self.endpoint_url:
                parts += ["--endpoint-url", self.endpoint_url]
        if self.dns:
            parts += ["--dns", self.dns]
        if self.resolver:
            parts += ["--resolver", self.resolver]
        for text in self.faults:
            parts += ["--fault", _quote(text)]
        for name in self.mitigations:
            parts += ["--mitigation", name]
        for name in self.invariants:
            parts += ["--invariant", name]
        for key, value in self.overrides:
            parts += ["--set", _quote(f"{key}={json.dumps(value)}")]
        if not self.stop_on_violation:
            parts.append("--keep-going")
        return " ".join(parts)


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, so a spec read back equals the one written (and hashes)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def load_result(path: str | Path) -> dict[str, Any]:
    """A result JSON file, checked to be one: errors name the file."""
    from dnschaos.inputs import read_json

    source = str(path)
    loaded = read_json(path, "a result .json file")
    if not isinstance(loaded, dict):
        raise UsageError(f"{source}: not a dnschaos result (a JSON object is expected)")
    check_result(loaded, source)
    return loaded


def check_result(loaded: Any, source: str) -> None:
    """A result checked against the published schema (result.schema.json): the error names
    the file and the JSON path of the first bad field."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_result_validator().iter_errors(loaded))
    if error is None:
        return
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise UsageError(
        f"{source}: {where.lstrip('.') or '(top level)'}: {message}; not a valid dnschaos "
        "result (see result.schema.json): give a file written by 'dnschaos run --json'"
    )


@functools.cache
def _result_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(_result_schema())


def _result_schema() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("dnschaos").joinpath("result.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
