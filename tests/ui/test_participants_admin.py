"""A host's controls in the participants panel: shown only to hosts, offered only when they
apply, the waiting room, and removal only after an inline confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from visio_desktop.call_state import CallSnapshot, ParticipantState
from visio_desktop.net.room_admin import WaitingParticipant
from visio_desktop.ui.participants_panel import RAISED, ParticipantRow, ParticipantsPanel

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
MUTE, LOWER, REMOVE = "Mute", "Lower hand", "Remove from the meeting"


def person(identity: str, name: str, *, local: bool = False, muted: bool = True,
           hand: int | None = None) -> ParticipantState:
    return ParticipantState(identity, name, is_local=local, microphone_muted=muted,
                            hand_raised_at=None if hand is None else T0 + timedelta(seconds=hand))


def meeting(*people: ParticipantState) -> CallSnapshot:
    return CallSnapshot(room_name="room", participants=people)


EVERYONE = meeting(person("me", "Me", local=True, muted=False, hand=1),
                   person("bob", "Bob", muted=False, hand=2),
                   person("carol", "Carol"))


@pytest.fixture
def panel(qtbot: QtBot) -> ParticipantsPanel:
    widget = ParticipantsPanel()
    qtbot.addWidget(widget)
    widget.resize(420, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_snapshot(EVERYONE)
    return widget


def row(panel: ParticipantsPanel, identity: str, section: str = "meeting") -> ParticipantRow:
    found = panel.row(identity, section)
    assert found is not None
    return found


def accessible_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name) if interface is not None else ""


def tab_cycle(start: QWidget, limit: int = 100) -> list[QWidget]:
    start.setFocus(Qt.FocusReason.TabFocusReason)
    seen: list[QWidget] = []
    widget: QWidget | None = start
    for _ in range(limit):
        assert widget is not None
        if widget in seen:
            break
        seen.append(widget)
        widget.focusNextChild()
        QApplication.processEvents()
        widget = QApplication.focusWidget()
    return seen


def test_admin_controls_appear_only_for_hosts(panel: ParticipantsPanel) -> None:
    panel.set_waiting([("p1", "Jane")])
    bob = row(panel, "bob")
    assert not bob.actions_button().isVisible() and bob.admin_actions() == []
    assert not panel.mute_all_button().isVisible()
    assert not panel.lower_all_button().isVisible()
    assert not row(panel, "bob", RAISED).lower_hand_button().isVisible()
    assert panel.waiting_names() == [] and "Waiting to join (1)" not in panel.section_titles()

    panel.set_admin(True)
    assert bob.actions_button().isVisible()
    assert bob.actions_button().accessibleName() == "More actions for Bob"
    assert bob.admin_actions() == [MUTE, LOWER, REMOVE]
    assert row(panel, "carol").admin_actions() == [REMOVE]  # microphone off, hand down
    assert not row(panel, "me").actions_button().isVisible()  # not on our own row
    assert panel.mute_all_button().isVisible() and panel.lower_all_button().isVisible()
    assert panel.section_titles() == ["Waiting to join (1)", "Raised hands",
                                      "In the meeting (3)"]
    raised_bob = row(panel, "bob", RAISED).lower_hand_button()
    assert raised_bob.isVisible() and raised_bob.accessibleName() == "Lower Bob's hand"

    panel.set_admin(False)
    assert not bob.actions_button().isVisible()
    assert not panel.mute_all_button().isVisible() and panel.waiting_names() == []


def test_mute_is_offered_only_for_microphones_that_are_on(panel: ParticipantsPanel,
                                                          qtbot: QtBot) -> None:
    panel.set_admin(True)
    bob = row(panel, "bob")
    with qtbot.waitSignal(panel.mute_requested) as muted:
        bob.trigger_admin_action(0)
    assert muted.args == ["bob"]
    with qtbot.waitSignal(panel.mute_all_requested):
        panel.mute_all_button().click()

    # bob is muted now: no "Mute", and nobody else has a microphone on: no "Mute everyone"
    panel.set_snapshot(meeting(person("me", "Me", local=True, muted=False),
                               person("bob", "Bob", hand=2), person("carol", "Carol")))
    assert MUTE not in bob.admin_actions()
    assert not panel.mute_all_button().isVisible()  # our own microphone does not count


def test_lowering_hands(panel: ParticipantsPanel, qtbot: QtBot) -> None:
    panel.set_admin(True)
    with qtbot.waitSignal(panel.lower_hand_for_requested) as lowered:
        row(panel, "bob", RAISED).lower_hand_button().click()
    assert lowered.args == ["bob"]
    with qtbot.waitSignal(panel.lower_hand_for_requested) as lowered:
        row(panel, "bob").trigger_admin_action(1)  # "Lower hand" in the menu
    assert lowered.args == ["bob"]
    with qtbot.waitSignal(panel.lower_hand_requested), \
            qtbot.assertNotEmitted(panel.lower_hand_for_requested):
        row(panel, "me", RAISED).lower_hand_button().click()  # our own hand, as before
    with qtbot.waitSignal(panel.lower_all_hands_requested):
        panel.lower_all_button().click()

    panel.set_snapshot(meeting(person("me", "Me", local=True), person("bob", "Bob")))
    assert not panel.lower_all_button().isVisible()
    assert LOWER not in row(panel, "bob").admin_actions()


def test_removing_asks_for_confirmation_in_the_panel(panel: ParticipantsPanel,
                                                     qtbot: QtBot) -> None:
    panel.set_admin(True)
    panel.activateWindow()
    confirmation = panel.remove_confirmation()
    carol = row(panel, "carol")
    with qtbot.assertNotEmitted(panel.remove_requested):
        carol.trigger_admin_action(0)  # "Remove from the meeting"
        assert confirmation.isVisible() and panel.isAncestorOf(confirmation)
        assert confirmation.question() == "Remove Carol from the meeting?"
        assert confirmation.remove_button().accessibleName() == "Remove Carol"
        # the safe choice has the focus; Escape cancels
        qtbot.waitUntil(confirmation.cancel_button().hasFocus)
        qtbot.keyClick(confirmation.cancel_button(), Qt.Key.Key_Escape)
        assert not confirmation.isVisible()
        assert carol.actions_button().hasFocus()  # back where the user was

        carol.trigger_admin_action(0)
        confirmation.cancel_button().click()
        assert not confirmation.isVisible()

    carol.trigger_admin_action(0)
    with qtbot.waitSignal(panel.remove_requested) as removed:
        confirmation.remove_button().click()
    assert removed.args == ["carol"]
    assert not confirmation.isVisible()

    # someone who leaves while the question is open: the question goes
    row(panel, "bob").trigger_admin_action(2)
    assert confirmation.question() == "Remove Bob from the meeting?"
    panel.set_snapshot(meeting(person("me", "Me", local=True), person("carol", "Carol")))
    assert not confirmation.isVisible()


def test_the_waiting_room(panel: ParticipantsPanel, qtbot: QtBot) -> None:
    panel.set_admin(True)
    panel.set_waiting([("p1", "Jane"), WaitingParticipant("p2", "Mallory")])
    assert panel.section_titles()[0] == "Waiting to join (2)"
    assert panel.waiting_names() == ["Jane", "Mallory"]
    jane = panel.waiting_row("p1")
    assert jane is not None and jane.accessibleName() == "Jane, waiting to join"
    assert jane.admit_button().accessibleName() == "Admit Jane"
    assert jane.deny_button().accessibleName() == "Deny Jane"

    with qtbot.waitSignal(panel.admit_requested) as admitted:
        jane.admit_button().click()
    assert admitted.args == ["p1", True]
    mallory = panel.waiting_row("p2")
    assert mallory is not None
    with qtbot.waitSignal(panel.admit_requested) as denied:
        mallory.deny_button().click()
    assert denied.args == ["p2", False]

    emitted: list[tuple[str, bool]] = []
    panel.admit_requested.connect(lambda pid, allow: emitted.append((pid, allow)))
    assert panel.admit_all_button().isVisible()
    panel.admit_all_button().click()
    assert emitted == [("p1", True), ("p2", True)]

    panel.set_waiting([("p2", "Mallory")])  # Jane was let in
    assert panel.waiting_names() == ["Mallory"] and panel.waiting_row("p1") is None
    panel.search_field().setText("jane")
    assert panel.waiting_names() == []
    panel.search_field().clear()
    panel.set_waiting([])
    assert panel.waiting_names() == []
    assert panel.section_titles() == ["Raised hands", "In the meeting (3)"]
    assert not panel.admit_all_button().isVisible()


def test_every_host_control_is_reachable_with_tab_and_named(panel: ParticipantsPanel,
                                                            qtbot: QtBot) -> None:
    panel.set_admin(True)
    panel.set_waiting([("p1", "Jane")])
    panel.activateWindow()
    row(panel, "carol").trigger_admin_action(0)  # the removal question is open
    visited = tab_cycle(panel.search_field())
    jane = panel.waiting_row("p1")
    assert jane is not None
    expected = [panel.admit_all_button(), jane, jane.admit_button(), jane.deny_button(),
                panel.lower_all_button(), panel.mute_all_button(),
                row(panel, "bob").actions_button(), row(panel, "carol").actions_button(),
                *panel.remove_confirmation().buttons()]
    for widget in expected:
        assert widget in visited, f"{accessible_name(widget)!r} cannot be reached with Tab"
    # in reading order: the question right after Carol's row
    assert visited.index(panel.remove_confirmation().remove_button()) == \
        visited.index(row(panel, "carol").actions_button()) + 1
    unnamed = [type(w).__name__ for w in visited if not accessible_name(w)]
    assert not unnamed, f"controls without an accessible name: {unnamed}"
    # arrow keys move from the waiting row into the participants
    jane.setFocus()
    qtbot.waitUntil(jane.hasFocus)
    qtbot.keyClick(jane, Qt.Key.Key_Down)
    assert panel.visible_rows()[0].hasFocus()


# -- roles and the meeting settings ------------------------------------------------------------

PROMOTE, DEMOTE = "Make administrator", "Remove administrator rights"


@dataclass(frozen=True)
class Member(ParticipantState):
    """A row with the role fields of a Visio meeting (``room_role``, ``is_authenticated``);
    declared here so these tests do not depend on when ``ParticipantState`` gains them."""

    room_role: str = ""
    is_authenticated: bool = False


ROLES = meeting(person("me", "Me", local=True),
                Member("dana", "Dana", room_role="member", is_authenticated=True),
                Member("ed", "Ed", room_role="administrator", is_admin=True,
                       is_authenticated=True),
                Member("olga", "Olga", room_role="owner", is_admin=True, is_authenticated=True),
                Member("anon", "Anonymous", room_role="member", is_authenticated=False))


def test_role_changes_only_for_signed_in_participants_who_are_not_owners(
        panel: ParticipantsPanel, qtbot: QtBot) -> None:
    panel.set_snapshot(ROLES)
    assert row(panel, "dana").admin_actions() == []  # not a host: no menu at all
    panel.set_admin(True)
    assert row(panel, "dana").admin_actions() == [REMOVE, PROMOTE]
    assert row(panel, "ed").admin_actions() == [REMOVE, DEMOTE]
    assert PROMOTE not in row(panel, "olga").admin_actions()  # an owner keeps the role
    assert DEMOTE not in row(panel, "olga").admin_actions()
    assert row(panel, "anon").admin_actions() == [REMOVE]  # no account: no role
    assert not row(panel, "me").actions_button().isVisible()

    with qtbot.waitSignal(panel.role_change_requested) as promoted:
        row(panel, "dana").trigger_admin_action(1)
    assert promoted.args == ["dana", "administrator"]
    with qtbot.waitSignal(panel.role_change_requested) as demoted:
        row(panel, "ed").trigger_admin_action(1)
    assert demoted.args == ["ed", "member"]

    # the attribute changed: the menu follows
    panel.set_snapshot(meeting(person("me", "Me", local=True),
                               Member("dana", "Dana", room_role="administrator", is_admin=True,
                                      is_authenticated=True)))
    assert row(panel, "dana").admin_actions() == [REMOVE, DEMOTE]
    # a state without the role fields (a meeting on our server) never offers a change
    panel.set_snapshot(EVERYONE)
    assert not {PROMOTE, DEMOTE} & set(row(panel, "carol").admin_actions())


def test_meeting_settings_say_what_participants_may_publish(panel: ParticipantsPanel,
                                                           qtbot: QtBot) -> None:
    settings = panel.settings_section()
    boxes = [panel.microphone_setting(), panel.camera_setting(), panel.screen_setting()]
    assert not settings.isVisible()  # hosts only
    panel.set_admin(True)
    assert settings.isVisible() and settings.title() == "Meeting settings"
    assert [b.text() for b in boxes] == ["Turn on their microphone", "Turn on their camera",
                                         "Share their screen"]
    assert [accessible_name(b) for b in boxes] == [
        "Participants may turn on their microphone", "Participants may turn on their camera",
        "Participants may share their screen"]
    assert all(b.isChecked() for b in boxes)

    # the room's configuration is shown without being sent back
    with qtbot.assertNotEmitted(panel.publish_sources_changed):
        panel.set_publish_sources(["camera", "microphone", "screen_share"])  # audio missing
    assert [b.isChecked() for b in boxes] == [True, True, False]
    assert panel.publish_sources() == ["camera", "microphone"]

    with qtbot.waitSignal(panel.publish_sources_changed) as allowed:
        panel.screen_setting().click()
    assert allowed.args == [["camera", "microphone", "screen_share", "screen_share_audio"]]
    with qtbot.waitSignal(panel.publish_sources_changed) as refused:
        panel.microphone_setting().click()
    assert refused.args == [["camera", "screen_share", "screen_share_audio"]]
    panel.set_publish_sources(None)
    assert all(b.isChecked() for b in boxes)

    # reachable with Tab, after the participants
    panel.activateWindow()
    visited = tab_cycle(panel.search_field())
    for box in boxes:
        assert box in visited, f"{box.text()!r} cannot be reached with Tab"
    assert visited.index(boxes[0]) > visited.index(row(panel, "carol").actions_button())

    panel.set_admin(False)
    assert not settings.isVisible()
