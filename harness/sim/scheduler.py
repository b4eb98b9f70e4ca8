"""A deterministic scheduler: actors are threads, but exactly one runs at a time.

Each actor runs ordinary synchronous code (a planner's or an enactor's loop) in
a thread of its own. It runs only when the controlling thread hands it the
turn, and hands the turn back at a *yield point*: before and after every AWS
call (botocore events, see ``harness.sim.hooks``), at every clock sleep, and at
every DNS query a probe makes. The controller asks a strategy which ready actor
runs next, records the choice, and so owns the interleaving.

Time is virtual (:class:`SimClock`). It moves only when no actor is ready: the
clock then jumps to the earliest wake-up. It never goes backwards.

A run always ends: when every actor is done, when everyone is blocked with no
timer pending (deadlock), at the step limit, at the virtual-time limit, at the
wall-time limit, or when the caller's ``stop_when`` says so. Those that are not a
normal end carry a reason and lead to the verdict ``unknown``.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Protocol, overload

from dnschaos.errors import ClockError, HarnessError
from dnschaos.sim.clock import INCIDENT_EPOCH


class ActorState(StrEnum):
    READY = "ready"
    SLEEPING = "sleeping"
    BLOCKED = "blocked"  # waiting for a condition (wait_until)
    DONE = "done"
    FAILED = "failed"


class Stop(StrEnum):
    """Why a run ended."""

    FINISHED = "finished"  # every actor returned
    CONDITION = "condition"  # the caller's stop_when held (for example: a violation)
    DEADLOCK = "deadlock"
    STEP_LIMIT = "step-limit"
    TIME_LIMIT = "virtual-time-limit"
    WALL_LIMIT = "wall-time-limit"
    ACTOR_FAILED = "actor-failed"
    HARNESS_ERROR = "harness-error"


class _Killed(BaseException):
    """Raised inside an actor's thread to unwind it when the run is over.

    A BaseException, so the automation's ``except Exception`` cannot swallow it.
    """


@dataclass(frozen=True)
class Limits:
    max_steps: int = 200_000
    max_virtual_seconds: float = 3600.0
    max_wall_seconds: float = 300.0
    # Actors due within this many virtual seconds of the next wake-up count as
    # runnable together, so the strategy (not the latency draw alone) orders them;
    # the ones not picked are delayed, as a busy machine delays a thread.
    quantum: float = 0.0


# A busy machine delays a ready thread, but not without end: once an actor has been
# ready for more than this many quanta of virtual time, actors still asleep stop
# competing (the clock cannot move on past it) until it has run. Without the bound, a
# strategy with fixed priorities (pct) lets one actor that keeps sleeping less than a
# quantum starve the others indefinitely, and a checker of progress then blames the
# automation.
STARVE_QUANTA = 2


@dataclass
class Actor:
    name: str
    fn: Callable[[], None]
    state: ActorState = ActorState.READY
    label: str = "start"
    wake_at: float = 0.0
    ready_since: float = 0.0  # virtual time at which it last became ready to run
    error: BaseException | None = None
    until: Callable[[], bool] | None = None
    turn: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    thread: threading.Thread | None = None
    killed: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """One scheduling decision: which actor ran, and what it was about to do."""

    step: int
    actor: str
    label: str


class _Codes:
    """Strings that recur, each kept once and stored as its number a step, in as few
    bytes as the numbers so far need (one while there are at most 256 of them)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._index: dict[str, int] = {}
        self.codes = array("B")

    def append(self, text: str) -> None:
        code = self._index.get(text)
        if code is None:
            code = self._index[text] = len(self.names)
            self.names.append(text)
            if code >= 1 << (8 * self.codes.itemsize):
                self.codes = array("H" if code < 1 << 16 else "I", self.codes)
        self.codes.append(code)

    def __getitem__(self, i: int) -> str:
        return self.names[self.codes[i]]


class ChoiceLog(Sequence[Choice]):
    """A run's choices, kept as two small numbers a step (which actor, which label; the
    same few recur), so a long run's record of them stays two to four bytes a step.
    Reads as a list of :class:`Choice` (indexing, slicing, iteration, equality with a
    list)."""

    def __init__(self, choices: Iterable[Choice] = ()) -> None:
        self._actors = _Codes()
        self._labels = _Codes()
        for choice in choices:
            self.append(choice)

    def append(self, choice: Choice) -> None:
        if choice.step != len(self):
            raise HarnessError(f"choice of step {choice.step} recorded as step {len(self)}")
        self._actors.append(choice.actor)
        self._labels.append(choice.label)

    def __len__(self) -> int:
        return len(self._labels.codes)

    @overload
    def __getitem__(self, i: int) -> Choice: ...
    @overload
    def __getitem__(self, i: slice) -> list[Choice]: ...
    def __getitem__(self, i: int | slice) -> Choice | list[Choice]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return Choice(i, self._actors[i], self._labels[i])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (ChoiceLog, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ChoiceLog({len(self)} choices)"


@dataclass(frozen=True)
class Delay:
    """A strategy's decision to hold a ready actor at its yield point for ``seconds`` of
    virtual time instead of running anyone: the actor sleeps as if it had called
    ``sleep(seconds)`` there, and then goes on with what it was about to do. The decision
    is a step of its own, recorded as the label ``delay_label(seconds)``."""

    actor: str
    seconds: float


DELAY_PREFIX: Final = "delay "


def delay_label(seconds: float) -> str:
    return f"{DELAY_PREFIX}{seconds:.3f}s"


def delay_seconds(label: str) -> float | None:
    """The duration a recorded delay label names, or None for any other label."""
    if not (label.startswith(DELAY_PREFIX) and label.endswith("s")):
        return None
    try:
        return float(label[len(DELAY_PREFIX) : -1])
    except ValueError:
        return None


class Strategy(Protocol):
    name: str

    def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
        """Pick the next actor among ``ready`` (sorted by name; never empty), or hold one
        of the ready ones for a while (:class:`Delay`)."""
        ...


class Recorder(Protocol):
    def choice(self, choice: Choice, t: float) -> None: ...

    def clock_jump(self, t_from: float, t_to: float, woken: list[str]) -> None: ...


@dataclass
class SimResult:
    stop: Stop
    reason: str
    steps: int
    virtual_seconds: float
    wall_seconds: float
    choices: Sequence[Choice]
    failed: dict[str, str] = field(default_factory=dict)


class SimClock:
    """The virtual clock every actor, tenacity, botocore's retries and Route 53 share."""

    def __init__(self, scheduler: Scheduler, start: float) -> None:
        self._scheduler = scheduler
        self._now = start
        self.start = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"sleep({seconds}): a duration cannot be negative; pass max(0, d)")
        self._scheduler.sleep(seconds)

    def _advance_to(self, when: float) -> None:
        if when < self._now:
            raise ClockError(
                f"virtual clock asked to go back from {self._now:.3f} to {when:.3f}; "
                "virtual time only moves forward"
            )
        self._now = when

    def elapsed(self) -> float:
        return self._now - self.start


class Scheduler:
    def __init__(
        self,
        strategy: Strategy,
        *,
        limits: Limits = Limits(),
        recorder: Recorder | None = None,
        start: float = INCIDENT_EPOCH,
        stop_when: Callable[[], str | None] | None = None,
        after_step: Callable[[], None] | None = None,
    ) -> None:
        self.strategy = strategy
        self.limits = limits
        self.recorder = recorder
        self.clock = SimClock(self, start)
        bind = getattr(strategy, "bind_clock", None)
        if bind is not None:  # a strategy that places delays in virtual time
            bind(self.clock)
        bind_recorder = getattr(strategy, "bind_recorder", None)
        if bind_recorder is not None:  # a strategy that reads the calls actors are about to make
            bind_recorder(recorder)
        self.stop_when = stop_when
        self.after_step = after_step
        # (when, look): ``when()`` is the next clock time at which the watcher wants to
        # look at the world although no actor acts then (a change becoming visible, a
        # deadline), or None; ``look()`` looks (True when that recorded anything), and may
        # set ``stop_when`` as after_step does.
        self.timer: tuple[Callable[[], float | None], Callable[[], bool]] | None = None
        # Where the clock stood before looks that recorded nothing: the next jump is told
        # from there, as if they had not happened.
        self._quiet_since: float | None = None
        self._actors: dict[str, Actor] = {}
        self._local = threading.local()
        self._started = False
        self._finished = False
        self._done = threading.Semaphore(0)
        self._stop = Stop.FINISHED
        self._reason = ""
        self._error: BaseException | None = None
        self._step = 0
        self._choices = ChoiceLog()
        self._running: Actor | None = None
        self._stuck: Actor | None = None
        self._wall_start = 0.0

    # ------------------------------------------------------------------ set-up

    def spawn(self, name: str, fn: Callable[[], None]) -> None:
        if self._started:
            raise HarnessError(f"spawn({name!r}) while running: add every actor before run()")
        if name in self._actors:
            raise HarnessError(f"two actors named {name!r}; actor names must be unique")
        self._actors[name] = Actor(name, fn, ready_since=self.clock.now())

    def spawn_child(self, name: str, fn: Callable[[], None]) -> Actor:
        """Add an actor while the run goes on: called by the running actor (which holds the
        baton, so nobody else touches the actors now). The new actor is ready at once and
        runs when the strategy picks it, like any other."""
        if self._me() is None:
            raise HarnessError(f"spawn_child({name!r}) outside any actor: use spawn before run()")
        if self._finished:  # only an actor stuck past the end gets here: unwind it
            raise _Killed()
        if name in self._actors:
            raise HarnessError(f"two actors named {name!r}; actor names must be unique")
        actor = Actor(name, fn, ready_since=self.clock.now())
        self._actors[name] = actor
        actor.thread = threading.Thread(
            target=self._thread_main, args=(actor,), name=f"actor-{name}", daemon=True
        )
        actor.thread.start()  # it waits for its first turn
        return actor

    @property
    def stopped(self) -> Stop | None:
        """Why the run ended, once it has (None while it runs)."""
        return self._stop if self._finished else None

    @property
    def actor_names(self) -> list[str]:
        return sorted(self._actors)

    def current_actor(self) -> str | None:
        """The name of the actor whose thread is calling, or None on any other thread."""
        actor: Actor | None = getattr(self._local, "actor", None)
        return actor.name if actor is not None else None

    # ------------------------------------------------------------------ in actor threads

    def yield_point(self, label: str) -> None:
        """Give the turn back; return when the strategy picks this actor again."""
        actor = self._me()
        if actor is None:
            return  # not an actor: harness set-up or judging code runs freely
        actor.state = ActorState.READY
        actor.ready_since = self.clock.now()
        actor.label = label
        self._switch(actor)

    def sleep(self, seconds: float) -> None:
        actor = self._me()
        if actor is None:
            raise ClockError(
                "the virtual clock was asked to sleep outside any actor; only actors may wait"
            )
        actor.state = ActorState.SLEEPING
        actor.wake_at = self.clock.now() + seconds
        actor.label = f"sleep {seconds:.3f}s"
        self._switch(actor)

    def wait_until(self, condition: Callable[[], bool], label: str) -> None:
        """Block this actor until ``condition()`` holds; checked whenever another actor yields.

        If every actor is blocked and no timer is pending, the run ends as a deadlock.
        """
        actor = self._me()
        if actor is None:
            raise HarnessError("wait_until outside any actor: only actors can block")
        if condition():
            return
        actor.state = ActorState.BLOCKED
        actor.until = condition
        actor.label = f"wait {label}"
        self._switch(actor)

    def _me(self) -> Actor | None:
        return getattr(self._local, "actor", None)

    def _switch(self, actor: Actor) -> None:
        # Baton passing: the yielding actor makes the next decision itself, and keeps
        # running without any thread switch when the strategy picks it again.
        if self._dispatch(actor):
            return
        actor.turn.acquire()
        if actor.killed:
            raise _Killed()

    def _thread_main(self, actor: Actor) -> None:
        self._local.actor = actor
        actor.turn.acquire()
        if actor.killed:
            return
        try:
            actor.fn()
            actor.state = ActorState.DONE
        except _Killed:
            return
        except BaseException as exc:  # an actor that crashes ends the run with the reason
            actor.state = ActorState.FAILED
            actor.error = exc
            self._finish(Stop.ACTOR_FAILED, self._failures_text())
            return
        self._dispatch(actor)

    # ------------------------------------------------------------------ deciding

    def _dispatch(self, current: Actor | None) -> bool:
        """Run by whoever holds the baton: finish the step, pick the next actor, hand over.

        Returns True when ``current`` itself was picked and should just go on.
        """
        try:
            return self._decide(current)
        except BaseException as exc:  # a strategy or a hook failed: the run is over
            self._error = exc
            self._finish(Stop.HARNESS_ERROR, f"{type(exc).__name__}: {exc}")
            return False

    def _decide(self, current: Actor | None) -> bool:
        if self._finished:
            return False
        if current is not None:
            if self.after_step is not None:
                self.after_step()
            if self.stop_when is not None:
                why = self.stop_when()
                if why is not None:
                    self._finish(Stop.CONDITION, why)
                    return False
        return self._pick(current)

    def _pick(self, current: Actor | None) -> bool:
        while True:
            for a in self._actors.values():
                if a.state == ActorState.BLOCKED and a.until is not None and a.until():
                    a.state, a.until = ActorState.READY, None
                    a.ready_since = self.clock.now()
            ready = [a for a in self._actors.values() if a.state == ActorState.READY]
            sleeping = [a for a in self._actors.values() if a.state == ActorState.SLEEPING]
            if ready or sleeping:
                break
            blocked = sorted(
                f"{a.name} ({a.label})"
                for a in self._actors.values()
                if a.state == ActorState.BLOCKED
            )
            if blocked:
                self._finish(
                    Stop.DEADLOCK,
                    "deadlock: every actor is blocked and no timer is pending: "
                    + ", ".join(blocked),
                )
            else:
                self._finish(Stop.FINISHED, "every actor finished")
            return False
        base = self.clock.now() if ready else min(a.wake_at for a in sleeping)
        # Nobody can act before ``base``: the clock stops on the way where the watcher asked.
        # (Before the strategy is asked: a look that ends the run leaves no choice pending.)
        if not ready and not self._look_until(
            min(base, self.clock.start + self.limits.max_virtual_seconds)
        ):
            return False
        if not ready and base - self.clock.start > self.limits.max_virtual_seconds:
            self._finish(
                Stop.TIME_LIMIT,
                f"virtual time limit of {self.limits.max_virtual_seconds:.0f}s reached",
            )
            return False
        quantum = self.limits.quantum
        horizon = base + quantum
        owed = bool(
            quantum > 0
            and ready
            and self.clock.now() - min(a.ready_since for a in ready) > STARVE_QUANTA * quantum
        )
        candidates = sorted(
            ready + ([] if owed else [a for a in sleeping if a.wake_at <= horizon]),
            key=lambda a: a.name,
        )
        if self._step >= self.limits.max_steps:
            self._finish(Stop.STEP_LIMIT, f"step limit of {self.limits.max_steps} reached")
            return False
        if time.monotonic() - self._wall_start > self.limits.max_wall_seconds:
            self._finish(
                Stop.WALL_LIMIT, f"wall-time limit of {self.limits.max_wall_seconds:.0f}s reached"
            )
            return False
        decision = self.strategy.choose(self._step, candidates)
        if isinstance(decision, Delay):
            self._delay(decision, candidates)
            return self._pick(current)
        chosen = decision
        if chosen.state == ActorState.SLEEPING:
            t_from = self.clock.now()
            if chosen.wake_at > t_from:
                self.clock._advance_to(chosen.wake_at)
            woken = sorted(a.name for a in sleeping if a.wake_at <= self.clock.now())
            for a in sleeping:
                if a.wake_at <= self.clock.now():
                    a.state = ActorState.READY
                    a.ready_since = a.wake_at  # due then, whenever the clock got there
            if self._quiet_since is not None:
                t_from, self._quiet_since = self._quiet_since, None
            if self.recorder is not None and self.clock.now() > t_from:
                self.recorder.clock_jump(t_from, self.clock.now(), woken)
        choice = Choice(self._step, chosen.name, chosen.label)
        self._choices.append(choice)
        if self.recorder is not None:
            self.recorder.choice(choice, self.clock.now())
        self._step += 1
        self._running = chosen
        if chosen is current:
            return True
        chosen.turn.release()  # the last touch of shared state before this thread parks
        return False

    def _look_until(self, until: float) -> bool:
        """Before the clock jumps to ``until``, let the watcher look at the times it asked
        for on the way (``timer``): what changes with time alone is judged when it changes,
        not at the next step. False when a look ended the run. (A jump of at most a quantum
        while some actor is ready does not stop: the next step comes within it.)"""
        if self.timer is None:
            return True
        when, look = self.timer
        while (t := when()) is not None and self.clock.now() < t < until:
            before = self.clock.now()
            self.clock._advance_to(t)
            if look():
                self._quiet_since = None
            elif self._quiet_since is None:
                self._quiet_since = before
            why = self.stop_when() if self.stop_when is not None else None
            if why is not None:
                self._finish(Stop.CONDITION, why)
                return False
        return True

    def _delay(self, delay: Delay, candidates: list[Actor]) -> None:
        """Hold a ready actor where it is: it sleeps ``delay.seconds`` and keeps its label."""
        actor = next((a for a in candidates if a.name == delay.actor), None)
        if actor is None or actor.state != ActorState.READY:
            raise HarnessError(
                f"strategy {self.strategy.name}: step {self._step}: cannot delay {delay.actor}: "
                "only an actor that is ready to run can be held"
            )
        # Milliseconds, as the label records them: a replay reads the duration back from it.
        seconds = round(delay.seconds, 3)
        if not (seconds > 0 and seconds != float("inf")):
            raise HarnessError(
                f"strategy {self.strategy.name}: delay of {delay.seconds}s: must be finite and "
                ">= 0.001"
            )
        actor.state = ActorState.SLEEPING
        actor.wake_at = self.clock.now() + seconds
        choice = Choice(self._step, actor.name, delay_label(seconds))
        self._choices.append(choice)
        if self.recorder is not None:
            self.recorder.choice(choice, self.clock.now())
        self._step += 1

    def _finish(self, stop: Stop, reason: str) -> None:
        if self._finished:
            return
        self._finished = True
        self._stop = stop
        self._reason = reason
        self._done.release()

    # ------------------------------------------------------------------ the controller

    def run(self) -> SimResult:
        """Run until an end; the calling thread only starts the run and waits for it."""
        if self._started:
            raise HarnessError("a Scheduler runs once; make a new one for the next run")
        self._started = True
        self._wall_start = time.monotonic()
        for actor in self._actors.values():
            actor.thread = threading.Thread(
                target=self._thread_main, args=(actor,), name=f"actor-{actor.name}", daemon=True
            )
            actor.thread.start()
        self._dispatch(None)
        if not self._done.acquire(timeout=self.limits.max_wall_seconds + 1.0):
            stuck = self._stuck = self._running
            self._finish(
                Stop.WALL_LIMIT,
                f"actor {stuck.name if stuck else '?'} did not reach a yield point within the "
                f"wall-time limit ({self.limits.max_wall_seconds:.0f}s) after "
                f"'{stuck.label if stuck else '?'}': it is stuck in code the scheduler does not control",
            )
        self._kill_all()
        if self._error is not None:
            raise self._error
        failed = {
            a.name: f"{type(a.error).__name__}: {a.error}" for a in self._actors.values() if a.error
        }
        return SimResult(
            stop=self._stop,
            reason=self._reason,
            steps=self._step,
            virtual_seconds=self.clock.elapsed(),
            wall_seconds=time.monotonic() - self._wall_start,
            choices=self._choices,
            failed=failed,
        )

    def _failures_text(self) -> str:
        parts = [
            f"actor {a.name} raised {type(a.error).__name__}: {a.error}"
            for a in sorted(self._actors.values(), key=lambda a: a.name)
            if a.error is not None
        ]
        return "; ".join(parts) or "an actor failed"

    def _kill_all(self) -> None:
        """Unwind every actor still parked at a yield point, and wait for its thread.

        An actor stuck in uncontrolled code cannot be unwound; its thread is a daemon
        and is left behind rather than waited for.
        """
        for actor in self._actors.values():
            if actor is self._stuck:
                continue
            if actor.state in (ActorState.READY, ActorState.SLEEPING, ActorState.BLOCKED):
                actor.killed = True
                actor.turn.release()
        for actor in self._actors.values():
            if actor.thread is not None and actor is not self._stuck:
                actor.thread.join(timeout=5)
