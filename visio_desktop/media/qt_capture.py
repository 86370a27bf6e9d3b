"""Screen sharing through Qt Multimedia, for sessions mss cannot capture (Wayland).

On Wayland, Qt >= 6.5.2 captures a screen through the xdg-desktop-portal ScreenCast portal and
PipeWire; the portal shows its own picker, so the app cannot enumerate screens there and offers
:func:`portal_target` ("Choose in the system dialog") instead. On X11 Qt's grabber costs the same
as mss (bench/screen_capture.py), so :func:`create_screen_track` keeps
:class:`.screen.ScreenCaptureTrack` there.

:class:`QtScreenCaptureTrack` has the public surface of ``ScreenCaptureTrack`` (``width``,
``height``, ``fps``, ``frames_sent``, ``error``, ``stop()``, ``recv()``). Qt objects must live on
the Qt main thread while the track is made and read on the engine's asyncio thread: the
``QScreenCapture``/``QWindowCapture`` + ``QMediaCaptureSession`` + ``QVideoSink`` are created and
stopped on the application's thread (through a queued signal), each frame from the sink is
copied as BGRA into a one-slot "newest frame" box under a lock, and ``recv()`` paces at ``fps``
and converts the newest frame to I420 on a worker thread (repeating it when the screen did not
change: the portal only sends damaged frames).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError
from PySide6.QtCore import QObject, Qt, Signal, Slot

from visio_desktop.media.pacing import FramePacer
from visio_desktop.media.screen import (
    DEFAULT_FPS,
    MAX_FPS,
    ScreenCaptureTrack,
    ScreenCaptureUnsupported,
    ScreenInfo,
    ScreenUnavailable,
    WindowInfo,
    check_supported,
    output_size,
)

logger = logging.getLogger(__name__)

__all__ = ["PortalTarget", "QtScreenCaptureTrack", "create_screen_track", "portal_target",
           "wayland_session"]

#: Seconds to wait for the first frame: X11 answers at once, the portal waits for the user.
FIRST_FRAME_TIMEOUT_S = 5.0
PORTAL_FIRST_FRAME_TIMEOUT_S = 120.0
CANCELLED_MESSAGE = "Screen sharing was cancelled in the system dialog."


@dataclass(frozen=True)
class PortalTarget:
    """Let the system's ScreenCast portal ask the user which screen or window to share."""

    name: str = "Choose in the system dialog"
    id: int = 0
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0
    primary: bool = True


_PORTAL = PortalTarget()
QtTarget = ScreenInfo | WindowInfo | PortalTarget
BgraImage = npt.NDArray[np.uint8]


def portal_target() -> PortalTarget:
    """The picker's single entry on Wayland; ``.name`` is the label to show."""
    return _PORTAL


def wayland_session() -> bool:
    return (os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
            or bool(os.environ.get("WAYLAND_DISPLAY")))


def _mss_supported() -> bool:
    try:
        check_supported()
    except ScreenCaptureUnsupported:
        return False
    return True


def create_screen_track(target: Any = None, fps: float = DEFAULT_FPS, max_height: int = 1080,
                        ) -> MediaStreamTrack:
    """The capture track for this session: Qt (portal + PipeWire) on Wayland or wherever mss
    cannot capture, else mss's :class:`.screen.ScreenCaptureTrack`. A :class:`PortalTarget`
    always goes to Qt."""
    if isinstance(target, PortalTarget) or wayland_session() or not _mss_supported():
        return QtScreenCaptureTrack(target, fps=fps, max_height=max_height)
    return ScreenCaptureTrack(target, fps=fps, max_height=max_height)


# --- the Qt side (application thread) ---------------------------------------------------------


class _Bridge(QObject):
    """Runs callables on the thread it lives on (the Qt application's)."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()


_bridges: dict[int, _Bridge] = {}  # one per application, never deleted (queued calls in flight)
_bridges_lock = threading.Lock()


def _run_on_app_thread(app: Any, fn: Callable[[], None]) -> None:
    """Call ``fn`` soon on ``app``'s thread (queued, also when called from that thread)."""
    with _bridges_lock:
        bridge = _bridges.get(id(app))
        if bridge is None:
            bridge = _bridges[id(app)] = _Bridge()
            if bridge.thread() is not app.thread():
                bridge.moveToThread(app.thread())
    bridge.call.emit(fn)


def _to_bgra(frame: Any) -> BgraImage | None:
    """A copy of a ``QVideoFrame`` as HxWx4 BGRA (any pixel format), or None."""
    from PySide6.QtGui import QImage
    from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat

    fmt = QVideoFrameFormat.PixelFormat
    order = {fmt.Format_BGRA8888: None, fmt.Format_BGRX8888: None,
             fmt.Format_RGBA8888: [2, 1, 0, 3], fmt.Format_RGBX8888: [2, 1, 0, 3],
             fmt.Format_ARGB8888: [3, 2, 1, 0], fmt.Format_XRGB8888: [3, 2, 1, 0],
             fmt.Format_ABGR8888: [1, 2, 3, 0], fmt.Format_XBGR8888: [1, 2, 3, 0]}
    pixel_format = frame.pixelFormat()
    if pixel_format in order and frame.map(QVideoFrame.MapMode.ReadOnly):
        try:
            h, w, bpl = frame.height(), frame.width(), frame.bytesPerLine(0)
            raw = np.frombuffer(frame.bits(0), dtype=np.uint8, count=h * bpl)
            bgra = raw.reshape(h, bpl)[:, : w * 4].reshape(h, w, 4)
            swap = order[pixel_format]
            return bgra.copy() if swap is None else np.ascontiguousarray(bgra[:, :, swap])
        finally:
            frame.unmap()
    image = frame.toImage()  # YUV, DMA-buf...: Qt converts
    if image.isNull():
        return None
    image = image.convertToFormat(QImage.Format.Format_ARGB32)  # BGRA in memory (LE)
    h, w, bpl = image.height(), image.width(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * bpl)
    return raw.reshape(h, bpl)[:, : w * 4].reshape(h, w, 4).copy()


class _QtCapture:
    """The Qt objects of one capture; every method but :meth:`latest` runs on the app thread."""

    def __init__(self, target: QtTarget | None, fps: float,
                 on_error: Callable[[str], None]) -> None:
        self.target, self.fps, self.on_error = target, fps, on_error
        self._lock = threading.Lock()
        self._frame: BgraImage | None = None
        self._serial = 0
        self._objects: tuple[Any, ...] = ()
        self.stopped = False

    def latest(self) -> tuple[int, BgraImage | None]:
        with self._lock:
            return self._serial, self._frame

    def start(self) -> None:
        from PySide6.QtGui import QGuiApplication, QWindow
        from PySide6.QtMultimedia import (
            QCapturableWindow,
            QMediaCaptureSession,
            QScreenCapture,
            QVideoSink,
            QWindowCapture,
        )

        if self.stopped:
            return
        try:
            session, sink = QMediaCaptureSession(), QVideoSink()
            session.setVideoSink(sink)
            capture: Any
            if isinstance(self.target, WindowInfo):
                capture = QWindowCapture()
                capture.setWindow(QCapturableWindow(QWindow.fromWinId(self.target.id)))
                session.setWindowCapture(capture)
            else:
                capture = QScreenCapture()
                capture.setScreen(_qscreen(self.target) or QGuiApplication.primaryScreen())
                session.setScreenCapture(capture)
            if hasattr(capture, "setMaximumFrameRate"):
                capture.setMaximumFrameRate(self.fps)
            capture.errorOccurred.connect(lambda _code, text: self.on_error(str(text)))
            # the sink may emit on a Qt worker thread: copy there, no GUI-thread hop
            sink.videoFrameChanged.connect(self._on_frame, Qt.ConnectionType.DirectConnection)
            self._objects = (session, sink, capture)
            capture.start()
            if capture.error() != type(capture).Error.NoError:
                self.on_error(capture.errorString() or capture.error().name)
        except Exception as exc:  # missing backend, bad window id...
            self.on_error(f"{type(exc).__name__}: {exc}")

    def _on_frame(self, frame: Any) -> None:
        if self.stopped or not frame.isValid():
            return
        bgra = _to_bgra(frame)
        if bgra is not None:
            with self._lock:
                self._frame, self._serial = bgra, self._serial + 1

    def stop(self) -> None:
        self.stopped = True
        if self._objects:
            session, sink, capture = self._objects
            self._objects = ()
            try:
                sink.videoFrameChanged.disconnect(self._on_frame)
            except (RuntimeError, TypeError):
                pass
            capture.stop()
            for obj in (capture, sink, session):
                obj.deleteLater()


def _qscreen(target: QtTarget | None) -> Any:
    """The QScreen showing ``target`` (by name, then by position), or None."""
    from PySide6.QtGui import QGuiApplication

    if not isinstance(target, ScreenInfo):
        return None
    screens = QGuiApplication.screens()
    for screen in screens:
        if screen.name() == target.name:
            return screen
    for screen in screens:
        geo, ratio = screen.geometry(), screen.devicePixelRatio()
        if (round(geo.x() * ratio), round(geo.y() * ratio)) == (target.x, target.y):
            return screen
    return None


def _primary_size() -> tuple[int, int]:
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return 1920, 1080
    size, ratio = screen.size(), screen.devicePixelRatio()
    return round(size.width() * ratio), round(size.height() * ratio)


# --- the track (asyncio thread) ---------------------------------------------------------------


class QtScreenCaptureTrack(MediaStreamTrack):
    """A screen or window captured by Qt Multimedia, as a live aiortc video track.

    ``target`` is a :class:`.screen.ScreenInfo`, a :class:`.screen.WindowInfo` (X11), a
    :class:`PortalTarget` or None (the primary screen; on Wayland the portal asks). Needs a
    running ``QGuiApplication``; may be made and read from any thread. ``width``/``height``
    start as the target's (or primary screen's) size and follow the frames (scaled down above
    ``max_height``, like ``ScreenCaptureTrack``). Errors (capture failure, portal cancelled, no
    frame within ``first_frame_timeout_s``) end the track: ``recv()`` raises
    :class:`.screen.ScreenUnavailable` and :attr:`error` says why; after :meth:`stop`
    ``recv()`` raises ``MediaStreamError``.
    """

    kind = "video"

    def __init__(self, target: QtTarget | None = None, fps: float = DEFAULT_FPS,
                 max_height: int = 1080, *, first_frame_timeout_s: float | None = None) -> None:
        super().__init__()
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"fps must be in (0, {MAX_FPS}], got {fps}")
        from PySide6.QtGui import QGuiApplication

        app = QGuiApplication.instance()
        if app is None:
            raise ScreenCaptureUnsupported("screen capture through Qt needs the application")
        self.portal = wayland_session() or isinstance(target, PortalTarget)
        self.screen: QtTarget = target if target is not None else (
            _PORTAL if self.portal else ScreenInfo(0, "primary screen", 0, 0, 0, 0, True))
        self.source = "screen_share"
        self.fps = float(fps)
        self.max_height = max_height
        src = ((target.width, target.height) if target is not None and target.width > 0
               else _primary_size())
        self.width, self.height = output_size(*src, max_height)
        self.error: ScreenUnavailable | None = None
        self.frames_sent = 0
        self.first_frame_timeout_s = first_frame_timeout_s or (
            PORTAL_FIRST_FRAME_TIMEOUT_S if self.portal else FIRST_FRAME_TIMEOUT_S)
        self._pacer = FramePacer(self.fps)
        self._created = time.monotonic()
        self._last: tuple[int, npt.NDArray[np.uint8]] | None = None  # serial, I420
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="qt-screen-convert")
        self._capture = _QtCapture(self.screen if target is not None or self.portal else None,
                                   self.fps, self._on_qt_error)
        self._app = app
        _run_on_app_thread(app, self._capture.start)

    def _on_qt_error(self, text: str) -> None:  # any thread
        lowered = text.lower()
        if self.portal and any(w in lowered for w in ("cancel", "denied", "response")):
            text = f"{CANCELLED_MESSAGE} ({text})"
        self._fail(text)

    def _fail(self, reason: str) -> None:
        if self.error is None and self.readyState == "live":
            self.error = ScreenUnavailable(f"{self.screen.name!r} cannot be captured: {reason}")
            logger.warning("screen share ended: %s", self.error)
        self.stop()

    def _convert(self, bgra: BgraImage) -> npt.NDArray[np.uint8]:
        src_h, src_w = bgra.shape[:2]
        width, height = output_size(src_w, src_h, self.max_height)
        if (src_w, src_h) != (width, height):
            if src_h > height or src_w > width + 1:
                bgra = cv2.resize(bgra, (width, height), interpolation=cv2.INTER_AREA)
            else:  # an odd size: drop the last column/row
                bgra = bgra[:height, :width]
        self.width, self.height = width, height
        return cv2.cvtColor(np.ascontiguousarray(bgra), cv2.COLOR_BGRA2YUV_I420)

    def _ended(self) -> MediaStreamError:
        return self.error or MediaStreamError("screen share stopped")

    async def _first_frame(self) -> None:
        deadline = self._created + self.first_frame_timeout_s
        while self._capture.latest()[1] is None:
            if self.readyState != "live":
                raise self._ended()
            if time.monotonic() > deadline:
                self._fail(CANCELLED_MESSAGE if self.portal else
                           f"no picture within {self.first_frame_timeout_s:g} s")
                raise self._ended()
            await asyncio.sleep(0.02)

    @property
    def frames_skipped(self) -> int:
        """Frame slots skipped because the consumer fell behind."""
        return self._pacer.frames_skipped

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise self._ended()
        if not self._pacer.started:
            await self._first_frame()
        slot = await self._pacer.next_slot()
        if self.readyState != "live":
            raise self._ended()
        serial, bgra = self._capture.latest()
        if self._last is not None and self._last[0] == serial:
            i420 = self._last[1]  # unchanged screen: resend the last picture
        else:
            assert bgra is not None
            try:
                i420 = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._convert, bgra)
            except RuntimeError as exc:  # executor shut down by stop()
                raise self._ended() from exc
            self._last = (serial, i420)
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts = round(slot * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame

    def stop(self) -> None:
        if self.readyState == "live":
            self._executor.shutdown(wait=False)
            self._capture.stopped = True
            _run_on_app_thread(self._app, self._capture.stop)
        super().stop()
