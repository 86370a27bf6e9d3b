"""User choices persisted with QSettings (registry on Windows, plist on macOS, INI on Linux).

Keys are kept under a top-level ``settings`` group: QSettings' INI format treats a top-level
group spelled ``general`` as its special ``[General]`` section and reads it back as
``General/...``, which would lose every ``general/*`` choice at the next start. Values come
back as text from INI files; :class:`~visio_desktop.config.Settings` converts them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

ORGANISATION = "DINUM"
APPLICATION = "Visio Desktop"
GROUP = "settings"


class QSettingsStore:
    """A :class:`~visio_desktop.config.UserStore` over ``QSettings("DINUM", "Visio Desktop")``
    (or the given ``qsettings``, e.g. an INI file in tests)."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.qsettings = qsettings or QSettings(ORGANISATION, APPLICATION)

    @staticmethod
    def _path(key: str) -> str:
        return f"{GROUP}/{key}"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        if not self.qsettings.contains(path):
            return None
        return self.qsettings.value(path)

    def set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(self._path(key), value)

    def remove(self, key: str) -> None:
        self.qsettings.remove(self._path(key))

    def keys(self) -> list[str]:
        self.qsettings.beginGroup(GROUP)
        try:
            return [str(k) for k in self.qsettings.allKeys()]
        finally:
            self.qsettings.endGroup()

    def sync(self) -> None:
        """Writes pending changes now (QSettings also does it on its own, and at exit)."""
        self.qsettings.sync()
