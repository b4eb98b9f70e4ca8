"""The gate: a loopback HTTP listener where a separate process's AWS requests wait for
the scheduler, and are answered by the run's own in-process target."""
