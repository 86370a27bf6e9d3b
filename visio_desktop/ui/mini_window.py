"""A small always-on-top window for when the call window is hidden or minimised.

It shows whoever speaks (name and video), a mute button, a leave button and "Back to the
call". It is a frameless tool window (no taskbar entry) that is dragged by any point that is
not a button; Escape also brings the call back.

The video comes from ``paint_source(key, width, height)``, called at :data:`FPS` while the
window is shown, with the FrameStore key of the speaker's video (camera, else screen share) and
the size of the video area; it returns a ``QImage`` (any size: it is scaled, aspect kept) or
None when there is no new picture. The window itself holds no media logic.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from visio_desktop.call_state import CallSnapshot, ParticipantState

PaintSource = Callable[[str, int, int], QImage | None]

FPS = 12
VIDEO_SIZE = QSize(240, 135)


def pick_speaker(snapshot: CallSnapshot, previous: str | None = None) -> ParticipantState | None:
    """Who the mini window shows: the loudest remote speaker, else the one shown before if
    still there, else the first remote participant, else oneself."""
    for identity in snapshot.active_speakers:
        participant = snapshot.participant(identity)
        if participant is not None and not participant.is_local:
            return participant
    if previous is not None:
        participant = snapshot.participant(previous)
        if participant is not None:
            return participant
    remotes = [p for p in snapshot.participants if not p.is_local]
    if remotes:
        return remotes[0]
    return snapshot.participants[0] if snapshot.participants else None


class _VideoView(QWidget):
    """Paints the latest picture scaled to fit, or a plain-text placeholder."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(VIDEO_SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._placeholder = ""

    def set_image(self, image: QImage | None) -> None:
        self._image = image if image is not None and not image.isNull() else None
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(32, 32, 36))
        if self._image is not None:
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(QPoint(0, 0), size)
            target.moveCenter(self.rect().center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        elif self._placeholder:
            painter.setPen(QColor(230, 230, 230))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)  # drawText never interprets markup
        painter.end()


class MiniWindow(QWidget):
    """Signals: :attr:`microphone_toggled` (``True`` = turn the microphone on),
    :attr:`leave_requested`, :attr:`restore_requested`."""

    microphone_toggled = Signal(bool)
    leave_requested = Signal()
    restore_requested = Signal()

    def __init__(self, paint_source: PaintSource | None = None,
                 parent: QWidget | None = None, *, fps: int = FPS) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.FramelessWindowHint)
        self.setWindowTitle(self.tr("Visio call"))
        self.setAccessibleName(self.tr("Call in a small window"))
        self._paint_source = paint_source
        self._speaker: ParticipantState | None = None
        self._video_key: str | None = None
        self._microphone_on = False
        self._drag_offset: QPoint | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.video = _VideoView(self)
        self.video.setAccessibleName(self.tr("Video of the person speaking"))
        layout.addWidget(self.video, 1)
        self.name_label = QLabel(self)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(self.name_label)

        buttons = QHBoxLayout()
        self.mute_button = QPushButton(self)
        self.mute_button.clicked.connect(self._on_mute)
        self.leave_button = QPushButton(self.tr("&Leave"), self)
        self.leave_button.setAccessibleName(self.tr("Leave the call"))
        self.leave_button.clicked.connect(self.leave_requested)
        self.restore_button = QPushButton(self.tr("&Back to the call"), self)
        self.restore_button.setAccessibleName(self.tr("Back to the call"))
        self.restore_button.clicked.connect(self.restore_requested)
        for button in (self.mute_button, self.leave_button, self.restore_button):
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / max(1, fps))))
        self._timer.timeout.connect(self.refresh_video)
        self._show_speaker()
        self._show_microphone()

    # -- public ------------------------------------------------------------------------------

    def set_paint_source(self, paint_source: PaintSource | None) -> None:
        self._paint_source = paint_source

    def set_snapshot(self, snapshot: CallSnapshot) -> None:
        """Show the current speaker and the microphone's state."""
        self._speaker = pick_speaker(snapshot, self._speaker.identity if self._speaker else None)
        self._microphone_on = snapshot.local.microphone_on
        self._show_speaker()
        self._show_microphone()

    def speaker(self) -> ParticipantState | None:
        return self._speaker

    def speaker_text(self) -> str:
        return self.name_label.text()

    def refresh_video(self) -> None:
        """Ask the paint source for the speaker's picture (the timer does this at FPS)."""
        if self._video_key is None or self._paint_source is None:
            self.video.set_image(None)
            return
        image = self._paint_source(self._video_key, self.video.width(), self.video.height())
        if image is not None:
            self.video.set_image(image)

    # -- display -----------------------------------------------------------------------------

    def _show_speaker(self) -> None:
        speaker = self._speaker
        if speaker is None:
            text = self.tr("Nobody else is here")
            key = None
        else:
            name = speaker.display_name
            text = self.tr("{name} (you)").format(name=name) if speaker.is_local else name
            if speaker.microphone_muted:  # said in words, not only by an icon's colour
                muted = self.tr("{name}, microphone off") if speaker.is_local \
                    else self.tr("{name}, muted")
                text = muted.format(name=text)
            key = speaker.camera_key or speaker.screen_key
        self.name_label.setText(text)
        self.name_label.setAccessibleName(text)
        self.video.set_placeholder(text if key is None else "")
        if key != self._video_key:
            self._video_key = key
            self.video.set_image(None)
            if self.isVisible():
                self.refresh_video()

    def _show_microphone(self) -> None:
        if self._microphone_on:
            self.mute_button.setText(self.tr("&Mute"))
            self.mute_button.setAccessibleName(self.tr("Mute the microphone"))
        else:
            self.mute_button.setText(self.tr("&Unmute"))
            self.mute_button.setAccessibleName(self.tr("Unmute the microphone"))

    def _on_mute(self) -> None:
        self.microphone_toggled.emit(not self._microphone_on)

    # -- events ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh_video()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.restore_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            handle = self.windowHandle()
            if handle is not None and handle.startSystemMove():
                self._drag_offset = None  # the window manager moves it (X11, Wayland)
            else:
                self._drag_offset = event.globalPosition().toPoint() - self.frameGeometry() \
                    .topLeft()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_offset)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_offset = None
        super().mouseReleaseEvent(event)
