"""Route 53's documented ChangeResourceRecordSets behaviour (INCIDENT.md section 6).

Each test states one rule. They pass on the strict layer; run with
``--against=moto`` the ones marked ``moto_deviation`` are expected to fail, and
that list is the README's table of moto's deviations.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.route53.helpers import (
    Zone,
    a_record,
    alias_record,
    create,
    delete,
    txt_record,
    upsert,
    weighted,
)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


# ---------------------------------------------------------------- transactions


@pytest.mark.moto_deviation(reason="a batch that fails part-way is half-applied")
def test_batch_is_all_or_nothing(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("taken"), "192.0.2.1")))
    with pytest.raises(ClientError) as exc:
        zone.change(
            create(a_record(zone.fq("fresh"), "192.0.2.2")),
            create(a_record(zone.fq("taken"), "192.0.2.3")),
        )
    assert _error(exc)[0] == "InvalidChangeBatch"
    assert zone.find(zone.fq("fresh"), "A") is None, "the valid first change must not be applied"


def test_delete_then_create_of_same_set_in_one_batch(zone: Zone) -> None:
    zone.change(create(txt_record(zone.fq("_lock"), '"holder=a expires=10"')))
    zone.change(
        delete(txt_record(zone.fq("_lock"), '"holder=a expires=10"')),
        create(txt_record(zone.fq("_lock"), '"holder=b expires=20"')),
    )
    rec = zone.find(zone.fq("_lock"), "TXT")
    assert rec is not None
    assert rec["ResourceRecords"] == [{"Value": '"holder=b expires=20"'}]


@pytest.mark.moto_deviation(reason="changes in one batch do not see each other")
def test_later_change_sees_earlier_change_in_same_batch(zone: Zone) -> None:
    # DELETE of a set that only an earlier change in the same batch created.
    zone.change(
        create(a_record(zone.fq("tmp"), "192.0.2.1")),
        delete(a_record(zone.fq("tmp"), "192.0.2.1")),
    )
    assert zone.find(zone.fq("tmp"), "A") is None


@pytest.mark.moto_deviation(reason="each problem is raised alone, in moto's own words")
def test_every_problem_of_a_batch_is_reported_at_once(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(
            delete(a_record(zone.fq("ghost1"), "192.0.2.1")),
            delete(a_record(zone.fq("ghost2"), "192.0.2.1")),
        )
    code, message = _error(exc)
    assert code == "InvalidChangeBatch"
    assert message == (
        f"[Tried to delete resource record set [name='{zone.fq('ghost1')}', type='A'] but it was "
        f"not found, Tried to delete resource record set [name='{zone.fq('ghost2')}', type='A'] "
        "but it was not found]"
    )


# ---------------------------------------------------------------- DELETE matches exactly


@pytest.mark.moto_deviation(reason="DELETE is checked against a journal, with another error")
def test_delete_with_other_values_is_rejected(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("www"), "192.0.2.1")))
    with pytest.raises(ClientError) as exc:
        zone.change(delete(a_record(zone.fq("www"), "192.0.2.9")))
    assert _error(exc) == (
        "InvalidChangeBatch",
        f"[Tried to delete resource record set [name='{zone.fq('www')}', type='A'] "
        "but the values provided do not match the current values]",
    )
    assert zone.find(zone.fq("www"), "A") is not None


@pytest.mark.moto_deviation(reason="a DELETE with another TTL is accepted")
def test_delete_with_other_ttl_is_rejected(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("www"), "192.0.2.1", ttl=60)))
    with pytest.raises(ClientError) as exc:
        zone.change(delete(a_record(zone.fq("www"), "192.0.2.1", ttl=300)))
    assert "do not match the current values" in _error(exc)[1]


@pytest.mark.moto_deviation(reason="DELETE matches any value ever written, not the current one")
def test_delete_names_current_values_not_past_ones(zone: Zone) -> None:
    # The compare-and-swap the TXT lock depends on.
    zone.change(create(txt_record(zone.fq("_lock"), '"holder=a expires=10"')))
    zone.change(upsert(txt_record(zone.fq("_lock"), '"holder=b expires=20"')))
    with pytest.raises(ClientError) as exc:
        zone.change(
            delete(txt_record(zone.fq("_lock"), '"holder=a expires=10"')),
            create(txt_record(zone.fq("_lock"), '"holder=c expires=30"')),
        )
    assert "do not match the current values" in _error(exc)[1]
    rec = zone.find(zone.fq("_lock"), "TXT")
    assert rec is not None and rec["ResourceRecords"] == [{"Value": '"holder=b expires=20"'}]


@pytest.mark.moto_deviation(reason="a DELETE listing the values in another order is refused")
def test_delete_with_record_order_changed_is_accepted(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("www"), "192.0.2.1", "192.0.2.2")))
    zone.change(delete(a_record(zone.fq("www"), "192.0.2.2", "192.0.2.1")))
    assert zone.find(zone.fq("www"), "A") is None


@pytest.mark.moto_deviation(reason="the not-found error has moto's own wording")
def test_delete_of_missing_set_says_not_found(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(delete(a_record(zone.fq("nothing"), "192.0.2.1")))
    assert _error(exc) == (
        "InvalidChangeBatch",
        f"[Tried to delete resource record set [name='{zone.fq('nothing')}', type='A'] "
        "but it was not found]",
    )


@pytest.mark.moto_deviation(reason="two writers both win the lock's compare-and-swap")
def test_lock_compare_and_swap_has_one_winner(zone: Zone) -> None:
    old = '"holder=nobody expires=0"'
    zone.change(create(txt_record(zone.fq("_lock"), old)))
    zone.change(
        delete(txt_record(zone.fq("_lock"), old)),
        create(txt_record(zone.fq("_lock"), '"holder=a expires=100"')),
    )
    with pytest.raises(ClientError) as exc:
        zone.change(
            delete(txt_record(zone.fq("_lock"), old)),
            create(txt_record(zone.fq("_lock"), '"holder=b expires=100"')),
        )
    assert _error(exc) == (
        "InvalidChangeBatch",
        f"[Tried to delete resource record set [name='{zone.fq('_lock')}', type='TXT'] "
        "but the values provided do not match the current values, "
        f"Tried to create resource record set [name='{zone.fq('_lock')}', type='TXT'] "
        "but it already exists]",
    )
    rec = zone.find(zone.fq("_lock"), "TXT")
    assert rec is not None and rec["ResourceRecords"] == [{"Value": '"holder=a expires=100"'}]


# ---------------------------------------------------------------- CREATE and UPSERT


@pytest.mark.moto_deviation(
    reason="a CREATE over an existing set with other values adds a second set"
)
def test_create_of_existing_set_says_already_exists(zone: Zone) -> None:
    zone.change(create(a_record(zone.fq("www"), "192.0.2.1")))
    with pytest.raises(ClientError) as exc:
        zone.change(create(a_record(zone.fq("www"), "192.0.2.2")))
    code, message = _error(exc)
    assert code == "InvalidChangeBatch"
    assert (
        f"Tried to create resource record set [name='{zone.fq('www')}', type='A'] but it already exists"
        in message
    )


def test_upsert_creates_then_replaces(zone: Zone) -> None:
    zone.change(upsert(a_record(zone.fq("www"), "192.0.2.1")))
    zone.change(upsert(a_record(zone.fq("www"), "192.0.2.2")))
    rec = zone.find(zone.fq("www"), "A")
    assert rec is not None and rec["ResourceRecords"] == [{"Value": "192.0.2.2"}]


@pytest.mark.moto_deviation(reason="a record outside the zone is refused with another error")
def test_name_outside_zone_is_rejected(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(create(a_record("www.elsewhere.test.", "192.0.2.1")))
    assert _error(exc) == (
        "InvalidChangeBatch",
        f"[RRSet with DNS name www.elsewhere.test. is not permitted in zone {zone.name}]",
    )


@pytest.mark.moto_deviation(reason="a record with neither values nor alias is accepted")
def test_record_needs_values_or_alias(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(create({"Name": zone.fq("bare"), "Type": "A"}))
    code, message = _error(exc)
    assert code == "InvalidInput"
    assert "Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]" in message


# ---------------------------------------------------------------- aliases


@pytest.mark.moto_deviation(reason="an alias to a missing target is accepted")
def test_alias_target_must_exist_at_creation(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(create(alias_record(zone.fq("root"), zone.zone_id, zone.fq("plan-7"))))
    assert _error(exc) == (
        "InvalidChangeBatch",
        f"[Tried to create an alias that targets {zone.fq('plan-7')}, type A in zone "
        f"{zone.zone_id}, but that target was not found]",
    )


@pytest.mark.moto_deviation(reason="an UPSERT to a missing alias target is accepted")
def test_upsert_of_alias_to_missing_target_is_rejected(zone: Zone) -> None:
    # The wedge: repointing the rollback record at a deleted tree fails every time.
    zone.change(create(a_record(zone.fq("plan-1"), "192.0.2.1")))
    zone.change(create(alias_record(zone.fq("rollback"), zone.zone_id, zone.fq("plan-1"))))
    with pytest.raises(ClientError) as exc:
        zone.change(upsert(alias_record(zone.fq("rollback"), zone.zone_id, zone.fq("plan-0"))))
    assert "but that target was not found" in _error(exc)[1]


def test_alias_target_created_earlier_in_same_batch(zone: Zone) -> None:
    zone.change(
        create(a_record(zone.fq("plan-1"), "192.0.2.1")),
        create(alias_record(zone.fq("root"), zone.zone_id, zone.fq("plan-1"))),
    )
    assert zone.find(zone.fq("root"), "A") is not None


def test_deleting_an_alias_target_later_is_allowed(zone: Zone) -> None:
    # What happened in October 2025: the alias stays, pointing at nothing.
    zone.change(
        create(a_record(zone.fq("plan-1"), "192.0.2.1")),
        create(alias_record(zone.fq("root"), zone.zone_id, zone.fq("plan-1"))),
    )
    zone.change(delete(a_record(zone.fq("plan-1"), "192.0.2.1")))
    assert zone.find(zone.fq("root"), "A") is not None
    assert zone.find(zone.fq("plan-1"), "A") is None


@pytest.mark.moto_deviation(reason="a DELETE of an alias names no TTL and moto demands one")
def test_delete_of_alias_must_name_its_exact_target(zone: Zone) -> None:
    zone.change(
        create(a_record(zone.fq("plan-1"), "192.0.2.1")),
        create(a_record(zone.fq("plan-2"), "192.0.2.2")),
        create(alias_record(zone.fq("root"), zone.zone_id, zone.fq("plan-2"))),
    )
    with pytest.raises(ClientError) as exc:
        zone.change(delete(alias_record(zone.fq("root"), zone.zone_id, zone.fq("plan-1"))))
    assert "do not match the current values" in _error(exc)[1]
    zone.change(delete(alias_record(zone.fq("root"), zone.zone_id, zone.fq("plan-2"))))
    assert zone.find(zone.fq("root"), "A") is None


# ---------------------------------------------------------------- weighted sets


@pytest.mark.moto_deviation(reason="a weighted DELETE removes every set with that SetIdentifier")
def test_weighted_delete_removes_only_that_set(zone: Zone) -> None:
    zone.change(
        create(weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 10)),
        create(weighted(a_record(zone.fq("plan-2"), "192.0.2.1"), "lb-1", 10)),
    )
    zone.change(delete(weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 10)))
    assert zone.find(zone.fq("plan-2"), "A", "lb-1") is not None


@pytest.mark.moto_deviation(reason="a weighted DELETE with another weight is accepted")
def test_weighted_delete_must_name_the_weight(zone: Zone) -> None:
    zone.change(create(weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 10)))
    with pytest.raises(ClientError) as exc:
        zone.change(delete(weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 11)))
    assert "do not match the current values" in _error(exc)[1]


@pytest.mark.moto_deviation(reason="the already-exists error leaves out the set identifier")
def test_weighted_create_of_existing_identifier_names_it(zone: Zone) -> None:
    rr = weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 10)
    zone.change(create(rr))
    with pytest.raises(ClientError) as exc:
        zone.change(create(rr))
    assert (
        f"Tried to create resource record set [name='{zone.fq('plan-1')}', type='A', "
        "set-identifier='lb-1'] but it already exists" in _error(exc)[1]
    )


def test_weighted_set_identifiers_are_unique_per_name_and_type(zone: Zone) -> None:
    rr = weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 10)
    zone.change(create(rr))
    with pytest.raises(ClientError) as exc:
        zone.change(create(rr))
    assert _error(exc)[0] == "InvalidChangeBatch"
    assert len([r for r in zone.records() if r.get("SetIdentifier") == "lb-1"]) == 1


@pytest.mark.moto_deviation(reason="a SetIdentifier without a Weight is accepted")
def test_set_identifier_needs_a_weight(zone: Zone) -> None:
    rr = {**a_record(zone.fq("plan-1"), "192.0.2.1"), "SetIdentifier": "lb-1"}
    with pytest.raises(ClientError) as exc:
        zone.change(create(rr))
    assert _error(exc)[0] == "InvalidInput"


@pytest.mark.moto_deviation(reason="a weight over 255 is accepted")
def test_weight_is_at_most_255(zone: Zone) -> None:
    with pytest.raises(ClientError) as exc:
        zone.change(create(weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 256)))
    assert _error(exc)[0] == "InvalidInput"


@pytest.mark.moto_deviation(reason="weighted and simple sets of one name and type coexist")
def test_weighted_and_simple_sets_do_not_mix(zone: Zone) -> None:
    zone.change(create(weighted(a_record(zone.fq("plan-1"), "192.0.2.1"), "lb-1", 10)))
    with pytest.raises(ClientError) as exc:
        zone.change(create(a_record(zone.fq("plan-1"), "192.0.2.2")))
    assert _error(exc)[0] == "InvalidChangeBatch"
