"""The depth-first search's sleep sets on small programs under the real scheduler."""

from __future__ import annotations

from dnschaos.explore.dependence import PendingCalls
from dnschaos.explore.search import depth_first
from dnschaos.sim.strategies import DFSStrategy
from tests.unit.toy_programs import Program, run_program

T1, T2 = ("dynamodb", "t", "1"), ("dynamodb", "t", "2")


def _program(a: list[tuple[object, ...]], b: list[tuple[object, ...]], **kw: object) -> Program:
    return Program(
        {"a": a, "b": b},  # type: ignore[dict-item]
        {"a": [0.0] * 4, "b": [0.0] * 4},
        [],
        **kw,  # type: ignore[arg-type]
    )


def _search(program: Program, reduce: bool) -> tuple[set[object], DFSStrategy]:
    dfs = DFSStrategy(bound=100, footprints=PendingCalls() if reduce else None)
    runs = depth_first(lambda s: run_program(program, s), dfs, 10_000)
    assert dfs.exhausted
    return {r.final for r, skip in zip(runs, dfs.redundant, strict=True) if not skip}, dfs


def test_orders_of_commuting_calls_are_run_once() -> None:
    # Two reads of different items, and a read and a write of different items: the calls
    # commute; the actors' own code (start, and what follows each call) does not.
    for b in ([("get", T2, "y")], [("put", T2, ("const", 1))]):
        program = _program([("get", T1, "x")], b)
        full, full_dfs = _search(program, reduce=False)
        reduced, dfs = _search(program, reduce=True)
        assert reduced == full
        assert full_dfs.runs == 20  # C(6, 3): three steps each
        assert dfs.runs < full_dfs.runs and dfs.pruned > 0


def test_a_write_and_a_read_of_one_item_are_tried_in_both_orders() -> None:
    program = _program([("get", T1, "x")], [("put", T1, ("const", 1))])
    full, _ = _search(program, reduce=False)
    reduced, _ = _search(program, reduce=True)
    assert reduced == full
    seen = {dict(regs)["a"] for _world, regs, _shared in reduced}  # type: ignore[misc]
    assert {dict(r)["x"] for r in seen} == {0, 1}  # a read 0 or 1: both orders ran


def test_without_footprints_the_search_is_the_plain_dfs() -> None:
    program = _program([("get", T1, "x")], [("get", T2, "y")])
    _, dfs = _search(program, reduce=False)
    assert dfs.pruned == 0 and not any(dfs.redundant)
