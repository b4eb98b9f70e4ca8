"""What long work shows while it runs: a live status line on a terminal, plain lines otherwise.

Piped into a file or a CI log, the command line prints the same progress lines it always
did, one at a time. On a terminal, a status line (runs, runs per second, failures, the case
at hand) is redrawn in place under the lines that are printed; ``NO_COLOR`` and
``TERM=dumb`` are honoured (the latter gets the plain lines).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def terminal() -> Console | None:
    """A console on standard output when it is an interactive terminal; None otherwise."""
    if not sys.stdout.isatty():
        return None
    from rich.console import Console

    console = Console(file=sys.stdout)  # reads NO_COLOR, TERM and the width itself
    return console if console.is_interactive else None


class Status:
    """Progress of one piece of long work.

    With a console, a transient live line; lines printed meanwhile (to stdout or stderr)
    appear above it. Without one, nothing is drawn: the caller's plain progress lines are
    all there is.
    """

    def __init__(
        self,
        title: str,
        *,
        console: Console | None,
        total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title = title
        self.total = total
        self.runs = 0
        self.failures = 0
        self.case = ""
        # Counters as the work reports them itself (a fuzz campaign's progress line),
        # shown instead of the ones counted here.
        self.counters: str | None = None
        self.console = console
        self._clock = clock
        self._start = clock()
        self._live: Any = None

    @property
    def live(self) -> bool:
        return self.console is not None

    def __enter__(self) -> Status:
        if self.console is not None:
            from rich.live import Live

            self._start = self._clock()
            self._live = Live(
                _Line(self),
                console=self.console,
                transient=True,
                refresh_per_second=4,
                redirect_stdout=True,
                redirect_stderr=True,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def ran(self, *, failed: bool = False, case: str | None = None) -> None:
        """One more run finished; ``case`` is what runs next (or the one just done)."""
        self.runs += 1
        self.failures += int(failed)
        if case is not None:
            self.case = case
        self._refresh()

    def show(self, case: str) -> None:
        """The case at hand, without counting a run."""
        self.case = case
        self._refresh()

    def text(self) -> str:
        elapsed = max(self._clock() - self._start, 0.0)
        parts = [self.title]
        if self.counters is not None:
            parts.append(self.counters)
        elif self.runs or self.total:
            parts.append(f"runs {self.runs}" + (f"/{self.total}" if self.total else ""))
            rate = self.runs / elapsed if elapsed > 0 else 0.0
            parts.append(f"{rate:.2f} runs/s")
            parts.append(f"failures {self.failures}")
        if self.case:
            parts.append(self.case)
        if self.counters is None:
            parts.append(f"{elapsed:.0f}s")
        return " · ".join(parts)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()


class _Line:
    """The live line, rendered afresh on every refresh so the clock keeps moving."""

    def __init__(self, status: Status) -> None:
        self.status = status

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(self.status.text(), style="bold", overflow="ellipsis", no_wrap=True)
