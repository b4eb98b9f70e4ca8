"""The chaos_sim fixture: a Simulation declared in the test, run with the marker's runs and
strategy; a violation fails the test with its story and a line that reproduces it."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import boto3
import pytest

from dnschaos.invariants import no_foreign_delete


def upsert(name, value):
    route53 = boto3.client("route53")
    zone = route53.list_hosted_zones()["HostedZones"][0]["Id"]
    rrset = {"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}]}
    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]},
    )


def declare(sim, names):
    sim.zone("example.com")
    sim.actor("blue", lambda: upsert(names[0], "192.0.2.10"))
    sim.actor("green", lambda: upsert(names[1], "192.0.2.11"))
    sim.invariant(no_foreign_delete())


@pytest.mark.chaos(runs=2)
def test_racing_pair(chaos_sim):
    declare(chaos_sim, ["www.example.com", "www.example.com"])  # one record, two writers
    chaos_sim.check()


@pytest.mark.chaos(runs=3, strategy="pct")
def test_correct_pair(chaos_sim):
    declare(chaos_sim, ["blue.example.com", "green.example.com"])  # a record each
    result = chaos_sim.check()
    assert chaos_sim.name == "test_correct_pair"
    assert [r.strategy for r in result.results] == ["pct"] * 3
"""


def test_a_racing_pair_fails_with_its_story_and_a_correct_pair_passes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_sims=SUITE)
    done = pytester.runpytest_subprocess("-p", "no:randomly", "--chaos-seed=5", timeout=600)
    out = done.stdout.str()
    done.assert_outcomes(failed=1, passed=1)
    assert "ChaosFailure: test_racing_pair · seed" in out, out
    story = re.search(r"story:\n(.*?)\n\S*\s*reproduce:", out, re.S)
    assert story is not None, out
    assert re.search(r"blue UPSERT www\.example\.com\.? A 192\.0\.2\.10", story[1]), out
    assert re.search(r"green UPSERT www\.example\.com\.? A 192\.0\.2\.11", story[1]), out
    assert re.search(r"\[no-foreign-delete\] (blue|green) removed www", story[1]), out
    rerun = re.search(
        r"^E?\s*(pytest '(test_sims\.py::test_racing_pair)' --chaos-seed=5)$", out, re.M
    )
    assert rerun is not None, out
    again = pytester.runpytest_subprocess("-p", "no:randomly", rerun[2], "--chaos-seed=5")
    again.assert_outcomes(failed=1)
    assert "test_racing_pair · seed" in again.stdout.str()
