"""Microphone and speakers: a :class:`MicrophoneTrack` (aiortc audio track from an input device)
and a :class:`SpeakerMixer` (remote tracks mixed to an output device), both at 48 kHz mono int16
in 10 ms blocks through the echo canceller (:class:`~.audio_processing.AudioProcessor`).

Threads: the PortAudio callbacks only copy samples into / out of a preallocated
:class:`SampleRing` (one producer, one consumer, no lock, no allocation but a wake-up of the
event loop once a frame is ready); everything else (processing, mixing, resampling, the echo
canceller's both directions) runs on the asyncio loop, hence from one thread as
:class:`AudioProcessor` requires.

Usage::

    backend = SoundDeviceBackend()
    processor = AudioProcessor()
    mic = MicrophoneTrack(backend, device=None, processor=processor)   # None: system default
    pc.addTrack(mic)
    speakers = SpeakerMixer(backend, device=None, processor=processor)
    await speakers.start()
    speakers.add_track(participant_sid, remote_track, volume=1.0)
    monitor.active_device_changed.connect(...)  # -> mic.set_device() / speakers.set_device()
    mic.set_device(headset)   # during a call: the stream is reopened, the track stays

Errors: when a device cannot be opened, ``error`` says so ("microphone unavailable: …"),
``on_error(message)`` is called, and the system default is tried; the microphone then sends
silence (paced by the wall clock) rather than stalling the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from visio_desktop.media.audio_processing import (
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioProcessor,
    LevelMeter,
    SpeakingWhileMutedDetector,
)
from visio_desktop.media.devices import (
    AudioDevice,
    AudioStream,
    DeviceBackend,
    DeviceError,
    DeviceKind,
)
from visio_desktop.media.pacing import SourcePacer

__all__ = ["MicrophoneTrack", "SampleRing", "SpeakerMixer", "update_stream_delay"]

log = logging.getLogger(__name__)

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 960: what the track emits (Opus ptime)
STALL_S = 0.25  # no audio from the device for this long: send silence meanwhile
Int16 = npt.NDArray[np.int16]


class SampleRing:
    """A preallocated int16 ring for one producer thread and one consumer thread.

    ``written`` and ``read`` are totals (never wrap); each side only moves its own, so neither
    needs a lock (int stores are atomic under the GIL). When the producer laps the consumer the
    consumer skips ahead to the newest ``capacity`` samples (counted in ``dropped``).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._buf: Int16 = np.zeros(capacity, np.int16)
        self.written = 0
        self.read = 0
        self.dropped = 0

    @property
    def available(self) -> int:
        return min(self.written - self.read, self.capacity)

    def write(self, data: npt.NDArray[np.int16]) -> None:
        n = data.shape[0]
        if n > self.capacity:
            data = data[-self.capacity :]
            self.written += n - self.capacity
            n = self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start : start + first] = data[:first]
        if first < n:
            self._buf[: n - first] = data[first:]
        self.written += n

    def read_into(self, out: npt.NDArray[np.int16]) -> int:
        """Copies up to ``len(out)`` samples into ``out``, zero-fills the rest; returns how
        many were real."""
        behind = self.written - self.read
        if behind > self.capacity:
            self.dropped += behind - self.capacity
            self.read = self.written - self.capacity
            behind = self.capacity
        n = min(out.shape[0], behind)
        start = self.read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._buf[start : start + first]
        if first < n:
            out[first:n] = self._buf[: n - first]
        out[n:] = 0
        self.read += n
        return n

    def skip_to(self, keep: int) -> int:
        """Drops all but the newest ``keep`` samples (latency bound); returns how many."""
        excess = self.written - self.read - keep
        if excess > 0:
            self.read += excess
            self.dropped += excess
            return excess
        return 0

    def clear(self) -> None:
        self.read = self.written


_KIND_WORD: dict[DeviceKind, str] = {"input": "microphone", "output": "speaker"}


class _DeviceStream:
    """Opens, reopens (device switch, PortAudio re-initialisation) and falls back; the stream
    owner registered with the backend."""

    kind: DeviceKind

    def __init__(
        self,
        backend: DeviceBackend,
        device: AudioDevice | None,
        on_error: Callable[[str], None] | None,
    ) -> None:
        self.backend = backend
        self.requested: AudioDevice | None = device  # None: the system default
        self.current: AudioDevice | None = None  # what is open now (None: nothing or default)
        self.error: str | None = None
        self.on_error = on_error
        self.callbacks = 0  # PortAudio callbacks so far (stall detection)
        self._stream: AudioStream | None = None
        self._suspended = False
        self._wanted = False  # between start and stop

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        raise NotImplementedError

    def _fail(self, message: str) -> None:
        self.error = message
        log.warning("%s", message)
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("on_error handler failed")

    def _try_open(self, device: AudioDevice | None) -> AudioStream:
        stream = self.backend.open_stream(
            self.kind,
            device,
            samplerate=SAMPLE_RATE,
            channels=1,
            blocksize=BLOCK_SAMPLES,
            callback=self._callback,
        )
        try:
            stream.start()
        except Exception as exc:
            stream.close()
            raise DeviceError(str(exc)) from exc
        return stream

    def _open(self) -> None:
        """Opens the requested device, else the default; sets ``error`` on failure."""
        self._close_stream()
        self._wanted = True
        self.backend.register_owner(self)
        word = _KIND_WORD[self.kind]
        try:
            self._stream = self._try_open(self.requested)
            self.current = self.requested or self.backend.default_device(self.kind)
            self.error = None
            return
        except DeviceError as exc:
            self._fail(f"{word} unavailable: {exc}")
        if self.requested is None:
            return
        try:
            self._stream = self._try_open(None)
            self.current = self.backend.default_device(self.kind)
            log.info("%s: fell back to the system default", word)
        except DeviceError as exc:
            self._fail(f"{word} unavailable: {exc} (system default too)")

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
            with contextlib.suppress(Exception):
                stream.close()

    def _close(self) -> None:
        self._wanted = False
        self._close_stream()
        self.current = None
        self.backend.unregister_owner(self)

    def set_device(self, device: AudioDevice | None) -> None:
        """Switches to ``device`` (None: the system default); reopens now when running."""
        self.requested = device
        if self._wanted:
            self._open()

    # StreamOwner: the backend re-initialises PortAudio
    def suspend(self) -> None:
        if self._stream is not None:
            self._suspended = True
            self._close_stream()

    def resume(self) -> None:
        if self._suspended and self._wanted:
            self._suspended = False
            self._open()

    @property
    def latency_ms(self) -> float:
        if self._stream is None:
            return 0.0
        try:
            return float(self._stream.latency) * 1000.0
        except Exception:
            return 0.0


# ---------------------------------------------------------------------------------------------
# microphone


class _MicStream(_DeviceStream):
    kind: DeviceKind = "input"

    def __init__(self, track: MicrophoneTrack, *args: Any) -> None:
        super().__init__(*args)
        self.track = track

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        self.track._on_input(data)


class MicrophoneTrack(MediaStreamTrack):
    """An aiortc audio track of the microphone: 20 ms frames, s16 mono 48 kHz, paced by the
    device clock (``recv`` waits for the device), processed by ``processor``.

    The stream opens at the first ``recv`` (or :meth:`open`). ``muted`` sends silence but keeps
    capturing (the level meter and ``detector`` still see the raw audio). ``error`` holds the
    last device error; while no device delivers, silence frames are paced by the wall clock.
    """

    kind = "audio"

    def __init__(
        self,
        backend: DeviceBackend,
        device: AudioDevice | None = None,
        processor: AudioProcessor | None = None,
        *,
        detector: SpeakingWhileMutedDetector | None = None,
        on_error: Callable[[str], None] | None = None,
        max_latency_ms: int = 200,
    ) -> None:
        super().__init__()
        self.processor = processor
        self.detector = detector
        self.meter = LevelMeter()
        self.muted = False
        self.frames_sent = 0
        self._io = _MicStream(self, backend, device, on_error)
        self._ring = SampleRing(SAMPLE_RATE)  # 1 s
        self._max_queued = SAMPLE_RATE * max_latency_ms // 1000
        self._pacer = SourcePacer(STALL_S)
        self._frame: Int16 = np.zeros(FRAME_SAMPLES, np.int16)
        self._block: Int16 = np.zeros(BLOCK_SAMPLES, np.int16)
        self._time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts = 0

    @property
    def silent_frames(self) -> int:
        """Frames sent as silence because no device delivered."""
        return self._pacer.silent_frames

    # -- device

    @property
    def device(self) -> AudioDevice | None:
        """The device open now (after a fallback: the default)."""
        return self._io.current

    @property
    def error(self) -> str | None:
        return self._io.error

    @property
    def latency_ms(self) -> float:
        return self._io.latency_ms

    def open(self) -> None:
        self._pacer.bind_loop()
        if not self._io.is_open:
            self._io._open()

    def set_device(self, device: AudioDevice | None) -> None:
        """Captures from ``device`` from now on (the track stays the same)."""
        self._io.set_device(device)
        self._ring.clear()

    def stop(self) -> None:
        self._io._close()
        super().stop()
        self._pacer.wake()

    # -- PortAudio thread

    def _on_input(self, data: Any) -> None:
        self._io.callbacks += 1
        self._ring.write(data[:, 0])
        if self._pacer.waiting and self._ring.available >= FRAME_SAMPLES:
            self._pacer.wake()

    # -- loop

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._io._wanted:
            self._io._open()
        self._ring.skip_to(self._max_queued)
        silent = await self._pacer.wait_for_frame(
            lambda: self._ring.available >= FRAME_SAMPLES,
            lambda: self._io.callbacks,
            lambda: self._io.is_open,
            lambda: self.readyState == "live",
        )
        if silent:
            self._frame[:] = 0
        else:
            self._read_frame()
        frame = av.AudioFrame.from_ndarray(self._frame.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += FRAME_SAMPLES
        self.frames_sent += 1
        return frame

    def _read_frame(self) -> None:
        for half in range(FRAME_SAMPLES // BLOCK_SAMPLES):
            self._ring.read_into(self._block)
            raw = self._block
            self.meter.update(raw)
            if self.detector is not None:
                self.detector.update(raw, self.muted)
            out = self.processor.process_capture(raw) if self.processor is not None else raw
            dest = self._frame[half * BLOCK_SAMPLES : (half + 1) * BLOCK_SAMPLES]
            if self.muted:
                dest[:] = 0
            else:
                dest[:] = out


# ---------------------------------------------------------------------------------------------
# speakers


class _Source:
    """One participant's decoded audio waiting to be mixed (mono int16 48 kHz)."""

    def __init__(self, volume: float, max_samples: int) -> None:
        self.volume = volume
        self.max_samples = max_samples
        self.chunks: deque[Int16] = deque()
        self.size = 0
        self.offset = 0  # into chunks[0]
        self.task: asyncio.Task[None] | None = None
        self.one_shot = False
        self.done: asyncio.Event = asyncio.Event()
        self._resampler: av.AudioResampler | None = None
        self._format: tuple[str, str, int] | None = None

    def push(self, samples: Int16) -> None:
        if samples.size == 0:
            return
        self.chunks.append(samples)
        self.size += samples.size
        while self.size > self.max_samples and len(self.chunks) > 1:  # latency bound
            dropped = self.chunks.popleft()
            self.size -= dropped.size - self.offset
            self.offset = 0

    def take_into(self, out: npt.NDArray[np.float32]) -> int:
        """Adds up to ``len(out)`` samples x volume into ``out``; returns how many."""
        n = 0
        while n < out.size and self.chunks:
            chunk = self.chunks[0]
            k = min(out.size - n, chunk.size - self.offset)
            out[n : n + k] += chunk[self.offset : self.offset + k] * self.volume
            n += k
            self.offset += k
            if self.offset == chunk.size:
                self.chunks.popleft()
                self.offset = 0
        self.size -= n
        return n

    def convert(self, frame: av.AudioFrame) -> Int16:
        fmt, layout, rate = frame.format.name, frame.layout.name, frame.sample_rate
        if fmt == "s16" and rate == SAMPLE_RATE:
            channels = len(frame.layout.channels)
            data = frame.to_ndarray().reshape(-1)
            if channels > 1:
                return data.reshape(-1, channels).mean(axis=1).astype(np.int16)
            return data.astype(np.int16, copy=False)
        key = (fmt, layout, rate)
        if self._resampler is None or self._format != key:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            self._format = key
        parts = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)


class _SpeakerStream(_DeviceStream):
    kind: DeviceKind = "output"

    def __init__(self, mixer: SpeakerMixer, *args: Any) -> None:
        super().__init__(*args)
        self.mixer = mixer

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callbacks += 1
        played = data[:, 0]
        self.mixer._ring.read_into(played)
        for tap in self.mixer._playback_taps:
            try:
                tap(played)
            except Exception:  # a listener never stops the speakers
                log.exception("playback tap failed")


class SpeakerMixer:
    """Mixes remote audio tracks (per-participant ``volume``, and a master ``volume``) into an
    output device, paced by the device: the mixer keeps ``target_ms`` of mixed audio queued for
    the PortAudio callback and feeds each mixed 10 ms block to ``processor.process_render``
    (the echo canceller's far end). Also plays the speaker test sound."""

    def __init__(
        self,
        backend: DeviceBackend,
        device: AudioDevice | None = None,
        processor: AudioProcessor | None = None,
        *,
        target_ms: int = 40,
        max_source_ms: int = 200,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.processor = processor
        self.volume = 1.0
        self.target_samples = SAMPLE_RATE * target_ms // 1000
        self.max_source_samples = SAMPLE_RATE * max_source_ms // 1000
        self.blocks_mixed = 0
        self.meter = LevelMeter()  # of what is played
        self._io = _SpeakerStream(self, backend, device, on_error)
        self._ring = SampleRing(SAMPLE_RATE)
        self._sources: dict[str, _Source] = {}
        self._acc: npt.NDArray[np.float32] = np.zeros(BLOCK_SAMPLES, np.float32)
        self._block: Int16 = np.zeros(BLOCK_SAMPLES, np.int16)
        self._task: asyncio.Task[None] | None = None
        self._test_sounds = 0
        # called on the device thread with each block handed to the device (replaced whole)
        self._playback_taps: tuple[Callable[[Int16], None], ...] = ()

    # -- device

    @property
    def device(self) -> AudioDevice | None:
        return self._io.current

    @property
    def error(self) -> str | None:
        return self._io.error

    @property
    def output_delay_ms(self) -> float:
        """Device latency + what is queued in front of it: the render half of the echo delay."""
        return self._io.latency_ms + 1000.0 * self._ring.available / SAMPLE_RATE

    def set_device(self, device: AudioDevice | None) -> None:
        self._io.set_device(device)

    def add_playback_tap(self, tap: Callable[[Int16], None]) -> None:
        """Calls ``tap`` (on the device's thread, keep it short) with every block of samples
        handed to the device, silence included, in order: what the speakers really play."""
        self._playback_taps = (*self._playback_taps, tap)

    def remove_playback_tap(self, tap: Callable[[Int16], None]) -> None:
        self._playback_taps = tuple(t for t in self._playback_taps if t != tap)

    async def start(self) -> None:
        if self._task is None:
            self._io._open()
            self._task = asyncio.get_running_loop().create_task(self._mix_loop(), name="mixer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for key in list(self._sources):
            self.remove_track(key)
        self._io._close()

    # -- sources

    def add_track(self, key: str, track: MediaStreamTrack, volume: float = 1.0) -> None:
        """Plays ``track`` (a remote audio track) under ``key`` (the participant's id)."""
        self.remove_track(key)
        source = _Source(volume, self.max_source_samples)
        self._sources[key] = source
        source.task = asyncio.get_running_loop().create_task(
            self._pump(key, track, source), name=f"mixer-source-{key}"
        )

    def remove_track(self, key: str) -> None:
        source = self._sources.pop(key, None)
        if source is not None:
            if source.task is not None:
                source.task.cancel()
            source.done.set()

    def set_volume(self, key: str, volume: float) -> None:
        self._sources[key].volume = max(0.0, float(volume))

    @property
    def keys(self) -> list[str]:
        return list(self._sources)

    async def _pump(self, key: str, track: MediaStreamTrack, source: _Source) -> None:
        try:
            while True:
                frame = await track.recv()
                source.push(source.convert(frame))
        except MediaStreamError:
            pass
        except Exception:
            log.exception("audio source %s failed", key)
        finally:
            if self._sources.get(key) is source:
                # let what is queued play out; the mix loop drops it when empty
                source.one_shot = True

    def play_test_sound(
        self, frequency_hz: float = 440.0, duration_s: float = 1.0, amplitude: float = 0.3
    ) -> asyncio.Event:
        """Queues a tone (with 10 ms fades) for the speaker test; the event is set when it has
        been mixed. Works in and out of a call (start() the mixer first)."""
        n = int(duration_s * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        signal = amplitude * np.sin(2 * math.pi * frequency_hz * t)
        fade = min(n // 2, SAMPLE_RATE // 100)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            signal[:fade] *= ramp
            signal[n - fade :] *= ramp[::-1]
        self._test_sounds += 1
        key = f"__test_sound_{self._test_sounds}"
        source = _Source(1.0, n + 1)
        source.push(np.round(signal * 32767).astype(np.int16))
        source.one_shot = True
        self._sources[key] = source
        return source.done

    # -- mixing

    def mix_block(self) -> Int16:
        """Mixes the next 10 ms block, feeds it to the echo canceller and queues it for the
        device; returns it (a reused array)."""
        acc = self._acc
        acc[:] = 0.0
        for key, source in list(self._sources.items()):
            source.take_into(acc)
            if source.one_shot and source.size == 0:
                self._sources.pop(key, None)
                source.done.set()
        if self.volume != 1.0:
            acc *= self.volume
        np.clip(acc, -32768.0, 32767.0, out=acc)
        self._block[:] = acc
        if self.processor is not None:
            self.processor.process_render(self._block)
        self.meter.update(self._block)
        self._ring.write(self._block)
        self.blocks_mixed += 1
        return self._block

    async def _mix_loop(self) -> None:
        while True:
            # paced by the device: the callback drains the ring (with no device, sources are
            # bounded by max_source_ms and nothing is mixed)
            if self._io.is_open:
                while self._ring.written - self._ring.read < self.target_samples:
                    self.mix_block()
            await asyncio.sleep(BLOCK_SAMPLES / SAMPLE_RATE / 2)


def update_stream_delay(
    processor: AudioProcessor, mic: MicrophoneTrack, mixer: SpeakerMixer
) -> int:
    """Sets the echo canceller's delay hint from the devices' latencies; returns it (ms)."""
    delay = round(mic.latency_ms + mixer.output_delay_ms)
    processor.set_stream_delay_ms(delay)
    return delay
