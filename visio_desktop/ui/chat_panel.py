"""The chat side panel: the conversation, grouped by sender, and a message box.

Messages are plain text. The only markup in the view is what this module writes itself:
every piece of user text goes through ``html.escape`` and URLs become anchors, opened with
``QDesktopServices`` (http and https only).
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QKeyEvent,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollBar,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.call_state import ChatEntry
from visio_desktop.ui.reactions import announce

MAX_MESSAGE_LENGTH = 2000  # the web app's textarea maxLength
COUNTER_THRESHOLD = 1800  # the counter shows from here on

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}»"


def local_time(moment: datetime) -> str:
    """HH:MM in the computer's time zone (a naive datetime is taken as local already)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%H:%M")


def _split_url(match: str) -> tuple[str, str]:
    """A matched URL less the punctuation that ends the sentence around it."""
    url = match
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # https://en.wikipedia.org/wiki/Foo_(bar)
        url = url[:-1]
    return url, match[len(url):]


def linkify(text: str) -> str:
    """``text`` as HTML: everything escaped, http(s) and www. URLs as anchors."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url, rest = _split_url(match.group())
        if not url or url.lower() in ("http://", "https://", "www."):
            continue
        href = url if url.lower().startswith(("http://", "https://")) else "https://" + url
        parts.append(html.escape(text[last:match.start()]))
        parts.append(f'<a href="{html.escape(href, quote=True)}">{html.escape(url)}</a>')
        parts.append(html.escape(rest))
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def is_openable(url: QUrl) -> bool:
    return url.isValid() and url.scheme().lower() in ("http", "https")


class StickyScroll:
    """Keeps a scroll bar at the bottom while the user has not scrolled up."""

    def __init__(self, bar: QScrollBar, slack: int = 4) -> None:
        self._bar = bar
        self._slack = slack
        self.at_bottom = True
        bar.valueChanged.connect(self._on_value)
        bar.rangeChanged.connect(self._on_range)

    def _on_value(self, value: int) -> None:
        self.at_bottom = value >= self._bar.maximum() - self._slack

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self.at_bottom:
            self._bar.setValue(maximum)

    def to_bottom(self) -> None:
        self.at_bottom = True
        self._bar.setValue(self._bar.maximum())


class ChatInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter breaks the line, at most ``max_length``
    characters (longer input, typed or pasted, is cut back)."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None,
                 max_length: int = MAX_MESSAGE_LENGTH) -> None:
        super().__init__(parent)
        self.max_length = max_length
        self.setTabChangesFocus(True)
        self.setPlaceholderText(self.tr("Write a message"))
        self.setAccessibleName(self.tr("Message"))
        self.setAccessibleDescription(
            self.tr("Enter sends the message, Shift+Enter starts a new line"))
        self.textChanged.connect(self._enforce_limit)

    def length(self) -> int:
        return len(self.toPlainText())

    def sizeHint(self) -> QSize:
        lines = 3
        height = self.fontMetrics().lineSpacing() * lines + 2 * self.frameWidth() + 8
        return QSize(super().sizeHint().width(), height)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.textCursor().insertText("\n")
            else:
                self.submitted.emit()
            return
        super().keyPressEvent(event)

    def _enforce_limit(self) -> None:
        text = self.toPlainText()
        excess = len(text) - self.max_length
        if excess <= 0:
            return
        # What was just typed or pasted ends at the cursor: drop its tail, or else the end.
        end = len(_from_utf16(text, self.textCursor().position()))
        start = end - excess
        if start < 0:
            start, end = self.max_length, len(text)
        cut = QTextCursor(self.document())
        cut.setPosition(_utf16_length(text[:start]))
        cut.setPosition(_utf16_length(text[:end]), QTextCursor.MoveMode.KeepAnchor)
        cut.removeSelectedText()


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _from_utf16(text: str, position: int) -> str:
    """The prefix of ``text`` that ends at Qt's (UTF-16) ``position``."""
    return text.encode("utf-16-le")[:2 * position].decode("utf-16-le", errors="ignore")


class ChatView(QTextBrowser):
    """The conversation; links open in the user's browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.document().setDocumentMargin(8)
        self.anchorClicked.connect(self._open)

    @staticmethod
    def _open(url: QUrl) -> None:
        if is_openable(url):
            QDesktopServices.openUrl(url)


class ChatPanel(QWidget):
    """Chat messages and the message box.

    ``set_open`` says whether the user can see the panel. Messages from others that arrive
    while it is closed count as unread (``unread_changed``) and are passed on as ``notify``
    for a toast and a sound.
    """

    send_requested = Signal(str)
    unread_changed = Signal(int)
    notify = Signal(object)  # ChatEntry

    def __init__(self, parent: QWidget | None = None, *,
                 max_length: int = MAX_MESSAGE_LENGTH,
                 counter_threshold: int = COUNTER_THRESHOLD) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Chat"))
        self._open = False
        self._unread = 0
        self._last_group: tuple[str, bool] | None = None
        self._entries: list[ChatEntry] = []
        self._ids: set[str] = set()
        self._group_count = 0
        self._counter_threshold = counter_threshold

        self._view = ChatView(self)
        self._view.setAccessibleName(self.tr("Messages"))
        self._view.setAccessibleDescription(
            self.tr("Messages are shown here. Links open in your web browser."))
        self._sticky = StickyScroll(self._view.verticalScrollBar())
        self._view.verticalScrollBar().valueChanged.connect(self._on_scrolled)

        self._empty = QLabel(self.tr("No messages yet. Messages are not kept after the "
                                     "meeting."), self)
        self._empty.setWordWrap(True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._jump = QPushButton(self.tr("New messages below"), self)
        self._jump.setAccessibleName(self.tr("Jump to the newest messages"))
        self._jump.clicked.connect(self.scroll_to_bottom)
        self._jump.hide()

        self._input = ChatInput(self, max_length)
        self._input.submitted.connect(self.send)
        self._input.textChanged.connect(self._on_text_changed)

        self._counter = QLabel(self)
        self._counter.setAccessibleName(self.tr("Characters used"))
        self._counter.hide()

        self._send = QPushButton(self.tr("Send"), self)
        self._send.setAccessibleName(self.tr("Send message"))
        self._send.setEnabled(False)
        self._send.clicked.connect(self.send)

        footer = QHBoxLayout()
        footer.addWidget(self._counter)
        footer.addStretch(1)
        footer.addWidget(self._send)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view, 1)
        layout.addWidget(self._empty, 1)
        layout.addWidget(self._jump, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self._input)
        layout.addLayout(footer)
        self._view.hide()
        self._input.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusProxy(self._input)

    # -- state -----------------------------------------------------------------------------

    def set_open(self, is_open: bool) -> None:
        self._open = is_open
        if is_open:
            self._set_unread(0)

    def is_open(self) -> bool:
        return self._open

    def unread_count(self) -> int:
        return self._unread

    def messages(self) -> tuple[ChatEntry, ...]:
        return tuple(self._entries)

    def group_count(self) -> int:
        """How many sender headers the view shows."""
        return self._group_count

    def document(self) -> QTextDocument:
        return self._view.document()

    def input(self) -> ChatInput:
        return self._input

    def counter_text(self) -> str:
        """The "1990 / 2000" counter, "" while it is hidden."""
        return self._counter.text() if not self._counter.isHidden() else ""

    def clear(self) -> None:
        """Forget the conversation (a new meeting); the draft stays."""
        self._entries.clear()
        self._ids.clear()
        self._view.clear()
        self._last_group = None
        self._group_count = 0
        self._view.hide()
        self._empty.show()
        self._jump.hide()
        self._set_unread(0)

    # -- messages --------------------------------------------------------------------------

    def add_message(self, entry: ChatEntry) -> None:
        """Show a message; one already shown (same id) is ignored."""
        if entry.id in self._ids:
            return
        self._ids.add(entry.id)
        self._entries.append(entry)
        follow = self._sticky.at_bottom or entry.is_local
        self._append_html(entry)
        self._empty.hide()
        self._view.show()
        if follow:
            self.scroll_to_bottom()
        else:
            self._jump.show()
        if entry.is_local:
            return
        if self._open:
            announce(self, self.tr("{name}: {text}").format(name=self._sender(entry),
                                                           text=entry.text))
        else:
            self._set_unread(self._unread + 1)
            self.notify.emit(entry)

    def scroll_to_bottom(self) -> None:
        self._sticky.to_bottom()
        self._jump.hide()

    def _sender(self, entry: ChatEntry) -> str:
        return self.tr("You") if entry.is_local else entry.sender_name or entry.sender_identity

    def _append_html(self, entry: ChatEntry) -> None:
        group = (entry.sender_identity, entry.is_local)
        parts: list[str] = []
        new_group = group != self._last_group
        if new_group:
            self._last_group = group
            self._group_count += 1
            name = html.escape(self._sender(entry))
            time = html.escape(local_time(entry.timestamp))
            parts.append(f'<p style="margin:0px;"><b>{name}</b>&nbsp;&nbsp;'
                         f'<span style="font-size:small;">{time}</span></p>')
        parts.append(f'<p style="margin:0px; white-space:pre-wrap;">{linkify(entry.text)}</p>')
        document = self._view.document()
        cursor = QTextCursor(document)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not document.isEmpty():
            block = QTextBlockFormat()
            block.setTopMargin(12 if new_group else 4)
            cursor.insertBlock(block)
        cursor.insertHtml("".join(parts))

    def _on_scrolled(self, _value: int) -> None:
        if self._sticky.at_bottom:
            self._jump.hide()

    # -- unread ----------------------------------------------------------------------------

    def _set_unread(self, count: int) -> None:
        if count != self._unread:
            self._unread = count
            self.unread_changed.emit(count)

    # -- sending ---------------------------------------------------------------------------

    def send(self) -> None:
        text = self._input.toPlainText().strip()
        if not text:
            return
        self.send_requested.emit(text)
        self._input.clear()

    def _on_text_changed(self) -> None:
        length = self._input.length()
        self._send.setEnabled(bool(self._input.toPlainText().strip()))
        limit = self._input.max_length
        if length >= self._counter_threshold:
            self._counter.setText(self.tr("{count} / {limit}").format(count=length, limit=limit))
            self._counter.setAccessibleDescription(
                self.tr("{left} characters left").format(left=limit - length))
            self._counter.show()
        else:
            self._counter.hide()
