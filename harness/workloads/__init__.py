"""Workloads: automation under test bundled with its world, actors, invariants, stories and
scenario keys, registered with the core (:mod:`dnschaos.workload`). The core imports none
of them."""
