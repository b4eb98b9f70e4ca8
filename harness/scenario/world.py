"""A scenario file with ``[[actors]]``: the world it describes and the functions it names.

::

    [scenario]
    name = "ops-script"
    duration = 600

    setup = "mypkg.ops:setup"          # optional: called with boto3 clients first
    [world]
    propagation_delay = 30.0           # seconds until a change is INSYNC
    [[world.zones]]
    name = "example.com"
    records = [{name = "www.example.com", type = "A", ttl = 60, values = ["192.0.2.1"]}]
    [[world.tables]]
    name = "jobs"
    key = "pk"
    items = [{pk = "a", owner = "ops"}]

    [[actors]]
    name = "ops"
    function = "mypkg.ops:main"        # fn(ctx) or fn()
    [[actors]]
    name = "ops-eu"
    function = "mypkg.ops:make"        # with args: a factory, make(region=...) -> fn
    args = {region = "eu-west-1"}

    [[invariants]]
    function = "mypkg.ops:check"       # after every step, with a read-only view
    [[invariants]]
    function = "dnschaos.world.invariants:never_empty"
    args = {name = "www.example.com", type = "A"}
    [[invariants]]
    function = "no-actor-error"        # the default invariant...
    enabled = false                    # ...switched off

plus the usual ``[[faults]]``, ``[fuzz]``, ``[latency]`` and ``[limits]``. Every key is checked
as in any scenario file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dnschaos.scenario.spec import CallLatency, Scenario, default_limits, scenario_default
from dnschaos.sim.scheduler import Limits
from dnschaos.world.config import (
    NO_ACTOR_ERROR,
    WHEN,
    ActorSpec,
    AliasSpec,
    ByoWorld,
    InvariantSpec,
    RecordSpec,
    TableSpec,
    ZoneSpec,
    is_ref,
    module_of,
    record_problem,
)

_RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR", "SPF")


def load_byo(
    raw: dict[str, Any],
    source: str,
    *,
    table: Callable[[str, str, Any], Any],
    fault: Callable[[Any, int], Any],
    fuzz: Callable[[Any], tuple[tuple[dict[str, Any], ...], int]],
    error: type[Exception],
) -> Scenario:
    """``table(source, path, data)`` reads one TOML table with every key checked, ``fault``
    one ``[[faults]]`` entry, ``fuzz`` the ``[fuzz]`` fault space, ``error`` is the scenario
    file error: dnschaos.scenario.load's own, handed in (that module calls this one)."""
    _Table, _fault, ScenarioError = table, fault, error

    top = _Table(source, "", raw)
    meta = top.sub("scenario", required=True)
    assert meta is not None
    name = meta.get("name", str, required=True)
    description = meta.get("description", str, "")
    duration = meta.number("duration", scenario_default("duration"), minimum=1.0)
    stop_first = meta.get("stop_at_first_violation", bool, True)
    seed = meta.get("seed", int)
    meta.done(("name", "description", "duration", "stop_at_first_violation", "seed"))

    setup = top.get("setup", str)
    world = top.sub("world") or _Table(source, "world", {})
    setup = world.get("setup", str, setup)
    propagation_delay = world.number("propagation_delay", 0.0)
    zones = []
    for i, item in enumerate(world.get("zones", list, [])):
        z = _Table(source, world.key(f"zones[{i}]"), item)
        records = []
        for j, rec in enumerate(z.get("records", list, [])):
            r = _Table(source, z.key(f"records[{j}]"), rec)
            rtype = r.choice("type", _RECORD_TYPES)
            ttl = r.get("ttl", int, 300)
            if not 0 <= ttl <= 2147483647:
                r.fail(r.key("ttl"), ttl, "seconds from 0 to 2147483647")
            values = r.get("values", list, [])
            if not all(isinstance(v, str) for v in values):
                r.fail(r.key("values"), values, "a non-empty list of strings")
            alias = None
            a = r.sub("alias")
            if a is not None:
                alias = AliasSpec(
                    a.get("name", str, required=True),
                    a.get("zone", str, required=True),
                    a.get("evaluate_target_health", bool, False),
                )
                a.done(("name", "zone", "evaluate_target_health"))
            record = RecordSpec(
                r.get("name", str, required=True),
                rtype,
                ttl,
                tuple(values),
                r.get("set_identifier", str),
                r.get("weight", int),
                alias,
            )
            problem = record_problem(record)
            if problem is not None:
                key, wanted = problem
                r.fail(r.key(key), rec.get(key), wanted)
            records.append(record)
            r.done(("name", "type", "ttl", "values", "set_identifier", "weight", "alias"))
        zones.append(ZoneSpec(z.get("name", str, required=True), tuple(records)))
        z.done(("name", "records"))
    tables = []
    for i, item in enumerate(world.get("tables", list, [])):
        t = _Table(source, world.key(f"tables[{i}]"), item)
        spec = TableSpec(
            t.get("name", str, required=True),
            t.get("key", str, "pk"),
            t.get("sort_key", str),
            tuple(t.get("items", list, [])),
        )
        for j, it in enumerate(spec.items):
            if not isinstance(it, dict) or spec.key not in it:
                t.fail(t.key(f"items[{j}]"), it, f"a table with the key {spec.key!r}")
        tables.append(spec)
        t.done(("name", "key", "sort_key", "items"))
    world.done(("setup", "propagation_delay", "zones", "tables"))

    actors = []
    for i, item in enumerate(top.get("actors", list, [])):
        a = _Table(source, f"actors[{i}]", item)
        actor_name = a.get("name", str, required=True)
        function = a.get("function", str, required=True)
        if not is_ref(function):
            a.fail(a.key("function"), function, "module:function")
        if not actor_name or "/" in actor_name:
            a.fail(a.key("name"), actor_name, "a non-empty name without '/'")
        args = a.get("args", dict, {})
        actors.append(ActorSpec(actor_name, function, args=tuple(sorted(args.items()))))
        a.done(("name", "function", "args"))
    if not actors:
        raise ScenarioError(f"{source}: actors: give at least one [[actors]] entry")
    names = [a.name for a in actors]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{source}: actors: two actors share a name ({', '.join(names)})")

    invariants = []
    no_actor_error = True
    for i, item in enumerate(top.get("invariants", list, [])):
        v = _Table(source, f"invariants[{i}]", item)
        function = v.get("function", str, required=True)
        enabled = v.get("enabled", bool, True)
        if function == NO_ACTOR_ERROR:
            no_actor_error = enabled
            v.done(("function", "enabled"))
            continue
        if not is_ref(function):
            v.fail(v.key("function"), function, f"module:function or {NO_ACTOR_ERROR!r}")
        args = v.get("args", dict, {})
        invariant = InvariantSpec(
            function,
            name=v.get("name", str, ""),
            when=v.choice("when", WHEN, "step"),
            args=tuple(sorted(args.items())),
        )
        v.done(("function", "name", "when", "args", "enabled"))
        if enabled:
            invariants.append(invariant)
    labels = [i.label for i in invariants]
    if len(set(labels)) != len(labels):
        raise ScenarioError(
            f"{source}: invariants: two invariants share the name {labels}; give each a name"
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
    faults = tuple(
        _fault(_Table(source, f"faults[{i}]", item), i)
        for i, item in enumerate(top.get("faults", list, []))
    )
    fuzz_templates, max_faults = fuzz(top.sub("fuzz"))
    top.done(
        (
            "scenario",
            "setup",
            "world",
            "actors",
            "invariants",
            "latency",
            "limits",
            "faults",
            "fuzz",
        )
    )
    refs = [a.function for a in actors] + [i.function for i in invariants]
    if setup is not None:
        refs.append(setup)
    modules = tuple(sorted({m for m in map(module_of, refs) if m and not m.startswith("dnschaos")}))
    byo = ByoWorld(
        zones=tuple(zones),
        tables=tuple(tables),
        actors=tuple(actors),
        invariants=tuple(invariants),
        setup=setup,
        no_actor_error=no_actor_error,
        modules=modules,
        paths=(str(Path(source).resolve().parent),),
    )
    return Scenario(
        name=name,
        description=description,
        endpoints=(),
        enactors=(),
        duration=duration,
        latency=latency,
        propagation_delay=propagation_delay,
        limits=limits,
        faults=faults,
        stop_at_first_violation=stop_first,
        seed=seed,
        fuzz_faults=fuzz_templates,
        fuzz_max_faults=max_faults,
        byo=byo,
    )
