"""Exploring runs: seeds and systematic search, replay, shrinking, fuzz campaigns.

Everything here takes a :class:`~dnschaos.scenario.spec.RunSpec` (or rebuilds one from a
result with ``RunSpec.from_result``) and calls :func:`dnschaos.runner.run`: the
command line, the pytest plugin and Python users share these loops.
"""
