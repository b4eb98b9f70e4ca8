"""incident-2025, scripted: the race of INCIDENT.md section 2 told step by step.

The planner and three enactors are actors of an ordinary run (``incident-2025-scripted``,
a scenario with a ``[script]`` table), run by the same run path, judged by the same
invariants and told by the same story as any other. Only who goes next is fixed: the
actors take turns by a script they share, each doing its own step with its own clients,
so every schedule the scheduler may pick is the same one. Every step is the real
planner or enactor code making real boto3 calls against moto with the strict Route 53
layer.

The order:

1. Steady state: the planner has written 99 plans; all three enactors applied 99.
2. The planner writes 100; enactor C checks 100 > 99 and goes for the regional lock.
3. For ``behind - 1`` rounds the planner writes a newer plan and enactor B applies it;
   each time C looks, B holds the regional lock, so C backs off.
4. The planner reaches 100 + behind; enactor A checks it and applies it to every endpoint.
5. C finally gets the lock and flips the regional root to plan 100.
6. A cleans up trees older than its plan minus the window: tree 100 among them.
7. The planner writes one more plan and every enactor tries to apply it.
8. Time passes: a plan that no enactor could apply is a wedge (the progress invariant).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Final

from dnschaos.workload import actor_of
from dnschaos.workloads.incident2025.config import IncidentConfig
from dnschaos.workloads.incident2025.enactor import EnactorConfig, LockBusyError
from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig
from dnschaos.workloads.incident2025.tree import tree_changes
from dnschaos.workloads.incident2025.variants import resolve_enactor

STEADY_GENERATION: Final = 99
ROLES: Final = ("planner", "enactor-a", "enactor-b", "enactor-c")
NAME: Final = "incident-2025"

Step = tuple[str, Callable[[], Any]]  # whose turn, and what that actor does


class Script:
    """The turns of the scripted race, shared by its actors (one per run)."""

    def __init__(self, config: IncidentConfig) -> None:
        self.config = config
        self.cast: dict[str, Any] = {}  # role -> the planner or enactor that plays it
        self.clock: Any = None
        self._steps: Iterator[Step] | None = None
        self._current: Step | None = None
        self._over = False
        self._lock = threading.Lock()

    def join(self, role: str, player: Any, clock: Any) -> None:
        with self._lock:
            self.cast[role] = player
            self.clock = clock

    def ready(self) -> bool:
        return len(self.cast) == len(ROLES)

    def turn(self) -> str | None:
        """Whose turn it is; None once the script is over."""
        with self._lock:
            if self._over:
                return None
            if self._current is None:
                if self._steps is None:
                    self._steps = self._story()
                self._current = next(self._steps, None)
                if self._current is None:
                    self._over = True
                    return None
            return self._current[0]

    def play(self) -> None:
        """The current step, by the actor whose turn it is; then the next one's turn."""
        assert self._current is not None
        _role, act = self._current
        act()
        with self._lock:
            self._current = None

    def _story(self) -> Iterator[Step]:
        planner: Planner = self.cast["planner"]
        a, b, c = self.cast["enactor-a"], self.cast["enactor-b"], self.cast["enactor-c"]
        world = self.world
        regional = world.endpoints[0]
        interval = planner.config.interval
        sleep = self.clock.sleep
        config = a.config

        for _ in range(STEADY_GENERATION):
            yield "planner", planner.step
        for e in (a, b, c):
            yield e.name, e.run_once
        yield "planner", lambda: sleep(interval)
        yield "planner", planner.step
        chosen: dict[str, Any] = {}

        def c_checks() -> None:
            chosen["c"] = c.select_plan()
            if chosen["c"] is None:
                raise RuntimeError("enactor C found no newer plan; the script is broken")

        yield "enactor-c", c_checks
        backoff = {"attempt": 0, "delay": 0.0}
        lease: dict[str, Any] = {}  # B's plan and lease of the round being played
        for _ in range(self.config.script.behind - 1 if self.config.script else 0):
            yield "planner", lambda: sleep(interval)
            yield "planner", planner.step

            def b_locks() -> None:
                plan = b.select_plan()
                assert plan is not None
                lease["plan"], lease["lease"] = plan, b.acquire(regional)
                assert lease["lease"] is not None
                if not b.tree_exists(regional, plan.generation):
                    b.batch(
                        lease["lease"],
                        tree_changes(regional, lease["lease"].zone_id, plan, config.leaf_ttl),
                    )

            def c_is_refused() -> None:
                try:
                    c.try_lock(regional)
                except LockBusyError:
                    backoff["attempt"] += 1
                    backoff["delay"] = c.backoff_delay(backoff["attempt"])
                    c.emit(
                        "backoff",
                        endpoint=regional.name,
                        attempt=backoff["attempt"],
                        seconds=round(backoff["delay"], 3),
                    )
                    return
                raise RuntimeError("enactor C got a lock that enactor B holds; the lock is broken")

            def b_applies() -> None:
                plan = lease["plan"]
                b.flip(lease["lease"], plan)
                b.release(lease["lease"])
                for ep in world.endpoints[1:]:
                    b.apply_endpoint(ep, plan)
                b.last_applied = plan.generation
                b.clean_up(plan)

            yield "enactor-b", b_locks
            yield "enactor-c", c_is_refused
            yield "enactor-b", b_applies
            yield "enactor-c", lambda: sleep(backoff["delay"])

        yield "planner", lambda: sleep(interval)
        yield "planner", planner.step

        def a_applies() -> None:
            plan = a.select_plan()
            assert plan is not None
            chosen["a"] = plan
            for ep in world.endpoints:
                a.apply_endpoint(ep, plan)
            a.last_applied = plan.generation

        def c_flips_back() -> None:
            c.apply_endpoint(regional, chosen["c"])

        def c_goes_on() -> None:
            for ep in world.endpoints[1:]:
                c.apply_endpoint(ep, chosen["c"])
            c.last_applied = chosen["c"].generation

        yield "enactor-a", a_applies
        yield "enactor-c", c_flips_back
        yield "enactor-a", lambda: a.clean_up(chosen["a"])
        yield "enactor-c", c_goes_on
        yield "planner", lambda: sleep(interval)
        yield "planner", planner.step
        for e in (a, b, c):
            yield e.name, e.run_once
        # Long enough for the newest plan to be due: one no enactor applies is a wedge.
        yield "planner", lambda: sleep(self.config.progress_bound + interval)

    @property
    def world(self) -> Any:
        return self._world

    @world.setter
    def world(self, value: Any) -> None:
        self._world = value


@actor_of(NAME)
def scripted(config: IncidentConfig) -> Callable[[Any], None]:
    """One role of the scripted race (the actor's name is its role): it plays its steps
    when its turn comes and waits otherwise."""

    def run(ctx: Any) -> None:
        world = ctx.workload(NAME)
        script: Script = world.script
        script.world = world
        window = config.script.cleanup_window if config.script else 10
        if ctx.name == "planner":
            player: Any = Planner(
                ctx.name,
                dynamodb=ctx.client("dynamodb"),
                fleet=world.fleet,
                config=PlannerConfig(table=world.table),
                clock=ctx.clock,
                events=ctx.history,
            )
        else:
            cls = resolve_enactor(config.variant)
            player = cls(
                ctx.name,
                route53=ctx.client("route53"),
                dynamodb=ctx.client("dynamodb"),
                config=EnactorConfig(
                    endpoints=world.endpoints, table=world.table, cleanup_window=window
                ),
                clock=ctx.clock,
                rng=ctx.stream(),
                events=ctx.history,
            )
        script.join(ctx.name, player, ctx.clock)
        while True:
            ctx.wait_until(
                lambda: script.ready() and script.turn() in (ctx.name, None),
                f"script: {ctx.name}'s turn",
            )
            if ctx.should_stop() or script.turn() is None:
                return
            script.play()

    return run


__all__ = ["ROLES", "STEADY_GENERATION", "Script", "scripted"]
