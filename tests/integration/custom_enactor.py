"""A user's own enactor, plugged in as ``tests.integration.custom_enactor:CautiousEnactor``."""

from __future__ import annotations

from typing import ClassVar

from harness.automation.enactor import SafeEnactor


class CautiousEnactor(SafeEnactor):
    variant: ClassVar[str] = "cautious"


class NotAnEnactor:
    """Has none of the protocol's methods."""
