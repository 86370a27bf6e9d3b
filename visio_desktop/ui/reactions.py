"""Reactions: the emoji picker of the control bar and the floating emoji over the stage.

The eight slugs are Visio's (``visio_desktop.net.data.visio.REACTION_EMOJIS``); this module
only gives them an order, a glyph and a translated name. Nothing here sends anything: the
picker emits the slug, the overlay draws the ``Reaction`` values it is given.
"""

from __future__ import annotations

import random
from collections import deque

from PySide6.QtCore import (
    QAbstractAnimation,
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QObject,
    QParallelAnimationGroup,
    QPoint,
    QPropertyAnimation,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QKeyEvent
from PySide6.QtWidgets import (
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from visio_desktop.call_state import Reaction
from visio_desktop.net.data.visio import REACTION_EMOJIS

#: The web app's order (``features/reactions/types.ts``), with each slug's glyph.
REACTION_GLYPHS: dict[str, str] = {
    "thumbs-up": "\N{THUMBS UP SIGN}",
    "thumbs-down": "\N{THUMBS DOWN SIGN}",
    "clapping-hands": "\N{CLAPPING HANDS SIGN}",
    "red-heart": "\N{HEAVY BLACK HEART}\N{VARIATION SELECTOR-16}",
    "face-with-tears-of-joy": "\N{FACE WITH TEARS OF JOY}",
    "face-with-open-mouth": "\N{FACE WITH OPEN MOUTH}",
    "party-popper": "\N{PARTY POPPER}",
    "folded-hands": "\N{PERSON WITH FOLDED HANDS}",
}
REACTION_SLUGS: tuple[str, ...] = tuple(REACTION_GLYPHS)
assert frozenset(REACTION_SLUGS) == REACTION_EMOJIS, "reaction slugs out of step with Visio"

def reaction_name(slug: str) -> str:
    """The translated name of a reaction ("Thumbs up"); the slug itself if unknown."""
    names = {
        "thumbs-up": QCoreApplication.translate("Reactions", "Thumbs up"),
        "thumbs-down": QCoreApplication.translate("Reactions", "Thumbs down"),
        "clapping-hands": QCoreApplication.translate("Reactions", "Clapping hands"),
        "red-heart": QCoreApplication.translate("Reactions", "Red heart"),
        "face-with-tears-of-joy": QCoreApplication.translate("Reactions", "Face with tears of joy"),
        "face-with-open-mouth": QCoreApplication.translate("Reactions", "Face with open mouth"),
        "party-popper": QCoreApplication.translate("Reactions", "Party popper"),
        "folded-hands": QCoreApplication.translate("Reactions", "Folded hands"),
    }
    return names.get(slug, slug)


def announce(widget: QWidget, text: str) -> None:
    """Have a screen reader speak ``text`` (politely) if one is listening."""
    if QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))


class FillParent(QObject):
    """Keeps an overlay widget covering its parent's whole rectangle."""

    def __init__(self, overlay: QWidget) -> None:
        super().__init__(overlay)
        self._overlay = overlay
        parent = overlay.parentWidget()
        if parent is not None:
            parent.installEventFilter(self)
            overlay.setGeometry(parent.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._overlay.parentWidget() and event.type() == QEvent.Type.Resize:
            self._overlay.setGeometry(self._overlay.parentWidget().rect())
            self._overlay.raise_()
        return False


class _ReactionButton(QToolButton):
    """One emoji; Enter activates it as Space does. Arrow keys go to the picker."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()
        elif key in _ARROWS or key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            event.ignore()
        else:
            super().keyPressEvent(event)


_ARROWS = {Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1, Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1}


class ReactionPicker(QWidget):
    """A row of the eight Visio reactions. Keys 1–8 pick one directly.

    Put it in a ``QMenu`` with a ``QWidgetAction`` or show it as a popup; connect
    ``reaction_chosen`` to the call and, for a popup, to its ``close``.
    """

    reaction_chosen = Signal(str)  # a slug of REACTION_SLUGS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Reactions"))
        self.setAccessibleDescription(self.tr("Send a reaction to everyone in the meeting"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        self._buttons: dict[str, QToolButton] = {}
        for number, slug in enumerate(REACTION_SLUGS, start=1):
            button = _ReactionButton(self)
            button.setText(REACTION_GLYPHS[slug])
            name = reaction_name(slug)
            button.setAccessibleName(name)
            button.setToolTip(self.tr("{name} ({key})").format(name=name, key=number))
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            button.setAutoRaise(True)
            font = button.font()
            font.setPointSizeF(font.pointSizeF() * 1.6)
            button.setFont(font)
            button.clicked.connect(lambda _checked=False, s=slug: self.reaction_chosen.emit(s))
            layout.addWidget(button)
            self._buttons[slug] = button
        self.setFocusProxy(self._buttons[REACTION_SLUGS[0]])

    def button(self, slug: str) -> QToolButton:
        return self._buttons[slug]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """1–8 pick a reaction; arrows (wrapping), Home and End move between them."""
        buttons = [self._buttons[slug] for slug in REACTION_SLUGS]
        current = next((i for i, b in enumerate(buttons) if b.hasFocus()), None)
        key = Qt.Key(event.key())
        if current is not None and (key in _ARROWS or key in (Qt.Key.Key_Home,
                                                              Qt.Key.Key_End)):
            if key == Qt.Key.Key_Home:
                target = 0
            elif key == Qt.Key.Key_End:
                target = len(buttons) - 1
            else:
                target = (current + _ARROWS[key]) % len(buttons)
            buttons[target].setFocus(Qt.FocusReason.TabFocusReason)
            return
        digit = event.key() - Qt.Key.Key_1
        plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                      Qt.KeyboardModifier.KeypadModifier)
        if plain and 0 <= digit < len(REACTION_SLUGS):
            self.reaction_chosen.emit(REACTION_SLUGS[digit])
            return
        super().keyPressEvent(event)


class _FloatingReaction(QLabel):
    """The emoji over the sender's name; owned and removed by ReactionOverlay."""

    def __init__(self, reaction: Reaction, you: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        name = you if reaction.is_local else reaction.sender_name or reaction.sender_identity
        self.setText(f"{REACTION_GLYPHS[reaction.emoji]}\n{name}")
        self.setAccessibleName(name)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.setFont(font)
        # The name on a dark pill stays readable over any video.
        self.setStyleSheet(
            "QLabel { color: white; background-color: rgba(0, 0, 0, 140);"
            " border-radius: 6px; padding: 2px 6px; }")
        self.adjustSize()
        self.animation: QAbstractAnimation | None = None


class ReactionOverlay(QWidget):
    """Floats reactions up over the stage for ``duration_ms``, ``max_active`` at most.

    It lets every mouse event through to the stage and, by default, keeps covering its
    parent. ``set_reduced_motion(True)`` shows the emoji in place instead of moving them.
    """

    def __init__(self, parent: QWidget | None = None, *, duration_ms: int = 3000,
                 max_active: int = 20, fill_parent: bool = True) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName(self.tr("Reactions"))
        self._duration_ms = duration_ms
        self._max_active = max_active
        self._reduced_motion = False
        self._announce = False
        self._active: deque[_FloatingReaction] = deque()
        self._random = random.Random()
        if fill_parent and parent is not None:
            FillParent(self)

    def set_duration_ms(self, duration_ms: int) -> None:
        self._duration_ms = max(1, duration_ms)

    def set_reduced_motion(self, reduced: bool) -> None:
        self._reduced_motion = reduced

    def set_announce(self, announce_reactions: bool) -> None:
        """Also speak each reaction to a screen reader (the web app's a11y option)."""
        self._announce = announce_reactions

    def active_count(self) -> int:
        return len(self._active)

    def clear(self) -> None:
        while self._active:
            self._remove(self._active[0])

    def show_reaction(self, reaction: Reaction) -> None:
        if reaction.emoji not in REACTION_GLYPHS:
            return  # not one of Visio's eight: the web app ignores it too
        while len(self._active) >= self._max_active:
            self._remove(self._active[0])
        item = _FloatingReaction(reaction, self.tr("You"), self)
        width, height = max(self.width(), item.width()), max(self.height(), item.height())
        # From the lower left, like the web app, with some spread so bursts stay legible.
        x = int(self._random.uniform(0.02, 0.3) * max(0, width - item.width()))
        start = QPoint(x, max(0, height - item.height() - 8))
        item.move(start)
        item.show()
        item.raise_()
        self.raise_()
        self._active.append(item)
        if self._reduced_motion:
            QTimer.singleShot(self._duration_ms, item, lambda: self._remove(item))
        else:
            self._animate(item, start, QPoint(x, max(0, int(height * 0.15))))
        if self._announce:
            name = reaction.sender_name or reaction.sender_identity
            announce(self, self.tr("{name} reacted with {reaction}").format(
                name=self.tr("You") if reaction.is_local else name,
                reaction=reaction_name(reaction.emoji)))

    def _animate(self, item: _FloatingReaction, start: QPoint, end: QPoint) -> None:
        effect = QGraphicsOpacityEffect(item)
        effect.setOpacity(1.0)
        item.setGraphicsEffect(effect)
        move = QPropertyAnimation(item, b"pos", item)
        move.setDuration(self._duration_ms)
        move.setStartValue(start)
        move.setEndValue(end)
        move.setEasingCurve(QEasingCurve.Type.OutCubic)
        fade = QPropertyAnimation(effect, b"opacity", item)
        fade.setDuration(self._duration_ms)
        fade.setKeyValueAt(0.0, 1.0)
        fade.setKeyValueAt(0.7, 1.0)
        fade.setKeyValueAt(1.0, 0.0)
        group = QParallelAnimationGroup(item)
        group.addAnimation(move)
        group.addAnimation(fade)
        group.finished.connect(lambda: self._remove(item))
        item.animation = group
        group.start()

    def _remove(self, item: _FloatingReaction) -> None:
        if item not in self._active:
            return
        self._active.remove(item)
        if item.animation is not None:
            item.animation.stop()
        item.hide()
        item.deleteLater()
