"""dnschaos completion: print a shell completion script."""

from __future__ import annotations

import argparse
from typing import Final

from dnschaos.cli.common import EXIT_OK

SUMMARY: Final = "print a shell completion script"
SHELLS: Final = ("bash", "zsh", "tcsh")


def add_flags(comp: argparse.ArgumentParser) -> None:
    comp.description = (
        "Print the completion script for a shell, e.g. "
        "'dnschaos completion bash > ~/.local/share/bash-completion/completions/dnschaos'."
    )
    comp.add_argument("shell", choices=SHELLS, help="the shell: " + ", ".join(SHELLS))


def run(args: argparse.Namespace) -> int:
    import shtab

    from dnschaos.cli import parser
    from dnschaos.cli.common import completion_preamble

    print(
        shtab.complete(parser(), shell=args.shell, preamble=completion_preamble(args.shell)), end=""
    )
    return EXIT_OK
