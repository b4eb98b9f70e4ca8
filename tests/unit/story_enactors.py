"""Enactors with planted bugs, plugged in as ``tests.unit.story_enactors:Class``.

Each is a built-in enactor with one realistic mistake, so a run of it fails in a known
shape whose story the tests read.
"""

from __future__ import annotations

from typing import Any, ClassVar

from dnschaos.workloads.incident2025.enactor import LegacyEnactor, LockBusyError, SafeEnactor
from dnschaos.workloads.incident2025.lock import LockValue
from dnschaos.workloads.incident2025.plan import Endpoint, Plan
from dnschaos.workloads.incident2025.tree import ZoneSnapshot


class KeepsOnlyActiveEnactor(SafeEnactor):
    """Clean-up keeps the tree the root points at and nothing else: it forgets the rollback
    record (and the window), so the tree a rollback would need is deleted after every flip."""

    variant: ClassVar[str] = "keeps-only-active"

    def doomed(self, snap: ZoneSnapshot, plan: Plan) -> tuple[list[int], list[dict[str, Any]]]:
        ep = snap.ep
        root = snap.root(ep.record_types[0])
        active = snap.target_generation(root)
        keep = {plan.generation, active}
        gens = sorted(g for g in snap.tree_generations() if g < plan.generation and g not in keep)
        guard: list[dict[str, Any]] = []
        if root is not None:
            guard = [
                {"Action": "DELETE", "ResourceRecordSet": root},
                {"Action": "CREATE", "ResourceRecordSet": root},
            ]
        return gens, guard


class NeverTakesExpiredEnactor(LegacyEnactor):
    """Treats a lock record that names another holder as held, expired or not: once a holder
    is gone without handing the lock over, nobody else ever takes it."""

    variant: ClassVar[str] = "never-takes-expired"

    def try_lock(self, ep: Endpoint) -> Any:
        lease = super().try_lock(ep)
        value = lease.record and LockValue.parse(lease.record["ResourceRecords"][0]["Value"])
        if value and value.holder != self.name:
            self.emit(
                "lock-busy", endpoint=ep.name, holder=value.holder, expires_at=value.expires_at
            )
            raise LockBusyError(ep.name, value)
        return lease
