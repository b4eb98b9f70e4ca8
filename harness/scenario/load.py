"""Scenario files: TOML in, a validated :class:`~dnschaos.scenario.spec.Scenario` out.

One loader reads every scenario, whatever it holds: the core's tables
(:mod:`dnschaos.scenario.keys`: the world the user describes, ``[[actors]]``,
``[[invariants]]``, DNS, faults, limits) and the tables of every workload switched on
(:mod:`dnschaos.workload`; a workload is switched on by using any key it declares).
Every key is checked: a misspelled key, a value of the wrong type or an unknown fault
kind is refused with an error that names the file, the key (as a path,
``faults[0].match.actr``), the bad value and what is allowed. Nothing runs on a
scenario that does not validate.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final

from dnschaos import workload as workloads
from dnschaos.errors import UsageError
from dnschaos.faults import registry
from dnschaos.faults.kinds import Fault
from dnschaos.faults.matchers import (
    Actor,
    Always,
    Matcher,
    Nth,
    Operation,
    Probability,
    RecordName,
    Service,
)
from dnschaos.faults.matchers import Table as TableMatch
from dnschaos.faults.space import from_flag, nested
from dnschaos.inputs import parse_toml, read_text
from dnschaos.scenario.keys import TOP_LEVEL, core_keys
from dnschaos.scenario.spec import (
    CallLatency,
    Scenario,
    default_limits,
    is_scenario_file,
    is_simulation_ref,
)
from dnschaos.scenario.table import ScenarioError, Table
from dnschaos.scenario.world import load_world
from dnschaos.sim.scheduler import Limits
from dnschaos.workload import Part, Workload

# The kinds registered in faults/ (faults.kinds), in the order registered.
FAULT_KINDS: Final = registry.kinds()
_SHARED: Final = ("scenario", "world")  # tables whose keys the core and workloads share


def load(
    path: str | Path, text: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
) -> Scenario:
    """Read and validate a scenario file; ``overrides`` (dotted keys such as
    ``scenario.duration``) replace values of the file before it is validated."""
    source = str(path)
    if text is None:
        text = scenario_text(source)
    raw = parse_toml(text, source, error=ScenarioError)
    for key, value in overrides:
        _override(raw, key, value, source)
    return read(raw, source)


def read(raw: Mapping[str, Any], source: str) -> Scenario:
    """A parsed scenario file, checked and read."""
    keys = core_keys()
    top = Table(source, "", raw)
    meta_table = top.need("scenario")
    world_table = top.sub("world") or Table(source, "world", {})
    refs = meta_table.value(next(k for k in keys["scenario"] if k.name == "workloads"))
    active = _active(raw, source, refs)
    shared = {name: (meta_table if name == "scenario" else world_table) for name in _SHARED}
    values: dict[str, dict[str, Any]] = {w.name: {} for w in active}
    for w in active:
        for table, declared in w.keys.items():
            values[w.name][table] = _workload_table(top, shared, table, declared, w)
    meta = {k.name: meta_table.value(k) for k in keys["scenario"]}
    meta_table.name("name")
    duration = meta["duration"]
    world_values = {
        k.name: world_table.value(k) for k in keys["world"] if k.name not in ("zones", "tables")
    }
    world = load_world(top, world_table)
    for name, shared_table in shared.items():
        mine = [k.name for k in keys[name]]
        theirs = [k.name for w in workloads.installed() for k in w.keys.get(name, ())]
        shared_table.done(
            (
                *mine,
                *theirs,
                *(a.split(".", 1)[1] for w in active for a in w.arrays if a.startswith(name + ".")),
            )
        )

    lat_table = top.sub("latency") or Table(source, "latency", {})
    latency = CallLatency(**lat_table.read(keys["latency"]))
    if latency.high < latency.low:
        lat_table.fail(lat_table.key("high"), latency.high, f">= low ({latency.low:g})")

    lim = (top.sub("limits") or Table(source, "limits", {})).read(keys["limits"])
    base = default_limits(duration)
    limits = Limits(**{k: getattr(base, k) if v is None else v for k, v in lim.items()})

    faults = [_fault(t, i) for i, t in enumerate(top.items("faults"))]
    top.distinct("faults", [f.name for f in faults], "fault name")
    dns = _dns(top.sub("dns"))
    fuzz_templates, max_faults = fuzz_space(top.sub("fuzz"))
    aws = (top.sub("aws") or Table(source, "aws", {})).read(keys["aws"])
    owned = {t for w in workloads.installed() for t in w.keys if "." not in t and t not in _SHARED}
    top.done((*(n for n in keys if "." not in n), *TOP_LEVEL, *sorted(owned)))
    parts = tuple(Part(w.name, w.configure(values[w.name], source)) for w in active)
    if not world.actors and not parts:
        raise ScenarioError(
            f"{source}: actors: give at least one [[actors]] entry, or the tables of a "
            f"workload ({_workload_tables()})"
        )
    scenario = Scenario(
        name=meta["name"],
        description=meta["description"],
        duration=duration,
        seed=meta["seed"],
        stop_at_first_violation=meta["stop_at_first_violation"],
        latency=latency,
        propagation_delay=world_values["propagation_delay"],
        limits=limits,
        faults=tuple(faults),
        fuzz_faults=fuzz_templates,
        fuzz_max_faults=max_faults,
        aws_accounts=tuple(aws["accounts"]),
        dns=dns,
        world=world,
        workloads=parts,
    )
    for part in parts:
        part.workload.check(part.config, scenario, source)
    from dnschaos.scenario.matches import check_matches

    check_matches(scenario, scenario.faults, source)
    return scenario


def _active(raw: Mapping[str, Any], source: str, refs: Sequence[str]) -> list[Workload]:
    """The workloads a file switches on: those whose keys it uses, and those it names."""
    found: dict[str, Workload] = {}
    for ref in refs:
        try:
            w = workloads.load(ref)
        except ScenarioError:
            raise
        except Exception as exc:
            raise ScenarioError(f"{source}: scenario.workloads: {exc}") from None
        found[w.name] = w
    for w in workloads.installed():
        if w.name not in found and _uses(raw, w):
            found[w.name] = w
    return list(found.values())


def _uses(raw: Mapping[str, Any], w: Workload) -> bool:
    for table, declared in w.keys.items():
        if table in _SHARED:
            section = raw.get(table)
            if isinstance(section, Mapping) and any(k.name in section for k in declared):
                return True
        elif "." not in table and table in raw:
            return True
    return False


def _workload_table(
    top: Table,
    shared: Mapping[str, Table],
    table: str,
    declared: Sequence[Any],
    w: Workload,
) -> Any:
    """The values of one of a workload's tables: a shared table's keys it declares, an
    array of tables (a list of value dicts), or a table of its own (None when absent)."""
    if table in _SHARED:
        return {k.name: shared[table].value(k) for k in declared}
    if table in w.arrays:
        outer, _, name = table.rpartition(".")
        holder = shared.get(outer)
        if holder is None:
            raise ScenarioError(f"workload {w.name}: array {table} lies outside {_SHARED}")
        return [t.read(declared) for t in holder.items(name)]
    sub = top.sub(table)
    if sub is None:
        return None
    return sub.read(declared)


def _workload_tables() -> str:
    named = [
        f"{w.name}: " + ", ".join(f"[{t}]" for t in w.keys if t not in _SHARED)
        for w in workloads.installed()
    ]
    return "; ".join(named) or "none installed"


def _dns(table: Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.dns.names import ProbeName
    from dnschaos.dns.stack import DnsConfig

    keys = core_keys()
    values = table.read(keys["dns"])
    probes = []
    for i, item in enumerate(values.pop("probes")):
        t = Table(table.source, table.key(f"probes[{i}]"), item)
        probe = t.read(keys["dns.probes"])
        if not probe["types"]:
            t.fail(t.key("types"), [], "a non-empty list of record types")
        t.distinct("types", probe["types"], "record type")
        probes.append(ProbeName(probe["name"], tuple(probe["types"])))
    table.distinct("probes", [p.name.lower().rstrip(".") for p in probes], "probe name")
    return DnsConfig(**values, probes=tuple(probes))


def _matcher(table: Table | None) -> Matcher:
    if table is None:
        return Always()
    parts: list[Matcher] = []
    builders: dict[str, Callable[[Any], Matcher]] = {
        "service": Service,
        "operation": Operation,
        "actor": Actor,
        "record": RecordName,
        "table": TableMatch,
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


def _fault(table: Table, index: int) -> Fault:
    kind = table.choice("kind", FAULT_KINDS)
    cls = registry.kind_class(kind)
    name = table.name("name", f"fault-{index}")
    window = {key.name: table.value(key) for key in registry.common_keys()}
    start, end = window["start"], window["end"]
    if end <= start:
        table.fail(table.key("end"), end, f"after start ({start:g})")
    matcher = _matcher(table.sub("match"))
    own = {key.name: table.value(key) for key in registry.own_keys(cls)}
    table.done(registry.key_names(kind))
    fault = cls(name, matcher, **window, **own)
    try:
        fault.validate()
    except ValueError as exc:
        raise ScenarioError(f"{table.at(table.path)}: {exc}") from None
    return fault


def fuzz_space(table: Table | None) -> tuple[tuple[dict[str, Any], ...], int]:
    """The fault space: templates checked by drawing from each and validating the draw."""
    if table is None:
        return (), 0
    import random

    from dnschaos.faults.space import draw_fault, inverted_ranges, nested

    values = (table).read(core_keys()["fuzz"])
    templates = values["faults"]
    for i, template in enumerate(templates):
        path = table.key(f"faults[{i}]")
        if not isinstance(template, dict):
            table.fail(path, template, "a table")
        for key in inverted_ranges(template):
            low, high = template["match"][key[6:]] if key.startswith("match.") else template[key]
            table.fail(
                f"{path}.{key}", [low, high], "a range [low, high]", f"write [{high}, {low}]"
            )
        for seed in (0, 1):
            concrete = nested(draw_fault(template, random.Random(seed)))
            concrete.setdefault("name", f"fuzz-{i}")
            _fault(Table(table.source, path, concrete), i)
    return tuple(dict(t) for t in templates), values["max_faults"]


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


def builtin(name: str) -> Scenario:
    """A scenario shipped in fixtures/scenarios, by name."""
    loaded: Scenario = load(f"fixtures/scenarios/{name}.toml", builtin_text(name))
    return loaded


def builtin_text(name: str) -> str:
    files = resources.files("dnschaos.fixtures").joinpath("scenarios")
    entry = files.joinpath(f"{name}.toml")
    if not entry.is_file():
        known = ", ".join(builtin_names())
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
    try:
        flat = from_flag(text)
    except UsageError as exc:
        raise ScenarioError(str(exc)) from None
    item = nested(flat)
    item.setdefault("name", f"cli-{index}")
    return _fault(Table(f"--fault {text!r}", "", item), index)


def scenario_text(ref: str) -> str:
    """The TOML text of a built-in scenario or a scenario file (what a spec's digest covers)."""
    if not is_scenario_file(ref):
        return builtin_text(ref)
    if is_simulation_ref(ref):
        from dnschaos.scenario.simref import simulation_text

        return simulation_text(ref)
    if not os.path.lexists(ref):
        raise ScenarioError(f"{ref}: no such scenario file")
    return read_text(ref, "a scenario .toml file", error=ScenarioError)


__all__ = [
    "FAULT_KINDS",
    "ScenarioError",
    "builtin_names",
    "fault_from_flag",
    "load",
    "read",
    "scenario_text",
]
