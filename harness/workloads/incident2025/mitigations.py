"""Mitigations side by side: the same run of a cascade scenario with each one switched on.

The baseline is the run already made; every other row is its spec with other
mitigations, run in worker processes. Each worker rebuilds its run from the spec
alone, so the rows differ by the mitigation and nothing else.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from dnschaos.runner import run
from dnschaos.scenario.spec import RunSpec
from dnschaos.workloads.incident2025.downstream.compare import Row, against, row, variants


def _one(spec_json: dict[str, Any], chosen: list[str]) -> Row:
    spec = replace(RunSpec.from_json(spec_json), mitigations=tuple(chosen))
    return row(chosen, cascade_of(run(spec)))


def cascade_of(result: Any) -> Mapping[str, Any] | None:
    """A result's cascade, as this workload recorded it."""
    recorded: Mapping[str, Any] = result.workloads.get("incident-2025", {})
    return recorded.get("cascade")


def compare(
    spec: RunSpec,
    baseline: Mapping[str, Any] | None,
    *,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """The baseline row (the cascade of the run of ``spec`` already made) and one row per
    mitigation, then all of them together."""
    say = progress or (lambda text: print(text, file=sys.stderr, flush=True))
    base = row([], baseline)
    todo = variants()
    data = replace(spec, mitigations=()).to_json()
    rows: list[Row]
    if workers <= 1:
        rows = []
        for chosen in todo:
            say(f"  .. running with {', '.join(chosen)}")
            rows.append(_one(data, chosen))
    else:
        say(f"  .. running {len(todo)} variants on {workers} worker processes")
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_one, data, c) for c in todo]
            rows = []
            for chosen, fut in zip(todo, futures, strict=True):
                rows.append(fut.result())
                say(f"  .. done: {', '.join(chosen)}")
    return against(base, [base, *rows])
