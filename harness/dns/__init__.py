"""The DNS side of a run: Route 53's data plane served by a real or embedded DNS server,
probes that ask it what clients see, and measures of what they saw."""
