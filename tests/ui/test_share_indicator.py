"""The border and "Stop sharing" bar shown while sharing."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from pytestqt.qtbot import QtBot

from visio_desktop.ui.share_indicator import ShareIndicator


def test_frames_the_shared_area_and_stops(qtbot: QtBot) -> None:
    indicator = ShareIndicator()
    qtbot.addWidget(indicator)
    qtbot.addWidget(indicator.frame)
    area = QRect(100, 50, 800, 600)
    indicator.show_for(area, "Editor <b>x</b>")
    assert indicator.frame.isVisible() and indicator.frame.geometry() == area
    assert indicator.isVisible() and indicator.label.text() == "You are sharing Editor <b>x</b>"
    assert indicator.label.textFormat() == Qt.TextFormat.PlainText
    assert area.contains(indicator.geometry().center())  # the bar sits on the shared area
    with qtbot.waitSignal(indicator.stop_requested, timeout=1000):
        qtbot.mouseClick(indicator.stop_button, Qt.MouseButton.LeftButton)
    indicator.hide_all()
    assert not indicator.isVisible() and not indicator.frame.isVisible()
