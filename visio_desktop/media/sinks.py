"""Consumers of (remote) aiortc tracks that check what arrived.

:class:`VideoSink` reads the test pattern of :mod:`.synthetic` back from received frames
(counter, send timestamp, hence latency, and PSNR of the moving region); :class:`AudioSink`
keeps the last seconds of audio and measures the tone in them. Both have a ``report()`` of plain
JSON types (no NaN or infinity), for the headless ``join`` command and for tests.

Usage::

    sink = VideoSink(track, t0=time.monotonic())
    sink.start()          # or: await sink.run()
    ...
    sink.stop()           # or the track ends (MediaStreamError): run() returns quietly
    print(sink.report())
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import deque
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from visio_desktop.media.synthetic import (
    U32,
    analyse_tone,
    latency_ms,
    now_ms,
    pattern_psnr,
    read_pattern,
)

__all__ = ["AudioSink", "VideoSink"]

PSNR_CAP_DB = 100.0  # identical frames (infinite PSNR) are reported as this


class _TrackSink:
    """Pulls frames from a track until it ends or :meth:`stop` is called."""

    def __init__(self, track: MediaStreamTrack, t0: float | None) -> None:
        self.track = track
        self.t0 = time.monotonic() if t0 is None else t0  # time.monotonic() seconds
        self.frames = 0
        self.first_frame_at: float | None = None  # time.monotonic() of the first frame
        self.last_frame_at: float | None = None
        self.ended = False  # run() has returned
        self._stopping = False
        self._running: asyncio.Task[Any] | None = None  # the task inside run()
        self._task: asyncio.Task[None] | None = None  # the task made by start()

    def start(self) -> asyncio.Task[None]:
        """Runs :meth:`run` in a new task of the running loop (once) and returns it."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=f"{type(self).__name__}({self.track.kind})"
            )
        return self._task

    async def run(self) -> None:
        """Receives frames until the track ends or :meth:`stop`; never raises for either."""
        task = asyncio.current_task()
        self._running = task
        try:
            while not self._stopping:
                try:
                    frame = await self.track.recv()
                except MediaStreamError:
                    break
                now = time.monotonic()
                if self.first_frame_at is None:
                    self.first_frame_at = now
                self.last_frame_at = now
                self.frames += 1
                self._on_frame(frame)
        except asyncio.CancelledError:
            if not self._stopping or task is None:
                raise
            task.uncancel()  # our own stop(): end quietly
        finally:
            self._running = None
            self.ended = True

    def stop(self) -> None:
        """Stops receiving (the track itself is left alone); run() returns soon after."""
        self._stopping = True
        if self._running is not None and not self._running.done():
            self._running.cancel()

    async def wait_frames(self, count: int, timeout_s: float) -> bool:
        """Waits until ``count`` frames have arrived (True) or the time is up or the sink has
        ended (False)."""
        deadline = time.monotonic() + timeout_s
        while self.frames < count:
            if self.ended or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def _on_frame(self, frame: Any) -> None:
        raise NotImplementedError

    def _first_frame_ms(self) -> float | None:
        if self.first_frame_at is None:
            return None
        return round((self.first_frame_at - self.t0) * 1000.0, 1)


def _finite(value: float, digits: int = 2) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


class VideoSink(_TrackSink):
    """Counts a video track's frames and reads the test pattern back from them.

    Every ``check_every``-th frame is converted to RGB and its code band read: counter and send
    timestamp (latency = arrival wall clock - timestamp). Counter steps are compared with the
    number of frames received in between: a step back is a regression, a step larger than the
    frames received is a gap (frames lost), no step is a repeat. Every ``psnr_every``-th decoded
    frame also gets the PSNR (luma, dB) of its moving region against the regenerated pattern.
    """

    def __init__(
        self,
        track: MediaStreamTrack,
        *,
        check_every: int = 1,
        psnr_every: int = 15,
        t0: float | None = None,
        history: int = 20000,
    ) -> None:
        super().__init__(track, t0)
        if check_every < 1 or psnr_every < 1:
            raise ValueError("check_every and psnr_every must be at least 1")
        self.check_every = check_every
        self.psnr_every = psnr_every
        self.width = 0
        self.height = 0
        self.resolutions: dict[str, int] = {}  # "WxH" -> frames
        self.pattern_checked = 0
        self.pattern_decoded = 0
        self.counter_regressions = 0
        self.counter_gaps = 0
        self.counter_repeats = 0
        self.frames_missing = 0  # sum of the gaps' sizes
        self.last_counter: int | None = None
        self._last_counter_frame = 0  # self.frames when last_counter was read
        self.latencies_ms: deque[int] = deque(maxlen=history)
        self.latency_max_ms: int | None = None
        self.psnr_db: deque[float] = deque(maxlen=history)

    def _on_frame(self, frame: av.VideoFrame) -> None:
        arrived_ms = now_ms()
        size = (frame.width, frame.height)
        if size != (self.width, self.height):
            self.width, self.height = size
        key = f"{frame.width}x{frame.height}"
        self.resolutions[key] = self.resolutions.get(key, 0) + 1
        if (self.frames - 1) % self.check_every == 0:
            self._check(frame, arrived_ms)

    def _check(self, frame: av.VideoFrame, arrived_ms: int) -> None:
        rgb = frame.to_ndarray(format="rgb24")
        self.pattern_checked += 1
        reading = read_pattern(rgb)
        if reading is None:
            return
        self.pattern_decoded += 1
        latency = latency_ms(reading.timestamp_ms, arrived_ms)
        self.latencies_ms.append(latency)
        if self.latency_max_ms is None or latency > self.latency_max_ms:
            self.latency_max_ms = latency
        if self.last_counter is not None:
            step = (reading.counter - self.last_counter) & U32
            if step >= 1 << 31:
                step -= 1 << 32
            received = self.frames - self._last_counter_frame
            if step < 0:
                self.counter_regressions += 1
            elif step == 0:
                self.counter_repeats += 1
            elif step > received:
                self.counter_gaps += 1
                self.frames_missing += step - received
        self.last_counter = reading.counter
        self._last_counter_frame = self.frames
        if (self.pattern_decoded - 1) % self.psnr_every == 0:
            self.psnr_db.append(min(pattern_psnr(rgb, reading.counter), PSNR_CAP_DB))

    def report(self) -> dict[str, Any]:
        fps = None
        if self.first_frame_at is not None and self.last_frame_at is not None and self.frames > 1:
            span = self.last_frame_at - self.first_frame_at
            fps = round((self.frames - 1) / span, 2) if span > 0 else None
        latencies = sorted(self.latencies_ms)
        latency: dict[str, float | None] = {"median": None, "p95": None, "max": None}
        if latencies:
            latency = {
                "median": float(statistics.median(latencies)),
                "p95": float(
                    latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]
                ),
                "max": float(self.latency_max_ms) if self.latency_max_ms is not None else None,
            }
        psnr: dict[str, float | None] = {"min": None, "median": None}
        if self.psnr_db:
            psnr = {
                "min": _finite(min(self.psnr_db)),
                "median": _finite(statistics.median(self.psnr_db)),
            }
        return {
            "frames": self.frames,
            "first_frame_ms": self._first_frame_ms(),
            "fps": fps,
            "width": self.width,
            "height": self.height,
            "resolutions": dict(self.resolutions),
            "pattern_checked": self.pattern_checked,
            "pattern_decoded": self.pattern_decoded,
            "decoded_ratio": (
                round(self.pattern_decoded / self.pattern_checked, 4)
                if self.pattern_checked
                else None
            ),
            "last_counter": self.last_counter,
            "counter_regressions": self.counter_regressions,
            "counter_gaps": self.counter_gaps,
            "counter_repeats": self.counter_repeats,
            "frames_missing": self.frames_missing,
            "latency_ms": latency,
            "psnr_db": psnr,
            "ended": self.ended,
        }


class AudioSink(_TrackSink):
    """Keeps the last ``keep_s`` seconds of an audio track as mono int16 at ``sample_rate``
    (converted with ``av.AudioResampler`` when the frames are in another format or rate;
    channels averaged) and measures the tone in the last second."""

    def __init__(
        self,
        track: MediaStreamTrack,
        *,
        sample_rate: int = 48000,
        keep_s: float = 5.0,
        t0: float | None = None,
    ) -> None:
        super().__init__(track, t0)
        self.sample_rate = sample_rate
        self.samples_received = 0  # mono samples at sample_rate
        self.input_format: str | None = None  # e.g. "s16/stereo/48000", of the last frame
        self._ring: npt.NDArray[np.int16] = np.zeros(max(1, int(keep_s * sample_rate)), np.int16)
        self._write = 0
        self._resampler: av.AudioResampler | None = None
        self._resampler_key: tuple[str, str, int] | None = None

    @property
    def seconds_received(self) -> float:
        return self.samples_received / self.sample_rate

    def _on_frame(self, frame: av.AudioFrame) -> None:
        fmt, layout, rate = frame.format.name, frame.layout.name, frame.sample_rate
        self.input_format = f"{fmt}/{layout}/{rate}"
        if fmt == "s16" and rate == self.sample_rate:
            # packed s16 at our rate (aiortc's Opus decoder output): average the channels
            channels = len(frame.layout.channels)
            data = frame.to_ndarray().reshape(-1)
            if channels > 1:
                data = data.reshape(-1, channels).mean(axis=1).round().astype(np.int16)
            self._append(data)
            return
        key = (fmt, layout, rate)
        if self._resampler is None or self._resampler_key != key:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.sample_rate)
            self._resampler_key = key
        for out in self._resampler.resample(frame):
            self._append(out.to_ndarray().reshape(-1))

    def _append(self, samples: npt.NDArray[np.int16]) -> None:
        size = self._ring.size
        if samples.size >= size:
            self._ring[:] = samples[-size:]
            self._write = 0
        else:
            end = self._write + samples.size
            if end <= size:
                self._ring[self._write : end] = samples
            else:
                first = size - self._write
                self._ring[self._write :] = samples[:first]
                self._ring[: end - size] = samples[first:]
            self._write = end % size
        self.samples_received += samples.size

    def samples(self, seconds: float | None = None) -> npt.NDArray[np.int16]:
        """The last ``seconds`` (default: all kept) of mono int16 audio, oldest first."""
        kept = min(self.samples_received, self._ring.size)
        if seconds is not None:
            kept = min(kept, int(seconds * self.sample_rate))
        if kept == 0:
            return np.zeros(0, np.int16)
        start = (self._write - kept) % self._ring.size
        if start + kept <= self._ring.size:
            return self._ring[start : start + kept].copy()
        return np.concatenate([self._ring[start:], self._ring[: self._write]])

    def report(self) -> dict[str, Any]:
        tone: dict[str, float | None] = {"frequency_hz": None, "rms_dbfs": None}
        last = self.samples(1.0)
        if last.size >= self.sample_rate // 10:
            reading = analyse_tone(last, self.sample_rate)
            tone = {
                "frequency_hz": _finite(reading.frequency_hz),
                "rms_dbfs": _finite(reading.rms_dbfs),  # None for digital silence
            }
        return {
            "frames": self.frames,
            "first_frame_ms": self._first_frame_ms(),
            "seconds": round(self.seconds_received, 3),
            "sample_rate": self.sample_rate,
            "input_format": self.input_format,
            "tone": tone,
            "ended": self.ended,
        }
