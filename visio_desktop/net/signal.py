"""LiveKit signalling client (protocol v0, dual peer connection) over one WebSocket.

``SignalClient.connect`` opens ``/rtc``, waits for ``join`` (a ``leave`` instead is a refusal),
then reads messages in a task and hands each to ``on_message``; it pings at the server's interval
and treats ``ping_timeout`` seconds of silence as a dead connection. Tokens travel both as the
``access_token`` parameter and as a Bearer header, and are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import time
import urllib.parse
from collections.abc import Awaitable, Callable

import aiohttp
from google.protobuf.message import DecodeError
from livekit.protocol import models, rtc

from visio_desktop import __version__

log = logging.getLogger(__name__)

PROTOCOL = 17
JOIN_TIMEOUT_S = 10.0


class SignalError(Exception):
    """The server could not be reached or refused us; the message is safe to show."""

    def __init__(self, message: str, *, status: int | None = None,
                 reason: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def signal_url(url: str) -> str:
    """``https://host`` → ``wss://host/rtc``; ``http`` → ``ws``; keeps any path prefix."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise SignalError(f"not a LiveKit server address: {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/rtc"):
        path += "/rtc"
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, "", ""))


class SignalClient:
    def __init__(self, on_message: Callable[[rtc.SignalResponse], Awaitable[None]],
                 on_close: Callable[[str], Awaitable[None]]) -> None:
        self._on_message = on_message
        self._on_close = on_close
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._last_seen = 0.0
        self.join: rtc.JoinResponse | None = None
        self.rtt_ms: float | None = None
        self._malformed_logged = False

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed and not self._closing

    async def connect(self, url: str, token: str, *, auto_subscribe: bool = True,
                      timeout_s: float = JOIN_TIMEOUT_S) -> rtc.JoinResponse:
        query = {
            "access_token": token,
            "auto_subscribe": "1" if auto_subscribe else "0",
            "adaptive_stream": "0",
            "sdk": "python",
            "version": __version__,
            "protocol": str(PROTOCOL),
            "client_protocol": "0",
            "os": platform.system().lower(),
            "os_version": platform.release(),
        }
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        try:
            self._ws = await asyncio.wait_for(self._session.ws_connect(
                signal_url(url), params=query, headers={"Authorization": f"Bearer {token}"},
                heartbeat=None, max_msg_size=1 << 22), timeout_s)
            first = await asyncio.wait_for(self._next(), timeout_s)
        except aiohttp.WSServerHandshakeError as exc:
            await self._close_transport()
            detail = {401: "the access token was refused", 403: "access refused",
                      404: "no LiveKit server at this address"}.get(exc.status, "refused")
            raise SignalError(f"could not join: {detail} (HTTP {exc.status})",
                              status=exc.status) from None
        except TimeoutError:
            await self._close_transport()
            raise SignalError("the server did not answer in time") from None
        except (aiohttp.ClientError, OSError) as exc:
            await self._close_transport()
            raise SignalError(f"could not reach the server: {exc.__class__.__name__}") from None
        if first is None:
            await self._close_transport()
            raise SignalError("the server closed the connection before joining")
        kind = first.WhichOneof("message")
        if kind == "leave":
            await self._close_transport()
            raise SignalError("the server refused to join: " +
                              models.DisconnectReason.Name(first.leave.reason),
                              reason=first.leave.reason)
        if kind != "join":
            await self._close_transport()
            raise SignalError(f"the server sent {kind!r} before join")
        self.join = first.join
        self._last_seen = time.monotonic()
        self._tasks = [asyncio.ensure_future(self._read_loop()),
                       asyncio.ensure_future(self._ping_loop())]
        return first.join

    async def _next(self) -> rtc.SignalResponse | None:
        """The next well-formed message; None once the socket is closed."""
        assert self._ws is not None
        while True:
            msg = await self._ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return None
            if msg.type != aiohttp.WSMsgType.BINARY:
                continue
            self._last_seen = time.monotonic()
            response = rtc.SignalResponse()
            try:
                response.ParseFromString(msg.data)
            except DecodeError:
                if not self._malformed_logged:
                    log.warning("ignoring a malformed signalling message from the server")
                    self._malformed_logged = True
                continue
            return response

    async def _read_loop(self) -> None:
        reason = "signal connection closed"
        try:
            while True:
                response = await self._next()
                if response is None:
                    break
                kind = response.WhichOneof("message")
                if kind == "pong_resp":
                    self.rtt_ms = time.time() * 1000 - response.pong_resp.last_ping_timestamp
                    continue
                if kind in ("pong", None):
                    continue
                try:
                    await self._on_message(response)
                except Exception:
                    log.exception("handling %s from the server failed", kind)
        except (aiohttp.ClientError, ConnectionError) as exc:
            reason = f"signal connection lost ({exc.__class__.__name__})"
        except asyncio.CancelledError:
            return
        if not self._closing:
            await self._on_close(reason)

    async def _ping_loop(self) -> None:
        assert self.join is not None
        interval = max(1, self.join.ping_interval or 5)
        timeout = max(interval + 1, self.join.ping_timeout or 15)
        try:
            while not self._closing:
                await asyncio.sleep(interval)
                if time.monotonic() - self._last_seen > timeout:
                    log.warning("no message from the server for %d s", timeout)
                    await self._close_transport()
                    if not self._closing:
                        await self._on_close("signal connection timed out")
                    return
                now = int(time.time() * 1000)
                await self.send(rtc.SignalRequest(ping_req=rtc.Ping(
                    timestamp=now, rtt=int(self.rtt_ms or 0))))
        except asyncio.CancelledError:
            pass

    async def send(self, request: rtc.SignalRequest) -> None:
        if self._ws is None or self._ws.closed:
            return
        try:
            await self._ws.send_bytes(request.SerializeToString())
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            log.info("could not send %s: the signal connection is closed",
                     request.WhichOneof("message"))

    async def close(self, leave: bool = True) -> None:
        """Leave (if asked) and close; no ``on_close`` callback follows."""
        if self._closing:
            return
        self._closing = True
        if leave:
            await self.send(rtc.SignalRequest(leave=rtc.LeaveRequest(
                reason=models.DisconnectReason.CLIENT_INITIATED,
                action=rtc.LeaveRequest.Action.DISCONNECT)))
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        for task in self._tasks:
            if task is not asyncio.current_task():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._close_transport()

    async def _close_transport(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
