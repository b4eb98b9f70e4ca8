"""The command line of ``--target aws``: its flags, ``dnschaos cleanup``, and the target a
run or an ordered replay is given, in one place; the library side is
``dnschaos.adapters.aws.real``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dnschaos.errors import UsageError


def add_flags(parser: argparse.ArgumentParser | Any, *, run_options: bool = True) -> None:
    """The real-account flags (run, replay and cleanup)."""
    g = parser.add_argument_group("real AWS (--target aws)")
    g.add_argument(
        "--allow-real-aws",
        action="store_true",
        help="allow --target aws to touch a real account (also needs DNSCHAOS_ALLOW_REAL_AWS=1 "
        "and the account on the allow-list)",
    )
    g.add_argument("--region", help="--target aws: the region (default: the usual AWS sources)")
    g.add_argument(
        "--journal-dir",
        metavar="DIR",
        help="--target aws: where run journals are kept (default ~/.local/state/dnschaos)",
    )
    if not run_options:
        return
    g.add_argument(
        "--run-id", metavar="ID", help="--target aws: the run's id (default: a fresh one)"
    )
    g.add_argument(
        "--budget-calls", metavar="N", type=int, default=5000, help="API calls per run (5000)"
    )
    g.add_argument(
        "--budget-zones", metavar="N", type=int, default=10, help="hosted zones per run (10)"
    )
    g.add_argument(
        "--budget-records",
        metavar="N",
        type=int,
        default=2000,
        help="record set changes per run (2000)",
    )
    g.add_argument(
        "--budget-wall", metavar="S", type=float, default=1800.0, help="wall seconds per run (1800)"
    )
    g.add_argument(
        "--probe-server",
        metavar="HOST:PORT",
        help="--target aws: ask this DNS server instead of the zone's delegation set",
    )


def _region(args: argparse.Namespace) -> str:
    if args.region:
        return str(args.region)
    import botocore.session
    from botocore.exceptions import BotoCoreError

    # The usual sources, for a real account only: the stand-in reads no AWS configuration.
    real = args.target == "aws" and not getattr(args, "endpoint_url", None)
    try:
        found = botocore.session.Session().get_config_variable("region") if real else None
    except BotoCoreError as exc:  # a profile that does not exist, a file that does not parse
        raise UsageError(
            f"--target aws: the region cannot be read from the AWS configuration ({exc}); "
            "give --region or fix AWS_PROFILE / AWS_CONFIG_FILE"
        ) from None
    return str(found or "us-east-1")


def check_inapplicable(args: argparse.Namespace) -> None:
    """Refuse real-account flags on another target: they would be ignored."""
    if args.target == "aws":
        return
    given = {
        "--allow-real-aws": args.allow_real_aws,
        "--region": args.region,
        "--journal-dir": args.journal_dir,
        "--run-id": args.run_id,
        "--probe-server": args.probe_server,
    }
    for flag, value in given.items():
        if value:
            raise UsageError(f"{flag}: applies to --target aws only; drop it")


def real_target(args: argparse.Namespace, *, endpoint_url: str | None = None) -> Any:
    """The TargetSpec of ``--target aws`` from the flags (enablers checked when opened)."""
    from dnschaos.adapters.aws.real import Budget, RealAwsOptions, check_run_id
    from dnschaos.adapters.aws.target import TargetSpec

    if args.run_id:
        check_run_id(args.run_id)
    budget = Budget(args.budget_calls, args.budget_zones, args.budget_records, args.budget_wall)
    budget.validate()
    options = RealAwsOptions(
        run_id=args.run_id or "",
        journal_dir=args.journal_dir,
        budget=budget,
        probe_server=args.probe_server,
    )
    if args.probe_server:
        host, _, port = args.probe_server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(
                f"--probe-server {args.probe_server}: give HOST:PORT, e.g. 127.0.0.1:53"
            )
    spec = TargetSpec(
        "aws",
        region=_region(args),
        endpoint_url=endpoint_url or getattr(args, "endpoint_url", None),
        allow_real_aws=args.allow_real_aws,
        real=options,
    )
    spec.validate()  # both enablers, before anything else
    return spec


def cleanup_command(args: argparse.Namespace) -> int:
    """``dnschaos cleanup --target aws [--run-id ID | --all-journals [--yes]]``."""
    import sys

    from dnschaos.adapters.aws.real import (
        check_run_id,
        cleanup,
        cleanup_clients,
        default_journal_dir,
    )
    from dnschaos.adapters.aws.target import TargetSpec, _hermetic_session

    if args.target != "aws":
        raise UsageError(f"--target {args.target}: cleanup applies to --target aws only")
    if bool(args.run_id) == bool(args.all_journals):
        raise UsageError("cleanup: give exactly one of --run-id ID and --all-journals")
    if args.run_id:
        check_run_id(args.run_id)
    if args.yes and args.dry_run:
        raise UsageError("cleanup: --yes deletes and --dry-run does not; give one of them")
    # One run named by its id deletes; every journal at once is listed first, unless --yes.
    delete = args.yes or (bool(args.run_id) and not args.dry_run)
    region = _region(args)
    TargetSpec("aws", region=region, allow_real_aws=args.allow_real_aws).validate()
    accounts = tuple(args.account or ())
    clients, guarded = cleanup_clients(region, args.endpoint_url, accounts, _hermetic_session)
    where = ", ".join(f"{k} {v}" for k, v in guarded.endpoints.items())
    print(
        f"dnschaos cleanup: account {guarded.account}, region {guarded.region}, partition "
        f"{guarded.partition} ({where})",
        file=sys.stderr,
    )
    journal_dir = Path(args.journal_dir) if args.journal_dir else default_journal_dir()
    report = cleanup(
        clients, journal_dir, run_id=args.run_id, all_journals=args.all_journals, delete=delete
    )
    for line in report.lines():
        print(line)
    if not report.lines():
        print("nothing to delete")
    elif report.would_delete:
        print(
            f"dry run: nothing was deleted; run again with --yes to delete the "
            f"{len(report.would_delete)} listed above"
        )
    return report.exit_code()


def add_cleanup_flags(cl: argparse.ArgumentParser) -> None:
    cl.add_argument("--target", default="aws", help="aws (the only target with leftovers)")
    cl.add_argument("--run-id", help="one run's leftovers")
    cl.add_argument(
        "--all-journals",
        action="store_true",
        help="every run with a journal in --journal-dir (lists what it would delete; --yes "
        "deletes)",
    )
    cl.add_argument(
        "--yes", action="store_true", help="delete what --all-journals finds (not just list it)"
    )
    cl.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )
    cl.add_argument(
        "--account",
        action="append",
        metavar="ID",
        help="an allowed account id (repeatable; also DNSCHAOS_AWS_ACCOUNTS)",
    )
    cl.add_argument("--endpoint-url", help="the test stand-in only (see README)")
    add_flags(cl, run_options=False)


__all__ = [
    "add_cleanup_flags",
    "add_flags",
    "check_inapplicable",
    "cleanup_command",
    "real_target",
]
