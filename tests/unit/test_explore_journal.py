"""An explore search recorded chain by chain, stopped anywhere, and resumed: it reports
what one uninterrupted search reports, and runs only what was not recorded.

The searches run generated toy programs (:mod:`tests.unit.toy_programs`) under the real
scheduler and the real delay search of ``dnschaos explore``; the stop is a Ctrl-C
(KeyboardInterrupt) raised by the runner at its n-th run, as the signal would arrive
mid-run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnschaos.errors import UsageError
from dnschaos.explore.delays import ExploreReport, Outcome, Schedule, Space, point_filter, search
from dnschaos.explore.journal import FILE, Journal
from dnschaos.inputs import InputError
from dnschaos.sim.strategies import ExploreStrategy
from tests.unit.toy_programs import Program, generate, run_program

HEADER = {"spec": {"scenario": "toy"}, "space": {"bound": 2}, "keep_going": True}


class Runner:
    """The toy program's runs; raises KeyboardInterrupt at run ``stop_at`` (1-based)."""

    def __init__(self, program: Program, stop_at: int | None = None) -> None:
        self.program = program
        self.stop_at = stop_at
        self.calls: list[Schedule] = []

    def __call__(self, space: Space, schedule: Schedule) -> Outcome:
        self.calls.append(schedule)
        if len(self.calls) == self.stop_at:
            raise KeyboardInterrupt
        strategy = ExploreStrategy(schedule, point_filter(space.points))
        got = run_program(self.program, strategy)
        held = strategy.held.get(schedule[-1].point, -1) if schedule else -1
        verdict = "fail" if got.violated else "pass"
        signature = ";".join(sorted(got.violated)) or None
        return Outcome(verdict, signature, got.reason, tuple(strategy.seen), held)


def _space(program: Program) -> Space:
    return Space(2, (0.5, 1.0), "calls", tuple(program.actors), True)


def _summary(report: ExploreReport) -> tuple[object, ...]:
    return (
        report.run,
        report.pruned,
        report.per_level,
        report.exhausted,
        report.levels_done,
        sorted(report.signatures.items(), key=str),
        report.found,
        report.unknown,
    )


def _program(seed: int = 0) -> Program:
    # A program whose search has several chains at each level, so a stop falls mid-level.
    for s in range(seed, seed + 200):
        program = generate(s, max_calls=5)
        report = search(Runner(program), _space(program), keep_going=True)
        if report.run >= 30 and len(report.per_level) == 3:
            return program
    raise AssertionError("no generated program with a search of 30 runs")


@pytest.fixture(scope="module")
def program() -> Program:
    return _program()


def test_a_search_stopped_anywhere_and_resumed_reports_what_one_whole_search_reports(
    program: Program, tmp_path: Path
) -> None:
    space = _space(program)
    whole = search(Runner(program), space, keep_going=True)
    assert whole.exhausted
    for stop_at in range(2, whole.run + 1, 3):
        store = tmp_path / f"stop-{stop_at}"
        first = Runner(program, stop_at=stop_at)
        with pytest.raises(KeyboardInterrupt):
            search(
                first,
                space,
                keep_going=True,
                journal=Journal.open(store, HEADER, resume=False),
            )
        journal = Journal.open(store, HEADER, resume=True)
        recorded = sum(e["runs"] for chains in journal.levels.values() for e in chains)
        again = Runner(program)
        resumed = search(again, space, keep_going=True, journal=journal)
        assert _summary(resumed) == _summary(whole), f"stopped at run {stop_at}"
        assert resumed.resumed == recorded
        # Only the base run and what was not recorded run again: nothing twice.
        assert len(again.calls) == 1 + whole.run - 1 - recorded, f"stopped at run {stop_at}"
        assert any(line.startswith("  resumed:") for line in resumed.lines()) == bool(recorded)


def test_a_search_cut_by_its_budget_goes_on_with_a_new_budget(
    program: Program, tmp_path: Path
) -> None:
    space = _space(program)
    whole = search(Runner(program), space, keep_going=True)
    cut = search(
        Runner(program),
        space,
        keep_going=True,
        max_schedules=7,
        journal=Journal.open(tmp_path, HEADER, resume=False),
    )
    assert cut.cut and not cut.exhausted
    resumed = search(
        Runner(program),
        space,
        keep_going=True,
        journal=Journal.open(tmp_path, HEADER, resume=True),
    )
    assert _summary(resumed) == _summary(whole)


def _stopped(program: Program, store: Path, stop_at: int) -> tuple[Path, list[str]]:
    """A search recorded in ``store`` and stopped by Ctrl-C at run ``stop_at``: its record,
    and the record's lines."""
    with pytest.raises(KeyboardInterrupt):
        search(
            Runner(program, stop_at=stop_at),
            _space(program),
            keep_going=True,
            journal=Journal.open(store, HEADER, resume=False),
        )
    path = store / FILE
    return path, path.read_text().splitlines(keepends=True)


def test_a_line_cut_short_by_a_crash_is_dropped_and_the_search_goes_on(
    program: Program, tmp_path: Path
) -> None:
    space = _space(program)
    path, lines = _stopped(program, tmp_path, stop_at=12)
    assert len(lines) >= 3
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # a torn write
    journal = Journal.open(tmp_path, HEADER, resume=True)
    assert sum(len(v) for v in journal.levels.values()) == len(lines) - 2
    assert path.read_text() == "".join(lines[:-1])  # the torn line is gone from the file too
    resumed = search(Runner(program), space, keep_going=True, journal=journal)
    assert _summary(resumed) == _summary(search(Runner(program), space, keep_going=True))


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda lines: ["{}\n", *lines[1:]], "(line 1): not the first line"),
        (lambda lines: [lines[0], "not json\n", *lines[2:]], "(line 2): not JSON"),
        (lambda lines: [lines[0], '{"level": 1}\n'], "(line 2): not a chain"),
        (lambda lines: [lines[0], lines[2], lines[1]], "out of order"),
        (lambda lines: [lines[0], "[" * 5000 + "]" * 5000 + "\n"], "nested too deeply"),
        (
            lambda lines: [lines[0], lines[1].replace('"runs":', '"runs":-', 1)],
            "not a count",
        ),
        (lambda lines: [], "empty"),
    ],
)
def test_a_damaged_record_is_an_input_error_naming_the_file_and_line(
    program: Program, tmp_path: Path, damage: object, named: str
) -> None:
    space = _space(program)
    path, lines = _stopped(program, tmp_path, stop_at=20)
    path.write_text("".join(damage(lines)))  # type: ignore[operator]
    with pytest.raises(InputError) as caught:
        journal = Journal.open(tmp_path, HEADER, resume=True)
        search(Runner(program), space, keep_going=True, journal=journal)
    assert str(path) in str(caught.value)
    assert named in str(caught.value)


def test_a_record_of_another_search_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    Journal.open(tmp_path, HEADER, resume=False)
    before = (tmp_path / FILE).read_bytes()
    other = {**HEADER, "space": {"bound": 3}}
    with pytest.raises(UsageError, match="records another search \\(its space is"):
        Journal.open(tmp_path, other, resume=True)
    with pytest.raises(UsageError, match="holds a search already; add --resume"):
        Journal.open(tmp_path, HEADER, resume=False)
    with pytest.raises(UsageError, match="does not exist; start the search without --resume"):
        Journal.open(tmp_path / "new", HEADER, resume=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is a file"):
        Journal.open(tmp_path / "file", HEADER, resume=False)
    assert (tmp_path / FILE).read_bytes() == before
    assert json.loads(before)["explore"] == 1
