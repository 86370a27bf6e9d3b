"""Settings: one schema, user choices, and the administrator's policy.

Every setting is a :class:`Setting` in :data:`SCHEMA` (key ``"group/name"``, type, default,
allowed values). :class:`Settings` gives the effective value of a key with this precedence::

    policy-locked  >  user choice  >  policy-recommended  >  built-in default

User choices live in a :class:`UserStore` (:class:`MemoryStore` here, ``QSettingsStore`` in
the UI layer). Policies come from the platform's managed location (:func:`load_policy`):

* Linux: ``/etc/visio-desktop/policy.json`` then ``/etc/visio-desktop/policy.d/*.json``
  (``VISIO_DESKTOP_POLICY`` names another file instead, on any OS: tests, development);
* Windows: ``HKLM\\Software\\Policies\\DINUM\\VisioDesktop`` (values named by setting key,
  e.g. ``video/hardware_encoding``; the ``Recommended`` subkey holds recommended values), then
  the same under HKCU (machine policy wins);
* macOS: ``/Library/Managed Preferences/fr.gouv.numerique.visio-desktop.plist``.

All three carry the same structure::

    {"locked": {key: value}, "recommended": {key: value},
     "message": "text shown next to locked settings", "reasons": {key: "text"}}

(a setting key at the top level counts as locked; keys starting with ``_`` are comments).
A malformed policy never stops the application: the file or the bad keys are ignored with a
logged warning that names them and says why.

No Qt here: the media engine and the command line use this module too.
"""

from __future__ import annotations

import json
import logging
import math
import os
import plistlib
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SettingType = type[bool] | type[int] | type[float] | type[str]
Source = Literal["locked", "user", "recommended", "default"]

DEFAULT_INSTANCE_URL = "https://visio.numerique.gouv.fr"
LINUX_POLICY_PATH = Path("/etc/visio-desktop/policy.json")
POLICY_ENV = "VISIO_DESKTOP_POLICY"
WINDOWS_POLICY_KEY = r"Software\Policies\DINUM\VisioDesktop"
WINDOWS_RECOMMENDED_SUBKEY = "Recommended"
WINDOWS_MESSAGE_VALUE = "Message"
MACOS_BUNDLE_ID = "fr.gouv.numerique.visio-desktop"
MACOS_MANAGED_DIR = Path("/Library/Managed Preferences")


# ---------------------------------------------------------------------------------------------
# errors


class SettingsError(Exception):
    """Base of the errors below; ``str()`` is fit for a log and for a developer."""


class UnknownSetting(SettingsError, KeyError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown setting {self.key!r}"


class InvalidSetting(SettingsError, ValueError):
    def __init__(self, key: str, value: Any, why: str) -> None:
        super().__init__(key, value, why)
        self.key, self.value, self.why = key, value, why

    def __str__(self) -> str:
        return f"{self.key}: {self.value!r} is not valid: {self.why}"


class SettingLocked(SettingsError, PermissionError):
    """The administrator's policy fixes this setting; the user cannot change it."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(key, reason)
        self.key, self.reason = key, reason

    def __str__(self) -> str:
        return f"{self.key} is set by your organisation ({self.reason}) and cannot be changed"


# ---------------------------------------------------------------------------------------------
# schema


def _check_http_url(value: str) -> str | None:
    """An https URL with a host (plain http only for this computer)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "expected an https:// address"
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return "plain http is only allowed for localhost; use https://"
    if parts.query or parts.fragment:
        return "the address must not contain ? or #"
    return None


def _check_proxy(value: str) -> str | None:
    if value in ("system", "none"):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        return 'expected "system", "none" or a proxy URL (http://, https://, socks5://)'
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        return str(exc)
    return None


def _check_max_length(limit: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return f"longer than {limit} characters" if len(value) > limit else None

    return check


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of the schema. ``choices`` (when given) lists every allowed value;
    ``minimum``/``maximum`` bound numbers; ``check`` returns an error text or None."""

    key: str
    type: SettingType
    default: Any
    description: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_]+/[a-z_]+", self.key):
            raise ValueError(f"setting key {self.key!r} must look like 'group/name'")
        self.validate(self.default)  # a broken schema fails at import, not in the field

    def validate(self, value: Any) -> Any:
        """``value`` if it has the right type and is allowed (an int is accepted for a float
        setting and returned as a float); raises :class:`InvalidSetting`."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise InvalidSetting(self.key, value, "expected true or false")
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidSetting(self.key, value, "expected a number")
            value = float(value)
            if not math.isfinite(value):
                raise InvalidSetting(self.key, value, "expected a finite number")
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidSetting(self.key, value, "expected a whole number")
        elif not isinstance(value, str):
            raise InvalidSetting(self.key, value, "expected text")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise InvalidSetting(self.key, value, f"expected one of {allowed}")
        if self.minimum is not None and value < self.minimum:
            raise InvalidSetting(self.key, value, f"smaller than {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise InvalidSetting(self.key, value, f"greater than {self.maximum}")
        if self.check is not None and (why := self.check(value)) is not None:
            raise InvalidSetting(self.key, value, why)
        return value

    def coerce(self, raw: Any) -> Any:
        """A value read from storage or policy, where types are loose (INI text, registry
        DWORDs, plist numbers), converted to the setting's type and validated."""
        value = raw
        if self.type is bool:
            if isinstance(raw, str):
                value = _BOOL_WORDS.get(raw.strip().lower(), raw)
            elif isinstance(raw, int) and not isinstance(raw, bool) and raw in (0, 1):
                value = bool(raw)
        elif self.type in (float, int) and isinstance(raw, str):
            try:
                value = self.type(raw.strip())
            except ValueError:
                pass
        elif self.type is int and isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        return self.validate(value)


def _s(key: str, type_: SettingType, default: Any, description: str, **extra: Any) -> Setting:
    return Setting(key, type_, default, description, **extra)


SETTINGS: tuple[Setting, ...] = (
    # general
    _s("general/language", str, "system", "Language of the application (system: follow the OS).",
       choices=("system", "fr", "en")),
    _s("general/theme", str, "system", "Colour theme (system: follow the OS).",
       choices=("system", "light", "dark")),
    _s("general/instance_url", str, DEFAULT_INSTANCE_URL,
       "Address of the Visio (La Suite Meet) instance to use.", check=_check_http_url),
    _s("general/display_name", str, "", "Name shown to other participants (empty: ask).",
       check=_check_max_length(100)),
    _s("general/mini_window", bool, False,
       "Show a small always-on-top window with the call when the main window loses focus."),
    _s("general/minimize_to_tray", bool, False,
       "Closing the window keeps the application in the system tray (only when a tray exists)."),
    _s("general/telemetry", bool, False,
       "Send anonymous usage statistics. Visio Desktop collects none today; locking this off "
       "keeps any future version from doing so."),
    # audio
    _s("audio/input_device", str, "", "Microphone, by stable device id (empty: system default)."),
    _s("audio/output_device", str, "", "Speakers, by stable device id (empty: system default)."),
    _s("audio/echo_cancellation", bool, True, "Remove the echo of the speakers from the mic."),
    _s("audio/noise_suppression", bool, True, "Reduce background noise on the microphone."),
    _s("audio/auto_gain", bool, True, "Adjust the microphone volume automatically."),
    _s("audio/push_to_talk", bool, False, "The microphone is live only while a key is held."),
    # video
    _s("video/camera_device", str, "", "Camera, by stable device id (empty: the first camera)."),
    _s("video/camera_resolution", str, "720p", "Resolution sent from the camera.",
       choices=("720p", "360p", "180p")),
    _s("video/mirror_preview", bool, True, "Show your own camera picture mirrored."),
    _s("video/background_blur", bool, False, "Blur the background behind you."),
    _s("video/hardware_encoding", bool, True,
       "Encode video with the graphics hardware when available (less CPU)."),
    # notifications
    _s("notifications/chat_sound", bool, True, "Play a sound for a new chat message."),
    _s("notifications/chat_toast", bool, True, "Show a desktop notification for a chat message."),
    _s("notifications/join_sound", bool, True, "Play a sound when someone joins."),
    _s("notifications/hand_raised", bool, True, "Notify when someone raises their hand."),
    # shortcuts
    _s("shortcuts/global_mute", str, "",
       "System-wide shortcut that toggles the microphone (Qt portable text; empty: off).",
       check=_check_max_length(64)),
    # accessibility and captions
    _s("accessibility/caption_scale", float, 1.0, "Size of the captions (1.0 = normal).",
       minimum=0.5, maximum=3.0),
    _s("accessibility/font_scale", float, 1.0, "Size of the interface text (1.0 = normal).",
       minimum=0.5, maximum=3.0),
    _s("captions/language", str, "", "Language of live captions (empty: the meeting's).",
       choices=("", "fr", "en", "de", "nl")),
    # local meetings and network
    _s("local/bind_lan", bool, True,
       "A meeting started on this computer accepts people from the local network "
       "(off: this computer only)."),
    _s("network/proxy", str, "system",
       'Proxy: "system" (the OS settings), "none", or a proxy URL.', check=_check_proxy),
)

SCHEMA: Mapping[str, Setting] = {s.key: s for s in SETTINGS}


# ---------------------------------------------------------------------------------------------
# user store


class UserStore(Protocol):
    """Where user choices persist. ``get`` returns None for a key that is not stored."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any) -> None: ...

    def remove(self, key: str) -> None: ...

    def keys(self) -> list[str]: ...


class MemoryStore:
    """A :class:`UserStore` in a dict (tests, headless runs)."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})

    def get(self, key: str) -> Any | None:
        return self.values.get(key)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value

    def remove(self, key: str) -> None:
        self.values.pop(key, None)

    def keys(self) -> list[str]:
        return list(self.values)


# ---------------------------------------------------------------------------------------------
# policy


@dataclass(frozen=True, slots=True)
class Policy:
    """What the administrator set. ``reasons`` holds, for each locked key, the text shown to
    the user; ``ignored`` lists ``"key: why"`` for what could not be used."""

    locked: Mapping[str, Any] = field(default_factory=dict)
    recommended: Mapping[str, Any] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def over(self, other: Policy) -> Policy:
        """This policy, completed by ``other`` where this one says nothing."""
        return Policy(
            locked={**other.locked, **self.locked},
            recommended={**other.recommended, **self.recommended},
            reasons={**other.reasons, **self.reasons},
            sources=self.sources + other.sources,
            ignored=self.ignored + other.ignored,
        )


EMPTY_POLICY = Policy()
_SECTIONS = ("locked", "recommended")
_META = ("message", "reasons")


def parse_policy(data: Any, source: str, *, reason: str | None = None,
                 schema: Mapping[str, Setting] = SCHEMA) -> Policy:
    """A :class:`Policy` from decoded JSON / plist / registry data. ``reason`` is the text
    shown for locked keys when the policy gives no ``message`` (default: ``source``).
    Never raises: what is wrong is logged and left out."""
    if not isinstance(data, Mapping):
        log.warning("policy %s ignored: expected an object at the top level, found %s",
                    source, type(data).__name__)
        return Policy(sources=(source,), ignored=("*: not an object",))
    ignored: list[str] = []
    sections: dict[str, dict[str, Any]] = {"locked": {}, "recommended": {}}

    def take(section: str, key: str, raw: Any) -> None:
        setting = schema.get(key)
        if setting is None:
            ignored.append(f"{section}.{key}: unknown setting")
            return
        try:
            sections[section][key] = setting.coerce(raw)
        except InvalidSetting as exc:
            ignored.append(f"{section}.{key}: {exc.why} (got {raw!r})")

    for name, value in data.items():
        name = str(name)
        if name in _SECTIONS:
            if isinstance(value, Mapping):
                for key, raw in value.items():
                    take(name, str(key), raw)
            else:
                ignored.append(f"{name}: expected an object of settings")
        elif name in schema:
            take("locked", name, value)  # a bare setting key (macOS profiles) is enforced
        elif name not in _META and not name.startswith(("_", "$")):
            ignored.append(f"{name}: unknown setting or section")

    message = data.get("message")
    if message is not None and not isinstance(message, str):
        ignored.append("message: expected text")
        message = None
    default_reason = (message or "").strip() or reason or source
    reasons = dict.fromkeys(sections["locked"], default_reason)
    per_key = data.get("reasons", {})
    if isinstance(per_key, Mapping):
        for key, text in per_key.items():
            if key in reasons and isinstance(text, str) and text.strip():
                reasons[key] = text.strip()
            else:
                ignored.append(f"reasons.{key}: not text for a locked setting")
    else:
        ignored.append("reasons: expected an object")
    if ignored:
        log.warning("policy %s: ignored %d entr%s: %s", source, len(ignored),
                    "y" if len(ignored) == 1 else "ies", "; ".join(ignored))
    return Policy(sections["locked"], sections["recommended"], reasons, (source,),
                  tuple(f"{source}: {item}" for item in ignored))


def read_json_policy(path: Path, *, schema: Mapping[str, Setting] = SCHEMA) -> Policy:
    """The policy in ``path`` (absent: empty). Unreadable or malformed: warning, empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return EMPTY_POLICY
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("policy %s ignored: cannot read it: %s", path, exc)
        return Policy(sources=(str(path),), ignored=(f"{path}: {exc}",))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        log.warning("policy %s ignored: not valid JSON: %s at line %d column %d",
                    path, exc.msg, exc.lineno, exc.colno)
        return Policy(sources=(str(path),), ignored=(f"{path}: invalid JSON ({exc})",))
    return parse_policy(data, str(path), schema=schema)


def read_linux_policy(path: Path | None = None, *,
                      schema: Mapping[str, Setting] = SCHEMA) -> Policy:
    """``policy.json`` then ``policy.d/*.json`` beside it (in name order, later files win)."""
    path = path or LINUX_POLICY_PATH
    policy = read_json_policy(path, schema=schema)
    drop_in = path.parent / "policy.d"
    try:
        extra = sorted(drop_in.glob("*.json")) if drop_in.is_dir() else []
    except OSError as exc:
        log.warning("policy directory %s ignored: %s", drop_in, exc)
        extra = []
    for file in extra:
        policy = read_json_policy(file, schema=schema).over(policy)
    return policy


def _registry_values(winreg: ModuleType, hive: Any, path: str) -> dict[str, Any] | None:
    """The values of a registry key (None: no such key)."""
    try:
        key = winreg.OpenKey(hive, path, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)
    except OSError:
        return None
    values: dict[str, Any] = {}
    try:
        index = 0
        while True:
            try:
                name, data, _kind = winreg.EnumValue(key, index)
            except OSError:  # no more values
                break
            values[str(name)] = data
            index += 1
    finally:
        winreg.CloseKey(key)
    return values


def read_windows_policy(winreg: ModuleType | None = None, *,
                        schema: Mapping[str, Setting] = SCHEMA) -> Policy:
    """Group Policy: HKLM then HKCU ``Software\\Policies\\DINUM\\VisioDesktop`` (value names
    are setting keys; DWORD 0/1 for booleans) with its ``Recommended`` subkey."""
    if winreg is None:
        import winreg as _winreg  # Windows only

        winreg = _winreg
    policy = EMPTY_POLICY
    for hive, hive_name in ((winreg.HKEY_CURRENT_USER, "HKCU"),
                            (winreg.HKEY_LOCAL_MACHINE, "HKLM")):  # the last one wins
        source = f"{hive_name}\\{WINDOWS_POLICY_KEY}"
        locked = _registry_values(winreg, hive, WINDOWS_POLICY_KEY)
        recommended = _registry_values(
            winreg, hive, f"{WINDOWS_POLICY_KEY}\\{WINDOWS_RECOMMENDED_SUBKEY}")
        if locked is None and recommended is None:
            continue
        locked = dict(locked or {})
        data: dict[str, Any] = {"recommended": recommended or {}}
        message = locked.pop(WINDOWS_MESSAGE_VALUE, None)
        if message is not None:
            data["message"] = message
        data["locked"] = locked
        policy = parse_policy(data, source, reason="Group Policy", schema=schema).over(policy)
    return policy


def read_macos_policy(directory: Path | None = None, user: str | None = None, *,
                      schema: Mapping[str, Setting] = SCHEMA) -> Policy:
    """Managed preferences (configuration profiles): the computer's plist, completed by the
    user's (``<dir>/<user>/<bundle id>.plist``); the computer's wins."""
    directory = directory or MACOS_MANAGED_DIR
    user = user if user is not None else os.environ.get("USER", "")
    candidates = [directory / f"{MACOS_BUNDLE_ID}.plist"]
    if user:
        candidates.append(directory / user / f"{MACOS_BUNDLE_ID}.plist")
    policy = EMPTY_POLICY
    for path in candidates:
        try:
            with path.open("rb") as fh:
                data = plistlib.load(fh)
        except FileNotFoundError:
            continue
        except Exception as exc:  # OSError, InvalidFileException, ExpatError, ValueError...
            log.warning("policy %s ignored: cannot read it: %s", path, exc)
            policy = policy.over(Policy(sources=(str(path),), ignored=(f"{path}: {exc}",)))
            continue
        parsed = parse_policy(data, str(path), reason="configuration profile", schema=schema)
        policy = policy.over(parsed)  # earlier candidates (the computer's) win
    return policy


def load_policy(*, platform: str | None = None,
                schema: Mapping[str, Setting] = SCHEMA) -> Policy:
    """This computer's policy; ``VISIO_DESKTOP_POLICY`` (a JSON file) replaces the platform's
    source when set. Never raises."""
    platform = platform or sys.platform
    override = os.environ.get(POLICY_ENV)
    try:
        if override:
            return read_json_policy(Path(override), schema=schema)
        if platform == "win32":
            return read_windows_policy(schema=schema)
        if platform == "darwin":
            return read_macos_policy(schema=schema)
        return read_linux_policy(schema=schema)
    except Exception:  # a policy problem must never keep the application from starting
        log.exception("reading the policy failed; running without policy")
        return EMPTY_POLICY


# ---------------------------------------------------------------------------------------------
# settings

ChangeCallback = Callable[[str, Any], None]


class Settings:
    """Effective settings over a :class:`UserStore` and a :class:`Policy`.

    ``on_change(callback)`` registers ``callback(key, value)``, called (on the thread that made
    the change) whenever a key's effective value changes; it returns an unsubscribe function.
    """

    def __init__(self, store: UserStore | None = None, policy: Policy | None = None, *,
                 schema: Mapping[str, Setting] = SCHEMA) -> None:
        self.store: UserStore = store if store is not None else MemoryStore()
        self.schema = schema
        self._policy = policy or EMPTY_POLICY
        self._lock = threading.RLock()
        self._callbacks: list[ChangeCallback] = []
        self._warned: set[tuple[str, str]] = set()

    @classmethod
    def load(cls, store: UserStore | None = None) -> Settings:
        """Settings with this computer's policy (see :func:`load_policy`)."""
        return cls(store, load_policy())

    # -- reading

    def setting(self, key: str) -> Setting:
        try:
            return self.schema[key]
        except KeyError:
            raise UnknownSetting(key) from None

    def keys(self) -> list[str]:
        return list(self.schema)

    @property
    def policy(self) -> Policy:
        return self._policy

    def _user_value(self, setting: Setting) -> tuple[bool, Any]:
        raw = self.store.get(setting.key)
        if raw is None:
            return False, None
        try:
            return True, setting.coerce(raw)
        except InvalidSetting as exc:
            if (setting.key, repr(raw)) not in self._warned:
                self._warned.add((setting.key, repr(raw)))
                log.warning("stored setting ignored: %s", exc)
            return False, None

    def _resolve(self, key: str) -> tuple[Source, Any]:
        setting = self.setting(key)
        with self._lock:
            if key in self._policy.locked:
                return "locked", self._policy.locked[key]
            found, value = self._user_value(setting)
            if found:
                return "user", value
            if key in self._policy.recommended:
                return "recommended", self._policy.recommended[key]
            return "default", setting.default

    def get(self, key: str) -> Any:
        return self._resolve(key)[1]

    def source(self, key: str) -> Source:
        """Where the effective value comes from."""
        return self._resolve(key)[0]

    def is_locked(self, key: str) -> bool:
        self.setting(key)
        return key in self._policy.locked

    def lock_reason(self, key: str) -> str | None:
        """Why the user cannot change ``key`` (None when they can)."""
        if not self.is_locked(key):
            return None
        return self._policy.reasons.get(key) or "policy"

    def snapshot(self) -> dict[str, Any]:
        return {key: self.get(key) for key in self.schema}

    # -- writing

    def set(self, key: str, value: Any) -> None:
        """Records the user's choice; raises :class:`SettingLocked`, :class:`InvalidSetting`
        or :class:`UnknownSetting`. Kept even when equal to the default or recommended value
        (a later policy recommendation does not override an explicit choice)."""
        setting = self.setting(key)
        reason = self.lock_reason(key)
        if reason is not None:
            raise SettingLocked(key, reason)
        value = setting.validate(value)
        with self._lock:
            before = self.get(key)
            self.store.set(key, value)
        if value != before:
            self._notify(((key, value),))

    def reset(self, key: str) -> None:
        """Forgets the user's choice (the recommended or default value applies again)."""
        self.setting(key)
        with self._lock:
            before = self.get(key)
            self.store.remove(key)
            after = self.get(key)
        if after != before:
            self._notify(((key, after),))

    def set_policy(self, policy: Policy) -> None:
        """Applies a new policy (re-read at run time); notifies the keys whose value changed."""
        with self._lock:
            before = self.snapshot()
            self._policy = policy
            after = self.snapshot()
        self._notify((k, v) for k, v in after.items() if before[k] != v)

    # -- callbacks

    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def _notify(self, changes: Iterable[tuple[str, Any]]) -> None:
        changes = list(changes)
        with self._lock:
            callbacks = list(self._callbacks)
        for key, value in changes:
            for callback in callbacks:
                try:
                    callback(key, value)
                except Exception:
                    log.exception("settings change callback failed for %s", key)
