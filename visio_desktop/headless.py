"""The headless participant: join a room, publish real (synthetic or file) media, check what
arrives, leave, and report in JSON. Used by ``visio-desktop join --headless`` and by tests.

It joins either a LiveKit address with a token, or — without a token — a meeting link
(``https://instance/abc-defg-hij``, or a meeting hosted by Visio Desktop) through Visio's REST
API, waiting in the lobby when the room has one, as the web app does."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer

from visio_desktop.media.sinks import AudioSink, VideoSink
from visio_desktop.media.synthetic_tracks import PatternVideoTrack, ToneAudioTrack
from visio_desktop.net.data import Caption, ChatMessage
from visio_desktop.net.links import LinkError, parse_link
from visio_desktop.net.participant import RemoteParticipant, RemoteTrackPublication
from visio_desktop.net.room import ConnectError, PublishError, Room
from visio_desktop.net.visio_api import (
    LOBBY_TIMEOUT_S,
    ApiError,
    LobbyCancelled,
    LobbyDenied,
    LobbyRequired,
    LobbyTimeout,
    RoomAccess,
    VisioClient,
)

log = logging.getLogger(__name__)


@dataclass
class HeadlessOptions:
    url: str  # a LiveKit address (with ``token``), or a meeting link (without)
    token: str = ""
    name: str = ""
    video: str = "test-pattern"  # test-pattern | FILE | none
    audio: str = "tone"  # tone | FILE | none
    screen: str = "none"  # test-pattern | none
    send_chat: list[str] = field(default_factory=list)
    duration_s: float = 10.0
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    lobby_timeout_s: float = LOBBY_TIMEOUT_S
    lobby_poll_s: float = 1.0


def _video_source(spec: str, opts: HeadlessOptions, source: str) -> MediaStreamTrack | None:
    if spec == "none":
        return None
    if spec == "test-pattern":
        return PatternVideoTrack(opts.width, opts.height, opts.fps, source=source)  # type: ignore[arg-type]
    player = MediaPlayer(spec, loop=True)
    if player.video is None:
        raise ValueError(f"{spec!r} has no video")
    return player.video


def _audio_source(spec: str) -> MediaStreamTrack | None:
    if spec == "none":
        return None
    if spec == "tone":
        return ToneAudioTrack(440.0)
    player = MediaPlayer(spec, loop=True)
    if player.audio is None:
        raise ValueError(f"{spec!r} has no audio")
    return player.audio


class HeadlessParticipant:
    def __init__(self, options: HeadlessOptions) -> None:
        self.options = options
        self.room = Room()
        self.t0 = time.monotonic()
        self.join_ms: float | None = None
        self.errors: list[str] = []
        self.chat: list[dict[str, Any]] = []
        self.captions: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.sinks: dict[str, tuple[RemoteTrackPublication, str, VideoSink | AudioSink]] = {}
        self.published: list[str] = []
        self.left_cleanly = False
        self.error_code: str | None = None
        self.lobby: dict[str, Any] = {"waited_s": 0.0, "outcome": "none"}
        self._sources: list[MediaStreamTrack] = []
        self.room.on("track_subscribed", self._on_track_subscribed)
        self.room.on("track_unsubscribed", self._on_track_unsubscribed)
        self.room.on("chat_message", self._on_chat)
        self.room.on("caption_received", self._on_caption)
        self.room.on("reaction_received", lambda r: self.events.append(
            {"t_ms": self._ms(), "event": "reaction", "identity": r.sender_identity,
             "emoji": r.emoji}))
        for event in ("participant_connected", "participant_disconnected", "reconnecting",
                      "reconnected", "disconnected"):
            self.room.on(event, lambda *args, event=event: self._record(event, args))

    def _record(self, event: str, args: tuple[Any, ...]) -> None:
        who = next((a.identity for a in args if isinstance(a, RemoteParticipant)), None)
        self.events.append({"t_ms": self._ms(), "event": event,
                            **({"identity": who} if who else {})})

    def _ms(self) -> float:
        return round((time.monotonic() - self.t0) * 1000, 1)

    def _on_track_subscribed(self, track: MediaStreamTrack, pub: RemoteTrackPublication,
                             participant: RemoteParticipant) -> None:
        sink: VideoSink | AudioSink
        if track.kind == "video":
            sink = VideoSink(track, t0=self.t0, check_every=2)
        else:
            sink = AudioSink(track, t0=self.t0)
        sink.start()
        self.sinks[pub.sid] = (pub, participant.identity, sink)

    def _on_track_unsubscribed(self, track: MediaStreamTrack, pub: RemoteTrackPublication,
                               participant: RemoteParticipant) -> None:
        entry = self.sinks.get(pub.sid)
        if entry is not None:
            entry[2].stop()

    async def access(self) -> RoomAccess:
        """The meeting link, through Visio's REST API (and its lobby): the LiveKit access."""
        opts = self.options
        link = parse_link(opts.url)
        name = opts.name or "Visio Desktop"
        async with VisioClient.for_link(link) as client:
            result = await client.room(link.slug, name)
            if isinstance(result, RoomAccess):
                return result
            return await self._wait_in_lobby(client, result, name)

    async def _wait_in_lobby(self, client: VisioClient, lobby: LobbyRequired,
                             name: str) -> RoomAccess:
        opts = self.options
        start = time.monotonic()
        self.lobby = {"waited_s": 0.0, "outcome": "waiting"}
        self.events.append({"t_ms": self._ms(), "event": "lobby_waiting"})
        outcome = "error"
        try:
            access = await client.wait_in_lobby(lobby.room_id, name,
                                                timeout_s=opts.lobby_timeout_s,
                                                poll_s=opts.lobby_poll_s)
            outcome = "admitted"
            return access
        except LobbyDenied:
            outcome = "denied"
            raise
        except LobbyTimeout:
            outcome = "timeout"
            raise
        except (LobbyCancelled, asyncio.CancelledError):
            outcome = "cancelled"
            raise
        finally:
            self.lobby = {"waited_s": round(time.monotonic() - start, 2), "outcome": outcome}
            self.events.append({"t_ms": self._ms(), "event": f"lobby_{outcome}"})

    async def run(self) -> dict[str, Any]:
        opts = self.options
        url, token = opts.url, opts.token
        if not token:
            try:
                access = await self.access()
            except (ApiError, LinkError) as exc:
                self.errors.append(str(exc))
                self.error_code = exc.code
                return self.report()
            url, token = access.livekit_url, access.token
        start = time.monotonic()
        try:
            await self.room.connect(url, token)
        except ConnectError as exc:
            self.errors.append(str(exc))
            return self.report()
        self.join_ms = round((time.monotonic() - start) * 1000, 1)
        try:
            for spec, source, factory in (
                    (opts.video, "camera", lambda s: _video_source(s, opts, "camera")),
                    (opts.audio, "microphone", _audio_source),
                    (opts.screen, "screen_share",
                     lambda s: _video_source(s, opts, "screen_share"))):
                track = factory(spec)
                if track is None:
                    continue
                self._sources.append(track)
                pub = await self.room.publish_track(track, source)
                self.published.append(pub.sid)
            for text in opts.send_chat:
                await self._send_chat(text)
            await asyncio.sleep(opts.duration_s)
        except (PublishError, ValueError, OSError) as exc:
            self.errors.append(str(exc))
        finally:
            for _, _, sink in self.sinks.values():
                sink.stop()
            await self.room.disconnect()
            self.left_cleanly = self.room.connection_state == "disconnected"
        return self.report()

    async def _send_chat(self, text: str) -> None:
        try:
            await self.room.send_chat(text)
        except (ValueError, ConnectionError) as exc:  # ChatTooLong is a ValueError
            self.errors.append(f"chat not sent: {exc}")

    def _on_chat(self, message: ChatMessage) -> None:
        self.chat.append({"t_ms": self._ms(), "sender": message.sender_identity,
                          "text": message.text, "id": message.id})

    def _on_caption(self, caption: Caption) -> None:
        entry = {"t_ms": self._ms(), "speaker": caption.speaker_identity,
                 "segment_id": caption.segment_id, "text": caption.text, "final": caption.final}
        for i, known in enumerate(self.captions):  # one line per segment
            if known["segment_id"] == caption.segment_id and \
                    known["speaker"] == caption.speaker_identity:
                self.captions[i] = entry
                return
        self.captions.append(entry)

    def report(self) -> dict[str, Any]:
        tracks = []
        for sid, (pub, identity, sink) in self.sinks.items():
            tracks.append({"participant": identity, "track_sid": sid, "kind": pub.kind,
                           "source": pub.source, **sink.report()})
        return {
            "joined": self.join_ms is not None,
            "join_ms": self.join_ms,
            "room": self.room.name,
            "identity": self.room.local_participant.identity,
            "published": self.published,
            "remote_tracks": tracks,
            "chat": self.chat,
            "captions": self.captions,
            "reconnects": self.room.reconnects,
            "events": self.events,
            "errors": self.errors,
            "error_code": self.error_code,
            "lobby": self.lobby,
            "left_cleanly": self.left_cleanly,
        }
