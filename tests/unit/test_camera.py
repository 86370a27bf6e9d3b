"""The camera track, fed by a video file (the same OpenCV path as a device) and by failures."""

from __future__ import annotations

import asyncio
import fractions
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from visio_desktop.media.camera import CameraTrack, list_cameras
from visio_desktop.media.synthetic import TestPattern, read_pattern


def _pattern_video(path: Path, frames: int, width: int = 640, height: int = 360) -> None:
    pattern = TestPattern(width, height)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        stream.time_base = fractions.Fraction(1, 30)
        stream.options = {"q:v": "2"}
        for counter in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern.render(counter, 1000 + counter),
                                               format="rgb24")
            frame.pts = counter
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


async def test_frames_arrive_in_order_then_the_end_is_a_clear_state(tmp_path: Path) -> None:
    video = tmp_path / "camera.avi"
    _pattern_video(video, frames=45)
    statuses: list[str] = []
    track = CameraTrack(str(video), "360p", on_status=statuses.append)
    counters = []
    with pytest.raises(MediaStreamError):
        for _ in range(200):
            frame = await asyncio.wait_for(track.recv(), 5)
            assert (frame.width, frame.height) == (640, 360)
            reading = read_pattern(frame.to_ndarray(format="rgb24"))
            assert reading is not None
            counters.append(reading.counter)
    assert counters == sorted(counters) and counters[-1] >= 40, counters
    assert len(counters) >= 30  # paced at 30 fps, latest frame only: few repeats or skips
    assert statuses[0] == "live"
    assert (statuses[-1].startswith("camera") and "unplugged" in statuses[-1]) or \
        statuses[-1] == "camera delivers no pictures", statuses
    preview = track.preview()
    assert preview is not None and preview.shape == (360, 640, 3)
    # the preview is mirrored, the sent picture is not
    last = frame.to_ndarray(format="rgb24").astype(int)
    assert np.abs(preview[:, ::-1].astype(int) - last).mean() < 12


async def test_a_missing_or_busy_camera_is_a_status_not_a_crash() -> None:
    statuses: list[str] = []
    track = CameraTrack("/dev/video-that-does-not-exist", "180p", on_status=statuses.append)
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), 10)
    assert statuses and statuses[0].startswith("camera unavailable"), statuses
    assert track.readyState == "ended"


def test_unknown_preset_and_listing() -> None:
    with pytest.raises(ValueError, match="preset"):
        CameraTrack(0, "8k")
    assert isinstance(list_cameras(), list)


async def test_switching_camera_keeps_the_track(tmp_path: Path) -> None:
    first, second = tmp_path / "first.avi", tmp_path / "second.avi"
    _pattern_video(first, frames=120)
    pattern = TestPattern(640, 360)
    with av.open(str(second), "w") as container:  # counters from 5000 on
        stream = container.add_stream("mjpeg", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuvj420p"
        stream.options = {"q:v": "2"}
        for i in range(120):
            frame = av.VideoFrame.from_ndarray(pattern.render(5000 + i, 0), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    track = CameraTrack(str(first), "360p")
    try:
        seen = []
        for _ in range(10):
            reading = read_pattern((await track.recv()).to_ndarray(format="rgb24"))
            assert reading is not None
            seen.append(reading.counter)
        assert max(seen) < 5000
        track.set_device(str(second))
        for _ in range(30):
            reading = read_pattern((await track.recv()).to_ndarray(format="rgb24"))
            assert reading is not None
            seen.append(reading.counter)
        assert seen[-1] >= 5000 and track.readyState == "live" and track.status == "live"
    finally:
        track.stop()


def test_camera_hot_plug_is_noticed_and_the_lost_camera_replaced() -> None:
    import threading
    import time

    from visio_desktop.media.camera import CameraInfo, CameraMonitor

    built_in = CameraInfo("/dev/video0", "Integrated Camera", 0)
    usb = CameraInfo("/dev/video2", "USB Webcam", 2)
    present = [built_in]
    changes: list[tuple[list[str], list[str]]] = []
    lost: list[tuple[str, str | None]] = []
    noticed = threading.Event()

    def on_change(added: list[CameraInfo], removed: list[CameraInfo]) -> None:
        changes.append(([c.name for c in added], [c.name for c in removed]))
        noticed.set()

    monitor = CameraMonitor(lister=lambda: list(present), interval_s=0.05, on_change=on_change,
                            on_lost=lambda cam, fb: lost.append((cam.name,
                                                                 fb.name if fb else None)))
    monitor.start()
    try:
        time.sleep(0.2)
        assert changes == []  # the first scan is the starting point, not a change
        present.append(usb)
        assert noticed.wait(2)  # within the 2 s the issue asks, here 0.05 s polling
        monitor.use(usb)
        noticed.clear()
        present.remove(usb)  # unplugged while in use
        assert noticed.wait(2)
        deadline = time.monotonic() + 2
        while not lost and time.monotonic() < deadline:
            time.sleep(0.02)
        assert changes == [(["USB Webcam"], []), ([], ["USB Webcam"])]
        assert lost == [("USB Webcam", "Integrated Camera")]
        assert monitor.active == built_in
    finally:
        monitor.stop()
