"""Scenario files: TOML in, a validated :class:`dnschaos.scenario.spec.Scenario` out; and a
:class:`~dnschaos.scenario.spec.RunSpec` resolved and built into the scenario a run assembles.

Every key is checked: a misspelled key, a value of the wrong type or an unknown
fault kind is refused with an error that names the file, the key (as a path,
``faults[0].match.actr``), the bad value and what is allowed. Nothing runs on a
scenario that does not validate.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import math
import re
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

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
from dnschaos.faults.space import nested
from dnschaos.scenario.spec import (
    DEFAULT_SEED,
    SCENARIO_ENACTOR,
    SCRIPTED,
    CallLatency,
    RunSpec,
    Scenario,
    default_limits,
    is_scenario_file,
    is_simulation_ref,
    scenario_default,
)
from dnschaos.sim.scheduler import Limits
from dnschaos.workloads.incident2025.plan import Endpoint

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
        if kind is float and not math.isfinite(value):
            self.fail(self.key(name), value, "a finite number")
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


# ----------------------------------------------------------------- the tables' keys

K = registry.Key


@functools.cache
def table_keys() -> dict[str, tuple[registry.Key, ...]]:
    """Every table of a scenario file (a dotted name for arrays of tables inside one) and
    the keys it takes, with type, default, range or choices: what the loader reads and
    checks, and what :func:`json_schema` publishes. ``faults`` and ``fuzz.faults`` take
    the keys of faults.registry."""
    from dnschaos.dns.stack import RESOLVERS, SERVERS, DnsConfig
    from dnschaos.workloads.incident2025.downstream.dwfm import DwfmConfig
    from dnschaos.workloads.incident2025.downstream.model import MITIGATIONS, CascadeConfig
    from dnschaos.workloads.incident2025.operator import OperatorConfig

    en, dns, op, cas, dwfm = (
        SCENARIO_ENACTOR,
        DnsConfig(),
        OperatorConfig(),
        CascadeConfig(),
        DwfmConfig(),
    )
    return {
        "scenario": (
            K("name", str, None, "the scenario's name", required=True),
            K("description", str, "", "one line on what it shows"),
            K(
                "duration",
                float,
                scenario_default("duration"),
                "virtual seconds the actors keep working",
                minimum=1.0,
            ),
            K(
                "progress_bound",
                float,
                scenario_default("progress_bound"),
                "seconds within which every plan must be active or superseded",
                minimum=0.0,
            ),
            K("stop_at_first_violation", bool, True, "end the run at its first violation"),
            K("seed", int, None, "the seed the scenario is meant to run with (default 7)"),
        ),
        "world": (
            K(
                "fleet_size",
                int,
                3,
                "load balancers in the fleet; each plan record holds one weighted record per load balancer, and Route 53 allows at most 100 weighted record sets per name and type",
                minimum=1,
                maximum=100,
            ),
            K(
                "planner_interval",
                float,
                scenario_default("planner_interval"),
                "seconds between two plans",
                minimum=0.001,
            ),
            K(
                "propagation_delay",
                float,
                0.0,
                "seconds before a Route 53 change is visible",
                minimum=0.0,
            ),
            K(
                "max_plans",
                int,
                None,
                "the planner stops after writing this many plans (default: it never stops)",
                minimum=1,
            ),
            K(
                "endpoints",
                list,
                None,
                "the endpoints ([[world.endpoints]])",
                required=True,
                items=dict,
            ),
        ),
        "world.endpoints": (
            K("name", str, None, "the endpoint's DNS name", required=True),
            K("plan_key", str, "regional", "which part of the plan it serves"),
            K("record_types", list, ["A"], "its record types", choices=RECORD_TYPES, items=str),
        ),
        "enactors": (
            K(
                "names",
                list,
                list(scenario_default("enactors")),
                "the enactors' actor names",
                items=str,
            ),
            K("lock_ttl", float, en.lock_ttl, "seconds a lock is held at most", minimum=1.0),
            K("lock_attempts", int, en.lock_attempts, "tries to take the lock", minimum=1),
            K("backoff_base", float, en.backoff_base, "seconds of the first backoff", minimum=0.0),
            K("backoff_max", float, en.backoff_max, "seconds of backoff at most", minimum=0.0),
            K("cleanup_window", int, en.cleanup_window, "plan generations kept", minimum=1),
            K(
                "poll_interval",
                float,
                en.poll_interval,
                "seconds between two looks for a plan",
                minimum=0.001,
            ),
            K(
                "leaf_ttl",
                int,
                en.leaf_ttl,
                "TTL of the records written, seconds",
                minimum=0,
                maximum=2147483647,
            ),
        ),
        "latency": (
            K("low", float, CallLatency.low, "seconds an AWS call takes at least", minimum=0.0),
            K("high", float, CallLatency.high, "seconds an AWS call takes at most", minimum=0.0),
        ),
        "limits": (
            K("max_steps", int, None, "scheduler steps at most (default 200000)", minimum=1),
            K(
                "max_virtual_seconds",
                float,
                None,
                "virtual seconds at most (default duration + 3600)",
                minimum=1.0,
            ),
            K("max_wall_seconds", float, None, "wall seconds at most (default 300)", minimum=0.1),
            K(
                "quantum",
                float,
                None,
                "actors due within this many seconds are ordered by the strategy (default 1)",
                minimum=0.0,
            ),
        ),
        "dns": (
            K("server", str, dns.server, "the authoritative DNS server", choices=SERVERS),
            K(
                "resolver",
                str,
                dns.resolver,
                "a caching resolver in front of it",
                choices=RESOLVERS,
            ),
            K(
                "probe_interval",
                float,
                dns.probe_interval,
                "seconds between two rounds of queries",
                minimum=0.01,
            ),
            K(
                "probe_timeout",
                float,
                dns.probe_timeout,
                "seconds a probe waits for an answer",
                minimum=0.01,
            ),
            K("negative_ttl", int, dns.negative_ttl, "seconds NODATA is cached", minimum=0),
            K(
                "serve_expired",
                bool,
                dns.serve_expired,
                "unbound: answer from expired cache entries",
            ),
            K(
                "push_interval",
                float,
                dns.push_interval,
                "seconds between the propagator's looks",
                minimum=0.01,
            ),
        ),
        "operator": (
            K(
                "repair_after",
                float,
                op.repair_after,
                "seconds from empty answers to the fix",
                minimum=0.0,
            ),
            K(
                "stop_when_recovered",
                bool,
                op.stop_when_recovered,
                "end the run once every probe has addresses again",
            ),
            K(
                "disable_automation_after",
                float,
                None,
                "seconds from noticing to switching the automation off",
                minimum=0.0,
            ),
        ),
        "aws": (
            K(
                "accounts",
                list,
                [],
                "--target aws: the only AWS account ids a run may touch (12 digits each)",
                items=str,
            ),
        ),
        "fuzz": (
            K("max_faults", int, 3, "faults drawn per case at most", minimum=1),
            K(
                "faults",
                list,
                None,
                "fault templates ([[fuzz.faults]]): a fault's keys, each a value, a list to choose from or a {min, max} range",
                required=True,
                items=dict,
            ),
        ),
        "cascade": (
            K("droplets", int, cas.droplets, "EC2 droplets", minimum=1),
            K("dwfm_hosts", int, cas.dwfm_hosts, "DWFM hosts", minimum=1),
            K(
                "lease_timeout",
                float,
                dwfm.lease_timeout,
                "seconds a lease lasts without a check",
                minimum=1.0,
            ),
            K(
                "check_interval",
                float,
                dwfm.check_interval,
                "seconds between two lease checks",
                minimum=1.0,
            ),
            K("renew_work", float, dwfm.renew_work, "host seconds per check", minimum=0.0),
            K(
                "reestablish_work",
                float,
                dwfm.reestablish_work,
                "host seconds per lease re-established",
                minimum=0.0,
            ),
            K("admit", int, dwfm.admit, "re-establishments allowed to wait at once", minimum=0),
            K(
                "resolver_negative_ttl",
                float,
                cas.resolver_negative_ttl,
                "seconds DWFM's resolvers keep NODATA",
                minimum=0.0,
            ),
            K("slots_per_droplet", int, cas.slots_per_droplet, "instances per droplet", minimum=1),
            K(
                "launches_per_minute",
                float,
                cas.launch_rate * 60,
                "instances asked for per minute",
                minimum=0.0,
            ),
            K(
                "launch_limit_per_minute",
                float,
                cas.launch_limit * 60,
                "launches per minute at most",
                minimum=0.0,
            ),
            K(
                "propagations_per_minute",
                float,
                cas.propagation_rate * 60,
                "network states propagated per minute",
                minimum=0.0,
            ),
            K(
                "propagation_alarm",
                int,
                cas.propagation_alarm,
                "queue length that counts as backlogged",
                minimum=0,
            ),
            K(
                "propagation_knee",
                int,
                cas.propagation_knee,
                "queue length at which propagation slows (0: never)",
                minimum=0,
            ),
            K(
                "propagation_max_slowdown",
                float,
                cas.propagation_max_slowdown,
                "slow-down at most",
                minimum=1.0,
            ),
            K(
                "nlb_share",
                float,
                cas.nlb_share,
                "share of new instances behind an NLB",
                minimum=0.0,
                maximum=1.0,
            ),
            K(
                "health_capacity",
                int,
                cas.health_capacity,
                "flapping targets health checks absorb",
                minimum=0,
            ),
            K(
                "failover_threshold",
                float,
                cas.failover_threshold,
                "share of failing targets that fails an AZ over",
                minimum=0.0,
                maximum=1.0,
            ),
            K(
                "dwfm_fix_after_repair",
                float,
                cas.dwfm_fix_after_repair,
                "seconds from the DNS repair to the DWFM fix",
                minimum=0.0,
            ),
            K(
                "failover_off_after_failures",
                float,
                cas.failover_off_after_failures,
                "seconds from failures to failover disabled",
                minimum=0.0,
            ),
            K("tick", float, cas.tick, "seconds between two steps of the model", minimum=1.0),
            K(
                "race_by",
                float,
                cas.race_by or 0.0,
                "end the run if no empty answer came this many seconds in (0: never)",
                minimum=0.0,
            ),
            K("mitigations", list, [], "mitigations switched on", choices=MITIGATIONS, items=str),
        ),
    }


# ----------------------------------------------------------------- matches that can hit

# The services a fault's match may name (boto3's client names, botocore's ids) and the
# botocore model each one's operations come from.
_MODELS: Final = {
    "route53": "route53",
    "route-53": "route53",
    "dynamodb": "dynamodb",
    "ec2": "ec2",
    "elbv2": "elbv2",
    "elastic-load-balancing-v2": "elbv2",
}


@functools.cache
def _operations(model: str) -> frozenset[str]:
    import botocore.loaders

    loaded = botocore.loaders.create_loader().load_service_model(model, "service-2")
    return frozenset(loaded["operations"])


def _atoms(matcher: Matcher) -> list[Matcher]:
    from dnschaos.faults.matchers import All, Any_, Not

    if isinstance(matcher, (All, Any_)):
        return [a for p in matcher.parts for a in _atoms(p)]
    if isinstance(matcher, Not):
        return _atoms(matcher.inner)
    return [matcher]


def check_matches(scenario: Scenario, faults: Sequence[Fault], source: str) -> None:
    """Refuse a fault whose ``match`` can never hit: a service the run does not call, an
    operation its service does not have, an actor the scenario does not have."""
    from dnschaos.assemble import actor_names
    from dnschaos.faults.kinds import DnsServfail, DnsTimeout

    services = ["route53", "dynamodb"]
    if scenario.cascade is not None:
        services += ["ec2", "elbv2"]
    if scenario.dns is not None:
        services.append("dns")
    actors = actor_names(replace(scenario, faults=scenario.faults or tuple(faults)))
    for fault in faults:
        target = getattr(fault, "actor", None)  # a crash's or a clock skew's own actor
        if isinstance(target, str) and target not in actors:
            raise ScenarioError(
                f"{source}: fault {fault.name}: actor {target!r} is not an actor of this run; "
                f"choose one of {', '.join(actors)}"
            )
        where = f"{source}: fault {fault.name}: match"
        atoms = _atoms(fault.matcher)
        named = []
        for atom in atoms:
            if isinstance(atom, Service):
                service = atom.name.lower()
                allowed = {*services, *(k for k, v in _MODELS.items() if v in services)}
                if service not in allowed:
                    raise ScenarioError(
                        f"{where}.service: {atom.name!r} is not a service this run calls, so "
                        f"the fault would never apply; choose one of {', '.join(services)}"
                    )
                named.append(service)
        dns_only = isinstance(fault, (DnsTimeout, DnsServfail))
        for atom in atoms:
            if isinstance(atom, Operation):
                pool = named or (["dns"] if dns_only else [s for s in services if s != "dns"])
                if any(
                    atom.name in (RECORD_TYPES if s == "dns" else _operations(_MODELS[s]))
                    for s in pool
                ):
                    continue
                hint = (
                    f"a query type ({', '.join(RECORD_TYPES)})"
                    if pool == ["dns"]
                    else f"an operation of {', '.join(pool)} as botocore names it, such as "
                    "ChangeResourceRecordSets or PutItem"
                )
                raise ScenarioError(
                    f"{where}.operation: {atom.name!r} is not an operation of "
                    f"{', '.join(pool)}, so the fault would never apply; give {hint}"
                )
            if isinstance(atom, Actor) and not any(
                fnmatch.fnmatchcase(a, atom.name) for a in actors
            ):
                raise ScenarioError(
                    f"{where}.actor: {atom.name!r} names no actor of this run, so the fault "
                    f"would never apply; choose from {', '.join(actors)} (or a glob such as "
                    "enactor-*)"
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
    """One key (of a fault, or of a scenario's table), read and checked as declared."""
    default = None if key.required else key.default
    if key.choices and key.type is str:
        return table.choice(key.name, key.choices, default)
    value = table.get(key.name, key.type, default, required=key.required)
    if value is None or key.type is bool:
        return value
    if key.type is list:
        for item in value:
            wanted = _TYPES.get(key.items, "a value") if key.items else ""
            if key.items is not None and not isinstance(item, key.items):
                table.fail(table.key(key.name), item, wanted)
            if key.choices and item not in key.choices:
                table.fail(
                    table.key(key.name),
                    item,
                    _ITEM_NOUNS.get(key.name, "allowed"),
                    f"choose from {', '.join(key.choices)}",
                )
        return value
    what = "an integer" if key.type is int else "a number"
    if key.minimum is not None and value < key.minimum:
        table.fail(table.key(key.name), value, f"{what} >= {key.minimum:g}{_why(key)}")
    if key.maximum is not None and value > key.maximum:
        table.fail(table.key(key.name), value, f"{what} <= {key.maximum:g}{_why(key)}")
    return value


_ITEM_NOUNS: Final = {"record_types": "a record type", "mitigations": "a mitigation"}


def _why(key: registry.Key) -> str:
    """The reason for a limit, when the key's description gives one (after "; ")."""
    _, sep, reason = key.description.partition("; ")
    return f" ({reason})" if sep else ""


def _read(table: _Table, keys: Sequence[registry.Key]) -> dict[str, Any]:
    """Every declared key of a table, checked; an undeclared one is refused."""
    values = {k.name: _key(table, k) for k in keys}
    table.done(tuple(k.name for k in keys))
    return values


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
    if "actors" in raw:  # the user's own actors and world (dnschaos.world)
        from dnschaos.scenario.world import load_byo

        return load_byo(raw, source, table=_Table, fault=_fault, fuzz=_fuzz, error=ScenarioError)
    top = _Table(source, "", raw)
    keys = table_keys()
    meta = _read(_need(top, "scenario"), keys["scenario"])
    duration = meta["duration"]

    world_table = _need(top, "world")
    world = _read(world_table, keys["world"])
    endpoints = _endpoints(world_table, world["endpoints"], keys["world.endpoints"])

    en_table = top.sub("enactors") or _Table(source, "enactors", {})
    en = _read(en_table, keys["enactors"])
    names = en["names"]
    if not names or not all(isinstance(n, str) and n for n in names):
        en_table.fail(en_table.key("names"), names, "a list of distinct, non-empty actor names")
    _distinct(en_table, "names", names, "enactor name")
    config = replace(SCENARIO_ENACTOR, **{k: v for k, v in en.items() if k != "names"})

    lat_table = top.sub("latency") or _Table(source, "latency", {})
    latency = CallLatency(**_read(lat_table, keys["latency"]))
    if latency.high < latency.low:
        lat_table.fail(lat_table.key("high"), latency.high, f">= low ({latency.low:g})")

    lim = _read(top.sub("limits") or _Table(source, "limits", {}), keys["limits"])
    base = default_limits(duration)
    limits = Limits(**{k: getattr(base, k) if v is None else v for k, v in lim.items()})

    faults = []
    for i, item in enumerate(top.get("faults", list, [])):
        faults.append(_fault(_Table(source, f"faults[{i}]", item), i))
    _distinct(top, "faults", [f.name for f in faults], "fault name")
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
    aws = _read(top.sub("aws") or _Table(source, "aws", {}), keys["aws"])
    if cascade is not None and dns is None:
        raise ScenarioError(
            f"{source}: cascade: needs a [dns] section (DWFM resolves DynamoDB's name)"
        )
    top.done(("faults", *(name for name in keys if "." not in name and name != "faults")))
    scenario = Scenario(
        aws_accounts=tuple(aws["accounts"]),
        seed=meta["seed"],
        cascade=cascade,
        fuzz_faults=fuzz_templates,
        fuzz_max_faults=max_faults,
        dns=dns,
        operator=operator,
        stop_at_first_violation=meta["stop_at_first_violation"],
        name=meta["name"],
        description=meta["description"],
        endpoints=tuple(endpoints),
        fleet_size=world["fleet_size"],
        enactors=tuple(names),
        planner_interval=world["planner_interval"],
        enactor=config,
        latency=latency,
        propagation_delay=world["propagation_delay"],
        max_plans=world["max_plans"],
        duration=duration,
        progress_bound=meta["progress_bound"],
        limits=limits,
        faults=tuple(faults),
    )
    check_matches(scenario, scenario.faults, source)
    return scenario


def _need(top: _Table, name: str) -> _Table:
    table = top.sub(name, required=True)
    assert table is not None
    return table


def _distinct(table: _Table, key: str, names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ScenarioError(
                f"{table.source}: {table.key(key)}: {what} {name!r} is given twice; "
                "give each a name of its own"
            )
        seen.add(name)


# A DNS name: labels of letters, digits, hyphens (and underscores, as in _lock names),
# none longer than 63 characters or starting or ending with a hyphen.
_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def _endpoints(world: _Table, raw: list[Any], keys: Sequence[registry.Key]) -> list[Endpoint]:
    if not raw:
        world.fail(world.key("endpoints"), [], "a non-empty list of endpoints")
    endpoints = []
    for i, item in enumerate(raw):
        t = _Table(world.source, world.key(f"endpoints[{i}]"), item)
        values = _read(t, keys)
        name, types = values["name"], values["record_types"]
        labels = name.rstrip(".").split(".")
        if len(name.rstrip(".")) > 253 or len(labels) < 2 or not all(map(_LABEL.match, labels)):
            t.fail(
                t.key("name"),
                name,
                "a DNS name",
                "use labels of letters, digits and hyphens joined by dots, "
                "such as dynamodb.us-east-1.chaos.test",
            )
        if not types:
            t.fail(t.key("record_types"), types, "a non-empty list", "give A, AAAA or both")
        _distinct(t, "record_types", types, "record type")
        endpoints.append(Endpoint(name, values["plan_key"], tuple(types)))
    _distinct(world, "endpoints", [e.name.lower().rstrip(".") for e in endpoints], "endpoint")
    return endpoints


def _dns(table: _Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.dns.stack import DnsConfig

    return DnsConfig(**_read(table, table_keys()["dns"]))


def _fuzz(table: _Table | None) -> tuple[tuple[dict[str, Any], ...], int]:
    """The fault space: templates checked by drawing from each and validating the draw."""
    if table is None:
        return (), 0
    import random

    from dnschaos.faults.space import draw_fault, nested

    values = _read(table, table_keys()["fuzz"])
    templates = values["faults"]
    for i, template in enumerate(templates):
        path = table.key(f"faults[{i}]")
        if not isinstance(template, dict):
            table.fail(path, template, "a table")
        for seed in (0, 1):
            concrete = nested(draw_fault(template, random.Random(seed)))
            concrete.setdefault("name", f"fuzz-{i}")
            _fault(_Table(table.source, path, concrete), i)
    return tuple(dict(t) for t in templates), values["max_faults"]


def _operator(table: _Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.workloads.incident2025.operator import OperatorConfig

    return OperatorConfig(**_read(table, table_keys()["operator"]))


_DWFM_KEYS: Final = ("lease_timeout", "check_interval", "renew_work", "reestablish_work", "admit")
_PER_MINUTE: Final = {
    "launches_per_minute": "launch_rate",
    "launch_limit_per_minute": "launch_limit",
    "propagations_per_minute": "propagation_rate",
}


def _cascade(table: _Table | None) -> Any:
    if table is None:
        return None
    from dnschaos.workloads.incident2025.downstream.dwfm import DwfmConfig
    from dnschaos.workloads.incident2025.downstream.model import CascadeConfig

    values = _read(table, table_keys()["cascade"])
    dwfm = DwfmConfig(**{k: values.pop(k) for k in _DWFM_KEYS})
    for key, field_name in _PER_MINUTE.items():
        values[field_name] = values.pop(key) / 60
    values["race_by"] = values["race_by"] or None
    values["mitigations"] = frozenset(values["mitigations"])
    config = CascadeConfig(dwfm=dwfm, **values)
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
    if is_simulation_ref(ref):
        from dnschaos.scenario.simref import simulation_text

        return simulation_text(ref)
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
    if is_simulation_ref(ref):
        from dnschaos.scenario.simref import simulation_scenario

        return simulation_scenario(ref, overrides)
    if is_scenario_file(ref):
        return replace(load(ref, text, overrides), source=ref)
    return load(f"fixtures/scenarios/{ref}.toml", text, overrides)


def resolve(spec: RunSpec) -> RunSpec:
    """The spec with its seed, planner, scenario path and scenario digest made explicit, and
    every value checked: what a result records. A spec that carries a digest must find the
    scenario's text unchanged."""
    return resolve_built(spec)[0]


def resolve_built(spec: RunSpec) -> tuple[RunSpec, Scenario]:
    """:func:`resolve`, and the scenario the resolved spec builds (read and checked once)."""
    spec.validate()  # refuses the scripted incident, which is no scenario
    text = scenario_text(spec.scenario)
    digest = _digest(text)
    if spec.scenario_digest is not None and spec.scenario_digest != digest:
        raise UsageError(
            f"scenario {spec.scenario}: its text changed since this run was recorded "
            f"(digest {spec.scenario_digest}, now {digest}); restore it as it was, "
            "or run the scenario afresh"
        )
    scenario = _from_text(spec.scenario, text, spec.overrides)
    if scenario.byo is not None:
        _refuse_automation_flags(spec)
    seed = spec.seed
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else DEFAULT_SEED
    is_file = is_scenario_file(spec.scenario) and not is_simulation_ref(spec.scenario)
    ref = str(Path(spec.scenario).resolve()) if is_file else spec.scenario
    if is_file:
        scenario = replace(scenario, source=ref)
    resolved = replace(
        spec,
        scenario=ref,
        seed=seed,
        planner=spec.planner or scenario.planner,
        scenario_digest=digest,
    )
    # Every override checked against the scenario before anything starts.
    return resolved, _applied(resolved, scenario)


def _refuse_automation_flags(spec: RunSpec) -> None:
    """A run of the user's own actors has no built-in planner or enactors: a variant or a
    planner given for it would be recorded and mean nothing."""
    for flag, value, meaningless in (
        ("--variant", spec.variant, ("legacy",)),
        ("--planner", spec.planner, (None, "default")),
    ):
        if value not in meaningless:
            raise UsageError(
                f"{flag} {value}: scenario {spec.scenario} runs your own actors, with no "
                f"built-in planner or enactors for {flag} to choose; drop {flag} (it applies "
                "to scenarios with [enactors])"
            )


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
        taken = {f.name for f in scenario.faults}
        for fault, text in zip(extra, spec.faults, strict=True):
            if fault.name in taken:
                raise UsageError(
                    f"--fault {text!r}: fault name {fault.name!r} is taken (by the scenario or "
                    "another --fault); give it another name=..."
                )
            taken.add(fault.name)
        scenario = replace(scenario, faults=scenario.faults + extra, cli_faults=spec.faults)
        check_matches(scenario, extra, "--fault")
    limits = scenario.limits
    if spec.max_steps is not None:
        limits = replace(limits, max_steps=spec.max_steps)
    if spec.max_virtual_seconds is not None:
        limits = replace(limits, max_virtual_seconds=spec.max_virtual_seconds)
    if spec.max_wall_seconds is not None:
        limits = replace(limits, max_wall_seconds=spec.max_wall_seconds)
    if spec.invariants:
        from dnschaos.assemble import judges_actor_errors
        from dnschaos.checkers import NO_ACTOR_ERROR, invariant_names

        known = scenario.byo.check_names() if scenario.byo else invariant_names(scenario)
        if judges_actor_errors(scenario, spec.variant):
            known = [*known, NO_ACTOR_ERROR]
        unknown = [n for n in spec.invariants if n not in known]
        if unknown:
            raise UsageError(
                f"--invariant {unknown[0]!r}: scenario {scenario.name} has no such invariant; "
                f"choose from {', '.join(known)}"
            )
    if scenario.dns is not None:
        scenario.dns.validate(spec.clock, spec.target)
    return replace(scenario, limits=limits)


# --------------------------------------------------------------------------- JSON Schema

_JSON_TYPES: Final = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
SCHEMA_ID: Final = "https://dnschaos.invalid/scenario.schema.json"


def _property(key: registry.Key) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _JSON_TYPES[key.type], "description": key.description}
    default = key.default
    if isinstance(default, (tuple, frozenset)):
        default = sorted(default) if isinstance(default, frozenset) else list(default)
    if (
        not key.required
        and default is not None
        and not (isinstance(default, float) and not math.isfinite(default))
    ):
        out["default"] = default
    if key.minimum is not None:
        out["minimum"] = key.minimum
    if key.maximum is not None:
        out["maximum"] = key.maximum
    if key.type is list:
        items: dict[str, Any] = {}
        if key.items is not None:
            items["type"] = _JSON_TYPES[key.items]
        if key.choices:
            items["enum"] = list(key.choices)
        out["items"] = items
    elif key.choices:
        out["enum"] = list(key.choices)
    return out


def _object(
    keys: Sequence[registry.Key], description: str, **extra: dict[str, Any]
) -> dict[str, Any]:
    properties = {k.name: _property(k) for k in keys}
    properties.update(extra)
    out: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    required = [k.name for k in keys if k.required]
    if required:
        out["required"] = required
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (TOML read as JSON), made from the declarations the
    loader reads: :func:`table_keys`, the fault kinds of faults.registry and their
    ``match`` keys. The loader checks more than a schema can say (a match that can never
    hit, names given twice, high >= low): a file the schema accepts may still be refused."""
    keys = table_keys()
    fault_ref = {"$ref": "#/$defs/fault"}
    defs: dict[str, Any] = {
        "match": _object(
            registry.MATCH_KEYS,
            "which calls a fault applies to: every key given must match",
            **{"not": {"$ref": "#/$defs/match", "description": "calls that do not match this"}},
        ),
        "endpoint": _object(keys["world.endpoints"], "one endpoint the automation keeps"),
        "fault": {
            "type": "object",
            "description": "one fault: its kind decides the keys it takes",
            "required": ["kind"],
            "properties": {"kind": {"enum": list(FAULT_KINDS)}},
            "allOf": [
                {
                    "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                    "then": {"$ref": f"#/$defs/fault-{kind}"},
                }
                for kind in FAULT_KINDS
            ],
        },
    }
    for kind in FAULT_KINDS:
        cls = registry.kind_class(kind)
        own = registry.own_keys(cls)
        name = registry.Key("name", str, None, "the fault's name (default fault-N)")
        fault = _object(
            (name, *registry.common_keys(), *own),
            (cls.__doc__ or kind).strip().splitlines()[0],
            kind={"const": kind},
            match={"$ref": "#/$defs/match"},
        )
        defs[f"fault-{kind}"] = fault
    tables: dict[str, Any] = {}
    for table, table_keys_ in keys.items():
        if "." in table:
            continue
        extra: dict[str, Any] = {}
        if table == "world":
            extra["endpoints"] = {
                **_property(next(k for k in table_keys_ if k.name == "endpoints")),
                "items": {"$ref": "#/$defs/endpoint"},
                "minItems": 1,
            }
        if table == "fuzz":
            extra["faults"] = {
                **_property(next(k for k in table_keys_ if k.name == "faults")),
                "items": {"type": "object", "required": ["kind"]},
            }
        tables[table] = _object(table_keys_, f"[{table}]", **extra)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "dnschaos scenario",
        "description": "A dnschaos scenario file (TOML). Generated by "
        "'python -m dnschaos.scenario.load --schema' from the loader's own declarations.",
        "type": "object",
        "required": ["scenario", "world"],
        "properties": {
            **tables,
            "faults": {"type": "array", "description": "[[faults]]", "items": fault_ref},
        },
        "additionalProperties": False,
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dnschaos.scenario.load", description="Scenario files: their JSON Schema."
    )
    parser.add_argument(
        "--schema",
        action="store_true",
        required=True,
        help="print the JSON Schema of scenario files (harness/scenario.schema.json)",
    )
    parser.parse_args(argv)
    sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(_main())
