"""Synthetic aiortc tracks (pacing, stop) and the sinks that check them, also over an in-process
aiortc loopback (two peer connections in one loop, offer/answer exchanged directly)."""

from __future__ import annotations

import asyncio
import json
import math
import time

import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from visio_desktop.media.sinks import AudioSink, VideoSink
from visio_desktop.media.synthetic import analyse_tone, read_pattern
from visio_desktop.media.synthetic_tracks import PatternVideoTrack, ToneAudioTrack


class SilentTrack(MediaStreamTrack):
    """A track whose recv() never returns, until stopped."""

    kind = "video"

    async def recv(self) -> None:  # type: ignore[override]
        await asyncio.Event().wait()


# ---------------------------------------------------------------------------------------------
# tracks


async def test_video_frames_and_pacing() -> None:
    track = PatternVideoTrack(320, 180, fps=30, source="screen_share")
    assert track.kind == "video" and track.source == "screen_share"
    frames = []
    t_start = time.monotonic()
    for _ in range(31):
        frames.append(await track.recv())
        await asyncio.sleep(0.005)  # a slow consumer must not make the track drift
    elapsed = time.monotonic() - t_start
    track.stop()
    assert 0.97 < elapsed < 1.1, elapsed  # 30 frame periods after the first
    assert [f.pts for f in frames] == [3000 * i for i in range(31)]
    first = frames[0]
    assert first.format.name == "yuv420p" and (first.width, first.height) == (320, 180)
    assert first.time_base.numerator == 1 and first.time_base.denominator == 90000
    counters = [read_pattern(f.to_ndarray(format="rgb24")) for f in frames[::10]]
    assert [r.counter for r in counters if r is not None] == [0, 10, 20, 30]
    assert track.frames_skipped == 0


async def test_video_late_consumer_skips_ahead_without_burst() -> None:
    track = PatternVideoTrack(160, 90, fps=20)
    f0 = await track.recv()
    await asyncio.sleep(0.23)  # 4.6 periods late
    t = time.monotonic()
    f1 = await track.recv()
    assert time.monotonic() - t < 0.02  # the late frame comes at once...
    f2 = await track.recv()
    waited = time.monotonic() - t
    track.stop()
    assert f0.pts == 0
    assert f1.pts == 4 * 4500  # ...as the slot due now, not slot 1
    assert f2.pts == 5 * 4500 and waited > 0.01  # the next one waits for its slot
    assert track.frames_skipped == 3
    readings = [read_pattern(f.to_ndarray(format="rgb24")) for f in (f0, f1, f2)]
    assert [r.counter for r in readings if r is not None] == [0, 1, 2]


async def test_audio_frames_continuous_and_without_drift() -> None:
    track = ToneAudioTrack(440, sample_rate=48000, channels=1, amplitude=0.3)
    frames = []
    t_start = time.monotonic()
    for _ in range(51):
        frames.append(await track.recv())
        await asyncio.sleep(0.004)  # consumer overhead, absorbed by the schedule
    elapsed = time.monotonic() - t_start
    track.stop()
    assert 0.97 < elapsed < 1.08, elapsed  # 50 x 20 ms
    assert [f.pts for f in frames] == [960 * i for i in range(51)]
    f = frames[0]
    assert (f.format.name, f.layout.name, f.sample_rate, f.samples) == ("s16", "mono", 48000, 960)
    samples = np.concatenate([fr.to_ndarray().reshape(-1) for fr in frames])
    n = np.arange(samples.size)
    ideal = np.round(0.3 * 32767 * np.sin(2 * np.pi * 440 * n / 48000))
    assert np.max(np.abs(samples - ideal)) <= 1  # continuous phase across frames
    assert abs(analyse_tone(samples, 48000).frequency_hz - 440) < 0.5


async def test_stop_ends_recv() -> None:
    video = PatternVideoTrack(64, 36, fps=10)
    audio = ToneAudioTrack(channels=2)
    await video.recv()
    await audio.recv()
    pending = asyncio.ensure_future(video.recv())  # sleeping until its due time
    await asyncio.sleep(0.01)
    video.stop()
    audio.stop()
    with pytest.raises(MediaStreamError):
        await pending
    for track in (video, audio):
        assert track.readyState == "ended"
        with pytest.raises(MediaStreamError):
            await track.recv()
    video.stop()  # idempotent


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        PatternVideoTrack(641, 360)
    with pytest.raises(ValueError):
        ToneAudioTrack(channels=3)
    with pytest.raises(ValueError):
        VideoSink(SilentTrack(), check_every=0)


# ---------------------------------------------------------------------------------------------
# sinks, fed directly


async def test_video_sink_reads_pattern() -> None:
    track = PatternVideoTrack(640, 360, fps=30, paced=False)
    sink = VideoSink(track, check_every=2, psnr_every=5)
    task = sink.start()
    assert await sink.wait_frames(40, timeout_s=5)
    track.stop()
    await asyncio.wait_for(task, 2)
    report = sink.report()
    json.dumps(report, allow_nan=False)
    assert report["frames"] >= 40 and report["ended"]
    assert (report["width"], report["height"]) == (640, 360)
    assert report["resolutions"] == {"640x360": report["frames"]}
    assert report["pattern_checked"] == math.ceil(report["frames"] / 2)
    assert report["decoded_ratio"] == 1.0
    assert report["counter_regressions"] == report["counter_gaps"] == 0
    assert report["counter_repeats"] == 0
    assert report["last_counter"] == 2 * (report["pattern_checked"] - 1)
    assert 0 <= report["latency_ms"]["median"] < 100
    assert report["psnr_db"]["min"] > 35


async def test_video_sink_counts_gaps_and_regressions() -> None:
    class Replay(MediaStreamTrack):
        kind = "video"

        def __init__(self, counters: list[int]) -> None:
            super().__init__()
            self.source = PatternVideoTrack(160, 90, paced=False)
            self.counters = iter(counters)

        async def recv(self):  # type: ignore[no-untyped-def]
            counter = next(self.counters, None)
            if counter is None:
                raise MediaStreamError
            return self.source._render(counter)

    sink = VideoSink(Replay([5, 6, 9, 10, 10, 4, 5]))
    await asyncio.wait_for(sink.run(), 2)
    report = sink.report()
    assert report["frames"] == 7 and report["decoded_ratio"] == 1.0
    assert report["counter_gaps"] == 1 and report["frames_missing"] == 2
    assert report["counter_repeats"] == 1
    assert report["counter_regressions"] == 1


async def test_audio_sink_downmix_and_resample() -> None:
    for rate, channels in ((48000, 2), (16000, 1)):
        track = ToneAudioTrack(1000, sample_rate=rate, channels=channels, paced=False)
        sink = AudioSink(track, keep_s=2.0)
        sink.start()
        assert await sink.wait_frames(300, timeout_s=5)  # 6 s, more than kept
        sink.stop()
        track.stop()
        await asyncio.sleep(0)
        report = sink.report()
        json.dumps(report, allow_nan=False)
        assert report["seconds"] >= 5.9
        assert report["sample_rate"] == 48000
        assert abs(report["tone"]["frequency_hz"] - 1000) < 1
        assert abs(report["tone"]["rms_dbfs"] - (-13.47)) < 0.2  # 0.3 / sqrt(2) of full scale
        assert sink.samples().size == 96000


async def test_sink_stop_while_waiting() -> None:
    sink = VideoSink(SilentTrack())
    task = sink.start()
    await asyncio.sleep(0.05)
    sink.stop()
    await asyncio.wait_for(task, 1)
    assert not task.cancelled() and sink.ended
    report = sink.report()
    assert report["frames"] == 0 and report["first_frame_ms"] is None
    assert report["latency_ms"] == {"median": None, "p95": None, "max": None}
    json.dumps(report, allow_nan=False)
    audio = AudioSink(SilentTrack())
    audio.stop()  # before it starts: run() returns at once
    await asyncio.wait_for(audio.run(), 1)
    assert audio.report()["tone"] == {"frequency_hz": None, "rms_dbfs": None}


# ---------------------------------------------------------------------------------------------
# loopback


async def test_loopback_pattern_and_tone() -> None:
    config = RTCConfiguration(iceServers=[])  # host candidates only: no STUN lookups
    sender, receiver = RTCPeerConnection(config), RTCPeerConnection(config)
    video = PatternVideoTrack(640, 360, fps=15)
    audio = ToneAudioTrack(440)
    sender.addTrack(video)
    sender.addTrack(audio)
    t0 = time.monotonic()
    sinks: dict[str, VideoSink | AudioSink] = {}

    @receiver.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        sink = VideoSink(track, t0=t0) if track.kind == "video" else AudioSink(track, t0=t0)
        sinks[track.kind] = sink
        sink.start()

    try:
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        assert set(sinks) == {"video", "audio"}
        assert await sinks["video"].wait_frames(1, timeout_s=5)
        await asyncio.sleep(3.0)
    finally:
        await sender.close()
        await receiver.close()
    await asyncio.sleep(0.05)
    v = sinks["video"].report()
    a = sinks["audio"].report()
    json.dumps({"video": v, "audio": a}, allow_nan=False)
    assert v["ended"] and a["ended"]
    assert v["frames"] >= 30, v
    assert (v["width"], v["height"]) == (640, 360)
    assert v["decoded_ratio"] >= 0.9, v
    assert v["counter_regressions"] == 0, v
    assert 0 <= v["latency_ms"]["median"] < 1000, v
    assert v["latency_ms"]["p95"] < 1000, v
    assert v["psnr_db"]["median"] > 25, v
    assert a["seconds"] >= 2.5, a
    assert abs(a["tone"]["frequency_hz"] - 440) < 5, a
    assert a["tone"]["rms_dbfs"] > -20, a
