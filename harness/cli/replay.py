"""dnschaos replay: Replay a recorded result: in-process from its choices, or ordered on a server or an account."""

from __future__ import annotations

import argparse
from typing import Final

from dnschaos.cli.common import (
    EXIT_HARNESS,
    VERDICT_EXIT,
    Listed,
    check_writable,
    print_result,
    write_json,
    write_result,
)
from dnschaos.errors import ReplayDivergenceError, UsageError

SUMMARY: Final = "rerun a recorded result and confirm its trace digest"


def add_flags(rep: argparse.ArgumentParser) -> None:
    import shtab

    from dnschaos.adapters.aws.target import TARGETS
    from dnschaos.cli import aws as aws_commands

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
        choices=Listed(TARGETS),
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


def run(args: argparse.Namespace) -> int:
    from dnschaos.explore.replay import replay

    check_writable("--json", args.json)
    from dnschaos.cli.aws import check_inapplicable

    check_inapplicable(args)
    if args.target != "moto":
        return _on_target(args)
    done = replay(args.result, check=False)
    print_result(done.result, quiet=args.quiet)
    if args.json:
        write_result(args.json, done.result.to_json())
    if not done.matches:
        raise ReplayDivergenceError(
            f"replay of {args.result} finished but its history differs: trace_digest "
            f"{done.result.trace_digest} != recorded {done.recorded_digest}"
        )
    print(f"replay matches the recording: {done.choices} choices, same trace_digest")
    return VERDICT_EXIT[done.result.verdict]


def _on_target(args: argparse.Namespace) -> int:
    """``dnschaos replay RESULT --target moto-server|aws``."""
    from dnschaos.adapters.aws.target import TargetSpec
    from dnschaos.explore.ordered import ordered_replay, print_replay
    from dnschaos.scenario.spec import load_result

    recorded = load_result(args.result)
    if args.target == "aws":
        from dnschaos.cli.aws import real_target

        target = real_target(args)
    else:
        if not args.endpoint_url:
            raise UsageError(
                "--target moto-server needs --endpoint-url (e.g. http://127.0.0.1:5000)"
            )
        from dnschaos.adapters.aws.moto_server import check_reachable

        target = TargetSpec("moto-server", endpoint_url=args.endpoint_url)
        target.validate()
        check_reachable(args.endpoint_url)
    done = ordered_replay(
        recorded, target, source=args.result, time_scale=args.time_scale, order=args.order
    )
    print_replay(done)
    if args.json:
        write_json(args.json, done.to_json())
    return VERDICT_EXIT.get(done.result.verdict, EXIT_HARNESS)
