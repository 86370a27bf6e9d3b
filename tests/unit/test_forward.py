"""Layer choice and switching of the forwarder, without a network."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiortc.rtp import RtpPacket
from livekit.protocol import models

from visio_desktop.server.forward import EncodedFrame, TrackForwarder, is_keyframe, vp8_size

LOW, MEDIUM, HIGH = models.VideoQuality.LOW, models.VideoQuality.MEDIUM, models.VideoQuality.HIGH


class FakeReceiver:
    def __init__(self) -> None:
        self._RTCRtpReceiver__codecs: dict[int, Any] = {}
        self._RTCRtpReceiver__rtcp_ssrc = 1
        self._RTCRtpReceiver__remote_streams: dict[int, Any] = {}
        self.plis: list[int] = []

    async def _send_rtcp_pli(self, ssrc: int) -> None:
        self.plis.append(ssrc)


def _forwarder() -> tuple[TrackForwarder, FakeReceiver]:
    receiver = FakeReceiver()
    forwarder = TrackForwarder(
        receiver,  # type: ignore[arg-type]
        track_sid="TR_x", kind="video", mime_type="video/VP8",
        layers=[("q", LOW, 320, 180), ("h", MEDIUM, 640, 360), ("f", HIGH, 1280, 720)])
    for ssrc, rid in enumerate(("q", "h", "f"), start=100):
        layer = forwarder._layer(rid, 90000)
        forwarder._register_ssrc(layer, ssrc)
        layer.frames, layer.last_frame_at = 1, time.monotonic()
    return forwarder, receiver


def _frame(rid: str, ts: int, key: bool) -> EncodedFrame:
    return EncodedFrame(b"\x00" if key else b"\x01", ts, key, rid)


def _drain(queue: asyncio.Queue[EncodedFrame | None]) -> list[EncodedFrame]:
    out = []
    while not queue.empty():
        frame = queue.get_nowait()
        assert frame is not None
        out.append(frame)
    return out


async def test_highest_layer_by_default_then_requested_size_with_keyframe_switch() -> None:
    forwarder, receiver = _forwarder()
    down = forwarder.add_down_track("bob")
    down.started = True
    assert down.target == "f"
    forwarder._dispatch(_frame("f", 1000, key=False))  # no keyframe yet: nothing
    forwarder._dispatch(_frame("q", 1000, key=True))  # another layer: nothing
    assert _drain(down.queue) == []
    forwarder._dispatch(_frame("f", 4000, key=True))
    forwarder._dispatch(_frame("f", 7000, key=False))
    assert [(f.layer, f.timestamp) for f in _drain(down.queue)] == [("f", 4000), ("f", 7000)]

    # a small tile asks for 320x180: the low layer is chosen, at its next keyframe
    await asyncio.sleep(0.3)  # past the PLI rate limit
    forwarder.set_preferences(down, width=320, height=180)
    assert down.target == "q"
    await asyncio.sleep(0)
    assert 100 in receiver.plis  # a keyframe was asked of the low layer
    forwarder._dispatch(_frame("q", 50_000, key=False))  # not a keyframe: stay on f
    forwarder._dispatch(_frame("f", 10_000, key=False))
    forwarder._dispatch(_frame("q", 53_000, key=True))
    forwarder._dispatch(_frame("f", 13_000, key=False))  # after the switch: dropped
    frames = _drain(down.queue)
    assert [(f.layer, f.keyframe) for f in frames] == [("f", False), ("q", True)]
    # outgoing timestamps keep moving forward across the switch
    assert frames[-1].timestamp > frames[-2].timestamp

    # quality requests are honoured too, and a hidden tile receives nothing
    forwarder.set_preferences(down, quality=MEDIUM)
    assert down.target == "h"
    forwarder.set_preferences(down, disabled=True)
    forwarder._dispatch(_frame("h", 1, key=True))
    assert _drain(down.queue) == []
    forwarder.close()


def test_keyframe_and_size_detection() -> None:
    key = bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01])
    assert is_keyframe("VP8", key) and vp8_size(key) == (640, 360)
    assert not is_keyframe("VP8", b"\x11\x00\x00")
    assert is_keyframe("H264", b"\x00\x00\x00\x01\x67\x42") and \
        not is_keyframe("H264", b"\x00\x00\x00\x01\x41\x9a")


async def test_recent_loss_measures_each_interval() -> None:
    forwarder, _ = _forwarder()
    stats = forwarder.layers["h"].stats
    assert stats is not None
    for seq in range(1000, 1100):
        if seq % 10 != 3:  # one packet in ten lost
            stats.add(RtpPacket(sequence_number=seq, timestamp=seq * 3000))
    assert abs(forwarder.recent_loss() - 0.1) < 0.02
    for seq in range(1100, 1200):  # then a clean interval
        stats.add(RtpPacket(sequence_number=seq, timestamp=seq * 3000))
    assert forwarder.recent_loss() == 0.0
    forwarder.close()
