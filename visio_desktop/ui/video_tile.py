"""One tile of the call's stage: a participant's camera (or an avatar) or a screen share.

The tile only reads a :class:`ParticipantState` and the :class:`FrameStore`: it paints the
newest frame of its video key at its own size (device pixels, aspect kept, dark letterbox),
tells the store the size it paints at (``set_view``; ``(0, 0)`` when hidden, so hidden tiles
cost nothing), and draws its overlays with QPainter — the name is always plain text.
"""

from __future__ import annotations

import zlib

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QMenu, QToolTip, QWidget

from visio_desktop.call_state import ParticipantState, Quality
from visio_desktop.media.frame_store import FrameStore, TileImage

SCREEN_SUFFIX = ":screen"  # tile key of a screen share: identity + SCREEN_SUFFIX

VIDEO_BACKGROUND = QColor(28, 29, 32)  # letterbox and avatar background, in light and dark themes
OVERLAY_BACKGROUND = QColor(0, 0, 0, 170)  # behind white overlay text: contrast over any video
OVERLAY_FOREGROUND = QColor(255, 255, 255)
HAND_BACKGROUND = QColor(255, 214, 10)  # the hand badge: dark icon on yellow, shape + number
HAND_FOREGROUND = QColor(0, 0, 0)
FOCUS_OUTER = QColor(0, 0, 0)
FOCUS_INNER = QColor(255, 255, 255)


def screen_tile_key(identity: str) -> str:
    return identity + SCREEN_SUFFIX


def initials(name: str) -> str:
    """Up to two letters: the first letter (or digit) of the first two words, upper case."""
    letters = []
    for word in name.split():
        first = next((c for c in word if c.isalnum()), "")
        if first:
            letters.append(first.upper())
        if len(letters) == 2:
            break
    return "".join(letters) or "?"


def avatar_colour(identity: str) -> QColor:
    """A stable colour per identity (crc32, not hash(): the same in every run), dark enough for
    white initials (contrast above 4.5:1)."""
    hue = zlib.crc32(identity.encode("utf-8")) % 360
    return QColor.fromHsl(hue, 120, 80)


class VideoTile(QWidget):
    """Shows one participant or one screen share; ``key`` is the tile's key on the stage (the
    identity, or identity + ":screen"). ``pinnable=False`` (a preview) offers no pin action."""

    pin_requested = Signal(str)  # the user asked to pin (or, if pinned, unpin) the tile's key

    def __init__(self, store: FrameStore, key: str, parent: QWidget | None = None, *,
                 pinnable: bool = True) -> None:
        super().__init__(parent)
        # tooltips through a filter, not an event() override: every event (a deferred delete
        # included) would go through Python, and returning into a deleted widget crashes
        self._tooltips = _TooltipFilter(self)
        self.installEventFilter(self._tooltips)
        self._store = store
        self._key = key
        self._pinnable = pinnable
        self._state: ParticipantState | None = None
        self._screen = False
        self._pinned = False
        self._hand_order: int | None = None
        self._video_key: str | None = None
        self._seen_count = 0  # frame_count of the video key when last asked to repaint
        self._announced: tuple[str, int, int] | None = None  # last set_view call
        self._badges: list[tuple[QRect, str]] = []  # where the painted badges are, for tooltips
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if pinnable else Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paint() fills every pixel
        self.setMinimumSize(QSize(48, 27))

    # -- state ---------------------------------------------------------------------------------
    def key(self) -> str:
        return self._key

    def identity(self) -> str:
        return self._state.identity if self._state is not None else self._key

    def state(self) -> ParticipantState | None:
        return self._state

    def video_key(self) -> str | None:
        """The FrameStore key painted, None when the tile shows an avatar."""
        return self._video_key

    def is_screen(self) -> bool:
        return self._screen

    def is_pinned(self) -> bool:
        return self._pinned

    def hand_order(self) -> int | None:
        return self._hand_order

    def update_state(self, p: ParticipantState, *, screen: bool = False, pinned: bool = False,
                     hand_order: int | None = None) -> None:
        if p.hand_raised_at is None:
            hand_order = None
        if (p, screen, pinned, hand_order) == (self._state, self._screen, self._pinned,
                                                self._hand_order):
            return
        self._state, self._screen, self._pinned = p, screen, pinned
        self._hand_order = hand_order
        self._set_video_key(p.screen_key if screen else p.camera_key)
        self._update_accessibility()
        self.update()

    def display_text(self) -> str:
        """The name label's text, exactly as painted (plain text)."""
        if self._state is None:
            return self._key
        name = self._state.display_name
        if self._screen:
            return self.tr("{name} (screen)").format(name=name)
        if self._state.is_local:
            return self.tr("{name} (you)").format(name=name)
        return name

    def status_texts(self) -> list[str]:
        """What the badges say, in words (the accessible description)."""
        p = self._state
        if p is None:
            return []
        texts = []
        if not self._screen:
            if p.microphone_muted:
                texts.append(self.tr("microphone muted"))
            if p.camera_key is None:
                texts.append(self.tr("camera off"))
            if p.hand_raised_at is not None:
                if self._hand_order is not None:
                    texts.append(self.tr("hand raised, number {order}").format(
                        order=self._hand_order))
                else:
                    texts.append(self.tr("hand raised"))
        quality = self._quality_text()
        if quality:
            texts.append(quality)
        if self._pinned:
            texts.append(self.tr("pinned"))
        return texts

    def _quality_text(self) -> str:
        p = self._state
        if p is None:
            return ""
        if p.quality is Quality.POOR:
            return self.tr("poor connection")
        if p.quality is Quality.LOST:
            return self.tr("connection lost")
        return ""

    def _update_accessibility(self) -> None:
        texts = self.status_texts()
        name = " — ".join([self.display_text(), *texts])
        description = ", ".join(texts)
        if self._pinnable:
            hint = self.tr("Press Enter to unpin.") if self._pinned else self.tr(
                "Press Enter to pin.")
            description = f"{description}. {hint}" if description else hint
        if self.accessibleName() != name:
            self.setAccessibleName(name)
        if self.accessibleDescription() != description:
            self.setAccessibleDescription(description)

    # -- video and the frame store ---------------------------------------------------------------
    def _set_video_key(self, key: str | None) -> None:
        if key == self._video_key:
            return
        if self._video_key is not None:
            self._store.set_view(self._video_key, 0, 0)
        self._announced = None
        self._video_key = key
        self._seen_count = self._store.frame_count(key) if key is not None else 0
        self._announce()

    def device_size(self) -> tuple[int, int]:
        """The tile's size in device pixels."""
        ratio = self.devicePixelRatioF()
        return max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio))

    def _announce(self) -> None:
        """Tell the store the size we paint at, (0, 0) when hidden."""
        if self._video_key is None:
            return
        w, h = self.device_size() if self.isVisible() else (0, 0)
        view = (self._video_key, w, h)
        if view != self._announced:
            self._store.set_view(*view)
            self._announced = view

    def refresh(self) -> bool:
        """Repaint if the video has a new frame; True when a repaint was asked for."""
        key = self._video_key
        if key is None or not self.isVisible():
            return False
        count = self._store.frame_count(key)
        if count == self._seen_count:
            return False
        if self._seen_count == 0:
            self._announced = None  # the store's slot may be newer than our set_view: repeat it
        self._seen_count = count
        self._announce()
        self.update()
        return True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._announce()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._announce()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._announce()

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), VIDEO_BACKGROUND)
        if not self._paint_video(painter):
            self._paint_avatar(painter)
        self._badges = []
        self._paint_name(painter)
        self._paint_badges(painter)
        self._paint_outline(painter)
        painter.end()

    def _paint_video(self, painter: QPainter) -> bool:
        if self._video_key is None:
            return False
        dw, dh = self.device_size()
        tile = self._store.latest(self._video_key, dw, dh)
        if tile is None:
            return False
        target = self._target_rect(tile, dw, dh)
        scaled = abs(target.width() * self.devicePixelRatioF() - tile.width) > 0.5
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scaled)
        painter.drawImage(target, _qimage(tile))
        return True

    def _target_rect(self, tile: TileImage, dw: int, dh: int) -> QRectF:
        """Where the frame goes, in logical pixels: centred, aspect kept; at its own size when
        the store fitted it to the tile already, scaled up when the source is smaller."""
        ratio = self.devicePixelRatioF()
        scale = min(dw / tile.width, dh / tile.height)
        if scale < 1.02:  # fitted by the store (sizes are rounded to even numbers)
            scale = 1.0
        w, h = tile.width * scale / ratio, tile.height * scale / ratio
        # on whole device pixels: a half-pixel offset would blur the frame's edges
        x = round((self.width() - w) / 2 * ratio) / ratio
        y = round((self.height() - h) / 2 * ratio) / ratio
        return QRectF(x, y, w, h)

    def _paint_avatar(self, painter: QPainter) -> None:
        side = max(16.0, min(self.width(), self.height()) * 0.42)
        side = min(side, 160.0)
        circle = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(avatar_colour(self.identity()))
        painter.drawEllipse(circle)
        state = self._state
        text = initials(state.display_name) if state is not None else "?"
        font = QFont(self.font())
        font.setPixelSize(max(8, int(side * 0.38)))
        font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        painter.setPen(OVERLAY_FOREGROUND)
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(self.font())

    def _margin(self) -> int:
        return 4 if self.height() < 120 else 8

    def _paint_name(self, painter: QPainter) -> None:
        margin = self._margin()
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        pad = 6
        muted = self._state is not None and self._state.microphone_muted and not self._screen
        icon = line if muted else 0
        available = self.width() - 2 * margin - 2 * pad - (icon + 4 if muted else 0)
        text = metrics.elidedText(self.display_text(), Qt.TextElideMode.ElideRight,
                                  max(0, available))
        width = metrics.horizontalAdvance(text) + 2 * pad + (icon + 4 if muted else 0)
        height = line + 4
        pill = QRect(margin, self.height() - margin - height, width, height)
        _pill(painter, pill, OVERLAY_BACKGROUND)
        x = pill.left() + pad
        if muted:
            mic = QRect(x, pill.top() + 2, icon, icon)
            _draw_mic_off(painter, mic, OVERLAY_FOREGROUND)
            self._badges.append((mic, self.tr("Microphone muted")))
            x += icon + 4
        painter.setPen(OVERLAY_FOREGROUND)
        painter.setFont(self.font())
        # drawText never interprets markup: the name is shown exactly as typed
        painter.drawText(QRect(x, pill.top(), pill.right() - x, height),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    def _paint_badges(self, painter: QPainter) -> None:
        margin = self._margin()
        metrics = QFontMetrics(self.font())
        size = metrics.height() + 4
        p = self._state
        if p is not None and p.hand_raised_at is not None and not self._screen:
            number = str(self._hand_order) if self._hand_order is not None else ""
            width = size + (metrics.horizontalAdvance(number) + 6 if number else 0)
            badge = QRect(margin, margin, width, size)
            _pill(painter, badge, HAND_BACKGROUND)
            _draw_hand(painter, QRect(badge.left(), badge.top(), size, size).adjusted(
                3, 3, -3, -3), HAND_FOREGROUND)
            if number:
                painter.setPen(HAND_FOREGROUND)
                painter.drawText(QRect(badge.left() + size - 2, badge.top(), width - size,
                                       size), Qt.AlignmentFlag.AlignCenter, number)
            self._badges.append((badge, self._hand_text()))
        right = self.width() - margin
        quality = self._quality_text()
        if p is not None and quality:
            badge = QRect(right - size, margin, size, size)
            _pill(painter, badge, OVERLAY_BACKGROUND)
            _draw_bars(painter, badge.adjusted(4, 4, -4, -4), p.quality, OVERLAY_FOREGROUND)
            self._badges.append((badge, quality[:1].upper() + quality[1:]))
            right = badge.left() - 4
        if self._pinned:
            badge = QRect(right - size, margin, size, size)
            _pill(painter, badge, OVERLAY_BACKGROUND)
            _draw_pin(painter, badge.adjusted(4, 4, -4, -4), OVERLAY_FOREGROUND)
            self._badges.append((badge, self.tr("Pinned")))

    def _hand_text(self) -> str:
        if self._hand_order is not None:
            return self.tr("Hand raised, number {order}").format(order=self._hand_order)
        return self.tr("Hand raised")

    def _paint_outline(self, painter: QPainter) -> None:
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        inset = 0
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self._state is not None and self._state.speaking and not self._screen:
            # thick, so that it does not rely on colour alone
            width = 3 if self.height() < 120 else 5
            pen = QPen(accent, width)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            half = width / 2
            painter.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
            inset = width
        if self.hasFocus():
            # a black and white double ring, dashed: visible on any video and unlike speaking
            outer = QRectF(self.rect()).adjusted(inset + 1.5, inset + 1.5, -inset - 1.5,
                                                 -inset - 1.5)
            painter.setPen(QPen(FOCUS_OUTER, 3))
            painter.drawRect(outer)
            dash = QPen(FOCUS_INNER, 1.5, Qt.PenStyle.DashLine)
            painter.setPen(dash)
            painter.drawRect(outer)

    # -- interaction ------------------------------------------------------------------------------
    def _show_tooltip(self, event: QHelpEvent) -> None:
        text = self.tooltip_at(event.pos())
        if text:
            QToolTip.showText(event.globalPos(), text, self)
        else:
            QToolTip.hideText()

    def tooltip_at(self, pos: QPoint) -> str:
        """The tooltip at ``pos``: a badge's meaning in words, else the full name."""
        for rect, text in self._badges:
            if rect.contains(pos):
                return text
        return self.display_text()

    def pin_action_text(self) -> str:
        return self.tr("Unpin") if self._pinned else self.tr("Pin")

    def build_menu(self) -> QMenu:
        menu = QMenu(self)
        action = menu.addAction(self.pin_action_text())
        action.triggered.connect(self._request_pin)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if not self._pinnable:
            super().contextMenuEvent(event)
            return
        menu = self.build_menu()
        pos = event.globalPos()
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            pos = self.mapToGlobal(self.rect().center())
        menu.exec(pos)
        menu.deleteLater()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._pinnable and event.key() in (
                Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and not (
                event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            self._request_pin()
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._pinnable and event.button() == Qt.MouseButton.LeftButton:
            self._request_pin()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def _request_pin(self) -> None:
        self.pin_requested.emit(self._key)


class _TooltipFilter(QObject):
    """Answers the tile's tooltip events with :meth:`VideoTile.tooltip_at`."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent) \
                and isinstance(watched, VideoTile):
            watched._show_tooltip(event)
            return True
        return False


# -- drawing helpers ----------------------------------------------------------------------------
def _qimage(tile: TileImage) -> QImage:
    """A QImage over the tile's bytes (no copy; ``tile`` must outlive its use)."""
    return QImage(tile.data, tile.width, tile.height, tile.stride, QImage.Format.Format_RGB32)


def _pill(painter: QPainter, rect: QRect, colour: QColor) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    radius = min(rect.height() / 2, 8.0)
    painter.drawRoundedRect(QRectF(rect), radius, radius)


def _draw_mic_off(painter: QPainter, r: QRect, colour: QColor) -> None:
    """A microphone struck through."""
    w, h = r.width(), r.height()
    pen = QPen(colour, max(1.5, w / 10))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    body = QRectF(r.left() + w * 0.36, r.top() + h * 0.1, w * 0.28, h * 0.5)
    painter.drawRoundedRect(body, w * 0.14, w * 0.14)
    cup = QRectF(r.left() + w * 0.22, r.top() + h * 0.3, w * 0.56, h * 0.45)
    painter.drawArc(cup, 180 * 16, 180 * 16)
    painter.drawLine(QPointF(r.left() + w / 2, r.top() + h * 0.75),
                     QPointF(r.left() + w / 2, r.top() + h * 0.9))
    painter.drawLine(QPointF(r.left() + w * 0.15, r.top() + h * 0.1),
                     QPointF(r.left() + w * 0.85, r.top() + h * 0.9))


def _draw_hand(painter: QPainter, r: QRect, colour: QColor) -> None:
    """An open palm: four fingers, a thumb and the palm."""
    w, h = r.width(), r.height()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    path = QPainterPath()
    path.addRoundedRect(QRectF(r.left() + w * 0.2, r.top() + h * 0.45, w * 0.62, h * 0.55),
                        w * 0.2, w * 0.2)
    finger = w * 0.13
    for i in range(4):
        x = r.left() + w * 0.2 + i * w * 0.165
        top = r.top() + (h * 0.08 if i in (1, 2) else h * 0.16)
        path.addRoundedRect(QRectF(x, top, finger, h * 0.6), finger / 2, finger / 2)
    path.addRoundedRect(QRectF(r.left() + w * 0.02, r.top() + h * 0.45, w * 0.3, finger),
                        finger / 2, finger / 2)
    painter.drawPath(path.simplified())


def _draw_pin(painter: QPainter, r: QRect, colour: QColor) -> None:
    """A push pin, tilted."""
    w, h = r.width(), r.height()
    pen = QPen(colour, max(1.5, w / 8))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(r.left() + w * 0.1, r.bottom() - h * 0.1),
                     QPointF(r.left() + w * 0.45, r.top() + h * 0.55))
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(r.left() + w * 0.4, r.top() + h * 0.05, w * 0.55, h * 0.55))


def _draw_bars(painter: QPainter, r: QRect, quality: Quality, colour: QColor) -> None:
    """Signal bars: filled for the quality, outlined for the rest; crossed when lost."""
    filled = {Quality.EXCELLENT: 3, Quality.GOOD: 2, Quality.POOR: 1}.get(quality, 0)
    w, h = r.width(), r.height()
    gap = w * 0.1
    bar = (w - 2 * gap) / 3
    for i in range(3):
        bh = h * (i + 1) / 3
        rect = QRectF(r.left() + i * (bar + gap), r.bottom() + 1 - bh, bar, bh)
        painter.setPen(QPen(colour, 1))
        painter.setBrush(QBrush(colour) if i < filled else Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
    if quality is Quality.LOST:
        pen = QPen(colour, max(1.5, w / 9))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(r.left(), r.top()), QPointF(r.left() + w * 0.5, r.top() + h * 0.5))
        painter.drawLine(QPointF(r.left() + w * 0.5, r.top()), QPointF(r.left(), r.top() + h * 0.5))
