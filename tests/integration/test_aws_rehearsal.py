"""`make aws-rehearsal` as a test: the race found in simulation replayed in order against the
stand-in with the same violation, and a SIGKILLed run cleaned up to exactly the state before."""

from __future__ import annotations

from pathlib import Path

from .aws_rehearsal import rehearse


def test_rehearsal(tmp_path: Path) -> None:
    lines: list[str] = []
    r = rehearse(tmp_path, out=lines.append)
    assert (r.recorded_verdict, r.recorded_invariant) == ("fail", "applied-generation-monotonic")
    assert (r.replayed_verdict, r.replayed_invariant) == (r.recorded_verdict, r.recorded_invariant)
    verdict_row = next(line for line in lines if line.startswith("verdict"))
    assert verdict_row.count("fail (applied-generation-monotonic)") == 2  # side by side
    assert r.probes > 0  # the embedded responder answered probes after INSYNC
    assert r.after_kill != r.before
    assert "deleted hosted zone" in r.cleanup_output and "deleted table" in r.cleanup_output
    assert r.after_cleanup == r.before
    assert r.second_cleanup_output.strip() == "nothing to delete"
