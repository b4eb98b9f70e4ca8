"""Stories of a user's world that name the cause: an end invariant's story has the writes
that made the final state of what it read, writes are told in the order they took effect,
and an actor's error is told with the other actors' writes to what its calls read (and
the report's window opens on them)."""

from __future__ import annotations

from typing import Any

import dnschaos
from dnschaos.invariants import converges_to
from dnschaos.report.page import focus_window
from dnschaos.story import lines
from tests.integration.record_writes import change

ZONE = "example.com"


def _sim(*actors: tuple[str, Any], duration: float = 60) -> dnschaos.Simulation:
    sim = dnschaos.Simulation("stories", duration=duration)
    sim.zone(
        ZONE,
        records=[
            ("www.example.com", "A", 60, ["192.0.2.1"]),
            ("api.example.com", "A", 60, ["192.0.2.1"]),
        ],
    )
    for name, fn in actors:
        sim.actor(name, fn)
    return sim


def www_writer(ctx: Any) -> None:
    ctx.sleep(3)
    change(ctx, "UPSERT", "www.example.com", "192.0.2.7")


def api_writer(ctx: Any) -> None:
    ctx.sleep(5)
    change(ctx, "UPSERT", "api.example.com", "192.0.2.9")


def api_matches_www(history: Any) -> bool:
    """A user's end invariant: it says only False, and reads through the final view."""
    return history.record("api.example.com", "A") == history.record("www.example.com", "A")


def _texts(result: Any) -> list[str]:
    return [line.render() for line in lines(list(result.history), result.headline)]


def test_an_end_invariants_story_has_the_writes_to_every_name_it_read() -> None:
    sim = _sim(("www", www_writer), ("api", api_writer))
    sim.invariant(api_matches_www, when="end")
    result = sim.run(seed=1)
    assert [v.invariant for v in result.violations] == ["api-matches-www"]
    story = _texts(result)
    assert any("www UPSERT www.example.com A 192.0.2.7" in s for s in story), story
    assert any("api UPSERT api.example.com A 192.0.2.9" in s for s in story), story
    assert not any("read no record" in s for s in story), story


def test_converges_to_tells_the_writes_to_the_name_that_did_not_converge() -> None:
    sim = _sim(("www", www_writer), ("api", api_writer))
    sim.invariant(converges_to({"www.example.com": "192.0.2.7", "api.example.com": "192.0.2.1"}))
    result = sim.run(seed=1)
    (violation,) = result.violations
    assert "api.example.com" in violation.detail
    story = _texts(result)
    assert any("api UPSERT api.example.com A 192.0.2.9" in s for s in story), story


def early(ctx: Any) -> None:
    ctx.sleep(5)
    change(ctx, "UPSERT", "www.example.com", "192.0.2.2")


def late(ctx: Any) -> None:
    ctx.sleep(5)
    change(ctx, "UPSERT", "www.example.com", "192.0.2.3")


def test_concurrent_writes_are_told_in_the_order_they_took_effect() -> None:
    sim = _sim(("early", early), ("late", late))
    sim.invariant(converges_to({"www.example.com": "192.0.2.3"}))
    # Seed 6: early's call is made first and answered last: its value is the one that stays.
    result = sim.run(seed=6)
    history = list(result.history)
    calls = {
        (e["actor"], e["kind"]): e
        for e in history
        if e.get("op") == "ChangeResourceRecordSets" and e["kind"] in ("invoke", "complete")
    }
    assert calls["early", "invoke"]["seq"] < calls["late", "invoke"]["seq"]
    assert calls["early", "complete"]["seq"] > calls["late", "complete"]["seq"]
    (violation,) = result.violations
    assert "is ['192.0.2.2']" in violation.detail
    told = [line for line in lines(history, violation) if "UPSERT" in line.text]
    assert [line.actor for line in told] == ["late", "early"]
    assert [line.t for line in told] == sorted(line.t for line in told)


def owner(ctx: Any) -> None:
    change(ctx, "UPSERT", "www.example.com", "192.0.2.5")
    ctx.sleep(100)
    change(ctx, "DELETE", "www.example.com", "192.0.2.5")  # gone: InvalidChangeBatch


def cleaner(ctx: Any) -> None:
    ctx.sleep(10)
    change(ctx, "DELETE", "www.example.com", "192.0.2.5")


def test_an_actor_errors_story_has_the_other_actors_write_to_what_it_read() -> None:
    result = _sim(("owner", owner), ("cleaner", cleaner), duration=600).run(seed=1)
    violation = result.headline
    assert violation is not None and violation.invariant == "no-actor-error"
    assert violation.endpoint == "owner"
    story = lines(list(result.history), violation)
    texts = [line.render() for line in story]
    assert any("cleaner DELETE www.example.com A 192.0.2.5" in s for s in texts), texts
    assert any("owner ChangeResourceRecordSets DELETE www.example.com A" in s for s in texts)
    # The report's window opens on the cause, not 9 ms after it.
    deleted = next(
        e
        for e in result.history
        if e["kind"] == "invoke"
        and e["actor"] == "cleaner"
        and e["op"] == "ChangeResourceRecordSets"
    )
    start, stop = focus_window(result.to_json(), list(result.history), story)
    assert start <= deleted["t"] < violation.t <= stop
