"""One import root, seen from outside the checkout: ``dnschaos`` and its public API import,
and the source folders' own names (harness, adapters, faults, fixtures) do not."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PUBLIC = {
    "run",
    "replay",
    "shrink",
    "fuzz",
    "RunSpec",
    "RunResult",
    "load_scenario",
    "Scenario",
    "Clock",
    "Planner",
    "LegacyEnactor",
    "SafeEnactor",
}


def _python(cwd: Path, code: str) -> subprocess.CompletedProcess[str]:
    """This environment's Python (the editable install needs site-packages, so no -I), run
    away from the checkout and with no PYTHONPATH pointing into it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_public_api_imports_from_outside_the_checkout(tmp_path: Path) -> None:
    done = _python(tmp_path, "import dnschaos; print(dnschaos.__all__)")
    assert done.returncode == 0, done.stderr
    exported = set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))
    missing = PUBLIC - exported
    assert not missing, f"missing from dnschaos.__all__: {sorted(missing)}"


def test_every_exported_name_resolves(tmp_path: Path) -> None:
    # A lazy __getattr__ only fails when a name is used: use every one.
    code = (
        "import dnschaos\n"
        "for name in dnschaos.__all__:\n"
        "    getattr(dnschaos, name)\n"
        "    assert name in dir(dnschaos), name\n"
        "print(len(dnschaos.__all__))\n"
    )
    done = _python(tmp_path, code)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("folder", ["harness", "adapters", "faults", "fixtures"])
def test_the_source_folders_are_not_importable_by_their_own_names(
    tmp_path: Path, folder: str
) -> None:
    code = (
        "try:\n"
        f"    import {folder}\n"
        "except ModuleNotFoundError as exc:\n"
        "    print('absent', exc.name)\n"
        "else:\n"
        f"    print('found', {folder}.__file__ or list({folder}.__path__))\n"
    )
    done = _python(tmp_path, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"absent {folder}", done.stdout
