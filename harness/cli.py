"""The ``dnschaos`` command.

Exit codes: 0 invariants held, 1 violation found, 2 usage or input error,
3 harness error (with the reason).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import Final

from harness import __version__
from harness.errors import DnsChaosError, UsageError

EXIT_OK: Final = 0
EXIT_VIOLATION: Final = 1
EXIT_USAGE: Final = 2
EXIT_HARNESS: Final = 3
SCENARIOS: Final = ("incident-2025",)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dnschaos",
        description="Chaos injection for DNS automation against Route 53 semantics.",
    )
    p.add_argument("--version", action="version", version=f"dnschaos {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run a scenario and judge it")
    run.add_argument("scenario", help=f"scenario name: {', '.join(SCENARIOS)}")
    run.add_argument(
        "--variant",
        default="legacy",
        help="enactor variant: legacy, safe, or module:Class (default: legacy)",
    )
    run.add_argument("--seed", type=int, default=7, help="seed of every random choice (default: 7)")
    run.add_argument(
        "--behind",
        type=int,
        default=45,
        help="how many plans enactor C falls behind (default: 45)",
    )
    run.add_argument(
        "--cleanup-window", type=int, default=10, help="generations of trees kept (default: 10)"
    )
    run.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")
    run.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
    except DnsChaosError as exc:
        print(f"dnschaos: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dnschaos: interrupted", file=sys.stderr)
        return EXIT_HARNESS
    except Exception as exc:  # the harness broke: say so, never report a verdict
        traceback.print_exc()
        print(f"dnschaos: harness error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from harness.incident import run_incident

    if args.scenario not in SCENARIOS:
        raise UsageError(
            f"scenario {args.scenario!r}: unknown; choose one of {', '.join(SCENARIOS)}"
        )
    if args.cleanup_window < 1:
        raise UsageError(f"--cleanup-window {args.cleanup_window}: must be at least 1")
    if args.json:
        _check_writable(args.json)
    progress = None if args.quiet else (lambda msg: print(f"  .. {msg}", file=sys.stderr))
    result = run_incident(
        args.variant,
        seed=args.seed,
        behind=args.behind,
        cleanup_window=args.cleanup_window,
        progress=progress,
    )
    if not args.quiet:
        print(f"incident-2025, variant {result.variant}, seed {result.seed}")
        print("story:")
        for line in result.story:
            print(f"  {line}")
        print("end state:")
        for name, state in result.final.items():
            addrs = ", ".join(f"{t}: {len(a)} addresses" for t, a in state["addresses"].items())
            active = state["active_generation"]
            print(f"  {name}: root -> plan {active} ({addrs}); newest plan {result.newest_plan}")
    if result.violations:
        print(f"VIOLATION ({len(result.violations)}):")
        for v in result.violations:
            print(f"  [{v.invariant}] {v.endpoint}: {v.detail}")
    else:
        print(f"PASS: every endpoint answers and serves plan {result.newest_plan}")
    if args.json:
        payload = {
            "scenario": args.scenario,
            "variant": result.variant,
            "seed": result.seed,
            "verdict": "fail" if result.violations else "pass",
            "violations": [vars(v) for v in result.violations],
            "final": result.final,
            "newest_plan": result.newest_plan,
            "story": result.story,
        }
        _write_json(args.json, payload)
    return EXIT_VIOLATION if result.violations else EXIT_OK


def _check_writable(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--json {path}: directory {directory} does not exist; create it first")
    if os.path.isdir(path):
        raise UsageError(f"--json {path}: is a directory; give a file name")


def _write_json(path: str, payload: object) -> None:
    """Write atomically: a reader never sees half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".dnschaos-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
