"""Home: join by link or code, recent meetings, start a meeting on this computer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.net.links import LinkError, parse_link
from visio_desktop.ui.icons import icon
from visio_desktop.ui.messages import error_text

MAX_RECENT = 8


@dataclass(frozen=True)
class RecentMeeting:
    link: str
    title: str
    joined_at: str  # ISO-8601


class RecentMeetings:
    """The last meetings joined, kept in a UserStore-like key/value store as JSON."""

    KEY = "recent_meetings"

    def __init__(self, store: Any) -> None:
        self.store = store

    def load(self) -> list[RecentMeeting]:
        raw = self.store.get(self.KEY) if self.store is not None else None
        try:
            items = json.loads(raw) if isinstance(raw, str) else []
            return [RecentMeeting(**item) for item in items][:MAX_RECENT]
        except (ValueError, TypeError):
            return []

    def add(self, link: str, title: str) -> None:
        if self.store is None:
            return
        items = [m for m in self.load() if m.link != link]
        items.insert(0, RecentMeeting(link, title, datetime.now(UTC).isoformat()))
        self.store.set(self.KEY, json.dumps([asdict(m) for m in items[:MAX_RECENT]]))


class HomePage(QWidget):
    join_requested = Signal(str)  # a link or code, already checked by parse_link
    host_requested = Signal()
    settings_requested = Signal()
    sign_in_requested = Signal()
    sign_out_requested = Signal()
    create_requested = Signal()  # a new meeting on the Visio instance (signed in)

    def __init__(self, recent: RecentMeetings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recent = recent
        self.setObjectName("home")

        title = QLabel(self.tr("Visio"))
        title.setObjectName("title")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(self.tr("Secure video meetings for public servants"))
        subtitle.setWordWrap(True)

        self.link_edit = QLineEdit()
        self.link_edit.setPlaceholderText(self.tr("Meeting link or code (abc-defg-hij)"))
        self.link_edit.setAccessibleName(self.tr("Meeting link or code"))
        self.link_edit.setClearButtonEnabled(True)
        self.link_edit.returnPressed.connect(self._join)
        self.link_edit.textChanged.connect(self._text_changed)
        self.join_button = QPushButton(self.tr("Join"))
        self.join_button.setAccessibleName(self.tr("Join the meeting"))
        self.join_button.setEnabled(False)
        self.join_button.setObjectName("primary")
        self.join_button.clicked.connect(self._join)
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        join_row = QHBoxLayout()
        join_row.addWidget(self.link_edit, 1)
        join_row.addWidget(self.join_button)

        self.host_button = QPushButton(icon("screen-share"),
                                       self.tr("Start a meeting on this computer"))
        self.host_button.setAccessibleName(self.tr("Start a meeting on this computer"))
        self.host_button.setAccessibleDescription(
            self.tr("No account or internet needed: people on your network join with the link"))
        self.host_button.clicked.connect(self.host_requested)
        self.host_button.setObjectName("secondary")
        host_note = QLabel(self.tr("No account or internet connection needed. People on your "
                                   "network join with the link shown in the meeting."))
        host_note.setWordWrap(True)

        self.account_label = QLabel(self.tr("Not signed in — you join meetings as a guest."))
        self.account_label.setWordWrap(True)
        self.account_label.setTextFormat(Qt.TextFormat.PlainText)
        self.sign_in_button = QPushButton(self.tr("Sign in"))
        self.sign_in_button.setAccessibleName(self.tr("Sign in with ProConnect"))
        self.sign_in_button.clicked.connect(self.sign_in_requested)
        self.sign_out_button = QPushButton(self.tr("Sign out"))
        self.sign_out_button.setAccessibleName(self.tr("Sign out"))
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        self.sign_out_button.hide()
        self.create_button = QPushButton(self.tr("Create a Visio meeting"))
        self.create_button.setAccessibleName(self.tr("Create a Visio meeting"))
        self.create_button.setObjectName("secondary")
        self.create_button.clicked.connect(self.create_requested)
        self.create_button.hide()
        self.rooms_label = QLabel(self.tr("Your meetings"))
        self.rooms_label.setObjectName("section")
        self.rooms_list = QListWidget()
        self.rooms_list.setObjectName("recent")
        self.rooms_list.setAccessibleName(self.tr("Your meetings"))
        self.rooms_list.setMaximumHeight(160)
        self.rooms_list.itemActivated.connect(self._join_recent)
        self.rooms_label.setBuddy(self.rooms_list)
        self.rooms_label.hide()
        self.rooms_list.hide()

        recent_label = QLabel(self.tr("Recent meetings"))
        recent_label.setObjectName("section")
        self.recent_list = QListWidget()
        self.recent_list.setAccessibleName(self.tr("Recent meetings"))
        self.recent_list.setObjectName("recent")
        self.recent_list.setMaximumHeight(220)
        self.recent_list.itemActivated.connect(self._join_recent)
        self.no_recent = QLabel(self.tr("Meetings you join appear here."))
        recent_label.setBuddy(self.recent_list)

        settings_button = QToolButton()
        settings_button.setIcon(icon("settings"))
        settings_button.setText(self.tr("Settings"))
        settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        settings_button.setAccessibleName(self.tr("Settings"))
        settings_button.clicked.connect(self.settings_requested)
        self.settings_button = settings_button

        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(640)
        layout = QVBoxLayout(card)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(12)
        layout.addLayout(join_row)
        layout.addWidget(self.error_label)
        layout.addSpacing(8)
        layout.addWidget(self.host_button)
        layout.addWidget(host_note)
        layout.addWidget(self.create_button)
        layout.addWidget(self.rooms_label)
        layout.addWidget(self.rooms_list)
        layout.addSpacing(12)
        layout.addWidget(recent_label)
        layout.addWidget(self.recent_list)
        layout.addWidget(self.no_recent)
        layout.addStretch(1)
        footer = QHBoxLayout()
        footer.addWidget(self.account_label, 1)
        footer.addWidget(self.sign_in_button)
        footer.addWidget(self.sign_out_button)
        footer.addWidget(settings_button)
        layout.addLayout(footer)

        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 3)
        outer.addStretch(1)
        outer.setContentsMargins(24, 48, 24, 24)
        self.refresh_recent()

    def refresh_recent(self) -> None:
        self.recent_list.clear()
        meetings = self.recent.load()
        for meeting in meetings:
            when = datetime.fromisoformat(meeting.joined_at).astimezone()
            item = QListWidgetItem(f"{meeting.title} — {when:%d/%m %H:%M}")
            item.setData(Qt.ItemDataRole.UserRole, meeting.link)
            item.setToolTip(meeting.link)
            self.recent_list.addItem(item)
        self.recent_list.setVisible(bool(meetings))
        self.no_recent.setVisible(not meetings)

    def set_account(self, name: str | None, note: str = "") -> None:
        """Signed in as ``name``, or signed out (None); ``note`` explains a limit (no keyring,
        expired session)."""
        if name:
            text = self.tr("Signed in as {0}").format(name)
        else:
            text = self.tr("Not signed in — you join meetings as a guest.")
        self.account_label.setText(f"{text}\n{note}" if note else text)
        self.sign_in_button.setVisible(not name)
        self.sign_out_button.setVisible(bool(name))
        self.create_button.setVisible(bool(name))

    def set_rooms(self, rooms: list[tuple[str, str]]) -> None:
        """The signed-in user's meetings on the instance: (title, link)."""
        self.rooms_list.clear()
        for title, link in rooms:
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, link)
            item.setToolTip(link)
            self.rooms_list.addItem(item)
        self.rooms_label.setVisible(bool(rooms))
        self.rooms_list.setVisible(bool(rooms))

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _text_changed(self, text: str) -> None:
        self.join_button.setEnabled(bool(text.strip()))
        self.show_error("")

    def _join(self) -> None:
        text = self.link_edit.text().strip()
        if not text:
            return
        try:
            parse_link(text)
        except LinkError as exc:
            self.show_error(error_text(exc))
            return
        self.join_requested.emit(text)

    def _join_recent(self, item: QListWidgetItem) -> None:
        self.join_requested.emit(str(item.data(Qt.ItemDataRole.UserRole)))
