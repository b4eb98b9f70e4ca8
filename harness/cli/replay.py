"""dnschaos replay: Replay a recorded result: in-process from its choices, or ordered on a server or an account."""

from __future__ import annotations

import argparse
from typing import Final

from dnschaos.cli.common import (
    VERDICT_EXIT,
    Listed,
    check_writable,
    print_result,
    write_result,
)
from dnschaos.errors import ReplayDivergenceError

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
        from dnschaos.explore.ordered import ordered_command

        return ordered_command(args)
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
