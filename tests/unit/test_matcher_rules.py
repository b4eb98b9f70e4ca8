"""What each matcher matches, at its boundaries: which names a Route 53 call touches,
glob and case rules, the window's half-open interval, the probability's strict draw, the
n-th call and every k-th after it, and how compositions read."""

from __future__ import annotations

import random
from typing import Any

import pytest

from dnschaos.faults.matchers import (
    Actor,
    All,
    Always,
    Any_,
    Call,
    Matcher,
    Not,
    Nth,
    Operation,
    Probability,
    RecordName,
    Service,
    Table,
    Window,
)
from dnschaos.scenario.load import fault_from_flag


class FixedDraw(random.Random):
    """A generator whose every draw is ``value``: to test the probability at its edge."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def call(**kw: Any) -> Call:
    base: dict[str, Any] = {
        "service": "route-53",
        "operation": "ChangeResourceRecordSets",
        "actor": "enactor-c",
        "params": {},
        "t": 10.0,
        "rng": random.Random(1),
        "counts": {},
    }
    return Call(**{**base, **kw})


def batch(*names: str) -> dict[str, Any]:
    return {"ChangeBatch": {"Changes": [{"ResourceRecordSet": {"Name": n}} for n in names]}}


# ------------------------------------------------------------------ the names a call touches


def test_record_names_of_a_change_batch_a_list_start_and_a_query() -> None:
    assert call(params=batch("Plan.D.Test", "_lock.d.test.")).record_names() == [
        "plan.d.test.",
        "_lock.d.test.",
    ]
    assert call(params={"StartRecordName": "A.d.test"}).record_names() == ["a.d.test."]
    assert call(params={"QueryName": "q.d.test."}).record_names() == ["q.d.test."]
    both = {**batch("x.d.test"), "StartRecordName": "y.d.test", "QueryName": "z.d.test"}
    assert call(params=both).record_names() == ["x.d.test.", "y.d.test.", "z.d.test."]
    # A change without a name, and calls that name no record, touch nothing.
    assert call(params={"ChangeBatch": {"Changes": [{"Action": "DELETE"}]}}).record_names() == []
    assert call(params={"TableName": "plans"}).record_names() == []


def test_record_name_is_a_case_insensitive_glob_over_fully_qualified_names() -> None:
    lock = RecordName("_lock.*")
    assert lock.matches(call(params=batch("_LOCK.d.test")))
    assert not lock.matches(call(params=batch("plan._lock.d.test.")))
    assert not lock.matches(call(params={}))
    # Either of a batch's names will do; so will a list's start or a probe's query.
    assert lock.matches(call(params=batch("plan.d.test.", "_lock.d.test.")))
    assert lock.matches(call(params={"StartRecordName": "_lock.d.test."}))
    assert lock.matches(call(params={"QueryName": "_lock.d.test"}))
    # The pattern's trailing dot is optional, as the names' is.
    exact = RecordName("Plan.D.Test.")
    assert exact.matches(call(params=batch("plan.d.test")))
    assert RecordName("plan.d.test").matches(call(params=batch("plan.d.test.")))
    assert not exact.matches(call(params=batch("plan.d.test.extra")))


# ------------------------------------------------------------------ who and what


def test_service_accepts_boto3_names_and_botocore_ids() -> None:
    for name in ("route53", "Route53", "route-53"):
        assert Service(name).matches(call(service="route-53")), name
        assert not Service(name).matches(call(service="dynamodb")), name
    assert Service("dynamodb").matches(call(service="dynamodb"))
    assert Service("elbv2").matches(call(service="elastic-load-balancing-v2"))
    assert Service("ec2").matches(call(service="ec2"))
    assert not Service("ec2").matches(call(service="elastic-load-balancing-v2"))
    # A name we have no alias for is compared as given, lower-cased.
    assert Service("STS").matches(call(service="sts"))


def test_operation_is_exact() -> None:
    assert Operation("GetChange").matches(call(operation="GetChange"))
    assert not Operation("GetChange").matches(call(operation="getchange"))
    assert not Operation("Get*").matches(call(operation="GetChange"))


def test_actor_and_table_are_case_sensitive_globs() -> None:
    assert Actor("enactor-*").matches(call(actor="enactor-a"))
    assert not Actor("enactor-*").matches(call(actor="planner"))
    assert not Actor("Enactor-a").matches(call(actor="enactor-a"))
    assert Actor("enactor-a").matches(call(actor="enactor-a"))
    assert Table("plans").matches(call(params={"TableName": "plans"}))
    assert Table("plan*").matches(call(params={"TableName": "plans-v2"}))
    assert not Table("plans").matches(call(params={"TableName": "Plans"}))
    assert not Table("plans").matches(call(params={}))


def test_always_matches_every_call() -> None:
    for c in (call(), call(service="dynamodb", params={"TableName": "x"}, t=0.0)):
        assert Always().matches(c)


def test_a_fault_without_match_keys_applies_to_every_call() -> None:
    fault = fault_from_flag("kind=latency,seconds=4", 0)
    assert str(fault.matcher) == "always"
    assert fault.matcher.matches(call(service="dynamodb", operation="GetItem", actor="planner"))


# ------------------------------------------------------------------ time, chance, count


def test_window_is_half_open() -> None:
    w = Window(10, 20)
    assert [w.matches(call(t=t)) for t in (9.999, 10.0, 15.0, 19.999, 20.0)] == [
        False,
        True,
        True,
        True,
        False,
    ]
    forever = Window()
    assert forever.matches(call(t=0.0)) and forever.matches(call(t=1e9))
    assert not forever.matches(call(t=-0.001))
    assert Window(5).matches(call(t=1e9))


def test_probability_fires_when_the_draw_is_below_it() -> None:
    half = Probability(0.5)
    assert half.matches(call(rng=FixedDraw(0.4999)))
    assert not half.matches(call(rng=FixedDraw(0.5)))
    assert not Probability(0.0).matches(call(rng=FixedDraw(0.0)))
    assert Probability(1.0).matches(call(rng=FixedDraw(0.9999999)))
    for edge in (0.0, 1.0):
        Probability(edge)  # both ends are allowed
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError) as exc:
            Probability(bad)
        assert str(exc.value) == f"probability {bad}: must be between 0 and 1"


def test_probability_draws_once_per_call_from_the_runs_generator() -> None:
    rng = random.Random(11)
    same = random.Random(11)
    expected = [same.random() < 0.3 for _ in range(50)]
    assert [Probability(0.3).matches(call(rng=rng)) for _ in range(50)] == expected


def test_nth_matches_the_nth_call_and_every_kth_after_it() -> None:
    def hits(m: Nth, calls: int = 12) -> list[int]:
        counts: dict[int, int] = {}
        return [i for i in range(1, calls + 1) if m.matches(call(counts=counts))]

    assert hits(Nth(1)) == [1]
    assert hits(Nth(3)) == [3]
    assert hits(Nth(1, every=1)) == list(range(1, 13))
    assert hits(Nth(2, every=3)) == [2, 5, 8, 11]
    assert hits(Nth(4, every=5)) == [4, 9]


def test_nth_counts_per_matcher_in_the_runs_counts() -> None:
    counts: dict[int, int] = {}
    first, second = Nth(2), Nth(2)
    assert first == second  # equal specs, but each counts its own calls
    assert [first.matches(call(counts=counts)) for _ in range(3)] == [False, True, False]
    assert second.matches(call(counts=counts)) is False
    assert counts == {id(first): 3, id(second): 1}
    # A fresh run starts from fresh counts.
    assert [first.matches(call(counts={})) for _ in range(1)] == [False]


def test_nth_needs_a_first_call_and_a_non_negative_period() -> None:
    for n, every in ((0, 0), (1, -1), (-2, 3)):
        with pytest.raises(ValueError) as exc:
            Nth(n, every)
        assert str(exc.value) == f"nth={n} every={every}: n must be >= 1, every >= 0"
    Nth(1, 0)


# ------------------------------------------------------------------ composition


def test_and_or_not_mean_what_they_say() -> None:
    yes, no = Always(), ~Always()
    assert isinstance(no, Not) and no.matches(call()) is False
    assert (~Actor("enactor-a")).matches(call(actor="enactor-c")) is True
    assert (yes & yes).matches(call()) and not (yes & no).matches(call())
    assert not (no & yes).matches(call())
    assert (yes | no).matches(call()) and (no | yes).matches(call())
    assert not (no | no).matches(call())
    assert ~~Actor("x") == Actor("x")
    assert ~Actor("x") == Not(Actor("x"))


def test_compositions_flatten_and_print_what_they_mean() -> None:
    a, b, c, d = Actor("a"), Operation("GetChange"), Window(1, 2), Nth(3, every=2)
    assert a & (b & c) == All((a, b, c)) == (a & b) & c
    assert a | (b | c) == Any_((a, b, c)) == (a | b) | c
    mixed = (a & b) | (c & d)
    assert mixed == Any_((All((a, b)), All((c, d))))
    assert str(mixed) == "((actor=a & operation=GetChange) | (window=[1s,2s) & nth=3,every=2))"
    assert str(~(a | b)) == "~(actor=a | operation=GetChange)"
    printed = [
        Service("route53"),
        RecordName("_lock.*"),
        Table("plans"),
        Window(),
        Probability(0.25),
        Nth(2),
        Always(),
    ]
    assert [str(m) for m in printed] == [
        "service=route53",
        "record=_lock.*",
        "table=plans",
        "window=[0s,infs)",
        "probability=0.25",
        "nth=2",
        "always",
    ]


def test_a_bare_matcher_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Matcher().matches(call())
