"""What the sub-commands share: writing outputs atomically, checking paths before anything
runs, reading ``--set`` values, a live status line, and printing a result."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import IO, Any, Final

from dnschaos.errors import UsageError

EXIT_OK: Final = 0
EXIT_VIOLATION: Final = 1
EXIT_USAGE: Final = 2
EXIT_HARNESS: Final = 3
EXIT_INTERRUPTED: Final = 130
VERDICT_EXIT: Final = {"pass": EXIT_OK, "fail": EXIT_VIOLATION, "unknown": EXIT_HARNESS}
# A reader that went away (`dnschaos run ... | head -2`): the status a shell gives a
# program killed by SIGPIPE, 128 + 13.
EXIT_BROKEN_PIPE: Final = 141
# An output path that means standard output (as for cat, tar and curl); /dev/stdout names
# the same stream, which cannot be replaced atomically like a file.
STDOUT: Final = ("-", "/dev/stdout")


class _Data:
    """Where an output given as ``-`` goes: the process's standard output as it was when the
    command started. While one does, :func:`dnschaos.cli.main` sends the human lines to
    standard error, so that ``--json - | jq`` reads JSON only."""

    stream: IO[bytes] | None = None


def to_stdout(*paths: str | None) -> bool:
    """Whether one of ``paths`` is standard output; two at once would interleave (exit 2)."""
    given = [p for p in paths if p in STDOUT]
    if len(given) > 1:
        raise UsageError(
            "only one output can go to standard output ('-'); give the others file names"
        )
    return bool(given)


class Listed(tuple[str, ...]):
    """A closed set of values that ``--help`` lists and shell completion offers, while the
    library checks the value: its messages name the flag, list the choices and give hints
    (``--strategy replay``: use ``dnschaos replay``) and exit 2 through :func:`main`."""

    def __contains__(self, value: object) -> bool:
        return True


def scenarios() -> str:
    from dnschaos.scenario.load import builtin_names

    return ", ".join(builtin_names()) + ", a path to a .toml file, or module:function"


def complete_scenario(action: argparse.Action) -> None:
    """Complete a scenario argument in a shell with the built-in names and then files
    (in bash by the function :func:`completion_preamble` defines)."""
    from dnschaos.scenario.load import builtin_names

    names = " ".join(builtin_names())
    action.complete = {  # type: ignore[attr-defined]
        "bash": "_dnschaos_scenarios",
        "zsh": f"_alternative 'names:scenario:({names})' 'files:scenario file:_files'",
        "tcsh": "f",
    }


def completion_preamble(shell: str) -> str:
    """What the completion scripts define before shtab's code: given to ``shtab.complete``
    (every shtab since 1.7 takes it there; a preamble inside an action's ``complete`` is
    newer, and 1.7 leaves it out, so the scenario names would not complete)."""
    from dnschaos.scenario.load import builtin_names

    names = " ".join(builtin_names())
    # IFS of its own: shtab 1.7 calls it with IFS set to a newline, and compgen -W splits
    # its word list by IFS.
    if shell != "bash":
        return ""  # zsh and tcsh complete the names from the action itself
    return (
        "_dnschaos_scenarios() {\n  local IFS=$' \\t\\n'\n"
        f'  compgen -W "{names}" -- "$1"\n'
        '  compgen -f -- "$1"\n}\n'
    )


def check_writable(flag: str, path: str | None) -> None:
    """Refuse an output path that cannot be written, before anything runs (exit 2)."""
    if path is None or path in STDOUT:
        return
    if not path:
        raise UsageError(f"{flag}: an empty path; give a file name")
    _no_nul(flag, path)
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
            f"{flag} {path}: not a regular file (a device or a pipe); give a file name, "
            "or - for standard output"
        )
    name = os.path.basename(path)
    limit = _name_max(directory)
    if len(os.fsencode(name)) > limit:
        raise UsageError(
            f"{flag} {path[:60]}...: the file name is longer than {limit} bytes, the most "
            f"{directory} allows; give a shorter name"
        )
    if not os.access(directory, os.W_OK | os.X_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK)
    ):
        raise UsageError(
            f"{flag} {path}: not writable (permission denied in {directory}); "
            "choose a path you may write"
        )
    # Permissions do not tell everything (root may "write" /proc and /sys, a file system
    # may be read-only): a file is made there and removed, as the output will be.
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".dnschaos-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(
            f"{flag} {path}: {directory} takes no new file ({exc.strerror or exc}); "
            "choose a path in a directory you may write"
        ) from None


def check_directory(flag: str, path: str) -> None:
    """Refuse a directory that cannot be made, or written into, before anything runs
    (exit 2)."""
    _no_nul(flag, path)
    existing = os.path.abspath(path)
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"{flag} {path}: {existing} is a file; give a directory")
    made = os.path.relpath(os.path.abspath(path), existing).split(os.sep)
    limit = _name_max(existing)
    if any(len(os.fsencode(part)) > limit for part in made):
        raise UsageError(
            f"{flag} {path[:60]}...: a name in it is longer than {limit} bytes; give a shorter one"
        )
    # What check_writable asks of a file there asks of the directory too.
    probe = os.path.join(existing, ".dnschaos-probe")
    try:
        check_writable(flag, probe)
    except UsageError as exc:
        raise UsageError(str(exc).replace(f"{flag} {probe}", f"{flag} {path}", 1)) from None


def _no_nul(flag: str, path: str) -> None:
    if "\x00" in path:
        raise UsageError(f"{flag} {path!r}: a NUL byte is in no file name; give a file name")


def _name_max(directory: str) -> int:
    try:
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def write(path: str, text: str) -> None:
    """Write atomically: a reader never sees half a file."""
    write_bytes(path, text.encode())


def write_json(path: str, payload: object) -> None:
    write(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def write_result(path: str, payload: dict[str, Any]) -> None:
    """A result file, with the command that reproduces it (replaying it, when no
    command line makes that run again)."""
    from dnschaos.runner import stored_json

    write_json(path, stored_json(payload, path))


def overrides(texts: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    from dnschaos.inputs import parse_value

    out = []
    for text in texts:
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {text!r}: not KEY=VALUE (e.g. scenario.duration=600)")
        out.append((key.strip(), parse_value(raw, f"--set {text!r}")))
    return tuple(out)


def status_line(title: str, *, live: bool, total: int | None = None) -> Any:
    """A live status line for long work when stdout is a terminal; otherwise a no-op."""
    from dnschaos.console import Status, terminal

    return Status(title, console=terminal() if live else None, total=total)


def process_lines(history: Any) -> list[str]:
    """What a run with process actors controlled of them, and what not (the first
    process-start event says; every process actor's is the same)."""
    starts = [e for e in history if e["kind"] == "event" and e["event"] == "process-start"]
    if not starts:
        return []
    names = ", ".join(sorted({str(e["actor"]) for e in starts}))
    first = starts[0]
    return [
        f"process actors: {names}",
        f"  controlled: {', '.join(first['controlled'])}",
        f"  not controlled: {', '.join(first['uncontrolled'])}",
    ]


def print_result(result: Any, *, quiet: bool) -> None:
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
        for v in result.violations[:5]:
            print(
                f"  seen before the cut: [{v.invariant}] {v.endpoint} at t={v.t:.0f}s: {v.detail}"
            )
        for v in result.verdicts:
            if v.error:
                print(f"  checker {v.checker} failed: {v.error}")
    if not quiet and result.unmatched_faults:
        print(
            f"faults that applied to no call: {', '.join(result.unmatched_faults)} "
            "(check their match and window)"
        )
    if not quiet and result.dns:
        print_dns(result.dns)
    if not quiet:
        for line in workload_lines(result):
            print(line)
        for line in process_lines(result.history):
            print(line)
    if not quiet:
        print(
            f"steps {result.steps} · virtual {result.virtual_seconds:.0f}s · "
            f"wall {result.wall_seconds:.1f}s · stop: {result.reason}"
        )
        print(f"trace_digest {result.trace_digest}")


def print_dns(dns: dict[str, Any]) -> None:
    from dnschaos.dns.metrics import describe

    head, *lines = describe(dns)
    print(head)
    for line in lines:
        print(f"  {line}")


def workload_lines(result: Any) -> list[str]:
    """What each workload recorded of the run, as it tells it."""
    from dnschaos import workload

    out: list[str] = []
    for name, recorded in result.workloads.items():
        out += workload.load(name).summary(recorded)
    return out


def write_bytes(path: str, data: bytes) -> None:
    """Write atomically (a reader never sees half a file), with the usual permissions;
    ``-`` writes to standard output."""
    if path in STDOUT:
        out = _Data.stream if _Data.stream is not None else sys.stdout.buffer
        out.write(data)
        out.flush()
        return
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


def size_line(size: dict[str, Any]) -> str:
    return (
        f"{size['faults']} faults (magnitude {size['magnitude']:.1f}), {size['choices']} "
        f"choices, {size['preemptions']} switches"
        + (f", {size['delays']} delays ({size['delayed']:.1f}s)" if size.get("delays") else "")
    )


def cluster_client(args: Any) -> Any:
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

    return connect(args.cluster, note=cluster_note(args))


def cluster_note(args: Any) -> Callable[[str], None] | None:
    """Where ``--cluster``'s remarks on the workers go: stderr, unless ``--quiet``."""
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr)
