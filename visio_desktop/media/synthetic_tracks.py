"""aiortc media tracks that generate the synthetic test media of :mod:`.synthetic`.

* :class:`PatternVideoTrack` sends the self-describing moving test pattern (frame counter and
  wall-clock timestamp in its code band) as I420 ``av.VideoFrame`` s;
* :class:`ToneAudioTrack` sends a sine tone as 20 ms s16 ``av.AudioFrame`` s.

Both are paced in real time: the due time of every frame is computed from the time of the first
one, so neither drifts however long the consumer takes between two ``recv()`` calls. A video
track that falls behind by a whole frame period skips ahead to the current slot instead of
bursting the frames it missed (its pts jumps; the pattern's counter does not, so a receiver's
counter gaps only ever mean frames lost on the way). ``paced=False`` returns frames at once, with
the same timestamps, for offline use.

After :meth:`~aiortc.MediaStreamTrack.stop`, ``recv()`` raises :class:`aiortc.MediaStreamError`;
a ``recv()`` waiting for its frame's due time when the track is stopped raises it too.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from typing import Literal

import av
import cv2
from aiortc import MediaStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError

from visio_desktop.media.pacing import FramePacer
from visio_desktop.media.synthetic import TestPattern, ToneSource, now_ms

VideoSource = Literal["camera", "screen_share"]

__all__ = ["PatternVideoTrack", "ToneAudioTrack", "VideoSource"]

# An audio track this far behind its schedule (the event loop was blocked) skips ahead rather
# than bursting the backlog; smaller lags are caught up, which a jitter buffer absorbs.
AUDIO_MAX_LAG_S = 0.2


class PatternVideoTrack(MediaStreamTrack):
    """The moving test pattern as a live video track (``kind == "video"``).

    Frames are yuv420p at ``width`` x ``height`` (both even), pts in 1/90000 (slot ``n`` has
    ``pts = round(n * 90000 / fps)``). Each frame carries its counter (0, 1, 2... per frame
    sent) and the wall-clock milliseconds at which it was rendered (:func:`.synthetic.now_ms`).
    ``source`` names the LiveKit track source the track stands for.
    """

    kind = "video"

    def __init__(
        self,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        *,
        source: VideoSource = "camera",
        paced: bool = True,
    ) -> None:
        super().__init__()
        if width % 2 or height % 2:
            raise ValueError(f"I420 needs an even frame size, got {width}x{height}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.width = width
        self.height = height
        self.fps = float(fps)
        self.source: VideoSource = source
        self.pattern = TestPattern(width, height)
        self.frames_sent = 0  # also the counter of the next frame
        self._pacer = FramePacer(self.fps, paced=paced)

    @property
    def frames_skipped(self) -> int:
        """Frame slots skipped because the consumer fell behind."""
        return self._pacer.frames_skipped

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        slot = await self._pacer.next_slot()
        if self.readyState != "live":  # stopped while waiting
            raise MediaStreamError
        frame = self._render(self.frames_sent)
        frame.pts = round(slot * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame

    def _render(self, counter: int) -> av.VideoFrame:
        # numpy render (whole-pixel writes) then OpenCV's SIMD RGB -> I420 (BT.601 limited
        # range, the same luma as swscale), several times cheaper than a swscale reformat
        rgb = self.pattern.render(counter, now_ms())
        i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
        return av.VideoFrame.from_ndarray(i420, format="yuv420p")


class ToneAudioTrack(MediaStreamTrack):
    """A sine tone as a live audio track (``kind == "audio"``).

    Frames are s16 (packed; interleaved when ``channels == 2``) of ``ptime_ms`` (20 ms: 960
    samples at 48 kHz), with continuous phase and pts in 1/sample_rate.
    """

    kind = "audio"

    def __init__(
        self,
        frequency_hz: float = 440.0,
        sample_rate: int = 48000,
        channels: int = 1,
        amplitude: float = 0.3,
        *,
        ptime_ms: int = 20,
        paced: bool = True,
    ) -> None:
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        self.frequency_hz = frequency_hz
        self.sample_rate = sample_rate
        self.channels = channels
        self.amplitude = amplitude
        self.paced = paced
        self._tone = ToneSource(frequency_hz, sample_rate, channels, amplitude, block_ms=ptime_ms)
        self.samples_per_frame = self._tone.samples_per_block
        self.frames_sent = 0
        self.samples_skipped = 0  # skipped because the consumer fell far behind
        self._layout = "mono" if channels == 1 else "stereo"
        self._time_base = fractions.Fraction(1, sample_rate)
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
            pts = 0
        else:
            pts = self._pts + self.samples_per_frame
            if self.paced:
                due = self._start + pts / self.sample_rate
                if now < due:
                    await asyncio.sleep(due - now)
                elif now - due > AUDIO_MAX_LAG_S:
                    spf = self.samples_per_frame
                    current = int((now - self._start) * self.sample_rate) // spf * spf
                    if current > pts:
                        self.samples_skipped += current - pts
                        pts = current
            else:
                await asyncio.sleep(0)
            if self.readyState != "live":
                raise MediaStreamError
        self._pts = pts
        block = self._tone.next_block()
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout=self._layout)
        frame.sample_rate = self.sample_rate
        frame.pts = pts
        frame.time_base = self._time_base
        self.frames_sent += 1
        return frame
