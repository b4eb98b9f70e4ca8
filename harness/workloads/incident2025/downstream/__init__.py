"""Downstream of DNS: models of the systems that failed after the race (INCIDENT.md 3-5)."""
