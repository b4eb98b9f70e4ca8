"""dnschaos run: Run a scenario and judge it."""

from __future__ import annotations

import argparse
import os
from typing import Any, Final

from dnschaos.cli.common import (
    STDOUT,
    VERDICT_EXIT,
    Listed,
    check_writable,
    complete_scenario,
    overrides,
    print_result,
    scenarios,
    status_line,
    write,
    write_result,
)
from dnschaos.errors import UsageError
from dnschaos.scenario.spec import RunSpec

SUMMARY: Final = "run a scenario and judge it"


def add_flags(parser: argparse.ArgumentParser) -> None:
    import shtab

    from dnschaos.adapters.aws.target import TARGETS
    from dnschaos.cli import aws as aws_commands
    from dnschaos.dns.stack import RESOLVERS, SERVERS
    from dnschaos.scenario.spec import CLOCKS, RUN_STRATEGIES

    parser.description = (
        "Run a scenario under the deterministic scheduler (or on wall time) and "
        "judge it. Exit 0: every invariant held; 1: a violation; 2: bad input; 3: no verdict."
    )
    known = scenarios()
    what = parser.add_argument_group("what to run")
    complete_scenario(what.add_argument("scenario", help=f"scenario name: {known}"))
    what.add_argument(
        "--variant",
        help="a workload option: incident-2025's enactors, legacy, safe or your own "
        "module:Class (default legacy)",
    )
    what.add_argument(
        "--planner",
        metavar="PLANNER",
        help="a workload option: incident-2025's planner, default or your own module:Class",
    )
    what.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a scenario value over the file's, by dotted key: 'scenario.duration=600', "
        "'cascade.race_by=120' (a TOML value; checked like the file's own; repeatable)",
    )
    what.add_argument(
        "--invariant",
        action="append",
        default=[],
        metavar="NAME",
        help="judge only this invariant (repeatable; default: all of the scenario's)",
    )
    what.add_argument(
        "--target",
        default="moto",
        choices=Listed(TARGETS),
        help="AWS target: moto (in-process, default) or moto-server (needs --endpoint-url)",
    )
    what.add_argument(
        "--endpoint-url",
        help="--target moto-server: the server on loopback, e.g. http://127.0.0.1:5000 "
        "(start one with: python -m dnschaos.adapters.aws.moto_server)",
    )
    aws_commands.add_flags(parser)

    sched = parser.add_argument_group("scheduling")
    sched.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of every random choice (default: the scenario's own seed, else 7)",
    )
    sched.add_argument(
        "--strategy",
        default="random",
        choices=Listed(RUN_STRATEGIES),
        help="who runs next (default random)",
    )
    sched.add_argument("--pct-depth", type=int, default=3, help="pct: bug depth d (default 3)")
    sched.add_argument(
        "--delays",
        type=int,
        default=2,
        help="delay: at most K holds of an actor per run, each up to the scenario's longest "
        "timeout, interval or lock expiry (default 2)",
    )
    sched.add_argument(
        "--runs",
        type=int,
        default=1,
        help="random/pct/delay: seeds SEED..SEED+N-1, stopping at the first violation; "
        "dfs: at most N schedules (default 1)",
    )
    sched.add_argument(
        "--dfs-bound", type=int, default=12, help="dfs: steps branched on (default 12)"
    )
    sched.add_argument(
        "--clock",
        default="sim",
        choices=Listed(CLOCKS),
        help="virtual time under the scheduler, or free threads on wall time (default sim)",
    )
    sched.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="--clock real: wall seconds per scenario second (default 1.0; 0.01 runs 100x faster)",
    )
    sched.add_argument(
        "--keep-going", action="store_true", help="do not stop a run at its first violation"
    )

    dns = parser.add_argument_group("DNS")
    dns.add_argument(
        "--dns",
        choices=Listed(SERVERS),
        help="authoritative DNS for the probes: embedded (the data plane served in-process), "
        "bind9 or knot (real servers fed by RFC 2136); default: the scenario's [dns], if any",
    )
    dns.add_argument(
        "--resolver",
        choices=Listed(RESOLVERS),
        help="caching resolver in front of it (unbound needs --clock real)",
    )

    faults = parser.add_argument_group("faults and mitigations")
    faults.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="add a fault, e.g. 'kind=latency,actor=enactor-c,service=route53,seconds=40,"
        "start=60,end=3600' (keys as in a scenario's [[faults]]; match keys go to its match)",
    )
    faults.add_argument(
        "--mitigation",
        action="append",
        default=[],
        metavar="NAME",
        help="a workload option: switch a mitigation on (incident-2025's cascade: "
        "dwfm-throttle, propagation-throttle, velocity-control, no-auto-failover); repeatable",
    )
    faults.add_argument(
        "--compare-mitigations",
        action="store_true",
        help="cascade scenarios: run without mitigations, with each one, and with all, and "
        "report each one's effect on the time to full recovery",
    )
    faults.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="--compare-mitigations: worker processes for the mitigated runs (default: one per CPU)",
    )

    output = parser.add_argument_group("output")
    output.add_argument(
        "--json", metavar="PATH", help="write the result as JSON to PATH"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    output.add_argument(
        "--history", metavar="PATH", help="write the history (JSON Lines) to PATH"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    output.add_argument(
        "--history-wall",
        action="store_true",
        help="with --history: add each entry's wall seconds (the file is then no longer "
        "byte-identical between runs; the digest never includes them)",
    )
    output.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")


def _spec(args: argparse.Namespace) -> RunSpec:
    """The run the flags describe, resolved: every value checked before anything starts."""
    from dnschaos.scenario.resolve import build, resolve
    from dnschaos.workload import options_taken

    if args.runs < 1:
        raise UsageError(f"--runs {args.runs}: must be at least 1")
    if args.clock == "real" and args.runs > 1:
        raise UsageError("--clock real runs free threads: --runs applies to --clock sim only")
    if args.compare_mitigations:
        if args.mitigation:
            raise UsageError(
                "--compare-mitigations runs its own baseline without mitigations and then each "
                "one in turn: drop --mitigation"
            )
        if args.workers < 1:
            raise UsageError(f"--workers {args.workers}: must be at least 1")
    spec = RunSpec(
        scenario=args.scenario,
        variant=args.variant,
        planner=args.planner,
        seed=args.seed,
        strategy=args.strategy,
        pct_depth=args.pct_depth,
        delays=args.delays,
        dfs_bound=args.dfs_bound,
        clock=args.clock,
        time_scale=args.time_scale,
        target=args.target,
        endpoint_url=args.endpoint_url,
        dns=args.dns,
        resolver=args.resolver,
        faults=tuple(args.fault),
        mitigations=tuple(args.mitigation),
        stop_on_violation=not args.keep_going,
        invariants=tuple(args.invariant),
        overrides=overrides(args.set),
    )
    spec = resolve(spec)
    if spec.target == "moto-server" and spec.endpoint_url:
        from dnschaos.adapters.aws.moto_server import check_reachable

        check_reachable(spec.endpoint_url)
    if args.compare_mitigations and "mitigations" not in options_taken(build(spec)):
        raise UsageError(
            f"--compare-mitigations: no workload of scenario {args.scenario} takes mitigations "
            "(a cascade-2025 style [cascade] table does); use cascade-2025"
        )
    return spec


def _inapplicable(args: argparse.Namespace) -> None:
    """Refuse flags that only apply to another scenario or mode: they would be ignored."""
    given = [
        args.time_scale != 1.0 and args.clock != "real",
        args.pct_depth != 3 and args.strategy != "pct",
        args.dfs_bound != 12 and args.strategy != "dfs",
        args.history_wall and not args.history,
    ]
    flags = [
        ("--time-scale", "applies to --clock real only"),
        ("--pct-depth", "applies to --strategy pct only"),
        ("--dfs-bound", "applies to --strategy dfs only"),
        ("--history-wall", "applies with --history only"),
    ]
    for (flag, rule), bad in zip(flags, given, strict=True):
        if bad:
            raise UsageError(f"{flag}: {rule}; drop it (it would be ignored)")


def run(args: argparse.Namespace) -> int:
    check_writable("--json", args.json)
    check_writable("--history", args.history)
    _inapplicable(args)
    from dnschaos.cli.aws import check_inapplicable
    from dnschaos.explore.search import seeds, systematic

    check_inapplicable(args)
    spec = _spec(args)
    dfs = spec.strategy == "dfs"
    status = status_line(
        args.scenario if spec.strategy == "random" else f"{args.scenario} · {spec.strategy}",
        live=args.runs > 1 and not args.quiet,
        total=args.runs,
    )

    def each(done: Any) -> None:
        if not dfs and args.runs > 1 and not args.quiet:
            first = done.headline.invariant if done.headline else ""
            print(f"seed {done.seed}: {done.verdict} {first}".rstrip())
        status.ran(
            failed=done.verdict != "pass",
            case=f"schedule {status.runs + 2}" if dfs else f"seed {done.seed + 1}",
        )

    with status:
        status.show("schedule 1" if dfs else f"seed {spec.seed}")
        if dfs:
            result, report = systematic(spec, args.runs, progress=each)
        elif spec.target == "aws":
            result = _run_aws(args, spec)
        else:
            result = seeds(spec, args.runs, progress=each)
    if dfs:
        print(report.line())
    print_result(result, quiet=args.quiet)
    payload = result.to_json()
    if args.compare_mitigations:
        from dnschaos import workload

        with status_line("comparing mitigations", live=not args.quiet) as comparing:

            def compared(message: str) -> None:
                text = message.strip().removeprefix(".. ")
                if text.startswith("done: "):
                    comparing.ran(case=text)
                else:
                    comparing.show(text)

            found = [
                workload.load(name).compare(
                    result.spec,
                    recorded,
                    workers=args.workers,
                    progress=compared if comparing.live else None,
                )
                for name, recorded in result.workloads.items()
            ]
        for lines, rows in filter(None, found):
            for line in lines:
                print(line)
            payload["mitigation_comparison"] = rows
    if args.json:
        write_result(args.json, payload)
    if args.history:
        if args.history in STDOUT:
            write(args.history, "".join(result.history.lines(args.history_wall)))
        else:
            result.history.write(args.history, wall=args.history_wall)
    return VERDICT_EXIT[result.verdict]


def _run_aws(args: argparse.Namespace, spec: RunSpec) -> Any:
    from dnschaos.cli.aws import real_target
    from dnschaos.runner import run

    if args.runs > 1:
        raise UsageError("--target aws: one run at a time; drop --runs")
    result = run(spec, target=real_target(args))
    aws = result.aws or {}
    print(
        f"aws run {aws.get('run_id')} in account {aws.get('account')}: deleted "
        f"{len(aws.get('cleanup', {}).get('deleted', []))} resources at the end"
    )
    return result
