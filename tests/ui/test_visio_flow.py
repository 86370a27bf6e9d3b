"""The application joining Visio meetings (the contract server stands for a Visio instance):
the waiting room, admitted or denied; hand raise through Visio's API; sign-in in the web view,
then creating a meeting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.visio_contract import VisioContract
from visio_desktop.config import MemoryStore, Settings
from visio_desktop.engine import Engine
from visio_desktop.ui.main_window import MainWindow

SYNTHETIC = {"camera": "test-pattern", "microphone": "tone", "speaker": "none",
             "camera_preset": "180p"}


@pytest.fixture
def window(qtbot: QtBot, visio_contract: VisioContract) -> Iterator[MainWindow]:
    engine = Engine().start()
    settings = Settings(MemoryStore())
    settings.set("general/instance_url", visio_contract.url)
    win = MainWindow(engine, settings, media=SYNTHETIC)
    qtbot.addWidget(win)
    win.show()
    try:
        yield win
    finally:
        win.close()  # leaves the call and closes the instance clients
        engine.stop()


def _join(qtbot: QtBot, window: MainWindow, link: str, name: str) -> None:
    window.open_link(link)
    prejoin = window.prejoin
    assert prejoin is not None
    prejoin.name_edit.setText(name)
    qtbot.mouseClick(prejoin.join_button, Qt.MouseButton.LeftButton)


def test_waiting_room_then_admitted_then_hand_raised(qtbot: QtBot, window: MainWindow,
                                                     visio_contract: VisioContract) -> None:
    visio_contract.subtitle_enabled = True
    room_id = visio_contract.add_room("abc-defg-hij", "restricted")
    _join(qtbot, window, f"{visio_contract.url}/abc-defg-hij", "Claire")
    prejoin = window.prejoin
    assert prejoin is not None
    qtbot.waitUntil(lambda: prejoin.waiting and bool(visio_contract.waiting(room_id)),
                    timeout=10000)
    assert prejoin.progress.isVisible() and prejoin.heading.text() == "Waiting room"
    waiting = visio_contract.waiting(room_id)
    assert [w["username"] for w in waiting] == ["Claire"]
    visio_contract.decide(room_id, waiting[0]["id"], True)
    qtbot.waitUntil(lambda: window.call_page is not None, timeout=15000)
    page = window.call_page
    assert page is not None

    # the hand goes up through Visio's API (a Visio token cannot set its own attributes)
    page.actions_.hand.trigger()
    qtbot.waitUntil(lambda: page.snapshot.local.hand_raised, timeout=10000)
    calls = [r for r in visio_contract.requests if r.path.endswith("/toggle-hand/")]
    assert calls and calls[-1].method == "POST"

    # captions: the instance enables them, turning them on asks Visio to start them
    page.actions_.captions.trigger()
    qtbot.waitUntil(lambda: bool(visio_contract.subtitles_started), timeout=10000)


def test_waiting_room_denied_says_so(qtbot: QtBot, window: MainWindow,
                                     visio_contract: VisioContract) -> None:
    room_id = visio_contract.add_room("den-iedr-oom", "restricted")
    _join(qtbot, window, f"{visio_contract.url}/den-iedr-oom", "Claire")
    qtbot.waitUntil(lambda: bool(visio_contract.waiting(room_id)), timeout=10000)
    visio_contract.decide(room_id, visio_contract.waiting(room_id)[0]["id"], False)
    prejoin = window.prejoin
    assert prejoin is not None
    qtbot.waitUntil(lambda: prejoin.error_label.isVisible(), timeout=10000)
    assert prejoin.error_label.text() == "You were not let into the meeting."
    assert window.call_page is None and prejoin.join_button.isEnabled()


def test_unknown_code_says_so(qtbot: QtBot, window: MainWindow,
                              visio_contract: VisioContract) -> None:
    visio_contract.allow_unregistered_rooms = False
    _join(qtbot, window, f"{visio_contract.url}/zzz-zzzz-zzz", "Claire")
    prejoin = window.prejoin
    assert prejoin is not None
    qtbot.waitUntil(lambda: prejoin.error_label.isVisible(), timeout=10000)
    assert prejoin.error_label.text() == "This meeting does not exist (check the link)."


def test_sign_in_in_the_web_view_then_create_a_meeting(qtbot: QtBot, window: MainWindow,
                                                       visio_contract: VisioContract) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        visio_contract.add_user("sub-1", "camille@example.gouv.fr", "Camille Martin", "pw")
        visio_contract.add_room("mon-equi-pee", "restricted", owner_sub="sub-1",
                                name="Point d'équipe")
        qtbot.mouseClick(window.home.sign_in_button, Qt.MouseButton.LeftButton)
        dialog = window.sign_in_dialog
        loaded: list[bool] = []
        dialog.page.loadFinished.connect(loaded.append)
        qtbot.waitUntil(lambda: bool(loaded), timeout=20000)
        results: list[object] = []
        dialog.page.runJavaScript(
            "document.getElementById('email').value='camille@example.gouv.fr';"
            "document.getElementById('password').value='pw';"
            "document.getElementById('submit').click(); 'submitted'", 0, results.append)
        qtbot.waitUntil(lambda: bool(results), timeout=10000)

        qtbot.waitUntil(lambda: window.home.sign_out_button.isVisible(), timeout=20000)
        assert "Camille Martin" in window.home.account_label.text()
        assert ring.items, "the session is kept in the keyring"
        qtbot.waitUntil(lambda: window.home.rooms_list.count() == 1, timeout=10000)
        assert window.home.rooms_list.item(0).text() == "Point d'équipe"
        # Visio's session ends: a silent sign-in (the identity provider still knows us) brings
        # it back with no window shown
        visio_contract.expire_sessions()
        before = len([r for r in visio_contract.requests if r.path.endswith("/callback/")])
        window.refresh_account()
        qtbot.waitUntil(lambda: len([r for r in visio_contract.requests
                                     if r.path.endswith("/callback/")]) > before,
                        timeout=20000)
        qtbot.waitUntil(lambda: "Camille Martin" in window.home.account_label.text(),
                        timeout=20000)
        assert not window.sign_in_dialog.isVisible()
        qtbot.mouseClick(window.home.create_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.prejoin is not None, timeout=10000)
        assert window.target is not None and window.target.link is not None
        assert window.target.link.instance == visio_contract.url
    finally:
        keyring.set_keyring(previous)
