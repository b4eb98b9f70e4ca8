"""Workloads: automation under test, bundled with everything the core needs to run and judge it.

A workload is what Jepsen calls one: the code under test (its actors), the part of the
world it needs (hosted zones, tables, DNS names worth probing), its invariants, how to
tell their stories, and the scenario keys that configure it. The core names no
workload. It finds them through the ``dnschaos.workloads`` entry-point group
(``name = "package.module:OBJECT"`` in a package's metadata) or through a
``module:OBJECT`` reference a scenario file names in ``[scenario] workloads``, and asks
each one through the hooks of :class:`Workload`, every one of which contributes
nothing by default.

A scenario file switches a workload on by using any key the workload declares
(``[enactors]``, ``[[world.endpoints]]``...); the user's own ``[[actors]]``,
``[[world.zones]]`` and ``[[invariants]]`` are the core's and may stand beside it in one
world. The built-in ``incident-2025`` workload (``dnschaos.workloads.incident2025``)
is registered the same way a user's would be, and is the example to copy.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final

from dnschaos.errors import UsageError

if TYPE_CHECKING:
    from dnschaos.checkers import Check, Stream, Violation
    from dnschaos.keys import Key
    from dnschaos.scenario.spec import RunSpec, Scenario
    from dnschaos.story import StoryLine
    from dnschaos.world.config import ActorSpec

GROUP: Final = "dnschaos.workloads"
# The attribute that marks an actor function (or factory) as a workload's own: it finds
# its world with ``ctx.workload(name)``, so a scenario without that workload cannot run it.
NEEDS: Final = "__dnschaos_workload__"


# The attribute that marks an actor function (or factory) as one the run starts itself
# when the scenario has the part it acts on (the nemesis, a DNS probe): its text says
# which part. Named as one of the user's actors it would run twice, or on nothing.
RUN_OWN: Final = "__dnschaos_run_own__"


def run_own(part: str) -> Callable[[Any], Any]:
    """Mark an actor function or factory as the run's own, started when a scenario has
    ``part`` (a text naming it: ``"[[faults]]"``): a scenario that names it among its own
    actors is refused."""

    def mark(fn: Any) -> Any:
        setattr(fn, RUN_OWN, part)
        return fn

    return mark


def actor_of(workload: str) -> Callable[[Any], Any]:
    """Mark an actor function or factory as ``workload``'s: a scenario that names it without
    switching the workload on is refused before anything runs."""

    def mark(fn: Any) -> Any:
        setattr(fn, NEEDS, workload)
        return fn

    return mark


@dataclass(frozen=True)
class Invariant:
    """One invariant a run is judged by.

    ``check`` reads the whole history. ``stream``, when given, makes a fresh
    :class:`~dnschaos.checkers.Stream` of the same invariant fed one entry at a time,
    so a run can stop at it as it goes without keeping its past. ``safety``: judged
    while the run goes (a run may stop at it, and a run cut short is judged on it);
    otherwise it needs the whole run (liveness, end state). ``needs`` names what must
    exist in a run for the invariant to mean anything (``"dns"``: probes ran); a
    scenario that asks for it without that is refused."""

    check: Check
    stream: Callable[[], Stream] | None = None
    safety: bool = True
    needs: tuple[str, ...] = ()


class Workload:
    """Subclass, give a ``name`` and the hooks you need, and register an instance.

    ``config`` below is whatever :meth:`configure` returned for a scenario: the
    workload's own frozen description of its part of the world.
    """

    name: str = ""
    description: str = ""
    #: The scenario keys it owns, by table (``"enactors"``), array of tables inside a
    #: table (``"world.endpoints"``) or a shared table whose keys it adds to
    #: (``"world"``, ``"scenario"``): any of them in a file switches the workload on.
    keys: Mapping[str, tuple[Key, ...]] = {}
    #: Arrays of tables it owns (``"world.endpoints"``): a list of tables in the file.
    arrays: tuple[str, ...] = ()
    #: RunSpec options it takes (``"variant"``, ``"planner"``, ``"mitigations"``).
    options: tuple[str, ...] = ()

    def takes(self, config: Any, option: str) -> bool:
        """Whether this part, as configured, takes ``option``: a workload that takes an
        option only with some of its tables (mitigations need a cascade) says so here."""
        return option in self.options

    # ------------------------------------------------------------------ scenario

    def configure(self, values: Mapping[str, Any], source: str) -> Any:
        """Its config from the values of its keys (already read and checked against
        :attr:`keys`): ``values[table][key]``, arrays of tables as lists of dicts."""
        return None

    def with_options(self, config: Any, spec: RunSpec) -> Any:
        """The config with a spec's options applied (a variant, a planner...)."""
        return config

    def option_problem(self, option: str, value: Any) -> str | None:
        """What is wrong with a value of one of its options (for the pytest plugin's
        early checks), or None."""
        return None

    def resolved_options(self, config: Any, spec: RunSpec) -> dict[str, Any]:
        """The spec fields it makes explicit when a spec is resolved (a default variant)."""
        return {}

    def check(self, config: Any, scenario: Scenario, source: str) -> None:
        """Refuse a scenario whose parts do not fit together (exit 2)."""

    def scoped(
        self, config: Any, faults: tuple[Any, ...], rename: Callable[[str], str]
    ) -> tuple[Any, tuple[Any, ...]]:
        """Its config (and the faults that name its resources) with every name it makes in an
        AWS account passed through ``rename``: on a real account everything a run makes is
        named under the run's id."""
        return config, faults

    def services(self, config: Any) -> tuple[str, ...]:
        """AWS services its actors call beyond Route 53 and DynamoDB (boto3's names): a
        fault may match them."""
        return ()

    def delay_range(self, config: Any) -> float | None:
        """The longest hold worth drawing: its longest timeout, interval or lease."""
        return None

    # ------------------------------------------------------------------ a run

    def actors(self, config: Any, scenario: Scenario) -> tuple[ActorSpec, ...]:
        """Its actors, spawned before the user's."""
        return ()

    def watchers(self, config: Any, scenario: Scenario) -> tuple[ActorSpec, ...]:
        """Actors that react to the world (an operator, downstream models), spawned after
        the DNS side."""
        return ()

    def provision(self, config: Any, run: Any) -> Any:
        """Make its part of the world on ``run`` (a :class:`dnschaos.world.run.RunWorld`):
        hosted zones, tables, names to probe, what the observer watches. Returns the
        object its actors find with ``ctx.workload(name)``."""
        return None

    def invariants(self, config: Any, scenario: Scenario) -> dict[str, Invariant]:
        return {}

    def checker(self, name: str) -> Check | None:
        """One of its invariants by name, for ``dnschaos.checker(name)`` (a name may carry
        an argument after a colon: ``progress:300``), or None."""
        return None

    def checker_names(self) -> list[str]:
        return []

    def result(
        self, config: Any, scenario: Scenario, history: Iterable[dict[str, Any]]
    ) -> dict[str, Any]:
        """What the result records beside the verdict (measures, phases), by key."""
        return {}

    def compare(
        self,
        spec: RunSpec,
        recorded: Mapping[str, Any],
        *,
        workers: int,
        progress: Callable[[str], None] | None,
    ) -> tuple[list[str], Any] | None:
        """``run --compare-mitigations``: the run of ``spec`` (what it recorded) beside the
        same run with each of its mitigations, as lines to print and rows to store; None
        when it has nothing to compare."""
        return None

    # ------------------------------------------------------------------ explaining

    def ranks(self) -> Mapping[str, int]:
        """How its invariants rank for the headline (lower first; the core's DNS
        invariant is 0, an unranked one comes after every ranked one)."""
        return {}

    def tell(
        self, history: Sequence[dict[str, Any]], violation: Violation
    ) -> list[StoryLine] | None:
        """The story of one of its invariants' violations, or None to let the core tell it."""
        return None

    def report(
        self,
        result: Mapping[str, Any],
        recorded: Mapping[str, Any],
        entries: Sequence[dict[str, Any]],
    ) -> tuple[list[str], str] | None:
        """Its part of the report page from what it recorded: lines for the impact list,
        and a section of HTML (escaped by the workload); None for nothing."""
        return None

    def plot(
        self,
        result: Mapping[str, Any],
        recorded: Mapping[str, Any],
        entries: Sequence[dict[str, Any]],
    ) -> bytes | None:
        """A PNG of its own for ``report -o x.png`` (instead of the timeline), or None."""
        return None

    def summary(self, result: Mapping[str, Any]) -> list[str]:
        """Lines the CLI prints after a run, from what :meth:`result` recorded."""
        return []

    def abstract(self, entries: Sequence[dict[str, Any]]) -> Callable[[dict[str, Any]], str] | None:
        """For guided fuzzing: a function from each history entry to the abstract state
        of its part of the world after it ("" when it does not change), or None."""
        return None


@functools.cache
def _entry_points() -> dict[str, str]:
    found: dict[str, str] = {}
    for ep in metadata.entry_points(group=GROUP):
        found.setdefault(ep.name, ep.value)
    return found


_LOADED: dict[str, Workload] = {}


def load(ref: str) -> Workload:
    """A workload by entry-point name or ``module:OBJECT`` reference."""
    if ref in _LOADED:
        return _LOADED[ref]
    target = _entry_points().get(ref, ref)
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        known = ", ".join(sorted(_entry_points())) or "none installed"
        raise UsageError(
            f"workload {ref!r}: unknown; give an installed one ({known}) or module:OBJECT"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"workload {ref!r}: cannot import {module_name!r} ({exc})") from None
    value = getattr(module, attr, None)
    if not isinstance(value, Workload) or not value.name:
        raise UsageError(f"workload {ref!r}: {target} is not a named dnschaos Workload instance")
    _LOADED[ref] = value
    _LOADED[value.name] = value
    return value


def installed() -> list[Workload]:
    """Every workload installed through the entry-point group, by name."""
    return [load(name) for name in sorted(_entry_points())]


def ranks() -> dict[str, int]:
    """The headline rank of every invariant the installed workloads name."""
    out: dict[str, int] = {}
    for workload in installed():
        out.update(workload.ranks())
    return out


@dataclass(frozen=True)
class Part:
    """One workload in one scenario: which, and its config."""

    name: str
    config: Any

    @property
    def workload(self) -> Workload:
        return load(self.name)


def parts_of(scenario: Any) -> tuple[Part, ...]:
    parts: tuple[Part, ...] = scenario.workloads
    return parts


def options_taken(scenario: Any) -> set[str]:
    return {
        o for p in parts_of(scenario) for o in p.workload.options if p.workload.takes(p.config, o)
    }


__all__ = [
    "GROUP",
    "NEEDS",
    "RUN_OWN",
    "Invariant",
    "Part",
    "Workload",
    "actor_of",
    "installed",
    "load",
    "ranks",
    "run_own",
]
