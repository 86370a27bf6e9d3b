"""Every call control as a QAction with its shortcut (Visio's own, see visio-meet-api.md):
toolbar buttons, menus, the tray and the shortcut list all use these same actions."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence

from visio_desktop.ui.icons import icon


class CallActions(QObject):
    def __init__(self, parent: QObject | None = None, *,
                 icon_color: QColor | None = None) -> None:
        super().__init__(parent)
        self.icon_color = icon_color  # the control bar is dark in every theme
        self.microphone = self._make(self.tr("Microphone"), "mic", "Ctrl+D",
                                     self.tr("Turn the microphone on or off"), checkable=True)
        self.camera = self._make(self.tr("Camera"), "camera", "Ctrl+E",
                                 self.tr("Turn the camera on or off"), checkable=True)
        self.screen_share = self._make(self.tr("Share screen"), "screen-share", "",
                                       self.tr("Share a screen or a window"), checkable=True)
        self.hand = self._make(self.tr("Raise hand"), "hand", "Ctrl+Shift+H",
                               self.tr("Raise or lower your hand"), checkable=True)
        self.reactions = self._make(self.tr("Reactions"), "reaction", "Ctrl+Shift+E",
                                    self.tr("Send a reaction"))
        self.chat = self._make(self.tr("Chat"), "chat", "Ctrl+Shift+M",
                               self.tr("Show or hide the chat"), checkable=True)
        self.participants = self._make(self.tr("Participants"), "participants", "Ctrl+Shift+P",
                                       self.tr("Show or hide the participants"), checkable=True)
        self.captions = self._make(self.tr("Captions"), "captions", "",
                                   self.tr("Show or hide the live captions"), checkable=True)
        self.transcript = self._make(self.tr("Transcript"), "captions", "",
                                     self.tr("Show or hide the transcript of the captions"),
                                     checkable=True)
        self.fullscreen = self._make(self.tr("Full screen"), "fullscreen", "Ctrl+Shift+F",
                                     self.tr("Enter or leave full screen"), checkable=True)
        self.layout = self._make(self.tr("Speaker view"), "speaker-view", "",
                                 self.tr("Switch between the grid and the speaker view"),
                                 checkable=True)
        self.focus_toolbar = self._make(self.tr("Focus the toolbar"), "", "F2",
                                        self.tr("Move the keyboard focus to the toolbar"))
        self.shortcuts = self._make(self.tr("Keyboard shortcuts"), "", "Ctrl+Shift+/",
                                    self.tr("List the keyboard shortcuts"))
        self.settings = self._make(self.tr("Settings"), "settings", "Ctrl+,",
                                   self.tr("Open the settings"))
        self.stats = self._make(self.tr("Statistics"), "", "",
                                self.tr("Show the connection and media statistics"))
        self.meeting_info = self._make(self.tr("Meeting link"), "link", "",
                                       self.tr("Show the link to invite people"))
        self.leave = self._make(self.tr("Leave"), "leave", "Ctrl+Shift+Q",
                                self.tr("Leave the meeting"))
        # Visio's "hold V to talk": handled as a key press/release by the call page
        self.push_to_talk_key = Qt.Key.Key_V

    def _make(self, text: str, icon_name: str, shortcut: str, tip: str, *,
              checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(self.icon(icon_name))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            native = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            tip = f"{tip} ({native})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        return action

    def icon(self, name: str) -> QIcon:
        return icon(name, self.icon_color)

    def all(self) -> list[QAction]:
        return [a for a in self.children() if isinstance(a, QAction)]

    def shortcut_list(self) -> list[tuple[str, str]]:
        """(action, shortcut) rows for the shortcut list and the settings dialog."""
        rows = [(a.text(), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for a in self.all() if not a.shortcut().isEmpty()]
        rows.append((self.tr("Push to talk (hold)"), "V"))
        return rows
