"""Units of the user-actor support: spawning actors while a run goes on, the library of
invariants, and the binding of time and random to actor threads."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from dnschaos.errors import HarnessError
from dnschaos.invariants import Failed, foreign_deletes, never_empty, parse_change
from dnschaos.sim.clock import ManualClock
from dnschaos.sim.scheduler import ActorState, Scheduler, Stop
from dnschaos.sim.strategies import RandomStrategy
from dnschaos.world.binding import Binding, acting_as, harness_scope
from dnschaos.world.config import is_ref
from dnschaos.world.invariants import outcome


def _family(seed: int) -> tuple[list[str], Any]:
    log: list[str] = []
    s = Scheduler(RandomStrategy(random.Random(seed)))

    def child(name: str) -> Any:
        def body() -> None:
            for i in range(3):
                s.yield_point(f"{name} {i}")
                log.append(f"{name}:{i}")

        return body

    def parent() -> None:
        kids = [s.spawn_child(f"p/{i}", child(f"p/{i}")) for i in (1, 2)]
        s.wait_until(lambda: all(k.state == ActorState.DONE for k in kids), "join")
        log.append("joined")

    s.spawn("p", parent)
    return log, s.run()


def test_an_actor_spawns_children_that_run_under_the_scheduler() -> None:
    for seed in (1, 2, 3):
        log, result = _family(seed)
        assert result.stop == Stop.FINISHED
        assert log[-1] == "joined"
        assert sorted(log[:-1]) == sorted(f"p/{i}:{j}" for i in (1, 2) for j in range(3))
        assert {c.actor for c in result.choices} == {"p", "p/1", "p/2"}
        assert _family(seed)[1].choices == result.choices


def test_spawning_a_child_outside_an_actor_is_refused() -> None:
    s = Scheduler(RandomStrategy(random.Random(1)))
    with pytest.raises(HarnessError, match="outside any actor"):
        s.spawn_child("x/1", lambda: None)


def test_invariant_results() -> None:
    assert outcome(None) is None and outcome(True) is None and outcome([]) is None
    assert outcome(False) == Failed("violated")
    assert outcome("www is empty") == Failed("www is empty")


def test_parse_change_reads_the_history_summary() -> None:
    assert parse_change("UPSERT www.example.com. A 192.0.2.1,192.0.2.2") == (
        "UPSERT",
        "www.example.com.",
        "A",
        ("192.0.2.1", "192.0.2.2"),
    )
    assert parse_change("DELETE w.example.com. A [blue] 192.0.2.1")[3] == ("192.0.2.1",)


def _call(actor: str, *changes: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"actor": actor, "params": {"changes": list(changes)}}, {}


def test_no_foreign_delete() -> None:
    own = [_call("a", "UPSERT w.x. A 1"), _call("a", "DELETE w.x. A 1")]
    assert foreign_deletes(own) is None
    upsert_over = [_call("a", "UPSERT w.x. A 1"), _call("b", "UPSERT w.x. A 2")]
    failed = foreign_deletes(upsert_over)
    assert failed is not None and failed.message == "b removed w.x. A 1, written by a"
    kept = [_call("a", "UPSERT w.x. A 1"), _call("b", "UPSERT w.x. A 1,2")]
    assert foreign_deletes(kept) is None


class _View:
    def __init__(self) -> None:
        self.answers: tuple[str, ...] = ()

    def answer(self, name: str, rtype: str) -> tuple[str, ...]:
        return self.answers


def test_never_empty_once_answered_and_fresh_per_run() -> None:
    check, view = never_empty("www.example.com"), _View()
    run = check.fresh()
    assert run(view) is None  # never answered yet: nothing to lose
    view.answers = ("192.0.2.1",)
    assert run(view) is None
    view.answers = ()
    assert run(view) is not None
    assert check.fresh()(view) is None  # a new run starts afresh


def test_time_and_random_follow_the_run_only_on_actor_threads() -> None:
    clock = ManualClock(1000.0)
    rng = random.Random(5)
    binding = Binding(
        clock=clock,
        client_for=lambda a, s: None,
        harness_client=lambda s: None,
        rng_for=lambda a: rng,
    )
    real_sleep = time.sleep
    binding.install()
    try:
        with acting_as("a"):
            assert time.time() == 1000.0
            time.sleep(30)
            assert time.time() == 1030.0
            assert random.random() == random.Random(5).random()
            with harness_scope():
                assert time.time() > 1e9 + 1e8  # the machine's clock
        assert time.time() != 1030.0
        with pytest.raises(HarnessError, match="two runs"):
            Binding(
                clock=clock,
                client_for=lambda a, s: None,
                harness_client=lambda s: None,
                rng_for=lambda a: rng,
            ).install()
    finally:
        binding.uninstall()
    assert time.sleep is real_sleep


def test_module_function_references() -> None:
    assert is_ref("mypkg.sims:race")
    assert not is_ref("scenarios/x.toml") and not is_ref("incident-2025")
    assert not is_ref("C:\\x.toml")
