"""The Qt Multimedia capture backend (used where mss cannot capture: Wayland).

Wayland's portal cannot run here, so the track is checked on Xvfb with Qt's X11 grabber
(``XDG_SESSION_TYPE=x11``, ``QT_QPA_PLATFORM=xcb``). The test process's Qt (pytest-qt) runs on
the offscreen platform, so the capture runs in a child process (this module with ``--child``)
that hosts a ``QGuiApplication`` on its main thread and, like the app, makes and reads the
track from an asyncio loop on another thread; the child prints its results as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from visio_desktop.media import qt_capture
from visio_desktop.media.qt_capture import (
    PortalTarget,
    QtScreenCaptureTrack,
    create_screen_track,
    portal_target,
    wayland_session,
)

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT, FPS = 1280, 720, 10.0
FRAMES = 21  # 2 s at 10 fps

pytestmark = pytest.mark.timeout(90)


# --- factory choice (no capture started) ------------------------------------------------------


class _FakeTrack:
    def __init__(self, target: Any = None, fps: float = 10.0, max_height: int = 1080) -> None:
        self.target, self.fps = target, fps


def test_factory_picks_qt_on_wayland_and_mss_on_x11(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qt_capture, "QtScreenCaptureTrack", type("FakeQt", (_FakeTrack,), {}))
    monkeypatch.setattr(qt_capture, "ScreenCaptureTrack", type("FakeMss", (_FakeTrack,), {}))
    monkeypatch.setattr(qt_capture, "check_supported", lambda display=None: None)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    assert not wayland_session()
    assert type(create_screen_track(None, fps=5)).__name__ == "FakeMss"
    assert type(create_screen_track(portal_target())).__name__ == "FakeQt"

    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert wayland_session()
    track = create_screen_track(portal_target(), fps=15)
    assert type(track).__name__ == "FakeQt" and track.fps == 15
    monkeypatch.setenv("XDG_SESSION_TYPE", "tty")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert wayland_session() and type(create_screen_track()).__name__ == "FakeQt"

    def unsupported(display: str | None = None) -> None:  # e.g. no DISPLAY at all
        raise qt_capture.ScreenCaptureUnsupported("no X")

    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.setattr(qt_capture, "check_supported", unsupported)
    assert type(create_screen_track()).__name__ == "FakeQt"


def test_wayland_track_uses_the_portal_without_starting_in_the_constructor(
        monkeypatch: pytest.MonkeyPatch, qapp: Any) -> None:
    """The real class on a faked Wayland session: nothing runs until the Qt loop does."""
    queued: list[Any] = []
    monkeypatch.setattr(qt_capture, "_run_on_app_thread", lambda app, fn: queued.append(fn))
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    track = create_screen_track(fps=12)
    assert isinstance(track, QtScreenCaptureTrack)
    assert (track.kind, track.source, track.fps, track.portal) == ("video", "screen_share",
                                                                  12.0, True)
    assert isinstance(track.screen, PortalTarget)
    assert track.screen.name == "Choose in the system dialog"
    assert track.width > 0 and track.height > 0 and track.height <= 1080
    assert len(queued) == 1  # the start, queued to the Qt thread, not run
    track.stop()
    assert len(queued) == 2 and track.readyState == "ended"


@pytest.mark.parametrize("portal", [False, True])
async def test_no_picture_ends_the_track_with_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, qapp: Any, portal: bool) -> None:
    monkeypatch.setattr(qt_capture, "_run_on_app_thread", lambda app, fn: None)  # never starts
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland" if portal else "x11")
    track = QtScreenCaptureTrack(fps=10, first_frame_timeout_s=0.2)
    with pytest.raises(qt_capture.ScreenUnavailable) as caught:
        await asyncio.wait_for(track.recv(), 5)
    expected = qt_capture.CANCELLED_MESSAGE if portal else "no picture within 0.2 s"
    assert expected in str(caught.value) and track.error is caught.value
    assert track.readyState == "ended"
    with pytest.raises(qt_capture.ScreenUnavailable):  # and stays ended
        await track.recv()


def test_portal_errors_read_as_cancelled(monkeypatch: pytest.MonkeyPatch, qapp: Any) -> None:
    monkeypatch.setattr(qt_capture, "_run_on_app_thread", lambda app, fn: None)
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    track = QtScreenCaptureTrack()
    track._on_qt_error("Failed to get screencast request response: cancelled")
    assert track.error is not None and qt_capture.CANCELLED_MESSAGE in str(track.error)
    assert track.readyState == "ended"


# --- real capture on Xvfb (child process) -----------------------------------------------------


def _child(out: Path) -> None:
    """Hosts Qt on the main thread; the track is made and read from an asyncio thread."""
    from aiortc.mediastreams import MediaStreamError
    from PySide6.QtCore import QMetaObject, Qt
    from PySide6.QtGui import QGuiApplication

    from visio_desktop.media.screen import ScreenUnavailable, WindowInfo

    app = QGuiApplication([sys.argv[0]])
    result: dict[str, Any] = {"platform": app.platformName()}

    async def work() -> None:
        track = QtScreenCaptureTrack(fps=FPS)
        result["initial_size"] = [track.width, track.height]
        frames = [await track.recv()]
        began, first_serial = time.monotonic(), track._capture.latest()[0]
        frames += [await track.recv() for _ in range(FRAMES - 1)]
        result["seconds"] = time.monotonic() - began
        result["pts"] = [f.pts for f in frames]
        result["time_base"] = str(frames[0].time_base)
        last = frames[-1]
        result["frame"] = [last.width, last.height, last.format.name]
        result["size"] = [track.width, track.height]
        result["frames_sent"] = track.frames_sent
        result["qt_frames"] = track._capture.latest()[0] - first_serial
        np.save(out, last.to_ndarray(format="bgr24"))
        pending = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0.01)
        track.stop()
        try:
            await asyncio.wait_for(pending, 2)
        except MediaStreamError as exc:
            result["after_stop"] = [type(exc).__name__, str(exc)]
        result["error_after_stop"] = track.error and str(track.error)

        bad = QtScreenCaptureTrack(WindowInfo(id=0x7FFFFF0, name="gone", x=0, y=0,
                                              width=64, height=64),
                                   fps=FPS, first_frame_timeout_s=2.0)
        try:
            await asyncio.wait_for(bad.recv(), 10)
            result["bad_window"] = ["no error"]
        except ScreenUnavailable as exc:
            result["bad_window"] = [type(exc).__name__, str(exc), str(bad.error),
                                    bad.readyState]
        bad.stop()

    def thread_main() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:  # report, never hang the Qt loop
            result["exception"] = f"{type(exc).__name__}: {exc}"
        finally:
            QMetaObject.invokeMethod(app, "quit", Qt.ConnectionType.QueuedConnection)

    worker = threading.Thread(target=thread_main, name="engine-loop")
    worker.start()
    app.exec()
    worker.join()
    print("RESULT " + json.dumps(result), flush=True)


def test_qt_track_captures_xvfb_at_the_asked_rate(tmp_path: Path) -> None:
    from tests.test_screen_share import VirtualScreen, psnr, text_picture

    screen = VirtualScreen(WIDTH, HEIGHT)
    try:
        picture = text_picture(WIDTH, HEIGHT)
        screen.show(picture)
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env.update(DISPLAY=screen.display, QT_QPA_PLATFORM="xcb", XDG_SESSION_TYPE="x11")
        out = tmp_path / "frame.npy"
        proc = subprocess.run([sys.executable, "-m", "tests.test_qt_capture", "--child",
                               str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
        result = json.loads(lines[-1][len("RESULT "):])
        assert "exception" not in result, (result, proc.stderr)
        assert result["platform"] == "xcb"
        assert result["initial_size"] == [WIDTH, HEIGHT] == result["size"]
        assert result["frame"] == [WIDTH, HEIGHT, "yuv420p"]
        assert result["time_base"] == "1/90000"
        assert result["pts"] == [round(i * 90000 / FPS) for i in range(FRAMES)]
        # 20 frame periods after the first: about 2 s at 10 fps
        assert 1.8 < result["seconds"] < 2.6, result["seconds"]
        assert result["frames_sent"] == FRAMES
        assert 12 <= result["qt_frames"] <= 30, result  # Qt delivers ~fps frames, not more
        assert psnr(np.load(out), picture) > 30
        assert result["after_stop"] == ["MediaStreamError", "screen share stopped"]
        assert result["error_after_stop"] is None
        name, message, error, state = result["bad_window"]
        assert name == "ScreenUnavailable" and message == error and state == "ended"
        assert "'gone' cannot be captured" in message
    finally:
        screen.close()


def test_frame_conversion_handles_rgb_orders(qapp: Any) -> None:
    """Portal streams may be RGBx; the copy must come out BGRA."""
    from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat

    from tests.test_screen_share import psnr

    bgr = np.zeros((32, 48, 3), np.uint8)
    bgr[:, :, 0], bgr[:, :, 1], bgr[:, :, 2] = 10, 120, 240
    fmt = QVideoFrameFormat.PixelFormat
    for pixel_format, swap in ((fmt.Format_BGRA8888, [0, 1, 2, 3]),
                               (fmt.Format_RGBX8888, [2, 1, 0, 3]),
                               (fmt.Format_XRGB8888, [3, 2, 1, 0])):
        frame = QVideoFrame(QVideoFrameFormat(_qsize(48, 32), pixel_format))
        assert frame.map(QVideoFrame.MapMode.WriteOnly)
        bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
        inverse = np.argsort(swap)
        data = np.ascontiguousarray(bgra[:, :, inverse])
        bpl = frame.bytesPerLine(0)
        view = np.frombuffer(frame.bits(0), dtype=np.uint8, count=32 * bpl).reshape(32, bpl)
        view[:, : 48 * 4] = data.reshape(32, 48 * 4)
        frame.unmap()
        got = qt_capture._to_bgra(frame)
        assert got is not None and got.shape == (32, 48, 4)
        assert psnr(got[:, :, :3], bgr) == 99.0, pixel_format


def _qsize(width: int, height: int) -> Any:
    from PySide6.QtCore import QSize

    return QSize(width, height)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=Path, required=True)
    _child(parser.parse_args().child)
