"""The participants side panel: raised hands first (in the order they were raised), then
everyone in the meeting, with a search field.

Each row is focusable (Up/Down/Home/End move between rows, Tab reaches its buttons) and has
an accessible name that says everything the row shows. The panel only emits intents:
``pin_requested``, ``unpin_requested``, ``rename_requested``, ``lower_hand_requested``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.call_state import CallSnapshot, ParticipantState

MAX_NAME_LENGTH = 255
RAISED = "raised"
MEETING = "meeting"

_AVATAR_COLOURS = ("#5b4fc4", "#00756a", "#a4376b", "#8a5a00", "#2a62b8", "#6b6b00",
                   "#b03a2e", "#4a5560")


def initials(name: str) -> str:
    """The first letters of the first and last words ("Jean-Luc Picard" → "JP")."""
    letters = [next((c for c in word if c.isalnum()), "") for word in name.split()]
    letters = [c for c in letters if c]
    if not letters:
        return "?"
    return (letters[0] + (letters[-1] if len(letters) > 1 else "")).upper()


def fold(text: str) -> str:
    """Case- and accent-insensitive form for searching ("Hélène" matches "helene")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Avatar(QLabel):
    """Initials on a colour chosen from the identity (decoration only: the name is beside)."""

    def __init__(self, parent: QWidget | None = None, size: int = 32) -> None:
        super().__init__(parent)
        self.setFixedSize(QSize(size, size))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._size = size

    def set_person(self, identity: str, name: str) -> None:
        digest = hashlib.sha1(identity.encode("utf-8")).digest()
        colour = _AVATAR_COLOURS[digest[0] % len(_AVATAR_COLOURS)]
        self.setText(initials(name))
        self.setStyleSheet(f"QLabel {{ background-color: {colour}; color: white; font-weight: bold;"
                           f" border-radius: {self._size // 2}px; }}")


class NameEdit(QLineEdit):
    """Inline rename: Enter commits a non-empty name, Escape or leaving cancels."""

    committed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaxLength(MAX_NAME_LENGTH)
        self.setAccessibleName(self.tr("Your name"))
        self.setAccessibleDescription(self.tr("Enter saves the new name, Escape cancels"))
        self.returnPressed.connect(self._commit)

    def _commit(self) -> None:
        name = self.text().strip()
        if name:
            self.committed.emit(name)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self.isVisible() and event.reason() != Qt.FocusReason.PopupFocusReason:
            self.cancelled.emit()


class ParticipantRow(QFrame):
    """One participant in one section of the panel."""

    pin_clicked = Signal(str, bool)  # identity, pin (True) or unpin (False)
    rename_committed = Signal(str)
    lower_hand_clicked = Signal()

    def __init__(self, identity: str, section: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.identity = identity
        self.section = section
        self.navigate: Callable[[ParticipantRow, int], None] | None = None
        self.participant: ParticipantState | None = None
        self.pinned = False
        self.setObjectName("participantRow")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet("#participantRow { border: 2px solid transparent; border-radius: 4px; }"
                           " #participantRow:focus { border: 2px solid palette(highlight); }")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        self._number = QLabel(self)
        self._avatar = Avatar(self)
        self._name = QLabel(self)
        self._name.setTextFormat(Qt.TextFormat.PlainText)
        self._name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._name.setMinimumWidth(40)
        self._edit = NameEdit(self)
        self._edit.hide()
        self._edit.committed.connect(self._on_committed)
        self._edit.cancelled.connect(self.cancel_rename)
        self._you = QLabel(self.tr("(you)"), self)
        self._host = QLabel(self.tr("Host"), self)
        self._hand = QLabel("\N{RAISED HAND}", self)
        self._hand.setToolTip(self.tr("Hand raised"))
        self._mic = QLabel(self)

        self._lower = self._button(self.tr("Lower hand"))
        self._lower.clicked.connect(self.lower_hand_clicked.emit)
        self._rename = self._button(self.tr("Rename"))
        self._rename.clicked.connect(self.start_rename)
        self._pin = self._button(self.tr("Pin"))
        self._pin.clicked.connect(lambda: self.pin_clicked.emit(self.identity, not self.pinned))

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for widget in (self._number, self._avatar):
            layout.addWidget(widget)
        layout.addWidget(self._name, 1)
        layout.addWidget(self._edit, 1)
        for widget in (self._you, self._host, self._hand, self._mic, self._lower, self._rename,
                       self._pin):
            layout.addWidget(widget)

    def _button(self, text: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return button

    # -- content ---------------------------------------------------------------------------

    def update_state(self, participant: ParticipantState, number: int | None,
                     pinned: bool) -> None:
        self.participant = participant
        self.pinned = pinned
        name = participant.display_name
        local = participant.is_local
        raised = participant.hand_raised_at is not None
        self._number.setText(self.tr("{number}.").format(number=number) if number else "")
        self._number.setVisible(number is not None)
        self._avatar.set_person(participant.identity, name)
        self._name.setText(name)
        self._name.setToolTip(name)
        self._you.setVisible(local)
        self._host.setVisible(participant.is_admin)
        self._hand.setVisible(raised and self.section == MEETING)
        muted = participant.microphone_muted
        mic_text = self.tr("Microphone off") if muted else self.tr("Microphone on")
        icon = QStyle.StandardPixmap.SP_MediaVolumeMuted if muted else \
            QStyle.StandardPixmap.SP_MediaVolume
        self._mic.setPixmap(self.style().standardIcon(icon).pixmap(QSize(16, 16)))
        self._mic.setToolTip(mic_text)
        self._mic.setAccessibleName(mic_text)
        self._lower.setVisible(local and raised and self.section == RAISED)
        self._lower.setAccessibleName(self.tr("Lower your hand"))
        self._rename.setVisible(local and self.section == MEETING)
        self._rename.setAccessibleName(self.tr("Change your name"))
        self._pin.setText(self.tr("Unpin") if pinned else self.tr("Pin"))
        self._pin.setAccessibleName(
            (self.tr("Unpin {name}") if pinned else self.tr("Pin {name}")).format(name=name))
        self.setAccessibleName(self._describe(participant, number, pinned))

    def _describe(self, participant: ParticipantState, number: int | None,
                  pinned: bool) -> str:
        parts = [participant.display_name]
        if participant.is_local:
            parts[0] = self.tr("{name} (you)").format(name=parts[0])
        if number is not None:
            parts.insert(0, self.tr("Hand {number}").format(number=number))
        if participant.is_admin:
            parts.append(self.tr("host"))
        parts.append(self.tr("microphone off") if participant.microphone_muted
                     else self.tr("microphone on"))
        if participant.hand_raised_at is not None and number is None:
            parts.append(self.tr("hand raised"))
        if pinned:
            parts.append(self.tr("pinned"))
        return self.tr(", ").join(parts)

    def display_name(self) -> str:
        return self._name.text()

    def buttons(self) -> list[QToolButton]:
        return [b for b in (self._lower, self._rename, self._pin) if not b.isHidden()]

    def pin_button(self) -> QToolButton:
        return self._pin

    def rename_button(self) -> QToolButton:
        return self._rename

    def lower_hand_button(self) -> QToolButton:
        return self._lower

    # -- rename ----------------------------------------------------------------------------

    def is_renaming(self) -> bool:
        return not self._edit.isHidden()

    def name_edit(self) -> NameEdit:
        return self._edit

    def start_rename(self) -> None:
        self._edit.setText(self._name.text())
        self._edit.selectAll()
        self._name.hide()
        self._edit.show()
        self._edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def cancel_rename(self) -> None:
        if self._edit.isHidden():
            return
        had_focus = self._edit.hasFocus()
        self._edit.hide()
        self._name.show()
        if had_focus:
            self._rename.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_committed(self, name: str) -> None:
        self.cancel_rename()
        if name != (self.participant.display_name if self.participant else ""):
            self.rename_committed.emit(name)

    # -- keys ------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_Home: -10**6,
                 Qt.Key.Key_End: 10**6}
        step = steps.get(Qt.Key(event.key()))
        if step is not None and self.navigate is not None:
            self.navigate(self, step)
            return
        super().keyPressEvent(event)


class ParticipantsPanel(QWidget):
    """Raised hands, then everyone, from the latest ``CallSnapshot``."""

    pin_requested = Signal(str)
    unpin_requested = Signal(str)
    rename_requested = Signal(str)
    lower_hand_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Participants"))
        self._rows: dict[tuple[str, str], ParticipantRow] = {}
        self._order: list[ParticipantRow] = []
        self._view_key: tuple[object, ...] | None = None
        self._snapshot = CallSnapshot()
        self._pinned: str | None = None

        self._search = QLineEdit(self)
        self._search.setPlaceholderText(self.tr("Search participants"))
        self._search.setAccessibleName(self.tr("Search participants"))
        self._search.setClearButtonEnabled(True)
        self._search.textChanged.connect(self._apply_filter)

        self._content = QWidget()
        self._list = QVBoxLayout(self._content)
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.setSpacing(2)
        self._raised_header = self._header()
        self._meeting_header = self._header()
        self._no_match = QLabel(self._content)
        self._no_match.setWordWrap(True)
        self._no_match.hide()

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._content)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._scroll = scroll

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._search)
        layout.addWidget(scroll, 1)
        self._relayout()

    def _header(self) -> QLabel:
        label = QLabel(self._content)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    # -- input -----------------------------------------------------------------------------

    def set_snapshot(self, snapshot: CallSnapshot) -> None:
        self._snapshot = snapshot
        key = (self._pinned, *((p.identity, p.display_name, p.is_local, p.microphone_muted,
                                p.hand_raised_at, p.is_admin) for p in snapshot.participants))
        if key == self._view_key:
            return  # only levels or speaking changed: nothing the panel shows
        self._view_key = key
        self._rebuild()

    def set_pinned(self, identity: str | None) -> None:
        """Which participant the stage has pinned (the row's button then says Unpin)."""
        if identity != self._pinned:
            self._pinned = identity
            self._view_key = None
            self.set_snapshot(self._snapshot)

    def search_field(self) -> QLineEdit:
        return self._search

    # -- what the user sees ----------------------------------------------------------------

    def row(self, identity: str, section: str = MEETING) -> ParticipantRow | None:
        return self._rows.get((section, identity))

    def visible_rows(self) -> list[ParticipantRow]:
        return [row for row in self._order if not row.isHidden()]

    def raised_hand_names(self) -> list[str]:
        return [r.display_name() for r in self.visible_rows() if r.section == RAISED]

    def meeting_names(self) -> list[str]:
        return [r.display_name() for r in self.visible_rows() if r.section == MEETING]

    def section_titles(self) -> list[str]:
        return [h.text() for h in (self._raised_header, self._meeting_header)
                if not h.isHidden()]

    # -- building --------------------------------------------------------------------------

    def _rebuild(self) -> None:
        snapshot = self._snapshot
        wanted: list[tuple[str, ParticipantState, int | None]] = [
            (RAISED, p, number) for number, p in enumerate(snapshot.raised_hands, start=1)]
        wanted += [(MEETING, p, None) for p in snapshot.participants]
        order: list[ParticipantRow] = []
        keep: set[tuple[str, str]] = set()
        for section, participant, number in wanted:
            key = (section, participant.identity)
            if key in keep:
                continue  # a duplicated identity: show it once
            keep.add(key)
            row = self._rows.get(key) or self._new_row(participant.identity, section)
            row.update_state(participant, number, participant.identity == self._pinned)
            order.append(row)
        for key in [k for k in self._rows if k not in keep]:
            row = self._rows.pop(key)
            row.hide()
            row.deleteLater()
        self._order = order
        self._raised_header.setText(self.tr("Raised hands"))
        self._meeting_header.setText(
            self.tr("In the meeting ({count})").format(count=len(snapshot.participants)))
        self._relayout()

    def _new_row(self, identity: str, section: str) -> ParticipantRow:
        row = ParticipantRow(identity, section, self._content)
        row.navigate = self._navigate
        row.pin_clicked.connect(self._on_pin)
        row.rename_committed.connect(self.rename_requested.emit)
        row.lower_hand_clicked.connect(self.lower_hand_requested.emit)
        self._rows[(section, identity)] = row
        return row

    def _relayout(self) -> None:
        while self._list.count():
            self._list.takeAt(0)
        self._list.addWidget(self._raised_header)
        for row in self._order:
            if row.section == RAISED:
                self._list.addWidget(row)
        self._list.addWidget(self._meeting_header)
        for row in self._order:
            if row.section == MEETING:
                self._list.addWidget(row)
        self._list.addWidget(self._no_match)
        self._list.addStretch(1)
        previous: QWidget = self._search
        for row in self._order:
            for widget in (row, *row.buttons()):
                QWidget.setTabOrder(previous, widget)
                previous = widget
        self._apply_filter()

    def _apply_filter(self) -> None:
        query = fold(self._search.text().strip())
        for row in self._order:
            name = row.participant.display_name if row.participant else ""
            row.setVisible(not query or query in fold(name))
        visible = self.visible_rows()
        self._raised_header.setVisible(any(r.section == RAISED for r in visible))
        self._meeting_header.setVisible(bool(self._snapshot.participants))
        self._no_match.setVisible(bool(query) and not visible)
        self._no_match.setText(self.tr("No participant matches “{query}”.").format(
            query=self._search.text().strip()))

    # -- intents ---------------------------------------------------------------------------

    def _on_pin(self, identity: str, pin: bool) -> None:
        (self.pin_requested if pin else self.unpin_requested).emit(identity)

    def _navigate(self, row: ParticipantRow, step: int) -> None:
        visible = self.visible_rows()
        if row not in visible:
            return
        index = min(len(visible) - 1, max(0, visible.index(row) + step))
        target = visible[index]
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll.ensureWidgetVisible(target)

