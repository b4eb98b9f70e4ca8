"""EC2 on the fast path: moto's lookups that the downstream models' calls repeat, answered
at the cost of a dictionary walk (:mod:`.lookups`)."""
