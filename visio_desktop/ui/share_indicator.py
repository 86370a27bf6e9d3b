"""While sharing: a border around what is shared and a small bar with "Stop sharing", always on
top, so nobody forgets that others see their screen."""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

BORDER_PX = 4
COLOUR = QColor("#e1000f")  # the State's red: visible on any content


WDA_EXCLUDEFROMCAPTURE = 0x11


def exclude_from_capture(widget: QWidget) -> bool:
    """Keep ``widget`` out of screen captures where the OS can (Windows 10 2004+), so the
    others do not see our border and bar; elsewhere they are captured with the screen."""
    if sys.platform != "win32":
        return False
    try:
        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        return bool(user32.SetWindowDisplayAffinity(int(widget.winId()),
                                                    WDA_EXCLUDEFROMCAPTURE))
    except (AttributeError, OSError):
        return False


class _Frame(QWidget):
    """The border: four thin always-on-top windows would do, but one transparent window that
    ignores the mouse is simpler and lets clicks through to the shared content."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.Tool
                         | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.WindowTransparentForInput)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(QPen(COLOUR, BORDER_PX))
        painter.drawRect(self.rect().adjusted(BORDER_PX // 2, BORDER_PX // 2,
                                              -BORDER_PX // 2, -BORDER_PX // 2))


class ShareIndicator(QWidget):
    """The bar (``stop_requested`` when its button is pressed) and the border."""

    stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.Tool
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setObjectName("shareindicator")
        self.setAccessibleName(self.tr("Screen sharing"))
        self.label = QLabel(self.tr("You are sharing your screen"))
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.stop_button = QPushButton(self.tr("Stop sharing"))
        self.stop_button.setAccessibleName(self.tr("Stop sharing your screen"))
        self.stop_button.clicked.connect(self.stop_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label)
        layout.addWidget(self.stop_button)
        self.setStyleSheet(f"QWidget#shareindicator {{ background: {COLOUR.name()}; }}"
                           " QLabel { color: white; font-weight: bold; }")
        self.frame = _Frame()

    def show_for(self, area: QRect, what: str = "") -> None:
        """Frame ``area`` (global coordinates) and put the bar at its top centre."""
        self.label.setText(self.tr("You are sharing {0}").format(what) if what
                           else self.tr("You are sharing your screen"))
        self.frame.setGeometry(area)
        self.frame.show()
        exclude_from_capture(self.frame)
        self.adjustSize()
        self.move(area.x() + (area.width() - self.width()) // 2, area.y() + BORDER_PX)
        self.show()
        exclude_from_capture(self)
        self.raise_()

    def hide_all(self) -> None:
        self.frame.hide()
        self.hide()

    def close_all(self) -> None:
        self.frame.close()
        self.close()
