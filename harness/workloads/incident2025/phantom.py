"""The phantom lock holder of a lock-contention fault, in the automation's own lock format.

The nemesis decides when a phantom holds an endpoint's lock; what a lock is (a TXT
record, its value, the compare-and-swap preamble) belongs to the automation, so the
run hands the nemesis this holder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from dnschaos.sim.clock import Clock
from dnschaos.workloads.incident2025.lock import LockValue, preamble
from dnschaos.workloads.incident2025.plan import Endpoint
from dnschaos.workloads.incident2025.tree import find_zone_id, lock_name, read_rrsets


class PhantomHolder:
    """A lock-contention fault's phantom: holds an endpoint's TXT lock in the automation's
    own format, through the same compare-and-swap preamble the enactors use."""

    def __init__(self, route53: Any, endpoints: Sequence[Endpoint], clock: Clock) -> None:
        self.route53 = route53
        self.endpoints = {ep.name: ep for ep in endpoints}
        self.clock = clock

    def __call__(self, endpoint: str, holder: str, fault: str, until: float | None) -> None:
        """Hold the endpoint's lock as a phantom until ``until``; ``None`` releases it if still ours."""
        ep = self.endpoints.get(endpoint)
        if ep is None:
            raise ValueError(
                f"fault {fault}: endpoint {endpoint!r} is not in the scenario "
                f"(endpoints: {', '.join(sorted(self.endpoints))})"
            )
        zone_id = find_zone_id(self.route53, ep)
        for _attempt in range(5):  # an enactor may move the lock between our read and write
            current = read_rrsets(self.route53, zone_id, lock_name(ep), "TXT", 1)
            record = current[0] if current else None
            if until is None:
                if (
                    record is None
                    or f"holder={holder} " not in record["ResourceRecords"][0]["Value"]
                ):
                    return  # someone else holds it now: not ours to release
                value = LockValue(holder, int(self.clock.now()))
            else:
                value = LockValue(holder, int(until))
            try:
                self.route53.change_resource_record_sets(
                    HostedZoneId=zone_id,
                    ChangeBatch={
                        "Comment": f"dnschaos fault {fault}",
                        "Changes": preamble(lock_name(ep), record, value),
                    },
                )
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "InvalidChangeBatch":
                    raise
        raise RuntimeError(f"fault {fault}: could not write the phantom lock in 5 tries")
