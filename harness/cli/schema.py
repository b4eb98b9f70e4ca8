"""dnschaos schema: print the JSON Schema of scenario files."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from dnschaos.cli.common import EXIT_OK

SUMMARY: Final = "print the JSON Schema of scenario files (for editors and validators)"


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Print the JSON Schema of scenario files, generated from the keys the loader reads "
        "(the core's and every installed workload's), e.g. "
        "'dnschaos schema > scenario.schema.json'. The loader checks more than a schema "
        "can say: a file the schema accepts may still be refused, with the key named."
    )


def run(args: argparse.Namespace) -> int:
    from dnschaos.scenario.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK
