"""The call window's page: stage, overlays, side panels and control bar, wired to a Call.

It renders the Call's snapshots and events and turns the user's actions into operations on the
engine (``Operations.run``); it holds no protocol or media logic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from visio_desktop.call import Call
from visio_desktop.call_state import (
    CallSnapshot,
    CaptionLine,
    ChatEntry,
    ConnectionState,
    Notice,
    Reaction,
)
from visio_desktop.ui.actions import CallActions
from visio_desktop.ui.call_bridge import CallBridge
from visio_desktop.ui.captions_view import CaptionsModel, CaptionsOverlay, CaptionsPanel
from visio_desktop.ui.chat_panel import ChatPanel
from visio_desktop.ui.control_bar import ControlBar
from visio_desktop.ui.messages import error_text, notice_text
from visio_desktop.ui.operations import Operations
from visio_desktop.ui.participants_panel import ParticipantsPanel
from visio_desktop.ui.reactions import ReactionOverlay, ReactionPicker
from visio_desktop.ui.stage import Stage
from visio_desktop.ui.toast import ToastArea

log = logging.getLogger(__name__)


class SidePanel(QStackedWidget):
    """Chat, participants or captions beside the stage (one at a time)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(300)
        self.setMaximumWidth(420)
        self.setAccessibleName(self.tr("Side panel"))


class CallPage(QWidget):
    leave_requested = Signal()
    settings_requested = Signal()
    screen_share_requested = Signal()  # the window shows the picker
    stats_requested = Signal()
    meeting_info_requested = Signal()
    chat_notification = Signal(object)  # ChatEntry arriving while the chat is closed

    def __init__(self, call: Call, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call")
        self.call = call
        self.ops = ops
        self.bridge = CallBridge(call, self)
        self.actions_ = CallActions(self, icon_color=QColor("#f4f4f6"))
        self.snapshot = CallSnapshot()
        self._push_to_talk = False

        # stage and its overlays
        self.stage_area = QWidget()
        self.stage = Stage(call.frames, self.stage_area)
        stage_layout = QVBoxLayout(self.stage_area)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        stage_layout.addWidget(self.stage)
        self.captions_model = CaptionsModel(self)
        # the last caption lines go under the stage, never over the tiles' names
        self.captions_overlay = CaptionsOverlay(self.captions_model, self.stage_area,
                                                fill_parent=False)
        stage_layout.addWidget(self.captions_overlay)
        self.captions_overlay.hide()
        self.reaction_overlay = ReactionOverlay(self.stage_area)
        self.toasts = ToastArea(self.stage_area)

        # banners (connection, recording)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()

        # side panels
        self.side = SidePanel()
        self.chat = ChatPanel()
        self.participants = ParticipantsPanel()
        self.captions_panel = CaptionsPanel(self.captions_model)
        for panel in (self.chat, self.participants, self.captions_panel):
            self.side.addWidget(panel)
        self.side.hide()

        self.controls = ControlBar(self.actions_)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.stage_area, 1)
        body.addWidget(self.side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        layout.addWidget(self.controls)

        self.reaction_picker = ReactionPicker()
        self.reaction_menu = QMenu(self)
        self.reaction_menu.setAccessibleName(self.tr("Reactions"))
        picker_action = QWidgetAction(self.reaction_menu)
        picker_action.setDefaultWidget(self.reaction_picker)
        self.reaction_menu.addAction(picker_action)

        for action in self.actions_.all():
            self.addAction(action)  # shortcuts work anywhere in the window
        self._wire()
        # the state the call is in, without sending it back as intents
        self._set_checked(self.actions_.microphone, call.media.microphone_on)
        self._set_checked(self.actions_.camera, call.media.camera_on)
        self._style_media_actions()

    # -- wiring ----------------------------------------------------------------------------------
    def _wire(self) -> None:
        a = self.actions_
        a.microphone.toggled.connect(self._microphone_toggled)
        a.camera.toggled.connect(self._camera_toggled)
        a.screen_share.triggered.connect(self._screen_share_triggered)
        a.hand.toggled.connect(self._hand_toggled)
        a.reactions.triggered.connect(self._show_reactions)
        a.chat.toggled.connect(lambda on: self._show_panel(self.chat, on))
        a.participants.toggled.connect(lambda on: self._show_panel(self.participants, on))
        a.captions.toggled.connect(self._captions_toggled)
        a.transcript.toggled.connect(lambda on: self._show_panel(self.captions_panel, on))
        a.layout.toggled.connect(lambda on: self.stage.set_layout("speaker" if on else "grid"))
        a.focus_toolbar.triggered.connect(self.controls.focus_first)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.settings.triggered.connect(self.settings_requested)
        a.stats.triggered.connect(self.stats_requested)
        a.meeting_info.triggered.connect(self.meeting_info_requested)
        a.leave.triggered.connect(self.leave_requested)
        a.fullscreen.toggled.connect(self._fullscreen_toggled)
        self.stage.layout_changed.connect(
            lambda mode: self._set_checked(a.layout, mode == "speaker"))

        b = self.bridge
        b.snapshot_changed.connect(self.set_snapshot)
        b.chat_received.connect(self.add_chat)
        b.caption_received.connect(self.add_caption)
        b.reaction_received.connect(self.show_reaction)
        b.notice.connect(self.show_notice)

        self.chat.send_requested.connect(self._send_chat)
        self.chat.unread_changed.connect(lambda n: self.controls.set_badge("chat", n))
        self.chat.notify.connect(self._chat_arrived_closed)
        self.participants.pin_requested.connect(self._pin)
        self.participants.unpin_requested.connect(lambda _identity: self.stage.unpin())
        self.participants.rename_requested.connect(self._rename)
        self.participants.lower_hand_requested.connect(lambda: a.hand.setChecked(False))
        # moderation (shown to administrators only)
        p, call = self.participants, self.call
        p.mute_requested.connect(lambda i: self._run(call.mute_participant(i), "mute"))
        p.mute_all_requested.connect(lambda: self._run(call.mute_everyone(), "mute everyone"))
        p.remove_requested.connect(lambda i: self._run(call.remove_participant(i), "remove"))
        p.lower_hand_for_requested.connect(
            lambda i: self._run(call.lower_hand_of(i), "lower a hand"))
        p.lower_all_hands_requested.connect(
            lambda: self._run(call.lower_all_hands(), "lower all hands"))
        p.admit_requested.connect(
            lambda pid, allow: self._run(call.admit(pid, allow), "admit"))
        p.role_change_requested.connect(
            lambda identity, role: self._run(call.set_role(identity, role), "change a role"))
        p.publish_sources_changed.connect(self._set_publish_sources)
        self.reaction_picker.reaction_chosen.connect(self._send_reaction)
        self.captions_panel.font_scale_changed.connect(self.captions_overlay.set_font_scale)

    @staticmethod
    def _set_checked(action: Any, on: bool) -> None:
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)

    # -- rendering -------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: CallSnapshot) -> None:
        previous, self.snapshot = self.snapshot, snapshot
        self.stage.set_snapshot(snapshot)
        if snapshot.local.is_admin and not previous.local.is_admin:
            self._load_publish_sources()
        self.participants.set_admin(snapshot.local.is_admin)
        if snapshot.waiting != previous.waiting:
            self.participants.set_waiting(list(snapshot.waiting))
        self.participants.set_snapshot(snapshot)
        if len(snapshot.waiting) > len(previous.waiting) and snapshot.local.is_admin:
            name = snapshot.waiting[-1][1]
            self.toast(self.tr("{0} is waiting to join").format(name),
                       action=(self.tr("Open participants"),
                               lambda: self.actions_.participants.setChecked(True)))
        a, local = self.actions_, snapshot.local
        self._set_checked(a.microphone, local.microphone_on or self._push_to_talk)
        self._set_checked(a.camera, local.camera_on)
        self._set_checked(a.screen_share, local.screen_sharing)
        self._set_checked(a.hand, local.hand_raised)
        allowed = local.allowed_sources
        for action, source in ((a.microphone, "microphone"), (a.camera, "camera"),
                               (a.screen_share, "screen_share")):
            permitted = allowed is None or source in allowed
            action.setEnabled(permitted)
            if not permitted:
                action.setToolTip(self.tr("An administrator does not allow this in this "
                                          "meeting"))
        self._style_media_actions()
        self.controls.set_badge("participants", len(snapshot.participants))
        if local.speaking_while_muted and not previous.local.speaking_while_muted:
            self.toast(notice_text(Notice("speaking_while_muted")))
        for field in ("microphone_error", "camera_error", "screen_error"):
            text = getattr(local, field)
            if text and text != getattr(previous.local, field):
                self.toast(text)
        if snapshot.state == ConnectionState.RECONNECTING:
            self.banner.setText(notice_text(Notice("reconnecting")))
            self.banner.show()
        elif snapshot.recording or snapshot.transcribing:
            self.banner.setText(self.tr("This meeting is being recorded") if snapshot.recording
                                else self.tr("This meeting is being transcribed"))
            self.banner.show()
        else:
            self.banner.hide()

    def _style_media_actions(self) -> None:
        a = self.actions_
        icon = a.icon
        mic, cam = a.microphone.isChecked(), a.camera.isChecked()
        a.microphone.setIcon(icon("mic" if mic else "mic-off"))
        a.microphone.setText(self.tr("Mute") if mic else self.tr("Unmute"))
        a.camera.setIcon(icon("camera" if cam else "camera-off"))
        a.camera.setText(self.tr("Stop camera") if cam else self.tr("Start camera"))
        share = a.screen_share.isChecked()
        a.screen_share.setIcon(icon("screen-share-stop" if share else "screen-share"))
        a.screen_share.setText(self.tr("Stop sharing") if share else self.tr("Share screen"))
        a.hand.setText(self.tr("Lower hand") if a.hand.isChecked() else self.tr("Raise hand"))
        for name, action in (("microphone", a.microphone), ("camera", a.camera),
                             ("screen_share", a.screen_share), ("hand", a.hand)):
            self.controls.buttons[name].setAccessibleName(action.text())

    def add_chat(self, entry: ChatEntry) -> None:
        self.chat.add_message(entry)

    def add_caption(self, line: CaptionLine) -> None:
        self.captions_model.add_line(line)
        if not self.actions_.captions.isChecked():
            self.actions_.captions.setChecked(True)  # captions started: show them

    def show_reaction(self, reaction: Reaction) -> None:
        self.reaction_overlay.show_reaction(reaction)

    def show_notice(self, notice: Notice) -> None:
        if notice.kind == "participant_joined" and len(self.snapshot.participants) > 5:
            return  # as Visio: joins are announced in small meetings only
        if notice.kind == "participant_waiting":
            return  # administrators see who waits (set_snapshot); others need not know
        text = notice_text(notice)
        if text:
            self.toast(text)

    def toast(self, text: str, action: tuple[str, Callable[[], None]] | None = None) -> None:
        if action is None:
            self.toasts.show_message(text)
        else:
            self.toasts.show_message(text, action_text=action[0], on_action=action[1])

    # -- intents ---------------------------------------------------------------------------------
    def _run(self, coro: Any, what: str) -> None:
        self.ops.run(coro, on_failure=lambda exc: self.toast(error_text(exc)), what=what)

    def _microphone_toggled(self, on: bool) -> None:
        self._style_media_actions()
        self._run(self.call.set_microphone(on), "microphone")

    def _camera_toggled(self, on: bool) -> None:
        self._style_media_actions()
        self._run(self.call.set_camera(on), "camera")

    def _screen_share_triggered(self) -> None:
        if self.snapshot.local.screen_sharing:
            self._run(self.call.stop_screen_share(), "stop sharing")
        else:
            self._set_checked(self.actions_.screen_share, False)
            self.screen_share_requested.emit()

    def start_screen_share(self, target: Any, *, with_audio: bool = False) -> None:
        self._run(self.call.start_screen_share(target, with_audio=with_audio), "share screen")

    def _hand_toggled(self, raised: bool) -> None:
        self._style_media_actions()
        self._run(self.call.set_hand_raised(raised), "hand")

    def _show_reactions(self) -> None:
        button = self.controls.buttons["reactions"]
        self.reaction_menu.popup(button.mapToGlobal(button.rect().topLeft()))
        self.reaction_picker.setFocus()

    def _send_reaction(self, slug: str) -> None:
        self.reaction_menu.close()
        self._run(self.call.send_reaction(slug), "reaction")

    def _send_chat(self, text: str) -> None:
        self._run(self.call.send_chat(text), "chat")

    def _load_publish_sources(self) -> None:
        self.ops.run(self.call.publish_sources(),
                     on_success=self.participants.set_publish_sources,
                     on_failure=lambda _exc: None, what="publish rights")

    def _set_publish_sources(self, sources: list[str]) -> None:
        def failed(exc: BaseException) -> None:
            self.toast(error_text(exc))
            self._load_publish_sources()  # show what really applies

        self.ops.run(self.call.set_publish_sources(sources), on_failure=failed,
                     what="publish rights")

    def _rename(self, name: str) -> None:
        self._run(self.call.rename(name), "rename")

    def _pin(self, identity: str) -> None:
        self.stage.pin(identity)

    def _chat_arrived_closed(self, entry: ChatEntry) -> None:
        self.toast(self.tr("{0}: {1}").format(entry.sender_name, entry.text[:120]),
                   action=(self.tr("Open chat"), lambda: self.actions_.chat.setChecked(True)))
        self.chat_notification.emit(entry)

    def _show_panel(self, panel: QWidget, on: bool) -> None:
        toggles = {self.chat: self.actions_.chat, self.participants: self.actions_.participants,
                   self.captions_panel: self.actions_.transcript}
        if on:
            for other, action in toggles.items():
                if other is not panel and action is not None:
                    self._set_checked(action, False)
            self.side.setCurrentWidget(panel)
            self.side.show()
            panel.setFocus()
        elif self.side.currentWidget() is panel:
            self.side.hide()
        self.chat.set_open(self.side.isVisible() and self.side.currentWidget() is self.chat)

    def _captions_toggled(self, on: bool) -> None:
        self.captions_overlay.setVisible(on)
        if on:
            self.captions_overlay.raise_()
            if self.call.subtitle_starter is not None:  # a Visio meeting: ask for captions
                self.ops.run(self.call.start_captions(),
                             on_success=lambda started: started and self.toast(
                                 self.tr("Live captions are starting…")),
                             on_failure=lambda exc: self.toast(error_text(exc)),
                             what="start captions")

    def _fullscreen_toggled(self, on: bool) -> None:
        window = self.window()
        if on:
            window.showFullScreen()
        else:
            window.showNormal()

    def show_shortcuts(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Keyboard shortcuts"))
        rows = self.actions_.shortcut_list()
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Shortcut")])
        table.setAccessibleName(self.tr("Keyboard shortcuts"))
        for i, (name, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(name.replace("&", "")))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        dialog.resize(420, 420)
        dialog.open()

    # -- push to talk (hold V while muted) -------------------------------------------------------
    # Key events that no child accepts (text fields accept V; buttons and tiles do not) reach
    # the page, so typing a "v" never opens the microphone.
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._is_push_key(event):
            self._push(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if self._is_push_key(event):
            self._push(False)
            return
        super().keyReleaseEvent(event)

    def _is_push_key(self, event: QKeyEvent) -> bool:
        return (event.key() == self.actions_.push_to_talk_key and not event.isAutoRepeat()
                and event.modifiers() == Qt.KeyboardModifier.NoModifier)

    def _push(self, down: bool) -> None:
        if down and not self.snapshot.local.microphone_on and not self._push_to_talk:
            self._push_to_talk = True
            self._run(self.call.set_microphone(True), "push to talk")
        elif not down and self._push_to_talk:
            self._push_to_talk = False
            self._run(self.call.set_microphone(False), "push to talk")

    def close_page(self) -> None:
        self.deleteLater()
