"""dnschaos fuzz: Search a scenario's fault space (or, guided, its schedules) for violations: a campaign."""

from __future__ import annotations

import argparse
import time
from typing import Any, Final

from dnschaos.cli.common import (
    EXIT_OK,
    EXIT_VIOLATION,
    Listed,
    check_directory,
    check_writable,
    cluster_client,
    complete_scenario,
    scenarios,
    size_line,
    status_line,
    write_json,
)
from dnschaos.errors import UsageError
from dnschaos.scenario.spec import RunSpec

# fuzz --strategy: the strategies a blind campaign's cases are drawn from ("mix" is the
# campaign's own STRATEGY_MIX; kept here so --help needs no import of the engine).
FUZZ_MIXES: Final[dict[str, tuple[str, ...]]] = {
    "mix": ("random", "random", "pct"),
    "random": ("random",),
    "pct": ("pct",),
    "delay": ("delay",),
}
SUMMARY: Final = "search a scenario's fault space for violations"


def add_flags(fz: argparse.ArgumentParser) -> None:
    import shtab

    from dnschaos.dns.stack import SERVERS

    fz.description = (
        "Draw cases from a scenario's [fuzz] fault space until the budget is spent; "
        "each failure is written to the store at once, and the first of each group shrunk."
    )
    known = scenarios()
    what = fz.add_argument_group("what to run")
    complete_scenario(
        what.add_argument("scenario", help=f"scenario with a [fuzz] fault space: {known}")
    )
    what.add_argument("--variant", help="a workload option: legacy, safe or module:Class")
    what.add_argument(
        "--planner", metavar="PLANNER", help="the planner: default, or your own as module:Class"
    )
    what.add_argument(
        "--invariant",
        action="append",
        default=[],
        metavar="NAME",
        help="judge only this invariant (repeatable; default: all)",
    )
    sched = fz.add_argument_group("scheduling")
    sched.add_argument(
        "--budget", default="60s", help="wall time (60s, 5m, 1h) or a number of runs (default 60s)"
    )
    sched.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    sched.add_argument(
        "--cluster",
        metavar="tcp://HOST:PORT",
        help="run the cases on the workers of this Dask scheduler instead "
        "(needs dnschaos[cluster])",
    )
    sched.add_argument("--seed", type=int, default=1, help="campaign seed: which cases (default 1)")
    sched.add_argument(
        "--stop-after", type=int, metavar="N", help="stop once N failures were found"
    )
    sched.add_argument(
        "--guided",
        action="store_true",
        help="coverage-guided: mutate cases that reached new abstract states (holds, faults, "
        "seeds); works without a fault space",
    )
    sched.add_argument(
        "--strategy",
        choices=Listed(FUZZ_MIXES),
        default="mix",
        help="blind cases' scheduling: mix (random twice as often as pct), random, pct or "
        "delay (default mix)",
    )
    sched.add_argument(
        "--no-shrink", action="store_true", help="do not shrink the first failure of each group"
    )
    sched.add_argument(
        "--shrink-runs", type=int, default=30, help="re-runs per shrink (default 30)"
    )
    dns = fz.add_argument_group("DNS")
    dns.add_argument("--dns", choices=Listed(SERVERS), help="the authoritative server")
    output = fz.add_argument_group("output")
    output.add_argument(
        "--store",
        metavar="DIR",
        help="failure store (default out/fuzz-SCENARIO-VARIANT); each failure is written "
        "there the moment it is found",
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]
    output.add_argument("--resume", action="store_true", help="continue the campaign in --store")
    output.add_argument(
        "--json", metavar="PATH", help="write the campaign summary as JSON"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    output.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dnschaos.explore.campaign import (
        default_progress,
        fuzz,
        open_campaign,
        parse_budget,
        shrink_groups,
    )
    from dnschaos.scenario.resolve import build, resolve

    # A time budget covers everything the command does: setting up, the search, the
    # shrinking after it; its clock starts now.
    started = time.monotonic()
    check_writable("--json", args.json)
    seconds, runs = parse_budget(args.budget)
    if args.stop_after is not None and args.stop_after < 1:
        raise UsageError(f"--stop-after {args.stop_after}: must be at least 1")
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    if args.shrink_runs < 1:
        raise UsageError(f"--shrink-runs {args.shrink_runs}: must be at least 1")
    spec = resolve(
        RunSpec(
            scenario=args.scenario,
            variant=args.variant,
            planner=args.planner,
            dns=args.dns,
            invariants=tuple(args.invariant),
        )
    )
    if args.strategy not in FUZZ_MIXES:
        raise UsageError(
            f"--strategy {args.strategy!r}: unknown for fuzz; choose one of {', '.join(FUZZ_MIXES)}"
        )
    scenario = build(spec)
    if args.guided and args.strategy != "mix":
        raise UsageError("--guided draws its own cases; leave out --strategy")
    if not scenario.fuzz_faults and not args.guided and args.strategy == "mix":
        raise UsageError(
            f"fuzz {args.scenario}: the scenario has no [fuzz] fault space; try "
            "steady-state, add [[fuzz.faults]] templates, use --guided (which holds actors "
            "instead), or choose --strategy random, pct or delay to search orders only"
        )
    variant = spec.variant or "own"  # a run of the user's own actors has no variant
    store = Path(args.store or f"out/fuzz-{scenario.name}-{variant.replace(':', '_')}")
    check_directory("--store", str(store))
    client = cluster_client(args)
    try:
        campaign = open_campaign(
            spec,
            args.seed,
            store,
            resume=args.resume,
            guided=args.guided,
            mix=FUZZ_MIXES[args.strategy],
            scenario=scenario,
        )
    except BaseException:
        if client is not None:
            client.close()
        raise
    runner = None
    if client is not None:
        from dnschaos.explore.cluster import ClusterRunner

        runner = ClusterRunner(client, campaign.spec)
    say = (lambda _m: None) if args.quiet else default_progress

    def out_of_time() -> bool:
        return seconds is not None and time.monotonic() - started >= seconds

    with status_line(f"fuzz {scenario.name}", live=not args.quiet) as status:

        def searching(message: str) -> None:
            # The campaign's periodic "runs N · R runs/s · failures F ..." line becomes the
            # status line on a terminal; everything else is printed as it comes.
            if status.live and message.startswith("runs "):
                status.counters = message
                status.show(status.case)
            else:
                say(message)
                if message.startswith("failure: "):
                    status.show("last " + message)

        fuzz(
            campaign,
            scenario,
            seconds=None if seconds is None else max(0.0, seconds - (time.monotonic() - started)),
            runs=runs,
            workers=args.workers,
            stop_after=args.stop_after,
            progress=searching,
            runner=runner,
        )
    print(
        f"fuzz {scenario.name}{f' · variant {spec.variant}' if spec.variant else ''} · "
        f"campaign seed {campaign.seed}: "
        f"{campaign.runs} runs in {campaign.wall:.0f}s, {campaign.failures} failures "
        f"in {len(campaign.groups)} groups (store {store})"
    )
    cells = campaign.coverage.summary()
    print(
        f"coverage: {cells['states']} abstract states, {cells['transitions']} transitions"
        + (f"; corpus {len(campaign.guided.corpus)} cases" if campaign.guided else "")
    )
    if campaign.first_failure_wall is not None:
        print(
            f"first failure after {campaign.first_failure_wall:.1f}s "
            f"({campaign.first_failure_runs} runs)"
        )

    def shown(group: dict[str, Any]) -> None:
        print(f"- {group['invariant']}: {len(group['files'])} case(s), e.g. {group['files'][0]}")
        for line in group["story"]:
            print(f"    {line}")

    def shrunk_line(out: dict[str, Any]) -> None:
        print(
            f"    shrunk to {out['file']} ({out['runs']} re-runs): {size_line(out['before'])} "
            f"-> {size_line(out['after'])}; replay with: dnschaos replay {out['file']}"
        )

    shrunk = shrink_groups(
        campaign,
        max_runs=args.shrink_runs,
        enabled=not args.no_shrink,
        progress=say,
        on_group=shown,
        on_shrunk=shrunk_line,
        stop=out_of_time,
    )
    for group in campaign.groups.values():
        if group.get("not_shrunk") == "budget":
            print(f"- {group['invariant']}: not shrunk: budget ({group['files'][0]} kept as found)")
    if args.json:
        write_json(args.json, {**campaign.to_json(), "store": str(store), "shrunk": shrunk})
    return EXIT_VIOLATION if campaign.failures else EXIT_OK
