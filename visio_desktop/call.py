"""Call: one meeting, as the user sees it — the facade between the UI and the engine.

A Call lives on the engine loop (every coroutine here runs there; the UI submits them through
``Engine.submit``). It owns the :class:`~visio_desktop.net.room.Room`, the local media (camera,
microphone, speakers, screen), and turns what happens into immutable values of
:mod:`visio_desktop.call_state` handed to listeners: a new :class:`CallSnapshot` whenever what is
on screen changes, plus chat, captions, reactions and notices. Video crosses to the UI through
the :class:`~visio_desktop.media.frame_store.FrameStore` (latest frame per track).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiortc import MediaStreamTrack
from livekit.protocol import models

from visio_desktop.call_state import (
    LOCAL_CAMERA,
    LOCAL_SCREEN,
    CallEnded,
    CallEvent,
    CallSnapshot,
    CaptionLine,
    CaptionReceived,
    ChatEntry,
    ChatReceived,
    ConnectionState,
    LocalMedia,
    Notice,
    NoticeRaised,
    ParticipantState,
    Quality,
    Reaction,
    ReactionReceived,
    SnapshotChanged,
)
from visio_desktop.media.frame_store import FrameStore, PreviewTee
from visio_desktop.net.data import Caption, ChatMessage
from visio_desktop.net.data.visio import (
    ParticipantMuted,
    ParticipantWaiting,
    PermissionsRemoved,
    RecordingNotification,
)
from visio_desktop.net.data.visio import ReactionReceived as VisioReaction
from visio_desktop.net.participant import Participant, RemoteParticipant, RemoteTrackPublication
from visio_desktop.net.room import Room

if TYPE_CHECKING:
    from visio_desktop.media.system_audio import SystemAudioTrack

log = logging.getLogger(__name__)

HAND_ATTRIBUTE = "handRaisedAt"
ROLE_ATTRIBUTE = "room_role"
SYNTHETIC_CAMERA = "test-pattern"
SYNTHETIC_MICROPHONE = "tone"
NONE = "none"
DEFAULT = "default"

_QUALITY = {0: Quality.POOR, 1: Quality.GOOD, 2: Quality.EXCELLENT, 3: Quality.LOST}


@dataclass
class MediaOptions:
    """Which devices a call uses. Device values: a stable device id (media.devices / a camera
    index or path), ``"default"``, ``"none"``, or the synthetic sources ``"test-pattern"``
    (camera) and ``"tone"`` (microphone) — real moving/sounding sources for tests and demos."""

    camera: str = DEFAULT
    microphone: str = DEFAULT
    speaker: str = DEFAULT
    camera_preset: str = "720p"
    camera_on: bool = True
    microphone_on: bool = True
    echo_cancellation: bool = True
    noise_suppression: bool = True
    auto_gain: bool = True


Listener = Callable[[CallEvent], None]
HandRaiser = Callable[[bool], Awaitable[None]]


def _parse_iso(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Call:
    def __init__(self, media: MediaOptions | None = None, *,
                 frames: FrameStore | None = None, audio_backend: Any = None) -> None:
        self.media = media or MediaOptions()
        self.frames = frames or FrameStore()
        self.room = Room()
        self._listeners: list[Listener] = []
        self._audio_backend = audio_backend
        self._processor: Any = None
        self._camera: MediaStreamTrack | None = None
        self._camera_sid = ""
        self._microphone: Any = None
        self._microphone_sid = ""
        self._meter_task: asyncio.Task[None] | None = None
        self._screen: MediaStreamTrack | None = None
        self._screen_sid = ""
        self._screen_audio: SystemAudioTrack | None = None
        self._screen_audio_sid = ""
        self._mixer: Any = None
        self._bitrate: Any = None
        self._device_monitor: Any = None
        self._local = LocalMedia(microphone_on=self.media.microphone_on,
                                 camera_on=self.media.camera_on)
        self._joined_at: dict[str, float] = {}
        self._snapshot = CallSnapshot()
        self._published: CallSnapshot | None = None  # the last snapshot listeners were given
        self._chat: list[ChatEntry] = []
        self._views: dict[str, tuple[int, int]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._left = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self.hand_raiser: HandRaiser = self._raise_hand_with_attributes
        # a Visio meeting renames through Visio's API (its tokens cannot update metadata)
        self.renamer: Callable[[str], Awaitable[None]] | None = None
        # asks the instance to start live captions (Visio's start-subtitle), when it can
        self.subtitle_starter: Callable[[], Awaitable[None]] | None = None
        self.frames.on_view = self._view_changed
        self.admin: Any = None  # AdminActions (net/room_admin.py) when we may moderate
        self._lobby_watcher: Any = None
        self._wire_room()

    # -- listeners -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _publish(self, event: CallEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("a call listener failed")

    @property
    def snapshot(self) -> CallSnapshot:
        return self._snapshot

    @property
    def chat_history(self) -> list[ChatEntry]:
        return list(self._chat)

    # -- audio plumbing ------------------------------------------------------------------------
    def _backend(self) -> Any:
        """The audio device backend: the one given, or made by the factory given (on the
        engine thread: opening PortAudio takes tens of ms), or a new SoundDeviceBackend."""
        if self._audio_backend is not None and not hasattr(self._audio_backend, "list_devices"):
            self._audio_backend = self._audio_backend()
        if self._audio_backend is None:
            from visio_desktop.media.devices import SoundDeviceBackend

            self._audio_backend = SoundDeviceBackend()
        return self._audio_backend

    def _audio_processor(self) -> Any:
        if self._processor is None:
            from visio_desktop.media.audio_processing import AudioProcessor, ProcessingOptions

            options = ProcessingOptions(echo_cancellation=self.media.echo_cancellation,
                                        noise_suppression=self.media.noise_suppression,
                                        auto_gain=self.media.auto_gain)
            try:
                self._processor = AudioProcessor(options)
            except Exception as exc:  # no processing engine: pass audio through, say so
                log.warning("audio processing unavailable (%s); passing audio through", exc)
                self._processor = AudioProcessor(options, engine="passthrough")
        return self._processor

    def _device(self, kind: str, choice: str) -> Any:
        from visio_desktop.media.devices import find_device

        if choice in (DEFAULT, ""):
            return None
        return find_device(self._backend().list_devices(kind), choice)  # type: ignore[arg-type]

    def _thread_safe(self, fn: Callable[..., None]) -> Callable[..., None]:
        loop = asyncio.get_running_loop()

        def call(*args: Any) -> None:
            with contextlib.suppress(RuntimeError):  # loop closed
                loop.call_soon_threadsafe(fn, *args)
        return call

    # -- local media ---------------------------------------------------------------------------
    def _open_camera(self) -> MediaStreamTrack | None:
        choice = self.media.camera
        if choice == NONE:
            return None
        if choice == SYNTHETIC_CAMERA:
            from visio_desktop.media.camera import PRESETS
            from visio_desktop.media.synthetic_tracks import PatternVideoTrack

            width, height, fps = PRESETS.get(self.media.camera_preset, PRESETS["360p"])
            return PatternVideoTrack(width, height, fps, source="camera")
        from visio_desktop.media.camera import CameraTrack, list_cameras

        device: int | str
        if choice == DEFAULT:
            cameras = list_cameras()
            if not cameras:
                self._set_local(camera_error="no camera found")
                return None
            device = cameras[0].index
        else:
            device = int(choice) if choice.isdigit() else choice
        return CameraTrack(device, self.media.camera_preset,
                           on_status=self._thread_safe(self._on_camera_status))

    def _on_camera_status(self, status: str) -> None:
        error = "" if status in ("starting", "live") else status
        if error != self._local.camera_error:
            self._set_local(camera_error=error)

    def _open_microphone(self) -> Any:
        choice = self.media.microphone
        if choice == NONE:
            return None
        if choice == SYNTHETIC_MICROPHONE:
            from visio_desktop.media.metered import MeteredAudioTrack
            from visio_desktop.media.synthetic_tracks import ToneAudioTrack

            return MeteredAudioTrack(ToneAudioTrack(440.0, amplitude=0.2))
        from visio_desktop.media.audio_io import MicrophoneTrack
        from visio_desktop.media.audio_processing import SpeakingWhileMutedDetector

        detector = SpeakingWhileMutedDetector(
            on_detected=self._thread_safe(lambda: self._set_local(speaking_while_muted=True)))
        try:
            track = MicrophoneTrack(self._backend(), self._device("input", choice),
                                    self._audio_processor(), detector=detector,
                                    on_error=self._thread_safe(self._on_microphone_error))
            track.open()
        except Exception as exc:
            self._set_local(microphone_error=f"microphone unavailable: {exc}")
            return None
        if track.error:
            self._set_local(microphone_error=track.error)
        return track

    def _on_microphone_error(self, message: str) -> None:
        self._set_local(microphone_error=message)

    def microphone_level(self) -> float:
        """The microphone's smoothed level, 0..1 (-60 dBFS..0), for meters; thread-safe."""
        mic = self._microphone
        meter = getattr(mic, "meter", None)
        if meter is None:
            return 0.0
        return max(0.0, min(1.0, (meter.last.smoothed_dbfs + 60.0) / 60.0))

    async def start_preview(self) -> None:
        """Open the chosen camera and microphone for the pre-join screen."""
        self._loop = asyncio.get_running_loop()
        if self.media.camera_on and self._camera is None:
            self._camera = self._open_camera()
            if self._camera is not None:
                self.frames.attach(LOCAL_CAMERA, self._camera, mirror=True)
        if self._microphone is None:
            self._microphone = self._open_microphone()
            if self._microphone is not None:
                # keeps the level meter moving while nothing sends the microphone
                self._meter_task = asyncio.create_task(self._drain(self._microphone))
        self._refresh()

    async def stop_preview(self) -> None:
        self._stop_meter()
        self.frames.detach(LOCAL_CAMERA)
        for track in (self._camera, self._microphone):
            if track is not None:
                track.stop()
        self._camera = self._microphone = None

    def _stop_meter(self) -> None:
        if self._meter_task is not None:
            self._meter_task.cancel()
            self._meter_task = None

    async def set_preview_camera(self, on: bool) -> None:
        self.media.camera_on = on
        if not on and self._camera is not None:
            self.frames.detach(LOCAL_CAMERA)
            self._camera.stop()
            self._camera = None
        elif on:
            await self.start_preview()
        self._set_local(camera_on=on and self._camera is not None)

    # -- joining and leaving -------------------------------------------------------------------
    async def join(self, url: str, token: str) -> None:
        """Connect, start the speakers, publish the microphone (muted if off) and the camera
        (if on). Raises ``ConnectError`` with a message for the user."""
        self._loop = asyncio.get_running_loop()
        self._left = False
        self._set_state(ConnectionState.CONNECTING)
        try:
            await self.room.connect(url, token)
        except Exception:
            self._set_state(ConnectionState.DISCONNECTED)
            raise
        self._joined_at[self.room.local_participant.identity] = time.monotonic()
        self._apply_room_metadata()
        self._apply_permissions()
        from visio_desktop.media.bitrate_control import BitrateController

        self._bitrate = BitrateController(self.room)  # bitrate follows content, loss, REMB
        self._bitrate.start()
        await self._start_speakers()
        self._start_device_monitor()
        self._stop_meter()
        if self._microphone is None:
            self._microphone = self._open_microphone()
        if self._microphone is not None:
            await self._publish_microphone()
        else:
            self._set_local(microphone_on=False)
        if self.media.camera_on:
            await self.set_camera(True)
        self._set_state(ConnectionState.CONNECTED)

    def _start_device_monitor(self) -> None:
        """Hot-plug during the call: a device added or removed is noticed within a second;
        when the microphone or speakers in use disappear, the system default takes over (and
        the remembered choice returns when it is plugged back)."""
        uses_devices = self.media.microphone not in (NONE, SYNTHETIC_MICROPHONE) or \
            self.media.speaker != NONE
        if self._device_monitor is not None or not uses_devices:
            return
        from visio_desktop.media.devices import DeviceMonitor

        preferences = {kind: choice for kind, choice in (("input", self.media.microphone),
                                                          ("output", self.media.speaker))
                       if choice not in (DEFAULT, "", NONE, SYNTHETIC_MICROPHONE)}
        try:
            monitor = DeviceMonitor(self._backend(), preferences=preferences)
        except Exception as exc:
            log.info("no device monitor: %s", exc)
            return
        changed = self._thread_safe(self._device_changed)
        lost = self._thread_safe(self._device_lost)
        monitor.active_device_changed.connect(changed)
        monitor.active_device_lost.connect(lost)
        monitor.start()
        self._device_monitor = monitor

    def _device_changed(self, kind: str, device: Any) -> None:
        if kind == "input" and hasattr(self._microphone, "set_device"):
            self._microphone.set_device(device)
        elif kind == "output" and self._mixer is not None:
            self._mixer.set_device(device)

    def _device_lost(self, kind: str, device: Any) -> None:
        self._publish(NoticeRaised(Notice(
            "microphone_lost" if kind == "input" else "speaker_lost",
            (getattr(device, "label", "") or getattr(device, "name", ""),))))

    async def _start_speakers(self) -> None:
        if self.media.speaker == NONE or self._mixer is not None:
            return
        from visio_desktop.media.audio_io import SpeakerMixer

        try:
            self._mixer = SpeakerMixer(self._backend(), self._device("output", self.media.speaker),
                                       self._audio_processor())
            await self._mixer.start()
        except Exception as exc:
            log.warning("speakers unavailable: %s", exc)
            self._mixer = None

    async def _publish_microphone(self) -> None:
        mic = self._microphone
        mic.muted = not self.media.microphone_on  # type: ignore[union-attr]
        try:
            pub = await self.room.publish_track(mic, "microphone")
        except Exception as exc:
            self._set_local(microphone_error=f"microphone not sent: {exc}")
            return
        self._microphone_sid = pub.sid
        if not self.media.microphone_on:
            await self.room.set_muted(pub.sid, True)
        self._set_local(microphone_on=self.media.microphone_on)

    async def leave(self, reason: str = "") -> None:
        if self._left:
            return
        self._left = True
        self._stop_meter()
        if self._bitrate is not None:
            self._bitrate.stop()
            self._bitrate = None
        if self._device_monitor is not None:
            monitor, self._device_monitor = self._device_monitor, None
            await asyncio.get_running_loop().run_in_executor(None, monitor.stop)
        if self._lobby_watcher is not None:
            await self._lobby_watcher.close()
        if self.admin is not None:
            with contextlib.suppress(Exception):
                await self.admin.close()
        with contextlib.suppress(Exception):
            await self.room.disconnect()
        await self._release_media()
        self._set_state(ConnectionState.DISCONNECTED)
        self._publish(CallEnded(reason))

    async def _release_media(self) -> None:
        self.frames.clear()
        for track in (self._camera, self._microphone, self._screen, self._screen_audio):
            if track is not None:
                track.stop()
        self._camera = self._microphone = self._screen = self._screen_audio = None
        self._camera_sid = self._microphone_sid = self._screen_sid = ""
        self._screen_audio_sid = ""
        if self._mixer is not None:
            with contextlib.suppress(Exception):
                await self._mixer.stop()
            self._mixer = None

    # -- controls ------------------------------------------------------------------------------
    async def set_microphone(self, on: bool) -> None:
        self.media.microphone_on = on
        mic = self._microphone
        if mic is None and on:
            mic = self._microphone = self._open_microphone()
            if mic is not None and self.room.connection_state == "connected":
                await self._publish_microphone()
                return
        if mic is not None:
            mic.muted = not on
            if self._microphone_sid:
                await self.room.set_muted(self._microphone_sid, not on)
        self._set_local(microphone_on=on and mic is not None, speaking_while_muted=False)

    async def set_camera(self, on: bool) -> None:
        """Camera on publishes it; off unpublishes it and releases the device (light off)."""
        self.media.camera_on = on
        if on:
            if self._camera is None:
                self._camera = self._open_camera()
                if self._camera is None:
                    self._set_local(camera_on=False)
                    return
            if not self._camera_sid and self.room.connection_state == "connected":
                tee = PreviewTee(self._camera, self.frames, LOCAL_CAMERA, mirror=True)
                try:
                    pub = await self.room.publish_track(tee, "camera")
                except Exception as exc:
                    self._set_local(camera_error=f"camera not sent: {exc}", camera_on=False)
                    return
                self._camera_sid = pub.sid
        else:
            if self._camera_sid:
                sid, self._camera_sid = self._camera_sid, ""
                with contextlib.suppress(Exception):
                    await self.room.unpublish_track(sid)
            self.frames.detach(LOCAL_CAMERA)
            if self._camera is not None:
                self._camera.stop()
                self._camera = None
        self._set_local(camera_on=on)

    async def start_screen_share(self, target: Any = None, *, fps: float = 10.0,
                                 with_audio: bool = False) -> None:
        """Share a screen or window (``media.screen`` targets), or ``"test-pattern"``; with
        ``with_audio``, the computer's sound too (a ``screen_share_audio`` track) where the
        OS allows it (see ``media.system_audio``)."""
        await self.stop_screen_share()
        try:
            if target == SYNTHETIC_CAMERA:
                from visio_desktop.media.synthetic_tracks import PatternVideoTrack

                track: MediaStreamTrack = PatternVideoTrack(1280, 720, fps,
                                                            source="screen_share")
            else:
                # mss where it can capture, Qt (the desktop portal) on Wayland
                from visio_desktop.media.qt_capture import create_screen_track

                track = create_screen_track(target, fps=fps)
        except Exception as exc:
            self._set_local(screen_error=f"screen sharing unavailable: {exc}",
                            screen_sharing=False)
            return
        tee = PreviewTee(track, self.frames, LOCAL_SCREEN)
        try:
            pub = await self.room.publish_track(tee, "screen_share")
        except Exception as exc:
            track.stop()
            self._set_local(screen_error=f"screen not sent: {exc}", screen_sharing=False)
            return
        self._screen, self._screen_sid = track, pub.sid
        self._set_local(screen_sharing=True, screen_error="")
        if with_audio:
            await self._share_system_audio()

    async def _share_system_audio(self) -> None:
        from visio_desktop.media.playback_canceller import PlaybackCanceller
        from visio_desktop.media.system_audio import SystemAudioTrack, system_audio_support

        support = system_audio_support(backend=self._backend())
        if not support.available:
            self._set_local(screen_error=support.reason)
            return
        # the others' voices we play are in the computer's sound: subtract them
        mixer = self._mixer
        canceller = PlaybackCanceller(2) if mixer is not None else None
        sound = SystemAudioTrack(backend=self._backend(), canceller=canceller,
                                 on_error=lambda message: self._set_local(screen_error=message))
        if mixer is not None and canceller is not None:
            mixer.add_playback_tap(canceller.feed_reference)
        try:
            pub = await self.room.publish_track(sound, "screen_share_audio")
        except Exception as exc:
            self._stop_screen_audio(sound)
            self._set_local(screen_error=f"computer sound not sent: {exc}")
            return
        self._screen_audio, self._screen_audio_sid = sound, pub.sid

    def _stop_screen_audio(self, sound: SystemAudioTrack) -> None:
        if sound.canceller is not None and self._mixer is not None:
            self._mixer.remove_playback_tap(sound.canceller.feed_reference)
        sound.stop()

    async def stop_screen_share(self) -> None:
        for sid in (self._screen_sid, self._screen_audio_sid):
            if sid:
                with contextlib.suppress(Exception):
                    await self.room.unpublish_track(sid)
        self._screen_sid = self._screen_audio_sid = ""
        if self._screen is not None:
            self._screen.stop()
        if self._screen_audio is not None:
            self._stop_screen_audio(self._screen_audio)
        self._screen = self._screen_audio = None
        self.frames.detach(LOCAL_SCREEN)
        self._set_local(screen_sharing=False)

    async def send_chat(self, text: str) -> ChatEntry:
        message = await self.room.send_chat(text)
        return self._add_chat(message)

    async def send_reaction(self, emoji: str) -> None:
        await self.room.send_reaction(emoji)
        me = self.room.local_participant
        self._publish(ReactionReceived(Reaction(me.identity, me.name or me.identity, emoji,
                                                is_local=True)))

    async def set_hand_raised(self, raised: bool) -> None:
        await self.hand_raiser(raised)

    async def _raise_hand_with_attributes(self, raised: bool) -> None:
        value = datetime.now(UTC).isoformat(timespec="milliseconds") if raised else ""
        await self.room.update_metadata(attributes={HAND_ATTRIBUTE: value})

    async def rename(self, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a name cannot be empty")
        if self.renamer is not None:
            await self.renamer(name[:255])
        else:
            await self.room.update_metadata(name=name[:255])

    # -- moderation ----------------------------------------------------------------------------
    def set_admin(self, admin: Any) -> None:
        """Moderation through ``admin`` (Visio's API, or our server's RoomService for the
        host of a local meeting); watches the waiting room when there is one."""
        from visio_desktop.net.room_admin import LobbyWatcher

        self.admin = admin
        self._lobby_watcher = LobbyWatcher(admin, self._waiting_changed)
        self._lobby_watcher.poke()
        self._set_local(is_admin=True)

    def _waiting_changed(self, waiting: list[Any]) -> None:
        self._snapshot = replace(self._snapshot,
                                 waiting=tuple((w.id, w.name) for w in waiting))
        self._refresh()

    def _admin(self) -> Any:
        if self.admin is None:
            raise PermissionError("only a meeting administrator can do this")
        return self.admin

    async def mute_participant(self, identity: str) -> None:
        await self._admin().mute(identity)

    async def mute_everyone(self) -> None:
        await self._admin().mute_all()

    async def remove_participant(self, identity: str) -> None:
        await self._admin().remove(identity)

    async def lower_hand_of(self, identity: str) -> None:
        await self._admin().lower_hand(identity)

    async def lower_all_hands(self) -> None:
        await self._admin().lower_all_hands()

    async def set_role(self, identity: str, role: str) -> None:
        await self._admin().set_role(identity, role)

    async def publish_sources(self) -> list[str]:
        return list(await self._admin().publish_sources())

    async def set_publish_sources(self, sources: list[str]) -> list[str]:
        return list(await self._admin().set_publish_sources(sources))

    async def admit(self, participant_id: str, allow: bool) -> None:
        await self._admin().admit(participant_id, allow)
        if self._lobby_watcher is not None:
            await self._lobby_watcher.refresh()

    async def start_captions(self) -> bool:
        """Ask for live captions (once per call); False when this meeting cannot."""
        if self.subtitle_starter is None:
            return False
        starter, self.subtitle_starter = self.subtitle_starter, None
        await starter()
        return True

    def set_video_view(self, key: str, width: int, height: int) -> None:
        """Thread-safe: the UI paints ``key`` at (width, height), or hides it with (0, 0).
        Remote tracks are asked for that size, or paused when hidden."""
        self.frames.set_view(key, width, height)  # → _view_changed

    def _view_changed(self, key: str, width: int, height: int) -> None:
        if key.startswith("local:"):
            return
        bucket = (0, 0) if width <= 0 or height <= 0 else (_bucket(width), _bucket(height))
        if self._views.get(key) == bucket:
            return
        self._views[key] = bucket
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._apply_view, key, bucket)

    def _apply_view(self, sid: str, size: tuple[int, int]) -> None:
        if self.room.connection_state != "connected":
            return
        self.room.set_video_settings(sid, width=size[0], height=size[1],
                                     disabled=size == (0, 0))

    async def set_participant_volume(self, identity: str, volume: float) -> None:
        if self._mixer is not None:
            for key in self._mixer.keys():
                if key.startswith(f"{identity}/"):
                    self._mixer.set_volume(key, volume)

    async def play_test_sound(self) -> None:
        await self._start_speakers()
        if self._mixer is not None:
            self._mixer.play_test_sound()

    async def play_chime(self) -> None:
        """A short two-note sound for a message or a join (through the speakers in use, so
        the echo canceller knows it)."""
        if self._mixer is not None:
            self._mixer.play_test_sound(660.0, 0.09, 0.15)
            await asyncio.sleep(0.1)
            self._mixer.play_test_sound(880.0, 0.12, 0.15)

    # -- room events ---------------------------------------------------------------------------
    def _wire_room(self) -> None:
        room = self.room
        for event in ("participant_connected", "participant_disconnected", "track_published",
                      "track_unpublished", "track_muted", "track_unmuted",
                      "participant_name_changed", "attributes_changed",
                      "active_speakers_changed", "connection_quality_changed"):
            room.on(event, lambda *args: self._refresh())
        room.on("participant_connected", self._on_participant_connected)
        room.on("track_subscribed", self._on_track_subscribed)
        room.on("track_unsubscribed", self._on_track_unsubscribed)
        room.on("chat_message", self._add_chat)
        room.on("caption_received", self._on_caption)
        room.on("reaction_received", self._on_reaction)
        room.on("visio_notification", self._on_notification)
        room.on("room_metadata_changed", lambda *_: self._apply_room_metadata())
        room.on("local_permissions_changed", lambda *_: self._apply_permissions())
        room.on("reconnecting", lambda: self._set_state(ConnectionState.RECONNECTING))
        room.on("reconnected", self._on_reconnected)
        room.on("disconnected", self._on_disconnected)

    def _on_participant_connected(self, participant: RemoteParticipant) -> None:
        self._joined_at.setdefault(participant.identity, time.monotonic())
        if participant.kind == models.ParticipantInfo.Kind.AGENT:
            return
        apply = getattr(self.admin, "apply_publish_sources", None)
        if apply is not None:  # a local meeting: the host's limits apply to newcomers too
            self._spawn(apply(participant.identity))
        self._publish(NoticeRaised(Notice("participant_joined", (self._name(participant),))))

    def _on_track_subscribed(self, track: MediaStreamTrack, pub: RemoteTrackPublication,
                             participant: RemoteParticipant) -> None:
        if track.kind == "video":
            self.frames.attach(pub.sid, track)
            size = self._views.get(pub.sid)
            if size is not None:
                self._apply_view(pub.sid, size)
        elif self._mixer is not None:
            self._mixer.add_track(f"{participant.identity}/{pub.sid}", track)
        else:
            self._spawn(self._drain(track))
        self._refresh()

    async def _drain(self, track: MediaStreamTrack) -> None:
        """Reads ``track`` until it ends (frames nobody else consumes)."""
        with contextlib.suppress(Exception, asyncio.CancelledError):
            while True:
                await track.recv()

    def _on_track_unsubscribed(self, track: MediaStreamTrack, pub: RemoteTrackPublication,
                               participant: RemoteParticipant) -> None:
        if track.kind == "video":
            self.frames.detach(pub.sid)
        elif self._mixer is not None:
            self._mixer.remove_track(f"{participant.identity}/{pub.sid}")
        self._refresh()

    def _on_reconnected(self) -> None:
        self._set_state(ConnectionState.CONNECTED)

    def _on_disconnected(self, reason: str) -> None:
        if self._left:
            return
        self._publish(NoticeRaised(Notice("disconnected", (reason,))))
        self._spawn(self.leave(reason))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _name(self, participant: Participant) -> str:
        return participant.name or participant.identity

    def _name_of(self, identity: str) -> str:
        if identity == self.room.local_participant.identity:
            return self._name(self.room.local_participant)
        participant = self.room.remote_participants.get(identity)
        return self._name(participant) if participant is not None else identity

    def _add_chat(self, message: ChatMessage) -> ChatEntry:
        for i, known in enumerate(self._chat):  # an edit replaces the message
            if known.id == message.id:
                entry = replace(known, text=message.text)
                self._chat[i] = entry
                self._publish(ChatReceived(entry))
                return entry
        local = message.sender_identity == self.room.local_participant.identity
        entry = ChatEntry(message.id, message.sender_identity,
                          self._name_of(message.sender_identity), message.text,
                          datetime.fromtimestamp(message.timestamp_ms / 1000, UTC), local)
        self._chat.append(entry)
        self._publish(ChatReceived(entry))
        return entry

    def _on_caption(self, caption: Caption) -> None:
        self._publish(CaptionReceived(CaptionLine(
            caption.segment_id, caption.speaker_identity, self._name_of(caption.speaker_identity),
            caption.text, caption.final, datetime.now(UTC))))

    def _on_reaction(self, event: VisioReaction) -> None:
        self._publish(ReactionReceived(Reaction(event.sender_identity,
                                                self._name_of(event.sender_identity),
                                                event.emoji)))

    def _on_notification(self, event: Any) -> None:
        if isinstance(event, ParticipantMuted):
            self._publish(NoticeRaised(Notice("muted_by",
                                              (self._name_of(event.sender_identity),))))
            if self._microphone is not None:
                self._microphone.muted = True
            self.media.microphone_on = False
            self._set_local(microphone_on=False)
        elif isinstance(event, ParticipantWaiting):
            if self._lobby_watcher is not None:
                self._lobby_watcher.poke()
            self._publish(NoticeRaised(Notice("participant_waiting")))
        elif isinstance(event, PermissionsRemoved):
            self._publish(NoticeRaised(Notice("permissions_removed",
                                              tuple(event.removed_sources))))
        elif isinstance(event, RecordingNotification):
            kind = str(getattr(event.type, "value", event.type))
            self._publish(NoticeRaised(Notice(kind, (self._name_of(event.sender_identity),))))

    def _apply_room_metadata(self) -> None:
        """Visio's room metadata (JSON set by its backend): recording and transcription."""
        try:
            data = json.loads(self.room.metadata or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        active = data.get("recording_status") in ("starting", "started")
        mode = data.get("recording_mode")
        self._snapshot = replace(self._snapshot,
                                 recording=active and mode == "screen_recording",
                                 transcribing=active and mode == "transcript")
        self._refresh()

    def _apply_permissions(self) -> None:
        """What the room lets us publish now; a source taken away is stopped (an
        administrator's "permissionsRemoved")."""
        permission = self.room.local_participant.permission
        if permission is None:
            return
        allowed: tuple[str, ...] | None
        if not permission.can_publish:
            allowed = ()
        elif permission.can_publish_sources:
            from visio_desktop.net.participant import SOURCE_NAMES

            allowed = tuple(SOURCE_NAMES.get(s, "unknown")
                            for s in permission.can_publish_sources)
        else:
            allowed = None
        self._set_local(allowed_sources=allowed)
        if allowed is None:
            return
        if "microphone" not in allowed and self.media.microphone_on:
            self._spawn(self.set_microphone(False))
        if "camera" not in allowed and self._camera_sid:
            self._spawn(self.set_camera(False))
        if "screen_share" not in allowed and self._screen_sid:
            self._spawn(self.stop_screen_share())

    # -- snapshot ------------------------------------------------------------------------------
    def _set_state(self, state: ConnectionState) -> None:
        self._snapshot = replace(self._snapshot, state=state)
        self._refresh()

    def _set_local(self, **changes: Any) -> None:
        self._local = replace(self._local, **changes)
        self._refresh()

    def _participant_state(self, participant: Participant, *, local: bool) -> ParticipantState:
        camera_key = screen_key = None
        mic_muted = True
        if local:
            camera_key = LOCAL_CAMERA if self._camera_sid or (
                self._camera is not None and LOCAL_CAMERA in self.frames.keys()) else None
            screen_key = LOCAL_SCREEN if self._screen_sid else None
            mic_muted = not (self._local.microphone_on and self._microphone is not None)
        else:
            assert isinstance(participant, RemoteParticipant)
            for pub in participant.track_publications.values():
                if pub.source == "microphone":
                    mic_muted = pub.muted
                elif pub.kind == "video" and pub.subscribed and not pub.muted:
                    if pub.source == "screen_share":
                        screen_key = pub.sid
                    else:
                        camera_key = pub.sid
        permission = participant.permission
        role = participant.attributes.get(ROLE_ATTRIBUTE, "")
        return ParticipantState(
            identity=participant.identity,
            name=participant.name,
            is_local=local,
            microphone_muted=mic_muted,
            camera_key=camera_key,
            screen_key=screen_key,
            hand_raised_at=_parse_iso(participant.attributes.get(HAND_ATTRIBUTE, "")),
            speaking=participant.is_speaking,
            audio_level=participant.audio_level,
            quality=_QUALITY.get(participant.connection_quality, Quality.UNKNOWN),
            is_admin=role in ("owner", "administrator") or bool(
                permission is not None and getattr(permission, "can_update_metadata", False)
                and role == "owner"),
            room_role=role,
            is_authenticated=participant.attributes.get("is_authenticated") == "true",
            joined_at=self._joined_at.get(participant.identity, 0.0),
        )

    def _refresh(self) -> None:
        room = self.room
        local = room.local_participant
        participants: list[ParticipantState] = []
        if local.identity:
            participants.append(self._participant_state(local, local=True))
        # agents (the captioner, recorders) are not people: no tile, not counted
        remotes = sorted((p for p in room.remote_participants.values()
                          if p.kind != models.ParticipantInfo.Kind.AGENT),
                         key=lambda p: self._joined_at.get(p.identity, 0.0))
        participants += [self._participant_state(p, local=False) for p in remotes]
        hand = participants[0].hand_raised_at if participants and local.identity else None
        self._local = replace(self._local, hand_raised=hand is not None)
        snapshot = replace(
            self._snapshot,
            room_name=room.name,
            participants=tuple(participants),
            active_speakers=tuple(getattr(room, "active_speakers", ()) or ()),
            local=self._local,
        )
        self._snapshot = snapshot
        # compared with what listeners last got: a change set directly on _snapshot (state,
        # recording, waiting room) before this refresh is published too
        if snapshot != self._published:
            self._published = snapshot
            self._publish(SnapshotChanged(snapshot))


def _bucket(pixels: int) -> int:
    """Sizes asked of the server move in 90-pixel steps, so a resize does not spam it."""
    return max(90, (pixels + 89) // 90 * 90)
