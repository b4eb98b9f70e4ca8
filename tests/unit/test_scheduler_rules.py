"""The scheduler's rules, each stated as a test: how a run ends, what it records, how a
strategy's delay holds an actor in virtual time, and the guards on building a run.

Strategies here are scripted (no randomness), so every expected step, label and clock
reading is exact."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import pytest

from dnschaos.errors import ClockError, HarnessError
from dnschaos.sim.scheduler import (
    Actor,
    Choice,
    ChoiceLog,
    Delay,
    Limits,
    Scheduler,
    Stop,
    delay_label,
    delay_seconds,
)


class Script:
    """Follows a script of decisions (an actor's name, or a Delay), then runs the first
    ready actor by name. Records what it was offered at each step."""

    name = "script"

    def __init__(self, *decisions: str | Delay) -> None:
        self.decisions = list(decisions)
        self.offered: list[list[str]] = []

    def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
        self.offered.append([a.name for a in ready])
        if self.decisions:
            want = self.decisions.pop(0)
            if isinstance(want, Delay):
                return want
            return next(a for a in ready if a.name == want)
        return ready[0]


class Recording:
    """A recorder that keeps what the scheduler reports."""

    def __init__(self) -> None:
        self.choices: list[tuple[Choice, float]] = []
        self.jumps: list[tuple[float, float, list[str]]] = []

    def choice(self, choice: Choice, t: float) -> None:
        self.choices.append((choice, t))

    def clock_jump(self, t_from: float, t_to: float, woken: list[str]) -> None:
        self.jumps.append((t_from, t_to, woken))


def _yields(s: Scheduler, name: str, n: int, log: list[str]) -> Callable[[], None]:
    def body() -> None:
        for i in range(n):
            log.append(f"{name}{i}")
            s.yield_point(f"{name} step {i}")

    return body


def _labels(choices: Sequence[Choice]) -> list[tuple[int, str, str]]:
    return [(c.step, c.actor, c.label) for c in choices]


# ------------------------------------------------------------------ how a run ends


def test_stop_when_ends_the_run_at_the_first_step_it_holds() -> None:
    log: list[str] = []
    s = Scheduler(Script(), stop_when=lambda: f"saw {len(log)} entries" if len(log) >= 3 else None)
    s.spawn("a", _yields(s, "a", 10, log))
    result = s.run()
    assert result.stop == Stop.CONDITION
    assert result.reason == "saw 3 entries"
    # Judged after every step: the actor got no further than the step that made it hold.
    assert log == ["a0", "a1", "a2"]
    assert result.steps == 3


def test_stop_when_that_never_holds_lets_the_run_finish() -> None:
    asked: list[int] = []

    def never() -> str | None:
        asked.append(1)
        return None

    log: list[str] = []
    s = Scheduler(Script(), stop_when=never)
    s.spawn("a", _yields(s, "a", 2, log))
    result = s.run()
    assert (result.stop, result.reason) == (Stop.FINISHED, "every actor finished")
    assert log == ["a0", "a1"]
    # Asked after each of the actor's steps (two yields and its end), never before the first.
    assert len(asked) == 3


def test_after_step_runs_after_every_step_and_before_stop_when() -> None:
    seen: list[str] = []
    log: list[str] = []
    s = Scheduler(
        Script(),
        after_step=lambda: seen.append(f"after {len(log)}"),
        stop_when=lambda: seen.append("stop?") or None,  # type: ignore[func-returns-value]
    )
    s.spawn("a", _yields(s, "a", 2, log))
    s.run()
    assert seen == ["after 1", "stop?", "after 2", "stop?", "after 2", "stop?"]


def test_a_failing_hook_ends_the_run_and_its_error_reaches_the_caller() -> None:
    def broken() -> str | None:
        raise RuntimeError("the judge broke")

    log: list[str] = []
    s = Scheduler(Script(), stop_when=broken)
    s.spawn("a", _yields(s, "a", 5, log))
    with pytest.raises(RuntimeError, match=r"^the judge broke$"):
        s.run()
    assert s.stopped == Stop.HARNESS_ERROR
    assert log == ["a0"]  # judged after the first step; nobody ran after it


def test_step_limit_counts_steps_exactly() -> None:
    log: list[str] = []
    s = Scheduler(Script(), limits=Limits(max_steps=4))
    s.spawn("a", _yields(s, "a", 100, log))
    result = s.run()
    assert (result.stop, result.reason) == (Stop.STEP_LIMIT, "step limit of 4 reached")
    assert result.steps == 4 and len(result.choices) == 4
    assert log == ["a0", "a1", "a2", "a3"]


def test_virtual_time_limit_allows_a_wake_up_exactly_at_the_limit() -> None:
    woke: list[float] = []

    def run(seconds: float) -> Any:
        s = Scheduler(Script(), limits=Limits(max_virtual_seconds=60))

        def sleeper() -> None:
            s.clock.sleep(seconds)
            woke.append(s.clock.elapsed())

        s.spawn("sleeper", sleeper)
        return s.run()

    on_time = run(60)
    assert on_time.stop == Stop.FINISHED and on_time.virtual_seconds == 60
    assert woke == [60]
    late = run(61)
    assert woke == [60], "an actor due past the limit never wakes"
    assert (late.stop, late.reason) == (Stop.TIME_LIMIT, "virtual time limit of 60s reached")
    assert late.virtual_seconds == 0  # the clock is not moved past the limit


def test_virtual_time_limit_does_not_stop_actors_that_are_ready() -> None:
    # Ready work at the limit still runs; only a jump of the clock past it ends the run.
    log: list[str] = []
    s = Scheduler(Script(), limits=Limits(max_virtual_seconds=10))

    def body() -> None:
        s.clock.sleep(10)
        for i in range(3):
            log.append(str(i))
            s.yield_point("work")

    s.spawn("a", body)
    assert s.run().stop == Stop.FINISHED
    assert log == ["0", "1", "2"]


def test_a_run_that_keeps_yielding_ends_at_the_wall_limit_not_as_stuck() -> None:
    s = Scheduler(Script(), limits=Limits(max_wall_seconds=1, max_steps=10**9))

    def busy() -> None:
        while True:
            time.sleep(0.001)
            s.yield_point("spin")

    s.spawn("busy", busy)
    result = s.run()
    assert (result.stop, result.reason) == (Stop.WALL_LIMIT, "wall-time limit of 1s reached")
    assert result.steps > 1  # it kept yielding: the pick ended it, not the controller's timer


def test_deadlock_names_every_blocked_actor_in_order() -> None:
    s = Scheduler(Script())
    s.spawn("y", lambda: s.wait_until(lambda: False, "x"))
    s.spawn("x", lambda: s.wait_until(lambda: False, "y"))
    s.spawn("done", lambda: None)
    result = s.run()
    assert result.stop == Stop.DEADLOCK
    assert result.reason == (
        "deadlock: every actor is blocked and no timer is pending: x (wait y), y (wait x)"
    )


def test_a_crash_is_reported_with_every_failed_actor_and_the_others_are_unwound() -> None:
    unwound: list[str] = []
    s = Scheduler(Script("calm", "boom"))

    def calm() -> None:
        try:
            while True:
                s.yield_point("calm")
        finally:
            unwound.append("calm")

    def boom() -> None:
        raise ValueError("bad plan")

    s.spawn("calm", calm)
    s.spawn("boom", boom)
    result = s.run()
    assert (result.stop, result.reason) == (
        Stop.ACTOR_FAILED,
        "actor boom raised ValueError: bad plan",
    )
    assert result.failed == {"boom": "ValueError: bad plan"}
    assert unwound == ["calm"]


def test_actors_parked_at_the_end_are_unwound_and_their_threads_joined() -> None:
    unwound: list[str] = []
    threads: list[threading.Thread] = []
    s = Scheduler(Script("a", "b", "sleeper", "waiter"), limits=Limits(max_steps=6))

    def parked(name: str) -> Callable[[], None]:
        def body() -> None:
            threads.append(threading.current_thread())
            try:
                while True:
                    s.yield_point("park")
            finally:
                unwound.append(name)

        return body

    def sleeper() -> None:
        try:
            s.clock.sleep(1000)
        finally:
            unwound.append("sleeper")

    def waiter() -> None:
        try:
            s.wait_until(lambda: False, "never")
        finally:
            unwound.append("waiter")

    s.spawn("a", parked("a"))
    s.spawn("b", parked("b"))
    s.spawn("sleeper", sleeper)
    s.spawn("waiter", waiter)
    assert s.run().stop == Stop.STEP_LIMIT
    assert sorted(unwound) == ["a", "b", "sleeper", "waiter"]
    assert threads and not any(t.is_alive() for t in threads)


def test_stopped_is_none_while_running_and_the_reason_after() -> None:
    during: list[Stop | None] = []
    s = Scheduler(Script())
    s.spawn("a", lambda: during.append(s.stopped))
    assert s.stopped is None
    s.run()
    assert during == [None]
    assert s.stopped == Stop.FINISHED


# ------------------------------------------------------------------ what a run records


def test_every_choice_is_recorded_with_the_label_the_actor_stopped_at() -> None:
    recorder = Recording()
    s = Scheduler(Script("b", "a", "a", "b"), recorder=recorder)
    flag: list[bool] = []

    def a() -> None:
        s.yield_point("about to write")
        flag.append(True)
        s.clock.sleep(2.5)

    def b() -> None:
        s.wait_until(lambda: bool(flag), "the write")

    s.spawn("a", a)
    s.spawn("b", b)
    result = s.run()
    assert result.stop == Stop.FINISHED
    expected = [
        (0, "b", "start"),
        (1, "a", "start"),
        (2, "a", "about to write"),
        (3, "b", "wait the write"),
        (4, "a", "sleep 2.500s"),
    ]
    assert _labels(result.choices) == expected
    assert [(c.step, c.actor, c.label) for c, _ in recorder.choices] == expected
    start = s.clock.start
    assert [t - start for _, t in recorder.choices] == [0, 0, 0, 0, 2.5]
    assert recorder.jumps == [(start, start + 2.5, ["a"])]
    assert result.virtual_seconds == 2.5


def test_a_clock_jump_wakes_every_actor_due_and_reports_them_sorted() -> None:
    recorder = Recording()
    s = Scheduler(Script(), recorder=recorder)
    woke: dict[str, float] = {}

    def sleeper(name: str, seconds: float) -> Callable[[], None]:
        def body() -> None:
            s.clock.sleep(seconds)
            woke[name] = s.clock.elapsed()

        return body

    s.spawn("c", sleeper("c", 5))
    s.spawn("b", sleeper("b", 5))
    s.spawn("a", sleeper("a", 9))
    s.run()
    start = s.clock.start
    assert recorder.jumps == [
        (start, start + 5, ["b", "c"]),
        (start + 5, start + 9, ["a"]),
    ]
    assert woke == {"b": 5, "c": 5, "a": 9}


def test_the_wait_of_a_ready_actor_starts_again_at_each_yield() -> None:
    # "worker" never sleeps; "napper" naps half a quantum at a time and is preferred
    # whenever it competes. The worker is owed a turn after two quanta of waiting, counted
    # from its last yield: it runs every two and a half seconds, not at every decision.
    class PreferNapper(Script):
        def choose(self, step: int, ready: list[Actor]) -> Actor | Delay:
            return next((a for a in ready if a.name == "napper"), ready[0])

    s = Scheduler(PreferNapper(), limits=Limits(quantum=1.0))
    ran_at: list[float] = []

    def worker() -> None:
        for _ in range(3):
            ran_at.append(s.clock.elapsed())
            s.yield_point("work")

    def napper() -> None:
        for _ in range(40):
            s.sleep(0.5)

    s.spawn("napper", napper)
    s.spawn("worker", worker)
    assert s.run().stop == Stop.FINISHED
    assert ran_at == [2.5, 5.0, 7.5]


def test_a_sleep_of_zero_yields_without_moving_the_clock() -> None:
    recorder = Recording()
    s = Scheduler(Script(), recorder=recorder)
    at: list[float] = []

    def body() -> None:
        s.clock.sleep(0)
        at.append(s.clock.elapsed())

    s.spawn("a", body)
    result = s.run()
    assert at == [0.0]
    assert _labels(result.choices) == [(0, "a", "start"), (1, "a", "sleep 0.000s")]
    assert recorder.jumps == []  # nothing moved: no jump to record


def test_a_run_reports_its_own_wall_time() -> None:
    s = Scheduler(Script())
    s.spawn("a", _yields(s, "a", 3, []))
    before = time.monotonic()
    result = s.run()
    after = time.monotonic()
    assert 0 < result.wall_seconds <= after - before


def test_by_default_a_run_ends_after_one_virtual_hour() -> None:
    s = Scheduler(Script())
    s.spawn("a", lambda: s.clock.sleep(3600.5))
    result = s.run()
    assert (result.stop, result.reason) == (Stop.TIME_LIMIT, "virtual time limit of 3600s reached")


def test_a_strategy_that_places_delays_in_time_gets_the_runs_clock() -> None:
    class Timed(Script):
        def bind_clock(self, clock: Any) -> None:
            self.bound = clock

    strategy = Timed()
    s = Scheduler(strategy)
    assert strategy.bound is s.clock


def test_an_actor_that_never_got_a_turn_never_runs() -> None:
    ran: list[str] = []
    s = Scheduler(Script(), limits=Limits(max_steps=1))
    s.spawn("a", lambda: s.yield_point("first"))
    s.spawn("b", lambda: ran.append("b"))
    assert s.run().stop == Stop.STEP_LIMIT
    assert ran == []


def test_wait_until_on_a_condition_that_holds_takes_no_step() -> None:
    s = Scheduler(Script())
    s.spawn("a", lambda: s.wait_until(lambda: True, "nothing"))
    result = s.run()
    assert _labels(result.choices) == [(0, "a", "start")]


def test_current_actor_and_actor_names() -> None:
    seen: dict[str, str | None] = {}
    s = Scheduler(Script())

    def who(name: str) -> Callable[[], None]:
        return lambda: seen.__setitem__(name, s.current_actor())

    s.spawn("zed", who("zed"))
    s.spawn("amy", who("amy"))
    assert s.actor_names == ["amy", "zed"]
    assert s.current_actor() is None
    s.run()
    assert seen == {"amy": "amy", "zed": "zed"}


# ------------------------------------------------------------------ the quantum


def test_a_sleeper_due_within_the_quantum_competes_with_ready_actors() -> None:
    def run(quantum: float | None, sleep: float) -> tuple[list[list[str]], list[str]]:
        order: list[str] = []
        script = Script()
        s = Scheduler(script, limits=Limits() if quantum is None else Limits(quantum=quantum))

        def napper() -> None:
            s.clock.sleep(sleep)
            order.append("napper")

        def worker() -> None:
            order.append("worker")

        s.spawn("napper", napper)
        s.spawn("worker", worker)
        s.run()
        return script.offered, order

    # The napper's first step puts it to sleep; then who is offered the turn?
    offered, _ = run(quantum=1.0, sleep=1.0)
    assert offered[1] == ["napper", "worker"]  # due exactly one quantum ahead: it competes
    offered, order = run(quantum=1.0, sleep=1.5)
    assert offered[1] == ["worker"]
    assert order == ["worker", "napper"]
    offered, _ = run(quantum=0.0, sleep=0.5)
    assert offered[1] == ["worker"]
    offered, _ = run(quantum=None, sleep=0.001)  # by default, no quantum: ready actors only
    assert offered[1] == ["worker"]


def test_a_ready_actor_is_passed_over_for_at_most_two_quanta() -> None:
    # "chatty" naps half a quantum at a time and is always preferred when it competes;
    # "worker" is ready at 0. Once it has waited more than two quanta, sleepers stop
    # competing: it runs at the first decision after t=2, when chatty wakes at 2.5.
    s = Scheduler(Script(*["chatty"] * 6), limits=Limits(quantum=1.0))
    ran_at: list[float] = []

    def chatty() -> None:
        for _ in range(20):
            s.sleep(0.5)

    s.spawn("chatty", chatty)
    s.spawn("worker", lambda: ran_at.append(s.clock.elapsed()))
    assert s.run().stop == Stop.FINISHED
    assert ran_at == [2.5]


def test_picking_a_sleeper_moves_the_clock_to_its_wake_up() -> None:
    at: list[float] = []
    s = Scheduler(Script("napper", "napper"), limits=Limits(quantum=1.0))

    def napper() -> None:
        s.clock.sleep(0.75)
        at.append(s.clock.elapsed())

    s.spawn("napper", napper)
    s.spawn("worker", lambda: at.append(s.clock.elapsed()))
    s.run()
    assert at == [0.75, 0.75]


# ------------------------------------------------------------------ delays


def test_a_delay_holds_the_actor_for_exactly_its_duration_and_is_a_step() -> None:
    recorder = Recording()
    s = Scheduler(Script("a", Delay("a", 5.0)), recorder=recorder)
    at: list[float] = []

    def a() -> None:
        s.yield_point("about to write")
        at.append(s.clock.elapsed())

    s.spawn("a", a)
    result = s.run()
    assert at == [5.0]
    assert _labels(result.choices) == [
        (0, "a", "start"),
        (1, "a", "delay 5.000s"),
        (2, "a", "about to write"),  # it goes on with what it was about to do
    ]
    assert result.steps == 3
    start = s.clock.start
    assert recorder.choices[1] == (Choice(1, "a", "delay 5.000s"), start)
    assert recorder.jumps == [(start, start + 5.0, ["a"])]


def test_while_one_actor_is_held_the_others_run_at_the_same_time() -> None:
    at: dict[str, float] = {}
    s = Scheduler(Script(Delay("a", 3.0)))

    def record(name: str) -> Callable[[], None]:
        return lambda: at.__setitem__(name, s.clock.elapsed())

    s.spawn("a", record("a"))
    s.spawn("b", record("b"))
    s.run()
    assert at == {"b": 0.0, "a": 3.0}


def test_a_delay_is_kept_to_the_millisecond_the_label_records() -> None:
    s = Scheduler(Script(Delay("a", 1.23456)))
    at: list[float] = []
    s.spawn("a", lambda: at.append(s.clock.elapsed()))
    result = s.run()
    assert result.choices[0].label == "delay 1.235s"
    assert at == [pytest.approx(1.235, abs=1e-6)]


@pytest.mark.parametrize("seconds", [0.0, 0.0004, -1.0, math.inf, math.nan])
def test_a_delay_must_be_finite_and_at_least_a_millisecond(seconds: float) -> None:
    s = Scheduler(Script(Delay("a", seconds)))
    s.spawn("a", lambda: None)
    with pytest.raises(HarnessError) as exc:
        s.run()
    assert str(exc.value) == (f"strategy script: delay of {seconds}s: must be finite and >= 0.001")
    assert s.stopped == Stop.HARNESS_ERROR


def test_only_a_ready_actor_can_be_held() -> None:
    s = Scheduler(Script(Delay("ghost", 1.0)))
    s.spawn("a", lambda: None)
    with pytest.raises(HarnessError) as exc:
        s.run()
    assert str(exc.value) == (
        "strategy script: step 0: cannot delay ghost: only an actor that is ready to run "
        "can be held"
    )
    # A sleeper offered within the quantum is not ready: it cannot be held either.
    s = Scheduler(Script("napper", Delay("napper", 1.0)), limits=Limits(quantum=1.0))
    s.spawn("napper", lambda: s.clock.sleep(0.5))
    s.spawn("worker", lambda: None)
    with pytest.raises(HarnessError, match="step 1: cannot delay napper"):
        s.run()


def test_delay_labels_read_back_to_their_duration() -> None:
    assert delay_label(37.5) == "delay 37.500s"
    assert delay_seconds(delay_label(37.5)) == 37.5
    assert delay_seconds("delay 0.001s") == 0.001
    for other in ("sleep 1.000s", "delay 1.000", "delay abcs", "start", "xdelay 1.000s"):
        assert delay_seconds(other) is None, other


# ------------------------------------------------------------------ guards


def test_actor_names_are_unique() -> None:
    s = Scheduler(Script())
    s.spawn("a", lambda: None)
    with pytest.raises(HarnessError) as exc:
        s.spawn("a", lambda: None)
    assert str(exc.value) == "two actors named 'a'; actor names must be unique"


def test_spawning_while_running_is_refused() -> None:
    s = Scheduler(Script())
    s.spawn("a", lambda: s.spawn("late", lambda: None))
    result = s.run()
    assert result.stop == Stop.ACTOR_FAILED
    assert result.failed == {
        "a": "HarnessError: spawn('late') while running: add every actor before run()"
    }


def test_a_scheduler_runs_once() -> None:
    s = Scheduler(Script())
    s.spawn("a", lambda: None)
    s.run()
    with pytest.raises(HarnessError, match=r"^a Scheduler runs once; make a new one"):
        s.run()


def test_a_child_spawned_by_an_actor_runs_when_picked() -> None:
    log: list[str] = []
    s = Scheduler(Script())

    def parent() -> None:
        child = s.spawn_child("child", lambda: log.append(f"child at {s.clock.elapsed()}"))
        log.append(f"parent spawned {child.name}")
        s.yield_point("spawned")

    s.spawn("parent", parent)
    result = s.run()
    assert result.stop == Stop.FINISHED
    assert log == ["parent spawned child", "child at 0.0"]
    assert s.actor_names == ["child", "parent"]


def test_spawn_child_is_for_actors_and_names_stay_unique() -> None:
    s = Scheduler(Script())
    with pytest.raises(HarnessError, match=r"^spawn_child\('x'\) outside any actor"):
        s.spawn_child("x", lambda: None)

    def twin() -> None:
        s.spawn_child("a", lambda: None)

    s.spawn("a", twin)
    result = s.run()
    assert result.failed == {"a": "HarnessError: two actors named 'a'; actor names must be unique"}


def test_waiting_and_sleeping_are_for_actors_only() -> None:
    s = Scheduler(Script())
    with pytest.raises(HarnessError, match=r"^wait_until outside any actor"):
        s.wait_until(lambda: True, "x")
    with pytest.raises(ClockError, match=r"^the virtual clock was asked to sleep outside"):
        s.sleep(1)
    s.yield_point("harness code")  # outside an actor a yield point does nothing
    with pytest.raises(ClockError) as exc:
        s.clock.sleep(-0.5)
    assert str(exc.value) == "sleep(-0.5): a duration cannot be negative; pass max(0, d)"


def test_the_clock_reads_elapsed_time_from_its_start() -> None:
    s = Scheduler(Script(), start=1000.0)
    assert (s.clock.now(), s.clock.start, s.clock.elapsed()) == (1000.0, 1000.0, 0.0)
    s.clock._advance_to(1012.5)
    assert (s.clock.now(), s.clock.elapsed()) == (1012.5, 12.5)
    s.clock._advance_to(1012.5)  # standing still is not going back
    with pytest.raises(ClockError) as exc:
        s.clock._advance_to(1012.4)
    assert str(exc.value) == (
        "virtual clock asked to go back from 1012.500 to 1012.400; virtual time only moves forward"
    )


# ------------------------------------------------------------------ the choice log


def test_choice_log_reads_as_a_list_of_choices() -> None:
    choices = [Choice(0, "a", "start"), Choice(1, "b", "start"), Choice(2, "a", "write")]
    log = ChoiceLog(choices)
    assert len(log) == 3
    assert log == choices and log == tuple(choices) and log == ChoiceLog(choices)
    assert log != choices[:2] and log != [*choices[:2], Choice(2, "a", "read")]
    assert (log == "abc") is False
    assert log[0] == choices[0] and log[2] == choices[2]
    assert log[-1] == choices[2] and log[-3] == choices[0]
    assert log[1:] == choices[1:] and log[::2] == [choices[0], choices[2]]
    assert list(log) == choices
    for bad in (3, -4):
        with pytest.raises(IndexError):
            log[bad]
    assert repr(log) == "ChoiceLog(3 choices)"
    with pytest.raises(TypeError):
        hash(log)


def test_choice_log_takes_choices_in_step_order_only() -> None:
    log = ChoiceLog([Choice(0, "a", "start")])
    with pytest.raises(HarnessError) as exc:
        log.append(Choice(2, "a", "x"))
    assert str(exc.value) == "choice of step 2 recorded as step 1"
    log.append(Choice(1, "a", "x"))
    assert log[1] == Choice(1, "a", "x")


def test_every_way_a_run_ends_is_one_a_result_file_may_record() -> None:
    schema = json.loads(
        resources.files("dnschaos").joinpath("result.schema.json").read_text(encoding="utf-8")
    )
    assert sorted(s.value for s in Stop) == sorted(schema["properties"]["stop"]["enum"])


# ------------------------------------------------------------------ looks on the way


def _sleeper(s: Scheduler, seconds: float, woke: list[float]) -> Callable[[], None]:
    """An actor that sleeps ``seconds`` and notes the elapsed time it woke at."""

    def body() -> None:
        s.clock.sleep(seconds)
        woke.append(s.clock.elapsed())

    return body


def _looking(times: list[float], looked: list[float], s: Scheduler, found: bool = False) -> Any:
    """A watcher asking to look at ``times`` (relative to the start), one after another."""
    pending = list(times)

    def when() -> float | None:
        return s.clock.start + pending[0] if pending else None

    def look() -> bool:
        looked.append(s.clock.elapsed())
        pending.pop(0)
        return found

    return when, look


def test_a_jump_of_the_clock_stops_where_the_watcher_asked_to_look() -> None:
    recorder = Recording()
    s = Scheduler(Script(), recorder=recorder)
    looked: list[float] = []
    s.timer = _looking([30.0, 60.0, 150.0], looked, s)
    woke: list[float] = []
    s.spawn("a", _sleeper(s, 100, woke))
    result = s.run()
    assert result.stop == Stop.FINISHED
    # Looked at 30 and 60 on the way to the wake-up at 100; 150 is past every wake-up.
    assert looked == [30.0, 60.0] and woke == [100.0]
    # The looks recorded nothing, so the jump is reported whole, from where it began.
    start = s.clock.start
    assert recorder.jumps == [(start, start + 100, ["a"])]


def test_a_look_that_records_splits_the_jump_where_it_looked() -> None:
    recorder = Recording()
    s = Scheduler(Script(), recorder=recorder)
    looked: list[float] = []
    s.timer = _looking([40.0], looked, s, found=True)
    s.spawn("a", _sleeper(s, 100, []))
    s.run()
    start = s.clock.start
    assert looked == [40.0]
    assert recorder.jumps == [(start + 40, start + 100, ["a"])]


def test_a_look_that_makes_stop_when_hold_ends_the_run_there() -> None:
    s = Scheduler(Script(), stop_when=lambda: "seen at the look" if looked else None)
    looked: list[float] = []
    s.timer = _looking([25.0], looked, s, found=True)
    woke: list[float] = []
    s.spawn("a", _sleeper(s, 100, woke))
    result = s.run()
    assert (result.stop, result.reason) == (Stop.CONDITION, "seen at the look")
    assert looked == [25.0] and woke == []
    assert s.clock.elapsed() == 25.0
    assert result.steps == 1  # the start; no choice is left pending after the look


def test_no_look_while_an_actor_is_ready() -> None:
    s = Scheduler(Script())
    looked: list[float] = []
    s.timer = _looking([0.0005], looked, s)
    log: list[str] = []
    s.spawn("a", _yields(s, "a", 3, log))
    s.run()
    assert log == ["a0", "a1", "a2"] and looked == []
