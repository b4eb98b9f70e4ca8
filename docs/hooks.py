"""MkDocs hooks: the reference pages are generated from the code they describe.

A page holds a marker such as ``<!-- generated: cli -->``; the hook replaces it with
text made from the parser, the scenario key table, the result schema or the exit codes,
so that the reference cannot drift from the program.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from importlib import resources
from typing import Any

MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")


def _cli() -> str:
    from dnschaos.cli import parser

    os.environ["COLUMNS"] = "96"  # argparse wraps help to the terminal: fix it for the page
    top = parser()
    parts = ["```text\n" + top.format_help() + "```\n"]
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for command, made in sub.choices.items():
        parts.append(f"## dnschaos {command}\n\n```text\n{made.format_help()}```\n")
    return "\n".join(parts)


def _rows(schema: dict[str, Any], prefix: str, defs: dict[str, Any]) -> list[str]:
    rows = []
    for name, prop in sorted(schema.get("properties", {}).items()):
        if "$ref" in prop:
            prop = defs[prop["$ref"].rsplit("/", 1)[1]]
        path = f"{prefix}.{name}" if prefix else name
        kind = prop.get("type", "")
        if kind == "array" and isinstance(prop.get("items"), dict):
            items = prop["items"]
            if "$ref" in items:
                items = defs[items["$ref"].rsplit("/", 1)[1]]
            if items.get("type") == "object" and items.get("properties"):
                rows.append(f"| `[[{path}]]` | array of tables | | {_cell(prop)} |")
                rows += _rows(items, path, defs)
                continue
        if kind == "object" and prop.get("properties"):
            rows.append(f"| `[{path}]` | table | | {_cell(prop)} |")
            rows += _rows(prop, path, defs)
            continue
        default = f"`{json.dumps(prop['default'])}`" if "default" in prop else ""
        kinds = kind if isinstance(kind, str) else " or ".join(kind)
        rows.append(f"| `{path}` | {kinds} | {default} | {_cell(prop)} |")
    return rows


def _cell(prop: dict[str, Any]) -> str:
    text = str(prop.get("description", "")).replace("|", "\\|").replace("\n", " ")
    extra = []
    if "enum" in prop:
        extra.append("one of " + ", ".join(f"`{v}`" for v in prop["enum"]))
    if "minimum" in prop:
        extra.append(f"at least {prop['minimum']:g}")
    if "maximum" in prop:
        extra.append(f"at most {prop['maximum']:g}")
    return "; ".join([text, *extra]) if extra else text


def _scenario_keys() -> str:
    from dnschaos.scenario.schema import json_schema

    schema = json_schema()
    header = "| key | type | default | meaning |\n|---|---|---|---|\n"
    return header + "\n".join(_rows(schema, "", schema.get("$defs", {}))) + "\n"


def _result() -> str:
    schema = json.loads(resources.files("dnschaos").joinpath("result.schema.json").read_text())
    header = "| key | type | meaning |\n|---|---|---|\n"
    rows = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "")
        kinds = kind if isinstance(kind, str) else " or ".join(kind)
        rows.append(f"| `{name}` | {kinds} | {_cell(prop)} |")
    return header + "\n".join(rows) + "\n"


def _exit_codes() -> str:
    from dnschaos.cli import common

    meaning = {
        "EXIT_OK": "every invariant held (explore: the space was exhausted without a violation)",
        "EXIT_VIOLATION": "a violation was found",
        "EXIT_USAGE": "bad input: a flag, a scenario file, a result file, a path (the error "
        "names it and what is allowed)",
        "EXIT_HARNESS": "no verdict: the harness failed, a checker could not judge, a limit "
        "was reached, or a replay diverged (the reason is printed)",
        "EXIT_BROKEN_PIPE": "the reader of standard output went away (`| head`), as for any "
        "program killed by SIGPIPE",
        "EXIT_INTERRUPTED": "interrupted (Ctrl-C)",
    }
    rows = [f"| {getattr(common, name)} | {text} |" for name, text in meaning.items()]
    return "| status | meaning |\n|---|---|\n" + "\n".join(rows) + "\n"


GENERATORS = {
    "cli": _cli,
    "scenario-keys": _scenario_keys,
    "result": _result,
    "exit-codes": _exit_codes,
}


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)
