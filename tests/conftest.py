"""Shared fixtures: an embedded room server running on its own thread and event loop."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import pytest

from visio_desktop.net.token import VideoGrants, create_token
from visio_desktop.server import RoomServer

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
T = TypeVar("T")

# How far a received test tone may read from the tone sent. On this 2-core machine, with the
# suite's load, a receiver's jitter buffer stretches audio by whole pitch periods and the
# concealment of late packets joins pieces out of phase: the FFT peak of such a tone moves by
# up to ~4 % (seen 421 Hz for 440, 542 Hz for 523). Tones in one test differ by more than 12 %.
TONE_TOLERANCE = 0.06

API_KEY = "testkey"
API_SECRET = "test-secret-that-is-long-enough-for-hs256"


class ServerThread:
    """A RoomServer on 127.0.0.1 (ephemeral port) with its own loop, so test clients' loops
    (the official SDK's, Playwright's) never share a loop with the server under test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="room-server",
                                       daemon=True)
        self.keys = {API_KEY: API_SECRET}
        self.server = RoomServer(host="127.0.0.1", port=0, keys=self.keys)

    def start(self) -> None:
        self.thread.start()
        self.call(self.server.start)

    def stop(self) -> None:
        try:
            self.call(self.server.stop, timeout=20)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Run an async function on the server's loop and wait for its result."""
        fut: Future[T] = asyncio.run_coroutine_threadsafe(_wrap(fn), self.loop)
        return fut.result(timeout)

    async def acall(self, fn: Callable[[], Awaitable[T]], timeout_s: float = 30) -> T:
        """The same, awaited from another event loop (a test's)."""
        fut = asyncio.run_coroutine_threadsafe(_wrap(fn), self.loop)
        return await asyncio.wait_for(asyncio.wrap_future(fut), timeout_s)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def http_url(self) -> str:
        return self.server.url.replace("ws://", "http://", 1)

    def token(self, room: str, identity: str, name: str = "", **grants: Any) -> str:
        video = VideoGrants(room=room)
        for key, value in grants.items():
            setattr(video, key, value)
        return create_token(API_KEY, API_SECRET, identity=identity, name=name or identity,
                            grants=video)


async def _wrap(fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()


@pytest.fixture
def room_server() -> Iterator[ServerThread]:
    st = ServerThread()
    st.start()
    try:
        yield st
    finally:
        st.stop()


@pytest.fixture
def visio_contract(room_server: ServerThread) -> Iterator[Any]:
    """A Visio (La Suite Meet) REST API contract server whose LiveKit is ``room_server``
    (tests/support/visio_contract.py documents its API)."""
    from tests.support.visio_contract import VisioContract

    contract = VisioContract(room_server.http_url, API_KEY, API_SECRET)
    contract.start()
    try:
        yield contract
    finally:
        contract.stop()
