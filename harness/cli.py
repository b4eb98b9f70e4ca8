"""The ``dnschaos`` command: arguments in, library calls, printing out.

Exit codes: 0 invariants held, 1 violation found, 2 usage or input error,
3 harness error (with the reason), including a run that ended without a
verdict (deadlock, step/time limits) and a replay that diverged; 130
interrupted. The loops (seeds, systematic search, replay, shrinking, fuzz
campaigns, the mitigation comparison) live in ``dnschaos.explore``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import Any, Final

from dnschaos._version import __version__
from dnschaos.errors import DnsChaosError, ReplayDivergenceError, UsageError
from dnschaos.scenario.spec import RunSpec

EXIT_OK: Final = 0
EXIT_VIOLATION: Final = 1
EXIT_USAGE: Final = 2
EXIT_HARNESS: Final = 3
EXIT_INTERRUPTED: Final = 130
VERDICT_EXIT: Final = {"pass": EXIT_OK, "fail": EXIT_VIOLATION, "unknown": EXIT_HARNESS}


class _Listed(tuple[str, ...]):
    """A closed set of values that ``--help`` lists and shell completion offers, while the
    library checks the value: its messages name the flag, list the choices and give hints
    (``--strategy replay``: use ``dnschaos replay``) and exit 2 through :func:`main`."""

    def __contains__(self, value: object) -> bool:
        return True


def _parser() -> argparse.ArgumentParser:
    import shtab

    from dnschaos import aws_commands
    from dnschaos.adapters.aws.target import TARGETS
    from dnschaos.dns.stack import RESOLVERS, SERVERS
    from dnschaos.scenario.load import builtin_names
    from dnschaos.scenario.spec import CLOCKS, RUN_STRATEGIES

    scenarios = ", ".join(builtin_names()) + ", a path to a .toml file, or module:function"
    p = argparse.ArgumentParser(
        prog="dnschaos",
        description="Chaos injection for DNS automation against Route 53 semantics.",
    )
    p.add_argument("--version", action="version", version=f"dnschaos {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario and judge it",
        description="Run a scenario under the deterministic scheduler (or on wall time) and "
        "judge it. Exit 0: every invariant held; 1: a violation; 2: bad input; 3: no verdict.",
    )
    what = run.add_argument_group("what to run")
    what.add_argument("scenario", help=f"scenario name: {scenarios}")
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
        choices=_Listed(TARGETS),
        help="AWS target: moto (in-process, default) or moto-server (needs --endpoint-url)",
    )
    what.add_argument(
        "--endpoint-url",
        help="--target moto-server: the server on loopback, e.g. http://127.0.0.1:5000 "
        "(start one with: python -m dnschaos.adapters.aws.moto_server)",
    )
    aws_commands.add_flags(run)

    sched = run.add_argument_group("scheduling")
    sched.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of every random choice (default: the scenario's own seed, else 7)",
    )
    sched.add_argument(
        "--strategy",
        default="random",
        choices=_Listed(RUN_STRATEGIES),
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
        choices=_Listed(CLOCKS),
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

    dns = run.add_argument_group("DNS")
    dns.add_argument(
        "--dns",
        choices=_Listed(SERVERS),
        help="authoritative DNS for the probes: embedded (the data plane served in-process), "
        "bind9 or knot (real servers fed by RFC 2136); default: the scenario's [dns], if any",
    )
    dns.add_argument(
        "--resolver",
        choices=_Listed(RESOLVERS),
        help="caching resolver in front of it (under --clock sim it runs on the virtual clock)",
    )

    faults = run.add_argument_group("faults and mitigations")
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
        "velocity-control, dwfm-recovery, propagation-throttle); repeatable",
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

    output = run.add_argument_group("output")
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

    fz = sub.add_parser(
        "fuzz",
        help="search a scenario's fault space for violations",
        description="Draw cases from a scenario's [fuzz] fault space until the budget is spent; "
        "each failure is written to the store at once, and the first of each group shrunk.",
    )
    what = fz.add_argument_group("what to run")
    what.add_argument("scenario", help=f"scenario with a [fuzz] fault space: {scenarios}")
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
        choices=_Listed(FUZZ_MIXES),
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
    dns.add_argument("--dns", choices=_Listed(SERVERS), help="the authoritative server")
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

    sh = sub.add_parser(
        "shrink", help="reduce a failing case to a minimal one that fails the same way"
    )
    sh.add_argument(
        "result", help="a failure from a fuzz store, or any 'dnschaos run --json' result"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    sh.add_argument(
        "-o", "--output", help="where to write the shrunk result (default RESULT.shrunk.json)"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    sh.add_argument("--max-runs", type=int, default=40, help="re-runs at most (default 40)")
    sh.add_argument("-q", "--quiet", action="store_true", help="no progress lines")

    rpt = sub.add_parser("report", help="write an HTML report or a timeline PNG for a result")
    rpt.add_argument(
        "result", help="a result JSON written by 'dnschaos run --json'"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    rpt.add_argument(
        "-o", "--output", required=True, help="report.html or timeline.png"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    rpt.add_argument(
        "--history",
        metavar="PATH",
        help="the run's history (from 'run --history'); without it a --clock sim run is "
        "replayed to rebuild it",
    ).complete = shtab.FILE  # type: ignore[attr-defined]

    rep = sub.add_parser("replay", help="rerun a recorded result and confirm its trace digest")
    rep.add_argument(
        "result", help="a result JSON written by 'dnschaos run --json'"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    rep.add_argument(
        "--json", metavar="PATH", help="write the replayed result to PATH"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    rep.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    rep.add_argument(
        "--target",
        default="moto",
        choices=_Listed(TARGETS),
        help="moto: replay the choices in-process (default); moto-server or aws: rerun on "
        "wall time with the recorded writes released in their recorded order",
    )
    rep.add_argument("--endpoint-url", help="--target moto-server: the server on loopback")
    rep.add_argument(
        "--time-scale",
        type=float,
        default=0.05,
        help="ordered replay: wall seconds per scenario second (default 0.05)",
    )
    rep.add_argument(
        "--order",
        default="writes",
        choices=("writes", "calls"),
        help="ordered replay: release writes (default) or every call in the recorded order",
    )
    aws_commands.add_flags(rep)
    aws_commands.add_cleanup_parser(sub)

    ex = sub.add_parser(
        "explore",
        help="systematic search: every schedule with at most K delays in a stated space",
        description="Enumerate schedules of a scenario: the first ready actor always runs, "
        "and at most --bound enactors are held, each just before one of its AWS calls "
        "(--points) for one of a few durations over the scenario's delay range; stop at the "
        "first violation. 'exhausted' is said only when every schedule of the space was run "
        "or pruned as equivalent (commuting operations). Exit 0: exhausted without a "
        "violation; 1: a violation; 3: the budget ran out first.",
    )
    ex.add_argument("scenario", help=f"scenario name: {scenarios}")
    ex.add_argument("--variant", help="a workload option: legacy, safe or module:Class")
    ex.add_argument("--bound", type=int, default=2, help="at most K delays a schedule (default 2)")
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
        default="writes",
        choices=("writes", "calls"),
        help="where a delay may fall: just before an enactor's Route 53 write (default), "
        "or before any of its AWS calls",
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
        help="run every schedule, also those equivalent to one already run",
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
        "--json", metavar="PATH", help="write the violating (or base) run as JSON to PATH"
    ).complete = shtab.FILE  # type: ignore[attr-defined]
    ex.add_argument("-q", "--quiet", action="store_true", help="print only the summary")

    comp = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print the completion script for a shell, e.g. "
        "'dnschaos completion bash > ~/.local/share/bash-completion/completions/dnschaos'.",
    )
    comp.add_argument("shell", choices=SHELLS, help="the shell: " + ", ".join(SHELLS))
    return p


SHELLS: Final = ("bash", "zsh", "tcsh")
# fuzz --strategy: the strategies a blind campaign's cases are drawn from ("mix" is the
# campaign's own STRATEGY_MIX; kept here so --help needs no import of the engine).
FUZZ_MIXES: Final[dict[str, tuple[str, ...]]] = {
    "mix": ("random", "random", "pct"),
    "random": ("random",),
    "pct": ("pct",),
    "delay": ("delay",),
}


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the program itself, not a call in a process of someone else's
        from dnschaos.hashseed import pin_process

        pin_process()
    # Piped into a file or a CI log, lines must appear as they are printed, not at the end.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "report":
            return _report(args)
        if args.command == "fuzz":
            return _fuzz(args)
        if args.command == "shrink":
            return _shrink(args)
        if args.command == "explore":
            return _explore(args)
        if args.command == "completion":
            return _completion(args)
        if args.command == "cleanup":
            from dnschaos.aws_commands import cleanup_command

            return cleanup_command(args)
    except DnsChaosError as exc:
        print(f"dnschaos: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dnschaos: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the harness broke: say so, never report a verdict
        traceback.print_exc()
        print(f"dnschaos: harness error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    return EXIT_USAGE


def _completion(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(_parser(), shell=args.shell), end="")
    return EXIT_OK


def _check_writable(flag: str, path: str | None) -> None:
    """Refuse an output path that cannot be written, before anything runs (exit 2)."""
    if path is None:
        return
    if not path:
        raise UsageError(f"{flag}: an empty path; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    parent = directory
    while not os.path.exists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(
            f"{flag} {path}: {parent} is a file, not a directory; give a path in a directory"
        )
    if not os.path.isdir(directory):
        raise UsageError(f"{flag} {path}: directory {directory} does not exist; create it first")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory; give a file name")
    if os.path.exists(path) and not os.path.isfile(path):
        # The file is replaced atomically: a device or a pipe there would be replaced too.
        raise UsageError(
            f"{flag} {path}: not a regular file (a device or a pipe); give a file name"
        )
    if not os.access(directory, os.W_OK | os.X_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK)
    ):
        raise UsageError(
            f"{flag} {path}: not writable (permission denied in {directory}); "
            "choose a path you may write"
        )


def _write(path: str, text: str) -> None:
    """Write atomically: a reader never sees half a file."""
    _write_bytes(path, text.encode())


def _write_json(path: str, payload: object) -> None:
    _write(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def _write_result(path: str, payload: dict[str, Any]) -> None:
    """A result file, with the command that reproduces it (replaying it, when no
    command line makes that run again)."""
    from dnschaos.runner import stored_json

    _write_json(path, stored_json(payload, path))


def _overrides(texts: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    import tomllib

    out = []
    for text in texts:
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {text!r}: not KEY=VALUE (e.g. scenario.duration=600)")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word: a string
        out.append((key.strip(), value))
    return tuple(out)


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
        overrides=_overrides(args.set),
    )
    spec = resolve(spec)
    if spec.target == "moto-server" and spec.endpoint_url:
        from dnschaos.adapters.aws.moto_server import check_reachable

        check_reachable(spec.endpoint_url)
    if args.compare_mitigations and "mitigations" not in options_taken(build(spec)):
        raise UsageError(
            f"--compare-mitigations: no workload of {args.scenario} takes mitigations; use "
            "cascade-2025"
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


def _run(args: argparse.Namespace) -> int:
    _check_writable("--json", args.json)
    _check_writable("--history", args.history)
    _inapplicable(args)
    from dnschaos.aws_commands import check_inapplicable
    from dnschaos.explore.search import seeds, systematic

    check_inapplicable(args)
    spec = _spec(args)
    dfs = spec.strategy == "dfs"
    status = _status(
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
    _print_result(result, quiet=args.quiet)
    payload = result.to_json()
    if args.compare_mitigations:
        from dnschaos import workload

        with _status("comparing mitigations", live=not args.quiet) as comparing:

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
        _write_result(args.json, payload)
    if args.history:
        result.history.write(args.history, wall=args.history_wall)
    return VERDICT_EXIT[result.verdict]


def _run_aws(args: argparse.Namespace, spec: RunSpec) -> Any:
    from dnschaos.aws_commands import real_target
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


def _status(title: str, *, live: bool, total: int | None = None) -> Any:
    """A live status line for long work when stdout is a terminal; otherwise a no-op."""
    from dnschaos.console import Status, terminal

    return Status(title, console=terminal() if live else None, total=total)


def _print_result(result: Any, *, quiet: bool) -> None:
    from dnschaos.story import tell

    variant = f" · variant {result.variant}" if result.variant else ""
    head = (
        f"{result.scenario}{variant} · seed {result.seed} · "
        f"strategy {result.strategy} · clock {result.clock}"
    )
    if not quiet:
        print(head)
        if result.violations:
            print("story:")
            for line in tell(list(result.history), result.headline):
                print(f"  {line}")
    if result.verdict == "fail":
        kinds = sorted({v.invariant for v in result.violations})
        print(f"VIOLATION: {', '.join(kinds)}")
        for v in result.violations[:5]:
            print(f"  [{v.invariant}] {v.endpoint} at t={v.t:.0f}s: {v.detail}")
    elif result.verdict == "pass":
        print("PASS: every invariant held")
    else:
        print(f"UNKNOWN: the run ended without a verdict: {result.reason}")
        for v in result.verdicts:
            if v.error:
                print(f"  checker {v.checker} failed: {v.error}")
    if not quiet and result.unmatched_faults:
        print(
            f"faults that applied to no call: {', '.join(result.unmatched_faults)} "
            "(check their match and window)"
        )
    if not quiet and result.dns:
        _print_dns(result.dns)
    if not quiet:
        for line in _workload_lines(result):
            print(line)
    if not quiet:
        print(
            f"steps {result.steps} · virtual {result.virtual_seconds:.0f}s · "
            f"wall {result.wall_seconds:.1f}s · stop: {result.reason}"
        )
        print(f"trace_digest {result.trace_digest}")


def _print_dns(dns: dict[str, Any]) -> None:
    from dnschaos.dns.metrics import describe

    head, *lines = describe(dns)
    print(head)
    for line in lines:
        print(f"  {line}")


def _workload_lines(result: Any) -> list[str]:
    """What each workload recorded of the run, as it tells it."""
    from dnschaos import workload

    out: list[str] = []
    for name, recorded in result.workloads.items():
        out += workload.load(name).summary(recorded)
    return out


def _report(args: argparse.Namespace) -> int:
    from dnschaos.explore.replay import history_of
    from dnschaos.report import render_html, timeline_png, workload_png
    from dnschaos.scenario.spec import load_result

    out = args.output
    if not out.endswith((".html", ".png")):
        raise UsageError(
            f"-o {out}: the report is .html (page with story and plot) or .png (the plot)"
        )
    _check_writable("-o", out)
    recorded = load_result(args.result)
    missing = [k for k in ("scenario", "verdict", "violations") if k not in recorded]
    if missing:
        raise UsageError(f"{args.result}: not a dnschaos result (missing {', '.join(missing)})")
    if args.history:
        try:
            with open(args.history, encoding="utf-8") as fh:
                entries = [json.loads(line) for line in fh if line.strip()]
        except FileNotFoundError:
            raise UsageError(f"--history {args.history}: no such file") from None
        except (IsADirectoryError, UnicodeDecodeError):
            raise UsageError(f"--history {args.history}: not a JSON Lines file") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"--history {args.history}: not JSON Lines ({exc})") from None
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or not {"seq", "t", "kind"} <= set(entry):
                raise UsageError(
                    f"--history {args.history}: line {number} is not a history entry (an "
                    "object with seq, t and kind); give the file 'dnschaos run --history' wrote"
                )
    elif RunSpec.from_result(recorded, source=args.result).clock == "sim" and "choices" in recorded:
        entries = history_of(recorded, args.result)
    else:
        raise UsageError(
            f"{args.result}: this run cannot be replayed; give its history with --history "
            "(write it with 'dnschaos run --history PATH')"
        )
    if out.endswith(".png"):
        # A workload may plot its run its own way (a cascade: its phases beside 2025's).
        plot = workload_png(recorded, entries)
        _write_bytes(out, plot if plot is not None else timeline_png(recorded, entries))
    else:
        _write(out, render_html(recorded, entries))
    print(f"wrote {out}")
    return EXIT_OK


def _write_bytes(path: str, data: bytes) -> None:
    """Write atomically (a reader never sees half a file), with the usual permissions."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".dnschaos-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is for sharing
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _replay(args: argparse.Namespace) -> int:
    from dnschaos.explore.replay import replay

    _check_writable("--json", args.json)
    from dnschaos.aws_commands import check_inapplicable

    check_inapplicable(args)
    if args.target != "moto":
        from dnschaos.explore.ordered import ordered_command

        return ordered_command(args)
    done = replay(args.result, check=False)
    _print_result(done.result, quiet=args.quiet)
    if args.json:
        _write_result(args.json, done.result.to_json())
    if not done.matches:
        raise ReplayDivergenceError(
            f"replay of {args.result} finished but its history differs: trace_digest "
            f"{done.result.trace_digest} != recorded {done.recorded_digest}"
        )
    print(f"replay matches the recording: {done.choices} choices, same trace_digest")
    return VERDICT_EXIT[done.result.verdict]


def _fuzz(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dnschaos.explore.campaign import (
        default_progress,
        fuzz,
        open_campaign,
        parse_budget,
        shrink_groups,
    )
    from dnschaos.scenario.resolve import build, resolve

    _check_writable("--json", args.json)
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
    store = Path(args.store or f"out/fuzz-{scenario.name}-{args.variant.replace(':', '_')}")
    client = _cluster_client(args)
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
    with _status(f"fuzz {scenario.name}", live=not args.quiet) as status:

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
            seconds=seconds,
            runs=runs,
            workers=args.workers,
            stop_after=args.stop_after,
            progress=searching,
            runner=runner,
        )
    print(
        f"fuzz {scenario.name} · variant {args.variant} · campaign seed {campaign.seed}: "
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
            f"    shrunk to {out['file']} ({out['runs']} re-runs): {_size_line(out['before'])} "
            f"-> {_size_line(out['after'])}; replay with: dnschaos replay {out['file']}"
        )

    shrunk = shrink_groups(
        campaign,
        max_runs=args.shrink_runs,
        enabled=not args.no_shrink,
        progress=say,
        on_group=shown,
        on_shrunk=shrunk_line,
    )
    if args.json:
        _write_json(args.json, {**campaign.to_json(), "store": str(store), "shrunk": shrunk})
    return EXIT_VIOLATION if campaign.failures else EXIT_OK


def _cluster_client(args: argparse.Namespace) -> Any:
    """The Dask client of ``--cluster`` (None without it), connected before anything is
    written."""
    if args.cluster is None:
        return None
    if args.workers != 1:
        raise UsageError(
            f"--workers {args.workers} with --cluster: the cluster's workers run the cases; "
            "give one of the two"
        )
    from dnschaos.explore.cluster import connect

    return connect(args.cluster)


def _size_line(size: dict[str, Any]) -> str:
    return (
        f"{size['faults']} faults (magnitude {size['magnitude']:.1f}), {size['choices']} "
        f"choices, {size['preemptions']} switches"
        + (f", {size['delays']} delays ({size['delayed']:.1f}s)" if size.get("delays") else "")
    )


def _explore(args: argparse.Namespace) -> int:
    from dnschaos.explore.delays import explore, make_space, with_bound

    _check_writable("--json", args.json)
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
        overrides=_overrides(args.set),
    )
    space = make_space(
        spec, args.bound, points=args.points, fractions=fractions, reduce=not args.no_reduce
    )
    with _status(f"explore {args.scenario}", live=not args.quiet) as status:
        status.show("schedule 1")

        def each(ran: int, pruned: int) -> None:
            status.show(f"{ran} run, {pruned} pruned")

        result, report = explore(
            with_bound(spec, args.bound),
            space,
            max_schedules=args.max_schedules,
            workers=args.workers,
            progress=each,
            cluster=args.cluster,
        )
    for line in report.lines():
        print(line)
    if report.found is not None:
        _print_result(result, quiet=args.quiet)
    if args.json:
        payload = result.to_json()
        payload["explore"] = report.to_json()
        payload["reproduce"] = f"dnschaos replay {args.json}"
        _write_json(args.json, payload)
    if report.found is not None:
        return VERDICT_EXIT[result.verdict]
    return EXIT_OK if report.exhausted else EXIT_HARNESS


def _shrink(args: argparse.Namespace) -> int:
    from dnschaos.explore.replay import recorded_choices
    from dnschaos.explore.shrink import Case, shrink, shrunk_json
    from dnschaos.runner import run
    from dnschaos.scenario.spec import load_result

    recorded = load_result(args.result)
    spec = RunSpec.from_result(recorded, source=args.result)
    output = args.output or args.result.removesuffix(".json") + ".shrunk.json"
    _check_writable("-o", output)
    if args.max_runs < 1:
        raise UsageError(f"--max-runs {args.max_runs}: must be at least 1")
    say = (lambda _m: None) if args.quiet else (lambda m: print(f"  .. {m}", file=sys.stderr))
    original = None
    if spec.clock == "sim" and recorded.get("choices"):
        # Start from the recorded run itself, not a fresh draw of its seed.
        original = run(spec, replay=recorded_choices(recorded, args.result))
    case = Case.from_json(recorded["case"]) if isinstance(recorded.get("case"), dict) else None
    done = shrink(spec, case=case, original=original, max_runs=args.max_runs, progress=say)
    _write_result(output, shrunk_json(done, os.path.basename(args.result)))
    print(f"shrunk {args.result}: fails {done.invariant}; {done.runs} re-runs")
    print(f"  before: {_size_line(done.before.to_json())}")
    print(f"  after:  {_size_line(done.after.to_json())}")
    for text in done.case.faults:
        print(f"  fault: {text}")
    print(f"written to {output}; replay with: dnschaos replay {output}")
    return EXIT_VIOLATION


if __name__ == "__main__":
    sys.exit(main())
