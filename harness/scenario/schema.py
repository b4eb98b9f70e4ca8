"""The JSON Schema of scenario files (TOML read as JSON), generated from the declarations
the loader reads: the core's keys, every installed workload's keys, the fault kinds and
their ``match`` keys."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any, Final

from dnschaos import workload as workloads
from dnschaos.faults import registry
from dnschaos.keys import Key
from dnschaos.scenario.keys import core_keys
from dnschaos.scenario.load import FAULT_KINDS

_JSON_TYPES: Final = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
# No public home to serve it from yet: a name, not an address (editors take the file by
# path, "#:schema ./scenario.schema.json", or from `dnschaos schema`).
SCHEMA_ID: Final = "urn:dnschaos:scenario-schema"


def _property(key: Key) -> dict[str, Any]:
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


def _object(keys: Sequence[Key], description: str, **extra: dict[str, Any]) -> dict[str, Any]:
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


ARRAYS: Final = ("world.zones", "world.zones.records", "world.tables", "dns.probes")
TOP_ARRAYS: Final = ("actors", "invariants")


def merged_keys() -> tuple[dict[str, list[Key]], set[str], dict[str, str]]:
    """Every table's keys, the core's and every installed workload's, the names of the
    arrays of tables among them, and which workload owns a table of its own."""
    merged: dict[str, list[Key]] = {name: list(keys) for name, keys in core_keys().items()}
    arrays = {*ARRAYS, *TOP_ARRAYS}
    owners: dict[str, str] = {}
    for w in workloads.installed():
        for table, keys in w.keys.items():
            have = {k.name for k in merged.get(table, [])}
            merged.setdefault(table, []).extend(k for k in keys if k.name not in have)
            if table not in core_keys():
                owners.setdefault(table, w.name)
        arrays.update(w.arrays)
    return merged, arrays, owners


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (TOML read as JSON), made from the declarations the
    loader reads: the core's keys (:mod:`dnschaos.scenario.keys`), every installed
    workload's, the fault kinds of faults.registry and their ``match`` keys. The loader
    checks more than a schema can say (a match that can never hit, names given twice,
    high >= low): a file the schema accepts may still be refused."""
    keys, arrays, owners = merged_keys()
    fault_ref = {"$ref": "#/$defs/fault"}
    defs: dict[str, Any] = {
        "match": _object(
            registry.MATCH_KEYS,
            "which calls a fault applies to: every key given must match",
            **{"not": {"$ref": "#/$defs/match", "description": "calls that do not match this"}},
        ),
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
        name = Key("name", str, None, "the fault's name (default fault-N)")
        defs[f"fault-{kind}"] = _object(
            (name, *registry.common_keys(), *own),
            (cls.__doc__ or kind).strip().splitlines()[0],
            kind={"const": kind},
            match={"$ref": "#/$defs/match"},
        )

    def table(path: str) -> dict[str, Any]:
        """The object of one table, its arrays of tables pointing at their own definitions."""
        extra: dict[str, Any] = {}
        for child in sorted(arrays):
            parent, _, leaf = child.rpartition(".")
            if parent == path:
                listed = next((k for k in keys[path] if k.name == leaf), None)
                base = _property(listed) if listed is not None else {"type": "array"}
                extra[leaf] = {**base, "items": {"$ref": f"#/$defs/{child}"}}
                defs[child] = table(child)
        if path == "fuzz":
            extra["faults"] = {
                **_property(next(k for k in keys[path] if k.name == "faults")),
                "items": {"type": "object", "required": ["kind"]},
            }
        owner = f" (the {owners[path]} workload)" if path in owners else ""
        obj = _object(keys[path], f"[{path}]{owner}", **extra)
        if path in ("world",):
            obj.pop("required", None)  # a workload's required keys apply when it is on
        return obj

    properties: dict[str, Any] = {}
    for path in keys:
        if "." in path or path in TOP_ARRAYS:
            continue
        properties[path] = table(path)
    for path in TOP_ARRAYS:
        defs[path] = table(path)
        properties[path] = {
            "type": "array",
            "description": f"[[{path}]]",
            "items": {"$ref": f"#/$defs/{path}"},
        }
    properties["setup"] = {"type": "string", "description": "module:function called first"}
    properties["faults"] = {"type": "array", "description": "[[faults]]", "items": fault_ref}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "dnschaos scenario",
        "description": "A dnschaos scenario file (TOML). Generated by 'dnschaos schema' "
        "from the loader's own declarations.",
        "type": "object",
        "required": ["scenario"],
        "properties": properties,
        "additionalProperties": False,
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dnschaos.scenario.schema", description="Scenario files: their JSON Schema."
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
