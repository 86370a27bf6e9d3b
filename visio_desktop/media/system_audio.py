"""Computer sound for screen sharing: a ``screen_share_audio`` track of what the computer plays.

* :func:`system_audio_support` says whether this OS and session can capture it, and if not
  why, in words fit for the UI (the "share computer sound" checkbox is disabled with the
  reason as its tooltip);
* :class:`SystemAudioTrack` is the aiortc audio track: 20 ms frames of s16 at 48 kHz, stereo
  (or mono), with **no** echo cancellation, noise suppression or gain (music and videos must
  pass through untouched). Publish it with ``room.publish_track(track, "screen_share_audio")``.

How each OS is captured:

* **Linux** (PulseAudio, or PipeWire with ``pipewire-pulse``): the monitor source of the default
  sink, read from a ``parec`` subprocess (``pulseaudio-utils``; ``--device=<sink>.monitor
  --format=s16le --rate=48000 --channels=2 --latency-msec=20``), the default sink found with
  ``pactl info`` (run with ``LC_ALL=C``: its labels are translated). A subprocess is isolated:
  it cannot crash or block the call, stopping it is a kill, and nothing process-global
  changes. (Measured alternatives that also work: PortAudio's ALSA ``pulse`` device with
  ``PULSE_SOURCE=<sink>.monitor`` set while the stream opens — rejected, the variable is
  process-global and ``setenv`` races other threads' ``getenv``, and a PortAudio stream is
  bound to the backend's re-initialisation rules; and libpulse-simple through ctypes —
  rejected, a blocked ``pa_simple_read`` cannot be interrupted and libpulse aborts the process
  on misuse.) The reader restarts ``parec`` when it exits or delivers nothing, and within
  ``poll_s`` follows a change of the default sink (plugging in a headset). It also reopens the
  monitor when the monitor was the default source and that changes: PulseAudio >= 15 then moves
  the streams on it to the new default source, a microphone (parec cannot set
  ``PA_STREAM_DONT_MOVE``).
* **Windows**: WASAPI loopback of the default output, through PortAudio. PortAudio lists one
  extra WASAPI *input* device per output, named ``"<output name> [Loopback]"``
  (``PaWasapi_IsLoopback()`` is 1), since its commit 605fc89 (2022) — **after** the last
  release, v19.7.0, which is what the sounddevice wheel bundles. So the app must ship a
  PortAudio DLL built from PortAudio's main branch (sounddevice loads a ``portaudio.dll`` found
  on ``PATH`` before its bundled one); with the stock DLL :func:`system_audio_support` says it is
  unavailable. The loopback stream is opened through the :class:`~.devices.DeviceBackend` at
  the mix format (rate and channels of the output) and converted to 48 kHz stereo here.
* **macOS**: unavailable (it needs ScreenCaptureKit, macOS 13+, or a virtual audio device).

Our own playback is captured too: the monitor (and WASAPI loopback) carries everything the
output plays, including the other participants' voices from our
:class:`~.audio_io.SpeakerMixer`, so they would hear themselves about 100-300 ms late. It cannot
be excluded simply on Linux (a monitor is the whole sink mix; per-stream routing would need a
null sink and moving every other application's streams, which changes the user's setup), and
the WASAPI *process loopback* API that excludes a process on Windows 10 2004+
(``PROCESS_LOOPBACK_MODE_EXCLUDE_TARGET_PROCESS_TREE``, what Teams and Chrome use) is not in
PortAudio. So it is subtracted: give the track a :class:`~.playback_canceller.PlaybackCanceller`
fed with what the mixer plays (:meth:`~.audio_io.SpeakerMixer.add_playback_tap`), as the call
does; it estimates the delay and the echo path and removes our playback, leaving the rest.

Errors never raise into the call: when the capture cannot start, stops, or delivers nothing,
``error`` says so (``on_error(message)`` is called on the track's event loop) and the track
sends silence paced by the wall clock; it recovers by itself when the capture does. Short gaps
(WASAPI loopback sends nothing while nothing plays) are filled with silence without an error.
"""

from __future__ import annotations

import contextlib
import fractions
import logging
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from visio_desktop.media.audio_io import FRAME_MS, FRAME_SAMPLES, STALL_S, SampleRing
from visio_desktop.media.audio_processing import SAMPLE_RATE, LevelMeter
from visio_desktop.media.devices import AudioDevice, AudioStream, DeviceBackend, DeviceError
from visio_desktop.media.pacing import SourcePacer
from visio_desktop.media.playback_canceller import PlaybackCanceller

__all__ = [
    "LOOPBACK_SUFFIX",
    "PulseMonitorCapture",
    "SystemAudioCapture",
    "SystemAudioSupport",
    "SystemAudioTrack",
    "WasapiLoopbackCapture",
    "WasapiProbe",
    "default_sink",
    "is_loopback_device",
    "make_capture",
    "probe_wasapi",
    "pulse_defaults",
    "select_loopback_device",
    "system_audio_support",
]

log = logging.getLogger(__name__)

Int16 = npt.NDArray[np.int16]
DataSink = Callable[[Int16], None]  # interleaved int16 samples, whole frames

MACOS_REASON = (
    "Sharing computer sound is not supported on macOS yet (it needs ScreenCaptureKit)."
)
NO_SERVER_REASON = "No PulseAudio or PipeWire server found."
NO_PAREC_REASON = (
    "Sharing computer sound needs the 'parec' tool (package pulseaudio-utils)."
)
NO_LOOPBACK_REASON = (
    "Sharing computer sound needs WASAPI loopback capture, which this build's audio library "
    "(PortAudio) does not provide."
)
OTHER_OS_REASON = "Sharing computer sound is not supported on this system."

WASAPI = "Windows WASAPI"
LOOPBACK_SUFFIX = " [Loopback]"  # PortAudio's PA_WASAPI_LOOPBACK_NAME_IDENTIFICATOR
_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


@dataclass(frozen=True, slots=True)
class SystemAudioSupport:
    available: bool
    reason: str = ""  # why not, for the UI; empty when available
    method: str = ""  # "pulse-monitor" | "wasapi-loopback" when available
    device: str = ""  # what would be captured (monitor source or loopback device name)


# ---------------------------------------------------------------------------------------------
# Linux: PulseAudio / PipeWire-pulse


def _pulse_env() -> dict[str, str]:
    # pactl's "Default Sink:" and error texts are translated: parse the C locale's
    return {**os.environ, "LC_ALL": "C"}


def _pactl(args: Sequence[str], server: str | None, timeout: float = 3.0) -> str | None:
    """pactl's stdout, or None when it is missing, fails or hangs."""
    exe = shutil.which("pactl")
    if exe is None:
        return None
    cmd = [exe, *([f"--server={server}"] if server else []), *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=_pulse_env())
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def pulse_defaults(server: str | None = None) -> tuple[str | None, str | None]:
    """The default sink and source names (``pactl info``; None when unknown)."""
    found: dict[str, str] = {}
    for line in (_pactl(["info"], server) or "").splitlines():
        key, _, value = line.partition(":")
        if key in ("Default Sink", "Default Source") and value.strip():
            found[key] = value.strip()
    return found.get("Default Sink"), found.get("Default Source")


def default_sink(server: str | None = None) -> str | None:
    """The default sink's name, or None."""
    return pulse_defaults(server)[0]


def _linux_support(server: str | None) -> SystemAudioSupport:
    if shutil.which("parec") is None:
        return SystemAudioSupport(False, NO_PAREC_REASON)
    if shutil.which("pactl") is not None and _pactl(["info"], server) is None:
        return SystemAudioSupport(False, NO_SERVER_REASON)
    sink = default_sink(server)
    return SystemAudioSupport(True, method="pulse-monitor",
                              device=f"{sink}.monitor" if sink else "@DEFAULT_MONITOR@")


class PulseMonitorCapture:
    """Reads the default sink's monitor (or ``sink``'s) from a ``parec`` subprocess on a reader
    thread, at 48 kHz s16 with ``channels``; ``server`` is a PulseAudio server string (None:
    the usual discovery, ``PULSE_SERVER``...). Restarts ``parec`` after ``retry_s`` when it
    exits or sends nothing for ``no_data_s``; with ``sink=None``, follows the default sink
    (checked every ``poll_s``)."""

    def __init__(
        self,
        channels: int = 2,
        *,
        sink: str | None = None,
        server: str | None = None,
        poll_s: float = 2.0,
        no_data_s: float = 5.0,
        retry_s: float = 1.0,
    ) -> None:
        self.rate = SAMPLE_RATE
        self.channels = channels
        self.sink = sink
        self.server = server
        self.poll_s = poll_s
        self.no_data_s = no_data_s
        self.retry_s = retry_s
        self.error: str | None = None
        self.source: str | None = None  # the monitor source being read
        self.starts = 0  # parec processes started
        self.on_error: Callable[[str], None] | None = None
        self._on_data: DataSink | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def label(self) -> str:
        return self.source or "computer sound"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def start(self, on_data: DataSink) -> None:
        if self._thread is not None:
            return
        self._on_data = on_data
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="system-audio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kill()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)  # it ends at parec's EOF; a daemon thread anyway

    def poll(self) -> None:
        """Nothing to do: the reader thread watches parec."""

    # -- reader thread

    def _fail(self, message: str) -> None:
        if message != self.error:
            log.warning("%s", message)
        self.error = message
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("on_error handler failed")

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()

    def _resolve(self) -> tuple[str, str | None]:
        """The monitor to read, and the default source now."""
        sink, source = pulse_defaults(self.server)
        if self.sink:
            return f"{self.sink}.monitor", source
        return (f"{sink}.monitor" if sink else "@DEFAULT_MONITOR@"), source

    def _run(self) -> None:
        exe = shutil.which("parec")
        while not self._stop.is_set():
            if exe is None:
                self._fail(f"computer sound unavailable: {NO_PAREC_REASON}")
                return
            source, default_source = self._resolve()
            self.source = source
            cmd = [exe, *([f"--server={self.server}"] if self.server else []),
                   f"--device={source}", "--format=s16le", f"--rate={self.rate}",
                   f"--channels={self.channels}", "--latency-msec=20",
                   "--client-name=Visio Desktop", "--stream-name=Screen share sound"]
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=_pulse_env())
            except OSError as exc:
                self._fail(f"computer sound unavailable: {exc}")
                self._stop.wait(self.retry_s)
                continue
            self._proc = proc
            self.starts += 1
            try:
                problem = self._pump(proc, source, default_source)
            finally:
                self._kill()
                err = b""
                with contextlib.suppress(Exception):
                    err = proc.communicate(timeout=2.0)[1] or b""
                self._proc = None
            if self._stop.is_set():
                break
            if problem is None:  # the default sink or source changed: reopen at once
                continue
            detail = err.decode(errors="replace").strip().splitlines()
            self._fail(f"computer sound unavailable: {problem}"
                       + (f" ({detail[-1]})" if detail else ""))
            self._stop.wait(self.retry_s)

    def _pump(self, proc: subprocess.Popen[bytes], source: str,
              default_source: str | None) -> str | None:
        """Copies parec's output to the sink until it ends (returns why) or must be reopened
        (returns None): the default sink changed (when following it), or our monitor was the
        default source and that changed — the server then moves streams on the old default
        source to the new one, which may be a microphone (parec cannot ask for
        ``PA_STREAM_DONT_MOVE``)."""
        assert proc.stdout is not None and self._on_data is not None
        fd = proc.stdout.fileno()
        frame_bytes = 2 * self.channels
        pending = b""
        last_data = last_poll = time.monotonic()
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            now = time.monotonic()
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=1.0)
                    return f"parec exited with status {proc.returncode}"
                pending += chunk
                usable = len(pending) - len(pending) % frame_bytes
                if usable:
                    data = np.frombuffer(pending[:usable], dtype="<i2").astype(np.int16)
                    pending = pending[usable:]
                    last_data = now
                    if self.error is not None:
                        log.info("computer sound capture running again (%s)", source)
                        self.error = None
                    self._on_data(data)
            elif now - last_data > self.no_data_s:
                return f"no sound from {source} for {self.no_data_s:g} s"
            if now - last_poll >= self.poll_s:
                last_poll = now
                sink, now_source = pulse_defaults(self.server)
                if self.sink is None and sink and f"{sink}.monitor" != source:
                    log.info("default output changed to %s: capturing its monitor", sink)
                    return None
                if source == default_source and now_source and now_source != default_source:
                    log.info("default source changed to %s: reopening %s", now_source, source)
                    return None
        return "stopped"


# ---------------------------------------------------------------------------------------------
# Windows: WASAPI loopback through PortAudio


@dataclass(frozen=True, slots=True)
class WasapiProbe:
    """What PortAudio says beyond the device list: WASAPI's default output (PortAudio's global
    default is usually an MME device, whose name is cut at 31 characters) and which device
    indexes ``PaWasapi_IsLoopback()`` marks (None: the function is missing, names decide)."""

    default_output: str | None = None
    loopback_indexes: frozenset[int] | None = None


def probe_wasapi() -> WasapiProbe:
    """Asks sounddevice/PortAudio; never raises (returns an empty probe off Windows)."""
    try:
        import sounddevice as sd

        default_output = None
        for api in sd.query_hostapis():
            if api["name"] == WASAPI and int(api["default_output_device"]) >= 0:
                default_output = str(sd.query_devices(int(api["default_output_device"]))["name"])
        try:
            is_loopback = sd._lib.PaWasapi_IsLoopback
        except Exception:  # cffi's "symbol not found": not in this PortAudio build
            return WasapiProbe(default_output, None)
        indexes = frozenset(
            int(d["index"]) for d in sd.query_devices()
            if int(d["max_input_channels"]) > 0 and is_loopback(int(d["index"])) == 1
        )
        return WasapiProbe(default_output, indexes)
    except Exception as exc:  # no PortAudio, not Windows...
        log.debug("WASAPI probe failed: %s", exc)
        return WasapiProbe()


def is_loopback_device(device: AudioDevice, probe: WasapiProbe | None = None) -> bool:
    """Whether ``device`` is a WASAPI loopback input (the UI should keep these out of the
    microphone list)."""
    if device.kind != "input" or device.host_api != WASAPI:
        return False
    if probe is not None and probe.loopback_indexes is not None and device.index is not None:
        return device.index in probe.loopback_indexes
    return device.name.endswith(LOOPBACK_SUFFIX)


def select_loopback_device(
    inputs: Sequence[AudioDevice],
    default_output: str | None,
    probe: WasapiProbe | None = None,
) -> AudioDevice | None:
    """The loopback input of the output named ``default_output`` (a WASAPI name, or an MME
    name cut short), else the only/first loopback input; None when there is none."""
    loopbacks = [d for d in inputs if is_loopback_device(d, probe)]
    if not loopbacks:
        return None
    if default_output:

        def base(device: AudioDevice) -> str:
            return device.name.removesuffix(LOOPBACK_SUFFIX)

        for device in loopbacks:
            if base(device) == default_output:
                return device
        for device in loopbacks:  # MME names are truncated to 31 characters
            if len(default_output) >= 8 and base(device).startswith(default_output):
                return device
    return loopbacks[0]


def _windows_support(
    backend: DeviceBackend | None, probe: WasapiProbe | None
) -> SystemAudioSupport:
    probe = probe if probe is not None else probe_wasapi()
    inputs = backend.list_devices("input") if backend is not None else _portaudio_inputs()
    default_output = probe.default_output or _default_output_name(backend)
    device = select_loopback_device(inputs, default_output, probe)
    if device is None:
        return SystemAudioSupport(False, NO_LOOPBACK_REASON)
    return SystemAudioSupport(True, method="wasapi-loopback", device=device.name)


def _portaudio_inputs() -> list[AudioDevice]:
    try:
        import sounddevice as sd

        from visio_desktop.media.devices import _scan_portaudio

        return _scan_portaudio(sd)[0]["input"]
    except Exception as exc:
        log.debug("PortAudio scan failed: %s", exc)
        return []


def _default_output_name(backend: DeviceBackend | None) -> str | None:
    device = backend.default_device("output") if backend is not None else None
    return device.name if device is not None else None


class WasapiLoopbackCapture:
    """Captures the default output's WASAPI loopback device through ``backend`` at the
    output's mix format (``rate``/``channels`` are known once started); registered with the
    backend as a stream owner, so a PortAudio re-initialisation closes and reopens it."""

    def __init__(self, backend: DeviceBackend, *, probe: WasapiProbe | None = None,
                 retry_s: float = 1.0) -> None:
        self.backend = backend
        self.probe = probe
        self.retry_s = retry_s
        self.rate = SAMPLE_RATE
        self.channels = 2
        self.error: str | None = None
        self.device: AudioDevice | None = None
        self.on_error: Callable[[str], None] | None = None
        self._on_data: DataSink | None = None
        self._stream: AudioStream | None = None
        self._wanted = False
        self._suspended = False
        self._last_try = 0.0

    @property
    def label(self) -> str:
        return self.device.name if self.device is not None else "computer sound"

    def start(self, on_data: DataSink) -> None:
        self._on_data = on_data
        self._wanted = True
        self.backend.register_owner(self)
        self._open()

    def stop(self) -> None:
        self._wanted = False
        self._close()
        self.backend.unregister_owner(self)

    def poll(self) -> None:
        """Reopens a lost stream (device unplugged, PortAudio error), at most every
        ``retry_s``. Called by the track while it gets no audio."""
        if not self._wanted or self._suspended:
            return
        stream = self._stream
        alive = stream is not None and _stream_active(stream)
        if alive or time.monotonic() - self._last_try < self.retry_s:
            return
        if stream is not None:
            self._fail(f"computer sound unavailable: {self.label} stopped")
        self._open()

    # StreamOwner
    def suspend(self) -> None:
        if self._stream is not None:
            self._suspended = True
            self._close()

    def resume(self) -> None:
        if self._suspended and self._wanted:
            self._suspended = False
            self._open()

    def _fail(self, message: str) -> None:
        if message != self.error:
            log.warning("%s", message)
        self.error = message
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("on_error handler failed")

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        if self._on_data is not None:
            self._on_data(data.reshape(-1))

    def _open(self) -> None:
        self._close()
        self._last_try = time.monotonic()
        probe = self.probe if self.probe is not None else probe_wasapi()
        default_output = probe.default_output or _default_output_name(self.backend)
        device = select_loopback_device(self.backend.list_devices("input"), default_output, probe)
        if device is None:
            self._fail(f"computer sound unavailable: {NO_LOOPBACK_REASON}")
            return
        rate = int(device.default_samplerate) or SAMPLE_RATE
        channels = max(1, min(device.channels, 8))
        # set before the stream starts: its first callback reads them
        self.device, self.rate, self.channels = device, rate, channels
        try:
            stream = self.backend.open_stream("input", device, samplerate=rate,
                                              channels=channels, blocksize=rate // 100,
                                              callback=self._callback)
        except DeviceError as exc:
            self._fail(f"computer sound unavailable: {exc}")
            return
        try:
            stream.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                stream.close()
            self._fail(f"computer sound unavailable: {device.name}: {exc}")
            return
        self._stream = stream
        self.error = None

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
            with contextlib.suppress(Exception):
                stream.close()


def _stream_active(stream: AudioStream) -> bool:
    try:
        return bool(stream.active)
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------
# support and capture selection


class SystemAudioCapture(Protocol):
    """A running capture of the computer's sound: calls ``on_data`` (from any thread) with
    interleaved int16 samples at ``rate`` with ``channels`` (both may change when it reopens).
    ``error`` is its last problem (None while it delivers)."""

    rate: int
    channels: int
    error: str | None
    on_error: Callable[[str], None] | None

    @property
    def label(self) -> str: ...

    def start(self, on_data: DataSink) -> None: ...

    def stop(self) -> None: ...

    def poll(self) -> None: ...


class _UnavailableCapture:
    """What an unsupported system gets: no audio, and ``error`` says why."""

    def __init__(self, reason: str) -> None:
        self.rate = SAMPLE_RATE
        self.channels = 2
        self.error: str | None = f"computer sound unavailable: {reason}"
        self.on_error: Callable[[str], None] | None = None
        self.label = "computer sound"

    def start(self, on_data: DataSink) -> None:
        if self.on_error is not None and self.error:
            self.on_error(self.error)

    def stop(self) -> None:
        pass

    def poll(self) -> None:
        pass


def system_audio_support(
    platform: str | None = None,
    *,
    server: str | None = None,
    backend: DeviceBackend | None = None,
    probe: WasapiProbe | None = None,
) -> SystemAudioSupport:
    """Whether the computer's sound can be shared here; ``reason`` says why not. ``platform``
    defaults to ``sys.platform``; ``server`` is a PulseAudio server string (Linux); ``backend``
    and ``probe`` replace the PortAudio queries (Windows)."""
    platform = platform or sys.platform
    if platform == "darwin":
        return SystemAudioSupport(False, MACOS_REASON)
    if platform == "win32":
        return _windows_support(backend, probe)
    if platform.startswith("linux"):
        return _linux_support(server)
    return SystemAudioSupport(False, OTHER_OS_REASON)


def make_capture(
    channels: int = 2,
    *,
    platform: str | None = None,
    backend: DeviceBackend | None = None,
    server: str | None = None,
) -> SystemAudioCapture:
    """The capture for this OS (an unavailable one, with its reason, where there is none)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return PulseMonitorCapture(channels, server=server)
    if platform == "win32":
        if backend is None:
            from visio_desktop.media.devices import SoundDeviceBackend

            backend = SoundDeviceBackend()
        return WasapiLoopbackCapture(backend)
    return _UnavailableCapture(MACOS_REASON if platform == "darwin" else OTHER_OS_REASON)


# ---------------------------------------------------------------------------------------------
# the track


class SystemAudioTrack(MediaStreamTrack):
    """The computer's sound as an aiortc audio track (``source == "screen_share_audio"``):
    20 ms frames, s16 at 48 kHz, ``channels`` 2 (interleaved stereo) or 1, paced by the
    capture's clock, with no audio processing.

    The capture starts at the first ``recv`` (or :meth:`open`); by default the one for this
    OS (:func:`make_capture`; ``backend`` is the PortAudio backend to share on Windows,
    ``server`` a PulseAudio server string on Linux). Captures at another rate or channel count
    are converted. ``error`` holds the capture's last problem; while nothing arrives, silence
    is sent, paced by the wall clock. ``meter`` measures what is sent.
    """

    kind = "audio"
    source = "screen_share_audio"

    def __init__(
        self,
        *,
        channels: int = 2,
        capture: SystemAudioCapture | None = None,
        backend: DeviceBackend | None = None,
        server: str | None = None,
        on_error: Callable[[str], None] | None = None,
        max_latency_ms: int = 200,
        canceller: PlaybackCanceller | None = None,
    ) -> None:
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        self.channels = channels
        self.capture: SystemAudioCapture = capture or make_capture(
            channels, backend=backend, server=server)
        self.capture.on_error = self._capture_error
        self.on_error = on_error
        if canceller is not None and canceller.channels != channels:
            raise ValueError("the canceller must have the track's channel count")
        self.canceller = canceller
        self.meter = LevelMeter()
        self.frames_sent = 0
        self._max_latency_ms = max_latency_ms
        self._layout = _LAYOUTS[channels]
        self._frame_len = FRAME_SAMPLES * channels
        self._out = SampleRing(SAMPLE_RATE * channels)  # 1 s at 48 kHz, interleaved
        # (ring, rate, channels) of the capture's format when it needs converting; replaced
        # as a whole by the capture thread, read by the loop
        self._raw: tuple[SampleRing, int, int] | None = None
        self._format: tuple[int, int] = (SAMPLE_RATE, channels)
        self._resampler: av.AudioResampler | None = None  # loop only
        self._resampler_format: tuple[int, int] | None = None
        self._wake_at = self._frame_len
        self._chunks = 0  # capture deliveries so far (stall detection)
        self._started = False
        self._pacer = SourcePacer(STALL_S)
        self._frame: Int16 = np.zeros(self._frame_len, np.int16)
        self._time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts = 0
        self._last_poll = 0.0

    @property
    def silent_frames(self) -> int:
        """Frames sent (at least partly) as silence because the capture delivered nothing."""
        return self._pacer.silent_frames

    @property
    def error(self) -> str | None:
        return self.capture.error

    @property
    def label(self) -> str:
        return self.capture.label

    def open(self) -> None:
        """Starts the capture now (else the first ``recv`` does)."""
        self._pacer.bind_loop()
        if not self._started:
            self._started = True
            self.capture.start(self._on_data)

    def stop(self) -> None:
        if self._started:
            self._started = False
            self.capture.stop()
        super().stop()
        self._pacer.wake()

    # -- capture thread

    def _capture_error(self, message: str) -> None:
        if self.on_error is None:
            return
        loop = self._pacer.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._call_on_error, message)
                return
        self._call_on_error(message)

    def _call_on_error(self, message: str) -> None:
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("on_error handler failed")

    def _on_data(self, data: Int16) -> None:
        rate, channels = self.capture.rate, self.capture.channels
        if (rate, channels) != self._format:
            self._reformat(rate, channels)
        raw = self._raw
        ring = raw[0] if raw is not None else self._out
        ring.write(data)
        self._chunks += 1
        if self._pacer.waiting and ring.available >= self._wake_at:
            self._pacer.wake()

    def _reformat(self, rate: int, channels: int) -> None:
        """The capture's format changed (first data, or reopened): convert from now on.
        Runs on the capture thread before that format's first samples are written."""
        self._format = (rate, channels)
        if (rate, channels) == (SAMPLE_RATE, self.channels):
            self._raw = None
            self._wake_at = self._frame_len
        else:
            self._raw = (SampleRing(rate * channels), rate, channels)
            self._wake_at = max(channels, rate * channels * FRAME_MS // 1000)

    # -- loop

    def _collect(self) -> None:
        """While waiting: checks the capture now and then, converts what it delivered."""
        now = time.monotonic()
        if now - self._last_poll > 0.5:
            self._last_poll = now
            self.capture.poll()
        self._convert()

    def _convert(self) -> None:
        """Moves what the capture delivered in another format into ``_out`` (48 kHz)."""
        raw = self._raw
        if raw is None:
            return
        ring, rate, channels = raw
        n = ring.available - ring.available % channels
        if n == 0:
            return
        block = np.empty(n, np.int16)
        ring.read_into(block)
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16",
                                           layout=_LAYOUTS[channels])
        frame.sample_rate = rate
        resampler = self._resampler
        if resampler is None or self._resampler_format != (rate, channels):
            resampler = av.AudioResampler(format="s16", layout=self._layout, rate=SAMPLE_RATE)
            self._resampler, self._resampler_format = resampler, (rate, channels)
        for out in resampler.resample(frame):
            self._out.write(out.to_ndarray().reshape(-1).astype(np.int16, copy=False))

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._started:
            self.open()
        self._convert()
        self._out.skip_to(SAMPLE_RATE * self.channels * self._max_latency_ms // 1000)
        await self._pacer.wait_for_frame(
            lambda: self._out.available >= self._frame_len,
            lambda: self._chunks,
            lambda: self._chunks > 0,
            lambda: self.readyState == "live",
            self._collect,
        )
        # after a gap, what arrived (possibly part of a frame) is sent, the rest is silence
        index = self._out.read // self.channels
        real = self._out.read_into(self._frame)
        if self.canceller is not None and real:
            try:
                self.canceller.process(self._frame[:real - real % self.channels], index)
            except Exception:  # the share goes on, with our playback in it
                log.exception("playback canceller failed; it is turned off")
                self.canceller = None
        self.meter.update(self._frame, float(FRAME_MS))
        frame = av.AudioFrame.from_ndarray(self._frame.reshape(1, -1), format="s16",
                                           layout=self._layout)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += FRAME_SAMPLES
        self.frames_sent += 1
        return frame
