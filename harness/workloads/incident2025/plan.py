"""Plans: the desired weight of every load balancer for every endpoint, per generation.

A plan is stored as one DynamoDB item. Items written by other code may be
malformed; :func:`Plan.from_item` rejects them with the field at fault, and
the enactor skips such a plan rather than applying part of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

#: Partition key value of every plan item; the sort key is the generation.
PLANS_PK: Final = "plans"
MAX_WEIGHT: Final = 255

_ser = TypeSerializer()
_deser = TypeDeserializer()


class PlanFormatError(ValueError):
    """A plan item that cannot be applied; the message names the field."""


@dataclass(frozen=True)
class Endpoint:
    """One customer-facing DNS name in a hosted zone of its own.

    ``plan_key`` names the part of the plan the endpoint serves: the regional
    IPv4 and dual-stack endpoints share one (``regional``).
    """

    name: str
    plan_key: str
    record_types: tuple[str, ...] = ("A",)

    @property
    def fqdn(self) -> str:
        return self.name.rstrip(".").lower() + "."


@dataclass(frozen=True)
class Target:
    """One load balancer in a plan."""

    lb_id: str
    ipv4: str
    ipv6: str
    weight: int

    def address(self, record_type: str) -> str:
        return self.ipv4 if record_type == "A" else self.ipv6


@dataclass(frozen=True)
class Plan:
    generation: int
    created_at: float
    groups: Mapping[str, tuple[Target, ...]]

    def targets(self, plan_key: str) -> tuple[Target, ...]:
        try:
            return self.groups[plan_key]
        except KeyError:
            raise PlanFormatError(
                f"plan {self.generation} has no group {plan_key!r} "
                f"(groups: {', '.join(sorted(self.groups)) or 'none'})"
            ) from None

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item, in the low-level client's typed form."""
        plain = {
            "pk": PLANS_PK,
            "generation": self.generation,
            "created_at": Decimal(str(round(self.created_at, 3))),
            "groups": {
                key: [
                    {"lb_id": t.lb_id, "ipv4": t.ipv4, "ipv6": t.ipv6, "weight": t.weight}
                    for t in targets
                ]
                for key, targets in self.groups.items()
            },
        }
        return {k: _ser.serialize(v) for k, v in plain.items()}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Plan:
        """Parse a typed DynamoDB item, refusing anything that is not a whole plan."""
        try:
            plain = {k: _deser.deserialize(v) for k, v in item.items()}
        except (TypeError, ValueError, KeyError, ArithmeticError) as exc:
            raise PlanFormatError(f"item is not valid DynamoDB JSON: {exc!r}") from None
        gen = _integer(plain, "generation", minimum=1)
        created = plain.get("created_at", Decimal(0))
        if not isinstance(created, Decimal):
            raise PlanFormatError(f"plan {gen}: created_at must be a number, got {created!r}")
        groups_raw = plain.get("groups")
        if not isinstance(groups_raw, Mapping) or not groups_raw:
            raise PlanFormatError(f"plan {gen}: groups must be a non-empty map")
        groups: dict[str, tuple[Target, ...]] = {}
        for key, targets_raw in groups_raw.items():
            where = f"plan {gen} group {key!r}"
            if not isinstance(targets_raw, list) or not targets_raw:
                raise PlanFormatError(f"{where}: must be a non-empty list of load balancers")
            targets = tuple(_target(t, f"{where} item {i}") for i, t in enumerate(targets_raw))
            ids = [t.lb_id for t in targets]
            if len(set(ids)) != len(ids):
                raise PlanFormatError(f"{where}: a load balancer appears twice")
            groups[str(key)] = targets
        return cls(generation=gen, created_at=float(created), groups=groups)


def generation_of(item: Mapping[str, Any]) -> int:
    """The generation of a typed plan item (a whole number, at least 1), whatever else
    the item holds; :class:`PlanFormatError` when it has none."""
    raw = item.get("generation")
    try:
        value = None if raw is None else _deser.deserialize(raw)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        raise PlanFormatError(f"generation is not valid DynamoDB JSON: {exc!r}") from None
    return _integer({"generation": value}, "generation", minimum=1)


def generation_text(item: Mapping[str, Any]) -> str:
    """An item's generation as written (``2.5``, ``seven``), for logs and events."""
    raw = item.get("generation")
    if isinstance(raw, Mapping) and len(raw) == 1:
        return str(next(iter(raw.values())))
    return repr(raw)


def _integer(plain: Mapping[str, Any], key: str, *, minimum: int) -> int:
    value = plain.get(key)
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or value != value.to_integral_value()
    ):
        raise PlanFormatError(f"{key} must be an integer, got {value!r}")
    if value < minimum:
        raise PlanFormatError(f"{key} must be at least {minimum}, got {value}")
    return int(value)


def _target(raw: Any, where: str) -> Target:
    if not isinstance(raw, Mapping):
        raise PlanFormatError(f"{where}: must be a map")
    for key in ("lb_id", "ipv4", "ipv6", "weight"):
        if key not in raw:
            raise PlanFormatError(f"{where}: missing field {key!r}")
    lb_id = raw["lb_id"]
    if not isinstance(lb_id, str) or not lb_id or not lb_id.replace("-", "").isalnum():
        raise PlanFormatError(f"{where}: lb_id must be letters, digits and '-', got {lb_id!r}")
    try:
        ipv4 = str(ipaddress.IPv4Address(str(raw["ipv4"])))
        ipv6 = str(ipaddress.IPv6Address(str(raw["ipv6"])))
    except ValueError as exc:
        raise PlanFormatError(f"{where}: {exc}") from None
    weight = raw["weight"]
    if not isinstance(weight, Decimal) or weight != weight.to_integral_value():
        raise PlanFormatError(f"{where}: weight must be an integer, got {weight!r}")
    if not 0 <= weight <= MAX_WEIGHT:
        raise PlanFormatError(f"{where}: weight must be 0-{MAX_WEIGHT}, got {weight}")
    return Target(lb_id=lb_id.lower(), ipv4=ipv4, ipv6=ipv6, weight=int(weight))
