"""Your own automation under test: a world you describe, actors and invariants you bring.

A scenario with ``[[actors]]`` (or a :class:`dnschaos.Simulation`) is assembled by
:mod:`dnschaos.assemble`, like every run, with its own actors instead of the built-in
planner and enactors: the hosted zones and tables it describes are provisioned
(:mod:`dnschaos.byo.assemble`), its setup function runs, and each actor's plain
function runs under the run's driver with boto3 clients, time, randomness and threads
bound to the run (:mod:`dnschaos.byo.binding`). Invariants
are the user's functions, judged after every step on a read-only view of the world
(:mod:`dnschaos.byo.view`) or once over the whole history.
"""
