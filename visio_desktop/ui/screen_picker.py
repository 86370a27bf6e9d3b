"""The "share your screen" picker: screens and windows as thumbnails, then Share or Cancel.

Listing is quick and done at once; thumbnails (a screen grab each) are computed on a
``QThreadPool`` and filled in as they arrive, so the dialog opens at once with placeholders.
Workers never touch Qt objects other than ``QImage``: they put ``(key, QImage)`` on a queue the
dialog drains with a short timer, so a dialog closed before its thumbnails are ready is safe.

The listers default to :mod:`visio_desktop.media.screen` and can be injected (tests, or a
portal-based implementation later). When the session cannot be captured
(:class:`ScreenCaptureUnsupported`, e.g. Wayland) the dialog shows the reason instead of lists.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QSize, Qt, QThreadPool, QTimer
from PySide6.QtGui import QImage, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.media import screen as screen_capture
from visio_desktop.media.screen import ScreenCaptureUnsupported, ScreenInfo, WindowInfo

log = logging.getLogger(__name__)

Target = ScreenInfo | WindowInfo
ScreenLister = Callable[[], list[ScreenInfo]]
WindowLister = Callable[[], list[WindowInfo]]
Thumbnailer = Callable[[Target, int], npt.NDArray[np.uint8]]  # BGR, HxWx3

ICON_SIZE = QSize(224, 126)
THUMBNAIL_WIDTH = 320
POLL_MS = 40
_TARGET_ROLE = Qt.ItemDataRole.UserRole
_KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def bgr_to_qimage(bgr: npt.NDArray[np.uint8]) -> QImage:
    """A QImage owning a copy of a BGR (HxWx3 uint8) picture; safe off the GUI thread."""
    array = np.ascontiguousarray(bgr)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 BGR array, got {array.shape} {array.dtype}")
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, int(array.strides[0]),
                   QImage.Format.Format_BGR888)
    return image.copy()  # detach from the numpy buffer


def _thumbnail_job(key: int, target: Target, thumbnail: Thumbnailer,
                   results: queue.SimpleQueue[tuple[int, QImage | None]],
                   cancelled: threading.Event) -> None:
    """Runs on a pool thread: grab, convert, hand back (None when the grab failed)."""
    if cancelled.is_set():
        return
    image: QImage | None
    try:
        image = bgr_to_qimage(thumbnail(target, THUMBNAIL_WIDTH))
    except Exception as exc:  # a window closed meanwhile, a grab error: keep the placeholder
        log.info("no thumbnail for %r: %s", target.name, exc)
        image = None
    if not cancelled.is_set():
        results.put((key, image))


class _TargetList(QStackedWidget):
    """A grid of thumbnails, or a message when there is nothing to show."""

    def __init__(self, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QListWidget(self)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(ICON_SIZE)
        self.grid.setGridSize(QSize(ICON_SIZE.width() + 24, ICON_SIZE.height() + 48))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setWrapping(True)
        self.grid.setWordWrap(True)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.grid.setAccessibleName(accessible_name)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a screen reader reaches it
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                             | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addWidget(self.grid)
        self.addWidget(self.message)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.setCurrentWidget(self.message)

    def selected(self) -> Target | None:
        if self.currentWidget() is not self.grid:
            return None
        items = self.grid.selectedItems()
        return items[0].data(_TARGET_ROLE) if items else None


class ScreenPicker(QDialog):
    """Choose a screen or a window to share, and whether to share the computer's sound.

    ``exec()`` returns ``QDialog.Accepted`` when the user chose Share; then
    :meth:`selected_target` is the :class:`ScreenInfo` or :class:`WindowInfo` and
    :meth:`share_audio` whether the sound box was ticked.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        system_audio_available: bool = False,
        system_audio_reason: str = "",
        list_screens: ScreenLister | None = None,
        list_windows: WindowLister | None = None,
        thumbnail: Thumbnailer | None = None,
        thread_pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Share your screen"))
        self.setAccessibleName(self.tr("Share your screen"))
        self._list_screens = list_screens or screen_capture.list_screens
        self._list_windows = list_windows or screen_capture.list_windows
        self._thumbnail: Thumbnailer = thumbnail or (
            lambda target, width: screen_capture.thumbnail(target, width))
        self._pool = thread_pool or QThreadPool.globalInstance()
        self._results: queue.SimpleQueue[tuple[int, QImage | None]] = queue.SimpleQueue()
        self._cancelled = threading.Event()
        self._items: dict[int, QListWidgetItem] = {}
        self._pending: set[int] = set()
        self._unsupported = ""

        layout = QVBoxLayout(self)
        self._intro = QLabel(self.tr("Choose what the other participants will see."), self)
        self._intro.setTextFormat(Qt.TextFormat.PlainText)
        self._intro.setWordWrap(True)
        layout.addWidget(self._intro)

        self._tabs = QTabWidget(self)
        self._tabs.setAccessibleName(self.tr("What to share"))
        self._screens = _TargetList(self.tr("Screens"), self._tabs)
        self._windows = _TargetList(self.tr("Windows"), self._tabs)
        self._tabs.addTab(self._screens, self.tr("&Screens"))
        self._tabs.addTab(self._windows, self.tr("&Windows"))
        layout.addWidget(self._tabs, 1)

        self._unsupported_label = QLabel(self)
        self._unsupported_label.setTextFormat(Qt.TextFormat.PlainText)
        self._unsupported_label.setWordWrap(True)
        self._unsupported_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._unsupported_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.TextSelectableByMouse)
        self._unsupported_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._unsupported_label.hide()
        layout.addWidget(self._unsupported_label, 1)

        self._audio = QCheckBox(self.tr("Share computer &sound"), self)
        self._audio.setAccessibleName(self.tr("Share computer sound"))
        self._audio.setEnabled(system_audio_available)
        if not system_audio_available:
            reason = system_audio_reason or self.tr(
                "Sharing the computer's sound is not available on this system.")
            self._audio.setToolTip(reason)
            self._audio.setAccessibleDescription(reason)
        layout.addWidget(self._audio)

        self._buttons = QDialogButtonBox(self)
        self._share = self._buttons.addButton(self.tr("Share"),
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self._share.setAccessibleName(self.tr("Share"))
        self._share.setDefault(True)
        self._cancel = self._buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self._cancel.setText(self.tr("Cancel"))
        self._cancel.setAccessibleName(self.tr("Cancel"))
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        layout.addWidget(self._buttons)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._drain_results)

        for target_list in (self._screens, self._windows):
            target_list.grid.itemSelectionChanged.connect(self._update_share_button)
            target_list.grid.itemDoubleClicked.connect(lambda _item: self.accept())
        self._tabs.currentChanged.connect(self._update_share_button)
        self.resize(760, 520)
        self._populate()
        self._update_share_button()

    # -- public ------------------------------------------------------------------------------

    def selected_target(self) -> Target | None:
        """The chosen screen or window (of the tab shown), None when nothing is selected."""
        current = self._tabs.currentWidget()
        if self._unsupported or not isinstance(current, _TargetList):
            return None
        return current.selected()

    def share_audio(self) -> bool:
        """Whether the computer's sound should be shared too."""
        return self._audio.isEnabled() and self._audio.isChecked()

    def unsupported_reason(self) -> str:
        """The reason capture is impossible here, "" when it is possible."""
        return self._unsupported

    def pending_thumbnails(self) -> int:
        return len(self._pending)

    def accept(self) -> None:
        if self.selected_target() is None:
            return  # Enter with nothing selected: stay open
        super().accept()

    def done(self, result: int) -> None:
        self._stop_thumbnails()
        super().done(result)

    # -- listing -----------------------------------------------------------------------------

    def _populate(self) -> None:
        from visio_desktop.media.qt_capture import portal_target, wayland_session

        if wayland_session():
            self._populate_portal(portal_target())
            return
        try:
            screens = self._list_screens()
        except ScreenCaptureUnsupported as exc:
            self._show_unsupported(str(exc))
            return
        except Exception as exc:  # the display cannot be opened
            log.warning("cannot list screens: %s", exc)
            self._show_unsupported(self.tr("Your screens cannot be listed: {reason}").format(
                reason=str(exc) or type(exc).__name__))
            return
        try:
            windows = self._list_windows()
        except Exception as exc:  # windows are optional: the screens can still be shared
            log.warning("cannot list windows: %s", exc)
            windows = []
            self._windows.show_message(self.tr("Windows cannot be listed: {reason}").format(
                reason=str(exc) or type(exc).__name__))
        if not screens:
            self._screens.show_message(self.tr("No screen was found."))
        for screen in screens:
            self._add(self._screens.grid, screen, self._screen_label(screen))
        if windows:
            for window in windows:
                self._add(self._windows.grid, window, window.name)
        elif self._windows.currentWidget() is self._windows.grid:
            self._windows.show_message(self.tr(
                "No window can be shared on this system; share a whole screen instead."))
        if screens:
            self._screens.grid.setCurrentRow(0)
        if self._pending:
            self._poll.start()

    def _populate_portal(self, target: Any) -> None:
        """Wayland: the system's own dialog (the desktop portal) chooses the screen or window
        once sharing starts; nothing can be listed or previewed before."""
        item = QListWidgetItem(self._placeholder(target),
                               self.tr("Choose in the system dialog"))
        item.setData(_TARGET_ROLE, target)
        item.setData(Qt.ItemDataRole.AccessibleTextRole,
                     self.tr("Choose the screen or window in the system dialog"))
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._screens.grid.addItem(item)
        self._screens.grid.setCurrentRow(0)
        self._windows.show_message(self.tr(
            "The system dialog also lets you choose a single window."))

    def _screen_label(self, screen: ScreenInfo) -> str:
        size = self.tr("{width} × {height}").format(width=screen.width, height=screen.height)
        if screen.primary:
            return self.tr("{name} (primary, {size})").format(name=screen.name, size=size)
        return self.tr("{name} ({size})").format(name=screen.name, size=size)

    def _add(self, grid: QListWidget, target: Target, label: str) -> None:
        key = len(self._items)
        item = QListWidgetItem(self._placeholder(target), label)  # item text is plain text
        item.setData(_TARGET_ROLE, target)
        item.setData(_KEY_ROLE, key)
        item.setToolTip(label)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, label)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        grid.addItem(item)
        self._items[key] = item
        self._pending.add(key)
        thumbnail, results, cancelled = self._thumbnail, self._results, self._cancelled
        self._pool.start(lambda: _thumbnail_job(key, target, thumbnail, results, cancelled))

    def _placeholder(self, target: Target) -> QPixmap:
        width = ICON_SIZE.width()
        if target.width <= 0 or target.height <= 0:  # unknown until chosen (the portal)
            height = min(ICON_SIZE.height(), width * 9 // 16)
        else:
            height = max(1, min(ICON_SIZE.height(),
                                round(width * target.height / max(1, target.width))))
        pixmap = QPixmap(width, height)
        pixmap.fill(self.palette().color(QPalette.ColorRole.Mid))
        return pixmap

    # -- thumbnails --------------------------------------------------------------------------

    def _drain_results(self) -> None:
        while True:
            try:
                key, image = self._results.get_nowait()
            except queue.Empty:
                break
            self._pending.discard(key)
            item = self._items.get(key)
            if item is not None and image is not None and not image.isNull():
                item.setIcon(QPixmap.fromImage(image))
        if not self._pending:
            self._poll.stop()

    def _stop_thumbnails(self) -> None:
        self._cancelled.set()
        self._poll.stop()

    # -- state -------------------------------------------------------------------------------

    def _show_unsupported(self, reason: str) -> None:
        self._unsupported = reason
        self._tabs.hide()
        self._intro.setText(self.tr("Screen sharing is not available."))
        self._unsupported_label.setText(reason)
        self._unsupported_label.setAccessibleName(reason)
        self._unsupported_label.show()
        self._audio.hide()

    def _update_share_button(self, *_args: Any) -> None:
        self._share.setEnabled(self.selected_target() is not None)
