"""The French translation: complete, in step with the code, compiled, and really shown.

``scripts/update_translations`` refreshes ``resources/translations/visio_desktop_fr.ts`` from the
code and compiles it to ``visio_desktop_fr.qm``; these tests fail when either is out of date
(a new string to translate, a .qm not rebuilt) and when a widget still shows English in French.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMenu,
    QProgressBar,
    QTableWidget,
    QTabWidget,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from visio_desktop.ui.actions import CallActions
from visio_desktop.ui.app import install_translations, ui_language
from visio_desktop.ui.call_page import CallPage

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "update_translations"
TRANSLATIONS = ROOT / "resources" / "translations"
TS = TRANSLATIONS / "visio_desktop_fr.ts"
QM = TRANSLATIONS / "visio_desktop_fr.qm"
UPDATE_HINT = "run scripts/update_translations, translate the new strings, run it again"

# {0}, {name}; %1, %n, %L1 (Qt's own placeholders)
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%L?\d+|%n")
# an "&x" mnemonic, not the "&&" escape for a literal ampersand
MNEMONIC = re.compile(r"(?<!&)&(?!&)(\w)")


def _messages(path: Path) -> list[tuple[str, str, str, str | None]]:
    """(context, source, translation, translation type) of every message in a .ts file."""
    rows = []
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            rows.append((name, message.findtext("source") or "", translation.text or "",
                         translation.get("type")))
    return rows


def _tool(name: str) -> str:
    """A Qt linguist tool from the venv running the tests, else from the PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


# -- a. the .ts is complete and in step with the code ---------------------------------------

def test_every_string_is_translated() -> None:
    rows = _messages(TS)
    assert rows
    bad = [(c, s, kind) for c, s, t, kind in rows if kind is not None or not t.strip()]
    assert not bad, "unfinished, obsolete or empty translations:\n" + "\n".join(map(str, bad))


def test_the_ts_has_every_string_of_the_code(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is needed to run scripts/update_translations")
    fresh = tmp_path / "fresh.ts"
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(_tool("pyside6-lupdate")).parent),
                                                 os.environ.get("PATH", "")]))
    subprocess.run(["bash", str(SCRIPT), "--extract", str(fresh)], cwd=ROOT, env=env,
                   check=True, timeout=60, capture_output=True)
    in_code = {(c, s) for c, s, _t, _k in _messages(fresh)}
    in_ts = {(c, s) for c, s, _t, _k in _messages(TS)}
    assert in_code, "lupdate found no string"
    new = sorted(in_code - in_ts)
    gone = sorted(in_ts - in_code)
    assert not new and not gone, (
        f"{UPDATE_HINT}.\nnot in the .ts yet:\n" + "\n".join(map(str, new))
        + "\nno longer in the code:\n" + "\n".join(map(str, gone)))


def test_translations_keep_placeholders_and_mnemonics() -> None:
    wrong = []
    for context, source, translation, _kind in _messages(TS):
        if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(translation)):
            wrong.append((context, source, translation, "placeholders"))
        if bool(MNEMONIC.search(source)) != bool(MNEMONIC.search(translation)):
            wrong.append((context, source, translation, "mnemonic"))
        if len(MNEMONIC.findall(translation)) > 1:
            wrong.append((context, source, translation, "two mnemonics"))
        if source.count("\n") != translation.count("\n"):
            wrong.append((context, source, translation, "line breaks"))
    assert not wrong, "\n".join(map(str, wrong))


# -- b. the committed .qm is the compiled .ts -----------------------------------------------

def test_the_qm_is_up_to_date(qapp: QApplication, tmp_path: Path) -> None:
    compiled = tmp_path / "fr.qm"
    subprocess.run([_tool("pyside6-lrelease"), "-silent", str(TS), "-qm", str(compiled)],
                   check=True, timeout=60, capture_output=True)
    if compiled.read_bytes() == QM.read_bytes():
        return
    # another lrelease version may lay the file out differently: compare what it translates
    committed = QTranslator()
    assert committed.load(str(QM)), f"{QM} cannot be loaded"
    stale = [(c, s, t, committed.translate(c, s)) for c, s, t, _k in _messages(TS)
             if committed.translate(c, s) != t]
    assert not stale, f"{QM.name} is stale ({UPDATE_HINT}):\n" + "\n".join(map(str, stale))


# -- c. the real widgets, in French ---------------------------------------------------------

@pytest.fixture
def french(qapp: QApplication) -> Iterator[QApplication]:
    previous = QLocale()
    try:
        installed = install_translations(qapp, "fr")
        assert installed, "the French translation could not be loaded"
        assert QCoreApplication.translate("HomePage", "Join") == "Rejoindre"
        yield qapp
    finally:
        install_translations(qapp, "en")
        QLocale.setDefault(previous)
    assert QCoreApplication.translate("HomePage", "Join") == "Join"


def _untranslated_sources() -> set[str]:
    """English texts that never stay as they are in French: seeing one means a missed tr()."""
    translations: dict[str, set[str]] = {}
    for _c, source, translation, _k in _messages(TS):
        translations.setdefault(source, set()).add(translation)
    english = {s for s, french in translations.items() if s not in french}
    return english | {s.replace("&", "") for s in english if "&" in s}


def _action_texts(actions: list, seen: set[int]) -> Iterator[tuple[str, str]]:
    for action in actions:
        if id(action) in seen:
            continue
        seen.add(id(action))
        yield "action text", action.text()
        yield "action tooltip", action.toolTip()
        menu = action.menu()
        if isinstance(menu, QMenu):
            yield "menu title", menu.title()
            yield from _action_texts(menu.actions(), seen)


def _visible_texts(top: QWidget) -> list[tuple[str, str, str]]:
    """(widget, what, text) for the texts of ``top`` and of its visible descendants."""
    found: list[tuple[str, str, str]] = []
    seen_actions: set[int] = set()
    for widget in [top, *top.findChildren(QWidget)]:
        if widget is not top and not widget.isVisibleTo(top):
            continue
        label = f"{type(widget).__name__}({widget.objectName()})"

        def add(what: str, text: str, label: str = label) -> None:
            if text:
                found.append((label, what, text))

        if widget.isWindow():
            add("window title", widget.windowTitle())
        add("accessible name", widget.accessibleName())
        add("accessible description", widget.accessibleDescription())
        add("tooltip", widget.toolTip())
        if isinstance(widget, QLabel):
            add("text", widget.text())
        if isinstance(widget, QAbstractButton):
            add("text", widget.text())
        if isinstance(widget, QLineEdit):
            add("placeholder", widget.placeholderText())
        if isinstance(widget, QGroupBox):
            add("title", widget.title())
        if isinstance(widget, QProgressBar):
            add("format", widget.format())
        if isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                add("tab", widget.tabText(i))
                add("tab tooltip", widget.tabToolTip(i))
        if isinstance(widget, QComboBox):
            for i in range(widget.count()):
                add("item", widget.itemText(i))
        if isinstance(widget, QListWidget):
            for i in range(widget.count()):
                add("item", widget.item(i).text())
        if isinstance(widget, QTableWidget):
            for column in range(widget.columnCount()):
                header = widget.horizontalHeaderItem(column)
                add("header", header.text() if header else "")
            for row in range(widget.rowCount()):
                cell = widget.item(row, 0)
                add("cell", cell.text() if cell else "")
        if isinstance(widget, QToolButton) and widget.menu() is not None:
            add("menu title", widget.menu().title())
            for what, text in _action_texts(widget.menu().actions(), seen_actions):
                add(what, text)
        for what, text in _action_texts(widget.actions(), seen_actions):
            add(what, text)
    return found


def _english(texts: list[tuple[str, str, str]], english: set[str]) -> list[tuple[str, ...]]:
    def candidates(text: str) -> set[str]:
        # "Text (Ctrl+D)": tooltips carry the shortcut; "&Mute": buttons carry the mnemonic
        return {text, text.replace("&", ""), re.sub(r" \([^()]*\)$", "", text)}

    return sorted({(w, what, t) for w, what, t in texts if candidates(t) & english})


@contextmanager
def _call_page(qtbot: QtBot) -> Iterator[tuple[QMainWindow, CallPage]]:
    from visio_desktop.call import Call, MediaOptions
    from visio_desktop.call_state import CallSnapshot, ConnectionState, ParticipantState
    from visio_desktop.engine import Engine
    from visio_desktop.ui.operations import Operations

    engine = Engine().start()
    try:
        window = QMainWindow()
        qtbot.addWidget(window)
        call = Call(MediaOptions(camera="test-pattern", microphone="tone", speaker="none"))
        page = CallPage(call, Operations(engine, window))
        window.setCentralWidget(page)
        window.resize(1280, 800)
        window.show()
        page.set_snapshot(CallSnapshot(
            room_name="abc-defg-hij", state=ConnectionState.CONNECTED, recording=True,
            participants=(
                ParticipantState("me", "Alice", is_local=True, microphone_muted=False,
                                 hand_raised_at=datetime.now(UTC)),
                ParticipantState("bob", "Bob", is_admin=True,
                                 hand_raised_at=datetime.now(UTC)),
                ParticipantState("carol", "Carol"),
            )))
        yield window, page
    finally:
        engine.stop()


def test_the_interface_is_in_french(french: QApplication, qtbot: QtBot) -> None:
    from visio_desktop.config import MemoryStore, Settings
    from visio_desktop.media.frame_store import FrameStore
    from visio_desktop.ui.home import HomePage, RecentMeetings
    from visio_desktop.ui.prejoin import PreJoinPage
    from visio_desktop.ui.settings_dialog import SettingsDialog

    english = _untranslated_sources()
    texts: list[tuple[str, str, str]] = []

    home = HomePage(RecentMeetings(MemoryStore()))
    qtbot.addWidget(home)
    home.show()
    texts += _visible_texts(home)

    prejoin = PreJoinPage(FrameStore())
    qtbot.addWidget(prejoin)
    prejoin.set_media(camera_on=False, microphone_on=True)
    prejoin.show()
    texts += _visible_texts(prejoin)

    shortcuts = CallActions().shortcut_list()
    settings = SettingsDialog(Settings(MemoryStore()), tray_available=False, shortcuts=shortcuts)
    qtbot.addWidget(settings)
    settings.show()
    for index in range(settings.tabs.count()):
        settings.tabs.setCurrentIndex(index)
        texts += _visible_texts(settings)

    with _call_page(qtbot) as (window, page):
        texts += _visible_texts(window)
        for action in (page.actions_.participants, page.actions_.chat, page.actions_.captions):
            action.setChecked(True)
            texts += _visible_texts(window)

    assert len(texts) > 100, "too few texts found: is the widget walk broken?"
    offenders = _english(texts, english)
    assert not offenders, "English strings shown in French (not translated?):\n" + "\n".join(
        f"{w} {what}: {t!r}" for w, what, t in offenders)


def test_settings_mnemonics_are_unique_in_french(french: QApplication, qtbot: QtBot) -> None:
    from visio_desktop.config import MemoryStore, Settings
    from visio_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(MemoryStore()), tray_available=True,
                            shortcuts=CallActions().shortcut_list())
    qtbot.addWidget(dialog)
    dialog.show()
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    clashes = []
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        texts = list(tabs)
        for widget in dialog.tabs.currentWidget().findChildren(QWidget):
            if widget.isVisibleTo(dialog) and isinstance(widget, QLabel | QAbstractButton):
                texts.append(widget.text())
        keys = Counter(m.lower() for t in texts for m in MNEMONIC.findall(t))
        clashes += [(tabs[index], key, [t for t in texts if f"&{key}" in t.lower()])
                    for key, n in keys.items() if n > 1]
    assert not clashes, "\n".join(map(str, clashes))


# -- d. the language chosen -----------------------------------------------------------------

def test_ui_language_follows_the_setting_then_the_system() -> None:
    assert ui_language("system", QLocale("fr_FR")) == "fr"
    assert ui_language("system", QLocale("fr_BE")) == "fr"
    assert ui_language("system", QLocale("de_DE")) == "en"
    assert ui_language("system", QLocale("en_GB")) == "en"
    assert ui_language("en", QLocale("fr_FR")) == "en"
    assert ui_language("fr", QLocale("de_DE")) == "fr"
