"""incident-2025: the DynamoDB DNS planner and enactors of INCIDENT.md, their world (endpoints,
plans, locks), invariants, stories, the operator, and the downstream EC2/NLB models."""
