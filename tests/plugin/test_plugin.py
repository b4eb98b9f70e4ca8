"""The pytest plugin as a user meets it: a suite in another directory, run by pytest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).with_name("sample_chaos_suite.py")


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_chaos_suite.py").write_text(SAMPLE.read_text())
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_sample_suite_passes_for_safe(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "--chaos-variant=safe", "--chaos-seed=11")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
    assert "dnschaos: chaos seed 11 (rerun with --chaos-seed=11" in done.stdout


def test_the_sample_suite_fails_for_legacy_with_story_and_reproduction(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "--chaos-variant=legacy", "--chaos-seed=11")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 3 passed" in done.stdout
    out = done.stdout
    assert "dnschaos: what happened" in out and "story:" in out and "reproduce:" in out
    line = re.search(
        r"dnschaos run incident-2025 --variant legacy --seed (\d+) --strategy random", out
    )
    assert line, out
    # The printed command line reproduces the failure on its own.
    rerun = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnschaos.cli",
            "run",
            "incident-2025",
            "--variant",
            "legacy",
            "--seed",
            line.group(1),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert (
        "pytest 'test_chaos_suite.py::test_the_endpoint_survives_the_2025_race' --chaos-seed=11"
        in out
    )


def test_last_seed_is_remembered(tmp_path: Path) -> None:
    first = _pytest(tmp_path, "--chaos-variant=safe", "-k", "seeds_differ")
    seed = re.search(r"dnschaos: chaos seed (\d+)", first.stdout)
    assert seed, first.stdout
    again = _pytest(tmp_path, "--chaos-variant=safe", "-k", "seeds_differ", "--chaos-seed=last")
    assert f"dnschaos: chaos seed {seed.group(1)} " in again.stdout
    bad = _pytest(tmp_path, "--chaos-seed=soon")
    assert bad.returncode != 0 and "--chaos-seed=soon: give an integer or 'last'" in bad.stderr


def test_the_sample_suite_runs_under_xdist(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    done = _pytest(tmp_path, "-n", "2", "--chaos-variant=safe", "--chaos-seed=5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
