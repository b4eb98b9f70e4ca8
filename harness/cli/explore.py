"""dnschaos explore: Systematic search over a stated space of schedules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from dnschaos.cli.common import (
    EXIT_HARNESS,
    EXIT_OK,
    VERDICT_EXIT,
    check_directory,
    check_writable,
    cluster_note,
    complete_scenario,
    overrides,
    print_result,
    scenarios,
    status_line,
    write_json,
)
from dnschaos.errors import UsageError
from dnschaos.scenario.spec import RunSpec

SUMMARY: Final = "systematic search: every schedule with at most K delays in a stated space"


def add_flags(ex: argparse.ArgumentParser) -> None:
    import shtab

    ex.description = (
        "Enumerate schedules of a scenario: the first ready actor always runs, "
        "and at most --bound times an actor (the code under test, or those given with "
        "--actor) is held just before one of its AWS calls (--points) for one of a few "
        "durations over the scenario's delay range; stop at the first violation. The summary "
        "prints the space; 'exhausted' is said only when every schedule of it was run (a set "
        "of holds met twice is run once). Exit 1: a violation; 3: no violation, but a run "
        "ended unknown (a limit, a harness error); 0: no violation and no unknown run, the "
        "summary saying whether the space was exhausted or the budget ran out first."
    )
    known = scenarios()
    complete_scenario(ex.add_argument("scenario", help=f"scenario name: {known}"))
    ex.add_argument("--variant", help="a workload option: legacy, safe or module:Class")
    ex.add_argument("--bound", type=int, default=2, help="at most K holds a schedule (default 2)")
    ex.add_argument(
        "--invariant",
        action="append",
        default=[],
        metavar="NAME",
        help="judge (and stop at) only this invariant (repeatable; default: all)",
    )
    ex.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a scenario value over the file's, by dotted key (as for run)",
    )
    ex.add_argument("--seed", type=int, default=None, help="seed of the latency draws")
    ex.add_argument(
        "--points",
        default="calls",
        choices=("calls", "writes"),
        help="where a hold may fall: just before any AWS call of a held actor (default), "
        "or only before its calls that write",
    )
    ex.add_argument(
        "--actor",
        action="append",
        default=None,
        metavar="NAME",
        help="hold only this actor (repeatable; default: every actor under test)",
    )
    ex.add_argument(
        "--durations",
        default="0.25,0.5,1",
        metavar="F,F,...",
        help="delay durations as fractions of the scenario's delay range (default 0.25,0.5,1)",
    )
    ex.add_argument(
        "--no-reduce",
        action="store_true",
        help="run every schedule the levels meet, also a set of holds met a second time",
    )
    ex.add_argument("--max-schedules", type=int, default=100_000, help="stop after this many runs")
    ex.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    ex.add_argument(
        "--cluster",
        metavar="tcp://HOST:PORT",
        help="run the schedules on the workers of this Dask scheduler instead "
        "(needs dnschaos[cluster])",
    )
    ex.add_argument(
        "--store",
        metavar="DIR",
        help="record each finished chain of schedules in DIR/explore.jsonl as it ends, so "
        "that a search stopped by Ctrl-C, SIGTERM, a crash or --max-schedules can go on "
        "with --resume",
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]
    ex.add_argument(
        "--resume",
        action="store_true",
        help="continue the search recorded in --store (same scenario, flags and seed): "
        "recorded chains are read back, not run again",
    )
    ex.add_argument(
        "--json", metavar="PATH", help="write the violating (or base) run as JSON to PATH"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    ex.add_argument("-q", "--quiet", action="store_true", help="print only the summary")


def run(args: argparse.Namespace) -> int:
    from dnschaos.explore.delays import explore, make_space, with_bound

    check_writable("--json", args.json)
    if args.resume and args.store is None:
        raise UsageError("--resume: give the --store DIR of the search to continue")
    if args.store is not None:
        check_directory("--store", args.store)
    if args.max_schedules < 1:
        raise UsageError(f"--max-schedules {args.max_schedules}: must be at least 1")
    if args.cluster is not None and args.workers != 1:
        raise UsageError(
            f"--workers {args.workers} with --cluster: the cluster's workers run the "
            "schedules; give one of the two"
        )
    try:
        fractions = tuple(float(f) for f in args.durations.split(","))
    except ValueError:
        raise UsageError(
            f"--durations {args.durations!r}: not numbers separated by commas"
        ) from None
    if not fractions or any(not 0 < f <= 1 for f in fractions):
        raise UsageError(f"--durations {args.durations!r}: each fraction must be in (0, 1]")
    spec = RunSpec(
        scenario=args.scenario,
        variant=args.variant,
        seed=args.seed,
        invariants=tuple(args.invariant),
        overrides=overrides(args.set),
    )
    space = make_space(
        spec,
        args.bound,
        points=args.points,
        fractions=fractions,
        reduce=not args.no_reduce,
        actors=args.actor,
    )
    with status_line(f"explore {args.scenario}", live=not args.quiet) as status:
        status.show("schedule 1")

        def each(ran: int, pruned: int) -> None:
            status.show(f"{ran} run, {pruned} pruned")

        try:
            result, report = explore(
                with_bound(spec, args.bound),
                space,
                max_schedules=args.max_schedules,
                workers=args.workers,
                progress=each,
                cluster=args.cluster,
                store=None if args.store is None else Path(args.store),
                resume=args.resume,
                note=cluster_note(args),
            )
        except KeyboardInterrupt:
            print(_interrupted(args.store), file=sys.stderr)
            raise
    for line in report.lines():
        print(line)
    if report.found is not None or report.unknown:
        print_result(result, quiet=args.quiet)
    if args.json:
        payload = result.to_json()
        payload["explore"] = report.to_json()
        payload["reproduce"] = f"dnschaos replay {args.json}"
        write_json(args.json, payload)
    if report.found is not None:
        return VERDICT_EXIT[result.verdict]
    # As for run: a run without a verdict is no pass, so neither is a search that met one.
    return EXIT_HARNESS if report.unknown else EXIT_OK


def _interrupted(store: str | None) -> str:
    if store is None:
        return (
            "explore: interrupted; nothing was recorded (give --store DIR to record each "
            "finished chain, and --resume to go on from there)"
        )
    return (
        f"explore: interrupted; every finished chain is recorded in {store}; go on with "
        f"the same command and --resume"
    )
