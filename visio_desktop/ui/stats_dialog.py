"""The "connection details" dialog: one table row per sent and received track.

The dialog knows nothing of the engine: it is given ``fetch(callback)``, which must arrange for
:func:`visio_desktop.net.stats.collect_stats` to run on the engine and for ``callback(rows)``
to be called back **on the UI thread**. It asks every two seconds while shown, never with a
request still unanswered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QGuiApplication, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from visio_desktop.net.stats import TrackStats

StatsCallback = Callable[[list[TrackStats]], None]
StatsFetch = Callable[[StatsCallback], None]

REFRESH_MS = 2000
MAX_SKIPPED = 3  # refreshes skipped waiting for an answer before asking again
NOT_AVAILABLE = "—"

_Index = QModelIndex | QPersistentModelIndex


class StatsTableModel(QAbstractTableModel):
    """:class:`TrackStats` rows as a read-only table, every cell plain text."""

    COLUMNS = ("direction", "participant", "source", "codec", "resolution", "fps", "bitrate",
               "packets", "lost", "loss", "rtt", "jitter", "encoder")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TrackStats] = []
        self._headers = {
            "direction": self.tr("Direction"),
            "participant": self.tr("Participant"),
            "source": self.tr("Track"),
            "codec": self.tr("Codec"),
            "resolution": self.tr("Resolution"),
            "fps": self.tr("Frames/s"),
            "bitrate": self.tr("Bitrate"),
            "packets": self.tr("Packets"),
            "lost": self.tr("Packets lost"),
            "loss": self.tr("Loss"),
            "rtt": self.tr("Round trip"),
            "jitter": self.tr("Jitter"),
            "encoder": self.tr("Encoder"),
        }
        self._directions = {"send": self.tr("Sending"), "receive": self.tr("Receiving")}
        self._sources = {
            "camera": self.tr("Camera"),
            "microphone": self.tr("Microphone"),
            "screen_share": self.tr("Screen share"),
            "screen_share_audio": self.tr("Screen share sound"),
        }
        self._kinds = {"audio": self.tr("Audio"), "video": self.tr("Video")}

    # -- data --------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[TrackStats]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[TrackStats]:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.COLUMNS):
            return self._headers[self.COLUMNS[section]]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = self.COLUMNS[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
                    Qt.ItemDataRole.ToolTipRole):
            return self.cell_text(self._rows[index.row()], column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
                "resolution", "fps", "bitrate", "packets", "lost", "loss", "rtt", "jitter"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def cell_text(self, row: TrackStats, column: str) -> str:
        """The text of one cell (also used for the clipboard)."""
        if column == "direction":
            return self._directions.get(row.direction, row.direction)
        if column == "participant":
            return row.participant_name or row.participant_identity
        if column == "source":
            source = self._sources.get(row.source)
            return source if source is not None else self._kinds.get(row.kind, row.kind)
        if column == "codec":
            return row.codec or NOT_AVAILABLE
        if column == "resolution":
            if row.width is None or row.height is None:
                return NOT_AVAILABLE
            return self.tr("{width} × {height}").format(width=row.width, height=row.height)
        if column == "fps":
            return NOT_AVAILABLE if row.fps is None else f"{row.fps:.0f}"
        if column == "bitrate":
            if row.bitrate_kbps is None:
                return NOT_AVAILABLE
            if row.bitrate_kbps >= 1000:
                return self.tr("{value} Mbit/s").format(value=f"{row.bitrate_kbps / 1000:.2f}")
            return self.tr("{value} kbit/s").format(value=f"{row.bitrate_kbps:.0f}")
        if column == "packets":
            return str(row.packets)
        if column == "lost":
            return NOT_AVAILABLE if row.packets_lost is None else str(row.packets_lost)
        if column == "loss":
            if row.loss_percent is None:
                return NOT_AVAILABLE
            return self.tr("{value} %").format(value=f"{row.loss_percent:.1f}")
        if column == "rtt":
            if row.rtt_ms is None:
                return NOT_AVAILABLE
            return self.tr("{value} ms").format(value=f"{row.rtt_ms:.0f}")
        if column == "jitter":
            if row.jitter_ms is None:
                return NOT_AVAILABLE
            return self.tr("{value} ms").format(value=f"{row.jitter_ms:.1f}")
        if column == "encoder":
            return row.encoder or NOT_AVAILABLE
        raise KeyError(column)

    def as_text(self) -> str:
        """The table as tab-separated text, with a header line."""
        lines = ["\t".join(self._headers[c] for c in self.COLUMNS)]
        lines += ["\t".join(self.cell_text(row, c) for c in self.COLUMNS) for row in self._rows]
        return "\n".join(lines)


class StatsDialog(QDialog):
    """Connection statistics, refreshed every ``refresh_ms`` while the dialog is shown."""

    def __init__(self, fetch: StatsFetch, parent: QWidget | None = None, *,
                 refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Connection details"))
        self.setAccessibleName(self.tr("Connection details"))
        self._fetch = fetch
        self._waiting = False
        self._skipped = 0

        layout = QVBoxLayout(self)
        self._summary = QLabel(self)
        self._summary.setTextFormat(Qt.TextFormat.PlainText)
        self._summary.setWordWrap(True)
        layout.addWidget(self._summary)

        self.model = StatsTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Statistics of each track"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)

        buttons = QDialogButtonBox(self)
        self.copy_button = buttons.addButton(self.tr("&Copy to clipboard"),
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setAccessibleName(self.tr("Copy to clipboard"))
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText(self.tr("Close"))
        close.setAccessibleName(self.tr("Close"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._show_summary()
        self.resize(900, 320)

    # -- public ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask for new rows (ignored while a request is unanswered)."""
        if self._waiting:
            self._skipped += 1
            if self._skipped < MAX_SKIPPED:
                return  # a request lost by the engine must not stop the refreshes for good
        self._waiting, self._skipped = True, 0

        def deliver(rows: list[TrackStats]) -> None:
            if isValid(self):  # the dialog may be gone when the answer comes
                self._waiting = False
                self.set_rows(rows)

        self._fetch(deliver)

    def set_rows(self, rows: Sequence[TrackStats]) -> None:
        self.model.set_rows(rows)
        self._show_summary()

    def copy_to_clipboard(self) -> str:
        """Put the table on the clipboard as tab-separated text; returns that text."""
        text = self.model.as_text()
        QGuiApplication.clipboard().setText(text)
        return text

    # -- events ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def _show_summary(self) -> None:
        rows = self.model.rows()
        if not rows:
            text = self.tr("No audio or video is being sent or received.")
        else:
            sending = sum(1 for r in rows if r.direction == "send")
            text = self.tr("Tracks sent: {sent}; received: {received}.").format(
                sent=sending, received=len(rows) - sending)
        self._summary.setText(text)
        self._summary.setAccessibleName(text)
