"""Pre-join: camera preview, microphone level, speaker test, devices, name; then join."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.call_state import LOCAL_CAMERA, ParticipantState
from visio_desktop.media.frame_store import FrameStore
from visio_desktop.ui.icons import icon
from visio_desktop.ui.video_tile import VideoTile

MAX_NAME = 50  # Visio's lobby form limit
Device = tuple[str, str]  # (id, label)


class PreJoinPage(QWidget):
    join_clicked = Signal(str)  # the display name
    cancel_clicked = Signal()
    camera_toggled = Signal(bool)
    microphone_toggled = Signal(bool)
    device_chosen = Signal(str, str)  # kind ("camera" | "microphone" | "speaker"), device id
    test_sound_requested = Signal()

    def __init__(self, frames: FrameStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prejoin")
        self.frames = frames
        self._level: Callable[[], float] = lambda: 0.0
        self.waiting = False

        self.heading = QLabel(self.tr("Ready to join?"))
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.heading.setFont(font)
        self.meeting_label = QLabel()
        self.meeting_label.setTextFormat(Qt.TextFormat.PlainText)
        self.meeting_label.setWordWrap(True)

        self.preview = VideoTile(frames, "preview", pinnable=False)
        self.preview.setMinimumSize(320, 180)
        self.preview.setAccessibleName(self.tr("Camera preview"))

        self.camera_button = self._toggle(self.tr("Camera"), "camera")
        self.camera_button.toggled.connect(self._camera_toggled)
        self.microphone_button = self._toggle(self.tr("Microphone"), "mic")
        self.microphone_button.toggled.connect(self._microphone_toggled)
        toggles = QHBoxLayout()
        toggles.addStretch(1)
        toggles.addWidget(self.microphone_button)
        toggles.addWidget(self.camera_button)
        toggles.addStretch(1)

        self.level = QProgressBar()
        self.level.setRange(0, 100)
        self.level.setTextVisible(False)
        self.level.setMaximumHeight(10)
        self.level.setAccessibleName(self.tr("Microphone level"))
        self._level_timer = QTimer(self)
        self._level_timer.setInterval(100)
        self._level_timer.timeout.connect(self._update_level)

        self.microphone_combo = self._combo(self.tr("Microphone"), "microphone")
        self.speaker_combo = self._combo(self.tr("Speakers"), "speaker")
        self.camera_combo = self._combo(self.tr("Camera"), "camera")
        self.test_button = QPushButton(icon("speaker"), self.tr("Test speakers"))
        self.test_button.setAccessibleName(self.tr("Play a test sound"))
        self.test_button.clicked.connect(self.test_sound_requested)
        self.media_error = QLabel()
        self.media_error.setTextFormat(Qt.TextFormat.PlainText)
        self.media_error.setWordWrap(True)
        self.media_error.hide()

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(MAX_NAME)
        self.name_edit.setPlaceholderText(self.tr("Your name"))
        self.name_edit.setAccessibleName(self.tr("Your name"))
        self.name_edit.textChanged.connect(self._name_changed)
        self.name_edit.returnPressed.connect(self._join)

        form = QFormLayout()
        form.addRow(self.tr("Your name"), self.name_edit)
        form.addRow(self.tr("Microphone"), self.microphone_combo)
        form.addRow("", self.level)
        speaker_row = QHBoxLayout()
        speaker_row.addWidget(self.speaker_combo, 1)
        speaker_row.addWidget(self.test_button)
        form.addRow(self.tr("Speakers"), speaker_row)
        form.addRow(self.tr("Camera"), self.camera_combo)

        self.join_button = QPushButton(self.tr("Join now"))
        self.join_button.setDefault(True)
        self.join_button.setObjectName("primary")
        self.join_button.setAccessibleName(self.tr("Join now"))
        self.join_button.clicked.connect(self._join)
        self.cancel_button = QPushButton(self.tr("Back"))
        self.cancel_button.setAccessibleName(self.tr("Back to the home page"))
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy
        self.progress.setAccessibleName(self.tr("Joining"))
        self.progress.setFormat(self.tr("Joining…"))
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.join_button)

        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        left.addLayout(toggles)
        right = QVBoxLayout()
        right.addWidget(self.heading)
        right.addWidget(self.meeting_label)
        right.addSpacing(8)
        right.addLayout(form)
        right.addWidget(self.media_error)
        right.addStretch(1)
        right.addWidget(self.progress)
        right.addWidget(self.error_label)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addSpacing(16)
        layout.addLayout(right, 2)
        self._update_preview()

    # -- building ------------------------------------------------------------------------------
    def _toggle(self, text: str, icon_name: str) -> QToolButton:
        button = QToolButton()
        button.setCheckable(True)
        button.setChecked(True)
        button.setText(text)
        button.setIcon(icon(icon_name))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setAccessibleName(text)
        return button

    def _combo(self, name: str, kind: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.activated.connect(
            lambda index, c=combo, k=kind: self.device_chosen.emit(k, str(c.itemData(index))))
        return combo

    # -- state from the window -----------------------------------------------------------------
    def set_meeting(self, title: str) -> None:
        self.meeting_label.setText(title)

    def set_name(self, name: str) -> None:
        self.name_edit.setText(name)

    def set_level_source(self, level: Callable[[], float]) -> None:
        self._level = level

    def set_devices(self, kind: str, devices: Sequence[Device], current: str) -> None:
        combo = {"camera": self.camera_combo, "microphone": self.microphone_combo,
                 "speaker": self.speaker_combo}[kind]
        combo.clear()
        for device_id, label in devices:
            combo.addItem(label, device_id)
        index = combo.findData(current)
        combo.setCurrentIndex(max(0, index))

    def set_media(self, *, camera_on: bool, microphone_on: bool) -> None:
        for button, on in ((self.camera_button, camera_on),
                           (self.microphone_button, microphone_on)):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        self._style_toggles()
        self._update_preview()

    def set_media_error(self, text: str) -> None:
        self.media_error.setText(text)
        self.media_error.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.join_button.setEnabled(not busy and bool(self.name_edit.text().strip()))
        if busy:
            self.show_error("")

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def set_waiting(self, waiting: bool) -> None:
        """In the meeting's waiting room: say so; Back leaves the waiting room."""
        self.waiting = waiting
        if waiting:
            self.progress.setFormat(self.tr("Waiting to be let in…"))
            self.progress.setAccessibleName(self.tr("Waiting to be let in"))
            self.heading.setText(self.tr("Waiting room"))
            self.meeting_label.setText(self.tr("Someone in the meeting will let you in soon."))
            self.cancel_button.setText(self.tr("Leave the waiting room"))
        else:
            self.progress.setFormat(self.tr("Joining…"))
            self.heading.setText(self.tr("Ready to join?"))
            self.cancel_button.setText(self.tr("Back"))

    # -- behaviour -----------------------------------------------------------------------------
    def showEvent(self, event: object) -> None:  # type: ignore[override]
        super().showEvent(event)  # type: ignore[arg-type]
        self._level_timer.start()
        self.name_edit.setFocus()

    def hideEvent(self, event: object) -> None:  # type: ignore[override]
        super().hideEvent(event)  # type: ignore[arg-type]
        self._level_timer.stop()

    def _update_level(self) -> None:
        self.level.setValue(int(100 * self._level()) if self.microphone_button.isChecked()
                            else 0)
        self.preview.refresh()

    def _update_preview(self) -> None:
        on = self.camera_button.isChecked()
        self.preview.update_state(ParticipantState(
            identity="preview", name=self.name_edit.text() or self.tr("You"), is_local=True,
            microphone_muted=not self.microphone_button.isChecked(),
            camera_key=LOCAL_CAMERA if on else None))

    def _style_toggles(self) -> None:
        cam, mic = self.camera_button.isChecked(), self.microphone_button.isChecked()
        self.camera_button.setIcon(icon("camera" if cam else "camera-off"))
        self.camera_button.setText(self.tr("Camera on") if cam else self.tr("Camera off"))
        self.camera_button.setAccessibleName(self.camera_button.text())
        self.microphone_button.setIcon(icon("mic" if mic else "mic-off"))
        self.microphone_button.setText(self.tr("Microphone on") if mic
                                       else self.tr("Microphone off"))
        self.microphone_button.setAccessibleName(self.microphone_button.text())

    def _camera_toggled(self, on: bool) -> None:
        self._style_toggles()
        self._update_preview()
        self.camera_toggled.emit(on)

    def _microphone_toggled(self, on: bool) -> None:
        self._style_toggles()
        self._update_preview()
        self.microphone_toggled.emit(on)

    def _name_changed(self, text: str) -> None:
        self.join_button.setEnabled(bool(text.strip()) and not self.progress.isVisible())
        self._update_preview()

    def _join(self) -> None:
        name = self.name_edit.text().strip()
        if name and self.join_button.isEnabled():
            self.join_clicked.emit(name)
