"""Our client facing bad servers: refusals, silence and garbage are clear errors or ignored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from livekit.protocol import models, rtc

from tests.conftest import ServerThread
from visio_desktop.net.room import ConnectError, Room
from visio_desktop.net.signal import SignalError, signal_url

pytestmark = pytest.mark.timeout(60)

Behaviour = Callable[[web.WebSocketResponse], Awaitable[None]]


@pytest.fixture
async def fake_server() -> AsyncIterator[Callable[[Behaviour], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(behaviour: Behaviour) -> str:
        async def rtc_route(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await behaviour(ws)
            return ws

        app = web.Application()
        app.router.add_get("/rtc", rtc_route)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"ws://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def test_signal_urls() -> None:
    assert signal_url("https://visio.example.fr") == "wss://visio.example.fr/rtc"
    assert signal_url("http://127.0.0.1:7880/") == "ws://127.0.0.1:7880/rtc"
    assert signal_url("wss://lk.example.fr/prefix") == "wss://lk.example.fr/prefix/rtc"
    with pytest.raises(SignalError):
        signal_url("visio.example.fr")


async def test_bad_token_is_a_clear_error(room_server: ServerThread) -> None:
    room = Room()
    with pytest.raises(ConnectError, match="token was refused"):
        await room.connect(room_server.url, "not-a-token")
    assert room.connection_state == "disconnected"


async def test_unreachable_server_is_a_clear_error() -> None:
    room = Room()
    with pytest.raises(ConnectError, match="could not reach"):
        await room.connect("ws://127.0.0.1:9", "t", timeout_s=5)


async def test_a_server_that_never_answers_times_out(fake_server) -> None:  # type: ignore[no-untyped-def]
    async def silent(ws: web.WebSocketResponse) -> None:
        async for _ in ws:  # reads, never answers
            pass

    url = await fake_server(silent)
    start = time.monotonic()
    with pytest.raises(ConnectError, match="did not answer"):
        await Room().connect(url, "t", timeout_s=1.5)
    assert time.monotonic() - start < 5


async def test_a_refusing_leave_is_reported(fake_server) -> None:  # type: ignore[no-untyped-def]
    async def refuse(ws: web.WebSocketResponse) -> None:
        await ws.send_bytes(rtc.SignalResponse(leave=rtc.LeaveRequest(
            reason=models.DisconnectReason.JOIN_FAILURE)).SerializeToString())
        await ws.close()

    with pytest.raises(ConnectError, match="JOIN_FAILURE"):
        await Room().connect(await fake_server(refuse), "t", timeout_s=3)


async def test_garbage_and_unknown_messages_are_ignored(
        room_server: ServerThread, fake_server) -> None:  # type: ignore[no-untyped-def]
    """Garbage before and after a real join response: the client joins and stays joined."""
    real = room_server.url

    async def relay_with_garbage(ws: web.WebSocketResponse) -> None:
        import aiohttp

        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"{real}/rtc", params={"access_token": room_server.token("g", "ours")}) as up:
            await ws.send_bytes(b"\xff\xfe garbage")

            async def down() -> None:
                async for msg in up:
                    await ws.send_bytes(msg.data)
                    await ws.send_bytes(b"\x01\x02\x03")  # garbage after every message
                    # a message kind this client does not know (a future server's)
                    await ws.send_bytes(rtc.SignalResponse(
                        room_moved=rtc.RoomMovedResponse()).SerializeToString())

            async def upward() -> None:
                async for msg in ws:
                    await up.send_bytes(msg.data)

            await asyncio.gather(down(), upward())

    url = await fake_server(relay_with_garbage)
    room = Room()
    await room.connect(url, "ignored-by-the-relay", timeout_s=5)
    try:
        assert room.connection_state == "connected"
        assert room.name == "g"
        await room.publish_data(b"still working", topic="t")
    finally:
        await room.disconnect()
