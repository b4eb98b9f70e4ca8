"""A run of your own automation, declared in Python: :class:`Simulation`.

::

    import dnschaos
    from dnschaos.invariants import never_empty

    def certbot_race() -> dnschaos.Simulation:
        sim = dnschaos.Simulation("certbot-race", duration=600)
        sim.zone("example.com", records=[("www.example.com", "A", 60, ["192.0.2.1"])])
        sim.actor("renew", renew)            # fn(ctx) or fn(): boto3, time, random bound
        sim.actor("cleanup", cleanup)
        sim.fault("kind=latency,actor=renew,seconds=5")
        sim.invariant(never_empty("www.example.com", "A"))
        return sim

    result = certbot_race().run(seed=3)
    # A spec names the function, so anything can rebuild the run, in any process:
    dnschaos.run("mypkg.sims:certbot_race", seed=3)

A Simulation returned by a ``module:function`` is a scenario like a file: the
spec's scenario is the reference, and its digest is the digest of the module's
source. One made and run in place (no ``ref``) can be replayed in the process
that made it only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from dnschaos.errors import UsageError
from dnschaos.keys import NAME_CHARS, name_problem
from dnschaos.scenario.spec import CallLatency, Scenario, default_limits
from dnschaos.world.config import (
    ActorSpec,
    AliasSpec,
    InvariantSpec,
    RecordSpec,
    Ref,
    TableSpec,
    WorldSpec,
    ZoneSpec,
    module_of,
    record_problem,
    ref_name,
)


class Simulation:
    """A world you describe and actors you bring; :meth:`run` it, or name the function that
    returns it as a scenario (``RunSpec(scenario="mypkg.sims:certbot_race")``)."""

    def __init__(
        self,
        name: str = "simulation",
        *,
        duration: float = 360.0,
        seed: int | None = None,
        propagation_delay: float = 0.0,
        latency: tuple[float, float] = (CallLatency.low, CallLatency.high),
        stop_at_first_violation: bool = True,
        ref: str | None = None,
    ) -> None:
        self.name = name
        self.duration = float(duration)
        self.seed = seed
        self.propagation_delay = float(propagation_delay)
        self.latency = CallLatency(*latency)
        self.stop_at_first_violation = stop_at_first_violation
        self.ref = ref
        self._zones: list[ZoneSpec] = []
        self._tables: list[TableSpec] = []
        self._actors: list[ActorSpec] = []
        self._invariants: list[InvariantSpec] = []
        self._faults: list[Any] = []
        self._setup: Ref | None = None
        self._no_actor_error = True
        self._limits: dict[str, Any] = {}
        self._dns: Any = None
        self._fuzz: tuple[tuple[dict[str, Any], ...], int] = ((), 0)
        self._live_ref: str | None = None

    # ------------------------------------------------------------------ declaring

    def zone(self, name: str, records: Iterable[Any] = ()) -> Simulation:
        """A hosted zone and its initial records: ``(name, type, ttl, values)`` tuples or
        tables with the keys of a scenario file's records (``name``, ``type``, ``ttl``,
        ``values``; ``set_identifier`` and ``weight`` for a weighted set; ``alias =
        {"name", "zone", "evaluate_target_health"}`` instead of values, ``zone`` naming a
        zone of the world or a hosted zone id)."""
        recs = []
        for r in records:
            if isinstance(r, RecordSpec):
                recs.append(r)
            elif isinstance(r, dict):
                recs.append(_record(r))
            else:
                rname, rtype, ttl, values = r
                values = (values,) if isinstance(values, str) else tuple(values)
                recs.append(RecordSpec(rname, rtype, int(ttl), values))
        for rec in recs:
            problem = record_problem(rec, name)
            if problem is not None:
                raise UsageError(
                    f"zone {name!r}: record {rec.name} {rec.type}: {problem[0]}: "
                    f"wanted {problem[1]}"
                )
        self._zones.append(ZoneSpec(name, tuple(recs)))
        return self

    def table(
        self, name: str, *, key: str = "pk", sort_key: str | None = None, items: Iterable[Any] = ()
    ) -> Simulation:
        self._tables.append(TableSpec(name, key, sort_key, tuple(items)))
        return self

    def actor(self, name: str, function: Ref, **args: Any) -> Simulation:
        """An actor ``fn(ctx)`` or ``fn()``; with keyword ``args``, ``function`` is a factory
        called with them that returns the actor function."""
        if name_problem(name) is not None or name in {a.name for a in self._actors}:
            raise UsageError(f"actor {name!r}: give each actor a distinct name of {NAME_CHARS}")
        self._actors.append(ActorSpec(name, function, args=tuple(sorted(args.items()))))
        return self

    def process(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 30.0,
        exit_codes: Sequence[int] = (0,),
    ) -> Simulation:
        """An actor that is a separate program (``["aws", "route53", ...]``, a script in
        any language): its AWS requests go through the run's gate, as ``[[actors]]
        command`` does in a scenario file (``"{python}"`` is this Python)."""
        from dnschaos.world.external import process_spec

        if not name or "/" in name or name in {a.name for a in self._actors}:
            raise UsageError(f"actor {name!r}: give each actor a distinct name without '/'")
        self._actors.append(
            process_spec(
                name,
                list(command),
                env=env,
                cwd=cwd,
                timeout=timeout,
                exit_codes=exit_codes,
            )
        )
        return self

    def invariant(
        self, function: Ref, *, when: str | None = None, name: str = "", **args: Any
    ) -> Simulation:
        """A step invariant ``check(view)``, or with ``when="end"`` one over the history;
        without ``when``, as the function declares (``converges_to`` is an end invariant,
        also given as the factory with its arguments)."""
        if when is not None and when not in ("step", "end"):
            raise UsageError(f"invariant when={when!r}: choose step or end")
        spec = InvariantSpec(function, name=name, when=when, args=tuple(sorted(args.items())))
        if spec.label in {i.label for i in self._invariants}:
            raise UsageError(f"invariant {spec.label!r}: two invariants share it; pass name=")
        self._invariants.append(spec)
        return self

    def fault(self, fault: Any) -> Simulation:
        """A fault: a text as ``--fault`` takes it (``"kind=latency,actor=a,seconds=5"``),
        or a fault object (``dnschaos.Latency(...)``)."""
        if isinstance(fault, str):
            from dnschaos.scenario.load import fault_from_flag

            fault = fault_from_flag(fault, len(self._faults))
        self._faults.append(fault)
        return self

    def fuzz(self, *templates: dict[str, Any], max_faults: int = 3) -> Simulation:
        """The fault space ``dnschaos fuzz`` draws from: templates written like a scenario
        file's ``[[fuzz.faults]]`` (ranges ``[low, high]``, choices ``[a, b]``)."""
        from dnschaos.scenario.load import fuzz_space
        from dnschaos.scenario.table import Table

        table = Table(
            f"simulation {self.name}", "fuzz", {"max_faults": max_faults, "faults": list(templates)}
        )
        self._fuzz = fuzz_space(table)
        return self

    def setup(self, function: Ref) -> Simulation:
        """Called before the actors start, with clients of the world (``.route53``,
        ``.dynamodb``, ``.client(service)``, ``.zones``)."""
        self._setup = function
        return self

    def no_actor_error(self, enabled: bool = True) -> Simulation:
        """Judge actors' uncaught exceptions (the default), or not."""
        self._no_actor_error = enabled
        return self

    def dns(
        self,
        *probes: str | tuple[str, Iterable[str]],
        server: str = "embedded",
        resolver: str = "none",
        **settings: Any,
    ) -> Simulation:
        """Serve the world's zones through a DNS server and probe these names as clients
        would: a name (asked for A) or ``(name, ["A", "AAAA"])``. ``server``: embedded,
        bind9 or knot; ``resolver``: none or unbound (a cache in front of it); other
        keywords as a scenario's ``[dns]`` (``negative_ttl``, ``probe_interval``...). The
        runs are then also judged by ``endpoint-never-empty-client``."""
        from dnschaos.dns.names import ProbeName
        from dnschaos.dns.stack import DnsConfig

        names = []
        for probe in probes:
            name, types = (probe, ("A",)) if isinstance(probe, str) else probe
            names.append(ProbeName(str(name), tuple(types)))
        try:
            self._dns = DnsConfig(server=server, resolver=resolver, probes=tuple(names), **settings)
        except TypeError as exc:
            raise UsageError(f"simulation {self.name}: dns: {exc}") from None
        return self

    def limits(self, **limits: Any) -> Simulation:
        """``max_steps``, ``max_virtual_seconds``, ``max_wall_seconds``, ``quantum``."""
        self._limits.update(limits)
        return self

    # ------------------------------------------------------------------ running

    def scenario(self) -> Scenario:
        if not self._actors:
            raise UsageError(f"simulation {self.name}: add at least one actor (sim.actor)")
        base = default_limits(self.duration)
        try:
            limits = replace(base, **self._limits)
        except TypeError as exc:
            raise UsageError(f"simulation {self.name}: limits: {exc}") from None
        refs: list[Ref] = [a.function for a in self._actors]
        refs += [i.function for i in self._invariants]
        if self._setup is not None:
            refs.append(self._setup)
        modules = sorted(
            {m for m in map(module_of, refs) if m and not m.startswith(("dnschaos", "__main__"))}
        )
        world = WorldSpec(
            zones=tuple(self._zones),
            tables=tuple(self._tables),
            actors=tuple(self._actors),
            invariants=tuple(self._invariants),
            setup=self._setup,
            no_actor_error=self._no_actor_error,
            modules=tuple(modules),
        )
        return Scenario(
            name=self.name,
            duration=self.duration,
            latency=self.latency,
            propagation_delay=self.propagation_delay,
            limits=limits,
            faults=tuple(self._faults),
            stop_at_first_violation=self.stop_at_first_violation,
            seed=self.seed,
            source=self.ref,
            fuzz_faults=self._fuzz[0],
            fuzz_max_faults=self._fuzz[1],
            world=world,
            dns=self._dns,
        )

    def reference(self) -> str:
        """The scenario reference a spec of this simulation carries."""
        if self.ref is not None:
            return self.ref
        if self._live_ref is None:
            from dnschaos.scenario.live import register

            self._live_ref = register(self)
        return self._live_ref

    def run(
        self, *, seed: int | None = None, strategy: str = "random", runs: int = 1, **fields: Any
    ) -> Any:
        """One run (a RunResult), or with ``runs`` > 1 a list of runs with seeds ``seed``,
        ``seed + 1``, ...; other keywords are RunSpec fields (``faults``, ``invariants``...)."""
        from dnschaos.runner import run
        from dnschaos.scenario.spec import DEFAULT_SEED, RunSpec

        first = seed if seed is not None else (self.seed if self.seed is not None else DEFAULT_SEED)
        spec = RunSpec(scenario=self.reference(), strategy=strategy, **fields)
        results = [run(replace(spec, seed=first + i)) for i in range(max(1, runs))]
        return results[0] if runs == 1 else results

    def describe(self) -> str:
        """A canonical text of what this simulation declares (the digest of a live one)."""
        parts = [
            repr((self.name, self.duration, self.seed, self.propagation_delay, self.latency)),
            repr(self._zones),
            repr(self._tables),
            repr(
                [
                    (a.name, ref_name(a.function), *((a.args,) if a.args else ()))
                    for a in self._actors
                ]
            ),
            repr([(i.label, i.when, ref_name(i.function), i.args) for i in self._invariants]),
            repr([getattr(f, "describe", lambda f=f: repr(f))() for f in self._faults]),
            repr((ref_name(self._setup), self._no_actor_error, sorted(self._limits.items()))),
            repr(self._fuzz),
            repr(self._dns),
        ]
        return "\n".join(parts)


_RECORD_KEYS = ("name", "type", "ttl", "values", "set_identifier", "weight", "alias")


def _record(r: dict[str, Any]) -> RecordSpec:
    """A record given as a table: the keys of a scenario file's ``[[world.zones]]`` records."""
    unknown = sorted(set(r) - set(_RECORD_KEYS))
    if unknown or "name" not in r or "type" not in r:
        raise UsageError(
            f"record {r!r}: needs name and type; allowed keys: {', '.join(_RECORD_KEYS)}"
        )
    values = r.get("values", ())
    alias = r.get("alias")
    return RecordSpec(
        str(r["name"]),
        str(r["type"]),
        int(r.get("ttl", 300)),
        (values,) if isinstance(values, str) else tuple(values),
        None if r.get("set_identifier") is None else str(r["set_identifier"]),
        None if r.get("weight") is None else int(r["weight"]),
        None
        if alias is None
        else AliasSpec(
            str(alias["name"]), str(alias["zone"]), bool(alias.get("evaluate_target_health"))
        ),
    )


__all__ = ["Simulation"]
