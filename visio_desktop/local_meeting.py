"""A meeting hosted on this computer ("Start a meeting on this computer").

The embedded room server runs on the engine loop with freshly generated keys; the meeting gets
a Visio-style code and a link others on the network open in Visio Desktop
(``http://<this computer's LAN address>:<port>/<code>``), which the server answers as a Visio
instance would (``server/meetings.py``). With ``lan=False`` only this computer can join.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket

from visio_desktop.server import RoomServer
from visio_desktop.server.meetings import Meeting

log = logging.getLogger(__name__)
DEFAULT_PORT = 7880


def lan_address() -> str:
    """This computer's address on its main network (no packet is sent), else loopback."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.254.254.254", 9))  # any non-local address: picks the outgoing interface
        address: str = s.getsockname()[0]
        if not address.startswith("0."):
            return address
    return "127.0.0.1"


class LocalMeeting:
    def __init__(self, *, lan: bool = True, port: int = DEFAULT_PORT) -> None:
        self.lan = lan
        self.port = port
        self.server: RoomServer | None = None
        self.meeting: Meeting | None = None
        self.address = "127.0.0.1"

    async def start(self) -> Meeting:
        keys = {f"VD{secrets.token_hex(6)}": secrets.token_urlsafe(32)}
        bind = "0.0.0.0" if self.lan else "127.0.0.1"
        for port in (self.port, 0):  # the usual port, or any free one
            server = RoomServer(host=bind, port=port, keys=keys)
            try:
                await server.start()
            except OSError as exc:
                log.info("port %d unavailable (%s)", port, exc)
                await server.stop()
                continue
            self.server = server
            break
        else:  # pragma: no cover - port 0 always binds
            raise OSError("could not start the meeting server")
        self.address = lan_address() if self.lan else "127.0.0.1"
        self.meeting = self.server.meetings.open()
        log.info("local meeting %s on port %d", self.meeting.slug, self.server.port)
        return self.meeting

    @property
    def link(self) -> str:
        """The link to give others (their Visio Desktop joins with it)."""
        assert self.server is not None and self.meeting is not None
        return f"http://{self.address}:{self.server.port}/{self.meeting.slug}"

    @property
    def local_url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.port}"

    def host_token(self, name: str) -> str:
        assert self.server is not None and self.meeting is not None
        return self.server.meetings.token(self.meeting, name=name, host=True)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
