"""Checkers: invariants judged from a run's history, never from the live system.

The framework every invariant uses, whoever declares it (the core, a workload, the
user): :class:`Violation` and :class:`Verdict`, :class:`Stream` for a safety invariant
judged one entry at a time as a run goes, :func:`judge` and :func:`overall`, and the
headline rule. A checker that raises is reported as ``unknown`` with the error, never
as a pass. The invariants themselves live with what they judge: the DNS view in
:mod:`dnschaos.dns.invariants`, the user's in :mod:`dnschaos.world.invariants`, a
workload's in its package.
"""

from __future__ import annotations

import functools
import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

PASS: Final = "pass"
FAIL: Final = "fail"
UNKNOWN: Final = "unknown"
NO_ACTOR_ERROR: Final = "no-actor-error"  # the default invariant of the code under test


@dataclass(frozen=True)
class Violation:
    invariant: str
    endpoint: str
    t: float
    detail: str
    seq: int
    # What the invariant read (names, "zone:NAME", "table:NAME"), when no history entry
    # says it: a check judged after the run (an end invariant) has none of its own.
    read: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "invariant": self.invariant,
            "endpoint": self.endpoint,
            "t": self.t,
            "detail": self.detail,
            "seq": self.seq,
        }
        if self.read:
            out["read"] = list(self.read)
        return out


@dataclass
class Verdict:
    checker: str
    status: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None


Entry = dict[str, Any]


class Stream:
    """A safety invariant judged an observation at a time, so a run can be watched as it
    goes without looking at its past again (the run keeps no list of it). ``feed`` takes
    any entry and returns the violations it shows; ``check`` runs a fresh stream over a
    whole history."""

    name: str = ""

    def feed(self, e: Entry) -> list[Violation]:
        raise NotImplementedError

    @classmethod
    def check(cls, history: Iterable[Entry]) -> list[Violation]:
        stream = cls()
        return [v for e in history for v in stream.feed(e)]

    def at(self, e: Entry, detail: str) -> list[Violation]:
        """The violation an observation ``e`` shows, told by ``detail``."""
        return [Violation(self.name, e["endpoint"], e["t"], detail, e["seq"])]


_F = TypeVar("_F", bound=Callable[..., Any])


def over_history(fn: _F) -> _F:
    """Mark ``fn``, a check of a whole history, as judged at the end: named as one of a
    user's invariants (``[[invariants]]``, ``Simulation.invariant``) it is then judged
    once over the history instead of being handed a view after every step."""
    fn.when = "end"  # type: ignore[attr-defined]
    return fn


over_history(Stream.__dict__["check"].__func__)  # every stream's check(history)


@dataclass(frozen=True)
class Checker:
    """A named invariant; ``a & b`` runs both, flattened into one composite."""

    name: str
    check: Callable[[Iterable[Entry]], list[Violation]]

    def __and__(self, other: Checker | Composite) -> Composite:
        return Composite((self,)) & other


@dataclass(frozen=True)
class Composite:
    parts: tuple[Checker, ...]

    def __and__(self, other: Checker | Composite) -> Composite:
        more = other.parts if isinstance(other, Composite) else (other,)
        return Composite(self.parts + more)

    def judge(self, history: Iterable[Entry]) -> list[Verdict]:
        return judge(history, {c.name: c.check for c in self.parts})


def judge(
    history: Iterable[Entry], checkers: dict[str, Callable[[Iterable[Entry]], list[Violation]]]
) -> list[Verdict]:
    return verdicts_of(read_once(history, checkers))


def verdicts_of(read: Mapping[str, tuple[Any, Exception | None]]) -> list[Verdict]:
    """The verdicts of checkers read by :func:`read_once`, in its order."""
    verdicts = []
    for name, (found, error) in read.items():
        if error is not None:  # a broken checker proves nothing: unknown, never pass
            verdicts.append(Verdict(name, UNKNOWN, error=f"{type(error).__name__}: {error}"))
        else:
            verdicts.append(Verdict(name, FAIL if found else PASS, found))
    return verdicts


def shares_entries(fn: _F) -> _F:
    """Mark ``fn``, a reader of a history of the core or a built-in workload, as one that
    only reads its entries: :func:`read_once` feeds it the entries it decodes once for
    every such reader, instead of a copy of its own."""
    fn.shares_entries = True  # type: ignore[attr-defined]
    return fn


def _shares(fn: Any) -> bool:
    """Whether ``fn`` may be fed entries other readers are fed too. Only readers of this
    package that say they only read (:func:`shares_entries`) may: anyone else's (a user's
    invariant, a third-party workload's, a stream class of theirs) could change an entry
    it is given, and another checker must never judge what it changed."""
    owner = getattr(fn, "__self__", None)  # a stream class's check
    if isinstance(owner, type):
        return issubclass(owner, Stream) and owner.__module__.startswith("dnschaos.")
    while isinstance(fn, functools.partial):
        fn = fn.func
    return bool(getattr(fn, "shares_entries", False)) and str(
        getattr(fn, "__module__", "")
    ).startswith("dnschaos.")


# Entries handed over at once to each reader's thread: few hand-offs, little memory.
CHUNK: Final = 512


class _Reader(threading.Thread):
    """One reader of the shared entries, on a thread of its own so that every reader can
    be an ordinary ``for e in history`` loop while one loop decodes the history."""

    def __init__(self, name: str, fn: Callable[[Iterable[Entry]], Any]) -> None:
        super().__init__(name=f"judge-{name}", daemon=True)
        self.fn = fn
        self.chunks: queue.Queue[list[Entry] | None] = queue.Queue(maxsize=2)
        self.value: Any = None
        self.error: Exception | None = None
        self.finished = threading.Event()

    def entries(self) -> Iterator[Entry]:
        while (chunk := self.chunks.get()) is not None:
            yield from chunk

    def run(self) -> None:
        try:
            self.value = self.fn(self.entries())
        except Exception as exc:
            self.error = exc
        except BaseException as exc:  # SystemExit and the like: no verdict either
            self.error = RuntimeError(f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.set()

    def give(self, chunk: list[Entry] | None) -> None:
        # A reader that has stopped reading (it returned, or raised) takes nothing more.
        while not self.finished.is_set():
            try:
                self.chunks.put(chunk, timeout=0.05)
                return
            except queue.Full:
                continue


def read_once(
    history: Iterable[Entry], readers: Mapping[str, Callable[[Iterable[Entry]], Any]]
) -> dict[str, tuple[Any, Exception | None]]:
    """Each reader's value (or the exception it raised) over ``history``, in ``readers``'
    order. The readers that only read (:func:`_shares`) are fed from one pass over the
    history, so the history is decoded once however many of them there are, and no more
    than a few chunks of it are held; every other reader reads the history for itself."""
    shared = {n: f for n, f in readers.items() if _shares(f)}
    out: dict[str, tuple[Any, Exception | None]] = {}
    if len(shared) > 1:
        threads = {n: _Reader(n, f) for n, f in shared.items()}
        for t in threads.values():
            t.start()
        try:
            for chunk in _chunks(history):
                for t in threads.values():
                    t.give(chunk)
        finally:
            for t in threads.values():
                t.give(None)
            for t in threads.values():
                t.join()
        out.update({n: (t.value, t.error) for n, t in threads.items()})
    for name, fn in readers.items():
        if name in out:
            continue
        try:
            out[name] = (fn(history), None)
        except Exception as exc:
            out[name] = (None, exc)
    return {n: out[n] for n in readers}


def _chunks(history: Iterable[Entry]) -> Iterator[list[Entry]]:
    it = iter(history)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk


def overall(verdicts: list[Verdict]) -> str:
    if any(v.status == FAIL for v in verdicts):
        return FAIL
    if any(v.status == UNKNOWN for v in verdicts):
        return UNKNOWN
    return PASS


def _ranks() -> dict[str, int]:
    """The headline order of invariants: what clients saw first (the core's DNS view), then
    each installed workload's own order; an unranked invariant comes after them all."""
    from dnschaos import workload

    return {"endpoint-never-empty-client": 0, **workload.ranks()}


def _rank(ranks: dict[str, int], name: str) -> int:
    return ranks.get(name, max(ranks.values(), default=0) + 1)


def headline(violations: Iterable[Violation]) -> Violation | None:
    """The one violation everything reports first: the CLI, the plugin, campaigns, the
    shrinker. Within a rank, the earliest in the history."""
    found = list(violations)
    if not found:
        return None
    ranks = _ranks()
    return min(found, key=lambda v: (_rank(ranks, v.invariant), v.seq, v.invariant))


def headline_dict(violations: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """:func:`headline` over violations read back from a result file."""
    found = list(violations)
    if not found:
        return None
    ranks = _ranks()
    return min(found, key=lambda v: (_rank(ranks, v["invariant"]), v["seq"], v["invariant"]))


Check = Callable[[Iterable[Entry]], list[Violation]]


@shares_entries
@over_history
def actor_errors(history: Iterable[dict[str, Any]]) -> list[Violation]:
    """``no-actor-error``: an actor of the code under test ended with an exception (its
    ``actor-error`` entry). A user's own actors are judged by it, and so are a user's own
    enactor and planner classes in a built-in scenario."""
    return [
        Violation(
            NO_ACTOR_ERROR,
            e["actor"],
            e["t"],
            f"{e['actor']} raised {e['type']}: {e['message']} (at {e['where']})",
            e["seq"],
        )
        for e in history
        if e["kind"] == "actor-error"
    ]


class ActorErrors(Stream):
    """``no-actor-error`` fed one entry at a time."""

    name = NO_ACTOR_ERROR

    def feed(self, e: Entry) -> list[Violation]:
        return actor_errors([e])
