"""The scheduler and its strategies on plain threads (no AWS)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from dnschaos.errors import ClockError, ReplayDivergenceError
from dnschaos.sim.clock import ManualClock
from dnschaos.sim.scheduler import STARVE_QUANTA, Limits, Scheduler, Stop
from dnschaos.sim.strategies import DFSStrategy, PCTStrategy, RandomStrategy, ReplayStrategy


def _worker(s: Scheduler, name: str, log: list[str], steps: int) -> Callable[[], None]:
    def body() -> None:
        for i in range(steps):
            log.append(f"{name}{i}")
            s.yield_point(f"{name} step {i}")

    return body


def _run(strategy: object, steps: int = 3, **limits: float) -> tuple[list[str], Scheduler, object]:
    s = Scheduler(strategy, limits=Limits(**limits))  # type: ignore[arg-type]
    log: list[str] = []
    for name in ("a", "b", "c"):
        s.spawn(name, _worker(s, name, log, steps))
    return log, s, s.run()


def test_exactly_one_actor_runs_at_a_time() -> None:
    s = Scheduler(RandomStrategy(random.Random(3)))
    inside: list[int] = [0]
    overlaps: list[int] = []

    def body() -> None:
        for _ in range(50):
            inside[0] += 1
            if inside[0] > 1:
                overlaps.append(1)
            time.sleep(0.0001)  # real time passes; nobody else may run meanwhile
            inside[0] -= 1
            s.yield_point("tick")

    for name in ("a", "b", "c", "d"):
        s.spawn(name, body)
    result = s.run()
    assert result.stop == Stop.FINISHED
    assert overlaps == []


def test_same_seed_same_interleaving_other_seed_other_interleaving() -> None:
    first, _, _ = _run(RandomStrategy(random.Random(5)), steps=8)
    again, _, _ = _run(RandomStrategy(random.Random(5)), steps=8)
    other, _, _ = _run(RandomStrategy(random.Random(6)), steps=8)
    assert first == again
    assert first != other


def test_virtual_clock_jumps_to_the_next_wake_up() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))
    seen: dict[str, float] = {}

    def sleeper(name: str, seconds: float) -> Callable[[], None]:
        def body() -> None:
            s.clock.sleep(seconds)
            seen[name] = s.clock.elapsed()

        return body

    s.spawn("short", sleeper("short", 30))
    s.spawn("long", sleeper("long", 3600))
    start = time.monotonic()
    result = s.run()
    assert seen == {"short": 30, "long": 3600}
    assert result.virtual_seconds == 3600
    assert time.monotonic() - start < 5, "virtual time must not be slept in wall time"


def test_virtual_clock_never_goes_backwards() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))
    with pytest.raises(ClockError, match="only moves forward"):
        s.clock._advance_to(s.clock.now() - 1)
    manual = ManualClock()
    manual.sleep(10)
    with pytest.raises(ClockError, match="go back"):
        manual.advance_to(manual.start)
    with pytest.raises(ClockError, match="negative"):
        manual.sleep(-1)


def test_sleeping_outside_an_actor_is_refused() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))
    with pytest.raises(ClockError, match="outside any actor"):
        s.clock.sleep(1)


def test_deadlock_ends_the_run_with_the_blocked_actors_named() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))
    s.spawn("x", lambda: s.wait_until(lambda: False, "a message that never comes"))
    s.spawn("y", lambda: s.wait_until(lambda: False, "x to finish"))
    result = s.run()
    assert result.stop == Stop.DEADLOCK
    assert (
        "x (wait a message that never comes)" in result.reason
        and "y (wait x to finish)" in result.reason
    )


def test_wait_until_wakes_when_the_condition_holds() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))
    flag: list[bool] = []
    order: list[str] = []

    def waiter() -> None:
        s.wait_until(lambda: bool(flag), "flag")
        order.append("waiter")

    def setter() -> None:
        s.clock.sleep(10)
        flag.append(True)
        order.append("setter")
        s.yield_point("set")

    s.spawn("waiter", waiter)
    s.spawn("setter", setter)
    assert s.run().stop == Stop.FINISHED
    assert order == ["setter", "waiter"]


def test_step_limit_and_virtual_time_limit_end_runs_with_a_reason() -> None:
    _, _, result = _run(RandomStrategy(random.Random(1)), steps=100, max_steps=10)
    assert result.stop == Stop.STEP_LIMIT and "step limit of 10" in result.reason  # type: ignore[attr-defined]
    s = Scheduler(RandomStrategy(random.Random(1)), limits=Limits(max_virtual_seconds=60))

    def forever() -> None:
        while True:
            s.clock.sleep(10)

    s.spawn("loop", forever)
    result2 = s.run()
    assert result2.stop == Stop.TIME_LIMIT and "virtual time limit of 60s" in result2.reason


def test_an_actor_stuck_in_uncontrolled_code_hits_the_wall_limit() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)), limits=Limits(max_wall_seconds=0.5))
    s.spawn("stuck", lambda: time.sleep(30))
    start = time.monotonic()
    result = s.run()
    assert result.stop == Stop.WALL_LIMIT
    assert "actor stuck did not reach a yield point" in result.reason
    assert time.monotonic() - start < 5


def test_a_crashing_actor_ends_the_run_with_its_error() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))

    def boom() -> None:
        s.yield_point("before")
        raise ValueError("bad plan")

    s.spawn("boom", boom)
    s.spawn("calm", _worker(s, "calm", [], 50))
    result = s.run()
    assert result.stop == Stop.ACTOR_FAILED
    assert "actor boom raised ValueError: bad plan" in result.reason


def test_replay_reproduces_and_reports_divergence() -> None:
    log, _, original = _run(RandomStrategy(random.Random(9)), steps=4)
    again, _, _ = _run(ReplayStrategy(original.choices), steps=4)  # type: ignore[attr-defined]
    assert again == log
    tampered = list(original.choices)  # type: ignore[attr-defined]
    victim = tampered[5]
    tampered[5] = type(victim)(victim.step, victim.actor, "something else")
    with pytest.raises(ReplayDivergenceError, match=f"step 5, actor {victim.actor}"):
        _run(ReplayStrategy(tampered), steps=4)


def test_pct_depth_one_runs_the_top_priority_actor_to_completion() -> None:
    log, _, _ = _run(PCTStrategy(random.Random(2), ["a", "b", "c"], depth=1), steps=3)
    # Without change points each actor runs all its steps before the next one starts.
    firsts = [entry[0] for entry in log]
    assert firsts == sorted(firsts, key=lambda n: firsts.index(n))
    assert [firsts[i] for i in (0, 3, 6)] == list(dict.fromkeys(firsts))


def test_dfs_explores_every_interleaving_once_and_says_when_exhausted() -> None:
    dfs = DFSStrategy(bound=100)
    seen: set[tuple[str, ...]] = set()
    while True:
        s = Scheduler(dfs)
        log: list[str] = []
        for name in ("a", "b"):
            s.spawn(name, _worker(s, name, log, 2))
        s.run()
        seen.add(tuple(log))
        if not dfs.next_run():
            break
    # Two actors with three scheduling points each: C(6, 3) = 20 schedules.
    assert dfs.exhausted and dfs.runs == 20
    # Every interleaving of the visible effects (a0 a1 with b0 b1) was produced: C(4, 2) = 6.
    assert len(seen) == 6


class _Favourite:
    """Fixed priorities, as pct has between change points: ``top`` whenever it competes."""

    name = "favourite"

    def __init__(self, top: str) -> None:
        self.top = top

    def choose(self, step: int, ready: list[Any]) -> Any:
        return next((a for a in ready if a.name == self.top), ready[0])


def test_an_actor_that_keeps_napping_cannot_starve_a_ready_one() -> None:
    # "chatty" sleeps half a quantum at a time and always wins when it competes; "worker"
    # is ready from the start. Sleepers due within a quantum compete with ready actors, so
    # without a bound chatty would run alone for all of its 200 naps (100 virtual seconds).
    quantum = 1.0
    s = Scheduler(_Favourite("chatty"), limits=Limits(quantum=quantum))  # type: ignore[arg-type]
    ran_at: list[float] = []

    def chatty() -> None:
        for _ in range(200):
            s.sleep(0.5)

    def worker() -> None:
        ran_at.append(s.clock.elapsed())

    s.spawn("chatty", chatty)
    s.spawn("worker", worker)
    assert s.run().stop == Stop.FINISHED
    # Passed over for at most STARVE_QUANTA quanta, then the clock waits for it.
    assert ran_at and ran_at[0] <= (STARVE_QUANTA + 1) * quantum
    assert ran_at[0] > 0  # passed over for a while, as on a busy machine: not at once


def test_the_choice_log_takes_a_byte_a_step_each_until_it_needs_more() -> None:
    from dnschaos.sim.scheduler import Choice, ChoiceLog

    few = ChoiceLog(Choice(i, f"a{i % 3}", f"call {i % 7}") for i in range(1000))
    assert few._actors.codes.itemsize == 1 and few._labels.codes.itemsize == 1
    many = [Choice(i, f"a{i % 3}", f"delay {i}.000s") for i in range(70_000)]
    log = ChoiceLog(many)
    assert log._labels.codes.itemsize == 4 and log._actors.codes.itemsize == 1
    assert log == many and log[300] == many[300] and log[-1] == many[-1]
    assert ChoiceLog(many[:300])._labels.codes.itemsize == 2
