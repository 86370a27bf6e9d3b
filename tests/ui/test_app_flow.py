"""The real application, driven like a user, against a meeting it hosts itself.

Home → "Start a meeting on this computer" → pre-join → call; a second participant (our engine,
headless) joins by the meeting's link; an official-SDK "agent" sends captions. Everything is
checked on what the window shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from visio_desktop.call import Call, MediaOptions
from visio_desktop.config import MemoryStore, Settings
from visio_desktop.engine import Engine
from visio_desktop.net.links import parse_link
from visio_desktop.net.visio_api import fetch_room
from visio_desktop.ui.main_window import MainWindow

SYNTHETIC = {"camera": "test-pattern", "microphone": "tone", "speaker": "none",
             "camera_preset": "180p"}


@pytest.fixture
def engines() -> Iterator[tuple[Engine, Engine]]:
    app_engine, guest_engine = Engine("app-engine").start(), Engine("guest-engine").start()
    yield app_engine, guest_engine
    guest_engine.stop()
    app_engine.stop()


def grab_pixels(widget: Any) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    data = np.frombuffer(bytes(image.constBits()), np.uint8)
    return data.reshape(height, image.bytesPerLine() // 4, 4)[:, :width, :3].copy()


async def join_as_guest(link: str, name: str) -> Call:
    guest = Call(MediaOptions(**SYNTHETIC))  # type: ignore[arg-type]
    access = await fetch_room(parse_link(link), name)
    await guest.join(access.livekit_url, access.token)
    return guest


async def agent_captions(url: str, token: str, speaker: str, track_sid: str) -> rtc.Room:
    """An official-SDK agent sends captions of the guest's speech, as Visio's transcriber
    does: a legacy Transcription packet, then lk.transcription streams (interim, final)."""
    agent = rtc.Room()
    await agent.connect(url, token)
    await agent.local_participant.publish_transcription(rtc.Transcription(
        participant_identity=speaker, track_sid=track_sid, segments=[rtc.TranscriptionSegment(
            id="SG_1", text="Bonjour à tous", start_time=0, end_time=0, language="fr",
            final=True)]))
    for text, final in (("On commence", "false"), ("On commence la réunion", "true")):
        await agent.local_participant.send_text(text, topic="lk.transcription", attributes={
            "lk.transcribed_track_id": track_sid, "lk.segment_id": "SG_2",
            "lk.transcription_final": final})
    return agent


def test_local_meeting_end_to_end(qtbot: QtBot, engines: tuple[Engine, Engine]) -> None:
    app_engine, guest_engine = engines
    settings = Settings(MemoryStore())
    settings.set("local/bind_lan", False)
    window = MainWindow(app_engine, settings, media=SYNTHETIC)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()

    # Home → pre-join, with a live mirrored preview and a moving level meter
    qtbot.mouseClick(window.home.host_button, Qt.MouseButton.LeftButton)
    assert window.prejoin is not None
    prejoin = window.prejoin
    prejoin.name_edit.setText("Alice")
    qtbot.waitUntil(lambda: prejoin.preview.video_key() is not None
                    and window.call is not None
                    and window.call.frames.frame_count("local:camera") > 3, timeout=5000)
    qtbot.waitUntil(lambda: prejoin.level.value() > 10, timeout=5000)

    qtbot.mouseClick(prejoin.join_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.call_page is not None, timeout=15000)
    page = window.call_page
    assert page is not None and window.local_meeting is not None
    link = window.local_meeting.link
    assert window.meeting_info.link_edit.text() == link  # the invitation is shown at once
    window.meeting_info.close()

    guest = guest_engine.run(join_as_guest(link, "Bob"))
    try:
        # two tiles, Bob's with live video: its pixels change
        qtbot.waitUntil(lambda: len(page.stage.tile_keys()) == 2, timeout=10000)
        bob_key = next(k for k in page.stage.tile_keys() if k != page.snapshot.participants[0]
                       .identity)
        tile = page.stage.tile(bob_key)
        assert tile is not None
        qtbot.waitUntil(lambda: tile.video_key() is not None, timeout=10000)
        qtbot.wait(500)
        first = grab_pixels(tile)
        qtbot.wait(700)
        second = grab_pixels(tile)
        assert first.std() > 10 and np.abs(first.astype(int) - second.astype(int)).mean() > 1
        assert tile.display_text().startswith("Bob")

        # chat, both ways, in the panel
        page.actions_.chat.trigger()
        assert page.side.isVisible() and page.side.currentWidget() is page.chat
        page.chat.input().setPlainText("Bonjour Bob")
        qtbot.keyClick(page.chat.input(), Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: any(e.text == "Bonjour Bob" for e in guest.chat_history),
                        timeout=10000)
        guest_engine.run(guest.send_chat("Salut Alice <b>!</b>"))
        qtbot.waitUntil(lambda: any(m.text == "Salut Alice <b>!</b>"
                                    for m in page.chat.messages()), timeout=10000)
        assert "Salut Alice <b>!</b>" in page.chat.document().toPlainText()

        # a reaction floats over the stage
        guest_engine.run(guest.send_reaction("party-popper"))
        qtbot.waitUntil(lambda: page.reaction_overlay.active_count() > 0, timeout=10000)

        # a raised hand goes to the top of the participants panel
        page.actions_.participants.trigger()
        guest_engine.run(guest.set_hand_raised(True))
        qtbot.waitUntil(lambda: page.participants.raised_hand_names() == ["Bob"], timeout=10000)
        assert page.controls.buttons["participants"].text().endswith("(2)")

        # the host moderates: Bob's microphone muted from the participants panel
        assert page.snapshot.local.is_admin
        bob_identity = guest.room.local_participant.identity
        qtbot.waitUntil(lambda: not page.snapshot.participant(bob_identity).microphone_muted,
                        timeout=10000)
        page.participants.mute_requested.emit(bob_identity)
        qtbot.waitUntil(lambda: not guest.snapshot.local.microphone_on, timeout=10000)
        qtbot.waitUntil(lambda: page.snapshot.participant(bob_identity).microphone_muted,
                        timeout=10000)

        # captions from an official-SDK agent, in the overlay and the panel
        meeting = window.local_meeting
        assert meeting.server is not None and meeting.meeting is not None
        token = meeting.server.meetings.token(meeting.meeting, name="Transcriber",
                                              identity="agent")
        agent = guest_engine.run(agent_captions(meeting.local_url, token, guest.room
                                                .local_participant.identity,
                                                guest._microphone_sid))
        try:
            qtbot.waitUntil(lambda: any("On commence la réunion" in line
                                        for line in page.captions_overlay.visible_lines()),
                            timeout=10000)
            assert page.captions_overlay.isVisible()
            transcript = page.captions_model.transcript_text()
            assert "Bonjour à tous" in transcript and "Bob" in transcript
        finally:
            guest_engine.run(agent.disconnect())

        # Bob's screen share takes the stage
        guest_engine.run(guest.start_screen_share("test-pattern", fps=5))
        qtbot.waitUntil(lambda: (page.stage.focused_key() or "").endswith(":screen"),
                        timeout=10000)
        big = page.stage.tile(page.stage.focused_key() or "")
        assert big is not None and big.is_screen()

        # statistics of what is sent and received
        window.show_stats()
        qtbot.waitUntil(lambda: any(r.direction == "receive" and r.kind == "video"
                                    for r in window.stats_dialog.model.rows()), timeout=10000)
        window.stats_dialog.close()

        # the mini window, when turned on, while the window is minimised
        settings.set("general/mini_window", True)
        window.setWindowState(Qt.WindowState.WindowMinimized)
        qtbot.waitUntil(lambda: window.mini_window is not None, timeout=3000)
        assert window.mini_window.speaker_text().startswith("Bob")
        window.setWindowState(Qt.WindowState.WindowNoState)
        qtbot.waitUntil(lambda: window.mini_window is None, timeout=3000)

        # leave: back Home, the meeting listed in recents
        page.actions_.leave.trigger()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.home, timeout=15000)
        assert window.call is None and window.call_page is None
        assert window.home.recent_list.count() == 1
    finally:
        guest_engine.run(guest.leave())


def test_bad_link_shows_an_error_on_home(qtbot: QtBot) -> None:
    engine = Engine().start()
    try:
        window = MainWindow(engine, Settings(MemoryStore()), media=SYNTHETIC)
        qtbot.addWidget(window)
        window.show()
        window.home.link_edit.setText("http://example.org/abc-defg-hij")
        qtbot.mouseClick(window.home.join_button, Qt.MouseButton.LeftButton)
        assert window.home.error_label.isVisible()
        assert "local network" in window.home.error_label.text()
        assert window.stack.currentWidget() is window.home
    finally:
        engine.stop()


def test_unreachable_meeting_keeps_the_prejoin_with_an_error(qtbot: QtBot) -> None:
    engine = Engine().start()
    try:
        window = MainWindow(engine, Settings(MemoryStore()), media=SYNTHETIC)
        qtbot.addWidget(window)
        window.show()
        window.open_link("http://127.0.0.1:9/abc-defg-hij")  # nothing listens on port 9
        assert window.prejoin is not None
        window.prejoin.name_edit.setText("Alice")
        qtbot.mouseClick(window.prejoin.join_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.prejoin is not None
                        and window.prejoin.error_label.isVisible(), timeout=15000)
        assert "cannot be reached" in window.prejoin.error_label.text()
        assert window.prejoin.join_button.isEnabled()
        window._cancel_prejoin()
        assert window.stack.currentWidget() is window.home
    finally:
        engine.stop()
