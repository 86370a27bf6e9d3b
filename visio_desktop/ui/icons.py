"""The application's monochrome SVG icons (``resources/icons/<name>.svg``), tinted for the theme.

The SVGs draw with ``currentColor``; :func:`icon` substitutes a colour (the palette's window
text colour by default, so icons follow light and dark themes), renders a few pixmap sizes with
QSvgRenderer, and adds a greyed version for disabled buttons. Results are cached per name and
colour; a theme change gives new colours, hence new cache entries.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

log = logging.getLogger(__name__)

ICONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"
SIZES = (16, 20, 24, 32, 48, 64)

ICON_NAMES: tuple[str, ...] = (
    "mic", "mic-off", "camera", "camera-off", "screen-share", "screen-share-stop", "hand",
    "reaction", "chat", "participants", "captions", "more", "leave", "pin", "fullscreen",
    "fullscreen-exit", "settings", "copy", "link", "speaker", "grid", "speaker-view", "send",
    "close", "app",
)


def icon_path(name: str) -> Path:
    return ICONS_DIR / f"{name}.svg"


@cache
def _svg_source(name: str) -> str | None:
    try:
        return icon_path(name).read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("icon %r not found: %s", name, exc)
        return None


def _palette_colour(group: QPalette.ColorGroup) -> QColor:
    return QGuiApplication.palette().color(group, QPalette.ColorRole.WindowText)


def _render(svg: str, colour: QColor, size: int) -> QPixmap:
    tinted = svg.replace("currentColor", colour.name(QColor.NameFormat.HexRgb))
    renderer = QSvgRenderer(QByteArray(tinted.encode("utf-8")))
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setOpacity(colour.alphaF())
    renderer.render(painter)
    painter.end()
    return QPixmap.fromImage(image)


@cache
def _cached_icon(name: str, rgba: int, disabled_rgba: int) -> QIcon:
    svg = _svg_source(name)
    result = QIcon()
    if svg is None:
        return result
    colour = QColor.fromRgba(rgba)
    disabled = QColor.fromRgba(disabled_rgba)
    for size in SIZES:
        result.addPixmap(_render(svg, colour, size), QIcon.Mode.Normal)
        result.addPixmap(_render(svg, disabled, size), QIcon.Mode.Disabled)
    return result


def icon(name: str, color: QColor | None = None) -> QIcon:
    """The icon ``name`` (see :data:`ICON_NAMES`) in ``color`` (default: the palette's text
    colour). Needs a QGuiApplication. An unknown name gives a null QIcon and a warning."""
    colour = QColor(color) if color is not None else _palette_colour(QPalette.ColorGroup.Active)
    disabled = _palette_colour(QPalette.ColorGroup.Disabled)
    if color is not None:
        disabled = QColor(colour)
        disabled.setAlphaF(colour.alphaF() * 0.4)
    return _cached_icon(name, colour.rgba(), disabled.rgba())


def clear_cache() -> None:
    """Forgets rendered icons (e.g. after the icon files changed)."""
    _cached_icon.cache_clear()
    _svg_source.cache_clear()
