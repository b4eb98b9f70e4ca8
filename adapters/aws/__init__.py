"""AWS targets: in-process moto, moto's server, a real account (guarded, journaled)."""
