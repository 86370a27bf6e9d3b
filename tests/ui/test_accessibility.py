"""Keyboard and screen-reader access to the call window: the Tab order reaches every control,
each with an accessible name, and every action can be done from the keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QMainWindow, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from visio_desktop.call import Call, MediaOptions
from visio_desktop.call_state import CallSnapshot, ConnectionState, ParticipantState
from visio_desktop.engine import Engine
from visio_desktop.ui.call_page import CallPage
from visio_desktop.ui.operations import Operations


@pytest.fixture
def page(qtbot: QtBot) -> Iterator[CallPage]:
    engine = Engine().start()
    window = QMainWindow()
    qtbot.addWidget(window)
    call = Call(MediaOptions(camera="none", microphone="none", speaker="none"))
    page = CallPage(call, Operations(engine, window))
    window.setCentralWidget(page)
    window.resize(1280, 800)
    window.show()
    page.set_snapshot(CallSnapshot(
        room_name="r", state=ConnectionState.CONNECTED,
        participants=(
            ParticipantState("me", "Alice", is_local=True, microphone_muted=False),
            ParticipantState("bob", "Bob", hand_raised_at=datetime.now(UTC)),
            ParticipantState("carol", "Carol"),
        )))
    page.actions_.participants.setChecked(True)
    qtbot.waitExposed(window)
    try:
        yield page
    finally:
        engine.stop()


def accessible_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name) if interface is not None else ""


def tab_cycle(start: QWidget, limit: int = 200) -> list[QWidget]:
    start.setFocus(Qt.FocusReason.TabFocusReason)
    seen: list[QWidget] = []
    widget: QWidget | None = start
    for _ in range(limit):
        assert widget is not None
        if widget in seen:
            break
        seen.append(widget)
        widget.focusNextChild()  # what Tab does
        QApplication.processEvents()
        widget = QApplication.focusWidget()
    return seen


def test_tab_order_reaches_every_control_with_a_name(page: CallPage) -> None:
    visited = tab_cycle(page.controls.buttons["microphone"])
    names = {w: accessible_name(w) for w in visited}
    unnamed = [f"{type(w).__name__}({w.objectName()})" for w, n in names.items() if not n]
    assert not unnamed, f"controls without an accessible name: {unnamed}"
    for name, button in page.controls.buttons.items():
        assert button in visited, f"the {name} button cannot be reached with Tab"
    # the stage's tiles and the open side panel are in the cycle too
    assert any(type(w).__name__ == "VideoTile" for w in visited)
    assert any(page.participants.isAncestorOf(w) for w in visited)
    # focus is visible: every reached control accepts focus from the keyboard
    assert all(w.focusPolicy() & Qt.FocusPolicy.TabFocus for w in visited)


def test_every_action_is_reachable_from_the_keyboard(page: CallPage) -> None:
    in_menu = set(page.controls.more_menu.actions())
    on_buttons = {b.defaultAction() for b in page.controls.findChildren(QToolButton)}
    for action in page.actions_.all():
        reachable = (not action.shortcut().isEmpty()) or action in in_menu or action in on_buttons
        assert reachable, f"{action.text()!r} has no shortcut, button or menu entry"
        assert action.toolTip(), f"{action.text()!r} has no tooltip"


def test_shortcuts_drive_the_controls(page: CallPage, qtbot: QtBot) -> None:
    page.controls.buttons["hand"].setFocus()
    chat = page.actions_.chat
    qtbot.keyClick(page.controls.buttons["hand"], Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert chat.isChecked() and page.side.currentWidget() is page.chat
    qtbot.keyClick(page.controls.buttons["hand"], Qt.Key.Key_F2)
    assert QApplication.focusWidget() is page.controls.buttons["microphone"]
