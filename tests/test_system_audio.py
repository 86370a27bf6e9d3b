"""Computer sound for screen sharing (:mod:`visio_desktop.media.system_audio`).

* Support and WASAPI loopback selection on faked platforms and device lists (always run);
* the track over a fake PortAudio backend: a 44.1 kHz / 5.1 loopback converted to 48 kHz
  stereo, an unplugged device (silence and an error, then recovery);
* the Linux capture for real, on a **private** PulseAudio server (its own socket, so tests
  running beside it that change the shared server's default sink cannot interfere): null sinks,
  a 700 Hz tone played to the default sink, frames checked for frequency, level and pacing;
  parec killed (recovers), the default sink changed (follows), no server (silence + error);
* publishing as ``screen_share_audio`` through our server to a second Room.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from tests.conftest import ServerThread
from visio_desktop.media import system_audio as sa
from visio_desktop.media.audio_io import FRAME_SAMPLES, STALL_S
from visio_desktop.media.devices import AudioDevice, FakeDeviceBackend, make_device_id
from visio_desktop.media.synthetic import analyse_tone
from visio_desktop.media.synthetic_tracks import ToneAudioTrack
from visio_desktop.media.system_audio import (
    LOOPBACK_SUFFIX,
    MACOS_REASON,
    NO_LOOPBACK_REASON,
    NO_PAREC_REASON,
    NO_SERVER_REASON,
    OTHER_OS_REASON,
    PulseMonitorCapture,
    SystemAudioTrack,
    WasapiLoopbackCapture,
    WasapiProbe,
    is_loopback_device,
    make_capture,
    select_loopback_device,
    system_audio_support,
)
from visio_desktop.net.room import Room

pytestmark = pytest.mark.timeout(90)

WASAPI = "Windows WASAPI"
TONE_HZ = 700.0
TONE_AMPLITUDE = 0.3
TONE_DBFS = 20 * math.log10(TONE_AMPLITUDE / math.sqrt(2))  # -13.5 dBFS
Int16 = npt.NDArray[np.int16]


def _dev(name: str, host_api: str = WASAPI, kind: str = "input", *, index: int | None = None,
         channels: int = 2, rate: float = 48000.0) -> AudioDevice:
    return AudioDevice(make_device_id(host_api, name, 0), name, kind,  # type: ignore[arg-type]
                       host_api, channels=channels, default_samplerate=rate, index=index)


def _samples(frames: list[av.AudioFrame]) -> Int16:
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)


def _tone(hz: float, rate: int, n: int, channels: int, start: int = 0,
          amplitude: float = TONE_AMPLITUDE) -> Int16:
    """``n`` frames of a sine on every channel, interleaved."""
    t = (start + np.arange(n)) / rate
    mono = np.round(amplitude * 32767 * np.sin(2 * math.pi * hz * t)).astype(np.int16)
    return np.repeat(mono[:, None], channels, axis=1).reshape(-1)


# ---------------------------------------------------------------------------------------------
# Windows loopback selection (fake device lists)

INPUTS = [
    _dev("Microphone (Realtek(R) Audio)", index=10),
    _dev("Microphone (Realtek(R) Audio)", "MME", index=1),
    _dev("Speakers (Realtek(R) Audio)" + LOOPBACK_SUFFIX, index=14),
    _dev("Haut-parleurs (Jabra Evolve2 65)" + LOOPBACK_SUFFIX, index=15),
    _dev("Casque (Fake)" + LOOPBACK_SUFFIX, "MME", index=2),  # not WASAPI: never a loopback
]


def test_select_loopback_device_of_the_default_output() -> None:
    jabra = INPUTS[3]
    assert select_loopback_device(INPUTS, "Haut-parleurs (Jabra Evolve2 65)") == jabra
    # PortAudio's global default is an MME device, its name cut at 31 characters
    assert select_loopback_device(INPUTS, "Haut-parleurs (Jabra Evolve2 6") == jabra
    assert select_loopback_device(INPUTS, "Speakers (Realtek(R) Audio)") == INPUTS[2]
    # unknown or no default output: the first loopback device
    assert select_loopback_device(INPUTS, "HDMI (Intel)") == INPUTS[2]
    assert select_loopback_device(INPUTS, None) == INPUTS[2]
    # a PortAudio without loopback support (the stock v19.7.0 DLL): none
    assert select_loopback_device(INPUTS[:2], "Speakers (Realtek(R) Audio)") is None
    assert not is_loopback_device(INPUTS[4])
    assert not is_loopback_device(_dev("Speakers" + LOOPBACK_SUFFIX, kind="output"))


def test_is_loopback_uses_portaudio_answer_when_known() -> None:
    probe = WasapiProbe("Speakers (Realtek(R) Audio)", frozenset({15}))
    assert [d.index for d in INPUTS if is_loopback_device(d, probe)] == [15]
    assert select_loopback_device(INPUTS, probe.default_output, probe) == INPUTS[3]
    unknown = WasapiProbe(None, None)  # PaWasapi_IsLoopback missing: names decide
    assert [d.index for d in INPUTS if is_loopback_device(d, unknown)] == [14, 15]


# ---------------------------------------------------------------------------------------------
# support on faked platforms


def _fake_backend(*devices: AudioDevice) -> FakeDeviceBackend:
    backend = FakeDeviceBackend()
    for device in devices:
        backend.add(device)
    return backend


def test_support_on_faked_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    mac = system_audio_support("darwin")
    assert not mac.available and mac.reason == MACOS_REASON and "macOS" in mac.reason
    assert system_audio_support("freebsd14").reason == OTHER_OS_REASON

    speakers = _dev("Speakers (Realtek(R) Audio)", kind="output", index=3)
    loopback = _dev("Speakers (Realtek(R) Audio)" + LOOPBACK_SUFFIX, index=14)
    win = system_audio_support("win32", backend=_fake_backend(INPUTS[0], speakers, loopback),
                               probe=WasapiProbe(None, None))
    assert win.available and win.method == "wasapi-loopback" and win.device == loopback.name
    stock = system_audio_support("win32", backend=_fake_backend(INPUTS[0], speakers),
                                 probe=WasapiProbe(None, None))
    assert not stock.available and stock.reason == NO_LOOPBACK_REASON

    real_which = shutil.which
    monkeypatch.setattr(sa.shutil, "which",
                        lambda name: None if name == "parec" else real_which(name))
    assert system_audio_support("linux").reason == NO_PAREC_REASON
    monkeypatch.setattr(sa.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(sa, "_pactl", lambda args, server, timeout=3.0: None)  # no server
    no_server = system_audio_support("linux")
    assert not no_server.available and no_server.reason == NO_SERVER_REASON


async def test_unsupported_platform_track_sends_silence_with_error() -> None:
    errors: list[str] = []
    track = SystemAudioTrack(capture=make_capture(platform="darwin"), on_error=errors.append)
    t0 = time.monotonic()
    frames = [await track.recv() for _ in range(5)]
    elapsed = time.monotonic() - t0
    await asyncio.sleep(0)  # on_error is delivered on the loop
    assert track.error is not None and MACOS_REASON in track.error
    assert errors == [track.error]
    assert all(not f.to_ndarray().any() for f in frames) and track.silent_frames == 5
    assert 0.08 <= elapsed < 0.5  # paced like a live source
    track.stop()


# ---------------------------------------------------------------------------------------------
# the track over a fake PortAudio backend (the Windows path)


async def test_wasapi_loopback_44k_converted_then_unplugged_and_back() -> None:
    speakers = _dev("Speakers (Realtek(R) Audio)", kind="output", index=3, rate=44100)
    loopback = _dev("Speakers (Realtek(R) Audio)" + LOOPBACK_SUFFIX, index=14, rate=44100)
    backend = _fake_backend(INPUTS[0], speakers, loopback)
    errors: list[str] = []
    capture = WasapiLoopbackCapture(backend, probe=WasapiProbe(None, None), retry_s=0.2)
    track = SystemAudioTrack(capture=capture, on_error=errors.append)
    track.open()
    stream = backend.stream_for("input")
    assert stream.device == loopback and stream.channels == 2 and backend.owners == [capture]
    assert (capture.rate, capture.channels) == (44100, 2) and track.error is None

    sent = 0
    frames: list[av.AudioFrame] = []
    for _ in range(60):  # 10 ms blocks at 44.1 kHz in, 20 ms frames at 48 kHz out
        for _ in range(2):
            stream.pump(441, _tone(TONE_HZ, 44100, 441, 2, start=sent))
            sent += 441
        frames.append(await track.recv())
    first = frames[0]
    assert (first.sample_rate, first.samples, first.layout.name) == (48000, FRAME_SAMPLES,
                                                                      "stereo")
    assert [f.pts for f in frames[:3]] == [0, FRAME_SAMPLES, 2 * FRAME_SAMPLES]
    reading = analyse_tone(_samples(frames[10:]), 48000, channels=2)
    assert abs(reading.frequency_hz - TONE_HZ) < 3.0, reading
    assert abs(reading.rms_dbfs - TONE_DBFS) < 1.0, reading

    backend.remove(loopback.id)  # unplugged: the stream stops, nothing else to capture
    t0 = time.monotonic()
    silent = [await track.recv() for _ in range(40)]
    assert time.monotonic() - t0 < STALL_S + 40 * 0.02 + 0.5  # never hangs the sender
    assert not _samples(silent[-20:]).any() and track.silent_frames >= 20
    assert track.error is not None and "unavailable" in track.error
    await asyncio.sleep(0)
    assert errors and errors[-1] == track.error

    backend.add(loopback)  # plugged in again: reopened by the track's polling
    for _ in range(60):
        await track.recv()
        if backend.streams:
            break
    assert track.error is None and backend.stream_for("input").device == loopback
    track.stop()
    assert backend.streams == [] and backend.owners == []


async def test_multichannel_loopback_is_downmixed_to_stereo_and_mono() -> None:
    loopback = _dev("HDMI (Intel)" + LOOPBACK_SUFFIX, index=20, channels=6, rate=48000)
    for channels in (2, 1):
        backend = _fake_backend(loopback)
        track = SystemAudioTrack(channels=channels,
                                 capture=WasapiLoopbackCapture(backend, probe=WasapiProbe()))
        track.open()
        stream = backend.stream_for("input")
        assert stream.channels == 6
        frames = []
        for i in range(30):
            for j in range(2):
                stream.pump(480, _tone(TONE_HZ, 48000, 480, 6, start=(2 * i + j) * 480))
            frames.append(await track.recv())
        assert frames[0].layout.name == ("stereo" if channels == 2 else "mono")
        reading = analyse_tone(_samples(frames[5:]), 48000, channels=channels)
        assert abs(reading.frequency_hz - TONE_HZ) < 3.0 and reading.rms_dbfs > -30.0, reading
        track.stop()


# ---------------------------------------------------------------------------------------------
# Linux: a private PulseAudio server


@dataclass
class Pulse:
    server: str
    folder: Path

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", f"--server={self.server}", *args], capture_output=True,
                              text=True, check=True, env={**os.environ, "LC_ALL": "C"}).stdout

    def play(self, hz: float, device: str | None = None, seconds: float = 30.0,
             ) -> subprocess.Popen[bytes]:
        """Plays a tone (mono, 48 kHz, amplitude 0.3) with paplay, to ``device`` or the default
        sink."""
        path = self.folder / f"tone_{int(hz)}.wav"
        if not path.exists():
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(48000)
                out.writeframes(_tone(hz, 48000, int(48000 * seconds), 1).tobytes())
        device_args = [f"--device={device}"] if device else []
        return subprocess.Popen(["paplay", f"--server={self.server}", *device_args, str(path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def pulse() -> Iterator[Pulse]:
    """Our own PulseAudio daemon (no config, no suspend-on-idle) with two null sinks:
    ``vd_speakers`` (made the default) and ``vd_headset``."""
    if not all(shutil.which(t) for t in ("pulseaudio", "pactl", "parec", "paplay")):
        pytest.skip("PulseAudio (pulseaudio, pulseaudio-utils) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="vd_sa_"))  # short: a socket path is <= 107 bytes
    socket = folder / "native"
    env = {**os.environ, "HOME": str(folder), "PULSE_RUNTIME_PATH": str(folder),
           "PULSE_STATE_PATH": str(folder), "LC_ALL": "C"}
    env.pop("PULSE_SERVER", None)
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--log-target=stderr", "--log-level=error",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1",
         "-L", "module-null-sink sink_name=vd_headset rate=48000",
         "-L", "module-null-sink sink_name=vd_speakers rate=48000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    pulse = Pulse(f"unix:{socket}", folder)
    try:
        for _ in range(50):
            if daemon.poll() is not None:
                pytest.skip(f"pulseaudio would not start (status {daemon.returncode})")
            try:
                pulse.pactl("set-default-sink", "vd_speakers")
                break
            except subprocess.CalledProcessError:
                time.sleep(0.1)
        else:
            pytest.skip("pulseaudio did not answer")
        yield pulse
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(folder, ignore_errors=True)


async def _until_tone(track: SystemAudioTrack, hz: float, timeout_s: float = 10.0,
                      ) -> list[av.AudioFrame]:
    """Receives until 0.2 s of ``hz`` has arrived; returns what was received."""
    frames: list[av.AudioFrame] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frames.append(await track.recv())
        if len(frames) >= 10:
            reading = analyse_tone(_samples(frames[-10:]), 48000, channels=2)
            if reading.rms_dbfs > -30.0 and abs(reading.frequency_hz - hz) < 5.0:
                return frames
    last = analyse_tone(_samples(frames[-10:]), 48000, channels=2) if frames else None
    raise AssertionError(f"no {hz} Hz tone within {timeout_s} s ({track.error=}, {last=})")


async def _until_starts(capture: PulseMonitorCapture, starts: int, timeout_s: float = 5.0,
                        ) -> None:
    deadline = time.monotonic() + timeout_s
    while capture.starts < starts and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert capture.starts == starts, (capture.starts, capture.source)


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.kill()
        proc.wait()


async def test_default_sink_monitor_carries_what_the_computer_plays(pulse: Pulse) -> None:
    support = system_audio_support("linux", server=pulse.server)
    assert support.available and support.device == "vd_speakers.monitor", support
    assert sa.default_sink(pulse.server) == "vd_speakers"

    players = [pulse.play(TONE_HZ), pulse.play(1000.0, device="vd_headset")]  # the latter:
    try:                                                                # another output
        track = SystemAudioTrack(server=pulse.server)
        t0 = time.monotonic()
        await _until_tone(track, TONE_HZ)
        onset_s = time.monotonic() - t0
        silent_before = track.silent_frames
        t1 = time.monotonic()
        frames = [await track.recv() for _ in range(100)]  # 2 s
        elapsed = time.monotonic() - t1
        track.stop()
    finally:
        _stop(*players)
    assert isinstance(track.capture, PulseMonitorCapture)
    assert track.capture.source == "vd_speakers.monitor" and track.error is None
    assert all(f.sample_rate == 48000 and f.samples == FRAME_SAMPLES
               and f.layout.name == "stereo" for f in frames)
    assert [f.pts for f in frames[:2]] == [frames[0].pts, frames[0].pts + FRAME_SAMPLES]
    audio = _samples(frames)
    reading = analyse_tone(audio, 48000, channels=2)
    print(f"system audio: onset {onset_s:.2f} s, {reading}, 100 frames in {elapsed:.2f} s, "
          f"silent frames {track.silent_frames - silent_before}")
    assert abs(reading.frequency_hz - TONE_HZ) < 2.0, reading  # 1000 Hz on the other sink
    assert abs(reading.rms_dbfs - TONE_DBFS) < 1.0, reading  # unity gain: -13.5 dBFS
    left, right = audio[0::2].astype(np.int32), audio[1::2].astype(np.int32)
    assert np.abs(left - right).max() <= 1  # a mono source lands on both channels
    assert track.silent_frames == silent_before  # steady: no gap filled with silence
    assert 1.6 < elapsed < 2.6  # paced by the capture clock (20 ms a frame)


async def test_capture_restarts_and_follows_the_default_sink(pulse: Pulse) -> None:
    players = [pulse.play(TONE_HZ), pulse.play(1000.0, device="vd_headset")]
    errors: list[str] = []
    capture = PulseMonitorCapture(server=pulse.server, poll_s=0.3, retry_s=0.3)
    track = SystemAudioTrack(capture=capture, on_error=errors.append)
    try:
        await _until_tone(track, TONE_HZ)
        assert capture.starts == 1 and capture.pid is not None
        os.kill(capture.pid, signal.SIGKILL)  # parec dies: silence and an error, no exception
        for _ in range(10):
            await track.recv()
        assert track.error is not None and "parec exited" in track.error, track.error
        assert errors and "parec exited" in errors[0]
        await _until_tone(track, TONE_HZ)  # restarted by itself
        assert capture.starts == 2 and track.error is None

        # a microphone becomes the default source while our monitor is the default source
        # (no other source here): the server moves our stream to it; the reader reopens the
        # monitor, so what is sent is the computer's sound again, not the microphone
        pulse.pactl("load-module", "module-sine-source", "source_name=vd_mic", "frequency=440",
                    "rate=48000")
        pulse.pactl("set-default-source", "vd_mic")
        await _until_starts(capture, 3)
        await asyncio.sleep(0.5)
        await _until_tone(track, TONE_HZ)
        assert capture.source == "vd_speakers.monitor"

        # the user plugs in a headset; the 700 Hz player stops first, as PulseAudio >= 15
        # moves the streams playing on the default sink to the new one
        _stop(players[0])
        pulse.pactl("set-default-sink", "vd_headset")
        await _until_starts(capture, 4)
        assert capture.source == "vd_headset.monitor"
        await _until_tone(track, 1000.0)
    finally:
        track.stop()
        _stop(*players)
    assert capture.pid is None


async def test_no_server_sends_paced_silence_with_error(tmp_path: Path) -> None:
    if shutil.which("parec") is None:
        pytest.skip("parec is not installed")
    server = f"unix:{tmp_path}/nothing-here"
    assert system_audio_support("linux", server=server).reason in (NO_SERVER_REASON, "")
    errors: list[str] = []
    track = SystemAudioTrack(server=server, on_error=errors.append)
    t0 = time.monotonic()
    frames = [await track.recv() for _ in range(25)]
    elapsed = time.monotonic() - t0
    track.stop()
    assert not _samples(frames).any() and track.silent_frames == 25
    assert 0.4 <= elapsed < 1.5
    assert track.error is not None and track.error.startswith("computer sound unavailable")
    assert errors and errors[0] == track.error


async def test_capture_that_delivers_nothing_sends_silence_with_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parec that runs but sends nothing (a stuck server): silence, an error, restarts."""
    fake = tmp_path / "parec"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sa.shutil, "which",
                        lambda name: str(fake) if name == "parec" else None)  # no pactl
    errors: list[str] = []
    capture = PulseMonitorCapture(no_data_s=0.3, retry_s=0.1)
    track = SystemAudioTrack(capture=capture, on_error=errors.append)
    t0 = time.monotonic()
    frames = [await track.recv() for _ in range(50)]  # 1 s
    elapsed = time.monotonic() - t0
    track.stop()
    assert not _samples(frames).any() and track.silent_frames == 50
    assert 0.9 <= elapsed < 1.6
    assert capture.source == "@DEFAULT_MONITOR@"  # no pactl: the server's own alias
    assert errors and errors[0] == "computer sound unavailable: no sound from " \
        "@DEFAULT_MONITOR@ for 0.3 s"
    assert capture.starts >= 2 and capture.pid is None  # restarted, then stopped


# ---------------------------------------------------------------------------------------------
# publishing as screen_share_audio


async def _publish_and_receive(server: ServerThread, track: object, seconds: float
                               ) -> tuple[str, list[av.AudioFrame]]:
    alice, bob = Room(), Room()
    received: list[av.AudioFrame] = []
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def pump(remote) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(Exception):  # noqa: B017 - ends with the connection
            while True:
                received.append(await remote.recv())

    tasks: list[asyncio.Task[None]] = []

    def on_track(remote, pub, participant) -> None:  # type: ignore[no-untyped-def]
        if not got.done():
            got.set_result(pub.source)
            tasks.append(asyncio.ensure_future(pump(remote)))

    bob.on("track_subscribed", on_track)
    try:
        await alice.connect(server.url, server.token("share", "alice"))
        await bob.connect(server.url, server.token("share", "bob"))
        pub = await alice.publish_track(track, "screen_share_audio")  # type: ignore[arg-type]
        assert pub.source == "screen_share_audio" and pub.kind == "audio"
        source = await asyncio.wait_for(got, 15)
        deadline = time.monotonic() + 15
        while len(received) < seconds * 50 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        remote = next(iter(bob.remote_participants.values()))
        assert [p.source for p in remote.track_publications.values()] == ["screen_share_audio"]
    finally:
        await alice.disconnect()
        await bob.disconnect()
        for task in tasks:
            task.cancel()
    return source, received


async def test_tone_published_as_screen_share_audio(room_server: ServerThread) -> None:
    source, received = await _publish_and_receive(room_server, ToneAudioTrack(TONE_HZ), 1.0)
    assert source == "screen_share_audio"
    reading = analyse_tone(_samples(received[-25:]), 48000, channels=2)
    assert abs(reading.frequency_hz - TONE_HZ) < 5.0, reading


async def test_system_audio_published_to_another_room(room_server: ServerThread,
                                                      pulse: Pulse) -> None:
    player = pulse.play(TONE_HZ)
    track = SystemAudioTrack(server=pulse.server)
    try:
        source, received = await _publish_and_receive(room_server, track, 3.0)
    finally:
        track.stop()
        _stop(player)
    assert source == "screen_share_audio"
    audio = _samples(received[-50:])  # the last second Bob received
    layout = received[-1].layout.name
    reading = analyse_tone(audio, 48000, channels=2 if layout == "stereo" else 1)
    print(f"received over the room: {reading} ({layout})")
    assert abs(reading.frequency_hz - TONE_HZ) < 5.0, reading
    assert abs(reading.rms_dbfs - TONE_DBFS) < 3.0, reading  # Opus keeps the level
