"""incident-2025's scenario keys, and the frozen config a scenario's keys make.

A scenario switches the workload on by using any of these keys: ``[[world.endpoints]]``
(required then), ``world.fleet_size``, ``world.planner_interval``, ``world.max_plans``,
``scenario.progress_bound``, ``[enactors]``, ``[operator]``, ``[cascade]`` or
``[script]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from dnschaos.keys import Key as K
from dnschaos.scenario.table import ScenarioError
from dnschaos.workloads.incident2025.downstream.dwfm import DwfmConfig
from dnschaos.workloads.incident2025.downstream.model import MITIGATIONS, CascadeConfig
from dnschaos.workloads.incident2025.enactor import EnactorConfig
from dnschaos.workloads.incident2025.operator import OperatorConfig
from dnschaos.workloads.incident2025.plan import Endpoint

RECORD_TYPES: Final = ("A", "AAAA")

# The enactor of a scenario that does not say otherwise ([enactors] in a file). Its
# numbers differ from EnactorConfig's own (which the scripted incident uses): a
# scenario's enactors take shorter locks and back off less, so races show up in
# minutes of virtual time.
SCENARIO_ENACTOR: Final = EnactorConfig(
    endpoints=(),
    lock_ttl=30.0,
    lock_attempts=40,
    backoff_base=2.0,
    backoff_max=15.0,
    cleanup_window=5,
    poll_interval=5.0,
)
DEFAULT_ENACTORS: Final = ("enactor-a", "enactor-b", "enactor-c")
# Plans' worth of planner intervals a delay may span when the planner has no max_plans.
DELAY_PLANS: Final = 5


@dataclass(frozen=True)
class ScriptConfig:
    """``[script]``: the race of INCIDENT.md section 2 told step by step instead of searched
    for (see :mod:`dnschaos.workloads.incident2025.scripted`)."""

    behind: int = 45  # plans enactor C falls behind
    cleanup_window: int = 10  # plan generations an enactor's clean-up keeps


@dataclass(frozen=True)
class IncidentConfig:
    """The DynamoDB DNS world of a scenario: endpoints, the planner and enactors, and what
    reacts downstream."""

    endpoints: tuple[Endpoint, ...]
    fleet_size: int = 3
    enactors: tuple[str, ...] = DEFAULT_ENACTORS
    planner_interval: float = 15.0
    enactor: EnactorConfig = SCENARIO_ENACTOR
    max_plans: int | None = None  # the planner stops after writing this many plans
    progress_bound: float = 180.0
    operator: OperatorConfig | None = None  # None: nobody repairs by hand
    cascade: CascadeConfig | None = None  # the downstream EC2 and NLB models
    planner: str = "default"  # a registered planner or module:Class
    variant: str = "legacy"  # the enactors' variant or module:Class
    script: ScriptConfig | None = None  # the scripted race instead of free actors

    def enactor_config(self, table: str) -> EnactorConfig:
        return replace(self.enactor, endpoints=self.endpoints, table=table)

    def delay_range(self) -> float:
        """The longest delay worth drawing: the longest of its timeouts, intervals and lock
        expiry, and of the planner's whole run of plans (``max_plans`` intervals, else
        DELAY_PLANS). Longer holds change nothing a shorter one does not: every lock has
        expired, every plan has been written."""
        enactor = self.enactor
        plans = self.max_plans if self.max_plans is not None else DELAY_PLANS
        return max(
            self.planner_interval * plans,
            enactor.lock_ttl,
            enactor.poll_interval,
            enactor.backoff_max,
        )


def keys() -> dict[str, tuple[K, ...]]:
    """Every key of the workload, by table (see :attr:`dnschaos.workload.Workload.keys`)."""
    en, op, cas, dwfm = SCENARIO_ENACTOR, OperatorConfig(), CascadeConfig(), DwfmConfig()
    script = ScriptConfig()
    return {
        "scenario": (
            K(
                "progress_bound",
                float,
                180.0,
                "seconds within which every plan must be active or superseded",
                minimum=0.0,
            ),
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
                15.0,
                "seconds between two plans",
                minimum=0.001,
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
                ["enactor-a", "enactor-b", "enactor-c"],
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
        "script": (
            K("behind", int, script.behind, "plans enactor C falls behind", minimum=2),
            K(
                "cleanup_window",
                int,
                script.cleanup_window,
                "plan generations the clean-up keeps",
                minimum=1,
            ),
        ),
    }


ARRAYS: Final = ("world.endpoints",)

# A DNS name: labels of letters, digits, hyphens (and underscores, as in _lock names),
# none longer than 63 characters or starting or ending with a hyphen.
_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_DWFM_KEYS: Final = ("lease_timeout", "check_interval", "renew_work", "reestablish_work", "admit")
_PER_MINUTE: Final = {
    "launches_per_minute": "launch_rate",
    "launch_limit_per_minute": "launch_limit",
    "propagations_per_minute": "propagation_rate",
}


def configure(values: Mapping[str, Any], source: str) -> IncidentConfig:
    """The config a scenario's keys make (``values[table][key]``, already type-checked)."""
    world, en = values["world"], values.get("enactors") or {}
    endpoints = _endpoints(values["world.endpoints"], source)
    names = tuple(en.get("names", DEFAULT_ENACTORS))
    if not names or not all(isinstance(n, str) and n and "/" not in n for n in names):
        raise ScenarioError(
            f"{source}: enactors.names: {list(names)!r} is not a list of distinct, non-empty "
            "actor names without '/'"
        )
    _distinct(source, "enactors.names", names, "enactor name")
    enactor = replace(SCENARIO_ENACTOR, **{k: v for k, v in en.items() if k != "names"})
    if enactor.backoff_max < enactor.backoff_base:
        raise ScenarioError(
            f"{source}: enactors.backoff_max: {enactor.backoff_max:g} is not >= "
            f"backoff_base ({enactor.backoff_base:g}); the backoff grows from base to max"
        )
    operator = values.get("operator")
    script = values.get("script")
    return IncidentConfig(
        endpoints=endpoints,
        fleet_size=world["fleet_size"],
        enactors=names,
        planner_interval=world["planner_interval"],
        enactor=enactor,
        max_plans=world["max_plans"],
        progress_bound=values["scenario"]["progress_bound"],
        operator=None if operator is None else OperatorConfig(**operator),
        cascade=_cascade(values.get("cascade"), source),
        script=None if script is None else ScriptConfig(**script),
    )


def _endpoints(raw: list[dict[str, Any]], source: str) -> tuple[Endpoint, ...]:
    if not raw:
        raise ScenarioError(f"{source}: world.endpoints: [] is not a non-empty list of endpoints")
    endpoints = []
    for i, values in enumerate(raw):
        where = f"{source}: world.endpoints[{i}]"
        name, types = values["name"], values["record_types"]
        labels = name.rstrip(".").split(".")
        if len(name.rstrip(".")) > 253 or len(labels) < 2 or not all(map(_LABEL.match, labels)):
            raise ScenarioError(
                f"{where}.name: {name!r} is not a DNS name; use labels of letters, digits and "
                "hyphens joined by dots, such as dynamodb.us-east-1.chaos.test"
            )
        if not types:
            raise ScenarioError(
                f"{where}.record_types: [] is not a non-empty list; give A, AAAA or both"
            )
        _distinct(source, f"world.endpoints[{i}].record_types", types, "record type")
        endpoints.append(Endpoint(name, values["plan_key"], tuple(types)))
    _distinct(
        source, "world.endpoints", [e.name.lower().rstrip(".") for e in endpoints], "endpoint"
    )
    return tuple(endpoints)


def _distinct(source: str, key: str, names: Any, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ScenarioError(
                f"{source}: {key}: {what} {name!r} is given twice; give each a name of its own"
            )
        seen.add(name)


def _cascade(values: dict[str, Any] | None, source: str) -> CascadeConfig | None:
    if values is None:
        return None
    values = dict(values)
    dwfm = DwfmConfig(**{k: values.pop(k) for k in _DWFM_KEYS})
    for key, field_name in _PER_MINUTE.items():
        values[field_name] = values.pop(key) / 60
    values["race_by"] = values["race_by"] or None
    values["mitigations"] = frozenset(values["mitigations"])
    config = CascadeConfig(dwfm=dwfm, **values)
    try:
        config.validate()
    except ValueError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return config


__all__ = [
    "ARRAYS",
    "DEFAULT_ENACTORS",
    "MITIGATIONS",
    "SCENARIO_ENACTOR",
    "IncidentConfig",
    "ScriptConfig",
    "configure",
    "keys",
]
