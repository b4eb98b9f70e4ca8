"""The hash seed of a run: pinned where the harness starts the process, recorded always.

Python draws a new seed for ``hash()`` of strings and bytes in every process unless
``PYTHONHASHSEED`` fixes it, so the order in which ordinary user code iterates a
``set`` of strings (or a dict built from one) differs from process to process, and with
it the calls an actor makes and the run's digest. The seed is read once, when the
interpreter starts, so it cannot be fixed from inside a running process:

* the ``dnschaos`` command starts itself again once with ``PYTHONHASHSEED`` pinned
  (:func:`pin_process`) unless it already is; worker processes it starts inherit the
  variable (:func:`child_environment` for those started with an environment of their own);
* the in-process API and the pytest plugin cannot restart the process: each result
  records the seed in effect (:func:`current`), and a run under a random seed warns
  (:class:`HashSeedWarning`) with the fix.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from typing import Final

ENV: Final = "PYTHONHASHSEED"
PINNED: Final = "0"
RANDOM: Final = "random"
# Set on the restarted process: a restart that did not pin the seed is not tried again.
_RESTARTED: Final = "DNSCHAOS_HASHSEED_RESTARTED"
FIX: Final = f"set {ENV}={PINNED} in the environment of the process (e.g. '{ENV}={PINNED} pytest')"


class HashSeedWarning(UserWarning):
    """A run in a process whose string hashes are randomized: code that iterates a set of
    strings may run differently in another process, so its result may not replay there."""


def current() -> str:
    """The hash seed in effect in this process: ``"0"`` (no randomization), another
    integer given in the environment, or ``"random"`` (drawn when the process started)."""
    if not sys.flags.hash_randomization:
        return PINNED
    if sys.flags.ignore_environment:
        return RANDOM
    value = os.environ.get(ENV, "").strip()
    if value.isdigit() and 0 < int(value) <= 4294967295:
        return str(int(value))
    return RANDOM


def pinned() -> bool:
    return current() != RANDOM


def pin_process() -> None:
    """Start this program again with the pinned hash seed, unless it already runs with it.

    Call it first thing in a program's entry point, before anything is printed or
    opened: the process is replaced. When it cannot be restarted (the interpreter ignores
    the environment, no executable is known, a restart already happened), it carries on
    and its results record the seed as it is."""
    restarted = os.environ.pop(_RESTARTED, None)
    if current() == PINNED or restarted or sys.flags.ignore_environment:
        return
    argv = list(getattr(sys, "orig_argv", []))
    if not sys.executable or not argv:
        return
    env = {**os.environ, ENV: PINNED, _RESTARTED: "1"}
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        os.execve(sys.executable, argv, env)
    except OSError:
        return  # carry on unpinned: the result says so


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a process the harness starts to run cases: the pinned seed."""
    env = dict(os.environ if base is None else base)
    env[ENV] = PINNED
    return env


def warn_if_random(stacklevel: int = 3) -> None:
    """Warn that a run's hash seed is random (once per calling line, as warnings go)."""
    if pinned():
        return
    warnings.warn(
        "this process hashes strings with a random seed (PYTHONHASHSEED is not set): code "
        "that iterates a set of strings may run differently in another process, and this "
        f"run may not replay there; {FIX}",
        HashSeedWarning,
        stacklevel=stacklevel,
    )


__all__ = [
    "ENV",
    "PINNED",
    "RANDOM",
    "HashSeedWarning",
    "child_environment",
    "current",
    "pin_process",
    "pinned",
    "warn_if_random",
]
