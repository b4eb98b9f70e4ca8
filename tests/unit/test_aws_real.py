"""Units of the real-AWS target and of ordered replay: allow-list, the gate, the comparison."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.client import BaseClient

from dnschaos.adapters.aws.endpoints import Guarded
from dnschaos.adapters.aws.real import (
    ACCOUNTS_ENV,
    Budget,
    BudgetExhausted,
    RealAwsOptions,
    RealRun,
    allowed_accounts,
    plans_table,
    scoped_name,
)
from dnschaos.adapters.aws.target import REAL_AWS_ENV, TargetSpec, open_target
from dnschaos.errors import RealAwsRefusedError, UsageError
from dnschaos.explore.ordered import Call, Gate, calls_of, compare
from dnschaos.sim.clock import ManualClock


def test_no_allow_list_refuses_before_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REAL_AWS_ENV, "1")
    monkeypatch.delenv(ACCOUNTS_ENV, raising=False)

    def no_calls(*_: Any) -> Any:
        raise AssertionError("no AWS call may be made")

    monkeypatch.setattr(BaseClient, "_make_api_call", no_calls)
    spec = TargetSpec("aws", allow_real_aws=True)
    with (
        pytest.raises(RealAwsRefusedError, match="no account allow-list"),
        open_target(spec, clock=ManualClock()),
    ):
        raise AssertionError("must not get here")


def test_allow_list_merges_scenario_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACCOUNTS_ENV, " 222222222222 ,111111111111")
    assert allowed_accounts(("111111111111",)) == ("111111111111", "222222222222")
    monkeypatch.setenv(ACCOUNTS_ENV, "12345")
    with pytest.raises(UsageError, match=r"'12345'.*12 digits"):
        allowed_accounts(())


def test_names_under_the_run_id() -> None:
    assert scoped_name("a.b.chaos.test.", "dc1") == "a.b.dc1.chaos.test"
    assert plans_table("dc1") == "dnschaos-dc1-plans"
    assert plans_table(None) == "dnschaos-plans"


def _context(actor: str) -> dict[str, Any]:
    return {"client_config": SimpleNamespace(user_agent_extra=f"dnschaos-actor/{actor}")}


def _write(gate: Gate, actor: str, done: list[str], delay: float = 0.0) -> None:
    ctx = _context(actor)
    time.sleep(delay)
    gate._before(model=SimpleNamespace(name="PutItem"), context=ctx)
    done.append(actor)
    gate._after(context=ctx)


def test_gate_releases_writes_in_the_recorded_order() -> None:
    recorded = [
        Call("b", "PutItem", {}, None, 0),
        Call("a", "Query", {}, None, 1),  # a read: not gated with order=writes
        Call("a", "PutItem", {}, None, 2),
        Call("b", "PutItem", {}, None, 3),
    ]
    gate = Gate(recorded, frozenset({"PutItem"}), timeout=10)
    done: list[str] = []

    def actor_b() -> None:
        _write(gate, "b", done, delay=0.2)  # b arrives late, yet goes first
        _write(gate, "b", done)

    threads = [
        threading.Thread(target=_write, args=(gate, "a", done)),
        threading.Thread(target=actor_b),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert done == ["b", "a", "b"]
    assert gate.opened is None


def test_gate_opens_after_its_timeout_and_says_why() -> None:
    recorded = [Call("b", "PutItem", {}, None, 0), Call("a", "PutItem", {}, None, 1)]
    gate = Gate(recorded, frozenset({"PutItem"}), timeout=0.2)
    done: list[str] = []
    _write(gate, "a", done)  # b never writes
    assert done == ["a"]
    assert gate.opened is not None and "recorded write 0 (b PutItem)" in gate.opened


def test_comparison_normalises_ids_and_sorts_answers() -> None:
    history = [
        {
            "seq": 0,
            "kind": "invoke",
            "actor": "a",
            "op": "PutItem",
            "params": {"table": "dnschaos-plans"},
        },
        {"seq": 1, "kind": "complete", "actor": "a", "op": "PutItem", "outcome": {"status": 200}},
        {
            "seq": 2,
            "kind": "invoke",
            "actor": "a",
            "op": "Query",
            "params": {"table": "dnschaos-plans"},
        },
        {
            "seq": 3,
            "kind": "complete",
            "actor": "a",
            "op": "Query",
            "outcome": {"status": 200, "items": 1},
        },
        {
            "seq": 4,
            "kind": "invoke",
            "actor": "b",
            "op": "ChangeResourceRecordSets",
            "params": {"zone": "Z1", "changes": ["UPSERT x.chaos.test. A 1"]},
        },
        {
            "seq": 5,
            "kind": "complete",
            "actor": "b",
            "op": "ChangeResourceRecordSets",
            "outcome": {"status": 200, "change": "C1", "change_status": "PENDING"},
        },
    ]
    replayed = [dict(e) for e in history]
    replayed[0] = {**history[0], "params": {"table": "dnschaos-dc9-plans"}}
    replayed[2] = {**history[2], "params": {"table": "dnschaos-dc9-plans"}}
    replayed[3] = {**history[3], "outcome": {"status": 200, "items": 0}}
    replayed[4] = {
        **history[4],
        "params": {"zone": "Z777", "changes": ["UPSERT x.dc9.chaos.test. A 1"]},
    }
    replayed[5] = {
        **history[5],
        "outcome": {"status": 400, "error": "InvalidChangeBatch", "change": "C9"},
    }
    out = compare(calls_of(history), calls_of(replayed), "dc9", lambda op: op != "Query")
    assert out.first is not None and (out.first.actor, out.first.kind) == ("a", "answer")
    assert [(d.actor, d.index) for d in out.timing] == [("a", 1)]  # a read: timing
    assert [(d.actor, d.index) for d in out.answers] == [("b", 0)]  # an ordered write
    assert out.answers[0].replayed is not None
    assert out.answers[0].replayed["answer"] == {"status": 400, "error": "InvalidChangeBatch"}


def test_a_different_request_ends_the_actors_comparison() -> None:
    rec = [
        Call("a", "PutItem", {"generation": "1"}, {"status": 200}, 0),
        Call("a", "PutItem", {"generation": "2"}, {"status": 200}, 1),
    ]
    rep = [
        Call("a", "PutItem", {"generation": "1"}, {"status": 200}, 0),
        Call("a", "PutItem", {"generation": "3"}, {"status": 500}, 1),
    ]
    out = compare(rec, rep, None)
    assert out.first is not None and out.first.kind == "request"
    assert out.first.recorded == {"op": "PutItem", "generation": "2"}
    assert out.first.replayed == {"op": "PutItem", "generation": "3"}
    assert out.answers == []


def _guarded(session: Any) -> Guarded:
    return Guarded(session, "us-east-1", None, account="123456789012")


@pytest.mark.parametrize(
    ("budget", "op", "body", "reason"),
    [
        (Budget(api_calls=1), "ListTables", b"{}", "2 API calls > budget 1"),
        (Budget(zones=1), "CreateHostedZone", b"<Name>a.</Name>", "2 hosted zones > budget 1"),
        (
            Budget(records=3),
            "ChangeResourceRecordSets",
            b"<Action>CREATE</Action><Action>DELETE</Action>",
            "4 record changes > budget 3",
        ),
    ],
)
def test_budget_bounds(tmp_path: Path, budget: Budget, op: str, body: bytes, reason: str) -> None:
    from dnschaos.adapters.aws.target import _hermetic_session

    run = RealRun(
        _guarded(_hermetic_session("us-east-1")),
        RealAwsOptions(journal_dir=str(tmp_path), budget=budget),
        "dc1",
    )
    try:
        run._spend(op, body)
        with pytest.raises(BudgetExhausted, match=reason):
            run._spend(op, body)
        assert run.exhausted == f"budget reached: {reason}"
    finally:
        run.journal.close()


def test_budget_wall_time(tmp_path: Path) -> None:
    from dnschaos.adapters.aws.target import _hermetic_session

    options = RealAwsOptions(journal_dir=str(tmp_path), budget=Budget(wall_seconds=0.05))
    run = RealRun(_guarded(_hermetic_session("us-east-1")), options, "dc1")
    try:
        time.sleep(0.1)
        with pytest.raises(BudgetExhausted, match=r"of wall time > budget 0.05s"):
            run._spend("ListTables", b"{}")
    finally:
        run.journal.close()


# A journal line -> what read_journal says of it (None: a good line).
JOURNAL_LINES: dict[str, tuple[object, str | None]] = {
    "good-zone": ({"run": "r1", "op": "created", "kind": "zone", "id": "Z1", "name": "a."}, None),
    "good-intent": ({"run": "r1", "op": "intent", "kind": "zone", "name": "a.b."}, None),
    "good-table": ({"run": "r1", "op": "intent", "kind": "table", "name": None}, None),
    "no-op": ({"run": "r1", "kind": "zone"}, "its 'op' is None, not a string"),
    "zone-id-number": (
        {"run": "r1", "op": "created", "kind": "zone", "id": 5, "name": "a."},
        "its zone id 5 is not a valid one",
    ),
    "zone-id-missing": (
        {"run": "r1", "op": "created", "kind": "zone", "name": "a."},
        "its zone id None is not a valid one",
    ),
    "intent-name-path": (
        {"run": "r1", "op": "intent", "kind": "zone", "name": "a/../b"},
        "its zone name 'a/../b' is not a valid one",
    ),
    "table-name-path": (
        {"run": "r1", "op": "created", "kind": "table", "name": "../x"},
        "its table name '../x' is not a valid one",
    ),
    "caller-reference-number": (
        {"run": "r1", "op": "intent", "kind": "zone", "name": "a.", "caller_reference": 7},
        "its zone caller_reference 7 is not a valid one",
    ),
    "another-run": ({"run": "r2", "op": "start", "kind": "run"}, "it names run 'r2'"),
    "a-string": ("just a string", "a JSON string, not an object"),
    "null": (None, "a JSON null, not an object"),
}


@pytest.mark.parametrize("case", sorted(JOURNAL_LINES))
def test_journal_lines_are_checked_before_cleanup_reads_them(tmp_path: Path, case: str) -> None:
    import json

    from dnschaos.adapters.aws.real import BadJournal, read_journal

    line, says = JOURNAL_LINES[case]
    path = tmp_path / "r1.jsonl"
    path.write_text(json.dumps(line) + "\n")
    if says is None:
        assert read_journal(path, "r1") == [line]
        return
    with pytest.raises(BadJournal) as bad:
        read_journal(path, "r1")
    assert f"{path} line 1: {says}" in str(bad.value)


def test_deeply_nested_json_is_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    from dnschaos.adapters.aws.real import BadJournal, read_journal

    path = tmp_path / "r1.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(BadJournal, match="line 1: not JSON"):
        read_journal(path, "r1")


def test_run_ids_are_one_dns_label_of_lowercase_letters_and_digits() -> None:
    from dnschaos.adapters.aws.real import check_run_id, new_run_id

    for good in ("dc1", "0", "a" * 63, new_run_id()):
        assert check_run_id(good) == good
    for bad in ("", "../x", "A1", "a-b", "a.b", "a" * 64, "a/b", "é1"):
        with pytest.raises(UsageError, match="lowercase letters and digits only"):
            check_run_id(bad)
