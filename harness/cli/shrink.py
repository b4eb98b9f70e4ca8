"""dnschaos shrink: Shrink a failing result to a minimal case that fails the same way."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Final

from dnschaos.cli.common import (
    EXIT_VIOLATION,
    check_writable,
    size_line,
    write_result,
)
from dnschaos.errors import UsageError
from dnschaos.scenario.spec import RunSpec

SUMMARY: Final = "reduce a failing case to a minimal one that fails the same way"


def add_flags(sh: argparse.ArgumentParser) -> None:
    import shtab

    sh.add_argument(
        "result", help="a failure from a fuzz store, or any 'dnschaos run --json' result"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    sh.add_argument(
        "-o", "--output", help="where to write the shrunk result (default RESULT.shrunk.json)"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    sh.add_argument("--max-runs", type=int, default=40, help="re-runs at most (default 40)")
    sh.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from dnschaos.explore.replay import recorded_choices
    from dnschaos.explore.shrink import Case, shrink, shrunk_json
    from dnschaos.runner import run
    from dnschaos.scenario.spec import load_result

    recorded = load_result(args.result)
    spec = RunSpec.from_result(recorded, source=args.result)
    output = args.output or args.result.removesuffix(".json") + ".shrunk.json"
    check_writable("-o", output)
    if args.max_runs < 1:
        raise UsageError(f"--max-runs {args.max_runs}: must be at least 1")
    say = (lambda _m: None) if args.quiet else (lambda m: print(f"  .. {m}", file=sys.stderr))
    original = None
    if spec.clock == "sim" and recorded.get("choices"):
        # Start from the recorded run itself, not a fresh draw of its seed.
        original = run(spec, replay=recorded_choices(recorded, args.result))
    case = None if recorded.get("case") is None else Case.from_json(recorded["case"], args.result)
    done = shrink(spec, case=case, original=original, max_runs=args.max_runs, progress=say)
    write_result(output, shrunk_json(done, os.path.basename(args.result)))
    print(f"shrunk {args.result}: fails {done.invariant}; {done.runs} re-runs")
    print(f"  before: {size_line(done.before.to_json())}")
    print(f"  after:  {size_line(done.after.to_json())}")
    for text in done.case.faults:
        print(f"  fault: {text}")
    print(f"written to {output}; replay with: dnschaos replay {output}")
    return EXIT_VIOLATION
