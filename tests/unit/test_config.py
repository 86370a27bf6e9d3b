"""Settings schema, precedence, validation, policy sources, and remembered devices."""

from __future__ import annotations

import json
import logging
import plistlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from visio_desktop.config import (
    DEFAULT_INSTANCE_URL,
    POLICY_ENV,
    SCHEMA,
    WINDOWS_POLICY_KEY,
    InvalidSetting,
    MemoryStore,
    Policy,
    SettingLocked,
    Settings,
    UnknownSetting,
    load_policy,
    parse_policy,
    read_json_policy,
    read_linux_policy,
    read_macos_policy,
    read_windows_policy,
)
from visio_desktop.media.camera import CameraInfo
from visio_desktop.media.device_preferences import DevicePreferences, DeviceResolution
from visio_desktop.media.devices import DeviceMonitor, FakeDeviceBackend

REPO = Path(__file__).resolve().parents[2]
POLICY_DIR = REPO / "packaging" / "policy"


def _policy_file(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# -- schema -------------------------------------------------------------------------------------


def test_schema_covers_the_application_settings_with_valid_defaults() -> None:
    expected = {
        "general/language": "system", "general/theme": "system",
        "general/instance_url": "https://visio.numerique.gouv.fr", "general/display_name": "",
        "general/mini_window": False, "general/minimize_to_tray": False,
        "audio/input_device": "", "audio/output_device": "", "audio/echo_cancellation": True,
        "audio/noise_suppression": True, "audio/auto_gain": True, "audio/push_to_talk": False,
        "video/camera_device": "", "video/camera_resolution": "720p",
        "video/mirror_preview": True, "video/background_blur": False,
        "video/hardware_encoding": True, "shortcuts/global_mute": "",
        "accessibility/caption_scale": 1.0, "accessibility/font_scale": 1.0,
        "local/bind_lan": True, "network/proxy": "system", "captions/language": "",
    }
    settings = Settings()
    for key, default in expected.items():
        assert settings.get(key) == default, key
        assert settings.source(key) == "default"
    for key in ("notifications/chat_sound", "notifications/chat_toast",
                "notifications/join_sound", "notifications/hand_raised"):
        assert isinstance(settings.get(key), bool)
    assert SCHEMA["general/language"].choices == ("system", "fr", "en")
    assert SCHEMA["general/theme"].choices == ("system", "light", "dark")
    assert SCHEMA["video/camera_resolution"].choices == ("720p", "360p", "180p")
    assert all(setting.description for setting in SCHEMA.values())


# -- precedence ---------------------------------------------------------------------------------


def test_precedence_locked_over_user_over_recommended_over_default() -> None:
    key = "general/theme"
    store = MemoryStore()
    settings = Settings(store)
    assert (settings.get(key), settings.source(key)) == ("system", "default")

    settings.set_policy(Policy(recommended={key: "light"}))
    assert (settings.get(key), settings.source(key)) == ("light", "recommended")

    settings.set(key, "dark")
    assert (settings.get(key), settings.source(key)) == ("dark", "user")
    assert store.values[key] == "dark"

    settings.set_policy(Policy(locked={key: "light"}, recommended={key: "light"},
                               reasons={key: "IT"}))
    assert (settings.get(key), settings.source(key)) == ("light", "locked")
    assert store.values[key] == "dark"  # the user's choice is kept, only hidden by the lock

    settings.set_policy(Policy())
    assert settings.get(key) == "dark"  # lock lifted: the user's choice is back


def test_user_choice_survives_a_new_recommendation_and_reset_returns_to_it() -> None:
    settings = Settings(policy=Policy(recommended={"general/language": "fr"}))
    assert settings.get("general/language") == "fr"
    settings.set("general/language", "fr")  # explicitly the same as recommended
    settings.set_policy(Policy(recommended={"general/language": "en"}))
    assert settings.get("general/language") == "fr"  # an explicit choice wins
    settings.reset("general/language")
    assert (settings.get("general/language"), settings.source("general/language")) == (
        "en", "recommended")


def test_setting_a_locked_key_raises_setting_locked_with_the_reason() -> None:
    policy = parse_policy({"locked": {"local/bind_lan": False, "general/telemetry": False},
                           "message": "managed by the IT department",
                           "reasons": {"local/bind_lan": "security policy"}}, "test")
    store = MemoryStore()
    settings = Settings(store, policy)
    assert settings.is_locked("local/bind_lan") and not settings.is_locked("general/theme")
    assert settings.lock_reason("local/bind_lan") == "security policy"
    assert settings.lock_reason("general/telemetry") == "managed by the IT department"
    assert settings.lock_reason("general/theme") is None
    with pytest.raises(SettingLocked) as info:
        settings.set("local/bind_lan", True)
    assert info.value.key == "local/bind_lan" and info.value.reason == "security policy"
    assert "set by your organisation" in str(info.value)
    assert store.values == {}
    assert settings.get("local/bind_lan") is False


def test_lock_reason_defaults_to_the_policy_source() -> None:
    policy = parse_policy({"locked": {"general/theme": "dark"}}, "/etc/visio-desktop/policy.json")
    assert Settings(policy=policy).lock_reason("general/theme") == "/etc/visio-desktop/policy.json"


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [
    ("general/theme", "blue"),                      # not an allowed value
    ("general/theme", 1),                           # wrong type
    ("general/mini_window", "yes"),                 # strict bool from code
    ("general/mini_window", 1),
    ("accessibility/font_scale", "big"),
    ("accessibility/font_scale", 10.0),             # out of range
    ("accessibility/font_scale", float("nan")),
    ("accessibility/caption_scale", True),          # a bool is not a number here
    ("general/instance_url", "visio.numerique.gouv.fr"),  # no scheme
    ("general/instance_url", "http://visio.example.org"),  # plain http off localhost
    ("general/instance_url", "ftp://visio.example.org"),
    ("network/proxy", "proxy.example:3128"),        # neither system/none nor a URL
    ("network/proxy", "http://proxy.example:notaport"),
    ("general/display_name", "x" * 101),
    ("captions/language", "klingon"),
])
def test_invalid_values_are_refused_with_a_clear_error(key: str, value: Any) -> None:
    store = MemoryStore()
    settings = Settings(store)
    with pytest.raises(InvalidSetting) as info:
        settings.set(key, value)
    assert info.value.key == key and key in str(info.value)
    assert store.values == {}


def test_valid_values_and_an_int_for_a_float() -> None:
    settings = Settings()
    settings.set("accessibility/font_scale", 2)
    assert settings.get("accessibility/font_scale") == 2.0
    assert isinstance(settings.get("accessibility/font_scale"), float)
    settings.set("general/instance_url", "https://meet.example.gouv.fr/")
    settings.set("general/instance_url", "http://localhost:8071")
    settings.set("network/proxy", "socks5://10.0.0.1:1080")
    settings.set("network/proxy", "none")
    settings.set("shortcuts/global_mute", "Ctrl+Shift+M")


def test_unknown_keys_raise_unknown_setting() -> None:
    settings = Settings()
    for call in (lambda: settings.get("nope/nope"), lambda: settings.set("nope/nope", 1),
                 lambda: settings.is_locked("nope/nope")):
        with pytest.raises(UnknownSetting):
            call()


def test_stored_text_values_are_converted_and_corrupt_ones_ignored(
        caplog: pytest.LogCaptureFixture) -> None:
    # QSettings INI files give text back
    store = MemoryStore({"general/mini_window": "true", "accessibility/font_scale": "1.25",
                         "general/theme": "purple"})
    settings = Settings(store)
    assert settings.get("general/mini_window") is True
    assert settings.get("accessibility/font_scale") == 1.25
    with caplog.at_level(logging.WARNING):
        assert settings.get("general/theme") == "system"  # corrupt: next layer applies
    assert "general/theme" in caplog.text and "purple" in caplog.text


# -- change callbacks ---------------------------------------------------------------------------


def test_change_callbacks_fire_on_effective_changes_only() -> None:
    settings = Settings()
    seen: list[tuple[str, Any]] = []
    unsubscribe = settings.on_change(lambda key, value: seen.append((key, value)))
    settings.set("general/theme", "dark")
    settings.set("general/theme", "dark")  # unchanged
    settings.set_policy(Policy(locked={"general/theme": "light", "audio/auto_gain": True}))
    settings.reset("video/mirror_preview")  # nothing stored: unchanged
    assert seen == [("general/theme", "dark"), ("general/theme", "light")]

    def failing(key: str, value: Any) -> None:
        raise RuntimeError("a broken listener")

    settings.on_change(failing)  # does not stop the others
    unsubscribe()
    settings.set("general/language", "fr")
    assert seen == [("general/theme", "dark"), ("general/theme", "light")]


# -- policy files -------------------------------------------------------------------------------


def test_malformed_policy_json_is_ignored_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _policy_file(tmp_path, '{"locked": {"general/theme": "dark",}')
    with caplog.at_level(logging.WARNING):
        policy = read_json_policy(path)
    assert policy.locked == {} and policy.recommended == {}
    assert str(path) in caplog.text and "not valid JSON" in caplog.text
    assert "line 1" in caplog.text
    assert Settings(policy=policy).get("general/theme") == "system"


def test_bad_policy_keys_are_listed_and_the_good_ones_kept(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _policy_file(tmp_path, {
        "locked": {"general/theme": "blue", "video/hardware_encoding": 0,
                   "audio/volume": 3, "general/instance_url": "https://visio.example.fr"},
        "recommended": ["not", "an", "object"],
        "lokced": {},
        "_comment": "ignored silently",
    })
    with caplog.at_level(logging.WARNING):
        policy = read_json_policy(path)
    assert policy.locked == {"video/hardware_encoding": False,
                             "general/instance_url": "https://visio.example.fr"}
    warning = caplog.text
    for expected in ("locked.general/theme", "'blue'", "locked.audio/volume: unknown setting",
                     "recommended: expected an object", "lokced", "4 entries"):
        assert expected in warning
    assert "_comment" not in warning
    assert len(policy.ignored) == 4


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "null"])
def test_a_policy_that_is_not_an_object_is_ignored(
        tmp_path: Path, payload: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        policy = read_json_policy(_policy_file(tmp_path, payload))
    assert policy.locked == {} and "expected an object" in caplog.text


def test_missing_policy_file_is_silent(tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert read_json_policy(tmp_path / "absent.json").locked == {}
    assert caplog.text == ""


def test_load_policy_reads_the_env_override_and_the_example_file_is_valid(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(POLICY_ENV, str(POLICY_DIR / "visio-desktop.policy.json"))
    with caplog.at_level(logging.WARNING):
        policy = load_policy(platform="linux")
    assert policy.ignored == () and caplog.text == ""
    settings = Settings(policy=policy)
    assert settings.is_locked("local/bind_lan") and settings.get("local/bind_lan") is False
    assert settings.lock_reason("general/telemetry") == "managed by your IT department"
    assert settings.get("general/language") == "fr"
    assert settings.source("general/language") == "recommended"
    settings.set("general/language", "en")  # recommended: the user may change it


def test_linux_drop_in_files_complete_and_override_policy_json(tmp_path: Path) -> None:
    path = _policy_file(tmp_path, {"locked": {"general/theme": "dark",
                                              "general/language": "fr"}})
    (tmp_path / "policy.d").mkdir()
    (tmp_path / "policy.d" / "10-site.json").write_text(
        json.dumps({"locked": {"general/theme": "light"},
                    "recommended": {"audio/auto_gain": False}}))
    policy = read_linux_policy(path)
    assert policy.locked == {"general/theme": "light", "general/language": "fr"}
    assert policy.recommended == {"audio/auto_gain": False}


class _FakeWinreg(SimpleNamespace):
    """The part of ``winreg`` the reader uses, over {(hive, path): {name: value}}."""

    HKEY_LOCAL_MACHINE = "HKLM"
    HKEY_CURRENT_USER = "HKCU"
    KEY_READ = 0x20019
    KEY_WOW64_64KEY = 0x0100

    def __init__(self, keys: dict[tuple[str, str], dict[str, Any]]) -> None:
        super().__init__()
        self.keys = keys
        self.closed = 0

    def OpenKey(self, hive: str, path: str, reserved: int, access: int) -> tuple[str, str]:
        assert access & self.KEY_WOW64_64KEY
        if (hive, path) not in self.keys:
            raise FileNotFoundError(path)
        return hive, path

    def EnumValue(self, key: tuple[str, str], index: int) -> tuple[str, Any, int]:
        items = list(self.keys[key].items())
        if index >= len(items):
            raise OSError("no more data")
        name, value = items[index]
        return name, value, 4 if isinstance(value, int) else 1

    def CloseKey(self, key: tuple[str, str]) -> None:
        self.closed += 1


def test_windows_group_policy_machine_over_user_with_recommended_subkey() -> None:
    recommended = WINDOWS_POLICY_KEY + "\\Recommended"
    winreg = _FakeWinreg({
        ("HKLM", WINDOWS_POLICY_KEY): {"video/hardware_encoding": 0,
                                       "general/instance_url": "https://visio.example.fr",
                                       "Message": "Service informatique"},
        ("HKLM", recommended): {"general/language": "fr", "local/bind_lan": 1},
        ("HKCU", WINDOWS_POLICY_KEY): {"general/instance_url": "https://user.example.fr",
                                       "general/theme": "dark", "bogus": 1},
    })
    policy = read_windows_policy(winreg)  # type: ignore[arg-type]
    assert policy.locked == {"video/hardware_encoding": False,
                             "general/instance_url": "https://visio.example.fr",
                             "general/theme": "dark"}
    assert policy.recommended == {"general/language": "fr", "local/bind_lan": True}
    assert policy.reasons["video/hardware_encoding"] == "Service informatique"
    assert policy.reasons["general/theme"] == "Group Policy"
    assert any("bogus" in item for item in policy.ignored)
    assert winreg.closed == 3


def test_macos_managed_preferences(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    machine = tmp_path / "fr.gouv.numerique.visio-desktop.plist"
    machine.write_bytes(plistlib.dumps({
        "general/instance_url": "https://visio.example.fr",  # a bare key is locked
        "recommended": {"accessibility/font_scale": 1.5},
    }))
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / machine.name).write_bytes(plistlib.dumps({
        "locked": {"general/instance_url": "https://other.example.fr", "general/theme": "dark"},
    }))
    policy = read_macos_policy(tmp_path, "alice")
    assert policy.locked == {"general/instance_url": "https://visio.example.fr",
                             "general/theme": "dark"}
    assert policy.recommended == {"accessibility/font_scale": 1.5}
    assert policy.reasons["general/theme"] == "configuration profile"

    machine.write_bytes(b"<plist>broken")
    with caplog.at_level(logging.WARNING):
        policy = read_macos_policy(tmp_path, "")
    assert policy.locked == {} and str(machine) in caplog.text


# -- ADMX / ADML --------------------------------------------------------------------------------

_NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}


def test_admx_and_adml_are_consistent_with_each_other_and_the_schema() -> None:
    admx_text = (POLICY_DIR / "VisioDesktop.admx").read_text(encoding="utf-8")
    admx = ET.fromstring(admx_text)
    string_refs = set(re.findall(r"\$\(string\.(\w+)\)", admx_text))
    presentation_refs = set(re.findall(r"\$\(presentation\.(\w+)\)", admx_text))
    table_ids: list[set[str]] = []
    for lang in ("en-US", "fr-FR"):
        adml = ET.parse(POLICY_DIR / lang / "VisioDesktop.adml").getroot()
        strings = {s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", _NS)}
        presentations = {p.get("id"): p
                         for p in adml.iterfind(".//p:presentationTable/p:presentation", _NS)}
        assert string_refs <= strings, (lang, string_refs - strings)
        assert presentation_refs <= set(presentations), lang
        table_ids.append(strings)
        for policy in admx.iterfind(".//p:policy", _NS):
            ref = re.search(r"presentation\.(\w+)", policy.get("presentation", ""))
            element_ids = {e.get("id") for e in policy.iterfind("p:elements/*", _NS)}
            if ref:
                refs = {c.get("refId") for c in presentations[ref.group(1)]}
                assert refs == element_ids, policy.get("name")
    assert table_ids[0] == table_ids[1]  # same strings in French and English

    names = [p.get("name") for p in admx.iterfind(".//p:policy", _NS)]
    assert len(names) == len(set(names))
    value_names = set()
    for policy in admx.iterfind(".//p:policy", _NS):
        assert policy.get("key", "").startswith(WINDOWS_POLICY_KEY)
        for node in [policy, *policy.iterfind("p:elements/*", _NS)]:
            if node.get("valueName"):
                value_names.add(node.get("valueName"))
        for enum in policy.iterfind("p:elements/p:enum", _NS):
            setting = SCHEMA[enum.get("valueName")]
            for value in enum.iterfind(".//p:string", _NS):
                setting.validate(value.text)
    assert value_names - {"Message"} <= set(SCHEMA)
    assert {"general/instance_url", "general/language", "video/hardware_encoding",
            "local/bind_lan", "general/telemetry"} <= value_names


# -- remembered devices -------------------------------------------------------------------------


def test_remembered_device_falls_back_then_returns() -> None:
    backend = FakeDeviceBackend()
    builtin = backend.add(FakeDeviceBackend.device("input", "Built-in Mic"), default=True)
    headset = backend.add(FakeDeviceBackend.device("input", "USB Headset"))
    settings = Settings()
    prefs = DevicePreferences(settings)
    changes: list[DeviceResolution] = []
    prefs.on_change = lambda kind, resolution: changes.append(resolution)

    first = prefs.update("input", backend.list_devices("input"))
    assert first.uses_default and not first.missing  # nothing remembered yet

    prefs.choose("input", headset.id)
    assert settings.get("audio/input_device") == headset.id
    assert prefs.update("input", backend.list_devices("input")).device_id == headset.id

    backend.remove(headset.id)  # unplugged
    gone = prefs.update("input", backend.list_devices("input"))
    assert gone.device_id is None and gone.missing and gone.remembered_id == headset.id
    assert settings.get("audio/input_device") == headset.id  # not forgotten

    backend.add(headset)  # plugged in again
    back = prefs.update("input", backend.list_devices("input"))
    assert back.device_id == headset.id and not back.missing
    assert [(c.device_id, c.missing) for c in changes] == [
        (headset.id, False), (None, True), (headset.id, False)]

    prefs.choose("input", None)
    assert settings.get("audio/input_device") == ""
    assert prefs.resolve("input", [builtin]).uses_default


def test_remembered_camera_resolves_against_camera_info() -> None:
    settings = Settings(MemoryStore({"video/camera_device": "/dev/video2"}))
    prefs = DevicePreferences(settings)
    cams = [CameraInfo("/dev/video0", "Integrated", 0), CameraInfo("/dev/video2", "USB", 2)]
    assert prefs.resolve("camera", cams).device_id == "/dev/video2"
    assert prefs.resolve("camera", cams[:1]).missing


def test_device_monitor_uses_and_persists_the_remembered_choice() -> None:
    backend = FakeDeviceBackend()
    backend.add(FakeDeviceBackend.device("input", "Built-in Mic"), default=True)
    headset = backend.add(FakeDeviceBackend.device("input", "USB Headset"))
    speakers = backend.add(FakeDeviceBackend.device("output", "Speakers"), default=True)
    settings = Settings(MemoryStore({"audio/input_device": headset.id}))
    prefs = DevicePreferences(settings)
    monitor = DeviceMonitor(backend, preferences=prefs.monitor_preferences(),
                            on_preferences_changed=prefs.save_monitor_preferences)
    assert monitor.active("input") == headset  # remembered across a restart
    monitor.select("output", speakers.id)
    assert settings.get("audio/output_device") == speakers.id
    monitor.select("input", None)
    assert settings.get("audio/input_device") == ""


def test_choosing_a_device_locked_by_policy_raises() -> None:
    settings = Settings(policy=Policy(locked={"audio/output_device": ""},
                                      reasons={"audio/output_device": "IT"}))
    with pytest.raises(SettingLocked):
        DevicePreferences(settings).choose("output", "Fake:Speakers#0")


def test_default_instance_url_constant() -> None:
    assert SCHEMA["general/instance_url"].default == DEFAULT_INSTANCE_URL
