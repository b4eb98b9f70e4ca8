"""An actor's own botocore retry configuration is the one its calls run with, and the
result records it: the code under test is the code the user runs."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from dnschaos.runner import RunResult, run

ACTORS = """
import boto3
from botocore.config import Config


def _put(config=None):
    kwargs = {} if config is None else {"config": config}
    boto3.client("dynamodb", **kwargs).put_item(
        TableName="jobs", Item={"pk": {"S": "job"}, "state": {"S": "done"}}
    )


def harness_default():
    _put()


def one_retry():
    _put(Config(retries={"max_attempts": 1, "mode": "standard"}))


def no_retry():
    _put(Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def ten_attempts():
    _put(Config(retries={"max_attempts": 9, "mode": "standard"}))


def legacy():
    _put(Config(retries={"mode": "legacy"}))


def through_ctx(ctx):
    ctx.client("dynamodb", config=Config(retries={"total_max_attempts": 1})).put_item(
        TableName="jobs", Item={"pk": {"S": "job"}}
    )
"""

SCENARIO = """
[scenario]
name = "retries"
duration = 120

[[world.tables]]
name = "jobs"

[[actors]]
name = "worker"
function = "retry_actors:{function}"

[[faults]]
kind = "error"
code = "InternalFailure"
end = {end}
match = {{ actor = "worker", operation = "PutItem" }}
"""


@pytest.fixture
def scenario(tmp_path: pathlib.Path) -> Iterator[Any]:
    (tmp_path / "retry_actors.py").write_text(ACTORS)

    def write(function: str, end: float = 100.0) -> str:
        path = tmp_path / f"{function}.toml"
        path.write_text(SCENARIO.format(function=function, end=end))
        return str(path)

    yield write
    sys.modules.pop("retry_actors", None)


def _attempts(result: RunResult) -> int:
    return sum(1 for e in result.history if e["kind"] == "fault" and e["action"] == "hit")


@pytest.mark.parametrize(
    ("function", "attempts", "mode"),
    [
        ("no_retry", 1, "standard"),
        ("one_retry", 2, "standard"),  # botocore: max_attempts counts the retries
        ("harness_default", 3, "standard"),
        ("legacy", 5, "legacy"),
        ("through_ctx", 1, "legacy"),  # a count without a mode: botocore's default mode
    ],
)
def test_a_client_retries_as_its_own_configuration_says(
    scenario: Any, function: str, attempts: int, mode: str
) -> None:
    result = run(scenario(function), seed=1)
    assert [v.invariant for v in result.violations] == ["no-actor-error"]
    assert "InternalServerError" in result.violations[0].detail
    assert _attempts(result) == attempts
    recorded = result.to_json()["clients"]
    assert recorded == [
        {
            "actor": "worker",
            "service": "dynamodb",
            "mode": mode,
            "total_max_attempts": attempts,
            "configured": function != "harness_default",
        }
    ]


def test_a_client_with_ten_attempts_outlasts_an_error_three_do_not(scenario: Any) -> None:
    # The error heals after 5 virtual seconds: botocore's backoff over ten attempts
    # outlasts it; three attempts (the harness's default) never do.
    patient = run(scenario("ten_attempts", end=5.0), seed=1)
    assert patient.verdict == "pass", patient.violations
    # Each attempt but the last hit the error; the last succeeded: it took more than three
    # attempts, and at most ten. How many more depends on botocore's backoff, whose base
    # for errors other than throttling was 1 s and is 25 ms for DynamoDB in newer versions.
    assert 3 < _attempts(patient) + 1 <= 10
    hasty = run(scenario("harness_default", end=5.0), seed=1)
    assert [v.invariant for v in hasty.violations] == ["no-actor-error"]
    assert _attempts(hasty) == 3
