"""Embedded LiveKit-compatible room server (SFU) for offline/LAN meetings and tests."""

from visio_desktop.server.app import RoomServer, RoomSummary

__all__ = ["RoomServer", "RoomSummary"]
