"""The per-endpoint lock: a TXT record holding the holder's name and an expiry.

The lock is never taken on its own. Every Route 53 batch an enactor sends starts
with a preamble that deletes the lock record with its exact current value and
creates it anew; Route 53 applies a batch whole or not at all, so a lock that
changed in between aborts the batch. The lock is read through the control API
(ListResourceRecordSets), never through DNS answers, which lag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

LOCK_TTL_SECONDS: Final = 1  # the record's DNS TTL; nobody should cache a lock
_VALUE = re.compile(r'^"holder=(?P<holder>[A-Za-z0-9._-]+) expires=(?P<expires>\d+)"$')


class LockFormatError(ValueError):
    """A lock record whose value this code did not write."""


@dataclass(frozen=True)
class LockValue:
    holder: str
    expires_at: int

    def encode(self) -> str:
        return f'"holder={self.holder} expires={self.expires_at}"'

    @classmethod
    def parse(cls, txt: str) -> LockValue:
        m = _VALUE.match(txt)
        if m is None:
            raise LockFormatError(f"lock value {txt!r} is not 'holder=NAME expires=EPOCH'")
        return cls(holder=m["holder"], expires_at=int(m["expires"]))

    def free_for(self, holder: str, now: float) -> bool:
        """Whether ``holder`` may take this lock at ``now``."""
        return self.holder == holder or self.expires_at <= now


def lock_record(name: str, value: LockValue) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "TXT",
        "TTL": LOCK_TTL_SECONDS,
        "ResourceRecords": [{"Value": value.encode()}],
    }


def preamble(name: str, current: dict[str, Any] | None, new: LockValue) -> list[dict[str, Any]]:
    """The changes every batch starts with: DELETE the exact current lock, CREATE ours."""
    changes: list[dict[str, Any]] = []
    if current is not None:
        changes.append({"Action": "DELETE", "ResourceRecordSet": current})
    changes.append({"Action": "CREATE", "ResourceRecordSet": lock_record(name, new)})
    return changes
