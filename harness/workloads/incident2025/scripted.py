"""incident-2025, scripted: the race of INCIDENT.md section 2 as one sequence of real steps.

Every step is the real planner or enactor code making real boto3 calls against
moto with the strict Route 53 layer; only the *order* is scripted, on one
thread, with a virtual clock. (A scheduler that finds the order by itself
replaces the script later.)

The order:

1. Steady state: the planner has written 99 plans; all three enactors applied 99.
2. The planner writes 100; enactor C checks 100 > 99 and goes for the regional lock.
3. For ``behind - 1`` rounds the planner writes a newer plan and enactor B
   applies it; each time C looks, B holds the regional lock, so C backs off.
4. The planner reaches 100 + behind; enactor A checks it and applies it to every endpoint.
5. C finally gets the lock and flips the regional root to plan 100.
6. A cleans up trees older than its plan minus the window: tree 100 among them.
7. The planner writes one more plan and every enactor tries to apply it.

Judging reads Route 53's state through the strict layer, never through the
enactors' own view.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnschaos import checkers
from dnschaos.adapters.aws.target import AwsTarget, TargetSpec, open_target
from dnschaos.adapters.dnsserve.dataplane import possible_addresses
from dnschaos.adapters.route53.models import StrictRoute53
from dnschaos.checkers import Violation
from dnschaos.errors import UsageError
from dnschaos.events import Event, EventLog
from dnschaos.history import History
from dnschaos.sim.clock import ManualClock
from dnschaos.sim.hooks import instrument
from dnschaos.workloads.incident2025.enactor import EnactorConfig, LockBusyError, Outcome
from dnschaos.workloads.incident2025.planner import Planner, PlannerConfig
from dnschaos.workloads.incident2025.tree import plan_name, root_name, tree_changes
from dnschaos.workloads.incident2025.variants import resolve_enactor
from dnschaos.workloads.incident2025.world import Observer, World

STEADY_GENERATION = 99


@dataclass
class IncidentResult:
    variant: str
    seed: int
    violations: list[Violation]
    events: list[Event]
    final: dict[str, dict[str, Any]]
    newest_plan: int
    history: History
    virtual_seconds: float
    wall_seconds: float = 0.0
    story: list[str] = field(default_factory=list)

    @property
    def violated(self) -> bool:
        return bool(self.violations)


def run_incident(
    variant: str = "legacy",
    *,
    seed: int = 7,
    behind: int = 45,
    cleanup_window: int = 10,
    progress: Callable[[str], None] | None = None,
) -> IncidentResult:
    """Run the scripted race with ``variant`` and judge the end state."""
    if behind <= cleanup_window:
        raise UsageError(
            f"--behind {behind}: enactor C must fall more than the clean-up window "
            f"({cleanup_window}) generations behind for the race to exist; use a larger value"
        )
    enactor_cls = resolve_enactor(variant)
    wall_start = time.monotonic()
    clock = ManualClock()
    log = EventLog()
    history = History(clock.start)
    rng = random.Random(seed)
    say = progress or (lambda _msg: None)

    def sink(event: Event) -> None:
        log(event)
        history(event)

    with open_target(TargetSpec("moto"), clock=clock, seed=seed) as target:
        world = World(target).provision()
        observer = Observer(target.strict_route53(), world, history, clock)

        def client(service: str, actor: str) -> Any:
            c = target.client(service, actor=actor)
            instrument(
                c,
                None,
                history,
                actor=actor,
                rng=random.Random(f"{seed}/{actor}/{service}"),
                clock=clock,
                on_complete=lambda op: (
                    observer.observe() if op == "ChangeResourceRecordSets" else None
                ),
            )
            return c

        planner = Planner(
            "planner",
            dynamodb=client("dynamodb", "planner"),
            fleet=world.fleet,
            config=PlannerConfig(table=world.table),
            clock=clock,
            events=sink,
        )
        config = EnactorConfig(
            endpoints=world.endpoints, table=world.table, cleanup_window=cleanup_window
        )

        def enactor(name: str) -> Any:
            return enactor_cls(
                name,
                route53=client("route53", name),
                dynamodb=client("dynamodb", name),
                config=config,
                clock=clock,
                rng=random.Random(rng.getrandbits(64)),
                events=sink,
            )

        a, b, c = enactor("enactor-a"), enactor("enactor-b"), enactor("enactor-c")
        regional = world.endpoints[0]

        say(f"steady state: writing plans 1-{STEADY_GENERATION}")
        for _ in range(STEADY_GENERATION):
            planner.step()
        for e in (a, b, c):
            e.run_once()
        clock.sleep(planner.config.interval)

        planner.step()
        plan_c = c.select_plan()
        if plan_c is None:
            raise RuntimeError("enactor C found no newer plan; the script is broken")

        say(f"enactor C falls behind for {behind} plans")
        attempt = 0
        for _ in range(behind - 1):
            clock.sleep(planner.config.interval)
            planner.step()
            plan_b = b.select_plan()
            assert plan_b is not None
            lease_b = b.acquire(regional)
            assert lease_b is not None
            if not b.tree_exists(regional, plan_b.generation):
                b.batch(lease_b, tree_changes(regional, lease_b.zone_id, plan_b, config.leaf_ttl))
            try:
                c.try_lock(regional)
                raise RuntimeError("enactor C got a lock that enactor B holds; the lock is broken")
            except LockBusyError:
                attempt += 1
                delay = c.backoff_delay(attempt)
                c.emit("backoff", endpoint=regional.name, attempt=attempt, seconds=round(delay, 3))
            b.flip(lease_b, plan_b)
            b.release(lease_b)
            for ep in world.endpoints[1:]:
                b.apply_endpoint(ep, plan_b)
            b.last_applied = plan_b.generation
            b.clean_up(plan_b)
            clock.sleep(delay)

        say("enactor A applies the newest plan; enactor C gets the lock")
        clock.sleep(planner.config.interval)
        planner.step()
        plan_a = a.select_plan()
        assert plan_a is not None
        for ep in world.endpoints:
            a.apply_endpoint(ep, plan_a)
        a.last_applied = plan_a.generation
        c.apply_endpoint(regional, plan_c)
        a.clean_up(plan_a)
        for ep in world.endpoints[1:]:
            c.apply_endpoint(ep, plan_c)
        c.last_applied = plan_c.generation

        say("the planner writes one more plan; every enactor tries it")
        clock.sleep(planner.config.interval)
        newest = planner.step()
        assert newest is not None
        final_outcomes: dict[str, dict[str, str]] = {}
        for e in (a, b, c):
            result = e.run_once()
            final_outcomes[e.name] = {k: str(v) for k, v in result.outcomes.items()}
        violations, final = _judge(target, world, newest, final_outcomes, history)
    result = IncidentResult(
        variant=variant,
        seed=seed,
        violations=violations,
        events=log.events,
        final=final,
        newest_plan=newest,
        history=history,
        virtual_seconds=clock.elapsed(),
        wall_seconds=time.monotonic() - wall_start,
    )
    result.story = tell(result, clock.start)
    return result


def _judge(
    target: AwsTarget,
    world: World,
    newest: int,
    outcomes: dict[str, dict[str, str]],
    history: History,
) -> tuple[list[Violation], dict[str, dict[str, Any]]]:
    """The end state, judged through the strict layer: what the script leaves behind."""
    entries = list(history)
    end = entries[-1]["t"] if entries else 0.0
    seq = entries[-1]["seq"] if entries else 0
    strict: StrictRoute53 = target.strict_route53()
    violations: list[Violation] = []
    final: dict[str, dict[str, Any]] = {}
    for ep in world.endpoints:
        records = strict.records(world.zone_ids[ep.name])
        names = {r.name for r in records}
        root = next((r for r in records if r.name == root_name(ep) and r.type == "A"), None)
        target_name = root.alias.dns_name if root is not None and root.alias is not None else None
        addresses = {
            t: sorted(possible_addresses(records, root_name(ep), t)) for t in ep.record_types
        }
        active = int(target_name.split(".")[0].removeprefix("plan-")) if target_name else None
        final[ep.name] = {
            "root_target": target_name,
            "active_generation": active,
            "addresses": addresses,
            "outcomes": {e: o[ep.name] for e, o in outcomes.items() if ep.name in o},
        }
        for rtype, addrs in addresses.items():
            if not addrs:
                violations.append(
                    Violation(
                        "endpoint-never-empty",
                        ep.name,
                        end,
                        f"{root_name(ep)} {rtype} answers NOERROR with zero addresses",
                        seq,
                    )
                )
        if target_name is not None and target_name not in names:
            violations.append(
                Violation(
                    "active-plan-never-deleted",
                    ep.name,
                    end,
                    f"the root points at {target_name}, which no longer exists",
                    seq,
                )
            )
        if active != newest and all(
            o.get(ep.name) not in (str(Outcome.STALE), str(Outcome.CURRENT))
            for o in outcomes.values()
        ):
            applied = [e for e, o in outcomes.items() if o.get(ep.name) == str(Outcome.APPLIED)]
            if not applied:
                violations.append(
                    Violation(
                        "progress",
                        ep.name,
                        end,
                        f"no enactor could apply plan {newest}; the root stays at "
                        f"{plan_name(ep, active) if active else 'nothing'} (wedged)",
                        seq,
                    )
                )
    return violations, final


def _t(event: Event, start: float) -> str:
    return f"t={event.t - start:7.0f}s"


def tell(result: IncidentResult, start: float) -> list[str]:
    """A short story of the decisive steps, from the enactors' own events."""
    lines: list[str] = []
    events = result.events
    regional = next(iter(result.final))
    first_c = next(
        e
        for e in events
        if e.actor == "enactor-c"
        and e.kind == "checked-plan"
        and e.fields["generation"] > STEADY_GENERATION
    )
    note = {
        "legacy": " - the only newer-than check it makes",
        "safe": " - it checks again against the root before flipping",
    }.get(result.variant, "")
    lines.append(
        f"{_t(first_c, start)}  enactor-c checked plan {first_c.fields['generation']} > "
        f"{first_c.fields['last_applied']} (its last applied){note}"
    )
    backoffs = [e for e in events if e.actor == "enactor-c" and e.kind == "backoff"]
    if backoffs:
        total = sum(float(e.fields["seconds"]) for e in backoffs)
        lines.append(
            f"{_t(backoffs[0], start)}  enactor-c found the {regional} lock held by enactor-b "
            f"{len(backoffs)} times and backed off {total:.0f}s in all"
        )
    a_check = [e for e in events if e.actor == "enactor-a" and e.kind == "checked-plan"]
    if len(a_check) >= 2:
        e = a_check[-2]
        lines.append(
            f"{_t(e, start)}  enactor-a checked plan {e.fields['generation']} > {e.fields['last_applied']}"
        )
    for e in events:
        if (
            e.kind
            in ("flipped", "stale-plan", "lost-cas", "cleaned-up", "rollback-repaired", "froze")
            and (e.actor != "enactor-b")
            and e.fields.get("endpoint", regional) == regional
            and e.t > first_c.t
        ):
            lines.append(f"{_t(e, start)}  {e.actor} {_describe(e)}")
    fails = [e for e in events if e.kind == "flip-failed" and e.fields.get("endpoint") == regional]
    if fails:
        e = fails[0]
        lines.append(
            f"{_t(e, start)}  {e.actor} could not apply plan {e.fields['generation']}: {e.fields['error']}"
        )
        others = sorted({f.actor for f in fails} - {e.actor})
        if others:
            lines.append(
                f"{' ' * 11}  ... and so could {', '.join(others)}: every attempt fails the same way"
            )
    return lines


def _describe(e: Event) -> str:
    f = e.fields
    if e.kind == "flipped":
        return f"flipped the root to plan {f['generation']} (it was plan {f['previous']}; rollback -> {f['rollback']})"
    if e.kind == "stale-plan":
        return f"abandoned plan {f['generation']}: plan {f['active']} is already active"
    if e.kind == "lost-cas":
        return f"lost the compare-and-swap: root moved from {f['observed']} to {f['active']}"
    if e.kind == "cleaned-up":
        deleted = f["deleted"]
        active = f.get("root_generation")
        note = f" - including plan {active}, the ACTIVE tree" if active in deleted else ""
        return (
            f"cleaned up after applying plan {f['applied']}: deleted {len(deleted)} "
            f"{'tree' if len(deleted) == 1 else 'trees'} "
            f"({deleted[0]}..{deleted[-1]}){note}"
        )
    if e.kind == "rollback-repaired":
        return f"repaired the rollback record: {f['missing']} is gone, now -> {f['now']}"
    if e.kind == "froze":
        return f"froze: {f['reason']}"
    return e.kind


def as_run_result(result: IncidentResult, *, behind: int, cleanup_window: int) -> Any:
    """The scripted run as an ordinary :class:`~dnschaos.runner.RunResult`: judged by the
    common checkers over its history, plus the wedge (progress) that only the script's
    end state shows."""
    from dnschaos.runner import RunResult
    from dnschaos.scenario.spec import SCRIPTED, RunSpec

    entries = list(result.history)
    verdicts = checkers.judge(
        entries, {**checkers.SAFETY, "single-lock-holder": checkers.single_lock_holder}
    )
    wedged = [v for v in result.violations if v.invariant == "progress"]
    verdicts.append(
        checkers.Verdict("progress", checkers.FAIL if wedged else checkers.PASS, wedged)
    )
    violations = [v for verdict in verdicts for v in verdict.violations]
    spec = RunSpec(
        scenario=SCRIPTED,
        variant=result.variant,
        seed=result.seed,
        strategy="scripted",
        clock="scripted",
        overrides=(("behind", behind), ("cleanup_window", cleanup_window)),
    )
    return RunResult(
        scenario=SCRIPTED,
        variant=result.variant,
        seed=result.seed,
        strategy="scripted",
        clock="scripted",
        verdict=checkers.overall(verdicts),
        violations=violations,
        verdicts=verdicts,
        stop="finished",
        reason="the script ran to its end",
        steps=0,
        virtual_seconds=result.virtual_seconds,
        wall_seconds=result.wall_seconds,
        choices=[],
        trace_digest=result.history.digest(),
        history=result.history,
        spec=spec,
        stop_on_violation=False,
    )
