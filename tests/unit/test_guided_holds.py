"""Guided fuzzing holds the actors a search may hold: the code under test, not the
harness's own actors nor the watchers that react to it."""

from __future__ import annotations

from dnschaos.explore.guided import GuidedSource
from dnschaos.explore.shrink import Case
from dnschaos.scenario.resolve import load_scenario


def test_a_corpus_entry_keeps_the_points_of_actors_it_may_hold() -> None:
    # cascade-2025 runs the planner, two enactors, the operator, a probe, the downstream
    # models and the nemesis; only the planner and the enactors are held.
    source = GuidedSource(load_scenario("cascade-2025"), campaign_seed=2)
    source.issued[0] = Case(0)
    points = [("nemesis", 1), ("enactor-a", 2), ("downstream", 1), ("operator", 1), ("planner", 3)]
    assert source.learn(0, points, new=1)
    assert source.corpus[0].points == [("enactor-a", 2), ("planner", 3)]
