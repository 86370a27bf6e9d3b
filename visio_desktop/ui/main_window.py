"""The main window: Home → pre-join → call → Home, one Call per meeting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QRect, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import QMainWindow, QStackedWidget

from visio_desktop.call import DEFAULT, Call, MediaOptions
from visio_desktop.config import Settings
from visio_desktop.engine import Engine
from visio_desktop.local_meeting import LocalMeeting
from visio_desktop.net.links import MeetingLink, parse_link
from visio_desktop.ui.call_page import CallPage
from visio_desktop.ui.home import HomePage, RecentMeetings
from visio_desktop.ui.icons import icon
from visio_desktop.ui.messages import error_text
from visio_desktop.ui.operations import Operations
from visio_desktop.ui.prejoin import PreJoinPage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JoinTarget:
    link: MeetingLink | None  # None: host a meeting on this computer

    @property
    def hosting(self) -> bool:
        return self.link is None


class MainWindow(QMainWindow):
    joined = Signal()
    left = Signal()
    lobby_waiting = Signal()  # emitted from the engine thread: we are in a waiting room

    def __init__(self, engine: Engine, settings: Settings, *,
                 media: dict[str, Any] | None = None, audio_backend: Any = None,
                 qsettings: QSettings | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.ops = Operations(engine, self)
        self.media_overrides = dict(media or {})
        self.audio_backend = audio_backend
        self._backend_lock = threading.Lock()
        self.qsettings = qsettings or QSettings("DINUM", "Visio Desktop")
        self.setWindowTitle(self.tr("Visio"))
        self.setWindowIcon(icon("app"))
        self.setMinimumSize(800, 560)

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.home = HomePage(RecentMeetings(settings.store))
        self.home.join_requested.connect(self.open_link)
        self.home.host_requested.connect(self.host_meeting)
        self.home.settings_requested.connect(self.show_settings)
        self.home.sign_in_requested.connect(self.sign_in)
        self.home.sign_out_requested.connect(self.sign_out)
        self.home.create_requested.connect(self.create_meeting)
        self.lobby_waiting.connect(self._in_lobby)
        self._clients: dict[str, Any] = {}  # VisioClient per instance (engine thread)
        self._session_store: Any = None
        self._lobby_cancel: Any = None
        self.lobby_timeout_s = 600.0  # Visio's web app gives up after 10 minutes too
        self.stack.addWidget(self.home)

        self.call: Call | None = None
        self.prejoin: PreJoinPage | None = None
        self.call_page: CallPage | None = None
        self.target: JoinTarget | None = None
        self.local_meeting: LocalMeeting | None = None
        self.mini_window: Any = None
        self.share_indicator: Any = None
        self._share_target: Any = None
        self._setup_tray()
        self._setup_global_shortcut()
        self._restore_geometry()

    # -- desktop integration -----------------------------------------------------------------------
    def _setup_tray(self) -> None:
        from visio_desktop.ui.tray import CallTray

        self.tray = CallTray(icon("app"), self)
        self.tray.show_requested.connect(self.restore)
        self.tray.microphone_toggled.connect(self._tray_microphone)
        self.tray.leave_requested.connect(self.leave)
        self.tray.quit_requested.connect(self.close)
        self.tray.set_tooltip(self.tr("Visio"))
        self.tray.show()

    def _setup_global_shortcut(self) -> None:
        """The optional system-wide mute shortcut (settings: shortcuts/global_mute)."""
        from visio_desktop.ui.global_shortcut import GlobalShortcut

        self.global_shortcut = GlobalShortcut(self)
        self.global_shortcut.triggered.connect(self._toggle_microphone)
        self._apply_global_shortcut(self.settings.get("shortcuts/global_mute"))
        self.settings.on_change(lambda key, value: key == "shortcuts/global_mute"
                                and self._apply_global_shortcut(value))

    def _apply_global_shortcut(self, sequence: str) -> None:
        if not sequence:
            self.global_shortcut.unregister()
        elif not self.global_shortcut.register(sequence):
            log.warning("system-wide mute shortcut %s: %s", sequence,
                        self.global_shortcut.error)

    def _toggle_microphone(self) -> None:
        if self.call_page is not None:
            self.call_page.actions_.microphone.toggle()

    def restore(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _tray_microphone(self, on: bool) -> None:
        if self.call_page is not None:
            self.call_page.actions_.microphone.setChecked(on)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            self._update_mini_window()

    def _update_mini_window(self) -> None:
        """The always-on-top mini window, only if the user turned it on: while the main window
        is minimised during a call."""
        wanted = (self.call_page is not None and self.isMinimized()
                  and bool(self.settings.get("general/mini_window")))
        if wanted and self.mini_window is None:
            from visio_desktop.ui.mini_window import MiniWindow

            page = self.call_page
            assert page is not None and self.call is not None
            frames = self.call.frames

            def paint(key: str, width: int, height: int) -> QImage | None:
                tile = frames.latest(key, width, height)
                if tile is None:
                    return None
                return QImage(tile.data, tile.width, tile.height, tile.stride,
                              QImage.Format.Format_RGB32).copy()

            mini = self.mini_window = MiniWindow(paint)
            mini.set_snapshot(page.snapshot)
            page.bridge.snapshot_changed.connect(mini.set_snapshot)
            mini.microphone_toggled.connect(self._tray_microphone)
            mini.leave_requested.connect(self.leave)
            mini.restore_requested.connect(self.restore)
            mini.show()
        elif not wanted and self.mini_window is not None:
            self.mini_window.close()
            self.mini_window.deleteLater()
            self.mini_window = None

    def _on_snapshot(self, snapshot: Any) -> None:
        self.tray.set_microphone_on(snapshot.local.microphone_on)
        self._update_share_indicator(snapshot.local.screen_sharing)

    def _update_share_indicator(self, sharing: bool) -> None:
        """A border around what is shared and a "Stop sharing" bar, while sharing."""
        target = self._share_target
        if sharing and target is not None and getattr(target, "width", 0) > 0:
            if self.share_indicator is None:
                from visio_desktop.ui.share_indicator import ShareIndicator

                self.share_indicator = ShareIndicator()
                self.share_indicator.stop_requested.connect(self._stop_sharing)
            self.share_indicator.show_for(QRect(target.x, target.y, target.width,
                                                target.height), getattr(target, "name", ""))
        elif not sharing and self.share_indicator is not None:
            self.share_indicator.hide_all()

    def _stop_sharing(self) -> None:
        if self.call is not None:
            self.ops.run(self.call.stop_screen_share(), what="stop sharing")

    def _on_chat_notification(self, entry: Any) -> None:
        """A message arrived while the chat panel is closed: a sound and, when the window is
        not in front, a native notification (each as the user chose)."""
        call = self.call
        if call is not None and self.settings.get("notifications/chat_sound"):
            self.ops.run(call.play_chime(), what="chime")
        if not self.isActiveWindow() and self.settings.get("notifications/chat_toast"):
            from visio_desktop.ui.toast import notify_native

            notify_native(entry.sender_name, entry.text[:200], self.tray.tray_icon)

    def show_stats(self) -> None:
        from visio_desktop.net.stats import StatsSampler
        from visio_desktop.ui.stats_dialog import StatsDialog

        call = self.call
        if call is None:
            return
        sampler = StatsSampler()

        async def collect() -> Any:
            return await sampler.collect(call.room)

        def fetch(deliver: Callable[[Any], None]) -> None:
            self.ops.run(collect(), on_success=deliver, what="statistics")

        self.stats_dialog = StatsDialog(fetch, self)
        self.stats_dialog.open()

    # -- geometry --------------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes) and self.restoreGeometry(geometry):
            return
        self.resize(1280, 800)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        call, meeting = self.call, self.local_meeting
        self.call = None
        clients, self._clients = list(self._clients.values()), {}

        async def shutdown() -> None:
            if call is not None:
                await _shutdown(call, meeting)
            for client in clients:
                await client.close()

        if self.engine.running:
            try:
                self.engine.run(shutdown(), timeout_s=10)
            except Exception as exc:
                log.warning("closing: %s", exc)
        if self.mini_window is not None:
            self.mini_window.close()
        if self.share_indicator is not None:
            self.share_indicator.close_all()
        self.global_shortcut.unregister()
        super().closeEvent(event)

    # -- Home → pre-join ---------------------------------------------------------------------------
    def media_options(self) -> MediaOptions:
        s = self.settings
        options = MediaOptions(
            camera=s.get("video/camera_device") or DEFAULT,
            microphone=s.get("audio/input_device") or DEFAULT,
            speaker=s.get("audio/output_device") or DEFAULT,
            camera_preset=s.get("video/camera_resolution"),
            echo_cancellation=s.get("audio/echo_cancellation"),
            noise_suppression=s.get("audio/noise_suppression"),
            auto_gain=s.get("audio/auto_gain"),
        )
        for key, value in self.media_overrides.items():
            setattr(options, key, value)
        return options

    def open_link(self, text: str) -> None:
        try:
            link = parse_link(text, self.settings.get("general/instance_url"))
        except ValueError as exc:
            self.home.show_error(error_text(exc))
            return
        self._prejoin(JoinTarget(link))

    def host_meeting(self) -> None:
        self._prejoin(JoinTarget(None))

    def _prejoin(self, target: JoinTarget) -> None:
        self.target = target
        call = self.call = Call(self.media_options(), audio_backend=self._backend)
        page = self.prejoin = PreJoinPage(call.frames)
        page.set_meeting(self.tr("Meeting on this computer") if target.hosting
                         else self.tr("Meeting {0}").format(target.link.url))  # type: ignore[union-attr]
        page.set_name(self.settings.get("general/display_name"))
        page.set_media(camera_on=call.media.camera_on, microphone_on=call.media.microphone_on)
        page.set_level_source(call.microphone_level)
        page.join_clicked.connect(self._join)
        page.cancel_clicked.connect(self._cancel_prejoin)
        page.camera_toggled.connect(
            lambda on: self.ops.run(call.set_preview_camera(on), what="preview camera"))
        page.microphone_toggled.connect(lambda on: setattr(call.media, "microphone_on", on))
        page.test_sound_requested.connect(
            lambda: self.ops.run(call.play_test_sound(), what="test sound"))
        page.device_chosen.connect(self._device_chosen)
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.ops.run(call.start_preview(), on_success=lambda _: self._preview_started(),
                     what="preview")
        self.ops.run(_list_devices(self._backend), on_success=self._fill_devices,
                     what="devices")

    def _preview_started(self) -> None:
        if self.prejoin is not None and self.call is not None:
            local = self.call.snapshot.local
            self.prejoin.set_media_error(local.camera_error or local.microphone_error)

    def _fill_devices(self, devices: dict[str, list[tuple[str, str]]]) -> None:
        if self.prejoin is None or self.call is None:
            return
        media = self.call.media
        current = {"camera": media.camera, "microphone": media.microphone,
                   "speaker": media.speaker}
        special = {DEFAULT: self.tr("System default"),
                   "test-pattern": self.tr("Test pattern (synthetic)"),
                   "tone": self.tr("Test tone (synthetic)"), "none": self.tr("None")}
        for kind, items in devices.items():
            labelled = [(i, special.get(i, label)) for i, label in items]
            self.prejoin.set_devices(kind, labelled, current[kind])

    def _device_chosen(self, kind: str, device_id: str) -> None:
        call = self.call
        if call is None:
            return
        key = {"camera": "video/camera_device", "microphone": "audio/input_device",
               "speaker": "audio/output_device"}[kind]
        if device_id not in ("test-pattern", "tone") and not self.settings.is_locked(key):
            self.settings.set(key, "" if device_id == DEFAULT else device_id)
        setattr(call.media, kind, device_id)
        self.ops.run(_restart_preview(call), on_success=lambda _: self._preview_started(),
                     what="switch device")

    def _cancel_prejoin(self) -> None:
        self._cancel_lobby()
        call = self.call
        self.call = None
        if call is not None:
            self.ops.run(call.stop_preview(), what="stop preview")
        self._show_home()

    # -- joining -----------------------------------------------------------------------------------
    def _join(self, name: str) -> None:
        call, target = self.call, self.target
        if call is None or target is None or self.prejoin is None:
            return
        if not self.settings.is_locked("general/display_name"):
            self.settings.set("general/display_name", name)
        self.prejoin.set_busy(True)
        self.ops.run(self._connect(call, target, name), on_success=self._joined,
                     on_failure=self._join_failed, what="join")

    async def _connect(self, call: Call, target: JoinTarget, name: str) -> str:
        if target.link is None:
            meeting = self.local_meeting = LocalMeeting(lan=self.settings.get("local/bind_lan"))
            await meeting.start()
            token = meeting.host_token(name)
            await call.join(meeting.local_url, token)
            from visio_desktop.net.room_admin import LocalAdmin

            call.set_admin(LocalAdmin(call.room, meeting.local_url, token))
            return meeting.link
        import asyncio

        from visio_desktop.net.visio_api import VisioServices

        client = self._client_for(target.link)
        cancel = self._lobby_cancel = asyncio.Event()
        access = await client.join(target.link.slug, name, cancel=cancel,
                                   lobby_timeout_s=self.lobby_timeout_s,
                                   on_lobby=lambda _lobby: self.lobby_waiting.emit())
        services = VisioServices.for_access(client, access)
        services.attach(call)  # hand raise through Visio's API
        call.renamer = services.rename
        try:
            if (await client.config()).subtitles_enabled:
                call.subtitle_starter = services.start_subtitles
        except Exception as exc:  # the configuration is optional for joining
            log.info("instance configuration unavailable: %s", exc)
        await call.join(access.livekit_url, access.token)
        role = call.room.local_participant.attributes.get("room_role", "")
        if role in ("owner", "administrator"):
            from visio_desktop.net.room_admin import VisioAdmin

            call.set_admin(VisioAdmin(client, access.api_room_id, call.room,
                                      token=lambda: access.token))
        return target.link.url

    # -- Visio instances (engine thread) -------------------------------------------------------
    def _store(self) -> Any:
        if self._session_store is None:
            from visio_desktop.net.session_store import SessionStore

            self._session_store = SessionStore()
        return self._session_store

    def _client_for(self, link: MeetingLink) -> Any:
        from visio_desktop.net.visio_api import VisioClient

        client = self._clients.get(link.instance)
        if client is None:
            # sessions for Visio instances (the configured one may be http on loopback in
            # tests); none for meetings hosted by Visio Desktop on the LAN
            configured = self.settings.get("general/instance_url").rstrip("/")
            lan_meeting = link.is_local_network and link.instance != configured
            store = None if lan_meeting else self._store()
            client = VisioClient.for_link(link, session_store=store,
                                          proxy=self.settings.get("network/proxy"),
                                          config_cache=_config_cache(link.instance))
            self._clients[link.instance] = client
        return client

    def _instance_link(self) -> MeetingLink:
        return MeetingLink(self.settings.get("general/instance_url").rstrip("/"), "")

    # -- lobby -----------------------------------------------------------------------------------
    def _in_lobby(self) -> None:
        if self.prejoin is not None:
            self.prejoin.set_waiting(True)

    def _cancel_lobby(self) -> None:
        cancel = self._lobby_cancel
        if cancel is not None:
            self.engine.call_soon(cancel.set)

    # -- account -----------------------------------------------------------------------------------
    def refresh_account(self) -> None:
        """Shows who is signed in on the configured instance (restored from the keyring)."""
        link = self._instance_link()

        async def who() -> tuple[str | None, str, BaseException | None]:
            """(name or None, why signed out when there is no keyring, the expiry)."""
            client = self._client_for(link)
            store = self._store()
            await client.restore_session()
            if not client.signed_in:
                return None, "" if store.available else store.reason, None
            try:
                user = await client.me()
            except Exception as exc:
                expired = exc if getattr(exc, "code", "") == "session_expired" else None
                return None, "", expired
            return user.full_name or user.email, "", None

        async def rooms() -> list[tuple[str, str]]:
            client = self._client_for(link)
            if not client.signed_in:
                return []
            return [(room.name or room.slug, f"{link.instance}/{room.slug}")
                    for room in await client.list_rooms()]

        def shown(result: tuple[str | None, str, BaseException | None]) -> None:
            name, note, expired = result
            if expired is not None:
                note = error_text(expired)
                if not getattr(self, "_silent_tried", False):
                    self._silent_tried = True  # once per run
                    self.sign_in(silent=True)
            self.home.set_account(name, note)
            if name:
                self.ops.run(rooms(), on_success=self.home.set_rooms,
                             on_failure=lambda _exc: None, what="my meetings")
            else:
                self.home.set_rooms([])

        self.ops.run(who(), on_success=shown, on_failure=lambda _exc: None, what="account")

    def sign_in(self, silent: bool = False) -> None:
        """ProConnect in the web view; ``silent``: try without showing anything (the identity
        provider's session may still be alive), for an expired Visio session."""
        from visio_desktop.ui.sign_in import SignInDialog

        link = self._instance_link()
        try:
            dialog = self.sign_in_dialog = SignInDialog(link.instance, self, silent=silent)
        except ImportError:
            self.home.show_error(self.tr("Signing in needs the Qt WebEngine component."))
            return

        def adopt(cookies: dict[str, str]) -> None:
            async def keep() -> bool:
                return bool(await self._client_for(link).adopt_session(cookies))

            self.ops.run(keep(), on_success=lambda _kept: self.refresh_account(),
                         on_failure=lambda exc: self.home.show_error(error_text(exc)),
                         what="sign in")

        dialog.signed_in.connect(adopt)
        if not silent:
            dialog.open()

    def sign_out(self) -> None:
        link = self._instance_link()
        def signed_out(_result: object) -> None:
            self.home.set_account(None)
            self.home.set_rooms([])

        self.ops.run(self._client_for_coro(link, "sign_out"), on_success=signed_out,
                     what="sign out")

    async def _client_for_coro(self, link: MeetingLink, method: str) -> Any:
        return await getattr(self._client_for(link), method)()

    def create_meeting(self) -> None:
        link = self._instance_link()

        async def create() -> str:
            room = await self._client_for(link).create_room()
            return f"{link.instance}/{room.slug}"

        self.ops.run(create(), on_success=self.open_link,
                     on_failure=lambda exc: self.home.show_error(error_text(exc)),
                     what="create a meeting")

    def _join_failed(self, exc: BaseException) -> None:
        log.info("join failed: %s", exc)
        if self.local_meeting is not None:
            meeting, self.local_meeting = self.local_meeting, None
            self.ops.run(meeting.stop(), what="stop local meeting")
        if self.prejoin is not None:
            self.prejoin.set_waiting(False)
            self.prejoin.set_busy(False)
            if getattr(exc, "code", "") != "lobby_cancelled":
                self.prejoin.show_error(error_text(exc))

    def _joined(self, link: str) -> None:
        call = self.call
        if call is None:
            return
        self.home.recent.add(link, self.tr("Meeting on this computer")
                             if self.local_meeting is not None else link)
        page = self.call_page = CallPage(call, self.ops)
        page.leave_requested.connect(self.leave)
        page.settings_requested.connect(self.show_settings)
        page.meeting_info_requested.connect(self.show_meeting_info)
        page.screen_share_requested.connect(self.pick_screen)
        page.stats_requested.connect(self.show_stats)
        page.chat_notification.connect(self._on_chat_notification)
        page.bridge.snapshot_changed.connect(self._on_snapshot)
        page.bridge.ended.connect(self._ended)
        self.tray.set_in_call(True)
        if self.local_meeting is not None:
            page.actions_.leave.setText(self.tr("End meeting"))
            page.actions_.leave.setToolTip(self.tr("End the meeting for everyone"))
        page.captions_overlay.set_font_scale(self.settings.get("accessibility/caption_scale"))
        page.set_snapshot(call.snapshot)
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        if self.prejoin is not None:
            self.stack.removeWidget(self.prejoin)
            self.prejoin.deleteLater()
            self.prejoin = None
        self.setWindowTitle(self.tr("Visio — {0}").format(link))
        if self.local_meeting is not None:
            self.show_meeting_info()
        self.joined.emit()

    # -- in call -----------------------------------------------------------------------------------
    def show_meeting_info(self) -> None:
        from visio_desktop.ui.meeting_info import MeetingInfoDialog

        if self.local_meeting is not None:
            link = self.local_meeting.link
            lan = self.local_meeting.lan and self.local_meeting.address != "127.0.0.1"
        elif self.target is not None and self.target.link is not None:
            link, lan = self.target.link.url, self.target.link.is_local_network
        else:
            return
        self.meeting_info = MeetingInfoDialog(link, local_network=lan, parent=self)
        self.meeting_info.open()

    def pick_screen(self) -> None:
        """The screen/window picker, after asking (off the UI thread) whether the computer's
        sound can be shared here."""
        self.ops.run(_system_audio_support(self._backend), on_success=self._open_picker,
                     on_failure=lambda _exc: self._open_picker(None), what="system audio")

    def _open_picker(self, support: Any) -> None:
        from visio_desktop.ui.screen_picker import ScreenPicker

        picker = self.screen_picker = ScreenPicker(
            self, system_audio_available=bool(support and support.available),
            system_audio_reason=support.reason if support else "")
        picker.accepted.connect(lambda: self._share(picker))
        picker.open()

    def _share(self, picker: Any) -> None:
        target = picker.selected_target()
        if target is not None and self.call_page is not None:
            self._share_target = target
            self.call_page.start_screen_share(target, with_audio=picker.share_audio())

    def show_settings(self) -> None:
        from visio_desktop.ui.settings_dialog import SettingsDialog

        call = self.call
        shortcuts = self.call_page.actions_.shortcut_list() if self.call_page else []
        dialog = self.settings_dialog = SettingsDialog(
            self.settings, shortcuts=shortcuts, parent=self,
            level_source=call.microphone_level if call is not None else None)
        if call is not None:
            dialog.test_sound_requested.connect(
                lambda _device: self.ops.run(call.play_test_sound(), what="test sound"))
        names = {"camera": "camera", "microphone": "input", "speaker": "output"}

        def fill(devices: dict[str, list[tuple[str, str]]]) -> None:
            for kind, items in devices.items():
                real = [(i, label) for i, label in items
                        if i not in (DEFAULT, "test-pattern", "tone", "none")]
                dialog.set_devices(names[kind], real)

        self.ops.run(_list_devices(self._backend), on_success=fill, what="devices")
        dialog.open()

    def _backend(self) -> Any:
        """The audio device backend, shared by every call; created on first use, off the UI
        thread (calls and device scans ask for it on the engine or a worker thread)."""
        with self._backend_lock:
            if self.audio_backend is None:
                from visio_desktop.media.devices import SoundDeviceBackend

                self.audio_backend = SoundDeviceBackend()
            return self.audio_backend

    def leave(self) -> None:
        call, meeting = self.call, self.local_meeting
        if call is None:
            return
        self.ops.run(_shutdown(call, meeting), on_success=lambda _: self._show_home(),
                     on_failure=lambda _: self._show_home(), what="leave")

    def _ended(self, reason: str) -> None:
        if reason:
            self.home.show_error(self.tr("The meeting ended: {0}").format(reason))
        if self.local_meeting is not None and self.call is not None:
            return  # our own leave: _shutdown stops the server, then _show_home runs
        self._show_home()

    def _show_home(self) -> None:
        self.call = None
        self.local_meeting = None
        for page in (self.call_page, self.prejoin):
            if page is not None:
                self.stack.removeWidget(page)
                if isinstance(page, CallPage):
                    page.close_page()
                else:
                    page.deleteLater()
        self.call_page = self.prejoin = None
        self.tray.set_in_call(False)
        self._share_target = None
        self._update_share_indicator(False)
        self._update_mini_window()
        if self.isFullScreen():
            self.showNormal()
        self.setWindowTitle(self.tr("Visio"))
        self.home.refresh_recent()
        self.stack.setCurrentWidget(self.home)
        self.home.link_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.left.emit()


def _config_cache(instance: str) -> Any:
    """Where an instance's public configuration is cached for an offline start."""
    import hashlib
    from pathlib import Path

    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        return None
    name = hashlib.sha256(instance.encode()).hexdigest()[:16]
    return Path(base) / "instances" / f"{name}.json"


async def _shutdown(call: Call, meeting: LocalMeeting | None) -> None:
    await call.leave()
    if meeting is not None:
        await meeting.stop()


async def _system_audio_support(backend: Callable[[], Any]) -> Any:
    import asyncio

    from visio_desktop.media.system_audio import system_audio_support

    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: system_audio_support(backend=backend()))


async def _restart_preview(call: Call) -> None:
    await call.stop_preview()
    await call.start_preview()


async def _list_devices(backend: Callable[[], Any]) -> dict[str, list[tuple[str, str]]]:
    """Cameras, microphones and speakers for the pickers, synthetic sources last."""
    import asyncio

    from visio_desktop.media.camera import list_cameras

    def scan() -> dict[str, list[tuple[str, str]]]:
        # labels of the special entries are given (translated) by the window
        devices: dict[str, list[tuple[str, str]]] = {
            "camera": [(DEFAULT, "")], "microphone": [(DEFAULT, "")], "speaker": [(DEFAULT, "")],
        }
        try:
            devices["camera"] += [(str(c.index), c.name) for c in list_cameras()]
        except Exception as exc:
            log.info("cameras not listed: %s", exc)
        try:
            audio = backend()
            devices["microphone"] += [(d.id, d.label) for d in audio.list_devices("input")]
            devices["speaker"] += [(d.id, d.label) for d in audio.list_devices("output")]
        except Exception as exc:
            log.info("audio devices not listed: %s", exc)
        devices["camera"] += [("test-pattern", ""), ("none", "")]
        devices["microphone"] += [("tone", ""), ("none", "")]
        return devices

    return await asyncio.get_running_loop().run_in_executor(None, scan)
