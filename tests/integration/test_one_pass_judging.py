"""A run's history is decoded once for every checker of the core and the built-in
workloads, whatever their number; a reader that is not ours (a user's end invariant, a
third-party workload's stream) reads its own copy, so what it changes in an entry no
other checker sees; a reader that raises is unknown without holding the others up."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from dnschaos import checkers, judging
from dnschaos.checkers import PASS, UNKNOWN, Stream, Violation
from dnschaos.dns.metrics import dns_metrics
from dnschaos.faults.inject import unmatched
from dnschaos.runner import RunResult, run
from dnschaos.scenario.resolve import resolve_built


class Counted:
    """A history that counts how often it is read and how many entries it decodes."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.reads = 0
        self.decoded = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.reads += 1
        for line in self.lines:
            self.decoded += 1
            yield json.loads(line)


@pytest.fixture(scope="module")
def dns_run() -> RunResult:
    # The DNS view's scenario: the incident's checkers, what clients saw, DNS metrics.
    return run("incident-2025-dns", variant="legacy", seed=4)


def _readers(result: RunResult) -> dict[str, Any]:
    _, scenario = resolve_built(result.spec)
    readers: dict[str, Any] = {n: inv.check for n, inv in judging.chosen(scenario).items()}
    readers["dns metrics"] = dns_metrics
    readers["unmatched"] = functools.partial(unmatched, scenario.faults)
    return readers


def test_every_built_in_reader_is_fed_from_one_decode(dns_run: RunResult) -> None:
    readers = _readers(dns_run)
    assert len(readers) >= 6
    history = Counted(list(dns_run.history.lines()))
    once = checkers.read_once(history, readers)
    assert history.reads == 1 and history.decoded == len(dns_run.history)
    # The same findings as each reader reading the history for itself.
    for name, fn in readers.items():
        assert once[name] == (fn(dns_run.history), None), name
    assert [
        v.checker
        for v in checkers.verdicts_of(
            {n: once[n] for n in readers if n not in ("dns metrics", "unmatched")}
        )
    ] == [v.checker for v in dns_run.verdicts]


def test_no_built_in_reader_changes_what_it_reads(dns_run: RunResult) -> None:
    # Shared entries are safe only while every shared reader only reads them.
    entries = list(dns_run.history)
    before = copy.deepcopy(entries)
    for name, fn in _readers(dns_run).items():
        assert checkers._shares(fn), name
        fn(entries)
        assert entries == before, f"{name} changed an entry it was given"


class Meddler(Stream):
    """A third party's stream that blanks every probe's answers as it reads them."""

    name = "meddler"

    def feed(self, e: dict[str, Any]) -> list[Violation]:
        if e["kind"] == "probe":
            e["answers"] = 0
        return []


def test_a_reader_that_is_not_ours_cannot_change_what_ours_read(dns_run: RunResult) -> None:
    readers = _readers(dns_run)
    clean = checkers.read_once(dns_run.history, readers)

    def users_end_check(history: Iterable[dict[str, Any]]) -> list[Violation]:
        for e in history:
            e["kind"] = "nothing"  # a user's invariant may do anything with what it gets
        return []

    assert not checkers._shares(Meddler.check) and not checkers._shares(users_end_check)
    meddled = checkers.read_once(
        dns_run.history, {"meddler": Meddler.check, **readers, "user": users_end_check}
    )
    assert {n: meddled[n] for n in readers} == clean


def test_a_reader_that_raises_or_stops_early_holds_no_one_up(dns_run: RunResult) -> None:
    @checkers.shares_entries
    def broken(history: Iterable[dict[str, Any]]) -> list[Violation]:
        for e in history:
            if e["seq"] == 3:
                raise KeyError("boom")
        return []

    @checkers.shares_entries
    def first_only(history: Iterable[dict[str, Any]]) -> int:
        return int(next(iter(history))["seq"])

    broken.__module__ = first_only.__module__ = "dnschaos.tests"  # judged as if ours
    readers = {"broken": broken, "first": first_only, **_readers(dns_run)}
    read = checkers.read_once(dns_run.history, readers)
    assert isinstance(read["broken"][1], KeyError) and read["first"] == (0, None)
    verdicts = checkers.verdicts_of({"broken": read["broken"]})
    assert verdicts[0].status == UNKNOWN and "boom" in (verdicts[0].error or "")
    assert read["dns metrics"][0] == dns_run.dns["endpoints"]  # type: ignore[index]
    assert all(v.status != UNKNOWN for v in dns_run.verdicts)
    assert PASS in {v.status for v in dns_run.verdicts}
