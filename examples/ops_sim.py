"""The race of ops_script.py declared in Python, with dnschaos.Simulation.

    cd examples && dnschaos run ops_sim:ops_race --seed 1
    cd examples && dnschaos fuzz ops_sim:ops_race --budget 60s
    python -c "import ops_sim; print(ops_sim.ops_race().run(seed=1).verdict)"

A spec names the simulation by this module and function, so replay, shrink and
fuzz workers rebuild it in any process.
"""

from __future__ import annotations

import ops_script

import dnschaos
from dnschaos.invariants import converges_to, no_foreign_delete


def ops_race() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("ops-race", duration=600, propagation_delay=20.0)
    for zone in ops_script.ZONES:
        sim.zone(zone, records=[("www." + zone, "A", 60, ["192.0.2.1"])])
    sim.table(
        ops_script.INVENTORY,
        key="name",
        items=[{"name": "www." + zone, "address": "192.0.2.1"} for zone in ops_script.ZONES],
    )
    sim.actor("ops", ops_script.main)
    sim.actor("cleanup", ops_script.cleanup)
    sim.invariant(ops_script.www_answers)
    sim.invariant(no_foreign_delete())
    sim.invariant(
        converges_to({"www." + zone: ops_script.NEW_ADDRESS for zone in ops_script.ZONES}),
        name="www-moved",
    )
    sim.fuzz(  # dnschaos fuzz ops_sim:ops_race --budget 60s
        {"kind": "latency", "actor": ["ops", "cleanup"], "seconds": [1.0, 30.0], "duration": 120.0},
        max_faults=2,
    )
    return sim
