"""MicrophoneTrack and SpeakerMixer: on the fake backend (always), and through a PulseAudio null
sink (speaker -> sink -> monitor source -> microphone) when PulseAudio and sounddevice are
available."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.pulse import pulse_devices
from visio_desktop.media.audio_io import (
    FRAME_SAMPLES,
    STALL_S,
    MicrophoneTrack,
    SampleRing,
    SpeakerMixer,
)
from visio_desktop.media.audio_processing import AudioProcessor
from visio_desktop.media.devices import FakeDeviceBackend
from visio_desktop.media.synthetic import ToneSource, analyse_tone
from visio_desktop.media.synthetic_tracks import ToneAudioTrack


def _backend() -> FakeDeviceBackend:
    backend = FakeDeviceBackend()
    backend.add(FakeDeviceBackend.device("input", "Built-in Mic"), default=True)
    backend.add(FakeDeviceBackend.device("input", "Headset"))
    backend.add(FakeDeviceBackend.device("output", "Speakers"), default=True)
    backend.add(FakeDeviceBackend.device("output", "Headset"))
    return backend


def _dev(backend: FakeDeviceBackend, kind: str, name: str):  # type: ignore[no-untyped-def]
    return next(d for d in backend.list_devices(kind) if d.name == name)  # type: ignore[arg-type]


class RecordingProcessor(AudioProcessor):
    def __init__(self) -> None:
        super().__init__(engine="passthrough")
        self.render: list[npt.NDArray[np.int16]] = []
        self.captured = 0

    def process_render(self, block: npt.NDArray[np.int16]) -> None:
        self.render.append(block.copy())
        super().process_render(block)

    def process_capture(self, block: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        self.captured += 1
        return super().process_capture(block)


def test_sample_ring_wraps_and_drops() -> None:
    ring = SampleRing(1000)
    out = np.zeros(600, np.int16)
    ring.write(np.arange(700, dtype=np.int16))
    assert ring.read_into(out) == 600 and out[-1] == 599
    ring.write(np.arange(700, 1400, dtype=np.int16))  # wraps
    assert ring.available == 800
    assert ring.read_into(out) == 600 and list(out[:2]) == [600, 601]
    ring.write(np.arange(2000, dtype=np.int16))  # laps the reader: keeps the newest 1000
    assert ring.read_into(out) == 600 and out[0] == 1000 and ring.dropped > 0
    assert ring.read_into(out) == 400 and not out[400:].any()


# ---------------------------------------------------------------------------------------------
# microphone, fake backend


async def test_microphone_frames_processing_and_switch() -> None:
    backend = _backend()
    processor = RecordingProcessor()
    mic = MicrophoneTrack(backend, processor=processor)
    mic.open()
    stream = backend.stream_for("input")
    assert stream.active and mic.device == _dev(backend, "input", "Built-in Mic")
    source = ToneSource(1000.0)
    for _ in range(4):
        stream.pump(480, source.next_block())
    a, b = await mic.recv(), await mic.recv()
    assert a.samples == FRAME_SAMPLES and a.sample_rate == 48000 and a.layout.name == "mono"
    assert (a.pts, b.pts) == (0, FRAME_SAMPLES)
    assert processor.captured == 4
    samples = np.concatenate([a.to_ndarray().reshape(-1), b.to_ndarray().reshape(-1)])
    assert abs(analyse_tone(samples, 48000).frequency_hz - 1000.0) < 5.0

    headset = _dev(backend, "input", "Headset")
    mic.set_device(headset)  # during a call: same track, another stream
    assert stream.closed and mic.device == headset and mic.error is None
    new = backend.stream_for("input")
    assert new.device == headset
    new.pump(960)
    assert (await mic.recv()).pts == 2 * FRAME_SAMPLES

    mic.muted = True
    new.pump(960, next(iter([np.full(960, 1000, np.int16)])))
    frame = await mic.recv()
    assert not frame.to_ndarray().any() and mic.meter.last.rms_dbfs > -40.0
    mic.stop()
    assert backend.streams == []


async def test_microphone_open_error_falls_back_to_default() -> None:
    backend = _backend()
    headset = _dev(backend, "input", "Headset")
    backend.fail_open.add(headset.id)
    errors: list[str] = []
    mic = MicrophoneTrack(backend, device=headset, on_error=errors.append)
    mic.open()
    assert errors and errors[0].startswith("microphone unavailable: ")
    assert mic.error == errors[0]
    assert backend.stream_for("input").device == _dev(backend, "input", "Built-in Mic")
    mic.stop()

    backend.fail_open.add(_dev(backend, "input", "Built-in Mic").id)
    mic = MicrophoneTrack(backend, device=headset, on_error=errors.append)
    mic.open()  # nothing opens: an error, no exception, and the track sends paced silence
    assert "system default too" in (mic.error or "")
    t0 = time.monotonic()
    frames = [await mic.recv() for _ in range(5)]
    elapsed = time.monotonic() - t0
    assert all(not f.to_ndarray().any() for f in frames) and mic.silent_frames == 5
    assert 0.06 <= elapsed < 0.5
    mic.stop()


async def test_microphone_device_lost_sends_silence_then_recovers() -> None:
    backend = _backend()
    mic = MicrophoneTrack(backend)
    mic.open()
    stream = backend.stream_for("input")
    stream.pump(960)
    await mic.recv()
    backend.remove(stream.device.id)  # unplugged: the stream stops delivering
    t0 = time.monotonic()
    await mic.recv()  # does not hang the sender
    assert STALL_S * 0.8 <= time.monotonic() - t0 < STALL_S + 0.3 and mic.silent_frames == 1
    mic.set_device(None)  # what the monitor's fallback does
    backend.stream_for("input").pump(960, np.full(960, 500, np.int16))
    frame = await mic.recv()
    assert frame.to_ndarray().min() == 500
    mic.stop()


# ---------------------------------------------------------------------------------------------
# speakers, fake backend


async def _drain(backend: FakeDeviceBackend, blocks: int) -> npt.NDArray[np.int16]:
    """Plays ``blocks`` of 10 ms from the fake output, letting the loop run in between."""
    out = []
    for _ in range(blocks):
        await asyncio.sleep(0.011)
        out.append(backend.stream_for("output").pump(480)[:, 0].copy())
    return np.concatenate(out)


async def test_mixer_mixes_volumes_and_feeds_render() -> None:
    backend = _backend()
    processor = RecordingProcessor()
    mixer = SpeakerMixer(backend, processor=processor)
    await mixer.start()
    mixer.add_track("alice", ToneAudioTrack(600.0, amplitude=0.2))
    mixer.add_track("bob", ToneAudioTrack(1500.0, channels=2, amplitude=0.2), volume=0.0)
    played = await _drain(backend, 60)
    last = played[-24000:]
    reading = analyse_tone(last, 48000)
    assert abs(reading.frequency_hz - 600.0) < 5.0
    assert -20.0 < reading.rms_dbfs < -15.0  # 0.2 amplitude: -17 dBFS; bob muted
    # what the echo canceller heard as far end is what was played
    rendered = np.concatenate(processor.render)
    assert rendered.size >= played.size
    assert np.array_equal(rendered[: played.size], played)

    mixer.set_volume("bob", 1.0)
    mixer.set_volume("alice", 0.0)
    played = await _drain(backend, 50)
    assert abs(analyse_tone(played[-9600:], 48000).frequency_hz - 1500.0) < 8.0

    speakers = _dev(backend, "output", "Headset")
    mixer.set_device(speakers)
    assert backend.stream_for("output").device == speakers
    await mixer.stop()
    assert backend.streams == []


async def test_test_sound_and_output_error() -> None:
    backend = _backend()
    bad = _dev(backend, "output", "Headset")
    backend.fail_open.add(bad.id)
    errors: list[str] = []
    mixer = SpeakerMixer(backend, device=bad, on_error=errors.append)
    await mixer.start()
    assert errors[0].startswith("speaker unavailable: ")
    assert mixer.device == _dev(backend, "output", "Speakers")
    done = mixer.play_test_sound(880.0, duration_s=0.3)
    played = await _drain(backend, 40)
    assert done.is_set()
    assert abs(analyse_tone(played[played != 0], 48000).frequency_hz - 880.0) < 5.0
    await mixer.stop()


# ---------------------------------------------------------------------------------------------
# real devices: PulseAudio null sink


@pytest.fixture
def null_sink() -> Iterator[str]:
    """A PulseAudio null sink as the default output, its monitor as the default input (what
    PortAudio's ALSA "pulse"/"default" devices use)."""
    sink = f"vd_test_{os.getpid()}"
    with pulse_devices([("module-null-sink", f"sink_name={sink}")], default_sink=sink,
                       default_source=f"{sink}.monitor"):
        yield sink


async def test_loopback_through_pulseaudio_null_sink(null_sink: str) -> None:
    from visio_desktop.media.devices import SoundDeviceBackend

    backend = SoundDeviceBackend(helper_scan=False)
    # PortAudio froze its device list when sounddevice was first imported, maybe before this
    # PulseAudio server started (a clean machine): re-initialise it (no stream is open)
    backend.refresh()
    try:
        assert backend.list_devices("input") and backend.list_devices("output")
        mixer = SpeakerMixer(backend)
        await mixer.start()
        assert mixer.error is None, mixer.error
        mixer.add_track("remote", ToneAudioTrack(700.0, amplitude=0.3))
        mic = MicrophoneTrack(backend)
        mic.open()
        assert mic.error is None, mic.error
        t0 = time.monotonic()
        frames = [await mic.recv() for _ in range(100)]  # 2 s
        elapsed = time.monotonic() - t0
        mic.stop()
        await mixer.stop()
    finally:
        backend.close()
    captured = np.concatenate([f.to_ndarray().reshape(-1) for f in frames[50:]])
    reading = analyse_tone(captured, 48000)
    assert abs(reading.frequency_hz - 700.0) < 5.0, reading
    assert reading.rms_dbfs > -20.0, reading
    # ALSA's pulse plugin reading a null sink's monitor delivers in bursts with gaps here (a
    # plain sd.InputStream gets ~30 callbacks/s instead of 100), so the track fills the gaps
    # with silence: only check that real audio came through and that recv() never stalled
    assert mic.silent_frames < 90, mic.silent_frames
    assert elapsed < 4.0
