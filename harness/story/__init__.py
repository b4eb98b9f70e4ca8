"""The short causal story of a violation, told from the history's own entries.

A workload tells the stories of its own invariants (incident-2025's: the flip that
made a tree matter and the clean-up that deleted it, the stale flip, a starved lock,
two lock holders...). Every other violation, a user's invariant, an actor's error, or
what clients saw of a name the user probes, is told by the writes behind it
(:mod:`dnschaos.story.writes`): the calls that wrote what the violation is about, and
by whom. Every line carries the virtual time, the actor and the history entries
behind it (their ``seq``); lines are in time order and the violation itself is last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dnschaos.checkers import Violation
from dnschaos.story.chain import StoryLine

Entry = dict[str, Any]


def lines(history: Sequence[Entry], violation: Violation) -> list[StoryLine]:
    """The story as structured lines, each with the history entries behind it."""
    from dnschaos import workload

    for w in workload.installed():
        told = w.tell(history, violation)
        if told is not None:
            return list(told)
    from dnschaos.story.writes import steps

    return [StoryLine(*step) for step in steps(history, violation)]


def tell(history: Sequence[Entry], violation: Violation) -> list[str]:
    return [line.render() for line in lines(history, violation)]


__all__ = ["StoryLine", "lines", "tell"]
