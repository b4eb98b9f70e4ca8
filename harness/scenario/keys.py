"""The core's scenario keys, as data: every table a scenario file may hold whatever its
workloads, with each key's type, default, range or choices and meaning.

What the loader reads and checks, and what the JSON Schema publishes. Workloads add
tables and keys of their own (:attr:`dnschaos.workload.Workload.keys`); ``[[faults]]``
and ``[[fuzz.faults]]`` take the keys of the fault kinds (:mod:`dnschaos.faults.registry`).
Arrays of tables are named with a dot: ``world.zones`` is ``[[world.zones]]``.
"""

from __future__ import annotations

import functools
from typing import Final

from dnschaos.keys import Key as K

# Route 53 record types a described zone's records may have.
RECORD_TYPES: Final = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR", "SPF")
WHEN: Final = ("step", "end")
PROBE_TYPES: Final = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR")

#: Top-level keys that are arrays of tables or a plain value rather than a table.
TOP_LEVEL: Final = ("setup", "actors", "invariants", "faults")


@functools.cache
def core_keys() -> dict[str, tuple[K, ...]]:
    """The core's tables and their keys."""
    from dnschaos.dns.stack import RESOLVERS, SERVERS, DnsConfig
    from dnschaos.scenario.spec import CallLatency, scenario_default
    from dnschaos.world import external

    dns = DnsConfig()
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
            K("stop_at_first_violation", bool, True, "end the run at its first violation"),
            K("seed", int, None, "the seed the scenario is meant to run with (default 7)"),
            K(
                "workloads",
                list,
                [],
                "workloads to load by module:OBJECT besides the installed ones",
                items=str,
            ),
        ),
        "world": (
            K(
                "propagation_delay",
                float,
                0.0,
                "seconds before a Route 53 change is INSYNC and visible to DNS",
                minimum=0.0,
            ),
            K("setup", str, None, "module:function called with clients before the actors run"),
            K("zones", list, [], "hosted zones ([[world.zones]])", items=dict),
            K("tables", list, [], "DynamoDB tables ([[world.tables]])", items=dict),
        ),
        "world.zones": (
            K("name", str, None, "the zone's name", required=True),
            K("records", list, [], "its first record sets", items=dict),
        ),
        "world.zones.records": (
            K("name", str, None, "the record set's name", required=True),
            K("type", str, None, "its type", required=True, choices=RECORD_TYPES),
            K("ttl", int, 300, "seconds", minimum=0, maximum=2147483647),
            K("values", list, [], "its values (or an alias)", items=str),
            K("set_identifier", str, None, "a weighted set's identifier"),
            K("weight", int, None, "a weighted set's weight", minimum=0, maximum=255),
            K("alias", dict, None, "an alias target: name, zone, evaluate_target_health"),
        ),
        "world.tables": (
            K("name", str, None, "the table's name", required=True),
            K("key", str, "pk", "its hash key (a string attribute)"),
            K("sort_key", str, None, "its range key (a string attribute)"),
            K("items", list, [], "its first items", items=dict),
        ),
        "actors": (
            K("name", str, None, "the actor's name", required=True),
            K("function", str, None, "module:function: fn(ctx) or fn() (or give command)"),
            K("args", dict, {}, "with args, function is a factory called with them"),
            K(
                "command",
                list,
                None,
                "a separate process instead of a function: the program and its arguments "
                '("{python}" is the Python that runs dnschaos); its AWS endpoint is the gate',
                items=str,
            ),
            K("env", dict, {}, "with command: variables added to its environment (no AWS_*)"),
            K("cwd", str, None, "with command: its working folder (default: the file's folder)"),
            K(
                "timeout",
                float,
                external.DEFAULT_TIMEOUT,
                "with command: wall seconds it may take to send a request or exit; then killed",
                minimum=0.1,
            ),
            K(
                "exit_codes",
                list,
                [0],
                "with command: exit statuses that are not an actor error",
                items=int,
            ),
        ),
        "invariants": (
            K(
                "function",
                str,
                None,
                "module:function, or the name of an invariant of this scenario",
                required=True,
            ),
            K("name", str, "", "the name it is reported under"),
            K(
                "when",
                str,
                None,
                "after every step, or once at the end (default: what the function "
                "declares, else step)",
                choices=WHEN,
            ),
            K("args", dict, {}, "with args, function is a factory called with them"),
            K("enabled", bool, True, "false switches a default invariant off"),
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
            K("probes", list, [], "names the probes ask for ([[dns.probes]])", items=dict),
        ),
        "dns.probes": (
            K("name", str, None, "a DNS name in a zone of the world", required=True),
            K("types", list, ["A"], "the record types asked for", choices=PROBE_TYPES, items=str),
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
    }


__all__ = ["PROBE_TYPES", "RECORD_TYPES", "TOP_LEVEL", "WHEN", "core_keys"]
