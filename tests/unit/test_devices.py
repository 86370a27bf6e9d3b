"""Device enumeration, hot-plug diffing, fallback and user choice, on the fake backend."""

from __future__ import annotations

import time
from typing import Any

import pytest

from visio_desktop.media.devices import (
    AudioDevice,
    DeviceError,
    DeviceMonitor,
    FakeDeviceBackend,
    _scan_portaudio,
    make_device_id,
)


def _backend() -> tuple[FakeDeviceBackend, dict[str, AudioDevice]]:
    backend = FakeDeviceBackend()
    devices = {
        "mic": backend.add(FakeDeviceBackend.device("input", "Built-in Mic"), default=True),
        "headset_in": backend.add(FakeDeviceBackend.device("input", "Headset")),
        "spk": backend.add(FakeDeviceBackend.device("output", "Speakers"), default=True),
        "headset_out": backend.add(FakeDeviceBackend.device("output", "Headset")),
    }
    return backend, devices


class Recorder:
    def __init__(self, monitor: DeviceMonitor) -> None:
        self.changed: list[tuple[Any, ...]] = []
        self.lost: list[tuple[Any, ...]] = []
        self.active: list[tuple[Any, ...]] = []
        monitor.devices_changed.connect(lambda *a: self.changed.append(a))
        monitor.active_device_lost.connect(lambda *a: self.lost.append(a))
        monitor.active_device_changed.connect(lambda *a: self.active.append(a))


def test_stable_ids_from_portaudio_scan() -> None:
    class FakeSd:
        class default:
            device = (2, 0)

        @staticmethod
        def query_hostapis() -> list[dict[str, Any]]:
            return [{"name": "ALSA"}, {"name": "JACK"}]

        @staticmethod
        def query_devices() -> list[dict[str, Any]]:
            def dev(i: int, name: str, host: int, ins: int, outs: int) -> dict[str, Any]:
                return {
                    "index": i,
                    "name": name,
                    "hostapi": host,
                    "max_input_channels": ins,
                    "max_output_channels": outs,
                    "default_samplerate": 48000.0,
                }

            return [
                dev(0, "USB Headset", 0, 1, 2),
                dev(1, "USB Headset", 0, 1, 2),
                dev(2, "USB Headset", 1, 2, 0),
            ]

    found, defaults = _scan_portaudio(FakeSd)
    ins = [d.id for d in found["input"]]
    assert ins == ["ALSA:USB Headset#0", "ALSA:USB Headset#1", "JACK:USB Headset#0"]
    assert [d.id for d in found["output"]] == ["ALSA:USB Headset#0", "ALSA:USB Headset#1"]
    assert defaults == {"input": 2, "output": 0}
    # the index is not part of the identity: the same device after a re-scan compares equal
    a = found["input"][0]
    assert a == AudioDevice(a.id, a.name, "input", "ALSA", 1, 48000.0, index=7)
    assert make_device_id("ALSA", "x", 3) == "ALSA:x#3"


def test_hotplug_diff_and_fallback_to_default() -> None:
    backend, dev = _backend()
    monitor = DeviceMonitor(backend)
    rec = Recorder(monitor)
    assert monitor.active("input") == dev["mic"]
    assert monitor.poll().added == () and rec.changed == []

    monitor.select("input", dev["headset_in"].id)
    assert monitor.active("input") == dev["headset_in"]
    assert rec.active == [("input", dev["headset_in"])]

    usb = backend.add(FakeDeviceBackend.device("input", "USB Mic"))
    changes = monitor.poll()
    assert changes.added == (usb,) and changes.removed == ()
    assert rec.changed == [((usb,), ())]

    backend.remove(dev["headset_in"].id)  # the headset is unplugged mid-call
    monitor.poll()
    assert rec.lost == [("input", dev["headset_in"])]
    assert monitor.active("input") == dev["mic"]  # fell back to the default, not to nothing
    assert rec.active[-1] == ("input", dev["mic"])
    assert monitor.preferences["input"] == dev["headset_in"].id  # the choice is remembered

    backend.add(dev["headset_in"])  # plugged back: back to the user's choice
    monitor.poll()
    assert monitor.active("input") == dev["headset_in"]
    assert rec.active[-1] == ("input", dev["headset_in"])


def test_preferences_persisted_and_restored() -> None:
    backend, dev = _backend()
    saved: list[dict[str, str]] = []
    monitor = DeviceMonitor(backend, on_preferences_changed=saved.append)
    monitor.select("output", dev["headset_out"].id)
    assert saved == [{"output": dev["headset_out"].id}]
    with pytest.raises(DeviceError):
        monitor.select("output", "nope:nothing#0")

    again = DeviceMonitor(backend, preferences=saved[-1])  # next start, from QSettings
    assert again.active("output") == dev["headset_out"]
    again.select("output", None)  # follow the system default
    assert again.active("output") == dev["spk"] and again.preferences == {}


def test_follows_system_default_and_survives_empty_lists() -> None:
    backend, dev = _backend()
    monitor = DeviceMonitor(backend)
    rec = Recorder(monitor)
    backend.set_default("output", dev["headset_out"].id)
    monitor.poll()
    assert monitor.active("output") == dev["headset_out"]
    for d in (dev["mic"], dev["headset_in"]):
        backend.remove(d.id)
    monitor.poll()  # no microphone at all: no crash, active None
    assert monitor.active("input") is None
    assert ("input", dev["mic"]) in rec.lost


def test_handler_errors_do_not_stop_the_monitor() -> None:
    backend, dev = _backend()
    monitor = DeviceMonitor(backend)

    def broken(*args: Any) -> None:
        raise RuntimeError("ui bug")

    monitor.devices_changed.connect(broken)
    backend.remove(dev["spk"].id)
    monitor.poll()
    assert monitor.active("output") == dev["headset_out"]


def test_monitor_thread_polls() -> None:
    backend, _dev = _backend()
    monitor = DeviceMonitor(backend, interval_s=0.02)
    rec = Recorder(monitor)
    monitor.start()
    try:
        new = backend.add(FakeDeviceBackend.device("output", "HDMI"))
        deadline = time.monotonic() + 2.0
        while not rec.changed and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        monitor.stop()
    assert rec.changed and rec.changed[0][0] == (new,)
    assert backend.refreshes >= 1


def test_fake_open_errors() -> None:
    backend, dev = _backend()
    backend.fail_open.add(dev["headset_in"].id)
    with pytest.raises(DeviceError, match="busy"):
        backend.open_stream(
            "input",
            dev["headset_in"],
            samplerate=48000,
            channels=1,
            blocksize=480,
            callback=lambda *a: None,
        )
    stream = backend.open_stream(
        "input", None, samplerate=48000, channels=1, blocksize=480, callback=lambda *a: None
    )
    assert stream.device == dev["mic"] and backend.stream_for("input") is stream
    stream.close()
    assert backend.streams == []
