"""Coverage-guided fuzzing: keep the cases that reached something new, and mutate them.

A blind campaign draws every case afresh (a seed, a strategy, faults from the
scenario's fault space). A guided one (``dnschaos fuzz --guided``) keeps a
*corpus*: every case whose run added an abstract state or transition to the
campaign's coverage map (:mod:`dnschaos.explore.coverage`). New cases are
mostly mutations of corpus entries, chosen with a weight that grows with how
rare the states and transitions its run reached are (each counts 1/n, n the
number of runs that reached it so far): an entry that still reaches ground few
others reached is mutated most, one whose ground became common fades:

* ``reseed``: the same holds and faults in another seeded order;
* ``hold``: hold an actor just before one of the AWS calls the parent's run made
  (``[actor, n]``: its n-th call) for a duration drawn over the scenario's delay
  range (:func:`dnschaos.scenario.spec.delay_range`), at most ``max_holds`` per case. Any
  actor a search may hold (the code under test, not the harness's own actors:
  :func:`dnschaos.scenario.actors.holdable`) is held, before any of its calls;
* ``unhold`` / ``shift``: drop a hold, or move it a few calls earlier or later,
  or halve or double its duration;
* ``fault`` / ``unfault``: add a fault drawn from the fault space, or drop one;
* ``splice``: the parent's holds and faults up to a cut, another entry's after it.

One case in ten is drawn fresh (a new seed and faults, with one or two holds at
calls some earlier run made), so the corpus keeps taking in new seeds.

Holds are what let a fuzzer find what timing hides: an untimed model checker
lets an enactor be arbitrarily slow, and a hold is that slowness, placed at a
call that matters (found by the coverage it adds) rather than by chance.

Each case is stored as a normal case (with ``holds``); a failure's result holds
its recorded choices, so ``dnschaos replay`` and ``dnschaos shrink`` work on it.
The sequence of cases depends on the order in which results come back (a case is
drawn from the corpus as it stands when the case is handed out), so two guided
campaigns with more than one worker may differ; each stored case replays exactly.
The corpus and the cases handed out but not finished are kept in the store's
``corpus.json`` (written atomically), so ``--resume`` carries on where it stopped.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from dnschaos.explore.shrink import Case
from dnschaos.faults.space import draw_case, draw_fault, from_flag, to_flag
from dnschaos.scenario.actors import holdable
from dnschaos.scenario.spec import delay_range

FRESH_SHARE: Final = 0.1
MAX_HOLDS: Final = 3
MUTATIONS: Final = ("reseed", "hold", "unhold", "shift", "fault", "unfault", "splice")


Hold = tuple[str, int, float]


def _holds(holds: list[Hold]) -> tuple[Hold, ...]:
    """Sorted, at most one hold per point (the first given wins)."""
    unique: dict[tuple[str, int], Hold] = {}
    for actor, n, seconds in holds:
        unique.setdefault((actor, n), (actor, n, seconds))
    return tuple(sorted(unique.values()))


@dataclass
class Entry:
    index: int
    case: Case
    points: list[tuple[str, int]]
    new: int  # states and transitions it added when it ran
    keys: tuple[str, ...] = ()  # every state and transition its run reached

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "case": self.case.to_json(),
            "points": [list(p) for p in self.points],
            "new": self.new,
            "keys": list(self.keys),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            int(data["index"]),
            Case.from_json(data["case"]),
            [(str(a), int(n)) for a, n in data["points"]],
            int(data["new"]),
            tuple(str(k) for k in data.get("keys", ())),
        )


@dataclass
class GuidedSource:
    """Hands out the cases of a guided campaign and learns from their results."""

    scenario: Any
    campaign_seed: int
    max_holds: int = MAX_HOLDS
    corpus: list[Entry] = field(default_factory=list)
    issued: dict[int, Case] = field(default_factory=dict)  # handed out, not learnt from yet
    mutations: dict[str, int] = field(default_factory=dict)  # how many of each, for the log
    hits: dict[str, int] = field(default_factory=dict)  # runs that reached each key

    def weight(self, entry: Entry) -> float:
        """How often ``entry`` is picked: the rarity of what its run reached."""
        return 1.0 + sum(1.0 / self.hits.get(k, 1) for k in entry.keys)

    @property
    def span(self) -> float:
        return delay_range(self.scenario)

    @property
    def holdable(self) -> frozenset[str]:
        return frozenset(holdable(self.scenario))

    def case(self, index: int) -> Case:
        """Case ``index``: the one handed out before (a resumed case), else a new one."""
        if index in self.issued:
            return self.issued[index]
        rng = random.Random(f"{self.campaign_seed}/guided/{index}")
        if not self.corpus or rng.random() < FRESH_SHARE:
            case = self._fresh(rng)
            self._count("fresh")
        else:
            parent = rng.choices(self.corpus, weights=[self.weight(e) for e in self.corpus])[0]
            case = parent.case
            for _ in range(rng.randint(1, 3)):
                case = self._mutate(case, parent, rng)
        self.issued[index] = case
        return case

    def learn(
        self, index: int, points: list[tuple[str, int]], new: int, keys: Iterable[str] = ()
    ) -> bool:
        """Case ``index`` ran, reached ``keys`` and added ``new`` of them to the map; keep it
        if it added any."""
        reached = tuple(sorted(set(keys)))
        for k in reached:
            self.hits[k] = self.hits.get(k, 0) + 1
        case = self.issued.pop(index, None)
        if case is None or new <= 0:
            return False
        holdable = self.holdable
        points = [p for p in points if p[0] in holdable]
        self.corpus.append(Entry(index, case, points, new, reached))
        return True

    # ------------------------------------------------------------------ mutations

    def _fresh(self, rng: random.Random) -> Case:
        """A new seed and faults; once runs have shown where actors call AWS, one or two
        holds at such places too (a run without a late actor rarely reaches new ground)."""
        faults = draw_case(self.scenario.fuzz_faults, self.scenario.fuzz_max_faults, rng)
        case = Case(rng.getrandbits(32), "random", tuple(to_flag(f) for f in faults))
        points = self.corpus[rng.randrange(len(self.corpus))].points if self.corpus else []
        if points:
            picked = rng.sample(points, min(len(points), rng.randint(1, 2)))
            case = replace(case, holds=_holds([(a, n, self._duration(rng)) for a, n in picked]))
        return case

    def _count(self, name: str) -> None:
        self.mutations[name] = self.mutations.get(name, 0) + 1

    def _duration(self, rng: random.Random) -> float:
        return max(0.001, round(rng.uniform(0.02, 1.0) * self.span, 3))

    def _mutate(self, case: Case, parent: Entry, rng: random.Random) -> Case:
        possible = ["reseed", "splice"]
        held = {(a, n) for a, n, _s in case.holds}
        free = [p for p in parent.points if p not in held]
        if free and len(case.holds) < self.max_holds:
            possible += ["hold", "hold", "hold"]  # the mutation that finds slow enactors
        if case.holds:
            possible += ["unhold", "shift", "shift"]
        if self.scenario.fuzz_faults:
            possible.append("fault")
        if case.faults:
            possible.append("unfault")
        name = possible[rng.randrange(len(possible))]
        self._count(name)
        if name == "reseed":
            return replace(case, seed=rng.getrandbits(32))
        if name == "hold":
            actor, n = free[rng.randrange(len(free))]
            return replace(case, holds=_holds([*case.holds, (actor, n, self._duration(rng))]))
        if name == "unhold":
            dropped = list(case.holds)
            dropped.pop(rng.randrange(len(dropped)))
            return replace(case, holds=tuple(dropped))
        if name == "shift":
            return replace(case, holds=self._shift(list(case.holds), rng))
        if name == "fault":
            return replace(case, faults=self._fault(case.faults, rng))
        if name == "unfault":
            kept = list(case.faults)
            kept.pop(rng.randrange(len(kept)))
            return replace(case, faults=tuple(kept))
        return self._splice(case, rng)

    def _shift(self, holds: list[Hold], rng: random.Random) -> tuple[Hold, ...]:
        i = rng.randrange(len(holds))
        actor, n, seconds = holds[i]
        if rng.random() < 0.5:
            n = max(1, n + rng.choice((-3, -2, -1, 1, 2, 3)))
        else:
            seconds = max(0.001, min(self.span, round(seconds * rng.choice((0.5, 2.0)), 3)))
        holds[i] = (actor, n, seconds)
        return _holds(holds)

    def _fault(self, faults: tuple[str, ...], rng: random.Random) -> tuple[str, ...]:
        templates = self.scenario.fuzz_faults
        i = rng.randrange(len(templates))
        fault = to_flag({"name": f"fuzz-{i}", **draw_fault(templates[i], rng)})
        # One fault per template, as in a drawn case: a new draw replaces the old one.
        kept = [f for f in faults if from_flag(f).get("name") != f"fuzz-{i}"]
        if len(kept) >= max(1, self.scenario.fuzz_max_faults):
            kept.pop(rng.randrange(len(kept)))  # full: one makes room
        return (*kept, fault)

    def _splice(self, case: Case, rng: random.Random) -> Case:
        other = self.corpus[rng.randrange(len(self.corpus))].case
        cut = rng.randint(0, len(case.holds))
        holds = _holds([*case.holds[:cut], *other.holds[cut:]])[: self.max_holds]
        fcut = rng.randint(0, len(case.faults))
        by_name = {from_flag(f).get("name"): f for f in (*case.faults[:fcut], *other.faults[fcut:])}
        faults = tuple(by_name.values())[: max(1, self.scenario.fuzz_max_faults)]
        return replace(case, holds=holds, faults=faults)

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict[str, Any]:
        return {
            "max_holds": self.max_holds,
            "corpus": [e.to_json() for e in self.corpus],
            "issued": {str(i): c.to_json() for i, c in sorted(self.issued.items())},
            "mutations": dict(sorted(self.mutations.items())),
            "hits": dict(sorted(self.hits.items())),
        }

    def load(self, data: dict[str, Any]) -> None:
        self.max_holds = int(data.get("max_holds", self.max_holds))
        self.corpus = [Entry.from_json(e) for e in data.get("corpus", ())]
        self.issued = {int(i): Case.from_json(c) for i, c in data.get("issued", {}).items()}
        self.mutations = {str(k): int(v) for k, v in data.get("mutations", {}).items()}
        self.hits = {str(k): int(v) for k, v in data.get("hits", {}).items()}
