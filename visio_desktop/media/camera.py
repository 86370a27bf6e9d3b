"""Cameras through OpenCV: listing, and a live aiortc track with the latest frame only.

A reader thread pulls frames from ``cv2.VideoCapture`` and converts each to I420 in C
(``cv2.cvtColor``); ``recv()`` paces at the chosen rate and returns the newest frame (a slow
consumer drops frames, it never queues them). The sent frames are not mirrored;
:meth:`CameraTrack.preview` gives the mirrored picture a local preview shows. Failures become a
``status`` the UI can show ("camera unavailable: …"), never an exception in the call.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError

log = logging.getLogger(__name__)

#: name -> (width, height, fps)
PRESETS: dict[str, tuple[int, int, float]] = {
    "720p": (1280, 720, 30.0),
    "360p": (640, 360, 30.0),
    "180p": (320, 180, 15.0),
}
NO_FRAME_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class CameraInfo:
    id: str  # stable: the device path on Linux, else the OpenCV index
    name: str
    index: int


def list_cameras(max_index: int = 8) -> list[CameraInfo]:
    """The cameras of this computer. On Linux from sysfs (no device is opened); elsewhere by
    trying OpenCV indexes, which briefly opens each camera."""
    if sys.platform.startswith("linux"):
        cameras = []
        for node in sorted(Path("/sys/class/video4linux").glob("video*")):
            index = int(node.name.removeprefix("video") or 0)
            name = (node / "name").read_text().strip() if (node / "name").exists() else node.name
            # metadata nodes of UVC cameras have index 1, 3, …: keep capture nodes only
            if (node / "index").exists() and (node / "index").read_text().strip() != "0":
                continue
            cameras.append(CameraInfo(id=f"/dev/{node.name}", name=name, index=index))
        return cameras
    found = []
    for index in range(max_index):
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened():
                found.append(CameraInfo(id=str(index), name=f"Camera {index + 1}", index=index))
        finally:
            capture.release()
    return found


class CameraTrack(MediaStreamTrack):
    """A camera (an OpenCV index, a device path, or a video file for tests) as a video track."""

    kind = "video"
    source = "camera"

    def __init__(self, device: int | str, preset: str = "720p", *,
                 on_status: Callable[[str], None] | None = None,
                 capture_factory: Callable[[Any], Any] = cv2.VideoCapture) -> None:
        super().__init__()
        if preset not in PRESETS:
            raise ValueError(f"unknown camera preset {preset!r}; use {', '.join(PRESETS)}")
        self.width, self.height, self.fps = PRESETS[preset]
        self.device = device
        self.status = "starting"
        self.frames_captured = 0
        self.frames_sent = 0
        self._on_status = on_status
        self._factory = capture_factory
        self._latest: npt.NDArray[np.uint8] | None = None  # I420 planes, stacked
        self._latest_bgr: npt.NDArray[np.uint8] | None = None
        self._latest_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._start: float | None = None
        self._slot = 0
        self._thread = self._start_reader(device)

    def _start_reader(self, device: int | str) -> threading.Thread:
        self.device = device
        self._is_file = isinstance(device, str) and not device.startswith("/dev/")
        self._stop = threading.Event()
        thread = threading.Thread(target=self._read_loop, args=(self._stop,), name="camera",
                                  daemon=True)
        thread.start()
        return thread

    def set_device(self, device: int | str) -> None:
        """Switch to another camera during a call: the same track (no renegotiation) starts
        sending the new camera's pictures as soon as it delivers them."""
        old_stop, old_thread = self._stop, self._thread
        old_stop.set()
        self._set_status("starting")
        self._thread = self._start_reader(device)
        old_thread.join(timeout=2)

    # -- reader thread ---------------------------------------------------------------------------
    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            if status.startswith("camera"):
                log.warning("%s", status)
            if self._on_status is not None:
                try:
                    self._on_status(status)
                except Exception:
                    log.exception("camera status callback failed")

    def _read_loop(self, stop: threading.Event) -> None:
        capture = self._factory(self.device)
        try:
            if capture is None or not capture.isOpened():
                self._set_status("camera unavailable: in use by another application or missing")
                return
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            capture.set(cv2.CAP_PROP_FPS, self.fps)
            period = 1.0 / self.fps
            next_due = time.monotonic()
            while not stop.is_set():
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    self._set_status("camera stopped delivering pictures (unplugged?)")
                    return
                if stop.is_set():
                    return  # replaced by another camera meanwhile
                if bgr.shape[1] != self.width or bgr.shape[0] != self.height:
                    bgr = cv2.resize(bgr, (self.width, self.height), interpolation=cv2.INTER_AREA)
                i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
                with self._lock:
                    self._latest, self._latest_bgr = i420, bgr
                    self._latest_at = time.monotonic()
                self.frames_captured += 1
                self._set_status("live")
                if self._is_file:  # a file reads as fast as it can: play it in real time
                    next_due += period
                    delay = next_due - time.monotonic()
                    if delay > 0:
                        stop.wait(delay)
        except Exception as exc:  # a driver error must not take the call down
            self._set_status(f"camera unavailable: {exc.__class__.__name__}")
        finally:
            if capture is not None:
                capture.release()

    # -- track -----------------------------------------------------------------------------------
    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            due = self._start + (self._slot + 1) / self.fps
            if now < due:
                await asyncio.sleep(due - now)
            self._slot = max(self._slot + 1, int((time.monotonic() - self._start) * self.fps))
        waited = 0.0
        while True:
            with self._lock:
                latest, at = self._latest, self._latest_at
            fresh = latest is not None and time.monotonic() - at < NO_FRAME_TIMEOUT_S
            if fresh or (latest is not None and self._thread.is_alive()):
                break
            if not self._thread.is_alive() or waited >= NO_FRAME_TIMEOUT_S:
                if self.status in ("starting", "live"):
                    self._set_status("camera delivers no pictures")
                self.stop()
                raise MediaStreamError
            await asyncio.sleep(0.05)
            waited += 0.05
        assert latest is not None
        frame = av.VideoFrame.from_ndarray(latest, format="yuv420p")
        frame.pts = round(self._slot * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame

    def preview(self) -> npt.NDArray[np.uint8] | None:
        """The latest picture as RGB, mirrored as people expect to see themselves."""
        with self._lock:
            bgr = self._latest_bgr
        if bgr is None:
            return None
        return np.ascontiguousarray(cv2.cvtColor(cv2.flip(bgr, 1), cv2.COLOR_BGR2RGB))

    def stop(self) -> None:
        self._stop.set()
        super().stop()


class CameraMonitor:
    """Notices cameras that come and go (polling, every second by default).

    ``on_change(added, removed)`` reports the differences; when the camera in use disappears,
    ``on_lost(camera, fallback)`` names the camera to switch to (the first one left, or None)
    — the application calls :meth:`CameraTrack.set_device` with it. Handlers run on the
    monitor's thread; the UI hands them over to its own.
    """

    def __init__(self, *, lister: Callable[[], list[CameraInfo]] = list_cameras,
                 interval_s: float = 1.0,
                 on_change: Callable[[list[CameraInfo], list[CameraInfo]], None] | None = None,
                 on_lost: Callable[[CameraInfo, CameraInfo | None], None] | None = None) -> None:
        self._lister = lister
        self.interval_s = interval_s
        self.on_change = on_change
        self.on_lost = on_lost
        self.cameras: list[CameraInfo] = []
        self.active: CameraInfo | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scanned = False

    def use(self, camera: CameraInfo | None) -> None:
        self.active = camera

    def poll(self) -> tuple[list[CameraInfo], list[CameraInfo]]:
        try:
            now = self._lister()
        except Exception:  # a failing scan is retried at the next poll
            log.exception("listing cameras failed")
            return [], []
        known = {c.id for c in self.cameras}
        current = {c.id for c in now}
        added = [c for c in now if c.id not in known] if self._scanned else []
        removed = [c for c in self.cameras if c.id not in current]
        self.cameras, self._scanned = now, True
        if (added or removed) and self.on_change is not None:
            self._call(self.on_change, added, removed)
        if self.active is not None and self.active.id not in current:
            lost, self.active = self.active, (now[0] if now else None)
            if self.on_lost is not None:
                self._call(self.on_lost, lost, self.active)
        return added, removed

    @staticmethod
    def _call(handler: Callable[..., None], *args: Any) -> None:
        try:
            handler(*args)
        except Exception:
            log.exception("a camera monitor handler failed")

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="camera-monitor",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval_s)
