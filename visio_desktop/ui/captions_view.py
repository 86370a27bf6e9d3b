"""Live captions: the model of what was said, the overlay on the stage, the transcript panel.

``CaptionsModel.add_line`` takes ``CaptionLine`` values as the call publishes them. A line
replaces the earlier version of its segment, ``(speaker_identity, segment_id)``; a late interim
never replaces a final. Consecutive segments of one speaker, close in time, join into one row
with spaces, as the Meet web app does (some transcribers send one word per segment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from visio_desktop.call_state import CaptionLine
from visio_desktop.ui.chat_panel import StickyScroll
from visio_desktop.ui.reactions import FillParent

SegmentKey = tuple[str, str]  # (speaker_identity, segment_id)

MIN_FONT_SCALE = 0.5
MAX_FONT_SCALE = 3.0


def _local(moment: datetime) -> datetime:
    return moment.astimezone() if moment.tzinfo is not None else moment


@dataclass(frozen=True)
class CaptionRow:
    """One row of captions: a speaker's consecutive segments, joined."""

    speaker_identity: str
    speaker_name: str
    text: str
    started: datetime
    final: bool  # every segment of the row is final

    @property
    def speaker(self) -> str:
        return self.speaker_name or self.speaker_identity

    def time_text(self, seconds: bool = False) -> str:
        return _local(self.started).strftime("%H:%M:%S" if seconds else "%H:%M")


@dataclass
class _RowParts:
    speaker_identity: str
    speaker_name: str
    started: datetime
    updated: datetime
    keys: list[SegmentKey] = field(default_factory=list)


class CaptionsModel(QAbstractListModel):
    """The rows of captions, oldest first. ``changed`` fires after every update."""

    changed = Signal()

    def __init__(self, parent: Any = None, *, join_window_s: float = 8.0,
                 max_row_chars: int = 300) -> None:
        super().__init__(parent)
        self._join_window = timedelta(seconds=join_window_s)
        self._max_row_chars = max_row_chars
        self._segments: dict[SegmentKey, CaptionLine] = {}
        self._row_of: dict[SegmentKey, int] = {}
        self._parts: list[_RowParts] = []

    # -- updates ---------------------------------------------------------------------------

    def add_line(self, line: CaptionLine) -> None:
        key = (line.speaker_identity, line.segment_id)
        previous = self._segments.get(key)
        if previous is not None:
            if previous.final and not line.final:
                return  # a late interim
            self._segments[key] = line
            row = self._row_of[key]
            self._parts[row].speaker_name = line.speaker_name or self._parts[row].speaker_name
            self._row_updated(row)
            return
        self._segments[key] = line
        if self._parts and self._joins(self._parts[-1], line):
            row = len(self._parts) - 1
            self._parts[row].keys.append(key)
            self._parts[row].updated = line.timestamp
            self._row_of[key] = row
            self._row_updated(row)
            return
        row = len(self._parts)
        self.beginInsertRows(QModelIndex(), row, row)
        self._parts.append(_RowParts(line.speaker_identity, line.speaker_name, line.timestamp,
                                     line.timestamp, [key]))
        self._row_of[key] = row
        self.endInsertRows()
        self.changed.emit()

    def clear(self) -> None:
        self.beginResetModel()
        self._segments.clear()
        self._row_of.clear()
        self._parts.clear()
        self.endResetModel()
        self.changed.emit()

    def _joins(self, row: _RowParts, line: CaptionLine) -> bool:
        if row.speaker_identity != line.speaker_identity or self._join_window <= timedelta(0):
            return False
        if len(self._text(row)) >= self._max_row_chars:
            return False
        try:
            return abs(line.timestamp - row.updated) <= self._join_window
        except TypeError:  # naive against aware timestamps
            return False

    def _row_updated(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)
        self.changed.emit()

    # -- reading ---------------------------------------------------------------------------

    def _text(self, parts: _RowParts) -> str:
        return " ".join(text for key in parts.keys if (text := self._segments[key].text.strip()))

    def row(self, row: int) -> CaptionRow:
        parts = self._parts[row]
        return CaptionRow(parts.speaker_identity, parts.speaker_name, self._text(parts),
                          parts.started, all(self._segments[k].final for k in parts.keys))

    def rows(self) -> tuple[CaptionRow, ...]:
        return tuple(self.row(i) for i in range(len(self._parts)))

    def last_rows(self, count: int) -> tuple[CaptionRow, ...]:
        start = max(0, len(self._parts) - count)
        return tuple(self.row(i) for i in range(start, len(self._parts)))

    def segment_count(self) -> int:
        return len(self._segments)

    def transcript_text(self) -> str:
        """The whole transcript, one "[HH:MM:SS] Speaker: text" line per row."""
        return "".join(f"[{r.time_text(seconds=True)}] {r.speaker}: {r.text}\n"
                       for r in self.rows() if r.text)

    # -- QAbstractListModel ----------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._parts)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._parts):
            return None
        row = self.row(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.speaker} \N{MIDDLE DOT} {row.time_text()}\n{row.text}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.speaker}, {row.time_text()}: {row.text}"
        return None


def _tail(text: str, limit: int) -> str:
    """The end of a long caption row, cut at a word, as an overlay shows it."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    space = cut.find(" ")
    if 0 <= space < limit // 3:
        cut = cut[space + 1:]
    return "\N{HORIZONTAL ELLIPSIS}" + cut


class CaptionsOverlay(QWidget):
    """The last ``max_lines`` rows ("Speaker: text") at the bottom of the stage, white on a
    translucent dark box. Mouse events go through to the stage. It hides itself when no
    caption came for ``idle_hide_ms`` (0: never)."""

    def __init__(self, model: CaptionsModel, parent: QWidget | None = None, *,
                 max_lines: int = 3, max_chars: int = 120, idle_hide_ms: int = 20000,
                 fill_parent: bool = True) -> None:
        super().__init__(parent)
        self._model = model
        self._max_chars = max_chars
        self._scale = 1.0
        self._base_point_size = QGuiApplication.font().pointSizeF() * 1.4
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName(self.tr("Captions"))

        self._box = QFrame(self)
        self._box.setObjectName("captionsBox")
        self._box.setStyleSheet(
            "#captionsBox { background-color: rgba(0, 0, 0, 185); border-radius: 8px; }"
            " QLabel { color: white; background: transparent; }")
        box_layout = QVBoxLayout(self._box)
        box_layout.setContentsMargins(12, 8, 12, 8)
        box_layout.setSpacing(2)
        self._labels: list[QLabel] = []
        for _ in range(max_lines):
            label = QLabel(self._box)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.hide()
            box_layout.addWidget(label)
            self._labels.append(label)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self._box, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 24)
        layout.addStretch(1)
        layout.addLayout(row)

        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_hide_ms)
        self._idle.timeout.connect(self._box.hide)
        self._idle_hide_ms = idle_hide_ms

        self._apply_font()
        model.changed.connect(self._refresh)
        self._refresh(restart_idle=False)
        if fill_parent and parent is not None:
            FillParent(self)

    def set_font_scale(self, scale: float) -> None:
        self._scale = min(MAX_FONT_SCALE, max(MIN_FONT_SCALE, scale))
        self._apply_font()

    def font_scale(self) -> float:
        return self._scale

    def visible_lines(self) -> list[str]:
        """What the overlay shows now, top to bottom."""
        if self._box.isHidden():
            return []
        return [label.text() for label in self._labels if not label.isHidden()]

    def _apply_font(self) -> None:
        font = self._box.font()
        font.setPointSizeF(self._base_point_size * self._scale)
        self._box.setFont(font)
        for label in self._labels:
            label.setFont(font)

    def _refresh(self, restart_idle: bool = True) -> None:
        rows = [r for r in self._model.last_rows(len(self._labels)) if r.text]
        for index, label in enumerate(self._labels):
            if index < len(rows):
                text = _tail(rows[index].text, self._max_chars)
                label.setText(self.tr("{speaker}: {text}").format(speaker=rows[index].speaker,
                                                                  text=text))
                label.show()
            else:
                label.clear()
                label.hide()
        self._box.setVisible(bool(rows))
        if rows and restart_idle and self._idle_hide_ms > 0:
            self._idle.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._box.setMaximumWidth(max(200, int(self.width() * 0.8)))


class CaptionsPanel(QWidget):
    """The transcript so far, a text size control and "Export…"."""

    font_scale_changed = Signal(float)

    def __init__(self, model: CaptionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.setAccessibleName(self.tr("Transcript"))
        self._base_point_size = QGuiApplication.font().pointSizeF()

        size_label = QLabel(self.tr("Text &size"), self)
        self._size = QSpinBox(self)
        self._size.setRange(int(MIN_FONT_SCALE * 100), int(MAX_FONT_SCALE * 100))
        self._size.setSingleStep(10)
        self._size.setValue(100)
        self._size.setSuffix("%")
        self._size.setAccessibleName(self.tr("Caption text size"))
        size_label.setBuddy(self._size)
        self._size.valueChanged.connect(self._on_size)

        self._export = QPushButton(self.tr("&Export…"), self)
        self._export.setAccessibleName(self.tr("Export the transcript to a text file"))
        self._export.clicked.connect(self.export_with_dialog)

        tools = QHBoxLayout()
        tools.addWidget(size_label)
        tools.addWidget(self._size)
        tools.addStretch(1)
        tools.addWidget(self._export)

        self._view = QListView(self)
        self._view.setModel(model)
        self._view.setWordWrap(True)
        self._view.setUniformItemSizes(False)
        self._view.setResizeMode(QListView.ResizeMode.Adjust)
        self._view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._view.setSpacing(3)
        self._view.setAccessibleName(self.tr("Captions transcript"))
        self._view.setAccessibleDescription(self.tr("What was said, oldest first"))
        copy = QAction(self.tr("Copy"), self._view)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self._copy_selected)
        self._view.addAction(copy)
        self._sticky = StickyScroll(self._view.verticalScrollBar())

        self._empty = QLabel(self.tr("Captions appear here when someone speaks."), self)
        self._empty.setWordWrap(True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self._view, 1)
        layout.addWidget(self._empty, 1)
        self.setFocusProxy(self._view)

        model.changed.connect(self._on_model_changed)
        # Rows that grow in place need a new layout: QListView caches item heights.
        model.dataChanged.connect(lambda *_: self._view.scheduleDelayedItemsLayout())
        self._on_model_changed()

    def view(self) -> QListView:
        return self._view

    def font_scale(self) -> float:
        return self._size.value() / 100

    def set_font_scale(self, scale: float) -> None:
        self._size.setValue(round(min(MAX_FONT_SCALE, max(MIN_FONT_SCALE, scale)) * 100))

    def export(self, path: str | Path) -> None:
        """Write the transcript to ``path`` as UTF-8 text; raises OSError."""
        Path(path).write_text(self._model.transcript_text(), encoding="utf-8")

    def export_with_dialog(self) -> str | None:
        """Ask where to save, then export; the path written, or None."""
        default = Path.home() / f"transcript-{datetime.now():%Y-%m-%d-%H%M}.txt"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export transcript"), str(default),
            self.tr("Text files (*.txt);;All files (*)"))
        if not path:
            return None
        try:
            self.export(path)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Export transcript"),
                                self.tr("The transcript could not be saved:\n{error}").format(
                                    error=exc.strerror or str(exc)))
            return None
        return path

    def _on_size(self, percent: int) -> None:
        font = self._view.font()
        font.setPointSizeF(self._base_point_size * percent / 100)
        self._view.setFont(font)
        self._view.scheduleDelayedItemsLayout()
        self.font_scale_changed.emit(percent / 100)

    def _on_model_changed(self) -> None:
        empty = self._model.rowCount() == 0
        self._empty.setVisible(empty)
        self._view.setVisible(not empty)
        self._export.setEnabled(not empty)

    def _copy_selected(self) -> None:
        rows = sorted(index.row() for index in self._view.selectionModel().selectedIndexes())
        text = "\n".join(f"{r.speaker}: {r.text}"
                         for r in (self._model.row(i) for i in rows))
        if text:
            QGuiApplication.clipboard().setText(text)
