"""HTTP and WebSocket routes of the embedded server, and its in-process API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoomSummary:
    name: str
    sid: str
    participants: tuple[str, ...]


class RoomServer:
    """Placeholder while the server is being written."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 7880,
                 keys: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.keys = keys or {"devkey": "secret"}

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError
