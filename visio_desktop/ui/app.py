"""Starting the desktop application: Qt, translations, theme, the engine thread, the window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from visio_desktop import __version__
from visio_desktop.config import Settings
from visio_desktop.engine import Engine

log = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
TRANSLATIONS = RESOURCES / "translations"
STYLE = RESOURCES / "styles" / "visio.qss"
LANGUAGES = ("fr", "en")


def ui_language(setting: str, system: QLocale | None = None) -> str:
    """The language to show: the setting, or the OS language when it is one we ship
    (French first: the service is French), else English."""
    if setting in LANGUAGES:
        return setting
    name = (system or QLocale.system()).name().split("_")[0]
    return name if name in LANGUAGES else "en"


def install_translations(app: QApplication, language: str) -> list[QTranslator]:
    """Our strings and Qt's own (standard buttons, dialogs) in ``language``; English is the
    source language and needs none."""
    installed: list[QTranslator] = []
    for translator in getattr(app, "_visio_translators", []):
        app.removeTranslator(translator)
    if language != "en":
        ours = QTranslator(app)
        if ours.load(str(TRANSLATIONS / f"visio_desktop_{language}.qm")):
            installed.append(ours)
        else:
            log.warning("no %s translation found in %s", language, TRANSLATIONS)
        qt = QTranslator(app)
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt.load(f"qtbase_{language}", qt_dir):
            installed.append(qt)
    for translator in installed:
        app.installTranslator(translator)
    app._visio_translators = installed  # type: ignore[attr-defined]
    QLocale.setDefault(QLocale(language))
    return installed


def apply_theme(app: QApplication, theme: str) -> None:
    """light / dark / system; plus our style sheet (focus rings, spacing), which uses palette
    colours so that it follows the theme and high-contrast settings."""
    hints = QGuiApplication.styleHints()
    scheme = {"light": 1, "dark": 2}.get(theme)  # Qt.ColorScheme.Light / Dark
    if hasattr(hints, "setColorScheme"):
        from PySide6.QtCore import Qt

        hints.setColorScheme(Qt.ColorScheme(scheme) if scheme else Qt.ColorScheme.Unknown)
    if STYLE.exists():
        app.setStyleSheet(STYLE.read_text(encoding="utf-8"))


def apply_font_scale(app: QApplication, base: Any, scale: float) -> None:
    """The accessibility setting "text size": every widget's font, from the system's."""
    from PySide6.QtGui import QFont

    font = QFont(base)
    if base.pointSizeF() > 0:
        font.setPointSizeF(base.pointSizeF() * max(0.5, min(3.0, float(scale))))
    app.setFont(font)


def create_application(argv: list[str] | None = None) -> QApplication:
    from PySide6.QtCore import QCoreApplication, Qt

    from visio_desktop.ui.sign_in import prepare_web_engine

    if QApplication.instance() is None:
        # the sign-in web view (Qt WebEngine) needs these before the application exists
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        prepare_web_engine()
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Visio Desktop")
    app.setOrganizationName("DINUM")
    app.setOrganizationDomain("numerique.gouv.fr")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("fr.gouv.numerique.VisioDesktop")
    return app


def load_settings() -> Settings:
    from visio_desktop.ui.settings_store import QSettingsStore

    return Settings.load(QSettingsStore())


def run(argv: list[str] | None = None, *, media: dict[str, Any] | None = None,
        join: str | None = None, language: str | None = None) -> int:
    """The GUI: returns the application's exit code. A second launch hands its link (if any)
    to the running window and exits."""
    app = create_application(argv)
    from visio_desktop.ui.single_instance import SingleInstance, send_to_running

    if send_to_running(join or ""):
        log.info("handed over to the running Visio Desktop")
        return 0
    instance = SingleInstance(parent=app)
    instance.listen()
    settings = load_settings()
    install_translations(app, ui_language(language or settings.get("general/language")))
    apply_theme(app, settings.get("general/theme"))
    base_font = app.font()
    apply_font_scale(app, base_font, settings.get("accessibility/font_scale"))

    def changed(key: str, value: Any) -> None:  # theme and text size apply at once
        if key == "general/theme":
            apply_theme(app, value)
        elif key == "accessibility/font_scale":
            apply_font_scale(app, base_font, value)

    settings.on_change(changed)
    if app.palette().color(QPalette.ColorRole.Window).lightness() < 128:
        log.debug("dark palette")
    engine = Engine().start()
    from visio_desktop.ui.main_window import MainWindow

    window = MainWindow(engine, settings, media=media)
    window.show()

    def received(link: str) -> None:
        window.restore()
        if link and window.call is None:
            window.open_link(link)

    instance.message_received.connect(received)
    window.refresh_account()
    if join:
        window.open_link(join)
    try:
        return app.exec()
    finally:
        engine.stop()
