"""The call's control bar: one tool button per action, grouped, keyboard-navigable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMenu, QToolButton, QWidget

from visio_desktop.ui.actions import CallActions


class ControlBar(QFrame):
    def __init__(self, actions: CallActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("controlbar")
        self.setAccessibleName(self.tr("Call controls"))
        self.actions_ = actions
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(6)

        def add(name: str, action: QAction) -> QToolButton:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            button.setAccessibleName(action.text())
            button.setAccessibleDescription(action.toolTip())
            button.setAutoRaise(True)
            self.buttons[name] = button
            layout.addWidget(button)
            return button

        add("microphone", actions.microphone)
        add("camera", actions.camera)
        add("screen_share", actions.screen_share)
        layout.addStretch(1)
        add("hand", actions.hand)
        add("reactions", actions.reactions)
        layout.addStretch(1)
        add("chat", actions.chat)
        add("participants", actions.participants)
        add("captions", actions.captions)
        more = add("more", QAction(actions.icon("more"), self.tr("More"), self))
        self.more_menu = QMenu(self)
        self.more_menu.setAccessibleName(self.tr("More options"))
        for action in (actions.meeting_info, actions.transcript, actions.layout,
                       actions.fullscreen, actions.stats,
                       actions.shortcuts, actions.settings):
            self.more_menu.addAction(action)
        more.setMenu(self.more_menu)
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more.setAccessibleName(self.tr("More options"))
        layout.addStretch(1)
        leave = add("leave", actions.leave)
        leave.setObjectName("leave")

    def focus_first(self) -> None:
        self.buttons["microphone"].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_badge(self, name: str, count: int) -> None:
        """A count on a button (unread messages, raised hands) — in its text, not by colour."""
        button = self.buttons[name]
        action = button.defaultAction()
        base = action.property("base_text") or action.text()
        action.setProperty("base_text", base)
        action.setText(f"{base} ({count})" if count else base)
        button.setAccessibleName(action.text())
