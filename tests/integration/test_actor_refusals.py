"""Actors that could only do nothing, or end the run without a verdict, are refused with
exit 2 and what to do instead: a built-in actor named as one of the user's, a factory
named without its args, a generator or coroutine function, a module that exits or
raises while it is imported."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from dnschaos.errors import UsageError
from dnschaos.runner import run

ROOT = pathlib.Path(__file__).resolve().parents[2]

ACTORS = """
import boto3


def make(config):  # a factory: it wants its args
    def actor(ctx):
        ctx.client("route53").list_hosted_zones()
    return actor


def steps():  # a generator function: calling it runs nothing
    boto3.client("route53").list_hosted_zones()
    yield


async def coroutine():
    boto3.client("route53").list_hosted_zones()


def fine(ctx):
    ctx.client("route53").list_hosted_zones()
"""

SCENARIO = """
[scenario]
name = "refusals"
duration = 30

[[world.zones]]
name = "example.com"

[[actors]]
name = "user"
function = "{function}"
{args}
{extra}
"""


@pytest.fixture
def scenario(tmp_path: pathlib.Path) -> Iterator[Any]:
    (tmp_path / "refused_actors.py").write_text(ACTORS)
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\ndef main(): pass\n")
    (tmp_path / "raises_on_import.py").write_text(
        "def main(): pass\n\nraise RuntimeError('no config file')\n"
    )

    def write(function: str, args: str = "", extra: str = "") -> pathlib.Path:
        path = tmp_path / "scenario.toml"
        path.write_text(SCENARIO.format(function=function, args=args, extra=extra))
        return path

    yield write
    for name in ("refused_actors", "exits_on_import", "raises_on_import"):
        sys.modules.pop(name, None)


def _cli(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = pathlib.Path(sys.executable).parent / "dnschaos"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dnschaos.cli"]
    out = path.parent / "out.json"
    return subprocess.run(
        [*command, "run", str(path), "--seed", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env=env,
        timeout=300,
    )


DNS = '[dns]\nprobes = [{ name = "www.example.com" }]'
FAULT = '[[faults]]\nkind = "latency"\nseconds = 1\nmatch = { actor = "user" }'


@pytest.mark.parametrize(
    ("function", "args", "extra", "says"),
    [
        ("dnschaos.dns.stack:probe", 'args = { view = "authoritative" }', "", "[dns]"),
        ("dnschaos.dns.stack:probe", 'args = { view = "authoritative" }', DNS, "[dns]"),
        ("dnschaos.dns.stack:propagator", "", "", "real DNS server"),
        ("dnschaos.faults.nemesis:nemesis", "", "", "[[faults]]"),
        ("dnschaos.faults.nemesis:nemesis", "", FAULT, "[[faults]]"),
        (
            "dnschaos.workloads.incident2025.actors:enactor",
            'args = { variant = "safe" }',
            "",
            "incident-2025 workload",
        ),
    ],
)
def test_a_built_in_actor_named_as_a_users_is_refused(
    scenario: Any, function: str, args: str, extra: str, says: str
) -> None:
    with pytest.raises(UsageError, match="actor user: ") as caught:
        run(str(scenario(function, args, extra)), seed=1)
    assert function in str(caught.value) and says in str(caught.value)


@pytest.mark.parametrize(
    ("function", "says"),
    [
        ("refused_actors:make", "returned a function instead of acting: it is a factory"),
        ("dnschaos.workloads.incident2025.actors:planner", "incident-2025 workload"),
        ("refused_actors:steps", "a generator function"),
        ("refused_actors:coroutine", "a coroutine function"),
    ],
)
def test_an_actor_that_would_do_nothing_is_refused(scenario: Any, function: str, says: str) -> None:
    path = scenario(function, extra='[[invariants]]\nfunction = "no-actor-error"\nenabled = false')
    with pytest.raises(UsageError, match="actor user: ") as caught:
        run(str(path), seed=1)
    assert says in str(caught.value)


def test_the_refusal_is_exit_2_with_nothing_written(scenario: Any) -> None:
    done = _cli(scenario("refused_actors:make"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "actor user: refused_actors:make returned a function" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (scenario("refused_actors:fine").parent / "out.json").exists()


@pytest.mark.parametrize(
    ("function", "says"),
    [
        ("exits_on_import:main", "importing 'exits_on_import' called sys.exit(0)"),
        ("raises_on_import:main", "importing 'raises_on_import' raised RuntimeError: no config"),
    ],
)
def test_a_module_that_exits_or_raises_on_import_is_exit_2(
    scenario: Any, function: str, says: str
) -> None:
    path = scenario(function)
    done = _cli(path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"actor user: {says}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (path.parent / "out.json").exists()


def test_an_ordinary_actor_still_runs(scenario: Any) -> None:
    assert run(str(scenario("refused_actors:fine")), seed=1).verdict == "pass"
