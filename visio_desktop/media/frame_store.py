"""The latest video frame of each track, handed from the engine thread to the UI thread.

The engine side attaches a track under a key (a remote track sid, or ``local:camera`` /
``local:screen``); a small task keeps only the newest decoded frame, so a slow UI drops
frames and never queues them. The UI side asks for ``latest(key)`` at its paint rate, sized
for the tile it paints: the frame is scaled and converted in C (libswscale, through PyAV) to
fit that size, once per new frame, and only for tiles that are visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TileImage:
    """A frame ready to paint: 32-bit pixels, B G R X in memory (Qt's Format_RGB32 on
    little-endian machines), ``width`` x ``height``, rows ``stride`` bytes apart."""

    width: int
    height: int
    stride: int
    data: bytes
    seq: int  # grows with every new frame of the track
    source_width: int
    source_height: int


def fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest even size with the source's aspect ratio inside the box (never upscaled
    beyond the source)."""
    if src_w <= 0 or src_h <= 0 or box_w <= 0 or box_h <= 0:
        return 0, 0
    scale = min(box_w / src_w, box_h / src_h, 1.0)
    return max(2, int(src_w * scale) & ~1), max(2, int(src_h * scale) & ~1)


class _Slot:
    def __init__(self) -> None:
        self.frame: av.VideoFrame | None = None
        self.seq = 0
        self.box = (0, 0)
        self.cached: TileImage | None = None
        self.task: asyncio.Task[None] | None = None
        self.mirror = False


class FrameStore:
    """Thread-safe: ``attach``/``detach`` run on the engine loop, ``latest``/``set_view`` on
    the UI thread."""

    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        # told of every set_view (from the UI thread): the call asks the server for that size
        self.on_view: Callable[[str, int, int], None] | None = None

    # -- engine side ---------------------------------------------------------------------------
    def attach(self, key: str, track: MediaStreamTrack, *, mirror: bool = False) -> None:
        """Start keeping ``track``'s newest frame under ``key`` (replacing what was there)."""
        self.detach(key)
        slot = _Slot()
        slot.mirror = mirror
        with self._lock:
            self._slots[key] = slot
        slot.task = asyncio.get_running_loop().create_task(self._consume(track, slot),
                                                           name=f"frames:{key}")

    def push(self, key: str, frame: av.VideoFrame) -> None:
        """Store a frame that was not read from a track (a preview the engine already has)."""
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
            slot.frame = frame
            slot.seq += 1

    def set_mirror(self, key: str, mirror: bool) -> None:
        """Show ``key`` mirrored (the local camera preview only; never what is sent)."""
        with self._lock:
            self._slots.setdefault(key, _Slot()).mirror = mirror

    def detach(self, key: str) -> None:
        with self._lock:
            slot = self._slots.pop(key, None)
        if slot is not None and slot.task is not None:
            slot.task.cancel()

    def clear(self) -> None:
        for key in self.keys():
            self.detach(key)

    async def _consume(self, track: MediaStreamTrack, slot: _Slot) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                with self._lock:
                    slot.frame = frame
                    slot.seq += 1

    # -- UI side -------------------------------------------------------------------------------
    def keys(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def set_view(self, key: str, width: int, height: int) -> None:
        """The size (device pixels) at which the UI paints ``key``; (0, 0) when hidden."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                slot.box = (width, height)
        if self.on_view is not None:
            self.on_view(key, width, height)

    def frame_count(self, key: str) -> int:
        with self._lock:
            slot = self._slots.get(key)
            return slot.seq if slot is not None else 0

    def latest(self, key: str, width: int | None = None,
               height: int | None = None) -> TileImage | None:
        """The newest frame of ``key`` fitted to (width, height) — or to the size given to
        ``set_view`` — converted once per new frame; None before the first frame."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.frame is None:
                return None
            box = (width, height) if width and height else slot.box
            frame, seq, cached, mirror = slot.frame, slot.seq, slot.cached, slot.mirror
        w, h = fit(frame.width, frame.height, *box) if box != (0, 0) else (
            frame.width, frame.height)
        if w == 0:
            return None
        if cached is not None and cached.seq == seq and (cached.width, cached.height) == (w, h):
            return cached
        image = _convert(frame, w, h, seq, mirror)
        with self._lock:
            if slot.seq == seq:
                slot.cached = image
        return image


def _convert(frame: av.VideoFrame, width: int, height: int, seq: int,
             mirror: bool) -> TileImage:
    out = frame.reformat(width=width, height=height, format="bgra",
                         interpolation="BILINEAR")
    plane = out.planes[0]
    data = bytes(plane)
    stride = plane.line_size
    if mirror:
        import numpy as np

        pixels = np.frombuffer(data, np.uint8).reshape(height, stride // 4, 4)[:, :width]
        data = np.ascontiguousarray(pixels[:, ::-1]).tobytes()
        stride = width * 4
    return TileImage(width, height, stride, data, seq, frame.width, frame.height)


class PreviewTee(MediaStreamTrack):
    """Passes a video track through (to the encoder) and shows each frame in the FrameStore
    under ``key`` — the local preview of what is sent, without a second reader of the source."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack, store: FrameStore, key: str, *,
                 mirror: bool = False) -> None:
        super().__init__()
        self.source = source
        self._store = store
        self._key = key
        store.detach(key)
        store.set_mirror(key, mirror)

    async def recv(self) -> av.VideoFrame:
        frame = await self.source.recv()
        self._store.push(self._key, frame)
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()
