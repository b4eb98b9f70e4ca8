"""What a failing chaos_sim test prints works: the report line makes a page (the history is
written beside the result), a seed pinned in code runs that seed on any machine, and the
plugin takes every strategy a run does."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import boto3
import pytest


def drain(color, other):
    r53 = boto3.client("route53")
    zone = r53.list_hosted_zones_by_name(DNSName="example.com.")["HostedZones"][0]["Id"]
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    weight = {s.get("SetIdentifier"): s.get("Weight") for s in sets}
    if weight[other] > 0:
        mine = next(s for s in sets if s.get("SetIdentifier") == color)
        change = {"Action": "UPSERT", "ResourceRecordSet": {**mine, "Weight": 0}}
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [change]})


def someone_serves(view):
    if not any(s.get("Weight") for s in view.record_sets("example.com")):
        return "every weight is 0"


def declare(sim):
    sim.zone("example.com", records=[
        {"name": "app.example.com", "type": "A", "ttl": 60, "values": [ip],
         "set_identifier": color, "weight": 50}
        for color, ip in (("blue", "192.0.2.10"), ("green", "192.0.2.20"))
    ])
    sim.actor("drain-blue", lambda: drain("blue", "green"))
    sim.actor("drain-green", lambda: drain("green", "blue"))
    sim.invariant(someone_serves)


@pytest.mark.chaos(runs=20, strategy=STRATEGY SEED)
def test_drains(chaos_sim):
    declare(chaos_sim)
    chaos_sim.check()
"""


def _suite(strategy: str = "random", seed: int | None = None) -> str:
    return SUITE.replace("STRATEGY", repr(strategy)).replace(
        " SEED", "" if seed is None else f", seed={seed}"
    )


def test_the_printed_report_line_makes_a_page(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drains=_suite())
    done = pytester.runpytest_subprocess("-p", "no:randomly", "--chaos-seed=2", timeout=600)
    done.assert_outcomes(failed=1)
    out = done.stdout.str()
    seed = re.search(r"test_drains · seed (\d+) · strategy random: fail", out)
    assert seed is not None, out
    line = re.search(r"as a page: (dnschaos report .*)$", out, re.M)
    assert line is not None, out
    words = shlex.split(line[1])
    assert "--history" in words
    # Kept in pytest's cache: its temporary directories go after three more sessions.
    assert words[2].startswith(str(pytester.path / ".pytest_cache" / "d" / "dnschaos-results"))
    page = pytester.path / "page.html"
    made = subprocess.run(
        [str(Path(sys.executable).parent / "dnschaos"), *words[1:]],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert "every weight is 0" in page.read_text()
    assert "variant legacy" not in page.read_text()

    # The seed pinned in code fails again in a fresh session with no option and no cache.
    pytester.makepyfile(test_drains=_suite(seed=int(seed[1])))
    pinned = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    pinned.assert_outcomes(failed=1)
    assert f"test_drains · seed {seed[1]} · strategy random: fail" in pinned.stdout.str()
    # Its reproduce line needs no --chaos-seed: the seed is in the code.
    assert re.search(
        r"reproduce:\n\S*\s*pytest 'test_drains\.py::test_drains'\n", pinned.stdout.str()
    )


def test_the_delay_strategy_is_offered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drains=_suite("delay"))
    done = pytester.runpytest_subprocess("-p", "no:randomly", "--chaos-seed=2", timeout=600)
    done.assert_outcomes(failed=1)
    assert "strategy delay: fail" in done.stdout.str()


def test_a_bad_pinned_seed_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drains=_suite().replace("strategy='random'", "seed=-1"))
    done = pytester.runpytest_subprocess("-p", "no:randomly")
    assert "seed=-1: give a whole number, at least 0" in done.stdout.str() + done.stderr.str()
