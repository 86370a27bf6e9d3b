"""HTTP and WebSocket routes of the embedded server, and its in-process API.

Routes (LiveKit protocol v0): ``/rtc`` (WebSocket signalling), ``/rtc/validate``; ``/rtc/v1`` and
``/rtc/v1/validate`` answer 404 so current clients fall back to v0.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from livekit.protocol import models, rtc

from visio_desktop.net import aiortc_ext
from visio_desktop.net.token import TokenError
from visio_desktop.server.auth import authenticate, token_from_request
from visio_desktop.server.meetings import MeetingDirectory
from visio_desktop.server.room import RoomManager
from visio_desktop.server.room_service import RoomService
from visio_desktop.server.session import ParticipantSession

log = logging.getLogger(__name__)

CORS = {"Access-Control-Allow-Origin": "*"}
DEV_KEYS = {"devkey": "secret"}


@dataclass(frozen=True, slots=True)
class RoomSummary:
    name: str
    sid: str
    participants: tuple[str, ...]


@dataclass
class ServerContext:
    keys: dict[str, str]
    rooms: RoomManager
    ice_addresses: Sequence[str] | None


def ice_addresses_for(host: str) -> list[str] | None:
    """Media candidates follow the bind address: loopback stays on loopback, a LAN address
    is offered alone, and a wildcard bind offers every interface."""
    if host in ("", "0.0.0.0", "::"):
        return None
    if host == "localhost":
        return ["127.0.0.1"]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            return [socket.gethostbyname(host)]
        except OSError:
            return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RoomServer:
    """The embedded LiveKit-compatible server: ``await start()``, ``url``, ``await stop()``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 7880,
                 keys: dict[str, str] | None = None) -> None:
        aiortc_ext.install()
        self.host = host
        self.port = port
        self.keys = dict(keys or DEV_KEYS)
        self.ctx = ServerContext(keys=self.keys, rooms=RoomManager(),
                                 ice_addresses=ice_addresses_for(host))
        self.meetings = MeetingDirectory(self.keys)
        self._runner: web.AppRunner | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._root)
        app.router.add_get("/rtc", self._rtc)
        app.router.add_get("/rtc/validate", self._validate)
        app.router.add_route("*", "/rtc/v1", self._v1)
        app.router.add_route("*", "/rtc/v1/validate", self._v1)
        self.meetings.add_routes(app.router)
        RoomService(self.ctx).add_routes(app.router)  # /twirp/livekit.RoomService/*
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("room server listening on %s", self.url)

    async def stop(self) -> None:
        for room in list(self.ctx.rooms.rooms.values()):
            for session in list(room.participants.values()):
                await session.close(models.DisconnectReason.SERVER_SHUTDOWN, notify=True)
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.gather(*self._sessions, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- in-process API ----------------------------------------------------------------------------
    def list_rooms(self) -> list[RoomSummary]:
        return [RoomSummary(r.name, r.sid, tuple(r.participants))
                for r in self.ctx.rooms.rooms.values()]

    def counts(self) -> dict[str, int]:
        """Live objects, for leak checks: sessions, peer connections, forwarders, down-tracks."""
        sessions = [s for r in self.ctx.rooms.rooms.values() for s in r.participants.values()]
        return {
            "rooms": len(self.ctx.rooms.rooms),
            "participants": len(sessions),
            "session_tasks": len(self._sessions),
            "peer_connections": sum(
                (s.publisher.connectionState != "closed") + (s.subscriber.connectionState
                                                            != "closed") for s in sessions),
            "forwarders": sum(len(s.published) for s in sessions),
            "down_tracks": sum(len(s.subscriptions) for s in sessions),
        }

    def sessions(self) -> list[ParticipantSession]:
        return [s for r in self.ctx.rooms.rooms.values() for s in r.participants.values()]

    # -- routes ------------------------------------------------------------------------------------
    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def _v1(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="v1 not supported", headers=CORS)

    def _check(self, request: web.Request):  # type: ignore[no-untyped-def]
        token = token_from_request(request.headers, request.query)
        return authenticate(token, self.keys)

    async def _validate(self, request: web.Request) -> web.Response:
        try:
            self._check(request)
        except TokenError as exc:
            return web.Response(status=401, text=str(exc), headers=CORS)
        return web.Response(text="success", headers=CORS)

    async def _rtc(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(status=404, text="use a WebSocket", headers=CORS)
        try:
            claims = self._check(request)
        except TokenError as exc:
            log.info("refused a connection from %s: %s", request.remote, exc)
            return web.Response(status=401, text=str(exc), headers=CORS)
        query = dict(request.query)
        ws = web.WebSocketResponse(heartbeat=10, max_msg_size=1 << 20)
        await ws.prepare(request)
        if query.get("reconnect") in ("1", "true"):
            # no session resumption: make the client do a full rejoin
            await ws.send_bytes(rtc.SignalResponse(leave=rtc.LeaveRequest(
                reason=models.DisconnectReason.STATE_MISMATCH,
                action=rtc.LeaveRequest.Action.RECONNECT)).SerializeToString())
            await ws.close()
            return ws
        room = self.ctx.rooms.get_or_create(claims.video.room)
        session = ParticipantSession(self.ctx, room, claims, ws, query)
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await session.run()
        finally:
            self._sessions.discard(task)
            with contextlib.suppress(Exception):
                await ws.close()
        return ws
