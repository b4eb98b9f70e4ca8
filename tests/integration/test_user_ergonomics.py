"""What a newcomer's own actors and invariants meet: how an actor is handed its context,
where an error in their code is reported, and what the view shows of weighted and alias
record sets."""

from __future__ import annotations

import inspect
from typing import Any

import boto3
import pytest

import dnschaos
from dnschaos.world.config import context_argument
from tests.integration.byo_actors import WEIGHTED_POOL

ZONE = "example.com"
CALLS: list[str] = []


def _switch_with_defaults(to: str = "green", weight: int = 100) -> None:
    CALLS.append(f"defaults {to} {weight}")


def _switch_by_keyword(to: str = "green", *, ctx: Any) -> None:
    ctx.event("switched", to=to, by="keyword")


def _switch_positional(context: Any, to: str = "green") -> None:
    context.event("switched", to=to, by="positional")


def _no_parameters() -> None:
    CALLS.append("none")


@pytest.mark.parametrize(
    ("fn", "how"),
    [
        (_switch_with_defaults, None),
        (_switch_by_keyword, "keyword"),
        (_switch_positional, "positional"),
        (_no_parameters, None),
        (lambda *args: None, "positional"),
        (lambda ctx, to="green": None, "keyword"),
        (lambda **kw: None, None),
    ],
)
def test_the_signature_rule_says_how_an_actor_gets_its_context(fn: Any, how: str | None) -> None:
    assert context_argument(fn) == how


def test_actors_with_optional_parameters_run_with_their_defaults() -> None:
    CALLS.clear()
    sim = dnschaos.Simulation("signatures", duration=60)
    sim.zone(ZONE)
    sim.actor("defaults", _switch_with_defaults)
    sim.actor("keyword", _switch_by_keyword)
    sim.actor("positional", _switch_positional)
    sim.actor("none", _no_parameters)
    result = sim.run(seed=1)
    assert result.verdict == "pass", [v.detail for v in result.violations]
    assert sorted(CALLS) == ["defaults green 100", "none"]
    switched = {e["by"]: e["to"] for e in result.history if e.get("event") == "switched"}
    assert switched == {"keyword": "green", "positional": "green"}


def _upsert(ctx: Any) -> None:
    r53 = boto3.client("route53")
    zone = ctx.zone_id(ZONE)
    change = {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": "api.example.com",
            "Type": "A",
            "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}],
        },
    }
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [change]})


def _raises(view: Any) -> None:
    return {}["missing"]  # type: ignore[no-any-return]


RAISING_LINE = inspect.getsourcelines(_raises)[1] + 1


@pytest.mark.parametrize("when", ["step", "end"])
def test_an_invariant_that_raises_names_the_users_own_line(when: str) -> None:
    sim = dnschaos.Simulation("raising", duration=60)
    sim.zone(ZONE)
    sim.actor("writer", _upsert)
    sim.invariant(_raises, when=when)
    result = sim.run(seed=1)
    # The invariant could not say whether the run held: not a pass, not a violation.
    assert result.verdict == "unknown"
    errors = " ".join(v.error or "" for v in result.verdicts)
    assert "KeyError" in errors
    assert f"test_user_ergonomics.py:{RAISING_LINE}" in errors, errors


def _weights(view: Any) -> str | None:
    sets = view.record_sets(ZONE)
    weighted = {s["SetIdentifier"]: s["Weight"] for s in sets if "SetIdentifier" in s}
    if weighted != {"blue": 90, "green": 10}:
        return f"weights {weighted}"
    alias = next(s for s in sets if s["Name"] == "www.example.com.")
    if alias["AliasTarget"]["DNSName"] != "lb.example.com.":
        return f"alias {alias}"
    sets[0]["Name"] = "changed.example.com."  # a copy: the next step sees Route 53 again
    return None


def test_the_view_lists_weighted_and_alias_sets_as_route53_does() -> None:
    sim = dnschaos.Simulation("weights", duration=60)
    sim.zone(ZONE, records=WEIGHTED_POOL)
    sim.actor("writer", _upsert)
    sim.invariant(_weights)
    result = sim.run(seed=1)
    assert result.verdict == "pass", [(v.invariant, v.detail) for v in result.violations]
    # It judged the run (an empty zone fails it: see the weights message above).
    assert "-weights" in {v.checker for v in result.verdicts}
