"""examples/certbot_race.py: two unmodified certbot-dns-route53 authenticators racing."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest

import dnschaos
from dnschaos.story import tell

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
RUNS = 3  # seeds 1..3 hold a violation (seed 1 is the first)


def test_two_certbot_authenticators_remove_each_others_challenge(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    pytest.importorskip("certbot_dns_route53")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runs = (dnschaos.run("certbot_race:certbot_race", seed=s) for s in range(1, RUNS + 1))
    failing = next(r for r in runs if r.verdict == "fail")
    story = tell(list(failing.history), failing.headline)
    for actor in ("apex", "wildcard"):
        assert any(f"{actor} UPSERT _acme-challenge.example.com TXT" in line for line in story)
    told = re.search(r"(\w+)'s challenge .* \(removed by (\w+)'s (UPSERT|DELETE)", story[-1])
    assert told is not None and told[1] != told[2], story
    assert dnschaos.replay(failing).matches
    cli = [sys.executable, "-m", "dnschaos.cli", "run", "certbot_race:certbot_race"]
    for i in (1, 2):  # the same seed in two other processes: the same trace
        out = tmp_path / f"run{i}.json"
        cmd = [*cli, "--seed", str(failing.seed), "--json", str(out)]
        done = subprocess.run(cmd, cwd=EXAMPLES, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stdout + done.stderr
        assert json.loads(out.read_text())["trace_digest"] == failing.trace_digest
