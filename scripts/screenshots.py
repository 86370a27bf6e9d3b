"""Screenshots of the real application, in French, for the documentation.

The application runs as a user would see it (window of 1280x800, French interface): Home with
two recent meetings, the pre-join page with the live synthetic camera and the microphone meter,
then a meeting hosted on this computer that three guests join by its link (Calls in a child
process, synthetic cameras), the chat, live captions sent by an official-SDK agent as
Visio's transcriber does, and a guest's screen share. Every image is taken once real frames
are on screen. Nothing leaves this computer (the meeting listens on 127.0.0.1 only).

Usage (an X display is needed: ``scripts/screenshots`` starts Xvfb and runs this)::

    python scripts/screenshots.py [--out docs/screenshots]

Prints the files written; exits 0 when all of them were taken.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication, QPixmap  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from visio_desktop.call import Call, MediaOptions  # noqa: E402
from visio_desktop.config import MemoryStore, Settings  # noqa: E402
from visio_desktop.engine import Engine  # noqa: E402
from visio_desktop.net.links import parse_link  # noqa: E402
from visio_desktop.net.visio_api import fetch_room  # noqa: E402
from visio_desktop.ui.app import (  # noqa: E402
    TRANSLATIONS,
    apply_theme,
    create_application,
    install_translations,
)
from visio_desktop.ui.home import RecentMeetings  # noqa: E402
from visio_desktop.ui.main_window import MainWindow  # noqa: E402

log = logging.getLogger("screenshots")

WIDTH, HEIGHT = 1280, 800
DEFAULT_OUT = ROOT / "docs" / "screenshots"
HOST_NAME = "Camille Martin"
# (name, microphone on): one guest speaks (a tone: the speaking outline), the others are muted
GUESTS = (("Léa Dubois", True), ("Karim Benali", False), ("Sophie Lefèvre", False))
HOST_MEDIA: dict[str, Any] = {"camera": "test-pattern", "microphone": "tone", "speaker": "none",
                              "camera_preset": "360p"}
CHAT = (  # (who: -1 the host, else a guest's index, text)
    (-1, "Bonjour à tous, merci d'être là !"),
    (0, "Bonjour Camille, bonjour à tous."),
    (1, "L'ordre du jour est ici : https://docs.numerique.gouv.fr/docs/ordre-du-jour"),
    (2, "Merci Karim, je le partage aussi dans le canal de l'équipe."),
    (-1, "Parfait, on commence dans deux minutes."),
)
CAPTIONS = (  # (guest index, segment id, text); interim then final, as the transcriber sends
    (0, "SG_1", "Bonjour à tous, on commence par le point sur le déploiement."),
    (1, "SG_2", "La version de test est en ligne depuis lundi matin."),
    (0, "SG_3", "Très bien. Des retours des utilisateurs de la préfecture ?"),
    (2, "SG_4", "Oui, plutôt positifs, surtout sur la qualité du son."),
)
# the recent meetings on Home: (link, title or None for the app's own "meeting on this
# computer" title, how long ago)
RECENT = (
    ("https://visio.numerique.gouv.fr/kzr-pqwt-bnm", None, timedelta(days=2, hours=3)),
    ("http://192.168.1.24:7880/abc-defg-hij", "local", timedelta(hours=20)),
)


# -- waiting on the Qt event loop ----------------------------------------------------------------
def wait(ms: int) -> None:
    """Let the event loop run for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        wait(50)


class Shooter:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []

    def save(self, pixmap: QPixmap, name: str) -> None:
        path = self.out / name
        if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
            raise RuntimeError(f"could not write {path}")
        self.written.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({pixmap.width()}x{pixmap.height()})", flush=True)

    def widget(self, widget: QWidget, name: str) -> None:
        wait(150)  # pending paints, layouts
        self.save(widget.grab(), name)

    def screen(self, name: str, widget: QWidget) -> None:
        """The screen's pixels over ``widget``'s window (with the dialogs above it)."""
        wait(250)
        screen = widget.screen() or QGuiApplication.primaryScreen()
        frame = widget.window().frameGeometry()
        self.save(screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()),
                  name)


# -- the guests and the agent, in a child process ------------------------------------------------
# The guests run in a process of their own (``--role guests``), as they would on other computers:
# sharing the application's process (and its GIL) on a small machine, they slow its engine
# loop down until UDP packets are dropped, and reliable data (captions) stalls.
class GuestProcess:
    """Drives ``--role guests``: one JSON request a line on its stdin, one reply on its stdout.
    Requests run in a worker thread while the Qt event loop keeps running."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--role", "guests"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, cwd=ROOT,
            text=True, encoding="utf-8", bufsize=1)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="guests")

    def _roundtrip(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the guests' process ended: {self.tail()}")
        result: dict[str, Any] = json.loads(reply)
        return result

    def request(self, command: str, timeout_s: float = 30.0, **args: Any) -> dict[str, Any]:
        future = self._pool.submit(self._roundtrip, json.dumps({"cmd": command, **args}))
        wait_until(future.done, timeout_s, f"the guests' {command!r}")
        result = future.result()
        if "error" in result:
            raise RuntimeError(f"guests' {command!r} failed: {result['error']}")
        return result

    def tail(self, lines: int = 20) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(text)

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pool.shutdown(wait=False)
        self._log.close()


async def run_guests() -> None:
    """The guests' side: Calls with synthetic cameras that join by the link, chat, share a
    screen; an official-SDK agent sending captions as Visio's transcriber does."""
    from livekit import rtc

    loop = asyncio.get_running_loop()
    guests: list[Call] = []
    agent: rtc.Room | None = None

    async def ignore_incoming_video() -> None:
        # nobody looks at the guests' screens: the server pauses what they would receive
        while True:
            for guest in guests:
                for p in guest.snapshot.participants[1:]:
                    for key in (p.camera_key, p.screen_key):
                        if key is not None:
                            guest.set_video_view(key, 0, 0)
            await asyncio.sleep(0.5)

    async def join(link: str, people: list[tuple[str, bool]]) -> dict[str, Any]:
        for name, microphone_on in people:
            guest = Call(MediaOptions(camera="test-pattern", microphone="tone", speaker="none",
                                      camera_preset="360p", microphone_on=microphone_on))
            access = await fetch_room(parse_link(link), name)
            await guest.join(access.livekit_url, access.token)
            guests.append(guest)
        return {"identities": [g.room.local_participant.identity for g in guests]}

    async def captions(url: str, token: str, items: list[tuple[int, str, str]]) -> None:
        nonlocal agent
        agent = rtc.Room()
        await agent.connect(url, token)
        for index, segment, text in items:
            words = text.split()
            interim = " ".join(words[: max(1, len(words) // 2)])
            for part, final in ((interim, "false"), (text, "true")):
                await agent.local_participant.send_text(part, topic="lk.transcription",
                                                        attributes={
                    "lk.transcribed_track_id": guests[index]._microphone_sid,
                    "lk.segment_id": segment, "lk.transcription_final": final})
                await asyncio.sleep(0.2)

    async def agent_leave() -> None:
        if agent is not None:
            await agent.disconnect()

    async def leave() -> None:
        for guest in guests:
            await guest.leave()

    pauser = loop.create_task(ignore_incoming_video())
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            request = json.loads(line)
            command = request.pop("cmd")
            try:
                result: Any = None
                if command == "join":
                    result = await join(request["link"], request["guests"])
                elif command == "chat":
                    await guests[request["guest"]].send_chat(request["text"])
                elif command == "captions":
                    await captions(request["url"], request["token"], request["items"])
                elif command == "agent_leave":
                    await agent_leave()
                elif command == "share":
                    await guests[request["guest"]].start_screen_share("test-pattern", fps=5)
                elif command == "leave":
                    await leave()
                else:
                    raise ValueError(f"unknown command {command!r}")
                reply = {"ok": True, **(result or {})}
            except Exception as exc:
                log.exception("%s failed", command)
                reply = {"error": repr(exc)}
            print(json.dumps(reply), flush=True)
    finally:
        pauser.cancel()
        with contextlib.suppress(Exception):
            await agent_leave()
        with contextlib.suppress(Exception):
            await leave()


# -- the tour ------------------------------------------------------------------------------------
def fill_recent(settings: Settings) -> None:
    recent = RecentMeetings(settings.store)
    local_title = QCoreApplication.translate("MainWindow", "Meeting on this computer")
    now = datetime.now(UTC)
    for link, title, _ago in RECENT:
        recent.add(link, local_title if title == "local" else (title or link))
    # add() dates them now: spread them back in time (newest first, as add() keeps them)
    items = json.loads(settings.store.get(RecentMeetings.KEY))
    ago = {link: delta for link, _title, delta in RECENT}
    for item in items:
        item["joined_at"] = (now - ago[item["link"]]).isoformat()
    settings.store.set(RecentMeetings.KEY, json.dumps(items))


def all_tiles_live(window: MainWindow, count: int) -> bool:
    page, call = window.call_page, window.call
    if page is None or call is None:
        return False
    keys = page.stage.tile_keys()
    if len(keys) != count:
        return False
    for key in keys:
        tile = page.stage.tile(key)
        if tile is None or not tile.isVisible():
            return False
        video = tile.video_key()
        if video is None or call.frames.frame_count(video) < 10:
            return False
    return True


def tour(shots: Shooter, engine: Engine, guests: GuestProcess, qsettings: QSettings) -> None:
    settings = Settings(MemoryStore())
    settings.set("local/bind_lan", False)  # the meeting listens on 127.0.0.1 only
    settings.set("general/display_name", HOST_NAME)
    fill_recent(settings)
    window = MainWindow(engine, settings, media=HOST_MEDIA, qsettings=qsettings)
    window.setGeometry(0, 0, WIDTH, HEIGHT)
    window.show()
    window.resize(WIDTH, HEIGHT)
    wait_until(lambda: window.isVisible() and window.home.isVisible(), 10, "the window")
    wait(400)
    if (window.width(), window.height()) != (WIDTH, HEIGHT):
        raise RuntimeError(f"the window is {window.width()}x{window.height()}, "
                           f"not {WIDTH}x{HEIGHT}")
    window.home.link_edit.clearFocus()
    shots.widget(window, "home.png")

    # pre-join: live preview and level meter
    window.host_meeting()
    prejoin, call = window.prejoin, window.call
    assert prejoin is not None and call is not None
    prejoin.name_edit.setText(HOST_NAME)
    wait_until(lambda: prejoin.preview.video_key() is not None
               and call.frames.frame_count("local:camera") > 10, 15, "the camera preview")
    wait_until(lambda: prejoin.level.value() > 10, 10, "the microphone level")
    wait_until(lambda: prejoin.camera_combo.count() > 0, 10, "the device lists")
    wait(500)
    shots.widget(window, "prejoin.png")

    # join: the invitation dialog opens at once
    prejoin.join_button.click()
    wait_until(lambda: window.call_page is not None, 30, "the call page")
    page = window.call_page
    meeting = window.local_meeting
    assert page is not None and meeting is not None
    dialog = getattr(window, "meeting_info", None)
    wait_until(lambda: dialog is not None and dialog.isVisible(), 10,
               "the meeting-info dialog")
    assert dialog is not None
    wait(300)
    shots.screen("invite.png", window)
    dialog.close()

    # three guests join by the link
    page.actions_.microphone.setChecked(False)  # the host listens: muted badge on its tile
    guests.request("join", 60, link=meeting.link, guests=GUESTS)
    wait_until(lambda: all_tiles_live(window, 4), 30, "video in all four tiles")
    wait(1500)  # the speaking outline, a few more frames
    page.toasts.clear()  # "… joined the meeting"
    shots.widget(window, "call-4.png")

    # chat, with a link
    page.actions_.chat.setChecked(True)
    for who, text in CHAT:
        if who < 0:
            page.chat.input().setPlainText(text)
            page.chat.send()
        else:
            guests.request("chat", guest=who, text=text)
        wait_until(lambda e=text: any(m.text == e for m in page.chat.messages()), 10,
                   f"the chat message {text!r}")
    page.chat.input().setPlainText("Je vous envoie le lien de la prés")
    page.toasts.clear()
    wait(300)
    shots.widget(window, "chat.png")
    page.chat.input().clear()
    page.actions_.chat.setChecked(False)

    # captions from an official-SDK agent: the overlay and the transcript panel
    assert meeting.server is not None and meeting.meeting is not None
    token = meeting.server.meetings.token(meeting.meeting, name="Transcription",
                                          identity="agent-transcriber")
    guests.request("captions", url=meeting.local_url, token=token, items=CAPTIONS)
    last = CAPTIONS[-1][2]
    try:
        wait_until(lambda: any(last in line for line in page.captions_overlay.visible_lines()),
                   30, "the captions overlay")
    except TimeoutError:
        print(f"captions shown: {page.captions_overlay.visible_lines()}", file=sys.stderr)
        raise
    # the agent leaves (its captions stay): it would otherwise show as a fifth tile
    guests.request("agent_leave")
    wait_until(lambda: len(page.stage.tile_keys()) == 4, 15, "the agent to leave")
    # no control opens the transcript panel yet: show it as the call page would
    page._show_panel(page.captions_panel, True)
    page.toasts.clear()
    wait(600)
    shots.widget(window, "captions.png")
    page._show_panel(page.captions_panel, False)
    page.actions_.captions.setChecked(False)

    # a guest shares a screen: it takes the stage
    guests.request("share", guest=1)
    wait_until(lambda: (page.stage.focused_key() or "").endswith(":screen"), 20,
               "the screen share on the stage")
    focused = page.stage.focused_key() or ""
    wait_until(lambda: (tile := page.stage.tile(focused)) is not None
               and tile.video_key() is not None
               and call.frames.frame_count(tile.video_key() or "") >= 3, 20,
               "frames of the screen share")
    wait(800)
    page.toasts.clear()
    shots.widget(window, "screen-share.png")

    # the guests leave, then the host ends the meeting
    guests.request("leave")
    page.actions_.leave.trigger()
    wait_until(lambda: window.call is None, 20, "the end of the meeting")
    window.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder of the PNG files")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--role", choices=("guests",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.role == "guests":
        asyncio.run(run_guests())
        return 0
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    app = create_application(["visio-desktop"])
    install_translations(app, "fr")
    catalog = TRANSLATIONS / "visio_desktop_fr.qm"
    if not catalog.exists():
        print(f"warning: {catalog.relative_to(ROOT)} is missing: the application's own texts "
              "stay in English (Qt's standard texts are in French)", file=sys.stderr)
    apply_theme(app, "light")
    shots = Shooter(out)
    engine = Engine("app-engine").start()
    with tempfile.TemporaryDirectory(prefix="visio-screenshots-") as tmp:
        # the window's geometry goes to a throwaway file, not the user's settings
        qsettings = QSettings(str(Path(tmp) / "window.ini"), QSettings.Format.IniFormat)
        guests = GuestProcess(Path(tmp) / "guests.log")
        try:
            print(f"writing screenshots to {out}", flush=True)
            tour(shots, engine, guests, qsettings)
        except Exception:
            print(f"--- the guests' log (end) ---\n{guests.tail()}", file=sys.stderr)
            raise
        finally:
            guests.close()
            engine.stop()
    print(f"{len(shots.written)} screenshots in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
