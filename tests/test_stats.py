"""Track statistics between two Rooms on the embedded server: what Alice sends, what Bob gets."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from tests.conftest import ServerThread
from visio_desktop.media.synthetic_tracks import PatternVideoTrack, ToneAudioTrack
from visio_desktop.net.room import Room
from visio_desktop.net.stats import FrameMeter, StatsSampler, TrackStats, collect_stats

pytestmark = pytest.mark.timeout(90)

WIDTH, HEIGHT = 320, 240


async def _consume(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()


def _row(rows: list[TrackStats], direction: str, kind: str) -> TrackStats:
    found = [r for r in rows if r.direction == direction and r.kind == kind]
    assert len(found) == 1, rows
    return found[0]


async def test_send_and_receive_rows(room_server: ServerThread) -> None:
    alice, bob = Room(), Room()
    video = PatternVideoTrack(WIDTH, HEIGHT, fps=15)
    tone = ToneAudioTrack()
    subscribed: dict[str, asyncio.Event] = {"audio": asyncio.Event(), "video": asyncio.Event()}
    consumers: list[asyncio.Task[None]] = []

    def on_track(track, pub, participant) -> None:  # type: ignore[no-untyped-def]
        consumers.append(asyncio.ensure_future(_consume(track)))
        subscribed[track.kind].set()

    bob.on("track_subscribed", on_track)
    sender_stats, receiver_stats = StatsSampler(), StatsSampler()
    try:
        await alice.connect(room_server.url, room_server.token("stats", "alice", "Alice"))
        await bob.connect(room_server.url, room_server.token("stats", "bob", "Bob"))
        await alice.publish_track(video, "camera")
        await alice.publish_track(tone, "microphone")
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in subscribed.values())), 15)
        # a first sample starts the byte counters and the frame meters; the receive bitrate
        # needs two of the server's sender reports (one every 0.5-1.5 s), hence three samples
        for _ in range(2):
            await sender_stats.collect(alice)
            await receiver_stats.collect(bob)
            await asyncio.sleep(1.5)
        sent = await sender_stats.collect(alice)
        received = await receiver_stats.collect(bob)

        send_video = _row(sent, "send", "video")
        assert send_video.codec == "VP8"
        assert send_video.source == "camera"
        assert send_video.participant_identity == "alice"
        assert send_video.participant_name == "Alice"
        assert send_video.bitrate_kbps is not None and send_video.bitrate_kbps > 0
        assert (send_video.width, send_video.height) == (WIDTH, HEIGHT)
        assert send_video.fps is not None and 10 < send_video.fps < 20
        assert send_video.packets > 0
        assert send_video.encoder == "libvpx (software)"
        send_audio = _row(sent, "send", "audio")
        assert send_audio.codec == "opus" and send_audio.source == "microphone"
        assert send_audio.width is None and send_audio.encoder == "libopus (software)"
        assert send_audio.bitrate_kbps is not None and send_audio.bitrate_kbps > 0
        assert not [r for r in sent if r.direction == "receive"]  # nobody else publishes

        recv_video = _row(received, "receive", "video")
        assert recv_video.participant_identity == "alice"
        assert recv_video.participant_name == "Alice"
        assert recv_video.codec == "VP8"
        assert (recv_video.width, recv_video.height) == (WIDTH, HEIGHT)
        assert recv_video.fps is not None and recv_video.fps > 5
        assert recv_video.packets > 0
        assert recv_video.packets_lost is not None and recv_video.loss_percent is not None
        assert recv_video.jitter_ms is not None and recv_video.rtt_ms is None
        assert recv_video.bitrate_kbps is not None and recv_video.bitrate_kbps > 0
        assert recv_video.encoder == ""
        recv_audio = _row(received, "receive", "audio")
        assert recv_audio.codec == "opus" and recv_audio.packets > 0

        # the module-level helper keeps a sampler per room
        first = await collect_stats(bob)
        assert _row(first, "receive", "video").packets >= recv_video.packets
    finally:
        for task in consumers:
            task.cancel()
        video.stop()
        tone.stop()
        await alice.disconnect()
        await bob.disconnect()


def test_frame_meter_rate() -> None:
    now = [0.0]
    meter = FrameMeter(clock=lambda: now[0])
    assert meter.fps() is None

    class Frame:
        width, height = 640, 360

    for _ in range(21):
        meter.note(Frame())
        now[0] += 0.1
    assert (meter.width, meter.height) == (640, 360)
    assert meter.fps() == pytest.approx(10.0, rel=0.01)
    now[0] += 5
    assert meter.fps() == 0.0
