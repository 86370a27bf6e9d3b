"""Visio Desktop: a native client for Visio (La Suite Meet), with an embedded LiveKit-compatible
room server."""

__version__ = "0.1.0"
