"""An invariant is judged when its function says: a library end invariant registered
without ``when`` is judged at the end (also through a factory), a checker of the whole
history is judged over it, and a registration that contradicts the function is refused."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

import dnschaos
from dnschaos.checkers import actor_errors
from dnschaos.errors import UsageError
from dnschaos.invariants import converges_to, never_empty
from dnschaos.runner import run
from tests.integration.record_writes import change

WWW = "www.example.com"


def flip(ctx: Any) -> None:
    ctx.sleep(10)
    change(ctx, "UPSERT", WWW, "192.0.2.2")


def breaks(ctx: Any) -> None:
    ctx.sleep(5)
    raise RuntimeError("lost the lease")


def _sim(*actors: tuple[str, Any]) -> dnschaos.Simulation:
    sim = dnschaos.Simulation("when", duration=60)
    sim.zone("example.com", records=[(WWW, "A", 60, ["192.0.2.1"])])
    for name, fn in actors:
        sim.actor(name, fn)
    return sim


@pytest.mark.parametrize("register", ["factory", "made", "file"])
def test_a_library_end_invariant_is_judged_at_the_end_however_it_is_registered(
    register: str, tmp_path: pathlib.Path
) -> None:
    if register == "file":
        path = tmp_path / "when.toml"
        path.write_text(
            f"""
[scenario]
name = "when"
duration = 60
[[world.zones]]
name = "example.com"
records = [{{ name = "{WWW}", type = "A", ttl = 60, values = ["192.0.2.1"] }}]
[[actors]]
name = "flipper"
function = "{__name__}:flip"
[[invariants]]
function = "dnschaos.invariants:converges_to"
args = {{ desired = {{ "{WWW}" = "192.0.2.2" }} }}
"""
        )
        result = run(str(path), seed=1)
    else:
        sim = _sim(("flipper", flip))
        if register == "factory":
            sim.invariant(converges_to, desired={WWW: "192.0.2.2"})
        else:
            sim.invariant(converges_to({WWW: "192.0.2.2"}))
        result = sim.run(seed=1)
    # Judged after every step it would fail at t=0, before the flipper wrote.
    assert result.verdict == "pass", result.violations
    (verdict,) = [
        v for v in result.verdicts if v.checker == "converges-to" or v.checker == "converges"
    ]
    assert verdict.status == "pass"


def test_an_end_invariant_registered_as_a_step_one_is_refused() -> None:
    sim = _sim(("flipper", flip))
    sim.invariant(converges_to, when="step", desired={WWW: "192.0.2.2"})
    with pytest.raises(UsageError, match=r"converges-to.*judged at the end.*when"):
        sim.run(seed=1)


def test_a_checker_of_the_whole_history_is_judged_over_it() -> None:
    sim = _sim(("flipper", flip), ("breaker", breaks))
    sim.no_actor_error(False)
    sim.invariant(actor_errors, name="my-actor-errors")
    result = sim.run(seed=1)
    assert result.verdict == "fail", result.verdicts
    (violation,) = result.violations
    assert violation.invariant == "my-actor-errors"
    assert "breaker raised RuntimeError: lost the lease" in violation.detail
    error = next(e for e in result.history if e["kind"] == "actor-error")
    assert (violation.t, violation.seq) == (error["t"], error["seq"])


def test_a_library_invariant_without_its_arguments_is_refused_naming_them() -> None:
    sim = _sim(("flipper", flip))
    sim.invariant(never_empty)
    with pytest.raises(UsageError, match=r"invariant never-empty: .*name"):
        sim.run(seed=1)
