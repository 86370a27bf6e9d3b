"""Audio devices: enumeration with stable ids, hot-plug monitoring, fallback and user choice.

* :class:`DeviceBackend` is what the rest of the media engine sees: lists of :class:`AudioDevice`
  (``kind`` ``"input"`` or ``"output"``), the system defaults, and ``open_*_stream``.
* :class:`SoundDeviceBackend` is the real one (sounddevice / PortAudio);
  :class:`FakeDeviceBackend` is an in-memory one for tests, with streams driven by hand.
* :class:`DeviceMonitor` polls the backend (about every second, on its own thread), diffs the
  lists, emits ``devices_changed(added, removed)``, and when the active device disappears emits
  ``active_device_lost(kind, device)`` and falls back to the system default. The user's choice
  is kept in a plain ``dict`` (``{"input": id, "output": id}``) handed back through
  ``on_preferences_changed`` for persistence (QSettings in the UI); when the chosen device
  comes back (headset plugged in again) the monitor switches back to it.

Stable ids: PortAudio indexes change whenever a device comes or goes, so a device is named by
``"<host API>:<name>#<occurrence>"`` (the occurrence counts devices of the same host API, name
and kind, in PortAudio order: two identical USB headsets get ``#0`` and ``#1``).

PortAudio and hot-plug (the rule): PortAudio freezes its device list at initialisation, and
``sd._terminate(); sd._initialize()`` (the only way to see new devices) invalidates every open
stream. So :class:`SoundDeviceBackend` re-initialises in-process **only when none of its
streams is open**; while streams are open, :meth:`SoundDeviceBackend.refresh` scans in a
helper process (a fresh PortAudio that sees the new devices, without touching ours), and a
device that only the helper knows is opened through :meth:`SoundDeviceBackend.reinitialize`,
which suspends every registered :class:`StreamOwner` (closes its stream), re-initialises
PortAudio and resumes them (reopens by stable id): a short glitch, only on an explicit switch.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

DeviceKind = Literal["input", "output"]
KINDS: tuple[DeviceKind, DeviceKind] = ("input", "output")

StreamCallback = Callable[[Any, int, Any, Any], None]  # (data, frames, time, status)


class DeviceError(RuntimeError):
    """A device could not be found or opened; ``str()`` is fit for the user."""


@dataclass(frozen=True, slots=True)
class AudioDevice:
    id: str  # stable: "<host API>:<name>#<occurrence>"
    name: str  # human name, as the OS gives it
    kind: DeviceKind
    host_api: str = ""
    channels: int = 1
    default_samplerate: float = 48000.0
    # PortAudio index in this process, valid until PortAudio is re-initialised; None when the
    # device is only known from a helper-process scan. Not part of the identity.
    index: int | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return self.name if not self.host_api else f"{self.name} ({self.host_api})"


def make_device_id(host_api: str, name: str, occurrence: int) -> str:
    return f"{host_api}:{name}#{occurrence}"


class AudioStream(Protocol):
    """The part of ``sounddevice.InputStream`` / ``OutputStream`` the engine uses."""

    @property
    def active(self) -> bool: ...

    @property
    def latency(self) -> float: ...  # seconds

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class StreamOwner(Protocol):
    """Something holding an open stream that can close and reopen it (by stable id)."""

    def suspend(self) -> None: ...

    def resume(self) -> None: ...


class DeviceBackend(Protocol):
    def list_devices(self, kind: DeviceKind) -> list[AudioDevice]: ...

    def default_device(self, kind: DeviceKind) -> AudioDevice | None: ...

    def refresh(self) -> None:
        """Re-scan the devices (new ones become visible); never breaks an open stream."""
        ...

    def open_stream(
        self,
        kind: DeviceKind,
        device: AudioDevice | None,
        *,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: StreamCallback,
    ) -> AudioStream:
        """An int16 stream on ``device`` (None: the system default), not started yet; raises
        :class:`DeviceError`."""
        ...

    def register_owner(self, owner: StreamOwner) -> None: ...

    def unregister_owner(self, owner: StreamOwner) -> None: ...


def find_device(devices: Sequence[AudioDevice], device_id: str | None) -> AudioDevice | None:
    if device_id is None:
        return None
    return next((d for d in devices if d.id == device_id), None)


# ---------------------------------------------------------------------------------------------
# sounddevice


def _scan_portaudio(sd: Any) -> tuple[dict[DeviceKind, list[AudioDevice]], dict[str, int]]:
    """The devices of the current PortAudio session, and the default index per kind."""
    hostapis = sd.query_hostapis()
    found: dict[DeviceKind, list[AudioDevice]] = {"input": [], "output": []}
    seen: dict[tuple[DeviceKind, str, str], int] = {}
    for info in sd.query_devices():
        host = str(hostapis[info["hostapi"]]["name"])
        name = str(info["name"])
        for kind, key in (("input", "max_input_channels"), ("output", "max_output_channels")):
            if int(info[key]) <= 0:
                continue
            occurrence = seen.get((kind, host, name), 0)
            seen[(kind, host, name)] = occurrence + 1
            found[kind].append(  # type: ignore[index]
                AudioDevice(
                    id=make_device_id(host, name, occurrence),
                    name=name,
                    kind=kind,  # type: ignore[arg-type]
                    host_api=host,
                    channels=int(info[key]),
                    default_samplerate=float(info["default_samplerate"]),
                    index=int(info["index"]),
                )
            )
    defaults: dict[str, int] = {}
    try:
        default_in, default_out = sd.default.device
        defaults = {"input": int(default_in), "output": int(default_out)}
    except (TypeError, ValueError):
        pass
    return found, defaults


def _scan_server() -> None:
    """The helper process: one JSON line of devices per line read on stdin."""
    import sounddevice as sd

    for _line in sys.stdin:
        sd._terminate()
        sd._initialize()
        found, defaults = _scan_portaudio(sd)
        payload = {
            "devices": {
                kind: [{**_device_dict(d), "default": d.index == defaults.get(kind)} for d in devs]
                for kind, devs in found.items()
            }
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()


def _device_dict(device: AudioDevice) -> dict[str, Any]:
    return {
        "id": device.id,
        "name": device.name,
        "kind": device.kind,
        "host_api": device.host_api,
        "channels": device.channels,
        "default_samplerate": device.default_samplerate,
    }


class _TrackedStream:
    """A sounddevice stream that tells the backend when it is closed."""

    def __init__(self, stream: Any, backend: SoundDeviceBackend) -> None:
        self._stream = stream
        self._backend = backend
        self._closed = False

    @property
    def active(self) -> bool:
        return bool(self._stream.active)

    @property
    def latency(self) -> float:
        return float(self._stream.latency)

    def start(self) -> None:
        self._stream.start()

    def stop(self) -> None:
        self._stream.stop()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._stream.close()
        finally:
            self._backend._stream_closed(self)


class SoundDeviceBackend:
    """Devices through sounddevice (PortAudio). Thread-safe. See the module doc for the
    re-initialisation rule; ``helper_scan=False`` disables the helper process (then, while a
    stream is open, :meth:`refresh` keeps the old list)."""

    def __init__(self, *, helper_scan: bool = True) -> None:
        import sounddevice as sd

        self._sd = sd
        self._lock = threading.RLock()
        self._open: set[_TrackedStream] = set()
        self._owners: list[StreamOwner] = []
        self._helper_scan = helper_scan
        self._helper: subprocess.Popen[str] | None = None
        self._local: dict[DeviceKind, list[AudioDevice]] = {"input": [], "output": []}
        self._defaults: dict[str, int] = {}
        self._devices: dict[DeviceKind, list[AudioDevice]] = {"input": [], "output": []}
        self._default_ids: dict[DeviceKind, str | None] = {"input": None, "output": None}
        self._rescan_local()

    # -- scanning

    def _rescan_local(self) -> None:
        self._local, self._defaults = _scan_portaudio(self._sd)
        self._devices = {k: list(v) for k, v in self._local.items()}
        for kind in KINDS:
            idx = self._defaults.get(kind)
            match = next((d for d in self._local[kind] if d.index == idx), None)
            self._default_ids[kind] = match.id if match else None

    def _reinit_portaudio(self) -> None:
        self._sd._terminate()
        self._sd._initialize()
        self._rescan_local()

    def _scan_with_helper(self) -> None:
        if self._helper is None or self._helper.poll() is not None:
            self._helper = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from visio_desktop.media.devices import _scan_server;_scan_server()",
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        assert self._helper.stdin is not None and self._helper.stdout is not None
        self._helper.stdin.write("scan\n")
        self._helper.stdin.flush()
        line = self._helper.stdout.readline()
        if not line:
            raise DeviceError("device scan helper exited")
        payload = json.loads(line)
        for kind in KINDS:
            devices = []
            self._default_ids[kind] = None
            for item in payload["devices"][kind]:
                is_default = bool(item.pop("default"))
                known = find_device(self._local[kind], item["id"])
                device = AudioDevice(**item, index=known.index if known else None)
                devices.append(device)
                if is_default:
                    self._default_ids[kind] = device.id
            self._devices[kind] = devices

    def refresh(self) -> None:
        with self._lock:
            if not self._open:
                self._reinit_portaudio()
                return
            if not self._helper_scan:
                return
            try:
                self._scan_with_helper()
            except (OSError, ValueError, KeyError, DeviceError) as exc:
                log.warning("device scan in a helper process failed: %s", exc)

    def close(self) -> None:
        """Stops the helper process (streams are closed by their owners)."""
        with self._lock:
            if self._helper is not None:
                self._helper.kill()
                self._helper.wait()
                self._helper = None

    def reinitialize(self) -> None:
        """Re-initialises PortAudio now: suspends every registered owner (their streams close),
        re-scans, resumes them (they reopen by stable id)."""
        with self._lock:
            owners = list(self._owners)
            for owner in owners:
                owner.suspend()
            if self._open:
                log.warning(
                    "re-initialising PortAudio with %d unowned open stream(s)", len(self._open)
                )
                for stream in list(self._open):
                    stream.close()
            self._reinit_portaudio()
            for owner in owners:
                owner.resume()

    # -- queries

    def list_devices(self, kind: DeviceKind) -> list[AudioDevice]:
        with self._lock:
            return list(self._devices[kind])

    def default_device(self, kind: DeviceKind) -> AudioDevice | None:
        with self._lock:
            return find_device(self._devices[kind], self._default_ids[kind])

    def register_owner(self, owner: StreamOwner) -> None:
        with self._lock:
            if owner not in self._owners:
                self._owners.append(owner)

    def unregister_owner(self, owner: StreamOwner) -> None:
        with self._lock:
            if owner in self._owners:
                self._owners.remove(owner)

    # -- streams

    def _resolve(self, kind: DeviceKind, device: AudioDevice | None) -> int | None:
        if device is None:
            default = self._defaults.get(kind)
            return default if default is not None and default >= 0 else None
        local = find_device(self._local[kind], device.id)
        if local is None and device in self._devices[kind]:
            # seen by the helper only: PortAudio must be re-initialised to open it
            self.reinitialize()
            local = find_device(self._local[kind], device.id)
        if local is None:
            raise DeviceError(f"{device.label} is not connected")
        return local.index

    def open_stream(
        self,
        kind: DeviceKind,
        device: AudioDevice | None,
        *,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: StreamCallback,
    ) -> AudioStream:
        with self._lock:
            index = self._resolve(kind, device)
            factory = self._sd.InputStream if kind == "input" else self._sd.OutputStream
            try:
                raw = factory(
                    device=index,
                    samplerate=samplerate,
                    channels=channels,
                    dtype="int16",
                    blocksize=blocksize,
                    latency="low",
                    callback=callback,
                )
            except Exception as exc:  # sounddevice.PortAudioError, ValueError
                name = device.label if device else "default device"
                raise DeviceError(f"{name}: {exc}") from exc
            stream = _TrackedStream(raw, self)
            self._open.add(stream)
            return stream

    def _stream_closed(self, stream: _TrackedStream) -> None:
        with self._lock:
            self._open.discard(stream)


# ---------------------------------------------------------------------------------------------
# fake


class FakeStream:
    """A stream driven by the test: :meth:`pump` calls the callback with ``frames`` of input
    (given samples or silence) or with a zeroed output buffer, and returns that buffer."""

    def __init__(
        self,
        backend: FakeDeviceBackend,
        kind: DeviceKind,
        device: AudioDevice,
        channels: int,
        callback: StreamCallback,
        latency: float = 0.01,
    ) -> None:
        self.backend = backend
        self.kind = kind
        self.device = device
        self.channels = channels
        self.callback = callback
        self._latency = latency
        self.started = False
        self.closed = False

    @property
    def active(self) -> bool:
        return self.started and not self.closed

    @property
    def latency(self) -> float:
        return self._latency

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started = False
        self.closed = True
        if self in self.backend.streams:
            self.backend.streams.remove(self)

    def pump(self, frames: int = 480, samples: Any = None) -> Any:
        import numpy as np

        if not self.active:
            raise RuntimeError("stream is not running")
        if self.kind == "input":
            data = np.zeros((frames, self.channels), np.int16)
            if samples is not None:
                data[:, :] = np.asarray(samples, np.int16).reshape(frames, -1)
            self.callback(data, frames, None, None)
            return data
        out = np.zeros((frames, self.channels), np.int16)
        self.callback(out, frames, None, None)
        return out


class FakeDeviceBackend:
    """In-memory devices: ``add``/``remove``/``set_default`` simulate hot-plug; ``fail_open``
    holds ids whose opening fails; ``streams`` are the open :class:`FakeStream`."""

    def __init__(self, devices: Sequence[AudioDevice] = ()) -> None:
        self._devices: dict[DeviceKind, list[AudioDevice]] = {"input": [], "output": []}
        self._defaults: dict[DeviceKind, str | None] = {"input": None, "output": None}
        self.fail_open: set[str] = set()
        self.streams: list[FakeStream] = []
        self.owners: list[StreamOwner] = []
        self.refreshes = 0
        for device in devices:
            self.add(device)

    @staticmethod
    def device(kind: DeviceKind, name: str, host_api: str = "Fake") -> AudioDevice:
        return AudioDevice(make_device_id(host_api, name, 0), name, kind, host_api, channels=2)

    def add(self, device: AudioDevice, *, default: bool = False) -> AudioDevice:
        self._devices[device.kind].append(device)
        if default or self._defaults[device.kind] is None:
            self._defaults[device.kind] = device.id
        return device

    def remove(self, device_id: str) -> None:
        for kind in KINDS:
            self._devices[kind] = [d for d in self._devices[kind] if d.id != device_id]
            if self._defaults[kind] == device_id:
                self._defaults[kind] = self._devices[kind][0].id if self._devices[kind] else None
        for stream in list(self.streams):
            if stream.device.id == device_id:
                stream.started = False  # the device is gone: the stream stops delivering

    def set_default(self, kind: DeviceKind, device_id: str | None) -> None:
        self._defaults[kind] = device_id

    def list_devices(self, kind: DeviceKind) -> list[AudioDevice]:
        return list(self._devices[kind])

    def default_device(self, kind: DeviceKind) -> AudioDevice | None:
        return find_device(self._devices[kind], self._defaults[kind])

    def refresh(self) -> None:
        self.refreshes += 1

    def register_owner(self, owner: StreamOwner) -> None:
        if owner not in self.owners:
            self.owners.append(owner)

    def unregister_owner(self, owner: StreamOwner) -> None:
        if owner in self.owners:
            self.owners.remove(owner)

    def open_stream(
        self,
        kind: DeviceKind,
        device: AudioDevice | None,
        *,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: StreamCallback,
    ) -> FakeStream:
        del samplerate, blocksize
        target = device or self.default_device(kind)
        if target is None:
            raise DeviceError(f"no {kind} device")
        if target.id in self.fail_open:
            raise DeviceError(f"{target.label}: device busy")
        if find_device(self._devices[kind], target.id) is None:
            raise DeviceError(f"{target.label} is not connected")
        stream = FakeStream(self, kind, target, channels, callback)
        self.streams.append(stream)
        return stream

    def stream_for(self, kind: DeviceKind) -> FakeStream:
        """The one open stream of ``kind`` (for tests)."""
        found = [s for s in self.streams if s.kind == kind]
        if len(found) != 1:
            raise LookupError(f"{len(found)} open {kind} streams")
        return found[0]


# ---------------------------------------------------------------------------------------------
# monitor


class Signal:
    """A minimal callback list: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``. Slots run
    on the emitting thread (the monitor's): a GUI marshals them to its own thread."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., None]] = []

    def connect(self, slot: Callable[..., None]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[..., None]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            try:
                slot(*args)
            except Exception:
                log.exception("device signal handler failed")


@dataclass(frozen=True, slots=True)
class DeviceChanges:
    added: tuple[AudioDevice, ...] = ()
    removed: tuple[AudioDevice, ...] = ()


class DeviceMonitor:
    """Polls ``backend`` every ``interval_s`` and keeps one active device per kind.

    Signals: ``devices_changed(added, removed)`` (tuples of :class:`AudioDevice`, both kinds);
    ``active_device_lost(kind, device)`` when the active device disappears;
    ``active_device_changed(kind, device_or_None)`` whenever the active device changes (the
    audio I/O connects this to ``set_device``). ``preferences`` (``{"input": id, "output":
    id}``, absent: follow the system default) is the user's choice; :meth:`select` changes it
    and calls ``on_preferences_changed(dict)`` to persist it. A lost preferred device stays
    preferred: the monitor falls back to the default, and returns to the preferred device when
    it reappears.
    """

    def __init__(
        self,
        backend: DeviceBackend,
        *,
        interval_s: float = 1.0,
        preferences: dict[str, str] | None = None,
        on_preferences_changed: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self.backend = backend
        self.interval_s = interval_s
        self.preferences: dict[str, str] = dict(preferences or {})
        self.on_preferences_changed = on_preferences_changed
        self.devices_changed = Signal()
        self.active_device_lost = Signal()
        self.active_device_changed = Signal()
        self._lock = threading.RLock()
        self._devices: dict[DeviceKind, list[AudioDevice]] = {
            k: backend.list_devices(k) for k in KINDS
        }
        self._active: dict[DeviceKind, AudioDevice | None] = {k: self._choose(k) for k in KINDS}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def devices(self, kind: DeviceKind) -> list[AudioDevice]:
        with self._lock:
            return list(self._devices[kind])

    def active(self, kind: DeviceKind) -> AudioDevice | None:
        with self._lock:
            return self._active[kind]

    def _choose(self, kind: DeviceKind) -> AudioDevice | None:
        preferred = find_device(self._devices[kind], self.preferences.get(kind))
        return preferred or self.backend.default_device(kind)

    def select(self, kind: DeviceKind, device_id: str | None) -> AudioDevice | None:
        """The user picks a device (None: follow the system default); remembered."""
        with self._lock:
            if device_id is None:
                self.preferences.pop(kind, None)
            else:
                if find_device(self._devices[kind], device_id) is None:
                    raise DeviceError(f"unknown {kind} device {device_id!r}")
                self.preferences[kind] = device_id
            prefs = dict(self.preferences)
        if self.on_preferences_changed is not None:
            self.on_preferences_changed(prefs)
        return self._update_active(kind)

    def _update_active(self, kind: DeviceKind) -> AudioDevice | None:
        with self._lock:
            new = self._choose(kind)
            old = self._active[kind]
            self._active[kind] = new
        if new != old:
            self.active_device_changed.emit(kind, new)
        return new

    def poll(self) -> DeviceChanges:
        """One scan: refresh, diff, signals. Safe to call from any thread."""
        try:
            self.backend.refresh()
        except Exception:
            log.exception("device refresh failed")
        added: list[AudioDevice] = []
        removed: list[AudioDevice] = []
        lost: list[tuple[DeviceKind, AudioDevice]] = []
        with self._lock:
            for kind in KINDS:
                new = self.backend.list_devices(kind)
                old = self._devices[kind]
                old_ids = {d.id for d in old}
                new_ids = {d.id for d in new}
                added += [d for d in new if d.id not in old_ids]
                removed += [d for d in old if d.id not in new_ids]
                self._devices[kind] = new
                active = self._active[kind]
                if active is not None and active.id not in new_ids:
                    lost.append((kind, active))
        changes = DeviceChanges(tuple(added), tuple(removed))
        if added or removed:
            self.devices_changed.emit(changes.added, changes.removed)
        for kind, device in lost:
            log.warning("%s device lost: %s", kind, device.label)
            self.active_device_lost.emit(kind, device)
        for kind in KINDS:
            # falls back to the default when lost, returns to the preferred one when it is back,
            # follows a changed system default when nothing is preferred
            self._update_active(kind)
        return changes

    # -- thread

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="device-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()
