"""The ``reproduce`` command a stored result carries makes that very run: a guided fuzz
failure with holds, and a shrunk case whose schedule was reduced, are rebuilt by replaying
their file, not by a ``dnschaos run`` that leaves the holds or the shrinking out."""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import subprocess
import sys

from dnschaos.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _digest_of(command: str, tmp_path: pathlib.Path, name: str) -> str:
    words = shlex.split(command)
    assert words[0] == "dnschaos", command
    script = pathlib.Path(sys.executable).parent / "dnschaos"
    program = [str(script)] if script.exists() else [sys.executable, "-m", "dnschaos.cli"]
    out = tmp_path / f"{name}.json"
    done = subprocess.run(
        [*program, *words[1:], "-q", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    digest: str = json.loads(out.read_text())["trace_digest"]
    return digest


def test_a_guided_failure_and_its_shrunk_case_are_reproduced_by_their_commands(
    tmp_path: pathlib.Path,
) -> None:
    store = tmp_path / "guided"
    args = ["fuzz", "spin-model", "--variant", "legacy", "--guided", "--seed", "1"]
    args += ["--invariant", "active-plan-never-deleted", "--store", str(store)]
    assert main([*args, "--budget", "80", "--stop-after", "1", "--shrink-runs", "8"]) == 1
    failure = json.loads(next(store.glob("failure-*.json")).read_text())
    assert failure["case"].get("holds"), "the failure this test is about has holds"
    assert _digest_of(failure["reproduce"], tmp_path, "failure") == failure["trace_digest"]
    shrunk = json.loads(next(store.glob("shrunk-*.json")).read_text())
    assert _digest_of(shrunk["reproduce"], tmp_path, "shrunk") == shrunk["trace_digest"]
