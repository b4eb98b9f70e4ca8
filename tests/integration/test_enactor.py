"""The enactors' behaviour against moto with the strict Route 53 layer."""

from __future__ import annotations

from typing import Any

import pytest

from dnschaos.adapters.dnsserve.dataplane import possible_addresses
from dnschaos.workloads.incident2025.enactor import LegacyEnactor, Outcome
from dnschaos.workloads.incident2025.tree import plan_name, rollback_name, root_name
from tests.integration.conftest import Rig, touches


def _addresses(rig: Rig, ep: Any, rtype: str = "A") -> frozenset[str]:
    records = rig.strict().records(rig.world.zone_ids[ep.name])
    return possible_addresses(records, root_name(ep), rtype)


@pytest.mark.parametrize("variant", ["legacy", "safe"])
def test_a_pass_applies_the_newest_plan_to_every_endpoint(rig: Rig, variant: str) -> None:
    rig.plans(3)
    result = rig.enactor("enactor-a", variant).run_once()
    assert result.generation == 3
    assert set(result.outcomes.values()) == {Outcome.APPLIED}
    for ep in rig.world.endpoints:
        assert rig.root_target(ep) == plan_name(ep, 3)
        for rtype in ep.record_types:
            assert len(_addresses(rig, ep, rtype)) == 6
    dual = rig.world.endpoints[1]
    assert rig.root_target(dual, "AAAA") == plan_name(dual, 3)
    assert "2001:db8::1" in _addresses(rig, dual, "AAAA")


def test_lock_is_released_and_never_left_with_us(rig: Rig) -> None:
    rig.plans(1)
    a = rig.enactor("enactor-a")
    a.run_once()
    lease = rig.enactor("enactor-b").try_lock(rig.regional)  # free again: A let it expire
    assert lease.record is not None


def test_a_second_pass_with_no_new_plan_does_nothing(rig: Rig) -> None:
    rig.plans(1)
    a = rig.enactor("enactor-a")
    a.run_once()
    assert a.run_once().generation is None
    assert rig.log.of_kind("plan-not-newer")


def test_malformed_newest_plan_is_skipped_and_no_partial_tree_is_built(rig: Rig) -> None:
    rig.plans(1)
    ddb = rig.target.client("dynamodb")
    ddb.put_item(
        TableName=rig.world.table,
        Item={
            "pk": {"S": "plans"},
            "generation": {"N": "2"},
            "groups": {
                "M": {"regional": {"L": [{"M": {"lb_id": {"S": "lb-1"}, "weight": {"N": "3"}}}]}}
            },
        },
    )
    result = rig.enactor("enactor-a").run_once()
    assert result.generation == 1, "the newest well-formed plan is applied instead"
    skipped = rig.log.of_kind("plan-skipped")
    assert skipped and "missing field 'ipv4'" in skipped[0].fields["reason"]
    for ep in rig.world.endpoints:
        assert not any("plan-2." in n for n in rig.names(ep))


def test_plan_missing_an_endpoint_group_is_not_applied_anywhere(rig: Rig) -> None:
    rig.planner.config = type(rig.planner.config)(table=rig.world.table, groups=("regional",))
    rig.plans(1)
    result = rig.enactor("enactor-a").run_once()
    assert result.generation is None
    assert "no group 'fips'" in rig.log.of_kind("plan-skipped")[0].fields["reason"]
    for ep in rig.world.endpoints:
        assert not any("plan-1." in n for n in rig.names(ep))


def test_busy_lock_backs_off_on_the_injected_clock_then_times_out(rig: Rig) -> None:
    rig.plans(1)
    a = rig.enactor("enactor-a")
    b = rig.enactor("enactor-b", lock_attempts=4)
    lease = a.acquire(rig.regional)
    assert lease is not None
    a.batch(lease, [], expires=rig.clock.now() + 3600)  # A holds it for an hour
    start = rig.clock.now()
    assert b.acquire(rig.regional) is None
    backoffs = [e for e in rig.log.of_kind("backoff") if e.actor == "enactor-b"]
    assert len(backoffs) == 3  # four tries, three waits between them
    assert rig.clock.now() - start == pytest.approx(
        sum(e.fields["seconds"] for e in backoffs), abs=0.01
    )


def test_expired_lock_is_taken_over(rig: Rig) -> None:
    a, b = rig.enactor("enactor-a"), rig.enactor("enactor-b")
    lease = a.acquire(rig.regional)
    assert lease is not None
    a.batch(lease, [], expires=rig.clock.now() + 30)
    rig.clock.sleep(31)
    assert b.acquire(rig.regional) is not None


def test_stolen_lock_aborts_the_next_batch(rig: Rig) -> None:
    from dnschaos.workloads.incident2025.enactor import LockLostError

    a, b = rig.enactor("enactor-a"), rig.enactor("enactor-b")
    lease_a = a.acquire(rig.regional)
    assert lease_a is not None
    a.batch(lease_a, [], expires=rig.clock.now() + 5)
    rig.clock.sleep(10)  # A stalls past its expiry; B takes over
    lease_b = b.acquire(rig.regional)
    assert lease_b is not None
    b.batch(lease_b, [])
    with pytest.raises(LockLostError):
        a.batch(lease_a, [])


def _race_flip(rig: Rig, variant: str) -> Outcome:
    """C goes to flip the root to plan 2; between its read and its write, a writer
    that does not take the lock (an operator's tool) moves the root to plan 3.

    The lock preamble already rejects batches after another *enactor* took the
    lock; the root's own compare-and-swap is what stops every other writer.
    """
    rig.plans(1)
    a, c = rig.enactor("enactor-a", variant), rig.enactor("enactor-c", variant)
    a.run_once()
    c.run_once()
    rig.plans(1)
    plan_c = c.select_plan()
    rig.plans(1)
    a.run_once()  # plan 3 is built and active everywhere
    _root_moved_back_to(rig, 1)  # an operator rolls back by hand...
    assert plan_c is not None and plan_c.generation == 2
    rig.before_change(  # ...and forward again, while C is between its read and its write
        c.route53, lambda _p: _root_moved_back_to(rig, 3), when=touches(root_name(rig.regional))
    )
    return c.apply_endpoint(rig.regional, plan_c)


def test_safe_flip_is_a_compare_and_swap_that_loses_to_a_newer_plan(rig: Rig) -> None:
    outcome = _race_flip(rig, "safe")
    assert outcome == Outcome.STALE
    assert rig.log.of_kind("lost-cas"), "Route 53 itself must have rejected the flip"
    assert rig.root_target(rig.regional) == plan_name(rig.regional, 3)


def test_legacy_flip_overwrites_a_newer_plan(rig: Rig) -> None:
    outcome = _race_flip(rig, "legacy")
    assert outcome == Outcome.APPLIED
    assert rig.root_target(rig.regional) == plan_name(rig.regional, 2)


def _root_moved_back_to(rig: Rig, generation: int) -> None:
    """An operator (or a stale enactor) points the regional root at an old tree."""
    ep = rig.regional
    zone = rig.world.zone_ids[ep.name]
    rig.target.client("route53").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": root_name(ep),
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": zone,
                            "DNSName": plan_name(ep, generation),
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ]
        },
    )


@pytest.mark.parametrize(("variant", "kept"), [("safe", True), ("legacy", False)])
def test_clean_up_and_the_active_tree(rig: Rig, variant: str, kept: bool) -> None:
    a = rig.enactor("enactor-a", variant, cleanup_window=3)
    for _ in range(2):
        rig.plans(1)
        a.run_once()
    _root_moved_back_to(rig, 2)
    rig.plans(4)
    plan = a.select_plan()
    assert plan is not None and plan.generation == 6
    for ep in rig.world.endpoints[1:]:
        a.apply_endpoint(ep, plan)
    a.clean_up(plan)
    assert (plan_name(rig.regional, 2) in rig.names(rig.regional)) is kept
    assert bool(_addresses(rig, rig.regional)) is kept
    # Trees that nothing points at go, in both variants.
    assert plan_name(rig.world.endpoints[1], 1) not in rig.names(rig.world.endpoints[1])


def test_safe_clean_up_guard_rejects_when_the_root_moves_mid_batch(rig: Rig) -> None:
    a = rig.enactor("enactor-a", "safe", cleanup_window=2)
    for _ in range(4):
        rig.plans(1)
        a.run_once()
    assert plan_name(rig.regional, 3) in rig.names(rig.regional)
    rig.plans(1)
    plan5 = a.select_plan()
    assert plan5 is not None
    a.apply_endpoint(rig.regional, plan5)
    # Clean-up of plan 5 would delete tree 3; the root moves to tree 3 after the read.
    rig.before_change(
        a.route53, lambda _p: _root_moved_back_to(rig, 3), when=touches(root_name(rig.regional))
    )
    a.clean_up(plan5)
    assert plan_name(rig.regional, 3) in rig.names(rig.regional)
    assert _addresses(rig, rig.regional)
    assert rig.log.of_kind("cleanup-failed")


def test_legacy_wedges_when_the_rollback_target_is_gone_and_safe_repairs_it(rig: Rig) -> None:
    legacy, safe = rig.enactor("enactor-a", "legacy"), rig.enactor("enactor-b", "safe")
    for _ in range(2):
        rig.plans(1)
        legacy.run_once()
    # Delete tree 2 from under the root, as the 2025 clean-up did.
    snap = legacy.read(rig.regional)
    rig.target.client("route53").change_resource_record_sets(
        HostedZoneId=snap.zone_id,
        ChangeBatch={
            "Changes": [{"Action": "DELETE", "ResourceRecordSet": r} for r in snap.tree_records(2)]
        },
    )
    assert not _addresses(rig, rig.regional)
    rig.plans(1)
    assert legacy.run_once().outcomes[rig.regional.name] == Outcome.FAILED
    assert legacy.run_once().generation is None or True  # no newer plan; still wedged below
    rig.plans(1)
    assert legacy.run_once().outcomes[rig.regional.name] == Outcome.FAILED
    assert "but that target was not found" in rig.log.of_kind("flip-failed")[-1].fields["error"]
    result = safe.run_once()
    assert result.outcomes[rig.regional.name] == Outcome.APPLIED
    assert rig.root_target(rig.regional) == plan_name(rig.regional, 4)
    assert rig.log.of_kind("rollback-repaired")
    rollback = [
        r
        for r in rig.strict().records(rig.world.zone_ids[rig.regional.name])
        if r.name == rollback_name(rig.regional)
    ]
    assert rollback and rollback[0].alias is not None
    assert rollback[0].alias.dns_name in rig.names(rig.regional)


def test_safe_freezes_on_an_unexplained_rejection(rig: Rig) -> None:
    safe = rig.enactor("enactor-a", "safe")
    rig.plans(1)
    safe.run_once()
    rig.plans(1)
    plan = safe.select_plan()
    assert plan is not None

    def delete_new_tree(_params: dict[str, Any]) -> None:
        snap = safe.read(rig.regional)
        safe.route53.meta.events.unregister(
            "before-parameter-build.route53.ChangeResourceRecordSets"
        )
        rig.target.client("route53").change_resource_record_sets(
            HostedZoneId=snap.zone_id,
            ChangeBatch={
                "Changes": [
                    {"Action": "DELETE", "ResourceRecordSet": r} for r in snap.tree_records(2)
                ]
            },
        )

    rig.before_change(safe.route53, delete_new_tree, when=touches(root_name(rig.regional)))
    result = safe.run_once()
    assert result.outcomes[rig.regional.name] == Outcome.FROZEN
    assert not result.cleaned, "a frozen enactor tears nothing down"
    assert safe.frozen_reason is not None and "flip to generation 2 rejected" in safe.frozen_reason
    assert rig.root_target(rig.regional) == plan_name(rig.regional, 1)
    assert _addresses(rig, rig.regional), "the frozen state still serves"
    rig.plans(1)
    assert set(safe.run_once().outcomes.values()) == {Outcome.FROZEN}


def test_every_time_and_random_call_goes_through_injection() -> None:
    import pathlib
    import re

    src = pathlib.Path(__file__).parents[2] / "harness" / "automation"
    pattern = re.compile(
        r"\btime\.(time|sleep|monotonic)\(|\brandom\.(random|randint|choice|uniform|shuffle)\("
    )
    offenders = [
        f"{p.name}:{i}"
        for p in src.glob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_legacy_class_is_the_registered_variant() -> None:
    from dnschaos.workloads.incident2025.variants import resolve_enactor

    assert resolve_enactor("legacy") is LegacyEnactor
