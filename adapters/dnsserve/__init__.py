"""Serving DNS: the data plane of Route 53 answers, an embedded responder, and real BIND9,
Knot and Unbound processes fed by RFC 2136."""
