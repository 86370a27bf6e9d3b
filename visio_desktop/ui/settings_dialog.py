"""The settings dialog: audio, video, general, notifications, shortcuts, accessibility.

Every control writes through :meth:`Settings.set` as soon as it changes (no Apply button).
A setting the organisation's policy locks is shown disabled, with a visible line "Set by your
organisation: <reason>" under it and the same text as tooltip and accessible description.
The dialog follows outside changes (another window, a policy reload) while it is shown.

Devices are given as ``(stable id, name)`` pairs; a remembered device that is not connected
stays listed as "<name> (not connected)" so the choice is not silently lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.config import InvalidSetting, SettingLocked, Settings
from visio_desktop.media.device_preferences import name_from_id
from visio_desktop.ui.icons import icon

log = logging.getLogger(__name__)

Device = tuple[str, str]  # (stable id, name shown)
LEVEL_POLL_MS = 66


@dataclass
class _Binding:
    """A setting shown in the dialog: the widgets it disables, its lock line, and how to show
    a value; ``enabled`` adds a condition of its own (e.g. a system tray exists)."""

    key: str
    widgets: list[QWidget]
    lock_label: QLabel
    show: Callable[[Any], None]
    enabled: Callable[[], bool] = field(default=lambda: True)


class SettingsDialog(QDialog):
    """Settings of Visio Desktop over ``settings``.

    Signals: ``test_sound_requested(output_id)`` ("" = system default) when the user asks for
    a test sound; ``level_meter_active(bool)`` when the microphone level meter becomes visible
    or hidden, so the owner opens the microphone only while it is needed. The level comes in
    through :meth:`set_input_level` (0.0–1.0) or is polled from ``level_source``.
    """

    test_sound_requested = Signal(str)
    level_meter_active = Signal(bool)
    _setting_changed = Signal(str, object)  # from Settings callbacks, onto the GUI thread

    def __init__(
        self,
        settings: Settings,
        *,
        inputs: Sequence[Device] = (),
        outputs: Sequence[Device] = (),
        cameras: Sequence[Device] = (),
        shortcuts: Sequence[tuple[str, str]] = (),
        level_source: Callable[[], float] | None = None,
        tray_available: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._bindings: dict[str, _Binding] = {}
        self._devices: dict[str, list[Device]] = {
            "audio/input_device": list(inputs),
            "audio/output_device": list(outputs),
            "video/camera_device": list(cameras),
        }
        self._tray_available = (QSystemTrayIcon.isSystemTrayAvailable()
                                if tray_available is None else tray_available)
        self._unsubscribe: Callable[[], None] | None = None
        self._meter_active = False
        self._level_source = level_source
        self._level_timer = QTimer(self)
        self._level_timer.setInterval(LEVEL_POLL_MS)
        self._level_timer.timeout.connect(self._poll_level)
        self._setting_changed.connect(self._on_setting_changed)

        self.setWindowTitle(self.tr("Settings"))
        self.setWindowIcon(icon("settings"))
        self.setAccessibleName(self.tr("Settings"))
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Settings sections"))
        self.tabs.tabBar().setAccessibleName(self.tr("Settings sections"))
        self.tabs.addTab(self._scroll(self._audio_page()), self.tr("&Audio"))
        self.tabs.addTab(self._scroll(self._video_page()), self.tr("&Video"))
        self.tabs.addTab(self._scroll(self._general_page()), self.tr("&General"))
        self.tabs.addTab(self._scroll(self._notifications_page()), self.tr("&Notifications"))
        self.tabs.addTab(self._scroll(self._shortcuts_page(shortcuts)), self.tr("&Shortcuts"))
        self.tabs.addTab(self._scroll(self._accessibility_page()), self.tr("A&ccessibility"))
        self.tabs.currentChanged.connect(self._update_meter_state)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close settings"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.refresh()

    # -- public

    TAB_NAMES = ("audio", "video", "general", "notifications", "shortcuts", "accessibility")

    def show_tab(self, name: str) -> None:
        """Brings a section to the front (``TAB_NAMES``)."""
        self.tabs.setCurrentIndex(self.TAB_NAMES.index(name))

    @Slot(float)
    def set_input_level(self, level: float) -> None:
        """The microphone level, 0.0 (silence) to 1.0 (full scale)."""
        self.input_level.setValue(round(max(0.0, min(1.0, float(level))) * 100))

    def set_devices(self, kind: str, devices: Sequence[Device]) -> None:
        """New device list (hot-plug); ``kind`` is "input", "output" or "camera"."""
        key = {"input": "audio/input_device", "output": "audio/output_device",
               "camera": "video/camera_device"}[kind]
        self._devices[key] = list(devices)
        self._bindings[key].show(self.settings.get(key))

    def refresh(self) -> None:
        """Shows every setting's current value and lock state again."""
        for key, binding in self._bindings.items():
            binding.show(self.settings.get(key))
            self._apply_lock(binding)

    def lock_text(self, key: str) -> str | None:
        """The visible line shown for a locked setting (None when not locked)."""
        reason = self.settings.lock_reason(key)
        if reason is None:
            return None
        return self.tr("Set by your organisation: {reason}").format(reason=reason)

    def binding_widgets(self, key: str) -> list[QWidget]:
        """The controls that edit ``key`` (tests, focus-on-error)."""
        return list(self._bindings[key].widgets)

    def lock_label(self, key: str) -> QLabel:
        return self._bindings[key].lock_label

    # -- life cycle

    def showEvent(self, event: QShowEvent) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.settings.on_change(self._forward_change)
        self.refresh()
        super().showEvent(event)
        self._update_meter_state()

    def hideEvent(self, event: QHideEvent) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        super().hideEvent(event)
        self._update_meter_state()

    def _forward_change(self, key: str, value: Any) -> None:
        """Settings callback, possibly on another thread: queued onto the GUI thread."""
        if shiboken6.isValid(self):  # deleted while shown: nothing to update
            self._setting_changed.emit(key, value)

    @Slot(str, object)
    def _on_setting_changed(self, key: str, value: Any) -> None:
        binding = self._bindings.get(key)
        if binding is not None:
            binding.show(value)
            self._apply_lock(binding)

    def _update_meter_state(self) -> None:
        active = self.isVisible() and self.tabs.currentIndex() == 0
        if active == self._meter_active:
            return
        self._meter_active = active
        if active and self._level_source is not None:
            self._level_timer.start()
        else:
            self._level_timer.stop()
        if not active:
            self.input_level.setValue(0)
        self.level_meter_active.emit(active)

    def _poll_level(self) -> None:
        if self._level_source is None:
            return
        try:
            self.set_input_level(self._level_source())
        except Exception:
            log.exception("microphone level source failed")
            self._level_timer.stop()

    # -- writing

    def _write(self, key: str, value: Any) -> bool:
        try:
            self.settings.set(key, value)
        except SettingLocked:
            self.refresh()
            return False
        except InvalidSetting as exc:
            log.info("setting not saved: %s", exc)
            return False
        return True

    def _apply_lock(self, binding: _Binding) -> None:
        text = self.lock_text(binding.key)
        locked = text is not None
        for widget in binding.widgets:
            widget.setEnabled(not locked and binding.enabled())
            widget.setToolTip(text or "")
            widget.setAccessibleDescription(text or "")
        binding.lock_label.setText(text or "")
        binding.lock_label.setVisible(locked)

    # -- building blocks

    def _scroll(self, page: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # focus goes to the controls inside
        area.setWidget(page)
        return area

    def _lock_line(self) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)  # the reason comes from a policy file
        label.setProperty("role", "lock-note")  # for style sheets
        font = label.font()
        font.setItalic(True)
        label.setFont(font)
        label.setVisible(False)
        return label

    def _bind(self, key: str, widgets: list[QWidget], show: Callable[[Any], None],
              enabled: Callable[[], bool] | None = None) -> QWidget:
        """Registers a setting's controls; returns them stacked above their lock line."""
        lock = self._lock_line()
        binding = _Binding(key, widgets, lock, show)
        if enabled is not None:
            binding.enabled = enabled
        self._bindings[key] = binding
        box = QWidget()
        box.setFocusProxy(widgets[0])  # a form label's mnemonic focuses the control
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if len(widgets) == 1:
            column.addWidget(widgets[0])
        else:
            row = QHBoxLayout()
            for widget in widgets:
                row.addWidget(widget)
            column.addLayout(row)
        column.addWidget(lock)
        return box

    def _checkbox(self, key: str, text: str) -> QWidget:
        box = QCheckBox(text)
        box.setAccessibleName(box.text().replace("&", ""))

        def show(value: Any) -> None:
            with _blocked(box):
                box.setChecked(bool(value))

        box.toggled.connect(lambda checked: self._write(key, checked))
        return self._bind(key, [box], show)

    def _combo(self, key: str, items: Sequence[tuple[Any, str]], name: str) -> QWidget:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for value, label in items:
            combo.addItem(label, value)

        def show(value: Any) -> None:
            with _blocked(combo):
                combo.setCurrentIndex(max(0, combo.findData(value)))

        combo.currentIndexChanged.connect(lambda _i: self._write(key, combo.currentData()))
        return self._bind(key, [combo], show)

    def _device_combo(self, key: str, default_label: str, name: str) -> QWidget:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(24)

        def show(value: Any) -> None:
            with _blocked(combo):
                combo.clear()
                combo.addItem(default_label, "")
                for device_id, device_name in self._devices[key]:
                    combo.addItem(device_name, device_id)
                if value and combo.findData(value) < 0:
                    missing = self.tr("{name} (not connected)").format(name=name_from_id(value))
                    combo.addItem(missing, value)
                combo.setCurrentIndex(max(0, combo.findData(value)))

        combo.currentIndexChanged.connect(lambda _i: self._write(key, combo.currentData() or ""))
        return self._bind(key, [combo], show)

    def _text(self, key: str, name: str, *, placeholder: str = "", max_length: int = 0,
              error_text: str = "", empty_resets: bool = False) -> QWidget:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        if max_length:
            edit.setMaxLength(max_length)
        error = QLabel(error_text)
        error.setWordWrap(True)
        error.setVisible(False)
        error.setProperty("role", "error")

        def show(value: Any) -> None:
            if not edit.hasFocus():
                with _blocked(edit):
                    edit.setText(str(value))
            error.setVisible(False)

        def commit() -> None:
            text = edit.text().strip()
            if text == self.settings.get(key):
                error.setVisible(False)
                return
            if not text and empty_resets:
                self.settings.reset(key)
                ok = True
            else:
                ok = self._write(key, text)
            error.setVisible(not ok and not self.settings.is_locked(key))
            if ok:
                edit.setAccessibleDescription("")
            else:
                edit.setAccessibleDescription(error_text)

        edit.editingFinished.connect(commit)
        box = self._bind(key, [edit], show)
        box.layout().addWidget(error)
        return box

    def _percent(self, key: str, name: str) -> QWidget:
        spin = QSpinBox()
        spin.setAccessibleName(name)
        setting = self.settings.setting(key)
        spin.setRange(round((setting.minimum or 0.5) * 100), round((setting.maximum or 3) * 100))
        spin.setSingleStep(10)
        spin.setSuffix(self.tr(" %"))

        def show(value: Any) -> None:
            with _blocked(spin):
                spin.setValue(round(float(value) * 100))

        spin.valueChanged.connect(lambda v: self._write(key, v / 100))
        return self._bind(key, [spin], show)

    @staticmethod
    def _add_row(form: QFormLayout, text: str, field: QWidget) -> None:
        """A form row whose label's mnemonic focuses the control itself."""
        label = QLabel(text)
        label.setBuddy(field.focusProxy() or field)
        form.addRow(label, field)

    @staticmethod
    def _note(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setProperty("role", "note")
        return label

    # -- pages

    def _audio_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self._add_row(form, self.tr("&Microphone:"), self._device_combo(
            "audio/input_device", self.tr("System default"), self.tr("Microphone")))
        self.input_level = QProgressBar()
        self.input_level.setRange(0, 100)
        self.input_level.setTextVisible(False)
        self.input_level.setMaximumHeight(10)
        self.input_level.setAccessibleName(self.tr("Microphone level"))
        form.addRow(self.tr("Level:"), self.input_level)
        self.test_sound_button = QPushButton(icon("speaker"), self.tr("Play &test sound"))
        self.test_sound_button.setAccessibleName(self.tr("Play test sound"))
        self.test_sound_button.clicked.connect(
            lambda: self.test_sound_requested.emit(self.settings.get("audio/output_device")))
        speakers = self._device_combo(
            "audio/output_device", self.tr("System default"), self.tr("Speakers"))
        row = QHBoxLayout()
        row.addWidget(speakers, 1)
        row.addWidget(self.test_sound_button, 0, Qt.AlignmentFlag.AlignTop)
        label = QLabel(self.tr("Spea&kers:"))
        label.setBuddy(self._bindings["audio/output_device"].widgets[0])
        form.addRow(label, row)
        processing = QGroupBox(self.tr("Sound processing"))
        column = QVBoxLayout(processing)
        column.addWidget(self._checkbox("audio/echo_cancellation", self.tr("&Echo cancellation")))
        column.addWidget(self._checkbox("audio/noise_suppression", self.tr("Noise supp&ression")))
        column.addWidget(self._checkbox(
            "audio/auto_gain", self.tr("Adjust microphone vo&lume automatically")))
        form.addRow(processing)
        form.addRow(self._checkbox(
            "audio/push_to_talk", self.tr("&Push to talk: the microphone is on only while the "
                                          "push-to-talk key is held")))
        return page

    def _video_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self._add_row(form, self.tr("Ca&mera:"), self._device_combo(
            "video/camera_device", self.tr("Default camera"), self.tr("Camera")))
        self._add_row(form, self.tr("&Resolution:"), self._combo("video/camera_resolution", [
            ("720p", self.tr("High (720p)")),
            ("360p", self.tr("Standard (360p)")),
            ("180p", self.tr("Low (180p)")),
        ], self.tr("Camera resolution")))
        form.addRow(self._checkbox("video/mirror_preview", self.tr("M&irror my video preview")))
        form.addRow(self._checkbox("video/background_blur", self.tr("&Blur my background")))
        form.addRow(self._checkbox(
            "video/hardware_encoding", self.tr("Use &hardware video encoding when available")))
        return page

    def _general_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        # Language names are shown in their own language on purpose: not translated.
        self._add_row(form, self.tr("&Language:"), self._combo("general/language", [
            ("system", self.tr("System language")), ("fr", "Français"), ("en", "English"),
        ], self.tr("Language")))
        self._add_row(form, self.tr("&Theme:"), self._combo("general/theme", [
            ("system", self.tr("System")), ("light", self.tr("Light")),
            ("dark", self.tr("Dark")),
        ], self.tr("Theme")))
        self._add_row(form, self.tr("Server add&ress:"), self._text(
            "general/instance_url", self.tr("Server address"),
            placeholder=self.settings.setting("general/instance_url").default,
            error_text=self.tr("Enter an address starting with https://"), empty_resets=True))
        self._add_row(form, self.tr("&Display name:"), self._text(
            "general/display_name", self.tr("Display name"),
            placeholder=self.tr("The name others see in meetings"), max_length=100,
            error_text=self.tr("This name cannot be used.")))
        form.addRow(self._checkbox(
            "general/mini_window", self.tr("Show a small &floating window during a call when "
                                           "Visio Desktop is in the background")))
        tray = self._checkbox("general/minimize_to_tray",
                              self.tr("&Keep running in the system tray when the window is "
                                      "closed"))
        self._bindings["general/minimize_to_tray"].enabled = lambda: self._tray_available
        form.addRow(tray)
        if not self._tray_available:
            form.addRow(self._note(self.tr("No system tray was found on this desktop: closing "
                                           "the window quits Visio Desktop.")))
        network = QGroupBox(self.tr("Network"))
        net_form = QFormLayout(network)
        net_form.addRow(self._checkbox(
            "local/bind_lan", self.tr("Let people on my local net&work join meetings started "
                                      "on this computer")))
        self._add_row(net_form, self.tr("&Proxy:"), self._proxy())
        form.addRow(network)
        return page

    def _proxy(self) -> QWidget:
        key = "network/proxy"
        mode = QComboBox()
        mode.setAccessibleName(self.tr("Proxy"))
        mode.addItem(self.tr("Use the system settings"), "system")
        mode.addItem(self.tr("No proxy"), "none")
        mode.addItem(self.tr("Manual"), "manual")
        url = QLineEdit()
        url.setAccessibleName(self.tr("Proxy address"))
        url.setPlaceholderText(self.tr("http://proxy.example:3128"))

        def show(value: Any) -> None:
            manual = value not in ("system", "none")
            with _blocked(mode), _blocked(url):
                mode.setCurrentIndex(mode.findData("manual" if manual else value))
                url.setText(value if manual else "")
            url.setVisible(manual)

        def mode_changed(_index: int) -> None:
            choice = mode.currentData()
            url.setVisible(choice == "manual")
            if choice == "manual":
                url.setFocus()
                if url.text().strip():
                    self._write(key, url.text().strip())
            else:
                self._write(key, choice)

        mode.currentIndexChanged.connect(mode_changed)
        url.editingFinished.connect(
            lambda: url.text().strip() and self._write(key, url.text().strip()))
        return self._bind(key, [mode, url], show)

    def _notifications_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addWidget(self._checkbox(
            "notifications/chat_sound", self.tr("Play a sound for new chat &messages")))
        column.addWidget(self._checkbox(
            "notifications/chat_toast", self.tr("Show a desktop no&tification for chat "
                                                "messages")))
        column.addWidget(self._checkbox(
            "notifications/join_sound", self.tr("Play a sound when someone &joins")))
        column.addWidget(self._checkbox(
            "notifications/hand_raised", self.tr("Notify me when someone raises their &hand")))
        column.addStretch(1)
        return page

    def _shortcuts_page(self, shortcuts: Sequence[tuple[str, str]]) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        table = QTableWidget(len(shortcuts), 2)
        table.setAccessibleName(self.tr("Keyboard shortcuts"))
        table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Shortcut")])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setTabKeyNavigation(False)  # Tab leaves the table, arrows move inside
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents)
        for row, (action, sequence) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(action))
            text = QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)
            table.setItem(row, 1, QTableWidgetItem(text or sequence))
        self.shortcuts_table = table
        column.addWidget(table, 1)
        group = QGroupBox(self.tr("Global shortcut"))
        form = QFormLayout(group)
        form.addRow(self._note(self.tr("Mutes or unmutes the microphone even when Visio Desktop "
                                       "is not in front. Leave empty to turn it off.")))
        self._add_row(form, self.tr("&Mute / unmute:"), self._global_mute())
        column.addWidget(group)
        return page

    def _global_mute(self) -> QWidget:
        key = "shortcuts/global_mute"
        edit = QKeySequenceEdit()
        edit.setAccessibleName(self.tr("Global mute shortcut"))
        edit.setMaximumSequenceLength(1)
        clear = QPushButton(self.tr("T&urn off"))
        clear.setAccessibleName(self.tr("Turn off the global mute shortcut"))

        def show(value: Any) -> None:
            with _blocked(edit):
                edit.setKeySequence(QKeySequence(str(value)))

        def commit() -> None:
            sequence = edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
            if sequence != self.settings.get(key):
                self._write(key, sequence)

        edit.editingFinished.connect(commit)
        edit.keySequenceChanged.connect(lambda seq: seq.isEmpty() and commit())
        clear.clicked.connect(lambda: (edit.clear(), commit()))
        return self._bind(key, [edit, clear], show)

    def _accessibility_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self._add_row(form, self.tr("&Text size:"), self._percent(
            "accessibility/font_scale", self.tr("Text size")))
        self._add_row(form, self.tr("Caption s&ize:"), self._percent(
            "accessibility/caption_scale", self.tr("Caption size")))
        self._add_row(form, self.tr("Caption &language:"), self._combo("captions/language", [
            ("", self.tr("Same as the meeting")), ("fr", "Français"), ("en", "English"),
            ("de", "Deutsch"), ("nl", "Nederlands"),
        ], self.tr("Caption language")))
        return page


class _blocked:
    """Blocks a widget's signals while the dialog shows a value (no write-back loop)."""

    def __init__(self, obj: QObject) -> None:
        self._obj = obj
        self._was = False

    def __enter__(self) -> None:
        self._was = self._obj.blockSignals(True)

    def __exit__(self, *exc: object) -> None:
        self._obj.blockSignals(self._was)
