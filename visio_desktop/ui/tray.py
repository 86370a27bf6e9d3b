"""The system tray icon during a call: show the window, mute, leave, quit.

Where the desktop has no system tray (``QSystemTrayIcon.isSystemTrayAvailable()`` is false,
e.g. GNOME without the AppIndicator extension, or offscreen tests) :class:`CallTray` creates
no icon and :meth:`CallTray.show` does nothing; its menu and actions still exist, so the rest
of the application needs no special case.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from visio_desktop.ui.toast import set_default_tray_icon


class CallTray(QObject):
    """A tray icon with the call's menu.

    Signals: :attr:`show_requested` (the menu entry, or a click on the icon),
    :attr:`microphone_toggled` (``True`` = the user wants the microphone on),
    :attr:`leave_requested`, :attr:`quit_requested`.
    """

    show_requested = Signal()
    microphone_toggled = Signal(bool)
    leave_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon | None = None, parent: QObject | None = None, *,
                 available: bool | None = None) -> None:
        super().__init__(parent)
        self._available = QSystemTrayIcon.isSystemTrayAvailable() if available is None \
            else available
        self._microphone_on = False
        self._in_call = False

        self.menu = QMenu()
        self.menu.setAccessibleName(self.tr("Visio"))
        self.show_action = QAction(self.tr("&Show window"), self)
        self.show_action.triggered.connect(self.show_requested)
        self.microphone_action = QAction(self.tr("&Mute microphone"), self)
        self.microphone_action.setCheckable(True)
        self.microphone_action.triggered.connect(self._on_microphone)  # user action only
        self.leave_action = QAction(self.tr("&Leave call"), self)
        self.leave_action.triggered.connect(self.leave_requested)
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.microphone_action)
        self.menu.addAction(self.leave_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

        self._icon: QSystemTrayIcon | None = None
        if self._available:
            self._icon = QSystemTrayIcon(self._pick_icon(icon), self)
            self._icon.setContextMenu(self.menu)
            self._icon.activated.connect(self._on_activated)
        self.set_tooltip(self.tr("Visio"))
        self.set_in_call(False)
        self.set_microphone_on(False)

    # -- state -------------------------------------------------------------------------------

    def is_available(self) -> bool:
        return self._available

    def tray_icon(self) -> QSystemTrayIcon | None:
        """The real icon, None where the desktop has no tray (for notifications)."""
        return self._icon

    def show(self) -> None:
        if self._icon is not None:
            self._icon.show()
            set_default_tray_icon(self._icon)

    def hide(self) -> None:
        if self._icon is not None:
            self._icon.hide()
            set_default_tray_icon(None)

    def set_tooltip(self, text: str) -> None:
        """E.g. the room's name; plain text."""
        if self._icon is not None:
            self._icon.setToolTip(text)

    def set_in_call(self, in_call: bool) -> None:
        """Leave and the microphone entry are only enabled during a call."""
        self._in_call = in_call
        self.leave_action.setEnabled(in_call)
        self.microphone_action.setEnabled(in_call)

    def set_microphone_on(self, on: bool) -> None:
        """Reflect the microphone's state (emits nothing)."""
        self._microphone_on = on
        self.microphone_action.setChecked(not on)
        self.microphone_action.setToolTip(
            self.tr("The microphone is on") if on else self.tr("The microphone is muted"))

    def microphone_on(self) -> bool:
        return self._microphone_on

    # -- actions -----------------------------------------------------------------------------

    def _on_microphone(self, checked: bool) -> None:
        # checked = "Mute microphone" ticked = the user wants it off
        self._microphone_on = not checked
        self.microphone_toggled.emit(not checked)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()

    @staticmethod
    def _pick_icon(icon: QIcon | None) -> QIcon:
        if icon is not None and not icon.isNull():
            return icon
        app_icon = QGuiApplication.windowIcon()
        if not app_icon.isNull():
            return app_icon
        return QIcon.fromTheme("camera-video")
