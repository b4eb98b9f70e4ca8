"""The world a scenario file describes for the user's own code, read into a WorldSpec.

::

    [scenario]
    name = "ops-script"
    duration = 600

    [world]
    propagation_delay = 30.0           # seconds until a change is INSYNC
    setup = "mypkg.ops:setup"          # optional: called with boto3 clients first
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
    function = "dnschaos.invariants:never_empty"
    args = {name = "www.example.com", type = "A"}
    [[invariants]]
    function = "no-actor-error"        # the default invariant...
    enabled = false                    # ...switched off

An ``[[invariants]]`` entry may also name an invariant of a workload in the same
scenario (``function = "active-plan-never-deleted"``): it is then judged (the others
of that workload still are too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from dnschaos.scenario.keys import core_keys
from dnschaos.scenario.table import ScenarioError, Table
from dnschaos.world.config import (
    NO_ACTOR_ERROR,
    ActorSpec,
    AliasSpec,
    InvariantSpec,
    RecordSpec,
    TableSpec,
    WorldSpec,
    ZoneSpec,
    check_actor_name,
    is_ref,
    module_of,
    record_problem,
)

# Where functions a scenario may name lived before, and where they are now: a file that
# names an old home is told the new one instead of "cannot import".
MOVED: Final = {
    "dnschaos.byo.invariants": "dnschaos.invariants",
    "dnschaos.dns": "dnschaos.dns.stack",
}


def _moved(table: Table, key: str, ref: str) -> None:
    module, _, attr = ref.partition(":")
    if module in MOVED:
        table.fail(
            table.key(key), ref, "where that function lives now", f"name {MOVED[module]}:{attr}"
        )


def load_world(top: Table, world: Table) -> WorldSpec:
    """The user's part of a scenario: ``[world]``'s zones, tables and setup, ``[[actors]]``
    and ``[[invariants]]`` (``top`` is the file, ``world`` its ``[world]`` table; the
    caller finishes both)."""
    keys = core_keys()
    source = top.source
    setup = world.get("setup", str, top.get("setup", str))
    zones = tuple(_zone(z, keys) for z in world.items("zones"))
    tables = tuple(_table(t, keys) for t in world.items("tables"))
    actors = tuple(_actor(a, keys) for a in top.items("actors"))
    top.distinct("actors", [a.name for a in actors], "actor name")
    invariants: list[InvariantSpec] = []
    no_actor_error = True
    for v in top.items("invariants"):
        values = v.read(keys["invariants"])
        function = values["function"]
        _moved(v, "function", function)
        if function == NO_ACTOR_ERROR:
            no_actor_error = values["enabled"]
            continue
        if not values["enabled"]:
            continue
        invariants.append(
            InvariantSpec(
                function,
                name=values["name"],
                when=values["when"],
                args=tuple(sorted(values["args"].items())),
            )
        )
    labels = [i.label for i in invariants]
    if len(set(labels)) != len(labels):
        raise ScenarioError(
            f"{source}: invariants: two invariants share the name {labels}; give each a name"
        )
    refs: list[Any] = [a.function for a in actors]
    refs += [i.function for i in invariants if is_ref(str(i.function))]
    if setup is not None:
        refs.append(setup)
    modules = tuple(sorted({m for m in map(module_of, refs) if m and not m.startswith("dnschaos")}))
    return WorldSpec(
        zones=zones,
        tables=tables,
        actors=actors,
        invariants=tuple(invariants),
        setup=setup,
        no_actor_error=no_actor_error,
        modules=modules,
        paths=(str(Path(source).resolve().parent),),
    )


def _zone(z: Table, keys: dict[str, Any]) -> ZoneSpec:
    from dnschaos.adapters.route53.values import zone_name_problem

    zone = z.get("name", str, required=True)
    refused = zone_name_problem(zone)
    if refused is not None:
        z.fail(z.key("name"), zone, f"a hosted zone's name Route 53 accepts ({refused})")
    records = []
    for r in z.items("records"):
        values = r.read(keys["world.zones.records"])
        if not all(isinstance(v, str) for v in values["values"]):
            r.fail(r.key("values"), values["values"], "a non-empty list of strings")
        alias = None
        if values["alias"] is not None:
            a = Table(r.source, r.key("alias"), values["alias"])
            alias = AliasSpec(
                a.get("name", str, required=True),
                a.get("zone", str, required=True),
                a.get("evaluate_target_health", bool, False),
            )
            a.done(("name", "zone", "evaluate_target_health"))
        record = RecordSpec(
            values["name"],
            values["type"],
            values["ttl"],
            tuple(values["values"]),
            values["set_identifier"],
            values["weight"],
            alias,
        )
        problem = record_problem(record, zone)
        if problem is not None:
            key, wanted = problem
            r.fail(r.key(key), r.data.get(key), wanted)
        records.append(record)
    values = z.read([k for k in keys["world.zones"] if k.name != "records"], more=("records",))
    return ZoneSpec(values["name"], tuple(records))


def _table(t: Table, keys: dict[str, Any]) -> TableSpec:
    values = t.read(keys["world.tables"])
    spec = TableSpec(values["name"], values["key"], values["sort_key"], tuple(values["items"]))
    for j, item in enumerate(spec.items):
        if not isinstance(item, dict) or spec.key not in item:
            t.fail(t.key(f"items[{j}]"), item, f"a table with the key {spec.key!r}")
    return spec


def _actor(a: Table, keys: dict[str, Any]) -> ActorSpec:
    values = a.read(keys["actors"])
    problem = check_actor_name(values["name"])
    if problem is not None:
        a.fail(a.key("name"), values["name"], problem)
    if values["command"] is not None:
        return _process_actor(a, values)
    for key in _PROCESS_KEYS:
        if key in a.data:
            a.fail(a.key(key), a.data[key], "allowed without command", "give command, or drop it")
    if values["function"] is None:
        a.fail(a.key("function"), None, "given", "an actor has a function or a command")
    _moved(a, "function", values["function"])
    if not is_ref(values["function"]):
        a.fail(a.key("function"), values["function"], "module:function")
    return ActorSpec(values["name"], values["function"], args=tuple(sorted(values["args"].items())))


# Keys that only mean something for a process actor.
_PROCESS_KEYS: Final = ("env", "cwd", "timeout", "exit_codes")


def _process_actor(a: Table, values: dict[str, Any]) -> ActorSpec:
    """A separate process as an actor (``command``), run behind the gate."""
    from dnschaos.world import external

    name = values["name"]
    for key in ("function", "args"):
        if key in a.data:
            a.fail(a.key(key), a.data[key], f"allowed beside command (actor {name})", "give one")
    folder = Path(a.source).resolve().parent
    cwd = str(folder / values["cwd"]) if values["cwd"] is not None else str(folder)

    def fail(key: str, value: Any, wanted: str, choices: str = "") -> None:
        a.fail(a.key(key), value, wanted, choices)

    return external.process_spec(
        name,
        values["command"],
        env=values["env"],
        cwd=cwd,
        timeout=values["timeout"],
        exit_codes=values["exit_codes"],
        fail=fail,
        shown_cwd=values["cwd"],
    )


__all__ = ["load_world"]
