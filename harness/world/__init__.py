"""The actor runtime of every run and the world it acts on: actor contexts, the binding of
clients, time, randomness and threads to a run, the world a scenario describes (zones,
tables, records), its provisioning, the observer that judges step invariants, and the
read-only views invariants are given."""
