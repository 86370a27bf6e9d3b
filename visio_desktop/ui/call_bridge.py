"""Re-emits a Call's events (published on the engine thread) as Qt signals on the UI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from visio_desktop.call import Call
from visio_desktop.call_state import (
    CallEnded,
    CallEvent,
    CaptionReceived,
    ChatReceived,
    NoticeRaised,
    ReactionReceived,
    SnapshotChanged,
)


class CallBridge(QObject):
    snapshot_changed = Signal(object)  # CallSnapshot
    chat_received = Signal(object)  # ChatEntry
    caption_received = Signal(object)  # CaptionLine
    reaction_received = Signal(object)  # Reaction
    notice = Signal(object)  # Notice
    ended = Signal(str)  # reason, "" when we left

    def __init__(self, call: Call, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.call = call
        call.subscribe(self._on_event)

    def _on_event(self, event: CallEvent) -> None:  # engine thread: emit only
        match event:
            case SnapshotChanged(snapshot):
                self.snapshot_changed.emit(snapshot)
            case ChatReceived(entry):
                self.chat_received.emit(entry)
            case CaptionReceived(line):
                self.caption_received.emit(line)
            case ReactionReceived(reaction):
                self.reaction_received.emit(reaction)
            case NoticeRaised(notice):
                self.notice.emit(notice)
            case CallEnded(reason):
                self.ended.emit(reason)
