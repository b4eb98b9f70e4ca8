"""One exception tree for the whole harness.

Every error names the thing that is wrong, the rule it broke and the fix, so
that the CLI can print it as is. The class decides the exit code:
``UsageError`` and its children exit 2, ``HarnessError`` exits 3.
"""

from __future__ import annotations


class DnsChaosError(Exception):
    """Base of every error raised on purpose by dnschaos."""

    exit_code = 3


class UsageError(DnsChaosError):
    """Bad input from the user: a flag, a file, a name. Exit code 2."""

    exit_code = 2


class UnknownVariantError(UsageError):
    """A variant name that is neither registered nor an importable ``module:Class``."""


class ActorRefusedError(UsageError):
    """An actor that could only do nothing (a factory named without its args, which
    returns the actor instead of acting): found as it runs, it ends the run, which is
    refused as bad input instead of being judged."""


class RealAwsRefusedError(UsageError):
    """The real-AWS target was asked for without being explicitly enabled."""


class HarnessError(DnsChaosError):
    """Something inside the harness failed; the run proves nothing. Exit code 3."""

    exit_code = 3


class ClockError(HarnessError):
    """A clock was asked to go backwards or to do something it cannot."""


class ReplayDivergenceError(HarnessError):
    """A replayed run left its recording: a choice the recording does not allow, or a
    history whose digest differs from the recorded one."""
