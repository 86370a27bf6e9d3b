"""Remembered device choices: the user's microphone, speakers and camera, across restarts.

The choice is a stable device id kept in :class:`~visio_desktop.config.Settings`
(``audio/input_device``, ``audio/output_device``, ``video/camera_device``; ``""`` = the system
default). :class:`DevicePreferences` resolves it against the devices present now: a remembered
device that is missing is not forgotten: the system default is used meanwhile (with
``missing=True`` so the UI can say so), and the remembered device is selected again as soon as
it comes back. ``on_change(kind, resolution)`` reports each such switch.

Devices are anything with an ``id`` (:class:`~visio_desktop.media.devices.AudioDevice`,
:class:`~visio_desktop.media.camera.CameraInfo`) or plain id strings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from visio_desktop.config import Settings

log = logging.getLogger(__name__)

Kind = Literal["input", "output", "camera"]
KINDS: tuple[Kind, ...] = ("input", "output", "camera")
SETTING_KEYS: dict[Kind, str] = {
    "input": "audio/input_device",
    "output": "audio/output_device",
    "camera": "video/camera_device",
}
_AUDIO_ID = re.compile(r"^[^:]*:(?P<name>.+)#\d+$")


@dataclass(frozen=True, slots=True)
class DeviceResolution:
    """Which device to use. ``device_id`` None means "the system default" (nothing usable
    remembered, or nothing at all connected); ``remembered_id`` is the user's choice ("" when
    they follow the default); ``missing`` says the remembered device is not connected."""

    kind: Kind
    device_id: str | None
    remembered_id: str
    missing: bool

    @property
    def uses_default(self) -> bool:
        return self.device_id is None


def device_ids(devices: Iterable[Any]) -> list[str]:
    return [d if isinstance(d, str) else str(d.id) for d in devices]


def name_from_id(device_id: str) -> str:
    """A readable name for a device known only by its id (a remembered device that is not
    connected): the name part of ``"<host API>:<name>#<n>"``, else the id itself."""
    match = _AUDIO_ID.match(device_id)
    return match.group("name") if match else device_id


class DevicePreferences:
    """Remembered devices over ``settings``; see the module doc."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.on_change: Callable[[Kind, DeviceResolution], None] | None = None
        self._last: dict[Kind, DeviceResolution] = {}

    def remembered(self, kind: Kind) -> str:
        """The remembered device id ("" = follow the system default)."""
        return str(self.settings.get(SETTING_KEYS[kind]))

    def resolve(self, kind: Kind, available: Iterable[Any]) -> DeviceResolution:
        """The device to use among ``available`` (pure: nothing is recorded)."""
        remembered = self.remembered(kind)
        if not remembered:
            return DeviceResolution(kind, None, "", False)
        if remembered in device_ids(available):
            return DeviceResolution(kind, remembered, remembered, False)
        return DeviceResolution(kind, None, remembered, True)

    def update(self, kind: Kind, available: Iterable[Any]) -> DeviceResolution:
        """Like :meth:`resolve`, for the device list seen now (at start and on every hot-plug
        change); calls ``on_change`` when the resolution differs from the last one: the
        remembered device went away (fallback) or came back (re-selected)."""
        resolution = self.resolve(kind, available)
        previous = self._last.get(kind)
        self._last[kind] = resolution
        if previous is not None and previous != resolution:
            if resolution.missing and not previous.missing:
                log.info("%s device %s is not connected; using the system default",
                         kind, name_from_id(resolution.remembered_id))
            elif previous.missing and not resolution.missing:
                log.info("%s device %s is back; selecting it again",
                         kind, name_from_id(resolution.remembered_id))
            if self.on_change is not None:
                self.on_change(kind, resolution)
        return resolution

    def choose(self, kind: Kind, device_id: str | None) -> None:
        """Records the user's choice (None or "": follow the system default). Raises
        :class:`~visio_desktop.config.SettingLocked` when a policy fixes the device."""
        self.settings.set(SETTING_KEYS[kind], device_id or "")

    # -- DeviceMonitor (media/devices.py) keeps its own {"input": id, "output": id} dict

    def monitor_preferences(self) -> dict[str, str]:
        """The audio choices in :class:`~visio_desktop.media.devices.DeviceMonitor`'s form."""
        return {kind: rid for kind in ("input", "output") if (rid := self.remembered(kind))}

    def save_monitor_preferences(self, preferences: dict[str, str]) -> None:
        """For ``DeviceMonitor(on_preferences_changed=...)``: persists the monitor's choices."""
        for kind in ("input", "output"):
            self.choose(kind, preferences.get(kind))
