"""Scenarios: the description of a run (:mod:`~dnschaos.scenario.spec`), the scenario
file's keys as data, loading and validation, resolution of a spec into the scenario a run
assembles, and the JSON Schema of scenario files."""
