"""The error the strict Route 53 layer raises: one Route 53 itself would return.

A module of its own, so the write and read handlers share it without importing
each other.
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException


class StrictRoute53Error(ServiceException):  # type: ignore[misc]
    """An error that Route 53 itself would return; moto turns it into XML."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
