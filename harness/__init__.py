"""dnschaos: chaos injection for DNS automation."""

__version__ = "0.1.0"
