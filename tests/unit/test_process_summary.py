"""The run summary says what a run with process actors controlled of them, and what not."""

from __future__ import annotations

from dnschaos.cli.common import process_lines


def test_a_run_with_process_actors_says_what_it_controlled() -> None:
    start = {
        "kind": "event",
        "event": "process-start",
        "controlled": ["request order", "answers"],
        "uncontrolled": ["the process's own threads and CPU time"],
    }
    history = [
        {**start, "actor": "b"},
        {"kind": "invoke", "actor": "a", "op": "GetChange"},
        {**start, "actor": "a"},
    ]
    assert process_lines(history) == [
        "process actors: a, b",
        "  controlled: request order, answers",
        "  not controlled: the process's own threads and CPU time",
    ]


def test_a_run_without_them_says_nothing() -> None:
    assert process_lines([{"kind": "event", "event": "challenge-ready", "actor": "a"}]) == []
