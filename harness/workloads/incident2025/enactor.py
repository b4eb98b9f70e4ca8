"""DNS enactors: apply the newest plan to every endpoint, then clean up old trees.

An enactor is ordinary synchronous boto3 code. It never talks to other
enactors; it coordinates only through Route 53 (the per-endpoint TXT lock in
every batch) and reads plans from DynamoDB. Time and randomness are injected.

The enactor protocol (what the harness needs to run any enactor given as
``module:Class``)::

    class MyEnactor:
        def __init__(self, name: str, *, route53, dynamodb, config: EnactorConfig,
                     clock: Clock, rng: random.Random, events: EventSink) -> None: ...
        def run_once(self) -> PassResult: ...      # one pass of the loop
        def run(self, should_stop: Callable[[], bool]) -> None: ...

Two variants ship here:

``legacy`` (as in October 2025)
    checks once, at the start of a pass, that the plan is newer than the last
    one it applied; flips the root with an UPSERT; repoints the rollback record
    at whatever the root pointed to, which fails on every attempt once that
    tree is gone (the wedge); cleans up by generation distance only.

``safe`` (the fix)
    the flip is a compare-and-swap: the batch DELETEs the root with the exact
    target it observed, so Route 53 rejects a flip over a newer plan; a plan
    older than the active one is abandoned; clean-up never deletes the tree
    that the root or the rollback record points at, and proves it inside the
    same batch; a missing rollback target is repaired; an unexplained error
    freezes the enactor (it stops changing anything) instead of tearing down.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Final

import tenacity
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from dnschaos.events import Emitter, EventSink, null_sink
from dnschaos.sim.clock import Clock
from dnschaos.workloads.incident2025 import lock as locks
from dnschaos.workloads.incident2025.lock import LockFormatError, LockValue
from dnschaos.workloads.incident2025.plan import (
    PLANS_PK,
    Endpoint,
    Plan,
    PlanFormatError,
    generation_text,
)
from dnschaos.workloads.incident2025.tree import (
    DEFAULT_LEAF_TTL,
    ZoneSnapshot,
    alias_record,
    find_zone_id,
    lock_name,
    plan_name,
    read_rrsets,
    read_zone,
    rollback_name,
    root_name,
    tree_changes,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_route53 import Route53Client

log = logging.getLogger(__name__)

DEFAULT_TABLE: Final = "dnschaos-plans"
# Route 53 rejects more than 1,000 records in one batch; stay well under it.
BATCH_RECORD_BUDGET: Final = 900
TRANSIENT_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "PriorRequestNotComplete",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "ProvisionedThroughputExceededException",
    }
)


@dataclass(frozen=True)
class EnactorConfig:
    """Knobs of an enactor; defaults marked (assumed) in INCIDENT.md's sense."""

    endpoints: tuple[Endpoint, ...]
    table: str = DEFAULT_TABLE
    lock_ttl: float = 60.0  # (assumed) seconds a lock is held without renewal
    lock_attempts: int = 6  # tries to take a busy lock before giving up this pass
    backoff_base: float = 2.0  # seconds; doubles per failed try, with jitter
    backoff_max: float = 60.0
    change_attempts: int = 3  # tries of a rejected batch before the endpoint counts as failed
    api_attempts: int = 4  # tries of a throttled or failed API call
    cleanup_window: int = 10  # (assumed) keep trees newer than applied - window
    leaf_ttl: int = DEFAULT_LEAF_TTL
    poll_interval: float = 10.0  # (assumed) seconds between passes
    # Newest plan items examined for a valid plan: more malformed ones on top and the
    # enactor applies nothing (it records scan-limit-hit each pass). See the README.
    plan_scan_limit: int = 25


class Outcome(StrEnum):
    APPLIED = "applied"
    CURRENT = "current"  # the root already points at this plan
    STALE = "stale"  # a newer plan is active: this one is abandoned
    LOCK_TIMEOUT = "lock-timeout"
    LOCK_LOST = "lock-lost"
    FAILED = "failed"
    FROZEN = "frozen"


@dataclass
class PassResult:
    generation: int | None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    cleaned: bool = False


class LockBusyError(Exception):
    def __init__(self, endpoint: str, holder: LockValue) -> None:
        super().__init__(f"{endpoint}: lock held by {holder.holder} until {holder.expires_at}")
        self.holder = holder


class LockLostError(Exception):
    """A batch was rejected because the lock record changed under us."""


class ChangeRejectedError(Exception):
    """Route 53 rejected a batch for a reason other than the lock."""

    def __init__(self, messages: str) -> None:
        super().__init__(messages)
        self.messages = messages


class FrozenError(Exception):
    """The safe enactor met an error it cannot explain and stopped changing anything."""


class _SeededBackoff(tenacity.wait.wait_base):
    """Exponential backoff with "equal jitter", drawn from the injected generator."""

    def __init__(self, rng: random.Random, base: float, cap: float) -> None:
        self.rng = rng
        self.base = base
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return jittered_backoff(self.rng, self.base, self.cap, retry_state.attempt_number)


def jittered_backoff(rng: random.Random, base: float, cap: float, attempt: int) -> float:
    """Exponential backoff with "equal jitter" for the ``attempt``-th failure (1-based)."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, ReadTimeoutError)):
        return True
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in TRANSIENT_CODES
    return False


@dataclass
class Lease:
    """The lock record as we last wrote it: the next batch must DELETE exactly this."""

    endpoint: Endpoint
    zone_id: str
    record: dict[str, Any] | None
    taken: bool = False  # whether a batch of ours has gone through with this lease


class BaseEnactor:
    """The loop of INCIDENT.md section 1; variants override the flip and the clean-up."""

    variant: ClassVar[str] = "base"

    def __init__(
        self,
        name: str,
        *,
        route53: Route53Client,
        dynamodb: DynamoDBClient,
        config: EnactorConfig,
        clock: Clock,
        rng: random.Random,
        events: EventSink = null_sink,
    ) -> None:
        self.name = name
        self.route53 = route53
        self.dynamodb = dynamodb
        self.config = config
        self.clock = clock
        self.rng = rng
        self.emit = Emitter(name, clock, events)
        self.last_applied: int | None = None
        self.frozen_reason: str | None = None
        self._zone_ids: dict[str, str] = {}

    # ------------------------------------------------------------------ loop

    def run(self, should_stop: Callable[[], bool]) -> None:
        while not should_stop():
            try:
                self.run_once()
            except (ClientError, BotoCoreError) as exc:
                # An AWS call that failed every retry ends this pass, not the process:
                # the next pass starts over from the newest plan.
                self.emit("pass-failed", error=f"{type(exc).__name__}: {exc}")
            if should_stop():
                break
            self.clock.sleep(self.config.poll_interval)

    def run_once(self) -> PassResult:
        if self.frozen_reason is not None:
            self.emit("frozen", reason=self.frozen_reason)
            return PassResult(None, {ep.name: Outcome.FROZEN for ep in self.config.endpoints})
        plan = self.select_plan()
        if plan is None:
            return PassResult(None)
        result = PassResult(plan.generation)
        for ep in self.config.endpoints:
            result.outcomes[ep.name] = self.apply_endpoint(ep, plan)
        if any(o in (Outcome.APPLIED, Outcome.CURRENT) for o in result.outcomes.values()):
            self.last_applied = max(self.last_applied or 0, plan.generation)
        if self.should_clean_up(result):
            self.clean_up(plan)
            result.cleaned = True
        return result

    # ------------------------------------------------------------------ plans

    def select_plan(self) -> Plan | None:
        """The newest well-formed plan, if it is newer than the last one applied.

        This is the only newer-than check the legacy variant makes.
        """
        plan = self.newest_plan()
        if plan is None:
            return None
        if self.last_applied is not None and plan.generation <= self.last_applied:
            self.emit("plan-not-newer", generation=plan.generation, last_applied=self.last_applied)
            return None
        self.emit("checked-plan", generation=plan.generation, last_applied=self.last_applied)
        return plan

    def newest_plan(self) -> Plan | None:
        """The newest well-formed plan among the ``plan_scan_limit`` newest items.

        Malformed items are skipped (``plan-skipped``). When the limit is reached with
        no plan found, the enactor applies nothing this pass, however good the plans
        below are: it says so (``scan-limit-hit``, and a log line) rather than idling
        in silence.
        """
        for seen, item in enumerate(self._plan_items(), start=1):
            try:
                plan = Plan.from_item(item)
                for ep in self.config.endpoints:
                    plan.targets(
                        ep.plan_key
                    )  # a plan that misses an endpoint is not applied at all
                return plan
            except PlanFormatError as exc:
                raw = item.get("generation", {})
                log.warning("%s: skipping malformed plan item %s: %s", self.name, raw, exc)
                self.emit("plan-skipped", item_generation=str(raw), reason=str(exc))
            if seen >= self.config.plan_scan_limit:
                oldest = generation_text(item)
                log.error(
                    "%s: the %d newest plan items are all malformed (down to generation %s); "
                    "older plans are not looked at (plan_scan_limit)",
                    self.name,
                    seen,
                    oldest,
                )
                self.emit(
                    "scan-limit-hit",
                    limit=self.config.plan_scan_limit,
                    skipped=seen,
                    oldest_examined=oldest,
                )
                break
        return None

    def _plan_items(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.config.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PLANS_PK}},
            "ScanIndexForward": False,
            # One item a page: the newest plan is almost always well-formed.
            "Limit": 1,
        }
        while True:
            resp = self._call(self.dynamodb.query, **kwargs)
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # ------------------------------------------------------------------ one endpoint

    def apply_endpoint(self, ep: Endpoint, plan: Plan) -> Outcome:
        """Apply ``plan`` to one endpoint, backing off and retrying *this same plan* while the
        lock is busy or moves under a batch (the plan is not re-checked: the race's premise)."""
        losses = 0
        while True:
            lease = self.acquire(ep, first_attempt=losses + 1)
            if lease is None:
                return Outcome.LOCK_TIMEOUT
            try:
                return self._apply_with_lease(lease, plan)
            except LockLostError:
                losses += 1
                self.emit("lock-lost", endpoint=ep.name, generation=plan.generation, attempt=losses)
                if losses >= self.config.lock_attempts:
                    return Outcome.LOCK_LOST
                delay = self.backoff_delay(losses)
                self.emit("backoff", endpoint=ep.name, attempt=losses, seconds=round(delay, 3))
                self.clock.sleep(delay)

    def _apply_with_lease(self, lease: Lease, plan: Plan) -> Outcome:
        ep = lease.endpoint
        try:
            if not self.tree_exists(ep, plan.generation):
                self.batch(lease, tree_changes(ep, lease.zone_id, plan, self.config.leaf_ttl))
                self.emit("built-tree", endpoint=ep.name, generation=plan.generation)
            outcome = self.flip(lease, plan)
        except ChangeRejectedError as exc:
            self.emit(
                "endpoint-failed", endpoint=ep.name, generation=plan.generation, error=exc.messages
            )
            self.release(lease)
            return Outcome.FAILED
        except FrozenError:
            self.release(lease)
            return Outcome.FROZEN
        self.release(lease)
        return outcome

    def flip(self, lease: Lease, plan: Plan) -> Outcome:
        raise NotImplementedError

    def should_clean_up(self, result: PassResult) -> bool:
        raise NotImplementedError

    def doomed(self, snap: ZoneSnapshot, plan: Plan) -> tuple[list[int], list[dict[str, Any]]]:
        """The trees to delete after applying ``plan``, and the changes that guard the batch."""
        raise NotImplementedError

    def clean_up(self, plan: Plan) -> None:
        """Delete old trees, endpoint by endpoint, under the lock."""
        for ep in self.config.endpoints:
            lease = self.acquire(ep)
            if lease is None:
                continue
            snap = self.read(ep)
            gens, guard = self.doomed(snap, plan)
            try:
                deleted = self._delete_trees(lease, snap, gens, guard)
            except (LockLostError, ChangeRejectedError) as exc:
                # A guard fired or the lock moved: what is left stands.
                self.emit("cleanup-failed", endpoint=ep.name, error=str(exc))
                continue
            if deleted:
                self.emit(
                    "cleaned-up",
                    endpoint=ep.name,
                    applied=plan.generation,
                    deleted=deleted,
                    root_generation=snap.root_generation(ep.record_types[0]),
                )
            self.release(lease)

    # ------------------------------------------------------------------ the lock

    def zone_id(self, ep: Endpoint) -> str:
        if ep.name not in self._zone_ids:
            self._zone_ids[ep.name] = find_zone_id(self.route53, ep)
        return self._zone_ids[ep.name]

    def read(self, ep: Endpoint) -> ZoneSnapshot:
        """The whole zone (clean-up and repairs only: it is the expensive read)."""
        snap: ZoneSnapshot = self._call(read_zone, self.route53, ep, self.zone_id(ep))
        return snap

    def _records(
        self, name: str, rtypes: str | tuple[str, ...], zone_id: str, max_items: int = 10
    ) -> list[dict[str, Any]]:
        return list(self._call(read_rrsets, self.route53, zone_id, name, rtypes, max_items))

    def read_pointers(self, ep: Endpoint) -> ZoneSnapshot:
        """The root and rollback records (all types of each in one read): what a flip decides from."""
        zone_id = self.zone_id(ep)
        records: list[dict[str, Any]] = []
        for name in (root_name(ep), rollback_name(ep)):
            records += self._records(name, ep.record_types, zone_id, max_items=len(ep.record_types))
        return ZoneSnapshot(ep, zone_id, records)

    def tree_exists(self, ep: Endpoint, generation: int) -> bool:
        """Whether a generation's tree exists. Trees are created and deleted whole, in one
        batch, so one record type answers for all."""
        zone_id = self.zone_id(ep)
        found = self._records(plan_name(ep, generation), ep.record_types[0], zone_id, max_items=1)
        return bool(found)

    def try_lock(self, ep: Endpoint) -> Lease:
        """One look at the lock: a lease if it is free for us, else ``LockBusyError``.

        The lock itself is taken by the next batch's preamble, atomically.
        """
        zone_id = self.zone_id(ep)
        snap = ZoneSnapshot(ep, zone_id, self._records(lock_name(ep), "TXT", zone_id, max_items=1))
        try:
            current = snap.lock_value()
        except LockFormatError as exc:
            # Someone else's record: treat as held, never overwrite blindly.
            self.emit("lock-unreadable", endpoint=ep.name, error=str(exc))
            raise LockBusyError(ep.name, LockValue("unknown", 2**62)) from None
        if current is not None and not current.free_for(self.name, self.clock.now()):
            self.emit(
                "lock-busy", endpoint=ep.name, holder=current.holder, expires_at=current.expires_at
            )
            raise LockBusyError(ep.name, current)
        return Lease(ep, zone_id, snap.lock())

    def backoff_delay(self, attempt: int) -> float:
        """The wait after the ``attempt``-th failed try to take a lock (1-based)."""
        return jittered_backoff(
            self.rng, self.config.backoff_base, self.config.backoff_max, attempt
        )

    def acquire(self, ep: Endpoint, first_attempt: int = 1) -> Lease | None:
        """Wait (with backoff) until the lock looks free; ``None`` after ``lock_attempts`` tries
        in all (``first_attempt`` counts tries already spent on this endpoint)."""
        remaining = self.config.lock_attempts - first_attempt + 1
        if remaining < 1:
            return None
        retrying = tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=tenacity.stop_after_attempt(remaining),
            wait=lambda rs: self.backoff_delay(rs.attempt_number + first_attempt - 1),
            retry=tenacity.retry_if_exception_type(LockBusyError),
            before_sleep=lambda rs: self.emit(
                "backoff",
                endpoint=ep.name,
                attempt=rs.attempt_number + first_attempt - 1,
                seconds=_next_sleep(rs),
            ),
            reraise=False,
        )
        try:
            return retrying(self.try_lock, ep)
        except tenacity.RetryError:
            self.emit("lock-timeout", endpoint=ep.name, attempts=self.config.lock_attempts)
            return None

    def batch(
        self, lease: Lease, changes: Sequence[dict[str, Any]], *, expires: float | None = None
    ) -> str:
        """Send ``changes`` behind the lock preamble; renews the lease on success."""
        ep = lease.endpoint
        until = int(self.clock.now() + self.config.lock_ttl) if expires is None else int(expires)
        new_lock = LockValue(self.name, until)
        full = locks.preamble(lock_name(ep), lease.record, new_lock) + list(changes)
        try:
            resp = self._call(
                self.route53.change_resource_record_sets,
                HostedZoneId=lease.zone_id,
                ChangeBatch={"Comment": f"{self.name} {self.variant}", "Changes": full},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "InvalidChangeBatch":
                raise
            message = exc.response["Error"].get("Message", "")
            if f"name='{lock_name(ep)}', type='TXT'" in message:
                raise LockLostError(message) from None
            raise ChangeRejectedError(message) from None
        lease.record = locks.lock_record(lock_name(ep), new_lock)
        held = round(new_lock.expires_at - self.clock.now(), 3)
        if not lease.taken:
            # From here until release or expiry this enactor believes it holds the lock.
            self.emit("lock-taken", endpoint=ep.name, expires_at=new_lock.expires_at, held_for=held)
        elif expires is None:
            self.emit(
                "lock-renewed", endpoint=ep.name, expires_at=new_lock.expires_at, held_for=held
            )
        lease.taken = True
        return str(resp["ChangeInfo"]["Id"])

    def release(self, lease: Lease) -> None:
        """Let the lock expire now, so the next enactor need not wait for it.

        A lease that never carried a batch never took the lock: there is nothing to release.
        """
        if not lease.taken:
            return
        # From here on nothing is written under this lease: the enactor stops relying on
        # the lock before the release lands, since a lost response can hide that it did.
        self.emit("lock-releasing", endpoint=lease.endpoint.name)
        try:
            self.batch(lease, [], expires=self.clock.now())
            self.emit("lock-released", endpoint=lease.endpoint.name)
        except (LockLostError, ChangeRejectedError) as exc:
            self.emit("release-failed", endpoint=lease.endpoint.name, error=str(exc))

    # ------------------------------------------------------------------ API calls

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One API call, retried with backoff on throttling and server-side errors."""
        retrying = tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=tenacity.stop_after_attempt(self.config.api_attempts),
            wait=_SeededBackoff(self.rng, 0.5, 8.0),
            retry=tenacity.retry_if_exception(_is_transient),
            reraise=True,
        )
        return retrying(fn, *args, **kwargs)

    def _rejected_retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=tenacity.stop_after_attempt(self.config.change_attempts),
            wait=_SeededBackoff(self.rng, self.config.backoff_base, self.config.backoff_max),
            retry=tenacity.retry_if_exception_type(ChangeRejectedError),
            reraise=True,
        )

    # ------------------------------------------------------------------ clean-up helpers

    def _delete_trees(
        self,
        lease: Lease,
        snap: ZoneSnapshot,
        doomed: Sequence[int],
        guard: Sequence[dict[str, Any]] = (),
    ) -> list[int]:
        """Delete whole trees in batches under Route 53's record limit; returns those deleted."""
        deleted: list[int] = []
        pending: list[dict[str, Any]] = []
        pending_gens: list[int] = []
        budget = BATCH_RECORD_BUDGET - _record_count(guard)
        for gen in doomed:
            recs = snap.tree_records(gen)
            changes = [{"Action": "DELETE", "ResourceRecordSet": r} for r in recs]
            if pending and _record_count(pending) + _record_count(changes) > budget:
                self.batch(lease, list(guard) + pending)
                deleted += pending_gens
                pending, pending_gens = [], []
            pending += changes
            pending_gens.append(gen)
        if pending:
            self.batch(lease, list(guard) + pending)
            deleted += pending_gens
        return deleted


def _record_count(changes: Sequence[dict[str, Any]]) -> int:
    return sum(max(1, len(c["ResourceRecordSet"].get("ResourceRecords", []))) for c in changes)


def _next_sleep(rs: tenacity.RetryCallState) -> float:
    return round(rs.next_action.sleep, 3) if rs.next_action is not None else 0.0


class LegacyEnactor(BaseEnactor):
    """The enactor as it behaved in October 2025."""

    variant: ClassVar[str] = "legacy"

    def flip(self, lease: Lease, plan: Plan) -> Outcome:
        ep = lease.endpoint
        target = plan_name(ep, plan.generation)

        def attempt() -> Outcome:
            snap = self.read_pointers(ep)
            if all(snap.root_generation(t) == plan.generation for t in ep.record_types):
                return Outcome.CURRENT
            changes: list[dict[str, Any]] = []
            previous: dict[str, str] = {}
            for rtype in ep.record_types:
                root = snap.root(rtype)
                # The rollback record follows whatever the root pointed at; it is
                # never asked whether that tree still exists.
                prev = root["AliasTarget"]["DNSName"] if root and "AliasTarget" in root else target
                previous[rtype] = prev
                changes.append(
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": alias_record(
                            root_name(ep), rtype, lease.zone_id, target
                        ),
                    }
                )
                changes.append(
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": alias_record(
                            rollback_name(ep), rtype, lease.zone_id, prev
                        ),
                    }
                )
            self.batch(lease, changes)
            self.emit(
                "flipped",
                endpoint=ep.name,
                generation=plan.generation,
                previous=snap.root_generation(ep.record_types[0]),
                rollback=previous[ep.record_types[0]],
            )
            return Outcome.APPLIED

        try:
            return self._rejected_retrying()(attempt)
        except ChangeRejectedError as exc:
            self.emit(
                "flip-failed", endpoint=ep.name, generation=plan.generation, error=exc.messages
            )
            raise

    def should_clean_up(self, result: PassResult) -> bool:
        # "When every endpoint is done": done includes done-and-failed.
        return any(o in (Outcome.APPLIED, Outcome.CURRENT) for o in result.outcomes.values())

    def doomed(self, snap: ZoneSnapshot, plan: Plan) -> tuple[list[int], list[dict[str, Any]]]:
        # By generation distance only: the applied plan is kept by intent,
        # whatever the root points at now is not asked.
        gens = sorted(
            g for g in snap.tree_generations() if g <= plan.generation - self.config.cleanup_window
        )
        return gens, []


class SafeEnactor(BaseEnactor):
    """The enactor with the race fixed: compare-and-swap flips, guarded clean-up, freeze on error."""

    variant: ClassVar[str] = "safe"

    def flip(self, lease: Lease, plan: Plan) -> Outcome:
        ep = lease.endpoint
        target = plan_name(ep, plan.generation)
        snap = self.read_pointers(ep)
        observed = {t: snap.root_generation(t) for t in ep.record_types}
        if all(g == plan.generation for g in observed.values()):
            return Outcome.CURRENT
        newer = [g for g in observed.values() if g is not None and g > plan.generation]
        if newer:
            self.emit("stale-plan", endpoint=ep.name, generation=plan.generation, active=max(newer))
            return Outcome.STALE
        changes: list[dict[str, Any]] = []
        rollback_to: dict[str, str] = {}
        known: dict[int, bool] = {}
        for rtype in ep.record_types:
            root = snap.root(rtype)
            # Compare-and-swap: the DELETE names the exact target we observed.
            if root is not None:
                changes.append({"Action": "DELETE", "ResourceRecordSet": root})
            changes.append(
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": alias_record(root_name(ep), rtype, lease.zone_id, target),
                }
            )
            rollback_to[rtype] = self._rollback_target(snap, rtype, plan.generation, known)
            current_rb = snap.rollback(rtype)
            if current_rb is not None:
                changes.append({"Action": "DELETE", "ResourceRecordSet": current_rb})
            changes.append(
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": alias_record(
                        rollback_name(ep), rtype, lease.zone_id, rollback_to[rtype]
                    ),
                }
            )
        try:
            self.batch(lease, changes)
        except ChangeRejectedError as exc:
            after = self.read_pointers(ep)
            now_active = {t: after.root_generation(t) for t in ep.record_types}
            if now_active != observed:
                self.emit(
                    "lost-cas",
                    endpoint=ep.name,
                    generation=plan.generation,
                    observed=observed[ep.record_types[0]],
                    active=now_active[ep.record_types[0]],
                )
                return Outcome.STALE
            self.freeze(f"{ep.name}: flip to generation {plan.generation} rejected: {exc.messages}")
            raise FrozenError from None
        self.emit(
            "flipped",
            endpoint=ep.name,
            generation=plan.generation,
            previous=observed[ep.record_types[0]],
            rollback=rollback_to[ep.record_types[0]],
        )
        return Outcome.APPLIED

    def _rollback_target(
        self, snap: ZoneSnapshot, rtype: str, generation: int, known: dict[int, bool]
    ) -> str:
        ep = snap.ep
        current = snap.root_generation(rtype)
        if current is not None and current not in known:
            known[current] = self.tree_exists(ep, current)  # once per flip, not per type
        if current is not None and known[current]:
            return plan_name(ep, current)
        # Repair: the root points at nothing (or at no tree); roll back to the
        # newest tree that exists instead of failing forever.
        whole = self.read(ep)
        candidates = sorted(
            g for g in whole.tree_generations() if g != generation and whole.has_tree(g)
        )
        repaired = plan_name(ep, candidates[-1] if candidates else generation)
        self.emit("rollback-repaired", endpoint=ep.name, missing=current, now=repaired)
        return repaired

    def should_clean_up(self, result: PassResult) -> bool:
        # Only after every endpoint is known good; anything else leaves state as it is.
        return self.frozen_reason is None and all(
            o in (Outcome.APPLIED, Outcome.CURRENT) for o in result.outcomes.values()
        )

    def doomed(self, snap: ZoneSnapshot, plan: Plan) -> tuple[list[int], list[dict[str, Any]]]:
        ep = snap.ep
        protected = {plan.generation}
        guard: list[dict[str, Any]] = []
        for rtype in ep.record_types:
            for rec in (snap.root(rtype), snap.rollback(rtype)):
                gen = snap.target_generation(rec)
                if rec is None or gen is None:
                    continue
                protected.add(gen)
                # Re-assert the pointer inside the batch: if it moved since we
                # read it, Route 53 rejects the whole clean-up.
                guard.append({"Action": "DELETE", "ResourceRecordSet": rec})
                guard.append({"Action": "CREATE", "ResourceRecordSet": rec})
        gens = sorted(
            g
            for g in snap.tree_generations()
            if g <= plan.generation - self.config.cleanup_window and g not in protected
        )
        return gens, guard

    def freeze(self, reason: str) -> None:
        self.frozen_reason = reason
        self.emit("froze", reason=reason)

    def unfreeze(self) -> None:
        """An operator's decision: resume after looking at the frozen state."""
        self.frozen_reason = None
        self.emit("unfrozen")
