"""What the command line shows while it works: lines as they are printed when piped, a live
status line on a terminal, grouped --help with the choices, shell completion."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
from typing import Any

import pytest
from rich.console import Console

from dnschaos import console
from dnschaos.cli import main
from dnschaos.workloads.incident2025.downstream.model import MITIGATIONS


def test_piped_output_arrives_line_by_line_while_the_runs_go_on() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dnschaos.cli",
            "run",
            "incident-2025",
            "--variant",
            "safe",
            "--runs",
            "20",
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": ""},
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 300)
        assert ready, "no line within 300 s"
        first = proc.stdout.readline().decode()
        assert first == "seed 1: pass\n"
        # Twenty runs take far longer than one: the line came while the process works on.
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(timeout=60)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Make the command line believe stdout is a terminal; return what rich draws there."""
    screen = _Tty()
    monkeypatch.setattr(
        console,
        "terminal",
        lambda: Console(file=screen, force_terminal=True, force_interactive=True, width=200),
    )
    return screen


def test_a_terminal_gets_a_live_status_line_for_many_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    screen = _terminal(monkeypatch)
    args = ["run", "incident-2025", "--variant", "safe", "--runs", "2", "--seed", "1"]
    assert main(args) == 0
    drawn = screen.getvalue()
    assert "incident-2025 · runs 0/2 · 0.00 runs/s · failures 0 · seed 1" in drawn
    assert "incident-2025 · runs 1/2 · " in drawn and "failures 0 · seed 2" in drawn
    assert "\x1b[2K" in drawn  # redrawn in place
    # Lines printed meanwhile appear above the status line; the verdict comes after it.
    assert "seed 1: pass" in drawn + capsys.readouterr().out


def test_without_a_terminal_the_plain_lines_stay(capsys: pytest.CaptureFixture[str]) -> None:
    assert console.terminal() is None  # pytest captures stdout: not a terminal
    args = ["run", "incident-2025", "--variant", "safe", "--runs", "2", "--seed", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("seed 1: pass\nseed 2: pass\n")
    assert "\x1b" not in out and "runs/s" not in out


def test_one_run_and_quiet_runs_draw_no_status_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    screen = _terminal(monkeypatch)
    assert main(["run", "incident-2025", "--variant", "safe", "--seed", "1"]) == 0
    assert main(["run", "incident-2025", "--variant", "safe", "--runs", "2", "-q"]) == 0
    assert screen.getvalue() == ""
    capsys.readouterr()


def test_the_status_line_reads_its_own_counters() -> None:
    now = [100.0]
    status = console.Status("fuzz x", console=None, total=None, clock=lambda: now[0])
    with status:
        now[0] = 104.0
        status.ran(case="seed 2")
        status.ran(failed=True, case="seed 3")
    assert status.text() == "fuzz x · runs 2 · 0.50 runs/s · failures 1 · seed 3 · 4s"
    status.counters = "runs 9 · 1.00 runs/s · failures 0 (0 groups) · 9s"
    assert status.text() == "fuzz x · runs 9 · 1.00 runs/s · failures 0 (0 groups) · 9s · seed 3"


def test_the_terminal_honours_no_color_and_dumb_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _Tty())
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    found: Any = console.terminal()
    assert found is not None and found.no_color
    monkeypatch.setenv("TERM", "dumb")
    assert console.terminal() is None


def test_help_groups_the_flags_and_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["run", "--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    for group in ("what to run:", "scheduling:", "DNS:", "faults and mitigations:", "output:"):
        assert f"\n{group}\n" in out
    for choices in (
        "--strategy {random,pct,delay,dfs}",
        "--clock {sim,real}",
        "--target {moto,moto-server,aws}",
        "--dns {embedded,bind9,knot}",
        "--resolver {none,unbound}",
        ", ".join(MITIGATIONS),  # the workload's own list, so the help cannot drift from it
    ):
        # argparse wraps help text, also after a hyphen
        assert choices in " ".join(out.split()).replace("- ", "-")
    # The library still checks the values, with its own messages and hints.
    assert main(["run", "incident-2025", "--strategy", "replay"]) == 2
    assert "to replay, use 'dnschaos replay FILE'" in capsys.readouterr().err


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "dnschaos" in script and "--compare-mitigations" in script
    assert "random" in script and "moto-server" in script  # the choices are completed
    if shell == "bash":
        check = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr
