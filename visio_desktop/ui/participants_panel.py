"""The participants side panel: people waiting to join (hosts only), raised hands (in the
order they were raised), then everyone in the meeting, with a search field.

Each row is focusable (Up/Down/Home/End move between rows, Tab reaches its buttons) and has
an accessible name that says everything the row shows. The panel only emits intents:
``pin_requested``, ``unpin_requested``, ``rename_requested``, ``lower_hand_requested`` (our
own hand) and, for a host (:meth:`ParticipantsPanel.set_admin`), ``mute_requested``,
``mute_all_requested``, ``remove_requested`` (after an inline confirmation),
``lower_hand_for_requested``, ``lower_all_hands_requested``, ``admit_requested``,
``role_change_requested`` (identity, ``"administrator"`` or ``"member"``) and
``publish_sources_changed`` (the "Meeting settings" section: what participants who are not
administrators may publish, as a list of source names).

"Make administrator" / "Remove administrator rights" are offered, as in Visio's web app
(``ParticipantMenu.tsx``), only for a participant signed in with an account
(``ParticipantState.is_authenticated``, the ``is_authenticated`` attribute) who is not an owner
(``ParticipantState.room_role``); both fields are read with a default, so rows without them
never offer a role change (meetings on our embedded server have no accounts).
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.call_state import CallSnapshot, ParticipantState
from visio_desktop.ui.icons import icon

MAX_NAME_LENGTH = 255
WAITING = "waiting"
RAISED = "raised"
MEETING = "meeting"
ADMINISTRATOR = "administrator"
MEMBER = "member"
OWNER = "owner"
#: the checkboxes of "Meeting settings" → the sources each stands for (LiveKit's names)
MICROPHONE_SOURCES = ("microphone",)
CAMERA_SOURCES = ("camera",)
SCREEN_SOURCES = ("screen_share", "screen_share_audio")
ALL_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio")


def room_role(participant: ParticipantState) -> str:
    """``owner``, ``administrator`` or ``member`` (``room_role`` when the state has it)."""
    role = str(getattr(participant, "room_role", "") or "")
    if role:
        return role
    return ADMINISTRATOR if participant.is_admin else MEMBER


def may_change_role(participant: ParticipantState) -> bool:
    """Whether a host may promote or demote this participant (Visio: an account, not an
    owner, not ourselves)."""
    return (not participant.is_local and bool(getattr(participant, "is_authenticated", False))
            and room_role(participant) != OWNER)

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


# arrow keys move between the rows of a section (Home/End: to its ends)
ROW_STEPS = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_Home: -10**6,
             Qt.Key.Key_End: 10**6}


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
    lower_hand_clicked = Signal()  # our own hand
    lower_hand_for_clicked = Signal(str)  # someone else's (hosts)
    mute_clicked = Signal(str)
    remove_clicked = Signal(str)
    role_change_clicked = Signal(str, str)  # identity, "administrator" or "member"

    def __init__(self, identity: str, section: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.identity = identity
        self.section = section
        self.navigate: Callable[[QWidget, int], None] | None = None
        self.participant: ParticipantState | None = None
        self.pinned = False
        self.admin = False
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
        self._lower.clicked.connect(self._on_lower)
        self._rename = self._button(self.tr("Rename"))
        self._rename.clicked.connect(self.start_rename)
        self._pin = self._button(self.tr("Pin"))
        self._pin.clicked.connect(lambda: self.pin_clicked.emit(self.identity, not self.pinned))

        # a host's actions on someone else, in a menu (Space or Enter opens it)
        self._more = self._button(self.tr("More actions"))
        self._more.setIcon(icon("more"))
        self._more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self._more)
        self._mute_action = self._menu.addAction(self.tr("Mute"))
        self._mute_action.triggered.connect(lambda: self.mute_clicked.emit(self.identity))
        self._lower_action = self._menu.addAction(self.tr("Lower hand"))
        self._lower_action.triggered.connect(
            lambda: self.lower_hand_for_clicked.emit(self.identity))
        self._remove_action = self._menu.addAction(self.tr("Remove from the meeting"))
        self._remove_action.triggered.connect(lambda: self.remove_clicked.emit(self.identity))
        self._promote_action = self._menu.addAction(self.tr("Make administrator"))
        self._promote_action.triggered.connect(
            lambda: self.role_change_clicked.emit(self.identity, ADMINISTRATOR))
        self._demote_action = self._menu.addAction(self.tr("Remove administrator rights"))
        self._demote_action.triggered.connect(
            lambda: self.role_change_clicked.emit(self.identity, MEMBER))
        self._more.setMenu(self._menu)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for widget in (self._number, self._avatar):
            layout.addWidget(widget)
        layout.addWidget(self._name, 1)
        layout.addWidget(self._edit, 1)
        for widget in (self._you, self._host, self._hand, self._mic, self._lower, self._rename,
                       self._pin, self._more):
            layout.addWidget(widget)

    def _button(self, text: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return button

    # -- content ---------------------------------------------------------------------------

    def update_state(self, participant: ParticipantState, number: int | None,
                     pinned: bool, admin: bool = False) -> None:
        self.participant = participant
        self.pinned = pinned
        self.admin = admin
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
        self._lower.setVisible((local or admin) and raised and self.section == RAISED)
        self._lower.setAccessibleName(self.tr("Lower your hand") if local else
                                      self.tr("Lower {name}'s hand").format(name=name))
        self._rename.setVisible(local and self.section == MEETING)
        self._rename.setAccessibleName(self.tr("Change your name"))
        self._pin.setText(self.tr("Unpin") if pinned else self.tr("Pin"))
        self._pin.setAccessibleName(
            (self.tr("Unpin {name}") if pinned else self.tr("Pin {name}")).format(name=name))
        self._more.setVisible(admin and not local and self.section == MEETING)
        self._more.setAccessibleName(self.tr("More actions for {name}").format(name=name))
        self._more.setToolTip(self.tr("More actions for {name}").format(name=name))
        self._mute_action.setVisible(not participant.microphone_muted)
        self._lower_action.setVisible(raised)
        changeable = may_change_role(participant)
        administrator = room_role(participant) == ADMINISTRATOR
        self._promote_action.setVisible(changeable and not administrator)
        self._promote_action.setToolTip(
            self.tr("Make {name} an administrator of the meeting").format(name=name))
        self._demote_action.setVisible(changeable and administrator)
        self._demote_action.setToolTip(
            self.tr("Remove {name}'s administrator rights").format(name=name))
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
        return [b for b in (self._lower, self._rename, self._pin, self._more)
                if not b.isHidden()]

    def pin_button(self) -> QToolButton:
        return self._pin

    def rename_button(self) -> QToolButton:
        return self._rename

    def lower_hand_button(self) -> QToolButton:
        return self._lower

    def actions_button(self) -> QToolButton:
        """The host's menu of actions on this participant (hidden for others)."""
        return self._more

    def admin_actions(self) -> list[str]:
        """The texts of the host's menu entries offered now."""
        return [a.text() for a in self._menu.actions() if a.isVisible()] \
            if not self._more.isHidden() else []

    def trigger_admin_action(self, index: int) -> None:
        """Choose the ``index``-th visible entry of the host's menu (tests, automation)."""
        [a for a in self._menu.actions() if a.isVisible()][index].trigger()

    def _on_lower(self) -> None:
        if self.participant is not None and self.participant.is_local:
            self.lower_hand_clicked.emit()
        else:
            self.lower_hand_for_clicked.emit(self.identity)

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
        step = ROW_STEPS.get(Qt.Key(event.key()))
        if step is not None and self.navigate is not None:
            self.navigate(self, step)
            return
        super().keyPressEvent(event)


class WaitingRow(QFrame):
    """Someone asking to join (hosts only): Admit or Deny."""

    decided = Signal(str, bool)  # participant id, admit (True) or deny (False)

    def __init__(self, participant_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.participant_id = participant_id
        self.section = WAITING
        self.navigate: Callable[[QWidget, int], None] | None = None
        self.setObjectName("waitingRow")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet("#waitingRow { border: 2px solid transparent; border-radius: 4px; }"
                           " #waitingRow:focus { border: 2px solid palette(highlight); }")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._avatar = Avatar(self)
        self._name = QLabel(self)
        self._name.setTextFormat(Qt.TextFormat.PlainText)
        self._name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._name.setMinimumWidth(40)
        self._admit = QPushButton(self.tr("Admit"), self)
        self._admit.clicked.connect(lambda: self.decided.emit(self.participant_id, True))
        self._deny = QPushButton(self.tr("Deny"), self)
        self._deny.clicked.connect(lambda: self.decided.emit(self.participant_id, False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self._avatar)
        layout.addWidget(self._name, 1)
        layout.addWidget(self._admit)
        layout.addWidget(self._deny)

    def set_name(self, name: str) -> None:
        name = name or self.tr("Anonymous")
        self._avatar.set_person(self.participant_id, name)
        self._name.setText(name)
        self._name.setToolTip(name)
        self._admit.setAccessibleName(self.tr("Admit {name}").format(name=name))
        self._deny.setAccessibleName(self.tr("Deny {name}").format(name=name))
        self.setAccessibleName(self.tr("{name}, waiting to join").format(name=name))

    def display_name(self) -> str:
        return self._name.text()

    def buttons(self) -> list[QPushButton]:
        return [self._admit, self._deny]

    def admit_button(self) -> QPushButton:
        return self._admit

    def deny_button(self) -> QPushButton:
        return self._deny

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = ROW_STEPS.get(Qt.Key(event.key()))
        if step is not None and self.navigate is not None:
            self.navigate(self, step)
            return
        super().keyPressEvent(event)


class RemoveConfirmation(QFrame):
    """"Remove Bob from the meeting? [Remove] [Cancel]", shown under Bob's row: removing
    someone takes a second, deliberate step, without a modal dialog. Escape cancels."""

    confirmed = Signal(str)  # identity
    cancelled = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.identity = ""
        self.setObjectName("removeConfirmation")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Confirm removal"))
        self._question = QLabel(self)
        self._question.setTextFormat(Qt.TextFormat.PlainText)
        self._question.setWordWrap(True)
        self._remove = QPushButton(self.tr("Remove"), self)
        self._remove.clicked.connect(lambda: self.confirmed.emit(self.identity))
        self._cancel = QPushButton(self.tr("Cancel"), self)
        self._cancel.clicked.connect(lambda: self.cancelled.emit(self.identity))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._remove)
        buttons.addWidget(self._cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self._question)
        layout.addLayout(buttons)
        self.hide()

    def ask(self, identity: str, name: str) -> None:
        self.identity = identity
        question = self.tr("Remove {name} from the meeting?").format(name=name)
        self._question.setText(question)
        self.setAccessibleDescription(question)
        self._remove.setAccessibleName(self.tr("Remove {name}").format(name=name))
        self._cancel.setAccessibleName(self.tr("Cancel removing {name}").format(name=name))
        self.show()
        # the safe choice has the focus: Enter right away keeps Bob in the meeting
        self._cancel.setFocus(Qt.FocusReason.OtherFocusReason)

    def question(self) -> str:
        return self._question.text()

    def buttons(self) -> list[QPushButton]:
        return [self._remove, self._cancel]

    def remove_button(self) -> QPushButton:
        return self._remove

    def cancel_button(self) -> QPushButton:
        return self._cancel

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit(self.identity)
            return
        super().keyPressEvent(event)


class ParticipantsPanel(QWidget):
    """Waiting people (hosts), raised hands, then everyone, from the latest ``CallSnapshot``."""

    pin_requested = Signal(str)
    unpin_requested = Signal(str)
    rename_requested = Signal(str)
    lower_hand_requested = Signal()  # our own hand
    # a host's intents (shown after set_admin(True))
    mute_requested = Signal(str)  # identity
    mute_all_requested = Signal()
    remove_requested = Signal(str)  # identity, once confirmed
    lower_hand_for_requested = Signal(str)  # identity
    lower_all_hands_requested = Signal()
    admit_requested = Signal(str, bool)  # waiting participant id, admit (True) / deny (False)
    role_change_requested = Signal(str, str)  # identity, "administrator" or "member"
    publish_sources_changed = Signal(list)  # what non-administrators may publish (names)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Participants"))
        self._rows: dict[tuple[str, str], ParticipantRow] = {}
        self._order: list[ParticipantRow] = []
        self._waiting_rows: dict[str, WaitingRow] = {}
        self._waiting_order: list[WaitingRow] = []
        self._view_key: tuple[object, ...] | None = None
        self._snapshot = CallSnapshot()
        self._pinned: str | None = None
        self._admin = False

        self._search = QLineEdit(self)
        self._search.setPlaceholderText(self.tr("Search participants"))
        self._search.setAccessibleName(self.tr("Search participants"))
        self._search.setClearButtonEnabled(True)
        self._search.textChanged.connect(self._apply_filter)

        self._content = QWidget()
        self._list = QVBoxLayout(self._content)
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.setSpacing(2)
        self._waiting_header = self._header()
        self._raised_header = self._header()
        self._meeting_header = self._header()
        self._admit_all = self._section_button(self.tr("Admit all"))
        self._admit_all.clicked.connect(self._on_admit_all)
        self._lower_all = self._section_button(self.tr("Lower all hands"))
        self._lower_all.clicked.connect(self.lower_all_hands_requested.emit)
        self._mute_all = self._section_button(self.tr("Mute everyone"))
        self._mute_all.setIcon(icon("mic-off"))
        self._mute_all.clicked.connect(self.mute_all_requested.emit)
        self._confirm = RemoveConfirmation(self._content)
        self._confirm.confirmed.connect(self._on_remove_confirmed)
        self._confirm.cancelled.connect(self._on_remove_cancelled)
        self._no_match = QLabel(self._content)
        self._no_match.setWordWrap(True)
        self._no_match.hide()

        # a host's meeting settings: what participants who are not administrators may publish
        self._settings = QGroupBox(self.tr("Meeting settings"), self)
        self._settings.setAccessibleName(self.tr("Meeting settings"))
        self._may = QLabel(self.tr("Participants may:"), self._settings)
        self._may_microphone = self._setting(self.tr("Turn on their microphone"),
                                             self.tr("Participants may turn on their microphone"))
        self._may_camera = self._setting(self.tr("Turn on their camera"),
                                         self.tr("Participants may turn on their camera"))
        self._may_screen = self._setting(self.tr("Share their screen"),
                                         self.tr("Participants may share their screen"))
        settings = QVBoxLayout(self._settings)
        settings.addWidget(self._may)
        for box in self._setting_boxes():
            settings.addWidget(box)
        self._settings.hide()

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
        layout.addWidget(self._settings)
        self._relayout()

    def _setting(self, text: str, accessible: str) -> QCheckBox:
        box = QCheckBox(text, self)
        box.setAccessibleName(accessible)
        box.setChecked(True)
        box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        box.clicked.connect(self._on_setting_clicked)  # the user's clicks only
        return box

    def _setting_boxes(self) -> list[QCheckBox]:
        return [self._may_microphone, self._may_camera, self._may_screen]

    def _header(self) -> QLabel:
        label = QLabel(self._content)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    def _section_button(self, text: str) -> QPushButton:
        button = QPushButton(text, self._content)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.hide()
        return button

    # -- input -----------------------------------------------------------------------------

    def set_snapshot(self, snapshot: CallSnapshot) -> None:
        self._snapshot = snapshot
        key = (self._pinned, self._admin,
               *((p.identity, p.display_name, p.is_local, p.microphone_muted,
                  p.hand_raised_at, p.is_admin, room_role(p),
                  getattr(p, "is_authenticated", False)) for p in snapshot.participants))
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

    def set_admin(self, admin: bool) -> None:
        """Show a host's controls: the actions menu on others' rows, "Mute everyone",
        "Lower all hands", lowering others' hands, and the waiting room."""
        if admin != self._admin:
            self._admin = admin
            if not admin:
                self._confirm.hide()
            self._view_key = None
            self.set_snapshot(self._snapshot)

    def is_admin(self) -> bool:
        return self._admin

    def set_publish_sources(self, sources: Iterable[str] | None) -> None:
        """Show what participants who are not administrators may publish now (``None``:
        everything); emits nothing. The screen counts as allowed when both screen sources
        are, as in the web app."""
        allowed = set(ALL_SOURCES if sources is None else sources)
        self._may_microphone.setChecked(set(MICROPHONE_SOURCES) <= allowed)
        self._may_camera.setChecked(set(CAMERA_SOURCES) <= allowed)
        self._may_screen.setChecked(set(SCREEN_SOURCES) <= allowed)

    def publish_sources(self) -> list[str]:
        """The sources the checkboxes allow, in LiveKit's default order."""
        chosen: set[str] = set()
        for box, names in ((self._may_microphone, MICROPHONE_SOURCES),
                           (self._may_camera, CAMERA_SOURCES),
                           (self._may_screen, SCREEN_SOURCES)):
            if box.isChecked():
                chosen.update(names)
        return [s for s in ALL_SOURCES if s in chosen]

    def settings_section(self) -> QGroupBox:
        return self._settings

    def microphone_setting(self) -> QCheckBox:
        return self._may_microphone

    def camera_setting(self) -> QCheckBox:
        return self._may_camera

    def screen_setting(self) -> QCheckBox:
        return self._may_screen

    def set_waiting(self, waiting: Iterable[Any]) -> None:
        """Who waits to join: ``(participant_id, name)`` pairs (or objects with ``id`` and
        ``name``), in the order they asked. Shown to hosts only."""
        wanted: list[tuple[str, str]] = []
        for item in waiting:
            pid, name = (item.id, item.name) if hasattr(item, "id") else item
            if pid and pid not in (w[0] for w in wanted):
                wanted.append((str(pid), str(name)))
        order = []
        for pid, name in wanted:
            row = self._waiting_rows.get(pid)
            if row is None:
                row = WaitingRow(pid, self._content)
                row.navigate = self._navigate
                row.decided.connect(self.admit_requested.emit)
                self._waiting_rows[pid] = row
            row.set_name(name)
            order.append(row)
        for pid in [p for p in self._waiting_rows if p not in dict(wanted)]:
            row = self._waiting_rows.pop(pid)
            row.hide()
            row.deleteLater()
        self._waiting_order = order
        self._relayout()

    def search_field(self) -> QLineEdit:
        return self._search

    # -- what the user sees ----------------------------------------------------------------

    def row(self, identity: str, section: str = MEETING) -> ParticipantRow | None:
        return self._rows.get((section, identity))

    def waiting_row(self, participant_id: str) -> WaitingRow | None:
        return self._waiting_rows.get(participant_id)

    def visible_rows(self) -> list[ParticipantRow]:
        return [row for row in self._order if not row.isHidden()]

    def waiting_names(self) -> list[str]:
        return [r.display_name() for r in self._waiting_order if not r.isHidden()]

    def raised_hand_names(self) -> list[str]:
        return [r.display_name() for r in self.visible_rows() if r.section == RAISED]

    def meeting_names(self) -> list[str]:
        return [r.display_name() for r in self.visible_rows() if r.section == MEETING]

    def section_titles(self) -> list[str]:
        return [h.text() for h in (self._waiting_header, self._raised_header,
                                   self._meeting_header) if not h.isHidden()]

    def admit_all_button(self) -> QPushButton:
        return self._admit_all

    def lower_all_button(self) -> QPushButton:
        return self._lower_all

    def mute_all_button(self) -> QPushButton:
        return self._mute_all

    def remove_confirmation(self) -> RemoveConfirmation:
        return self._confirm

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
            row.update_state(participant, number, participant.identity == self._pinned,
                             self._admin)
            order.append(row)
        for key in [k for k in self._rows if k not in keep]:
            row = self._rows.pop(key)
            row.hide()
            row.deleteLater()
        self._order = order
        if self._confirm.identity and (MEETING, self._confirm.identity) not in keep:
            self._confirm.hide()  # they left (or were removed) meanwhile
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
        row.lower_hand_for_clicked.connect(self.lower_hand_for_requested.emit)
        row.mute_clicked.connect(self.mute_requested.emit)
        row.remove_clicked.connect(self._ask_remove)
        row.role_change_clicked.connect(self.role_change_requested.emit)
        self._rows[(section, identity)] = row
        return row

    def _relayout(self) -> None:
        while self._list.count():
            self._list.takeAt(0)
        admin = self._admin
        waiting = admin and bool(self._waiting_order)
        self._waiting_header.setText(
            self.tr("Waiting to join ({count})").format(count=len(self._waiting_order)))
        self._admit_all.setVisible(waiting)
        self._admit_all.setAccessibleName(self.tr("Admit everyone waiting"))
        others_on = any(not p.is_local and not p.microphone_muted
                        for p in self._snapshot.participants)
        self._mute_all.setVisible(admin and others_on)
        self._mute_all.setAccessibleName(self.tr("Mute everyone else"))
        self._lower_all.setVisible(admin and bool(self._snapshot.raised_hands))
        for row in self._waiting_order:
            row.setVisible(waiting)
        self._settings.setVisible(admin)

        confirm_after = self._rows.get((MEETING, self._confirm.identity)) \
            if not self._confirm.isHidden() else None
        chain: list[QWidget] = [self._search]
        items: list[QWidget] = [self._waiting_header, self._admit_all, *self._waiting_order,
                                self._raised_header, self._lower_all]
        chain += [self._admit_all]
        for row in self._waiting_order:
            chain += [row, *row.buttons()]
        chain.append(self._lower_all)
        for row in self._order:
            if row.section == RAISED:
                items.append(row)
                chain += [row, *row.buttons()]
        items += [self._meeting_header, self._mute_all]
        chain.append(self._mute_all)
        for row in self._order:
            if row.section == MEETING:
                items.append(row)
                chain += [row, *row.buttons()]
                if row is confirm_after:
                    items.append(self._confirm)
                    chain += self._confirm.buttons()
        if confirm_after is None:
            self._confirm.hide()
        chain += self._setting_boxes()
        for widget in [*items, self._no_match]:
            self._list.addWidget(widget)
        self._list.addStretch(1)
        for previous, widget in itertools.pairwise(chain):
            QWidget.setTabOrder(previous, widget)
        self._apply_filter()

    def _apply_filter(self) -> None:
        query = fold(self._search.text().strip())
        for row in self._order:
            name = row.participant.display_name if row.participant else ""
            row.setVisible(not query or query in fold(name))
        waiting = self._admin and bool(self._waiting_order)
        for waiting_row in self._waiting_order:
            waiting_row.setVisible(waiting and (not query or
                                                query in fold(waiting_row.display_name())))
        visible = self.visible_rows()
        self._waiting_header.setVisible(waiting)
        self._raised_header.setVisible(any(r.section == RAISED for r in visible))
        self._meeting_header.setVisible(bool(self._snapshot.participants))
        self._no_match.setVisible(bool(query) and not visible and not self.waiting_names())
        self._no_match.setText(self.tr("No participant matches “{query}”.").format(
            query=self._search.text().strip()))

    # -- intents ---------------------------------------------------------------------------

    def _on_pin(self, identity: str, pin: bool) -> None:
        (self.pin_requested if pin else self.unpin_requested).emit(identity)

    def _on_setting_clicked(self) -> None:
        self.publish_sources_changed.emit(self.publish_sources())

    def _on_admit_all(self) -> None:
        for row in list(self._waiting_order):
            self.admit_requested.emit(row.participant_id, True)

    def _ask_remove(self, identity: str) -> None:
        row = self._rows.get((MEETING, identity))
        if row is None or row.participant is None:
            return
        self._confirm.ask(identity, row.participant.display_name)
        self._relayout()
        self._confirm.cancel_button().setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll.ensureWidgetVisible(self._confirm)

    def _close_confirmation(self, identity: str) -> None:
        focused = QApplication.focusWidget()
        had_focus = focused is not None and self._confirm.isAncestorOf(focused)
        self._confirm.hide()
        self._relayout()
        row = self._rows.get((MEETING, identity))
        if had_focus and row is not None:
            target = row.actions_button() if not row.actions_button().isHidden() else row
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_remove_confirmed(self, identity: str) -> None:
        self._close_confirmation(identity)
        self.remove_requested.emit(identity)

    def _on_remove_cancelled(self, identity: str) -> None:
        self._close_confirmation(identity)

    def _navigate(self, row: QWidget, step: int) -> None:
        visible: list[QWidget] = [r for r in self._waiting_order if not r.isHidden()]
        visible += self.visible_rows()
        if row not in visible:
            return
        index = min(len(visible) - 1, max(0, visible.index(row) + step))
        target = visible[index]
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll.ensureWidgetVisible(target)
