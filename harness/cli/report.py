"""dnschaos report: Write the report of a result: an HTML page or a PNG plot."""

from __future__ import annotations

import argparse
import os
from typing import Final

from dnschaos.cli.common import (
    EXIT_OK,
    STDOUT,
    check_writable,
    write,
    write_bytes,
)
from dnschaos.errors import UsageError
from dnschaos.inputs import read_lines

SUMMARY: Final = "write an HTML report or a timeline PNG for a result"


def add_flags(rpt: argparse.ArgumentParser) -> None:
    import shtab

    rpt.add_argument(
        "result", help="a result JSON written by 'dnschaos run --json'"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    rpt.add_argument(
        "-o", "--output", required=True, help="report.html, timeline.png, or - (the page on stdout)"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    rpt.add_argument(
        "--history",
        metavar="PATH",
        help="the run's history (from 'run --history'); without it a --clock sim run is "
        "replayed to rebuild it",
    ).complete = shtab.FILE  # type: ignore[attr-defined]


def run(args: argparse.Namespace) -> int:
    from dnschaos.explore.replay import history_of
    from dnschaos.report import render_html, timeline_png, workload_png
    from dnschaos.scenario.spec import load_result

    out = args.output
    if out not in STDOUT and not out.endswith((".html", ".png")):
        raise UsageError(
            f"-o {out}: the report is .html (page with story and plot) or .png (the plot), "
            "or - (the page, on standard output)"
        )
    check_writable("-o", out)
    if out.endswith(".png"):
        from dnschaos.extras import require
        from dnschaos.report.plots import PLOTS

        require("report", PLOTS)  # before the history is read or replayed
    recorded = load_result(args.result)
    missing = [k for k in ("scenario", "verdict", "violations") if k not in recorded]
    if missing:
        raise UsageError(f"{args.result}: not a dnschaos result (missing {', '.join(missing)})")
    if args.history:
        if not os.path.lexists(args.history):
            raise UsageError(f"--history {args.history}: no such file")
        entries = read_lines(
            args.history, "the file 'dnschaos run --history' wrote", f"--history {args.history}"
        )
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or not {"seq", "t", "kind"} <= set(entry):
                raise UsageError(
                    f"--history {args.history}: line {number} is not a history entry (an "
                    "object with seq, t and kind); give the file 'dnschaos run --history' wrote"
                )
    elif _spec_clock(recorded, args.result) == "sim" and "choices" in recorded:
        entries = history_of(recorded, args.result)
    else:
        raise UsageError(
            f"{args.result}: this run cannot be replayed; give its history with --history "
            "(write it with 'dnschaos run --history PATH')"
        )
    if out.endswith(".png"):
        # A workload may plot its run its own way (a cascade: its phases beside 2025's).
        plot = workload_png(recorded, entries)
        write_bytes(out, plot if plot is not None else timeline_png(recorded, entries))
    else:
        write(out, render_html(recorded, entries))
    if out not in STDOUT:
        print(f"wrote {out}")
    return EXIT_OK


def _spec_clock(recorded: dict[str, object], source: str) -> str:
    """The clock of the run a result file describes, read from its spec."""
    from dnschaos.scenario.spec import RunSpec

    return RunSpec.from_result(recorded, source=source).clock
