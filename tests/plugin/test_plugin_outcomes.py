"""The plugin behaves like the pytest plugins people know: a violation fails the test whether
it was asserted or not, bad markers and options stop the session once with the choices,
``--chaos-seed=last`` and failing seeds are remembered. Run as a black box (pytester)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# incident-2025 with variant legacy fails within seconds for most seeds; safe passes.
SUITE = """
import pytest


@pytest.mark.chaos(scenario="incident-2025", variant="legacy")
def test_unasserted(chaos_result):
    pass


@pytest.mark.chaos(scenario="incident-2025", variant="legacy", expect="violation")
def test_expects_the_violation(chaos_result):
    assert chaos_result.violated and not chaos_result.passed


@pytest.mark.chaos(scenario="incident-2025", variant="safe")
def test_safe_unasserted(chaos_result):
    pass
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:randomly", *args, timeout=600)


def test_a_violation_fails_a_test_that_asserts_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    done = _run(pytester, "--chaos-seed=3")
    out = done.stdout.str()
    assert done.ret == 1, out
    done.assert_outcomes(failed=1, passed=2)
    assert "FAILED test_suite.py::test_unasserted - Failed: dnschaos: seed" in out
    assert re.search(r"^dnschaos: seed \d+: fail: applied-generation-monotonic", out, re.M)
    assert "expect='violation'" in out  # the failure says how to declare an expected one
    assert "dnschaos: what happened" in out and "story:" in out
    # The failing run's result is written, with the command that turns it into a page.
    page = re.search(r"as a page: dnschaos report (\S+\.json) (--history \S+\.jsonl) -o page", out)
    assert page, out
    assert Path(page.group(1)).is_file()
    html = pytester.path / "page.html"
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnschaos.cli",
            "report",
            page.group(1),
            *page.group(2).split(),
            "-o",
            str(html),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    assert "applied-generation-monotonic" in html.read_text()


def test_results_go_to_the_directory_asked_for(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    done = _run(pytester, "--chaos-seed=3", "-k", "unasserted and not safe", "--chaos-results=out")
    assert done.ret == 1
    files = list((pytester.path / "out").glob("test_suite.py-test_unasserted-seed*.json"))
    assert len(files) == 1, done.stdout.str()
    assert f"result: {files[0].resolve()}" in done.stdout.str()


def test_expect_violation_fails_when_every_run_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_expect="""
        import pytest

        @pytest.mark.chaos(scenario="incident-2025", expect="violation")
        def test_expects_the_violation(chaos_result):
            pass
        """
    )
    done = _run(pytester, "--chaos-seed=3", "--chaos-variant=safe")
    assert done.ret == 1
    done.assert_outcomes(failed=1)
    assert "expect='violation', but all 1 run(s) of incident-2025, variant safe, passed" in (
        done.stdout.str()
    )


def test_a_misspelled_marker_keyword_stops_the_session_naming_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.chaos(scenaro="incident-2025")
        def test_typo(chaos_result):
            pass

        @pytest.mark.chaos(scenario="incident-2024", strategy="dfs")
        def test_unknown_values(chaos_result):
            pass
        """
    )
    done = _run(pytester)
    err = done.stderr.str()
    assert done.ret == pytest.ExitCode.USAGE_ERROR, done.stdout.str() + err
    assert (
        "test_typo.py::test_typo: @pytest.mark.chaos: unknown keyword 'scenaro'; allowed: dns, "
        "expect, planner, runs, scenario, seed, strategy, variant" in err
    )
    assert "scenario='incident-2024': unknown; choose one of cascade-2025, incident-2025" in err
    assert "strategy='dfs': unknown; choose one of random, pct" in err
    assert "passed" not in done.stdout.str() and "failed" not in done.stdout.str()


def test_under_xdist_a_bad_marker_errors_its_test_at_set_up(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.chaos(scenaro="incident-2025")
        def test_typo(chaos_result):
            pass

        def test_other():
            pass
        """
    )
    done = _run(pytester, "-n", "2")
    out = done.stdout.str()
    assert done.ret == 1, out + done.stderr.str()
    done.assert_outcomes(errors=1, passed=1)
    assert "@pytest.mark.chaos: unknown keyword 'scenaro'; allowed: dns, expect" in out
    assert "INTERNALERROR" not in out + done.stderr.str()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--chaos-strategy=bogus", "--chaos-strategy=bogus: unknown; choose one of random, pct"),
        ("--chaos-runs=0", "--chaos-runs=0: must be at least 1"),
        (
            "--chaos-variant=nope",
            "--chaos-variant=nope: unknown enactor variant; choose one of legacy, safe, "
            "or module:Class",
        ),
    ],
)
def test_a_bad_option_fails_once_at_start_up(
    pytester: pytest.Pytester, option: str, message: str
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    done = _run(pytester, option)
    err = done.stderr.str()
    assert done.ret == pytest.ExitCode.USAGE_ERROR
    assert err.count(message) == 1, err
    assert "Traceback" not in err + done.stdout.str()
    assert "passed" not in done.stdout.str() and "failed" not in done.stdout.str()


def test_last_reuses_an_explicit_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_seed="""
        def test_seed(chaos_seed):
            print("\\nseed", chaos_seed)
        """
    )
    first = _run(pytester, "--chaos-seed=4242", "-s")
    again = _run(pytester, "--chaos-seed=last", "-s")
    assert "dnschaos: chaos seed 4242 " in again.stdout.str()
    seeds = [re.findall(r"^seed (\d+)", r.stdout.str(), re.M) for r in (first, again)]
    assert seeds[0] and seeds[0] == seeds[1]


def test_a_failing_seed_is_remembered_tried_first_and_forgotten_once_it_passes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_remember="""
        import pytest

        @pytest.mark.chaos(scenario="incident-2025", runs=3)
        def test_race(chaos_result):
            print("\\nseeds", *(r.seed for r in chaos_result.results))
        """
    )
    first = _run(pytester, "--chaos-seed=3", "--chaos-variant=legacy", "-s")
    assert first.ret == 1
    failing = re.search(r"incident-2025 · variant legacy · seed (\d+) ", first.stdout.str())
    assert failing, first.stdout.str()
    seed = failing.group(1)

    # Another session seed: the remembered seed still runs first, and the header says so.
    second = _run(pytester, "--chaos-seed=99", "--chaos-variant=legacy")
    out = second.stdout.str()
    assert second.ret == 1
    assert "dnschaos: 1 test(s) failed in an earlier session; their failing seeds are tried" in out
    assert f"seed {seed} failed in an earlier session and was tried first; it fails again" in out

    # Fixed: the seed passes, is tried first once more, and then forgotten.
    fixed = _run(pytester, "--chaos-seed=99", "--chaos-variant=safe", "-s")
    assert fixed.ret == 0, fixed.stdout.str()
    assert re.search(rf"^seeds {seed} \d+ \d+ \d+", fixed.stdout.str(), re.M)
    after = _run(pytester, "--chaos-seed=99", "--chaos-variant=safe", "-s")
    assert "failed in an earlier session" not in after.stdout.str()
    assert not re.search(rf"^seeds {seed} ", after.stdout.str(), re.M)
