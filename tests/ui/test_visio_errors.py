"""Every way joining a Visio meeting can fail shows a clear message on the pre-join page, with
the way forward (Join again, Back); none hangs or crashes the window."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.conftest import API_KEY, API_SECRET
from tests.support.visio_contract import VisioContract
from visio_desktop.config import MemoryStore, Settings
from visio_desktop.engine import Engine
from visio_desktop.net.token import VideoGrants, create_token
from visio_desktop.ui.main_window import MainWindow

SYNTHETIC = {"camera": "none", "microphone": "tone", "speaker": "none"}
SLUG = "err-orsc-ase"


@pytest.fixture
def window(qtbot: QtBot, visio_contract: VisioContract) -> Iterator[MainWindow]:
    engine = Engine().start()
    settings = Settings(MemoryStore())
    settings.set("general/instance_url", visio_contract.url)
    win = MainWindow(engine, settings, media=SYNTHETIC)
    win.lobby_timeout_s = 1.5
    qtbot.addWidget(win)
    win.show()
    try:
        yield win
    finally:
        win.close()
        engine.stop()


def _other_room_token(contract: VisioContract) -> None:
    token = create_token(API_KEY, API_SECRET, identity="x",
                         grants=VideoGrants(room="another-room"))
    contract.fail_next(r"/rooms/[^/]+/$", 200, body={
        "id": "00000000-0000-0000-0000-000000000000", "slug": SLUG, "access_level": "public",
        "livekit": {"url": contract.url, "room": "the-room-asked", "token": token}})


CASES: list[tuple[str, Callable[[VisioContract], None], str]] = [
    ("unknown code", lambda c: setattr(c, "allow_unregistered_rooms", False),
     "This meeting does not exist (check the link)."),
    ("instance down", lambda c: c.down(),
     "The meeting server cannot be reached: check the network."),
    ("401", lambda c: c.fail_next(r"/rooms/", 401, times=None), "Sign in to do this."),
    ("403", lambda c: c.fail_next(r"/rooms/", 403, times=None),
     "You are not allowed to do this."),
    ("429", lambda c: c.fail_next(r"/rooms/", 429, headers={"Retry-After": "60"}, times=None),
     "Too many requests: try again in 60 s."),
    ("500 HTML page", lambda c: c.fail_next(r"/rooms/", 500, times=None),
     "The meeting server has a problem: try again later."),
    ("HTML where JSON was expected", lambda c: c.fail_next(
        r"/rooms/", 200, body="<html><body>Portail captif</body></html>",
        content_type="text/html", times=None),
     "The meeting server's answer was not understood."),
    ("a lobby that never answers", lambda c: c.add_room(SLUG, "restricted"),
     "Nobody let you into the meeting in time."),
    ("a token for another room", _other_room_token,
     "The server gave access to another meeting than the one asked for."),
]


@pytest.mark.parametrize(("case", "setup", "message"), CASES, ids=[c[0] for c in CASES])
def test_join_errors_are_shown(qtbot: QtBot, window: MainWindow, visio_contract: VisioContract,
                               case: str, setup: Callable[[VisioContract], None],
                               message: str) -> None:
    if case not in ("unknown code", "a lobby that never answers"):
        visio_contract.add_room(SLUG, "public")
    window.open_link(f"{visio_contract.url}/{SLUG}")
    prejoin = window.prejoin
    assert prejoin is not None
    prejoin.name_edit.setText("Claire")
    setup(visio_contract)
    qtbot.mouseClick(prejoin.join_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: prejoin.error_label.isVisible(), timeout=20000)
    assert prejoin.error_label.text() == message
    # the way forward: join again, or go back
    assert prejoin.join_button.isEnabled() and prejoin.cancel_button.isEnabled()
    assert window.call_page is None
    visio_contract.up()
