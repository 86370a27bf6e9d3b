"""A bare signalling client for protocol tests: raw WebSocket frames, protobufs we build, and
(optionally) an aiortc publisher connection whose data channels can carry any bytes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from livekit.protocol import rtc


class RawSignal:
    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.publisher: RTCPeerConnection | None = None
        self.channels: dict[str, Any] = {}

    @classmethod
    async def connect(cls, url: str, token: str, **params: str) -> RawSignal:
        session = aiohttp.ClientSession()
        query = {"access_token": token, "protocol": "17", "sdk": "python", **params}
        try:
            ws = await session.ws_connect(f"{url}/rtc", params=query)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def recv(self, timeout_s: float = 5.0) -> rtc.SignalResponse | None:
        """The next signal message; None once the server has closed the socket."""
        msg = await asyncio.wait_for(self.ws.receive(), timeout_s)
        if msg.type != aiohttp.WSMsgType.BINARY:
            return None
        response = rtc.SignalResponse()
        response.ParseFromString(msg.data)
        return response

    async def recv_until(self, kind: str, timeout_s: float = 5.0) -> rtc.SignalResponse:
        """Skip messages until one of ``kind``; the skipped ones are kept in ``seen``."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            left = deadline - asyncio.get_running_loop().time()
            response = await self.recv(max(left, 0.01))
            if response is None:
                raise ConnectionError(f"closed while waiting for {kind}")
            if response.WhichOneof("message") == kind:
                return response

    async def drain_until_closed(self, timeout_s: float = 5.0) -> list[rtc.SignalResponse]:
        """Everything the server sends until it closes the socket."""
        seen: list[rtc.SignalResponse] = []
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                response = await self.recv(timeout_s)
                if response is None:
                    return seen
                seen.append(response)
        raise AssertionError(f"server did not close the socket; got {seen}")

    async def send(self, request: rtc.SignalRequest) -> None:
        await self.ws.send_bytes(request.SerializeToString())

    async def open_data_channels(self) -> None:
        """Answer the subscriber offer, then negotiate a publisher PC with _reliable/_lossy."""
        offer = await self.recv_until("offer")
        subscriber = RTCPeerConnection()
        await subscriber.setRemoteDescription(RTCSessionDescription(offer.offer.sdp, "offer"))
        await subscriber.setLocalDescription(await subscriber.createAnswer())
        await self.send(rtc.SignalRequest(answer=rtc.SessionDescription(
            type="answer", sdp=subscriber.localDescription.sdp, id=offer.offer.id)))
        self._subscriber = subscriber
        pc = RTCPeerConnection()
        self.publisher = pc
        reliable = pc.createDataChannel("_reliable", ordered=True)
        lossy = pc.createDataChannel("_lossy", ordered=False, maxRetransmits=0)
        await pc.setLocalDescription(await pc.createOffer())
        await self.send(rtc.SignalRequest(offer=rtc.SessionDescription(
            type="offer", sdp=pc.localDescription.sdp, id=1)))
        answer = await self.recv_until("answer")
        assert answer.answer.id == 1
        await pc.setRemoteDescription(RTCSessionDescription(answer.answer.sdp, "answer"))
        opened = asyncio.Event()
        reliable.on("open", opened.set)
        if reliable.readyState != "open":
            await asyncio.wait_for(opened.wait(), 10)
        self.channels = {"_reliable": reliable, "_lossy": lossy}

    async def close(self) -> None:
        for pc in (self.publisher, getattr(self, "_subscriber", None)):
            if pc is not None:
                await pc.close()
        await self.ws.close()
        await self.session.close()
