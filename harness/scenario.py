"""Scenario files: TOML in, a validated :class:`dnschaos.spec.Scenario` out; and a
:class:`~dnschaos.spec.RunSpec` resolved and built into the scenario a run assembles.

Every key is checked: a misspelled key, a value of the wrong type or an unknown
fault kind is refused with an error that names the file, the key (as a path,
``faults[0].match.actr``), the bad value and what is allowed. Nothing runs on a
scenario that does not validate.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

from dnschaos.automation.plan import Endpoint
from dnschaos.errors import UsageError
from dnschaos.faults import registry
from dnschaos.faults.kinds import Fault, LockContention
from dnschaos.faults.matchers import (
    Actor,
    Always,
    Matcher,
    Nth,
    Operation,
    Probability,
    RecordName,
    Service,
    Table,
)
from dnschaos.faultspace import nested
from dnschaos.sim.scheduler import Limits
from dnschaos.spec import (
    DEFAULT_SEED,
    SCENARIO_ENACTOR,
    SCRIPTED,
    CallLatency,
    RunSpec,
    Scenario,
    default_limits,
    is_scenario_file,
    scenario_default,
)

RECORD_TYPES: Final = ("A", "AAAA")
# The kinds registered in faults/ (faults.kinds), in the order registered.
FAULT_KINDS: Final = registry.kinds()


class ScenarioError(UsageError):
    """A scenario file that does not validate (exit 2)."""


_TYPES: Final = {
    float: "a number",
    int: "an integer",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


class _Table:
    """One TOML table being read: every key must be known, every value of its type."""

    def __init__(self, source: str, path: str, data: Any) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, Mapping):
            self.fail(path, data, "a table")
        self.data = dict(data)
        self.used: set[str] = set()

    def fail(self, key: str, value: Any, wanted: str, choices: str = "") -> None:
        extra = f"; {choices}" if choices else ""
        raise ScenarioError(f"{self.source}: {key}: {value!r} is not {wanted}{extra}")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, kind: type, default: Any = None, *, required: bool = False) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ScenarioError(f"{self.source}: {self.key(name)}: missing; it is required")
            return default
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(self.key(name), value, _TYPES.get(kind, kind.__name__))
        return value

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        value = float(self.get(name, float, default))
        if value < minimum or math.isnan(value):
            self.fail(self.key(name), value, f"a number >= {minimum:g}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(name, str, default, required=default is None)
        if value not in choices:
            self.fail(self.key(name), value, "allowed", f"choose one of {', '.join(choices)}")
        return str(value)

    def sub(self, name: str, *, required: bool = False) -> _Table | None:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ScenarioError(f"{self.source}: {self.key(name)}: missing; it is required")
            return None
        return _Table(self.source, self.key(name), self.data[name])

    def done(self, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            where = self.key(unknown[0])
            raise ScenarioError(
                f"{self.source}: {where}: unknown key; allowed here: {', '.join(sorted(allowed))}"
            )


def _matcher(table: _Table | None) -> Matcher:
    if table is None:
        return Always()
    parts: list[Matcher] = []
    builders: dict[str, Callable[[Any], Matcher]] = {
        "service": Service,
        "operation": Operation,
        "actor": Actor,
        "record": RecordName,
        "table": Table,
    }
    for key, build in builders.items():
        value = table.get(key, str)
        if value is not None:
            parts.append(build(value))
    nth = table.get("nth", int)
    every = table.get("every", int, 0)
    if nth is not None:
        if nth < 1 or every < 0:
            table.fail(table.key("nth"), nth, "an integer >= 1 (with every >= 0)")
        parts.append(Nth(nth, every))
    probability = table.get("probability", float)
    if probability is not None:
        if not 0.0 <= probability <= 1.0:
            table.fail(table.key("probability"), probability, "a number between 0 and 1")
        parts.append(Probability(probability))
    negated = table.sub("not")
    if negated is not None:
        parts.append(~_matcher(negated))
    table.done((*registry.match_key_names(), "not"))
    if not parts:
        return Always()
    result = parts[0]
    for p in parts[1:]:
        result = result & p
    return result


def _key(table: _Table, key: registry.Key) -> Any:
    """One key of a fault, read and checked as its class declares it."""
    default = None if key.required else key.default
    if key.choices:
        return table.choice(key.name, key.choices, default)
    value = table.get(key.name, key.type, default, required=key.required)
    if key.minimum is not None and (value < key.minimum or math.isnan(value)):
        table.fail(table.key(key.name), value, f"a number >= {key.minimum:g}")
    if key.maximum is not None and value > key.maximum:
        table.fail(table.key(key.name), value, f"a number <= {key.maximum:g}")
    return value


def _fault(table: _Table, index: int) -> Fault:
    kind = table.choice("kind", FAULT_KINDS)
    cls = registry.kind_class(kind)
    name = table.get("name", str, f"fault-{index}")
    window = {key.name: _key(table, key) for key in registry.common_keys()}
    start, end = window["start"], window["end"]
    if end <= start:
        table.fail(table.key("end"), end, f"after start ({start:g})")
    matcher = _matcher(table.sub("match"))
    own = {key.name: _key(table, key) for key in registry.own_keys(cls)}
    table.done(registry.key_names(kind))
    fault = cls(name, matcher, **window, **own)
    try:
        fault.validate()
    except ValueError as exc:
        raise ScenarioError(f"{table.source}: {table.path}: {exc}") from None
    return fault


def load(
    path: str | Path, text: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
) -> Scenario:
    """Read and validate a scenario file; ``overrides`` (dotted keys such as
    ``scenario.duration``) replace values of the file before it is validated."""
    source = str(path)
    if text is None:
        text = scenario_text(source)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    for key, value in overrides:
        _override(raw, key, value, source)
    top = _Table(source, "", raw)
    meta = top.sub("scenario", required=True)
    assert meta is not None
    name = meta.get("name", str, required=True)
    description = meta.get("description", str, "")
    duration = meta.number("duration", scenario_default("duration"), minimum=1.0)
    progress_bound = meta.number("progress_bound", scenario_default("progress_bound"))
    stop_first = meta.get("stop_at_first_violation", bool, True)
    seed = meta.get("seed", int)
    meta.done(
        ("name", "description", "duration", "progress_bound", "stop_at_first_violation", "seed")
    )

    world = top.sub("world", required=True)
    assert world is not None
    fleet_size = world.get("fleet_size", int, 3)
    if not 1 <= fleet_size <= 200:
        world.fail(world.key("fleet_size"), fleet_size, "an integer from 1 to 200")
    planner_interval = world.number(
        "planner_interval", scenario_default("planner_interval"), minimum=0.001
    )
    propagation_delay = world.number("propagation_delay", 0.0)
    max_plans = world.get("max_plans", int)
    if max_plans is not None and max_plans < 1:
        world.fail(world.key("max_plans"), max_plans, "an integer >= 1")
    raw_endpoints = world.get("endpoints", list, required=True)
    endpoints = []
    for i, item in enumerate(raw_endpoints):
        t = _Table(source, world.key(f"endpoints[{i}]"), item)
        types = t.get("record_types", list, ["A"])
        for rtype in types:
            if rtype not in RECORD_TYPES:
                t.fail(
                    t.key("record_types"),
                    rtype,
                    "a record type",
                    f"choose from {', '.join(RECORD_TYPES)}",
                )
        endpoints.append(
            Endpoint(
                t.get("name", str, required=True), t.get("plan_key", str, "regional"), tuple(types)
            )
        )
        t.done(("name", "plan_key", "record_types"))
    if not endpoints:
        world.fail(world.key("endpoints"), [], "a non-empty list of endpoints")
    world.done(("fleet_size", "planner_interval", "propagation_delay", "endpoints", "max_plans"))

    en = top.sub("enactors") or _Table(source, "enactors", {})
    names = en.get("names", list, ["enactor-a", "enactor-b", "enactor-c"])
    if (
        not names
        or not all(isinstance(n, str) and n for n in names)
        or len(set(names)) != len(names)
    ):
        en.fail(en.key("names"), names, "a list of distinct, non-empty actor names")
    base_enactor = SCENARIO_ENACTOR
    config = replace(
        base_enactor,
        lock_ttl=en.number("lock_ttl", base_enactor.lock_ttl, minimum=1.0),
        lock_attempts=en.get("lock_attempts", int, base_enactor.lock_attempts),
        backoff_base=en.number("backoff_base", base_enactor.backoff_base),
        backoff_max=en.number("backoff_max", base_enactor.backoff_max),
        cleanup_window=en.get("cleanup_window", int, base_enactor.cleanup_window),
        poll_interval=en.number("poll_interval", base_enactor.poll_interval, minimum=0.001),
        leaf_ttl=en.get("leaf_ttl", int, base_enactor.leaf_ttl),
    )
    if not 0 <= config.leaf_ttl <= 2147483647:
        en.fail(en.key("leaf_ttl"), config.leaf_ttl, "seconds from 0 to 2147483647")
    if config.lock_attempts < 1 or config.cleanup_window < 1:
        en.fail(
            en.key("lock_attempts / cleanup_window"),
            (config.lock_attempts, config.cleanup_window),
            "integers >= 1",
        )
    en.done(
        (
            "names",
            "lock_ttl",
            "lock_attempts",
            "backoff_base",
            "backoff_max",
            "cleanup_window",
            "poll_interval",
            "leaf_ttl",
        )
    )

    lat = top.sub("latency") or _Table(source, "latency", {})
    latency = CallLatency(lat.number("low", CallLatency.low), lat.number("high", CallLatency.high))
    if latency.high < latency.low:
        lat.fail(lat.key("high"), latency.high, f">= low ({latency.low:g})")
    lat.done(("low", "high"))

    lim = top.sub("limits") or _Table(source, "limits", {})
    base = default_limits(duration)
    limits = Limits(
        max_steps=lim.get("max_steps", int, base.max_steps),
        max_virtual_seconds=lim.number(
            "max_virtual_seconds", base.max_virtual_seconds, minimum=1.0
        ),
        max_wall_seconds=lim.number("max_wall_seconds", base.max_wall_seconds, minimum=0.1),
        quantum=lim.number("quantum", base.quantum),
    )
    lim.done(("max_steps", "max_virtual_seconds", "max_wall_seconds", "quantum"))

    faults = []
    for i, item in enumerate(top.get("faults", list, [])):
        faults.append(_fault(_Table(source, f"faults[{i}]", item), i))
    endpoint_names = {ep.name for ep in endpoints}
    for f in faults:
        if isinstance(f, LockContention) and f.endpoint not in endpoint_names:
            raise ScenarioError(
                f"{source}: faults: {f.name}: endpoint {f.endpoint!r} is not in world.endpoints "
                f"(choose from {', '.join(sorted(endpoint_names))})"
            )
    dns = _dns(top.sub("dns"))
    operator = _operator(top.sub("operator"))
    fuzz_templates, max_faults = _fuzz(top.sub("fuzz"))
    cascade = _cascade(top.sub("cascade"))
    if cascade is not None and dns is None:
        raise ScenarioError(
            f"{source}: cascade: needs a [dns] section (DWFM resolves DynamoDB's name)"
        )
    top.done(
        (
            "scenario",
            "world",
            "enactors",
            "latency",
            "limits",
            "faults",
            "dns",
            "operator",
            "fuzz",
            "cascade",
        )
    )
    return Scenario(
        max_plans=max_plans,
        seed=seed,
        cascade=cascade,
        fuzz_faults=fuzz_templates,
        fuzz_max_faults=max_faults,
        dns=dns,
        operator=operator,
        stop_at_first_violation=stop_first,
        name=name,
        description=description,
        endpoints=tuple(endpoints),
        fleet_size=fleet_size,
        enactors=tuple(names),
        planner_interval=planner_interval,
        enactor=config,
        latency=latency,
        propagation_delay=propagation_delay,
        duration=duration,
        progress_bound=progress_bound,
        limits=limits,
        faults=tuple(faults),
    )


def _dns(table: _Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.dns import RESOLVERS, SERVERS, DnsConfig

    base = DnsConfig()
    negative_ttl = table.get("negative_ttl", int, base.negative_ttl)
    if negative_ttl < 0:
        table.fail(table.key("negative_ttl"), negative_ttl, "seconds >= 0")
    config = DnsConfig(
        server=table.choice("server", SERVERS, base.server),
        resolver=table.choice("resolver", RESOLVERS, base.resolver),
        probe_interval=table.number("probe_interval", base.probe_interval, minimum=0.01),
        probe_timeout=table.number("probe_timeout", base.probe_timeout, minimum=0.01),
        negative_ttl=negative_ttl,
        serve_expired=table.get("serve_expired", bool, base.serve_expired),
        push_interval=table.number("push_interval", base.push_interval, minimum=0.01),
    )
    table.done(
        (
            "server",
            "resolver",
            "probe_interval",
            "probe_timeout",
            "negative_ttl",
            "serve_expired",
            "push_interval",
        )
    )
    return config


def _fuzz(table: _Table | None) -> tuple[tuple[dict[str, Any], ...], int]:
    """The fault space: templates checked by drawing from each and validating the draw."""
    if table is None:
        return (), 0
    import random

    from dnschaos.faultspace import draw_fault, nested

    max_faults = table.get("max_faults", int, 3)
    if max_faults < 1:
        table.fail(table.key("max_faults"), max_faults, "an integer >= 1")
    templates = table.get("faults", list, required=True)
    for i, template in enumerate(templates):
        path = table.key(f"faults[{i}]")
        if not isinstance(template, dict):
            table.fail(path, template, "a table")
        for seed in (0, 1):
            concrete = nested(draw_fault(template, random.Random(seed)))
            concrete.setdefault("name", f"fuzz-{i}")
            _fault(_Table(table.source, path, concrete), i)
    table.done(("max_faults", "faults"))
    return tuple(dict(t) for t in templates), max_faults


def _operator(table: _Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.operator import OperatorConfig

    disable = table.get("disable_automation_after", float)
    if disable is not None and disable < 0:
        table.fail(table.key("disable_automation_after"), disable, "seconds >= 0")
    base = OperatorConfig()
    config = OperatorConfig(
        repair_after=table.number("repair_after", base.repair_after),
        stop_when_recovered=table.get("stop_when_recovered", bool, base.stop_when_recovered),
        disable_automation_after=disable,
    )
    table.done(("repair_after", "stop_when_recovered", "disable_automation_after"))
    return config


def _cascade(table: _Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.downstream.dwfm import DwfmConfig
    from dnschaos.downstream.model import MITIGATIONS, CascadeConfig

    base = CascadeConfig()
    mitigations = table.get("mitigations", list, [])
    for m in mitigations:
        if m not in MITIGATIONS:
            table.fail(
                table.key("mitigations"), m, "a mitigation", f"choose from {', '.join(MITIGATIONS)}"
            )
    dwfm = DwfmConfig(
        lease_timeout=table.number("lease_timeout", base.dwfm.lease_timeout, minimum=1.0),
        check_interval=table.number("check_interval", base.dwfm.check_interval, minimum=1.0),
        renew_work=table.number("renew_work", base.dwfm.renew_work),
        reestablish_work=table.number("reestablish_work", base.dwfm.reestablish_work),
        admit=table.get("admit", int, base.dwfm.admit),
    )
    config = CascadeConfig(
        droplets=table.get("droplets", int, base.droplets),
        dwfm_hosts=table.get("dwfm_hosts", int, base.dwfm_hosts),
        dwfm=dwfm,
        resolver_negative_ttl=table.number("resolver_negative_ttl", base.resolver_negative_ttl),
        slots_per_droplet=table.get("slots_per_droplet", int, base.slots_per_droplet),
        launch_rate=table.number("launches_per_minute", base.launch_rate * 60) / 60,
        launch_limit=table.number("launch_limit_per_minute", base.launch_limit * 60) / 60,
        propagation_rate=table.number("propagations_per_minute", base.propagation_rate * 60) / 60,
        propagation_alarm=table.get("propagation_alarm", int, base.propagation_alarm),
        propagation_knee=table.get("propagation_knee", int, base.propagation_knee),
        propagation_max_slowdown=table.number(
            "propagation_max_slowdown", base.propagation_max_slowdown, minimum=1.0
        ),
        nlb_share=table.number("nlb_share", base.nlb_share),
        health_capacity=table.get("health_capacity", int, base.health_capacity),
        failover_threshold=table.number("failover_threshold", base.failover_threshold),
        dwfm_fix_after_repair=table.number("dwfm_fix_after_repair", base.dwfm_fix_after_repair),
        failover_off_after_failures=table.number(
            "failover_off_after_failures", base.failover_off_after_failures
        ),
        tick=table.number("tick", base.tick, minimum=1.0),
        race_by=table.number("race_by", base.race_by or 0.0, minimum=0.0) or None,
        mitigations=frozenset(mitigations),
    )
    table.done(
        (
            "droplets",
            "dwfm_hosts",
            "lease_timeout",
            "check_interval",
            "renew_work",
            "reestablish_work",
            "admit",
            "resolver_negative_ttl",
            "slots_per_droplet",
            "launches_per_minute",
            "launch_limit_per_minute",
            "propagations_per_minute",
            "propagation_alarm",
            "propagation_knee",
            "propagation_max_slowdown",
            "nlb_share",
            "health_capacity",
            "failover_threshold",
            "dwfm_fix_after_repair",
            "failover_off_after_failures",
            "tick",
            "race_by",
            "mitigations",
        )
    )
    try:
        config.validate()
    except ValueError as exc:
        raise ScenarioError(f"{table.source}: {exc}") from None
    return config


def _override(raw: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set one dotted key (``cascade.race_by``) in a parsed scenario; the loader then checks
    it like any value written in the file."""
    parts = key.split(".")
    if not key or not all(parts):
        raise ScenarioError(f"--set {key!r}: not a dotted key such as scenario.duration")
    table = raw
    for i, part in enumerate(parts[:-1]):
        nxt = table.setdefault(part, {})
        if not isinstance(nxt, dict):
            where = ".".join(parts[: i + 1])
            raise ScenarioError(f"{source}: --set {key}: {where} is not a table")
        table = nxt
    table[parts[-1]] = _thawed(value)


def _thawed(value: Any) -> Any:
    """A spec keeps list values as tuples (hashable); TOML has lists."""
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


def load_scenario(ref: str) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    return _from_text(ref, scenario_text(ref))


def builtin(name: str) -> Scenario:
    """A scenario shipped in fixtures/scenarios, by name."""
    loaded: Scenario = load(f"fixtures/scenarios/{name}.toml", builtin_text(name))
    return loaded


def builtin_text(name: str) -> str:
    files = resources.files("dnschaos.fixtures").joinpath("scenarios")
    entry = files.joinpath(f"{name}.toml")
    if not entry.is_file():
        known = ", ".join([*builtin_names(), SCRIPTED])
        raise ScenarioError(
            f"scenario {name!r}: unknown; choose one of {known}, or give a .toml path"
        )
    return entry.read_text(encoding="utf-8")


def builtin_names() -> list[str]:
    files = resources.files("dnschaos.fixtures").joinpath("scenarios")
    return sorted(p.name.removesuffix(".toml") for p in files.iterdir() if p.name.endswith(".toml"))


def fault_from_flag(text: str, index: int) -> Fault:
    """A fault from ``--fault kind=latency,actor=enactor-c,seconds=40``: the same keys and
    checks as a scenario file's ``[[faults]]``, match keys gathered into its ``match``
    (but a kind's own key stays its own: ``actor`` of a crash is the actor it kills)."""
    flat: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        if not sep or not key:
            raise ScenarioError(f"--fault {text!r}: {part!r} is not KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word: a string
        flat[key.strip()] = value
    item = nested(flat)
    item.setdefault("name", f"cli-{index}")
    return _fault(_Table(f"--fault {text!r}", "", item), index)


# --------------------------------------------------------------------------- specs


def scenario_text(ref: str) -> str:
    """The TOML text of a built-in scenario or a scenario file (what a spec's digest covers)."""
    if not is_scenario_file(ref):
        return builtin_text(ref)
    try:
        return Path(ref).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{ref}: no such scenario file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{ref}: is a directory; give a scenario .toml file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{ref}: not UTF-8 text; a scenario file is TOML") from None
    except OSError as exc:
        raise ScenarioError(f"{ref}: cannot be read ({exc.strerror})") from None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _from_text(ref: str, text: str, overrides: Sequence[tuple[str, Any]] = ()) -> Scenario:
    if is_scenario_file(ref):
        return replace(load(ref, text, overrides), source=ref)
    return load(f"fixtures/scenarios/{ref}.toml", text, overrides)


def resolve(spec: RunSpec) -> RunSpec:
    """The spec with its seed, planner, scenario path and scenario digest made explicit, and
    every value checked: what a result records. A spec that carries a digest must find the
    scenario's text unchanged."""
    spec.validate()
    if spec.scenario == SCRIPTED:
        raise UsageError(f"{SCRIPTED} is a script, not a scenario: run it with 'dnschaos run'")
    text = scenario_text(spec.scenario)
    digest = _digest(text)
    if spec.scenario_digest is not None and spec.scenario_digest != digest:
        raise UsageError(
            f"scenario {spec.scenario}: its text changed since this run was recorded "
            f"(digest {spec.scenario_digest}, now {digest}); restore it as it was, "
            "or run the scenario afresh"
        )
    scenario = _from_text(spec.scenario, text, spec.overrides)
    seed = spec.seed
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else DEFAULT_SEED
    ref = str(Path(spec.scenario).resolve()) if is_scenario_file(spec.scenario) else spec.scenario
    resolved = replace(
        spec,
        scenario=ref,
        seed=seed,
        planner=spec.planner or scenario.planner,
        scenario_digest=digest,
    )
    build(resolved)  # every override checked against the scenario before anything starts
    return resolved


def build(spec: RunSpec) -> Scenario:
    """The scenario with a spec's overrides applied: the world a run assembles."""
    scenario = _from_text(spec.scenario, scenario_text(spec.scenario), spec.overrides)
    if spec.dns is not None or spec.resolver is not None:
        from dnschaos.dns import DnsConfig

        base = scenario.dns or DnsConfig()
        dns = replace(base, server=spec.dns or base.server, resolver=spec.resolver or base.resolver)
        scenario = replace(scenario, dns=dns)
    if spec.planner is not None:
        scenario = replace(scenario, planner=spec.planner)
    if spec.mitigations:
        if scenario.cascade is None:
            raise UsageError(
                f"--mitigation: scenario {scenario.name} has no [cascade]; use cascade-2025"
            )
        scenario = replace(
            scenario,
            cascade=replace(scenario.cascade, mitigations=frozenset(spec.mitigations)),
        )
    if spec.faults:
        extra = tuple(fault_from_flag(text, i) for i, text in enumerate(spec.faults))
        scenario = replace(scenario, faults=scenario.faults + extra, cli_faults=spec.faults)
    limits = scenario.limits
    if spec.max_steps is not None:
        limits = replace(limits, max_steps=spec.max_steps)
    if spec.max_virtual_seconds is not None:
        limits = replace(limits, max_virtual_seconds=spec.max_virtual_seconds)
    if spec.max_wall_seconds is not None:
        limits = replace(limits, max_wall_seconds=spec.max_wall_seconds)
    if spec.invariants:
        from dnschaos.checkers import invariant_names

        known = invariant_names(scenario)
        unknown = [n for n in spec.invariants if n not in known]
        if unknown:
            raise UsageError(
                f"--invariant {unknown[0]!r}: scenario {scenario.name} has no such invariant; "
                f"choose from {', '.join(known)}"
            )
    if scenario.dns is not None:
        scenario.dns.validate(spec.clock, spec.target)
    return replace(scenario, limits=limits)
