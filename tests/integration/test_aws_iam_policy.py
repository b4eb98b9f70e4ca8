"""The IAM policy in MANUAL.md's "Against a real AWS account" allows exactly the operations the
--target aws code path calls: a run, an ordered replay and a cleanup against the stand-in,
every botocore call recorded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from dnschaos.cli import main

from .aws_standin import StandIn, stand_in

README = Path(__file__).resolve().parents[2] / "MANUAL.md"  # the manual: the README's reference
# Needed by a call rather than being one: CreateTable with Tags also checks TagResource.
IMPLIED = {"dynamodb:TagResource": "dynamodb:CreateTable"}


def policy_actions() -> set[str]:
    text = README.read_text()
    match = re.search(r"<!-- iam-policy -->\s*```json\n(.*?)\n```", text, re.S)
    assert match, "MANUAL.md: no IAM policy block after <!-- iam-policy -->"
    policy = json.loads(match.group(1))
    return {a for st in policy["Statement"] if st["Effect"] == "Allow" for a in st["Action"]}


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    with stand_in(tmp_path_factory.mktemp("standin")) as s:
        yield s


def test_policy_covers_exactly_the_calls_made(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in standin.env().items():
        monkeypatch.setenv(key, value)
    seen: set[str] = set()
    original = BaseClient._make_api_call

    def recorded(self: Any, operation_name: str, api_params: Any) -> Any:
        seen.add(f"{self.meta.service_model.endpoint_prefix}:{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    journals = str(tmp_path / "journals")
    common = ["--endpoint-url", standin.url, "--journal-dir", journals, "--allow-real-aws"]
    out = tmp_path / "aws.json"
    code = main(
        [
            "run",
            "incident-2025",
            "--target",
            "aws",
            "--clock",
            "real",
            "--time-scale",
            "0.02",
            "--json",
            str(out),
            *common,
        ]
    )
    assert code in (0, 1)
    assert main(["cleanup", "--target", "aws", "--all-journals", *common]) == 0
    assert main(["cleanup", "--target", "aws", "--run-id", "gone1", *common]) == 0
    monkeypatch.setattr(BaseClient, "_make_api_call", original)
    allowed = policy_actions()
    implied = {a for a, by in IMPLIED.items() if by in seen}
    assert allowed == seen | implied, (
        f"MANUAL.md's policy allows {sorted(allowed - seen - implied)} that no call needs and "
        f"misses {sorted(seen - allowed)}"
    )
    # The run's own record of its operations agrees.
    assert set(json.loads(out.read_text())["aws"]["operations"]) <= allowed
