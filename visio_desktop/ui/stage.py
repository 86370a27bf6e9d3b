"""The call window's stage: participants' tiles in a paged grid or a focus view.

* Grid: up to ``page_size`` tiles a page, in the grid shape that gives the largest 16:9 tiles;
  previous/next buttons and "Page 2 / 3" when there are more; PageUp/PageDown change pages.
* Focus: one tile large — the pinned tile, else the newest screen share, else (speaker layout)
  the current or last active speaker — and the others in a strip (``strip_size`` at most,
  the rest scrolled out of view).
* A remote screen share takes the stage when it starts (as if pinned, newer than any pin);
  unpinning it returns to the layout, and when it ends the stage goes back to what it showed
  before. The user's own share is a tile (shown large, it would mirror the stage) unless
  pinned.
* Active speakers are brought into view calmly: one who has spoken for ``promote_after_s``
  takes the place of the least recently speaking visible tile (one swap, nothing else
  moves), and a tile brought in stays at least ``keep_promoted_s``.

Tiles are made once per key (identity, identity + ":screen") and reused; tiles out of view
are hidden, which sets their FrameStore view to (0, 0). A timer repaints visible tiles with
new frames (~30 fps) while the stage is shown.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QToolButton, QWidget

from visio_desktop.call_state import CallSnapshot, ParticipantState
from visio_desktop.media.frame_store import FrameStore
from visio_desktop.ui.video_tile import VideoTile, screen_tile_key

LAYOUT_GRID = "grid"
LAYOUT_SPEAKER = "speaker"
LAYOUTS = (LAYOUT_GRID, LAYOUT_SPEAKER)

TILE_ASPECT = 16 / 9
SPACING = 8
MARGIN = 8
STRIP_BUTTON_WIDTH = 28
CALM_INTERVAL_MS = 250  # how often speaker changes are reconsidered between snapshots


# -- geometry ------------------------------------------------------------------------------------
def grid_shape(count: int, width: int, height: int, spacing: int = SPACING,
               aspect: float = TILE_ASPECT) -> tuple[int, int, float, float]:
    """Columns, rows, tile width and height of the grid of ``count`` tiles with the given
    aspect that gives the largest tiles in ``width`` x ``height``."""
    best = (1, max(1, count), 0.0, 0.0)
    for cols in range(1, max(1, count) + 1):
        rows = math.ceil(count / cols)
        cell_w = (width - (cols - 1) * spacing) / cols
        cell_h = (height - (rows - 1) * spacing) / rows
        if cell_w <= 0 or cell_h <= 0:
            continue
        tile_w = min(cell_w, cell_h * aspect)
        if tile_w > best[2]:
            best = (cols, rows, tile_w, tile_w / aspect)
    return best


def grid_rects(count: int, area: QRect, spacing: int = SPACING) -> list[QRect]:
    """``count`` equal 16:9 rectangles, row by row, centred in ``area`` (a short last row
    centred too)."""
    if count <= 0 or area.width() <= 0 or area.height() <= 0:
        return []
    cols, rows, tile_w, tile_h = grid_shape(count, area.width(), area.height(), spacing)
    if tile_w <= 0:
        return []
    total_h = rows * tile_h + (rows - 1) * spacing
    top = area.top() + (area.height() - total_h) / 2
    rects = []
    for index in range(count):
        row, col = divmod(index, cols)
        in_row = min(cols, count - row * cols)
        row_w = in_row * tile_w + (in_row - 1) * spacing
        left = area.left() + (area.width() - row_w) / 2
        x = left + col * (tile_w + spacing)
        y = top + row * (tile_h + spacing)
        rects.append(QRect(round(x), round(y), round(tile_w), round(tile_h)))
    return rects


# -- who speaks, and the stable order of tiles ---------------------------------------------------
class SpeakerTracker:
    """Since when each participant has been speaking (pauses shorter than ``gap_s`` do not
    count as stopping), and when each last spoke."""

    def __init__(self, gap_s: float = 0.6) -> None:
        self.gap_s = gap_s
        self._since: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._now: set[str] = set()

    def update(self, speaking: Iterable[str], now: float) -> None:
        self._now = set(speaking)
        for identity in self._now:
            self._since.setdefault(identity, now)
            self._last[identity] = now
        for identity in list(self._since):
            if identity not in self._now and now - self._last[identity] > self.gap_s:
                del self._since[identity]

    def is_speaking(self, identity: str) -> bool:
        return identity in self._now

    def speaking_for(self, identity: str, now: float) -> float:
        since = self._since.get(identity)
        return now - since if since is not None else 0.0

    def last_spoke(self, identity: str) -> float:
        return self._last.get(identity, -math.inf)

    def retain(self, identities: set[str]) -> None:
        for table in (self._since, self._last):
            for identity in list(table):
                if identity not in identities:
                    del table[identity]
        self._now &= identities


class StableOrder:
    """Tile keys in a stable order: new keys go to the end, and a speaker is brought forward
    by swapping places with one tile — nothing else moves."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._promoted_at: dict[str, float] = {}

    def sync(self, keys: Sequence[str]) -> None:
        present = set(keys)
        self.keys = [k for k in self.keys if k in present]
        known = set(self.keys)
        self.keys += [k for k in keys if k not in known]
        self._promoted_at = {k: t for k, t in self._promoted_at.items() if k in present}

    def promote(self, candidates: Sequence[str], front: Sequence[str], protected: set[str],
                tracker: SpeakerTracker, now: float, promote_after_s: float,
                keep_s: float) -> bool:
        """Swap each candidate that has spoken for ``promote_after_s`` and is not in ``front``
        (the keys in view) with the least recently speaking tile of ``front`` that may go;
        True if anything moved."""
        moved = False
        front = list(front)
        for key in candidates:
            if key in front or key in protected or key not in self.keys:
                continue
            if tracker.speaking_for(key, now) < promote_after_s:
                continue
            victims = [
                k for k in front
                if k not in protected and not tracker.is_speaking(k)
                and now - self._promoted_at.get(k, -math.inf) >= keep_s
            ]
            if not victims:
                continue
            # the least recently speaking; among equals the last in view (the least noticed)
            victim = min(victims, key=lambda k: (tracker.last_spoke(k), -front.index(k)))
            i, j = self.keys.index(key), self.keys.index(victim)
            self.keys[i], self.keys[j] = victim, key
            front[front.index(victim)] = key
            self._promoted_at[key] = now
            moved = True
        return moved


# -- controls ------------------------------------------------------------------------------------
class _PageBar(QWidget):
    """Previous / "Page 2 / 3" / next."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.previous = QToolButton(self)
        self.previous.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous.setAccessibleName(self.tr("Previous page"))
        self.previous.setToolTip(self.tr("Previous page (Page Up)"))
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next = QToolButton(self)
        self.next.setArrowType(Qt.ArrowType.RightArrow)
        self.next.setAccessibleName(self.tr("Next page"))
        self.next.setToolTip(self.tr("Next page (Page Down)"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.previous)
        layout.addWidget(self.label)
        layout.addWidget(self.next)

    def show_page(self, page: int, count: int) -> None:
        text = self.tr("Page {page} / {count}").format(page=page + 1, count=count)
        self.label.setText(text)
        self.label.setAccessibleName(text)
        self.previous.setEnabled(page > 0)
        self.next.setEnabled(page < count - 1)


def _strip_button(parent: QWidget, arrow: Qt.ArrowType, name: str) -> QToolButton:
    button = QToolButton(parent)
    button.setArrowType(arrow)
    button.setAccessibleName(name)
    button.setToolTip(name)
    button.hide()
    return button


# -- the stage -----------------------------------------------------------------------------------
class Stage(QWidget):
    """Lays out the snapshot's participants as :class:`VideoTile` widgets."""

    layout_changed = Signal(str)  # "grid" | "speaker", after set_layout changed it
    pinned_changed = Signal(str)  # the tile key on stage as pinned (or a screen share), "" none
    page_changed = Signal(int, int)  # page (0-based), page count

    def __init__(self, store: FrameStore, parent: QWidget | None = None, *, page_size: int = 9,
                 strip_size: int = 6, clock: Callable[[], float] = time.monotonic,
                 promote_after_s: float = 1.0, keep_promoted_s: float = 5.0,
                 fps: float = 30.0) -> None:
        super().__init__(parent)
        self._store = store
        self._page_size = max(1, page_size)
        self._strip_size = max(1, strip_size)
        self._clock = clock
        self._promote_after_s = promote_after_s
        self._keep_promoted_s = keep_promoted_s
        self._snapshot = CallSnapshot()
        self._participants: dict[str, ParticipantState] = {}
        self._tiles: dict[str, VideoTile] = {}
        self._visible: list[VideoTile] = []
        self._order = StableOrder()
        self._tracker = SpeakerTracker()
        self._layout = LAYOUT_GRID
        self._page = 0
        self._page_count = 1
        self._page_shown = (0, 1)  # last announced by page_changed
        self._strip_offset = 0
        self._strip_capacity = self._strip_size
        self._seq = 0  # orders pins and screen shares: the newest takes the stage
        self._user_pin: str | None = None
        self._user_pin_seq = 0
        self._screens: dict[str, int] = {}  # screen tile key -> seq when it appeared
        self._dismissed: set[str] = set()  # screen shares the user unpinned
        self._pinned: str | None = None  # last value announced by pinned_changed
        self._speaker: str | None = None  # the speaker layout's focus

        self.setAccessibleName(self.tr("Participants"))
        self._page_bar = _PageBar(self)
        self._page_bar.hide()
        self._page_bar.previous.clicked.connect(self.previous_page)
        self._page_bar.next.clicked.connect(self.next_page)
        self._strip_previous = _strip_button(self, Qt.ArrowType.LeftArrow,
                                             self.tr("Show previous participants"))
        self._strip_next = _strip_button(self, Qt.ArrowType.RightArrow,
                                         self.tr("Show next participants"))
        self._strip_previous.clicked.connect(lambda: self._scroll_strip(-1))
        self._strip_next.clicked.connect(lambda: self._scroll_strip(1))

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(max(1, round(1000 / fps)))
        self._refresh_timer.timeout.connect(self.refresh_tiles)
        self._calm_timer = QTimer(self)
        self._calm_timer.setInterval(CALM_INTERVAL_MS)
        self._calm_timer.timeout.connect(self._on_calm_tick)

    # -- public API ------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: CallSnapshot) -> None:
        self._snapshot = snapshot
        self._participants = {p.identity: p for p in snapshot.participants}
        self._sync_tiles()
        self._tracker.retain(set(self._participants))
        self._tracker.update(self._speaking(), self._clock())
        self._reconsider()
        self._relayout()

    def snapshot(self) -> CallSnapshot:
        return self._snapshot

    def set_layout(self, mode: str) -> None:
        if mode not in LAYOUTS:
            raise ValueError(f"unknown layout {mode!r}")
        if mode == self._layout:
            return
        self._layout = mode
        self._strip_offset = 0
        self._reconsider()
        self._relayout()
        self.layout_changed.emit(mode)

    def layout_mode(self) -> str:
        """The layout chosen by the user: "grid" or "speaker" (a pin or a screen share shows
        the focus view over it, see :meth:`focused_key`)."""
        return self._layout

    def pin(self, key: str) -> bool:
        """Show tile ``key`` (an identity, or identity + ":screen") large; False if there is
        no such tile."""
        if key not in self._tiles:
            return False
        self._seq += 1
        self._user_pin, self._user_pin_seq = key, self._seq
        self._dismissed.discard(key)
        self._strip_offset = 0
        self._relayout()
        return True

    def unpin(self) -> None:
        """Back to the chosen layout: no pin, and the current screen shares leave the stage."""
        self._user_pin = None
        self._dismissed |= set(self._screens)
        self._relayout()

    def pinned(self) -> str | None:
        """The tile on stage as pinned: the user's pin or a screen share, whichever is newer."""
        candidates = [(seq, key) for key, seq in self._screens.items()
                      if key in self._tiles and key not in self._dismissed]
        if self._user_pin is not None and self._user_pin in self._tiles:
            candidates.append((self._user_pin_seq, self._user_pin))
        return max(candidates)[1] if candidates else None

    def focused_key(self) -> str | None:
        """The tile shown large, None in the grid view."""
        pinned = self.pinned()
        if pinned is not None:
            return pinned
        if self._layout == LAYOUT_SPEAKER and self._speaker in self._tiles:
            return self._speaker
        return None

    def page(self) -> int:
        return self._page

    def page_count(self) -> int:
        return self._page_count

    def set_page(self, page: int) -> None:
        page = max(0, min(page, self._page_count - 1))
        if page != self._page:
            self._page = page
            self._relayout()

    def next_page(self) -> None:
        self.set_page(self._page + 1)

    def previous_page(self) -> None:
        self.set_page(self._page - 1)

    def tile(self, key: str) -> VideoTile | None:
        return self._tiles.get(key)

    def tile_keys(self) -> list[str]:
        """All tiles' keys, in the stage's (stable) order."""
        return list(self._order.keys)

    def visible_tiles(self) -> list[VideoTile]:
        """The tiles in view, the large one first, then in reading order."""
        return list(self._visible)

    def refresh_tiles(self) -> int:
        """Repaint visible tiles that have a new frame; how many did."""
        return sum(tile.refresh() for tile in self._visible)

    # -- snapshot to tiles -----------------------------------------------------------------------
    def _speaking(self) -> set[str]:
        speaking = {s for s in self._snapshot.active_speakers if s in self._participants}
        return speaking | {p.identity for p in self._snapshot.participants if p.speaking}

    def _wanted(self) -> list[tuple[str, ParticipantState, bool]]:
        participants = self._snapshot.participants
        cameras = [(p.identity, p, False) for p in participants]
        screens = [(screen_tile_key(p.identity), p, True) for p in participants
                   if p.screen_key is not None]
        return cameras + screens

    def _sync_tiles(self) -> None:
        wanted = self._wanted()
        keys = [key for key, _, _ in wanted]
        present = set(keys)
        for key in [k for k in self._tiles if k not in present]:
            tile = self._tiles.pop(key)
            tile.hide()
            tile.deleteLater()
        for key in keys:
            if key not in self._tiles:
                tile = VideoTile(self._store, key, self)
                tile.hide()
                tile.pin_requested.connect(self._on_pin_requested)
                self._tiles[key] = tile
        for key, p, screen in wanted:
            if screen and key not in self._screens:
                self._seq += 1
                self._screens[key] = self._seq
                if p.is_local:  # one's own share is a tile: large, it would mirror the stage
                    self._dismissed.add(key)
        for key in [k for k in self._screens if k not in present]:
            del self._screens[key]
            self._dismissed.discard(key)
        if self._user_pin is not None and self._user_pin not in present:
            self._user_pin = None
        self._order.sync(keys)

    def _update_tile_states(self) -> None:
        hands = {p.identity: i + 1 for i, p in enumerate(self._snapshot.raised_hands)}
        pinned = self.pinned()
        for key, p, screen in self._wanted():
            self._tiles[key].update_state(p, screen=screen, pinned=key == pinned,
                                          hand_order=hands.get(p.identity))

    # -- calm speaker handling -------------------------------------------------------------------
    def _on_calm_tick(self) -> None:
        self._tracker.update(self._speaking(), self._clock())
        if self._reconsider():
            self._relayout()

    def _reconsider(self) -> bool:
        """Update the speaker layout's focus and bring speakers into view; True if the
        layout must change."""
        now = self._clock()
        changed = self._choose_speaker(now)
        focus = self.focused_key()
        local = {p.identity for p in self._snapshot.participants if p.is_local}
        protected = local | ({focus} if focus is not None else set())
        if focus is None:
            front = self._order.keys[: self._page_size]
        else:
            front = [k for k in self._order.keys if k != focus][: self._strip_capacity]
        speakers = [s for s in self._snapshot.active_speakers if s in self._tiles]
        speakers += sorted(s for s in self._speaking() if s not in speakers and s in self._tiles)
        if self._order.promote(speakers, front, protected, self._tracker, now,
                               self._promote_after_s, self._keep_promoted_s):
            changed = True
        return changed

    def _choose_speaker(self, now: float) -> bool:
        """The speaker layout's focus: someone else than the focus who has spoken for
        ``promote_after_s`` while the focus is silent; never the local user, unless alone."""
        participants = self._snapshot.participants
        remote = [p.identity for p in participants if not p.is_local]
        pool = remote or [p.identity for p in participants]
        current = self._speaker if self._speaker in pool else None
        if current is None or not self._tracker.is_speaking(current):
            for identity in self._snapshot.active_speakers:
                if identity != current and identity in pool and (
                        self._tracker.speaking_for(identity, now) >= self._promote_after_s):
                    current = identity
                    break
        if current is None and pool:
            spoken = max(pool, key=self._tracker.last_spoke)
            with_video = [i for i in pool if self._participants[i].camera_key is not None]
            if self._tracker.last_spoke(spoken) > -math.inf:
                current = spoken
            else:
                current = (with_video or pool)[0]
        changed = current != self._speaker
        self._speaker = current
        return changed

    # -- layout ----------------------------------------------------------------------------------
    def _relayout(self) -> None:
        focused_tile = QApplication.focusWidget()
        had_focus = isinstance(focused_tile, VideoTile) and focused_tile in self._visible
        self._update_tile_states()
        pinned = self.pinned()
        area = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        focus = self.focused_key()
        if focus is None:
            placements = self._layout_grid(area)
        else:
            placements = self._layout_focus(area, focus)
        for key, tile in self._tiles.items():
            rect = placements.get(key)
            if rect is None:
                tile.hide()
            else:
                tile.setGeometry(rect)
                tile.show()
        self._visible = [self._tiles[key] for key in placements]
        self._chain_tab_order()
        if had_focus and not focused_tile.isVisible() and self._visible:
            self._visible[0].setFocus(Qt.FocusReason.OtherFocusReason)
        if pinned != self._pinned:
            self._pinned = pinned
            self.pinned_changed.emit(pinned or "")

    def _layout_grid(self, area: QRect) -> dict[str, QRect]:
        self._strip_previous.hide()
        self._strip_next.hide()
        keys = self._order.keys
        count = max(1, math.ceil(len(keys) / self._page_size))
        page = max(0, min(self._page, count - 1))
        self._page, self._page_count = page, count
        if count > 1:
            self._page_bar.show_page(page, count)
            hint = self._page_bar.sizeHint()
            bar = QRect(0, 0, hint.width(), hint.height())
            bar.moveCenter(area.center())
            bar.moveBottom(area.bottom())
            self._page_bar.setGeometry(bar)
            self._page_bar.show()
            area = area.adjusted(0, 0, 0, -(hint.height() + SPACING))
        else:
            self._page_bar.hide()
        shown = keys[page * self._page_size: (page + 1) * self._page_size]
        if (page, count) != self._page_shown:
            self._page_shown = (page, count)
            self.page_changed.emit(page, count)
        return dict(zip(shown, grid_rects(len(shown), area), strict=False))

    def _layout_focus(self, area: QRect, focus: str) -> dict[str, QRect]:
        self._page_bar.hide()
        others = [k for k in self._order.keys if k != focus]
        placements = {focus: area}
        if not others:
            self._strip_previous.hide()
            self._strip_next.hide()
            return placements
        strip_h = max(40, min(180, round(area.height() * 0.2), area.height() // 3))
        tile_w = strip_h * TILE_ASPECT
        fits = int((area.width() + SPACING) // (tile_w + SPACING))
        capacity = max(1, min(self._strip_size, fits))
        overflow = len(others) > capacity
        if overflow:
            room = area.width() - 2 * (STRIP_BUTTON_WIDTH + SPACING)
            fits = int((room + SPACING) // (tile_w + SPACING))
            capacity = max(1, min(self._strip_size, fits))
        self._strip_capacity = capacity
        self._strip_offset = max(0, min(self._strip_offset, len(others) - capacity))
        shown = others[self._strip_offset: self._strip_offset + capacity]
        row_w = len(shown) * tile_w + (len(shown) - 1) * SPACING
        left = area.left() + (area.width() - row_w) / 2
        top = area.bottom() + 1 - strip_h
        for i, key in enumerate(shown):
            x = left + i * (tile_w + SPACING)
            placements[key] = QRect(round(x), top, round(tile_w), strip_h)
        placements[focus] = QRect(area.left(), area.top(), area.width(),
                                  area.height() - strip_h - SPACING)
        for button, visible, x in (
                (self._strip_previous, overflow, area.left()),
                (self._strip_next, overflow, area.right() + 1 - STRIP_BUTTON_WIDTH)):
            button.setVisible(visible)
            button.setGeometry(QRect(x, top, STRIP_BUTTON_WIDTH, strip_h))
        self._strip_previous.setEnabled(self._strip_offset > 0)
        self._strip_next.setEnabled(self._strip_offset + capacity < len(others))
        return placements

    def _chain_tab_order(self) -> None:
        chain: list[QWidget] = [*self._visible]
        if self._page_bar.isVisibleTo(self):
            chain += [self._page_bar.previous, self._page_bar.next]
        if self._strip_previous.isVisibleTo(self):
            chain += [self._strip_previous, self._strip_next]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _scroll_strip(self, direction: int) -> None:
        self._strip_offset = max(0, self._strip_offset + direction * self._strip_capacity)
        self._relayout()

    # -- events ----------------------------------------------------------------------------------
    def _on_pin_requested(self, key: str) -> None:
        if key == self.pinned():
            self.unpin()
        else:
            self.pin(key)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {Qt.Key.Key_PageUp: -1, Qt.Key.Key_PageDown: 1}.get(Qt.Key(event.key()))
        if step is None:
            super().keyPressEvent(event)
            return
        if self.focused_key() is None:
            self.set_page(self._page + step)
        else:
            self._scroll_strip(step)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._start_timers()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if not event.spontaneous():
            self._refresh_timer.stop()
            self._calm_timer.stop()

    def _start_timers(self) -> None:
        self._refresh_timer.start()
        self._calm_timer.start()
