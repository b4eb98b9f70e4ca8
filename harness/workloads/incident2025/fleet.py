"""Where the planner learns about load balancers: a description, or moto/AWS ELBv2.

A fleet source answers one question: which load balancers exist, with which
addresses, capacity and health. The planner turns that into weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Protocol

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

# Tags that carry what an ELBv2 API does not: the addresses DNS should hand out
# and the capacity the planner weighs by.
TAG_IPV4: Final = "dnschaos:ipv4"
TAG_IPV6: Final = "dnschaos:ipv6"
TAG_CAPACITY: Final = "dnschaos:capacity"
DEFAULT_CAPACITY: Final = 100


@dataclass(frozen=True)
class LoadBalancer:
    lb_id: str
    ipv4: str
    ipv6: str
    capacity: int = DEFAULT_CAPACITY  # 0-255, the weight when healthy
    healthy: bool = True

    @property
    def weight(self) -> int:
        return max(0, min(255, self.capacity)) if self.healthy else 0


class FleetSource(Protocol):
    def load_balancers(self) -> list[LoadBalancer]: ...


class StaticFleet:
    """A fleet description (from a scenario); health can be changed while running."""

    def __init__(self, lbs: Iterable[LoadBalancer]) -> None:
        self._lbs = {lb.lb_id: lb for lb in lbs}

    def load_balancers(self) -> list[LoadBalancer]:
        return [self._lbs[k] for k in sorted(self._lbs)]

    def set_health(self, lb_id: str, healthy: bool) -> None:
        self._lbs[lb_id] = replace(self._lbs[lb_id], healthy=healthy)


def default_fleet(size: int = 6) -> StaticFleet:
    """``size`` load balancers on documentation addresses (RFC 5737, RFC 3849)."""
    if not 1 <= size <= 200:
        raise ValueError(f"fleet size {size}: must be between 1 and 200")
    return StaticFleet(
        LoadBalancer(f"lb-{i:03d}", f"192.0.2.{i + 1}", f"2001:db8::{i + 1:x}") for i in range(size)
    )


class Elbv2Fleet:
    """Reads network load balancers, their tags and target health through ELBv2."""

    def __init__(self, elbv2: ElasticLoadBalancingv2Client) -> None:
        self.elbv2 = elbv2

    def load_balancers(self) -> list[LoadBalancer]:
        lbs: list[Any] = []
        for page in self.elbv2.get_paginator("describe_load_balancers").paginate():
            lbs.extend(lb for lb in page["LoadBalancers"] if lb.get("Type") == "network")
        tags: dict[str, dict[str, str]] = {}
        arns = [lb["LoadBalancerArn"] for lb in lbs]
        for i in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
            for desc in self.elbv2.describe_tags(ResourceArns=arns[i : i + 20])["TagDescriptions"]:
                tags[desc["ResourceArn"]] = {t["Key"]: t["Value"] for t in desc.get("Tags", [])}
        out = []
        for lb in lbs:
            t = tags.get(lb["LoadBalancerArn"], {})
            if TAG_IPV4 not in t or TAG_IPV6 not in t:
                continue  # not part of this endpoint's fleet
            active = lb.get("State", {}).get("Code", "active") == "active"
            out.append(
                LoadBalancer(
                    lb_id=lb["LoadBalancerName"].lower(),
                    ipv4=t[TAG_IPV4],
                    ipv6=t[TAG_IPV6],
                    capacity=int(t.get(TAG_CAPACITY, DEFAULT_CAPACITY)),
                    healthy=active and self._healthy(lb["LoadBalancerArn"]),
                )
            )
        return sorted(out, key=lambda lb: lb.lb_id)

    def _healthy(self, lb_arn: str) -> bool:
        try:
            groups = self.elbv2.describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"]
        except ClientError as exc:
            # moto answers "not found" where AWS answers with an empty list.
            if exc.response.get("Error", {}).get("Code") not in (
                "TargetGroupNotFound",
                "TargetGroupNotFoundException",
            ):
                raise
            groups = []
        if not groups:
            return True  # nothing registered yet: capacity decides
        for group in groups:
            health = self.elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            states = [d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]]
            if any(s == "healthy" for s in states):
                return True
        return False
