"""Transient messages ("toasts") over the call window, and native notifications.

:class:`ToastArea` is a child of the window it decorates; it sits at the bottom centre of its
parent, only as large as its toasts (the rest of the window stays clickable), and stacks at
most :data:`MAX_VISIBLE` of them, newest at the bottom; a fourth pushes the oldest out. Each
toast is plain text, stays ``duration_ms`` (4 s by default; the countdown pauses while the
pointer is over it or the keyboard focus is inside it), may carry one action button ("Open
chat") and always a close button. A screen reader hears each new toast (a polite
announcement) and finds its text as the toast's accessible name.

:func:`notify_native` shows a system notification through the tray icon, when there is one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QEnterEvent,
    QFocusEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

MAX_VISIBLE = 3
DEFAULT_DURATION_MS = 4000
MARGIN = 16
MAX_WIDTH = 460

_default_tray_icon: QSystemTrayIcon | None = None
_USER_FOCUS = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason,
               Qt.FocusReason.MouseFocusReason, Qt.FocusReason.ShortcutFocusReason)


def _announce(widget: QWidget, text: str) -> None:
    if QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))


class Toast(QFrame):
    """One message, with an optional action; emits :attr:`finished` once when it goes."""

    finished = Signal()
    action_triggered = Signal()

    def __init__(self, text: str, parent: QWidget | None = None, *,
                 action_text: str = "", duration_ms: int = DEFAULT_DURATION_MS) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.setAccessibleName(text)
        self.setAccessibleDescription(self.tr("Notification"))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._done = False
        self._user_focus = False

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel(text, self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setMaximumWidth(MAX_WIDTH)
        layout.addWidget(self.label, 1)
        self.action_button: QPushButton | None = None
        if action_text:
            self.action_button = QPushButton(action_text, self)
            self.action_button.setAccessibleName(action_text)
            self.action_button.clicked.connect(self._on_action)
            layout.addWidget(self.action_button)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAccessibleName(self.tr("Dismiss notification"))
        self.close_button.setToolTip(self.tr("Dismiss"))
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.close_button)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, duration_ms))
        self._timer.timeout.connect(self._expire)
        for child in (self.action_button, self.close_button):
            if child is not None:
                child.installEventFilter(self)

    def text(self) -> str:
        return self.label.text()

    def start(self) -> None:
        self._timer.start()

    def is_counting_down(self) -> bool:
        return self._timer.isActive()

    def dismiss(self) -> None:
        if self._done:
            return
        self._done = True
        self._timer.stop()
        self.hide()
        self.finished.emit()
        self.deleteLater()

    def _expire(self) -> None:
        if self.underMouse() or self._user_focus:
            return  # leaving/focus-out restarts it
        self.dismiss()

    def _on_action(self) -> None:
        self.action_triggered.emit()
        self.dismiss()

    # -- pause while looked at ---------------------------------------------------------------

    def enterEvent(self, event: QEnterEvent) -> None:
        self._timer.stop()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if not self._done and not self._user_focus:
            self._timer.start()
        super().leaveEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._done or not isinstance(event, QFocusEvent):
            return False
        if event.type() == QEvent.Type.FocusIn and event.reason() in _USER_FOCUS:
            # Tab or a click brought the focus here (Qt also focuses the first child of a
            # window that has no focus widget when a toast appears: that does not count)
            self._user_focus = True
            self._timer.stop()
        elif event.type() == QEvent.Type.FocusOut:
            self._user_focus = False
            QTimer.singleShot(0, self, self._restart_if_unfocused)
        return False

    def _restart_if_unfocused(self) -> None:
        if not self._done and not self._user_focus and not self.underMouse() \
                and not self._timer.isActive():
            self._timer.start()


class ToastArea(QWidget):
    """The stack of toasts at the bottom centre of ``parent``."""

    def __init__(self, parent: QWidget, *, max_visible: int = MAX_VISIBLE,
                 duration_ms: int = DEFAULT_DURATION_MS) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Notifications"))
        self._max_visible = max_visible
        self._duration_ms = duration_ms
        self._toasts: list[Toast] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        parent.installEventFilter(self)
        self.hide()

    def show_message(self, text: str, *, action_text: str = "",
                     on_action: Callable[[], None] | None = None,
                     duration_ms: int | None = None) -> Toast:
        """Show ``text`` (plain text) for ``duration_ms`` (the area's default when None);
        ``action_text`` adds a button that calls ``on_action`` and closes the toast."""
        toast = Toast(text, self, action_text=action_text,
                      duration_ms=self._duration_ms if duration_ms is None else duration_ms)
        if on_action is not None:
            toast.action_triggered.connect(on_action)
        toast.finished.connect(lambda: self._remove(toast))
        self._toasts.append(toast)
        self._layout.addWidget(toast)
        while len(self._toasts) > self._max_visible:
            self._toasts[0].dismiss()
        toast.start()
        toast.show()  # now, not when the layout's queued show runs: _place measures it
        self._place()  # before showing: shown elsewhere first, it could get a stray Enter
        self.show()
        self.raise_()
        _announce(toast, text)
        return toast

    def messages(self) -> list[str]:
        """The texts shown now, oldest first."""
        return [t.text() for t in self._toasts]

    def toasts(self) -> list[Toast]:
        return list(self._toasts)

    def clear(self) -> None:
        for toast in list(self._toasts):
            toast.dismiss()

    def _remove(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
            self._layout.removeWidget(toast)
        if self._toasts:
            self._place()
        else:
            self.hide()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        self._layout.activate()
        hint = self.sizeHint()
        width = min(max(hint.width(), 240), max(1, parent.width() - 2 * MARGIN))
        height = self._layout.heightForWidth(width) if self._layout.hasHeightForWidth() \
            else hint.height()
        height = max(height, hint.height())
        self.setGeometry((parent.width() - width) // 2,
                         max(0, parent.height() - height - MARGIN), width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize \
                and self._toasts:
            self._place()
            self.raise_()
        return False


def set_default_tray_icon(icon: QSystemTrayIcon | None) -> None:
    """The tray icon :func:`notify_native` uses when given none (CallTray sets it)."""
    global _default_tray_icon
    _default_tray_icon = icon


def notify_native(title: str, text: str, tray: QSystemTrayIcon | None = None, *,
                  timeout_ms: int = 5000) -> bool:
    """A system notification through ``tray`` (or the default tray icon) when it is shown and
    the system supports messages; returns whether one was shown (else do nothing: the in-window
    toast is enough)."""
    icon = tray or _default_tray_icon
    try:
        usable = icon is not None and icon.isVisible() and QSystemTrayIcon.supportsMessages()
    except RuntimeError:  # the icon's C++ object was deleted
        usable = False
    if not usable:
        return False
    assert icon is not None
    icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, timeout_ms)
    return True
