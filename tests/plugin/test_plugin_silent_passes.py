"""What would otherwise pass silently: a chaos_sim that is never run, a misspelled chaos
marker, a session whose string hashes are randomized. Run as a black box (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:randomly", *args, timeout=600)


def test_a_chaos_sim_that_is_never_run_fails_its_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    pytester.makepyfile(
        test_sims="""
        def noop():
            pass

        def test_forgot_check(chaos_sim):
            chaos_sim.zone("example.com")
            chaos_sim.actor("idle", noop)

        def test_checked(chaos_sim):
            chaos_sim.zone("example.com")
            chaos_sim.actor("idle", noop)
            chaos_sim.check()

        def test_ran_all(chaos_sim):
            chaos_sim.zone("example.com")
            chaos_sim.actor("idle", noop)
            assert chaos_sim.run_all().passed
        """
    )
    done = _run(pytester, "--chaos-seed=1")
    out = done.stdout.str()
    done.assert_outcomes(failed=1, passed=2)
    assert "FAILED test_sims.py::test_forgot_check" in out, out
    assert "chaos_sim.check() was never called" in out, out


def test_a_misspelled_chaos_marker_stops_the_session_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.choas(scenario="incident-2025", variant="legacy")
        def test_typo(chaos_result):
            pass

        @pytest.mark.Chaos(variant="legacy")
        def test_capital(chaos_result):
            pass

        @pytest.mark.slow
        def test_other():
            pass
        """
    )
    done = _run(pytester)
    err = done.stderr.str()
    assert done.ret == pytest.ExitCode.USAGE_ERROR, done.stdout.str() + err
    assert "test_typo.py::test_typo: @pytest.mark.choas: not a marker dnschaos knows" in err
    assert "did you mean @pytest.mark.chaos?" in err
    assert "test_typo.py::test_capital: @pytest.mark.Chaos" in err
    assert "slow" not in err
    assert "passed" not in done.stdout.str() and "failed" not in done.stdout.str()


def test_a_session_with_random_string_hashes_is_warned_with_the_fix(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_one="""
        def test_seed(chaos_seed):
            pass
        """
    )
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    loud = _run(pytester)
    assert "dnschaos: WARNING: PYTHONHASHSEED is not set" in loud.stdout.str()
    assert "PYTHONHASHSEED=0 pytest" in loud.stdout.str()
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    quiet = _run(pytester)
    assert "PYTHONHASHSEED" not in quiet.stdout.str()
    quiet.assert_outcomes(passed=1)
