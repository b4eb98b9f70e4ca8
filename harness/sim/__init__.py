"""Simulation: clocks (and, later, the scheduler and strategies)."""
