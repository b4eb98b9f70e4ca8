"""The JSON Schema of scenario files: shipped as generated, and every shipped scenario fits."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tomllib
from importlib import resources
from typing import Any

import jsonschema
import pytest

from dnschaos.scenario.schema import json_schema, schema_text

SCENARIOS = sorted((pathlib.Path(__file__).parents[2] / "fixtures" / "scenarios").glob("*.toml"))


def _shipped() -> dict[str, Any]:
    text = resources.files("dnschaos").joinpath("scenario.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_the_shipped_schema_is_the_generated_one() -> None:
    shipped = resources.files("dnschaos").joinpath("scenario.schema.json").read_text("utf-8")
    assert shipped == schema_text(), (
        "harness/scenario.schema.json is stale: regenerate it with "
        "'python -m dnschaos.scenario.schema --schema > harness/scenario.schema.json'"
    )


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_the_module_prints_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dnschaos.scenario.schema", "--schema"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout == schema_text()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path: pathlib.Path) -> None:
    jsonschema.validate(tomllib.loads(path.read_text("utf-8")), _shipped())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("fleet_size = 3", "fleet_size = 101"),
        ("fleet_size = 3", 'fleet_size = "3"'),
        ("planner_interval = 15.0", "planner_intervall = 15.0"),
        ('kind = "latency"', 'kind = "gremlins"'),
        ('distribution = "uniform"', 'distribution = "pareto"'),
        ('match = { actor = "enactor-c", service = "route53" }', 'match = { actr = "c" }'),
        ('record_types = ["A", "AAAA"]', 'record_types = ["MX"]'),
        ("lock_attempts = 40", "lock_attempts = 0"),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(old: str, new: str) -> None:
    text = (SCENARIOS[0].parent / "incident-2025.toml").read_text("utf-8")
    assert old in text
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(tomllib.loads(text.replace(old, new, 1)), _shipped())
