"""The command line among other programs: ``-`` is standard output for every output path,
a reader that goes away ends it quietly, completion offers scenario names and files, and
fuzz progress says what is left of its budget."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dnschaos.explore.campaign import budget_line

DNSCHAOS = str(Path(sys.executable).parent / "dnschaos")
RUN = [DNSCHAOS, "run", "incident-2025", "--variant", "legacy", "--seed", "7"]


def _run(args: list[str], cwd: Path, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, cwd=cwd, capture_output=True, timeout=300, check=False, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_the_result_json_goes_to_stdout_alone(tmp_path: Path, target: str) -> None:
    done = _run([*RUN, "--json", target], tmp_path)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)  # nothing but the JSON: the story went to stderr
    assert result["verdict"] == "fail" and result["trace_digest"].startswith("0471fe57")
    assert b"story:" in done.stderr
    assert list(tmp_path.iterdir()) == [], "no file named '-'"


def test_the_history_goes_to_stdout_as_json_lines(tmp_path: Path) -> None:
    done = _run([*RUN, "--history", "-"], tmp_path)
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["seq"] == 0 and {"t", "kind"} <= set(lines[0])
    assert lines[-1]["seq"] == len(lines) - 1


def test_two_outputs_on_stdout_are_refused(tmp_path: Path) -> None:
    done = _run([*RUN, "--json", "-", "--history", "-"], tmp_path)
    assert done.returncode == 2
    assert b"only one output can go to standard output" in done.stderr
    assert b"Traceback" not in done.stderr and done.stdout == b""


def test_a_report_page_goes_to_stdout(tmp_path: Path) -> None:
    assert _run([*RUN, "--json", "r.json", "-q"], tmp_path).returncode == 1
    done = _run([DNSCHAOS, "report", "r.json", "-o", "-"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"<!doctype html>") and done.stderr == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


@pytest.mark.parametrize("extra", [[], ["--json", "-"]])
def test_a_closed_pipe_ends_quietly_with_the_sigpipe_status(
    tmp_path: Path, extra: list[str]
) -> None:
    reader = subprocess.Popen(
        [*RUN, *extra],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    if not extra:
        reader.stdout.readline()  # `| head -1`; the JSON is one write: the reader goes first
    reader.stdout.close()
    err = reader.stderr.read()
    assert reader.wait(timeout=300) == 141, err
    assert b"Traceback" not in err and b"BrokenPipeError" not in err


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash completes here")
def test_bash_completion_offers_scenario_names_and_files(tmp_path: Path) -> None:
    script = tmp_path / "dnschaos.bash"
    script.write_bytes(_run([DNSCHAOS, "completion", "bash"], tmp_path).stdout)
    (tmp_path / "mine.toml").write_text("")

    def complete(word: str, command: str = "run") -> list[str]:
        line = f"dnschaos {command} {word}"
        probe = (
            f"source {script}; COMP_WORDS=(dnschaos {command} {word}); COMP_CWORD=2; "
            f'COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; '
            f'_shtab_dnschaos dnschaos "{word}" {command}; printf "%s\\n" "${{COMPREPLY[@]}}"'
        )
        out = _run(["bash", "-c", probe], tmp_path, env={**os.environ})
        return out.stdout.decode().split()

    assert complete("inc") == ["incident-2025", "incident-2025-dns", "incident-2025-scripted"]
    assert complete("mi") == ["mine.toml"]
    assert "steady-state" in complete("st", "fuzz")


def test_progress_says_what_is_left_of_the_budget() -> None:
    assert budget_line(10.0, 5, seconds=None, runs=20) == " · 15 runs left, ETA 30s"
    assert budget_line(0.0, 0, seconds=None, runs=20) == " · 20 runs left"
    assert budget_line(12.4, 3, seconds=60, runs=None) == " · 48s left"
    assert budget_line(70.0, 3, seconds=60, runs=None) == " · 0s left"
    assert budget_line(5.0, 30, seconds=None, runs=20) == " · 0 runs left, ETA 0s"
    assert budget_line(5.0, 3, seconds=None, runs=None) == ""
