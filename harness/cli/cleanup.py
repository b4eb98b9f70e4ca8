"""dnschaos cleanup: delete what ``--target aws`` runs left behind."""

from __future__ import annotations

import argparse
from typing import Final

from dnschaos.cli import aws

SUMMARY: Final = "delete what --target aws runs left behind (from their journals and by tag)"


def add_flags(parser: argparse.ArgumentParser) -> None:
    aws.add_cleanup_flags(parser)


def run(args: argparse.Namespace) -> int:
    return aws.cleanup_command(args)
