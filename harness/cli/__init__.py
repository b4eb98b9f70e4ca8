"""The ``dnschaos`` command: arguments in, library calls, printing out.

One module per sub-command (``run``, ``fuzz``, ``shrink``, ``report``, ``replay``,
``cleanup``, ``explore``, ``schema``, ``completion``), each with its ``SUMMARY``, its
``add_flags(parser)`` and its ``run(args)``; what they share is in :mod:`.common`. The
loops (seeds, systematic search, replay, shrinking, fuzz campaigns) live in
``dnschaos.explore``; nothing here decides a verdict.

Exit codes: 0 invariants held, 1 violation found, 2 usage or input error, 3 harness
error (with the reason), including a run that ended without a verdict (deadlock,
step/time limits) and a replay that diverged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any, Final

from dnschaos._version import __version__
from dnschaos.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_HARNESS,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    _Data,
    to_stdout,
)
from dnschaos.errors import DnsChaosError

# The commands in the order --help lists them (each a module of this package).
COMMANDS: Final = (
    "run",
    "fuzz",
    "shrink",
    "report",
    "replay",
    "cleanup",
    "explore",
    "schema",
    "completion",
)


def _command(name: str) -> Any:
    return importlib.import_module(f"{__name__}.{name}")


def parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The command line, with the flags of ``command`` only ("*": every command's, for shell
    completion). The commands' flags list scenarios, targets and DNS servers, which import
    boto3 and moto; ``dnschaos --help`` lists the commands and imports none of it."""
    p = argparse.ArgumentParser(
        prog="dnschaos",
        description="Chaos injection for DNS automation against Route 53 semantics.",
    )
    p.add_argument("--version", action="version", version=f"dnschaos {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = _command(name)
        made = sub.add_parser(name, help=module.SUMMARY)
        if command in ("*", name):
            module.add_flags(made)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the program itself, not a call in a process of someone else's
        from dnschaos.hashseed import pin_process

        pin_process()
    # Piped into a file or a CI log, lines must appear as they are printed, not at the end.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    argv = sys.argv[1:] if argv is None else list(argv)
    # The first word that is not an option names the command (dnschaos takes no option
    # with a value before it): only that command's flags are set up.
    command = next((word for word in argv if not word.startswith("-")), None)
    args = parser(command).parse_args(argv)
    try:
        with _outputs(args), _terminate_as_interrupt():
            code: int = _command(args.command).run(args)
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): end quietly, as a program killed by SIGPIPE does.
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
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


@contextlib.contextmanager
def _outputs(args: argparse.Namespace) -> Iterator[None]:
    """With an output given as ``-`` the data goes to standard output and every line meant
    for a person to standard error."""
    paths = [getattr(args, name, None) for name in ("json", "history", "output")]
    if not to_stdout(*paths):
        yield
        return
    _Data.stream = sys.stdout.buffer
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _Data.stream = None


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor behind it (a test's capture)
        pass


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends a command as Ctrl-C does (exit 130, what is recorded kept, temporary
    files removed), not mid-write with nothing cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


__all__ = ["COMMANDS", "main", "parser"]
