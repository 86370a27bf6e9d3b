"""The meeting's link, to invite people: text, copy button and a QR code."""

from __future__ import annotations

import io

import segno
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from visio_desktop.ui.icons import icon


def qr_pixmap(text: str, scale: int = 5) -> QPixmap:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class MeetingInfoDialog(QDialog):
    def __init__(self, link: str, *, local_network: bool, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.setWindowTitle(self.tr("Invite people"))
        self.link = link
        intro = QLabel(
            self.tr("People on your network join by opening this link in Visio Desktop.")
            if local_network else self.tr("Share this link to invite people to the meeting."))
        intro.setWordWrap(True)
        self.link_edit = QLineEdit(link)
        self.link_edit.setReadOnly(True)
        self.link_edit.setMinimumWidth(self.link_edit.fontMetrics().horizontalAdvance(link) + 24)
        self.link_edit.setAccessibleName(self.tr("Meeting link"))
        self.copy_button = QPushButton(icon("copy"), self.tr("Copy link"))
        self.copy_button.setAccessibleName(self.tr("Copy the meeting link"))
        self.copy_button.clicked.connect(self.copy)
        self.qr = QLabel()
        self.qr.setPixmap(qr_pixmap(link))
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setAccessibleName(self.tr("QR code of the meeting link"))
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addWidget(self.link_edit, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.qr)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.link)
        self.copy_button.setText(self.tr("Copied"))
        QTimer.singleShot(2000, lambda: self.copy_button.setText(self.tr("Copy link")))
