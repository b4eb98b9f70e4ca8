"""Time a user's code reads through names it imported (``from time import sleep``), in the
actor's module or in helper modules it imports, is the run's virtual time."""

from __future__ import annotations

import pathlib
import sys
import time
from collections.abc import Iterator

import pytest

from dnschaos.runner import run

TIMING = """
from time import monotonic, perf_counter, time as wall
from datetime import datetime


def stamps():
    return monotonic(), perf_counter(), wall(), datetime.now().year
"""

HELPERS = """
from time import sleep

import user_timing


def pause(seconds, nap=sleep):
    nap(seconds)


def measured(seconds):
    before = user_timing.stamps()
    sleep(seconds)
    after = user_timing.stamps()
    return [round(b - a, 3) for a, b in zip(before[:3], after[:3])], after[3]
"""

ACTOR = """
import boto3

from user_helpers import measured, pause


def worker():
    pause(2)
    elapsed, year = measured(3)
    boto3.client("dynamodb").put_item(
        TableName="seen",
        Item={"pk": {"S": "w"}, "elapsed": {"S": repr(elapsed)}, "year": {"N": str(year)}},
    )
"""

SCENARIO = """
[scenario]
name = "helper-time"
duration = 60

[[world.tables]]
name = "seen"

[[actors]]
name = "worker"
function = "user_actor:worker"
"""


@pytest.fixture
def project(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    for name, text in (
        ("user_timing.py", TIMING),
        ("user_helpers.py", HELPERS),
        ("user_actor.py", ACTOR),
        ("scenario.toml", SCENARIO),
    ):
        (tmp_path / name).write_text(text)
    yield tmp_path
    for name in ("user_timing", "user_helpers", "user_actor"):
        sys.modules.pop(name, None)


def test_names_imported_from_time_in_helper_modules_read_the_virtual_clock(
    project: pathlib.Path,
) -> None:
    result = run(str(project / "scenario.toml"), seed=1)
    assert result.verdict == "pass", result.violations
    final = next(e for e in result.history if e["kind"] == "final")
    (item,) = final["tables"]["seen"]
    # monotonic, perf_counter and time each saw exactly the 3 virtual seconds slept
    assert item["elapsed"] == "[3.0, 3.0, 3.0]"
    assert item["year"] == 2025  # datetime.now() on the virtual calendar
    assert result.virtual_seconds >= 5.0
    # And everything is put back after the run.
    import user_helpers
    import user_timing

    assert user_helpers.sleep is time.sleep
    assert user_helpers.pause.__defaults__ == (time.sleep,)
    assert user_timing.monotonic is time.monotonic
    assert user_timing.datetime.now().year >= 2025
    assert type(user_timing.datetime.now()).__module__ == "datetime"
