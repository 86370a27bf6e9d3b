"""Pacing of media tracks: video frames on a wall-clock grid, captured audio by its source.

:class:`FramePacer` gives a video track the slot of its next frame at ``fps``: it waits until
the slot is due, and when the consumer fell a whole frame behind it jumps to the slot due now
(counted in ``frames_skipped``) instead of sending a backlog in a burst.

Captured audio (:class:`SourcePacer`), below, is paced by its source's clock.

A capture track (microphone, computer sound) hands aiortc one 20 ms frame per ``recv``. While
the source delivers, ``recv`` waits for the next frame's worth of samples (the source's clock
paces the track, no drift against the wall clock); when the source is missing or stops
delivering, a frame of silence goes out every 20 ms (the call never stalls), and after a
``stall_s`` gap the track waits only one frame at a time until the source delivers again.

:class:`SourcePacer` keeps that state; the capture thread calls :meth:`SourcePacer.wake` when a
frame is ready, the track's ``recv`` awaits :meth:`SourcePacer.wait_for_frame`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError

FRAME_S = 0.020


class FramePacer:
    """The slots of a video track at ``fps`` (slot ``n`` is due ``n / fps`` s after slot 0).
    ``paced=False`` hands out consecutive slots as fast as they are asked for."""

    def __init__(self, fps: float, *, paced: bool = True) -> None:
        self.fps = float(fps)
        self.paced = paced
        self.slot = 0
        self.frames_skipped = 0
        self._period = 1.0 / self.fps
        self._start: float | None = None  # time.monotonic() of slot 0

    @property
    def started(self) -> bool:
        return self._start is not None

    async def next_slot(self) -> int:
        """The slot of the next frame, once it is due (the first call: slot 0, at once)."""
        now = time.monotonic()
        if self._start is None:
            self._start, self.slot = now, 0
            return 0
        slot = self.slot + 1
        if not self.paced:
            await asyncio.sleep(0)  # still let the loop run between frames
        else:
            due = self._start + slot * self._period
            if now < due:
                await asyncio.sleep(due - now)
            elif now - due >= self._period:  # a whole frame late: the slot due now, no burst
                current = int((now - self._start) * self.fps)
                if current > slot:
                    self.frames_skipped += current - slot
                    slot = current
        self.slot = slot
        return slot


class SourcePacer:
    """The waiting side of a paced capture track (one per track; loop side and capture side)."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting = False  # read by the capture thread: wake() only while True
        self.stalled = False
        self.silent_frames = 0
        self._ready = asyncio.Event()
        self._last_emit: float | None = None
        self._deliveries_seen = 0

    def bind_loop(self) -> None:
        """Remembers the running loop (the capture thread wakes ``recv`` on it)."""
        if self.loop is None:
            with contextlib.suppress(RuntimeError):
                self.loop = asyncio.get_running_loop()

    def wake(self) -> None:
        """From any thread: a frame is ready (or the track stopped)."""
        self.waiting = False
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed meanwhile
                loop.call_soon_threadsafe(self._ready.set)

    async def wait_for_frame(
        self,
        frame_ready: Callable[[], bool],
        deliveries: Callable[[], int],
        source_open: Callable[[], bool],
        live: Callable[[], bool],
        collect: Callable[[], None] | None = None,
    ) -> bool:
        """Waits until ``frame_ready()`` or the frame's deadline; returns True when the frame
        must be (at least partly) silence. ``deliveries()`` counts the source's callbacks (a new
        one ends a stall), ``source_open()`` tells whether a source is there at all,
        ``collect()`` (optional) moves what the source delivered into the frame buffer and runs
        before each check. Raises MediaStreamError when ``live()`` turns False."""
        self.bind_loop()
        last = self._last_emit if self._last_emit is not None else time.monotonic()
        silent = False
        while not frame_ready():
            count = deliveries()
            if count != self._deliveries_seen:  # the source delivers (again)
                self._deliveries_seen = count
                self.stalled = False
            now = time.monotonic()
            # a source that delivers is waited for; a missing or stalled one gets silence
            limit = FRAME_S if (self.stalled or not source_open()) else self.stall_s
            remaining = last + limit - now
            if remaining <= 0:
                silent = True
                break
            self._ready.clear()
            self.waiting = True
            if collect is not None:
                collect()
            if frame_ready():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), remaining)
            if not live():
                raise MediaStreamError
            if collect is not None:
                collect()
        self.waiting = False
        if silent:
            self.silent_frames += 1
        self.stalled = silent
        self._last_emit = time.monotonic()
        return silent
