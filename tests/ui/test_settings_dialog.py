"""The settings dialog (real widgets, offscreen), the icons, and the QSettings store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QKeySequenceEdit,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from visio_desktop.config import MemoryStore, Policy, Settings, parse_policy
from visio_desktop.ui.icons import ICON_NAMES, ICONS_DIR, icon
from visio_desktop.ui.settings_dialog import SettingsDialog
from visio_desktop.ui.settings_store import QSettingsStore

INPUTS = [("ALSA:Built-in Mic#0", "Built-in Mic"), ("ALSA:USB Headset#0", "USB Headset")]
OUTPUTS = [("ALSA:Speakers#0", "Speakers"), ("ALSA:USB Headset#0", "USB Headset")]
CAMERAS = [("/dev/video0", "Integrated Camera")]
SHORTCUTS = [("Mute / unmute", "Ctrl+D"), ("Camera on / off", "Ctrl+E"),
             ("Raise hand", "Ctrl+Shift+H")]


def _dialog(qtbot: QtBot, settings: Settings, **kwargs: Any) -> SettingsDialog:
    options: dict[str, Any] = {"inputs": INPUTS, "outputs": OUTPUTS, "cameras": CAMERAS,
                               "shortcuts": SHORTCUTS, "tray_available": True, **kwargs}
    dialog = SettingsDialog(settings, **options)
    qtbot.addWidget(dialog)
    return dialog


def _only(dialog: SettingsDialog, key: str, kind: type[QWidget]) -> Any:
    widgets = [w for w in dialog.binding_widgets(key) if isinstance(w, kind)]
    assert len(widgets) == 1, key
    return widgets[0]


def test_a_locked_setting_is_disabled_with_the_reason_visible(qtbot: QtBot) -> None:
    policy = parse_policy({"locked": {"general/instance_url": "https://visio.example.fr",
                                      "video/hardware_encoding": False},
                           "message": "managed by the IT department"}, "test")
    dialog = _dialog(qtbot, Settings(policy=policy))
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.show_tab("general")
    url = _only(dialog, "general/instance_url", QLineEdit)
    assert not url.isEnabled()
    assert url.text() == "https://visio.example.fr"
    label = dialog.lock_label("general/instance_url")
    assert label.isVisible()
    assert label.text() == "Set by your organisation: managed by the IT department"
    assert url.toolTip() == label.text()
    assert url.accessibleDescription() == label.text()

    dialog.show_tab("video")
    encoding = _only(dialog, "video/hardware_encoding", QCheckBox)
    assert not encoding.isEnabled() and not encoding.isChecked()
    assert dialog.lock_label("video/hardware_encoding").isVisible()
    # an unlocked neighbour stays usable, without a lock line
    assert _only(dialog, "video/mirror_preview", QCheckBox).isEnabled()
    assert not dialog.lock_label("video/mirror_preview").isVisible()


def test_changing_controls_writes_the_settings(qtbot: QtBot) -> None:
    store = MemoryStore()
    dialog = _dialog(qtbot, Settings(store))
    theme = _only(dialog, "general/theme", QComboBox)
    theme.setCurrentIndex(theme.findData("dark"))
    output = _only(dialog, "audio/output_device", QComboBox)
    output.setCurrentIndex(output.findData("ALSA:USB Headset#0"))
    resolution = _only(dialog, "video/camera_resolution", QComboBox)
    resolution.setCurrentIndex(resolution.findData("360p"))
    _only(dialog, "audio/noise_suppression", QCheckBox).setChecked(False)
    _only(dialog, "accessibility/font_scale", QSpinBox).setValue(150)
    assert store.values == {
        "general/theme": "dark", "audio/output_device": "ALSA:USB Headset#0",
        "video/camera_resolution": "360p", "audio/noise_suppression": False,
        "accessibility/font_scale": 1.5,
    }
    output.setCurrentIndex(0)  # "System default"
    assert store.values["audio/output_device"] == ""


def test_text_fields_validate_and_write_on_editing_finished(qtbot: QtBot) -> None:
    settings = Settings()
    dialog = _dialog(qtbot, settings)
    dialog.show()
    dialog.show_tab("general")
    url = _only(dialog, "general/instance_url", QLineEdit)
    url.setText("visio.example.fr")
    url.editingFinished.emit()
    assert settings.get("general/instance_url") == "https://visio.numerique.gouv.fr"
    assert url.accessibleDescription()  # the error is announced
    url.setText("  https://meet.example.gouv.fr  ")
    url.editingFinished.emit()
    assert settings.get("general/instance_url") == "https://meet.example.gouv.fr"
    url.setText("")
    url.editingFinished.emit()
    assert settings.source("general/instance_url") == "default"

    name = _only(dialog, "general/display_name", QLineEdit)
    name.setText("Camille")
    name.editingFinished.emit()
    assert settings.get("general/display_name") == "Camille"


def test_proxy_modes(qtbot: QtBot) -> None:
    settings = Settings()
    dialog = _dialog(qtbot, settings)
    mode = _only(dialog, "network/proxy", QComboBox)
    url = _only(dialog, "network/proxy", QLineEdit)
    mode.setCurrentIndex(mode.findData("none"))
    assert settings.get("network/proxy") == "none"
    mode.setCurrentIndex(mode.findData("manual"))
    url.setText("http://proxy.example:3128")
    url.editingFinished.emit()
    assert settings.get("network/proxy") == "http://proxy.example:3128"


def test_remembered_device_that_is_missing_stays_listed(qtbot: QtBot) -> None:
    settings = Settings(MemoryStore({"audio/input_device": "ALSA:Jabra Evolve#0"}))
    dialog = _dialog(qtbot, settings)
    mic = _only(dialog, "audio/input_device", QComboBox)
    assert mic.currentText() == "Jabra Evolve (not connected)"
    assert mic.currentData() == "ALSA:Jabra Evolve#0"
    dialog.set_devices("input", [*INPUTS, ("ALSA:Jabra Evolve#0", "Jabra Evolve")])
    assert mic.currentText() == "Jabra Evolve"
    assert settings.get("audio/input_device") == "ALSA:Jabra Evolve#0"  # unchanged


def test_outside_changes_and_policy_reloads_show_while_open(qtbot: QtBot) -> None:
    settings = Settings()
    dialog = _dialog(qtbot, settings)
    dialog.show()
    qtbot.waitExposed(dialog)
    blur = _only(dialog, "video/background_blur", QCheckBox)
    settings.set("video/background_blur", True)
    assert blur.isChecked()
    settings.set_policy(Policy(locked={"video/background_blur": False},
                               reasons={"video/background_blur": "CPU budget"}))
    assert not blur.isChecked() and not blur.isEnabled()
    assert "CPU budget" in dialog.lock_label("video/background_blur").text()
    dialog.hide()
    settings.set_policy(Policy())
    dialog.show()  # re-read on show
    assert blur.isEnabled() and blur.isChecked()


def test_audio_tab_test_sound_and_level_meter(qtbot: QtBot) -> None:
    settings = Settings(MemoryStore({"audio/output_device": "ALSA:Speakers#0"}))
    levels = iter([0.25, 0.5, 0.75] + [0.75] * 100)
    dialog = _dialog(qtbot, settings, level_source=lambda: next(levels))
    with qtbot.waitSignal(dialog.test_sound_requested) as sound:
        dialog.test_sound_button.click()
    assert sound.args == ["ALSA:Speakers#0"]
    dialog.set_input_level(0.4)
    assert dialog.input_level.value() == 40
    dialog.set_input_level(7)  # clamped
    assert dialog.input_level.value() == 100
    with qtbot.waitSignal(dialog.level_meter_active) as active:
        dialog.show()
    assert active.args == [True]
    qtbot.waitUntil(lambda: dialog.input_level.value() == 75, timeout=2000)
    with qtbot.waitSignal(dialog.level_meter_active) as active:
        dialog.show_tab("video")
    assert active.args == [False]


def test_shortcuts_table_and_global_mute_editor(qtbot: QtBot) -> None:
    settings = Settings()
    dialog = _dialog(qtbot, settings)
    table = dialog.shortcuts_table
    assert table.rowCount() == len(SHORTCUTS)
    assert table.item(2, 0).text() == "Raise hand"
    assert table.item(0, 1).text() == QKeySequence("Ctrl+D").toString(
        QKeySequence.SequenceFormat.NativeText)
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    edit = _only(dialog, "shortcuts/global_mute", QKeySequenceEdit)
    edit.setKeySequence(QKeySequence("Ctrl+Shift+M"))
    edit.editingFinished.emit()
    assert settings.get("shortcuts/global_mute") == "Ctrl+Shift+M"
    _only(dialog, "shortcuts/global_mute", QPushButton).click()
    assert settings.get("shortcuts/global_mute") == ""


def test_tray_setting_is_disabled_without_a_tray(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings(), tray_available=False)
    assert not _only(dialog, "general/minimize_to_tray", QCheckBox).isEnabled()


_INTERACTIVE = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QKeySequenceEdit,
                QAbstractItemView, QTabBar)
_COMPOSITE = (QAbstractSpinBox, QComboBox, QKeySequenceEdit, QAbstractItemView, QTabBar)


def test_every_interactive_control_has_an_accessible_name(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings(), tray_available=False)
    dialog.show()
    checked = 0
    for widget in dialog.findChildren(QWidget):
        if not isinstance(widget, _INTERACTIVE):
            continue
        parent = widget.parentWidget()
        inner = False
        while parent is not None and parent is not dialog:  # parts of a composite control
            inner = inner or isinstance(parent, _COMPOSITE)
            parent = parent.parentWidget()
        if inner:
            continue
        assert widget.accessibleName().strip(), f"{type(widget).__name__} {widget.objectName()}"
        assert widget.focusPolicy() != Qt.FocusPolicy.NoFocus, type(widget).__name__
        checked += 1
    assert checked >= 30


def test_all_icons_load(qtbot: QtBot) -> None:
    assert {p.stem for p in ICONS_DIR.glob("*.svg")} == set(ICON_NAMES)
    for name in ICON_NAMES:
        result = icon(name)
        assert not result.isNull(), name
        assert not result.pixmap(24, 24).isNull(), name
        assert not result.pixmap(24, 24, QIcon.Mode.Disabled).isNull(), name
    assert icon("mic") is icon("mic")  # cached


def test_icons_are_tinted_with_the_given_colour(qtbot: QtBot) -> None:
    image = icon("close", QColor("#ff0000")).pixmap(48, 48).toImage()
    centre = image.pixelColor(24, 24)  # the X crosses the centre
    assert (centre.red(), centre.green(), centre.blue()) == (255, 0, 0)
    assert image.pixelColor(1, 24).alpha() == 0  # transparent around the strokes


def test_unknown_icon_is_null_not_a_crash(qtbot: QtBot) -> None:
    assert icon("no-such-icon").isNull()


def test_qsettings_store_round_trip_in_a_new_process(tmp_path: Path) -> None:
    path = tmp_path / "visio.ini"
    store = QSettingsStore(QSettings(str(path), QSettings.Format.IniFormat))
    settings = Settings(store)
    settings.set("general/theme", "dark")
    settings.set("general/mini_window", True)
    settings.set("accessibility/font_scale", 1.25)
    settings.set("audio/input_device", "ALSA:USB Headset: Audio (hw:1,0)#0")
    store.remove("general/mini_window")
    store.sync()
    assert sorted(store.keys()) == ["accessibility/font_scale", "audio/input_device",
                                    "general/theme"]
    script = (
        "import sys\n"
        "from PySide6.QtCore import QSettings\n"
        "from visio_desktop.config import Settings\n"
        "from visio_desktop.ui.settings_store import QSettingsStore\n"
        "s = Settings(QSettingsStore(QSettings(sys.argv[1], QSettings.Format.IniFormat)))\n"
        "print(repr((s.get('general/theme'), s.get('accessibility/font_scale'),"
        " s.get('audio/input_device'), s.get('general/mini_window'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, check=True, timeout=60).stdout.strip()
    assert out == repr(("dark", 1.25, "ALSA:USB Headset: Audio (hw:1,0)#0", False))


@pytest.mark.parametrize("tab", SettingsDialog.TAB_NAMES)
def test_every_tab_can_be_shown(qtbot: QtBot, tab: str) -> None:
    dialog = _dialog(qtbot, Settings())
    dialog.show_tab(tab)
    assert dialog.tabs.currentIndex() == SettingsDialog.TAB_NAMES.index(tab)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS has no mnemonics by default")
def test_keyboard_mnemonics_reach_the_controls(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings())
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()

    def alt(key: Qt.Key) -> None:  # typed into whatever has the focus, as a user would
        qtbot.keyClick(dialog.focusWidget() or dialog, key, Qt.KeyboardModifier.AltModifier)

    alt(Qt.Key.Key_G)  # &General tab
    assert dialog.tabs.currentIndex() == SettingsDialog.TAB_NAMES.index("general")
    alt(Qt.Key.Key_R)  # Server add&ress
    assert dialog.focusWidget() is _only(dialog, "general/instance_url", QLineEdit)
    alt(Qt.Key.Key_A)  # &Audio tab
    alt(Qt.Key.Key_K)  # Spea&kers
    assert dialog.focusWidget() is _only(dialog, "audio/output_device", QComboBox)
