"""The call window's side panels and overlays, checked by what a user sees and does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from visio_desktop.call_state import (
    CallSnapshot,
    CaptionLine,
    ChatEntry,
    ParticipantState,
    Reaction,
)
from visio_desktop.net.data.visio import REACTION_EMOJIS
from visio_desktop.ui import chat_panel
from visio_desktop.ui.captions_view import CaptionsModel, CaptionsOverlay, CaptionsPanel
from visio_desktop.ui.chat_panel import ChatPanel, linkify, local_time
from visio_desktop.ui.participants_panel import (
    RAISED,
    ParticipantsPanel,
    fold,
    initials,
)
from visio_desktop.ui.reactions import (
    REACTION_SLUGS,
    ReactionOverlay,
    ReactionPicker,
    reaction_name,
)

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def message(n: int, sender: str, text: str, *, local: bool = False,
            at: datetime = T0) -> ChatEntry:
    return ChatEntry(id=str(n), sender_identity=sender.lower(), sender_name=sender, text=text,
                     timestamp=at, is_local=local)


def anchors(document: QTextDocument) -> list[tuple[str, str]]:
    """(href, shown text) of every link in the document."""
    found: list[tuple[str, str]] = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isAnchor():
                found.append((fragment.charFormat().anchorHref(), fragment.text()))
            it += 1
        block = block.next()
    return found


@pytest.fixture
def chat(qtbot: QtBot) -> ChatPanel:
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 480)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


# -- chat ------------------------------------------------------------------------------------


def test_chat_groups_consecutive_messages_under_one_header(chat: ChatPanel) -> None:
    chat.add_message(message(1, "Alice", "first"))
    chat.add_message(message(2, "Alice", "second", at=T0 + timedelta(seconds=30)))
    chat.add_message(message(3, "Bob", "third"))
    chat.add_message(message(4, "Me", "mine", local=True))
    chat.add_message(message(4, "Me", "mine", local=True))  # the same message again

    hhmm = local_time(T0)
    lines = chat.document().toPlainText().splitlines()
    assert lines == [f"Alice  {hhmm}", "first", "second", f"Bob  {hhmm}", "third",
                     f"You  {hhmm}", "mine"]
    assert chat.group_count() == 3


def test_chat_shows_markup_literally_and_links_urls(chat: ChatPanel,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    chat.add_message(message(1, "<i>Mallory</i>", "<b>hi</b> see https://example.org."))

    text = chat.document().toPlainText()
    assert "<i>Mallory</i>" in text
    assert "<b>hi</b> see https://example.org." in text
    assert anchors(chat.document()) == [("https://example.org", "https://example.org")]

    opened: list[QUrl] = []
    monkeypatch.setattr(chat_panel.QDesktopServices, "openUrl", opened.append)
    view = chat.findChild(chat_panel.ChatView)
    assert view is not None
    view.anchorClicked.emit(QUrl("https://example.org"))
    view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    assert opened == [QUrl("https://example.org")]


def test_linkify_escapes_everything_but_its_own_anchors() -> None:
    assert linkify('a < b & "c"') == "a &lt; b &amp; &quot;c&quot;"
    assert linkify("go to www.example.org/a?b=1&c=2, now") == (
        'go to <a href="https://www.example.org/a?b=1&amp;c=2">www.example.org/a?b=1&amp;c=2'
        "</a>, now")
    assert linkify("(see http://x.org/wiki/A_(b))") == (
        '(see <a href="http://x.org/wiki/A_(b)">http://x.org/wiki/A_(b)</a>)')
    assert 'href="javascript' not in linkify("javascript:alert(1) https://ok.org")


def test_chat_counter_appears_near_the_limit_and_input_stops_at_2000(
        chat: ChatPanel, qtbot: QtBot) -> None:
    box = chat.input()
    box.setPlainText("a" * 100)
    assert chat.counter_text() == ""

    box.setPlainText("a" * 1990)
    assert chat.counter_text() == "1990 / 2000"

    box.moveCursor(box.textCursor().MoveOperation.End)
    qtbot.keyClicks(box, "b" * 20)
    assert box.length() == 2000
    assert chat.counter_text() == "2000 / 2000"

    box.setPlainText("c" * 2500)  # a paste past the limit is cut back
    assert box.length() == 2000


def test_chat_enter_sends_and_clears_shift_enter_breaks_the_line(chat: ChatPanel,
                                                                  qtbot: QtBot) -> None:
    box = chat.input()
    qtbot.keyClicks(box, "hello")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "world")
    assert box.toPlainText() == "hello\nworld"

    with qtbot.waitSignal(chat.send_requested) as sent:
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent.args == ["hello\nworld"]
    assert box.toPlainText() == ""

    with qtbot.assertNotEmitted(chat.send_requested):
        qtbot.keyClicks(box, "   ")
        qtbot.keyClick(box, Qt.Key.Key_Return)


def test_chat_counts_unread_while_closed_and_resets_when_opened(chat: ChatPanel,
                                                                 qtbot: QtBot) -> None:
    chat.set_open(False)
    counts: list[int] = []
    notified: list[ChatEntry] = []
    chat.unread_changed.connect(counts.append)
    chat.notify.connect(notified.append)

    chat.add_message(message(1, "Alice", "one"))
    chat.add_message(message(2, "Me", "mine", local=True))
    chat.add_message(message(3, "Bob", "two"))
    assert chat.unread_count() == 2
    assert counts == [1, 2]
    assert [e.id for e in notified] == ["1", "3"]

    chat.set_open(True)
    assert chat.unread_count() == 0
    assert counts == [1, 2, 0]

    chat.add_message(message(4, "Bob", "seen"))
    assert chat.unread_count() == 0
    assert len(notified) == 2


def test_chat_follows_new_messages_unless_scrolled_up(chat: ChatPanel, qtbot: QtBot) -> None:
    for n in range(40):
        chat.add_message(message(n, "Alice", f"line {n}"))
    bar = chat.findChild(chat_panel.ChatView).verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    assert bar.value() == bar.maximum()

    bar.setValue(0)
    chat.add_message(message(99, "Bob", "while reading"))
    assert bar.value() == 0
    jump = next(b for b in chat.findChildren(chat_panel.QPushButton)
                if b.text() == "New messages below")
    assert jump.isVisible()

    jump.click()
    assert bar.value() == bar.maximum()
    assert not jump.isVisible()


# -- captions --------------------------------------------------------------------------------


def caption(segment: str, who: str, text: str, final: bool, seconds: float = 0) -> CaptionLine:
    return CaptionLine(segment_id=segment, speaker_identity=who.lower(), speaker_name=who,
                       text=text, final=final, timestamp=T0 + timedelta(seconds=seconds))


def test_captions_interim_is_replaced_by_later_versions_and_its_final() -> None:
    model = CaptionsModel()
    model.add_line(caption("SG_1", "Alice", "bonj", final=False))
    model.add_line(caption("SG_1", "Alice", "bonjour à", final=False))
    model.add_line(caption("SG_1", "Alice", "bonjour à tous", final=True))
    model.add_line(caption("SG_1", "Alice", "bonjour", final=False))  # late: ignored
    model.add_line(caption("SG_1", "Bob", "salut", final=True, seconds=1))  # other speaker

    rows = model.rows()
    assert [(r.speaker, r.text, r.final) for r in rows] == [
        ("Alice", "bonjour à tous", True), ("Bob", "salut", True)]
    assert model.segment_count() == 2


def test_captions_join_one_word_segments_of_a_speaker() -> None:
    model = CaptionsModel(join_window_s=5)
    for n, word in enumerate(["the", "budget", "is", "fine"]):
        model.add_line(caption(f"SG_{n}", "Alice", word, final=True, seconds=n * 0.3))
    model.add_line(caption("SG_x", "Alice", "later", final=True, seconds=60))
    assert [r.text for r in model.rows()] == ["the budget is fine", "later"]

    separate = CaptionsModel(join_window_s=0)
    separate.add_line(caption("SG_1", "Alice", "one", final=True))
    separate.add_line(caption("SG_2", "Alice", "two", final=True))
    assert [r.text for r in separate.rows()] == ["one", "two"]


def test_captions_overlay_shows_the_last_lines_and_scales(qtbot: QtBot) -> None:
    stage = QWidget()
    qtbot.addWidget(stage)
    stage.resize(800, 450)
    model = CaptionsModel()
    overlay = CaptionsOverlay(model, stage, max_lines=3)
    stage.show()
    assert overlay.visible_lines() == []
    assert overlay.geometry() == stage.rect()
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    speakers = ["Alice", "Bob", "Carol", "Dave"]
    for n, who in enumerate(speakers):
        model.add_line(caption(f"SG_{n}", who, f"{who.lower()} speaks", final=True, seconds=n))
    assert overlay.visible_lines() == ["Bob: bob speaks", "Carol: carol speaks",
                                       "Dave: dave speaks"]

    model.add_line(caption("SG_4", "Dave", "more", final=False, seconds=3.5))
    assert overlay.visible_lines()[-1] == "Dave: dave speaks more"

    label = overlay.findChildren(chat_panel.QLabel)[0]
    before = label.font().pointSizeF()
    overlay.set_font_scale(2.0)
    assert label.font().pointSizeF() == pytest.approx(before * 2)


def test_captions_overlay_hides_when_no_one_speaks(qtbot: QtBot) -> None:
    model = CaptionsModel()
    overlay = CaptionsOverlay(model, idle_hide_ms=50)
    qtbot.addWidget(overlay)
    model.add_line(caption("SG_1", "Alice", "hello", final=True))
    assert overlay.visible_lines() == ["Alice: hello"]
    qtbot.waitUntil(lambda: overlay.visible_lines() == [], timeout=2000)


def test_captions_panel_lists_the_transcript_and_exports_it(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = CaptionsModel()
    panel = CaptionsPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    export = next(b for b in panel.findChildren(chat_panel.QPushButton)
                  if b.text().startswith("&Export"))
    assert not export.isEnabled()

    model.add_line(caption("SG_1", "Hélène", "déjà vu", final=True))
    model.add_line(caption("SG_2", "Bob", "ok", final=False, seconds=2))
    view = panel.view()
    assert view.model().rowCount() == 2
    shown = view.model().data(view.model().index(0), Qt.ItemDataRole.DisplayRole)
    assert "Hélène" in shown and "déjà vu" in shown and local_time(T0) in shown
    assert export.isEnabled()

    target = tmp_path / "transcript.txt"
    panel.export(target)
    stamp = T0.astimezone().strftime("%H:%M:%S")
    stamp2 = (T0 + timedelta(seconds=2)).astimezone().strftime("%H:%M:%S")
    assert target.read_text(encoding="utf-8") == (
        f"[{stamp}] Hélène: déjà vu\n[{stamp2}] Bob: ok\n")

    chosen = tmp_path / "chosen.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(chosen), ""))
    export.click()
    assert chosen.read_text(encoding="utf-8") == target.read_text(encoding="utf-8")

    scales: list[float] = []
    panel.font_scale_changed.connect(scales.append)
    panel.set_font_scale(1.5)
    assert scales == [1.5]
    assert view.font().pointSizeF() == pytest.approx(panel.font().pointSizeF() * 1.5)


# -- participants ----------------------------------------------------------------------------


def person(identity: str, name: str, *, local: bool = False, hand: int | None = None,
           muted: bool = True, admin: bool = False, level: float = 0.0) -> ParticipantState:
    return ParticipantState(
        identity=identity, name=name, is_local=local, microphone_muted=muted,
        hand_raised_at=None if hand is None else T0 + timedelta(seconds=hand), is_admin=admin,
        audio_level=level)


def meeting(*people: ParticipantState) -> CallSnapshot:
    return CallSnapshot(room_name="room", participants=people)


@pytest.fixture
def participants(qtbot: QtBot) -> ParticipantsPanel:
    panel = ParticipantsPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 500)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_participants_raised_hands_come_first_in_the_order_raised(
        participants: ParticipantsPanel) -> None:
    participants.set_snapshot(meeting(
        person("me", "Me", local=True), person("bob", "Bob", hand=10),
        person("carol", "Carol", hand=5, muted=False), person("dave", "Dave")))

    assert participants.section_titles() == ["Raised hands", "In the meeting (4)"]
    assert participants.raised_hand_names() == ["Carol", "Bob"]
    assert participants.meeting_names() == ["Me", "Bob", "Carol", "Dave"]

    carol = participants.row("carol", RAISED)
    assert carol is not None
    assert carol.accessibleName() == "Hand 1, Carol, microphone on"
    me = participants.row("me")
    assert me is not None
    assert me.accessibleName() == "Me (you), microphone off"
    assert participants.row("bob").accessibleName() == "Bob, microphone off, hand raised"

    participants.set_snapshot(meeting(person("me", "Me", local=True), person("dave", "Dave")))
    assert participants.section_titles() == ["In the meeting (2)"]
    assert participants.raised_hand_names() == []


def test_participants_ignore_snapshots_that_change_nothing_shown(
        participants: ParticipantsPanel) -> None:
    participants.set_snapshot(meeting(person("me", "Me", local=True), person("bob", "Bob")))
    row = participants.row("bob")
    participants.set_snapshot(meeting(person("me", "Me", local=True),
                                      person("bob", "Bob", level=0.8)))
    assert participants.row("bob") is row


def test_participants_search_filters_without_case_or_accents(
        participants: ParticipantsPanel, qtbot: QtBot) -> None:
    participants.set_snapshot(meeting(
        person("me", "Me", local=True), person("h", "Hélène Dupont", hand=1),
        person("c", "Carol")))
    qtbot.keyClicks(participants.search_field(), "HELENE")
    assert participants.meeting_names() == ["Hélène Dupont"]
    assert participants.raised_hand_names() == ["Hélène Dupont"]

    participants.search_field().setText("zzz")
    assert participants.meeting_names() == []
    assert any("No participant matches" in label.text()
               for label in participants.findChildren(chat_panel.QLabel)
               if label.isVisible())

    participants.search_field().clear()
    assert participants.meeting_names() == ["Me", "Hélène Dupont", "Carol"]
    assert fold("Élodie") == "elodie"
    assert initials("jean-luc picard") == "JP"


def test_participants_rename_pin_and_lower_hand(participants: ParticipantsPanel,
                                                qtbot: QtBot) -> None:
    participants.set_snapshot(meeting(person("me", "Me", local=True, hand=3),
                                      person("bob", "Bob")))
    me = participants.row("me")
    bob = participants.row("bob")
    assert me is not None and bob is not None
    assert me.rename_button().isVisible() and not bob.rename_button().isVisible()

    me.rename_button().click()
    edit = me.name_edit()
    assert me.is_renaming() and edit.maxLength() == 255
    edit.setText("   ")
    with qtbot.assertNotEmitted(participants.rename_requested):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    edit.setText("  New name ")
    with qtbot.waitSignal(participants.rename_requested) as renamed:
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert renamed.args == ["New name"]
    assert not me.is_renaming()

    me.rename_button().click()
    qtbot.keyClick(me.name_edit(), Qt.Key.Key_Escape)
    assert not me.is_renaming() and me.display_name() == "Me"

    with qtbot.waitSignal(participants.pin_requested) as pinned:
        bob.pin_button().click()
    assert pinned.args == ["bob"]
    participants.set_pinned("bob")
    assert bob.pin_button().text() == "Unpin"
    with qtbot.waitSignal(participants.unpin_requested) as unpinned:
        bob.pin_button().click()
    assert unpinned.args == ["bob"]

    mine = participants.row("me", RAISED)
    assert mine is not None and mine.lower_hand_button().isVisible()
    with qtbot.waitSignal(participants.lower_hand_requested):
        mine.lower_hand_button().click()


def test_participants_rows_are_reachable_with_arrow_keys(participants: ParticipantsPanel,
                                                         qtbot: QtBot) -> None:
    participants.set_snapshot(meeting(person("me", "Me", local=True), person("bob", "Bob"),
                                      person("carol", "Carol")))
    participants.activateWindow()
    rows = participants.visible_rows()
    rows[0].setFocus()
    qtbot.waitUntil(rows[0].hasFocus)
    qtbot.keyClick(rows[0], Qt.Key.Key_Down)
    assert rows[1].hasFocus()
    qtbot.keyClick(rows[1], Qt.Key.Key_End)
    assert rows[2].hasFocus()
    assert all(row.focusPolicy() & Qt.FocusPolicy.TabFocus for row in rows)


# -- reactions -------------------------------------------------------------------------------


def test_reaction_picker_offers_the_eight_visio_reactions(qtbot: QtBot) -> None:
    picker = ReactionPicker()
    qtbot.addWidget(picker)
    picker.show()
    assert set(REACTION_SLUGS) == REACTION_EMOJIS and len(REACTION_SLUGS) == 8
    assert picker.button("thumbs-up").accessibleName() == "Thumbs up"
    assert all(picker.button(s).accessibleName() == reaction_name(s) for s in REACTION_SLUGS)

    with qtbot.waitSignal(picker.reaction_chosen) as chosen:
        picker.button("party-popper").click()
    assert chosen.args == ["party-popper"]

    with qtbot.waitSignal(picker.reaction_chosen) as chosen:
        qtbot.keyClick(picker.button("red-heart"), Qt.Key.Key_Return)
    assert chosen.args == ["red-heart"]

    with qtbot.waitSignal(picker.reaction_chosen) as chosen:
        qtbot.keyClick(picker.button("thumbs-up"), Qt.Key.Key_2)
    assert chosen.args == ["thumbs-down"]

    picker.activateWindow()
    picker.setFocus()
    qtbot.waitUntil(picker.button("thumbs-up").hasFocus)
    qtbot.keyClick(picker.button("thumbs-up"), Qt.Key.Key_Left)  # wraps to the last one
    assert picker.button("folded-hands").hasFocus()
    qtbot.keyClick(picker.button("folded-hands"), Qt.Key.Key_Home)
    assert picker.button("thumbs-up").hasFocus()


def test_reaction_overlay_floats_then_removes_reactions(qtbot: QtBot) -> None:
    stage = QWidget()
    qtbot.addWidget(stage)
    stage.resize(640, 360)
    overlay = ReactionOverlay(stage, duration_ms=150, max_active=3)
    stage.show()
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    overlay.show_reaction(Reaction("bob", "Bob", "clapping-hands"))
    assert overlay.active_count() == 1
    label = overlay.findChildren(chat_panel.QLabel)[0]
    assert label.text() == "\N{CLAPPING HANDS SIGN}\nBob"
    qtbot.waitUntil(lambda: overlay.active_count() == 0, timeout=2000)

    for n in range(5):
        overlay.show_reaction(Reaction(f"p{n}", f"P{n}", "thumbs-up", is_local=n == 0))
    assert overlay.active_count() == 3
    qtbot.waitUntil(lambda: overlay.active_count() == 0, timeout=2000)

    overlay.show_reaction(Reaction("bob", "Bob", "pile-of-poo"))  # not one of the eight
    assert overlay.active_count() == 0

    overlay.set_reduced_motion(True)
    overlay.show_reaction(Reaction("me", "Me", "red-heart", is_local=True))
    shown = [label for label in overlay.findChildren(chat_panel.QLabel) if label.isVisible()]
    assert [label.text() for label in shown] == ["\N{HEAVY BLACK HEART}\ufe0f\nYou"]
    qtbot.waitUntil(lambda: overlay.active_count() == 0, timeout=2000)
