"""A test participant on the official LiveKit Python SDK (``livekit.rtc``), for interop tests.

It publishes the self-describing test pattern and a test tone from
:mod:`visio_desktop.media.synthetic`, and checks what it receives: for every subscribed video
track it reads the pattern's code band back from each frame (counter, send time), so a test can
assert frame delivery, ordering, latency, picture quality (PSNR) and resolution; for audio it
keeps the last few seconds so that :func:`~visio_desktop.media.synthetic.analyse_tone` can
check frequency and level. Every room event of interest is recorded with its time, as are chat
messages (``lk.chat`` text streams and the legacy ``lk-chat-topic`` data packets) and data
packets.

Typical use::

    async def test_two(room_server):
        alice, bob = SdkParticipant("alice"), SdkParticipant("bob")
        await alice.connect(room_server.url, room_server.token("r", "alice"))
        await bob.connect(room_server.url, room_server.token("r", "bob"))
        try:
            await alice.publish_pattern()
            stats = await bob.wait_for_video("alice", min_decoded=30)
            assert stats.counter_regressions == 0
        finally:
            await alice.disconnect()
            await bob.disconnect()

All methods run on the caller's event loop (the SDK binds the running loop); the SDK does
decoding and encoding on its own threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from livekit import rtc

from visio_desktop.media.synthetic import (
    TestPattern,
    ToneReading,
    ToneSource,
    analyse_tone,
    latency_ms,
    now_ms,
    pattern_psnr,
    read_pattern,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CHAT_TOPIC = "lk.chat"
LEGACY_CHAT_TOPIC = "lk-chat-topic"
AUDIO_SAMPLE_RATE = 48000
AUDIO_RING_SECONDS = 5.0
AUDIO_QUEUE_MS = 500  # the SDK AudioSource's buffer
AUDIO_LEAD_S = 0.2  # how far ahead of real time the tone feeder keeps that buffer
PSNR_EVERY = 10  # compute PSNR on every n-th decoded frame only (CPU)


# ---------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True, slots=True)
class Event:
    """One room event: ``kind`` is the SDK's event name; ``at`` is ``time.monotonic()``."""

    kind: str
    at: float
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    sender: str  # participant identity ("" when sent by the server)
    text: str
    legacy: bool  # True: lk-chat-topic data packet; False: lk.chat text stream
    at: float  # time.monotonic() on arrival
    id: str = ""  # stream id (text stream) or the JSON "id" (legacy)
    ignore_legacy: bool = False  # the legacy JSON's "ignoreLegacy" flag
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DataMessage:
    sender: str  # participant identity ("" when sent by the server)
    data: bytes
    topic: str
    reliable: bool
    at: float


@dataclass
class VideoStats:
    """What one subscribed video track delivered. Counters and timestamps come from the code band
    of :class:`~visio_desktop.media.synthetic.TestPattern` frames."""

    participant: str
    track_sid: str
    source: int  # rtc.TrackSource value
    frames: int = 0  # frames received
    decoded: int = 0  # frames whose code band decoded (preamble and CRC good)
    first_counter: int | None = None
    last_counter: int | None = None
    counter_regressions: int = 0  # decoded counter <= the previous decoded counter
    counter_repeats: int = 0  # of which equal to it (the same captured image again)
    counter_gaps: int = 0  # counters skipped between consecutive decoded frames (frames lost)
    latencies_ms: deque[int] = field(default_factory=lambda: deque(maxlen=2000))
    psnr_db: deque[float] = field(default_factory=lambda: deque(maxlen=500))  # sampled
    width: int = 0
    height: int = 0
    resolutions: dict[tuple[int, int], int] = field(default_factory=dict)  # (w, h) -> frames
    first_frame_at: float | None = None  # time.monotonic()
    last_frame_at: float | None = None
    last_decoded_at: float | None = None
    counters: deque[int] = field(default_factory=lambda: deque(maxlen=5000))

    @property
    def last_psnr(self) -> float | None:
        return self.psnr_db[-1] if self.psnr_db else None

    @property
    def min_psnr(self) -> float | None:
        return min(self.psnr_db) if self.psnr_db else None

    @property
    def median_latency_ms(self) -> float | None:
        return float(np.median(np.asarray(self.latencies_ms))) if self.latencies_ms else None

    @property
    def max_latency_ms(self) -> int | None:
        return max(self.latencies_ms) if self.latencies_ms else None

    def fps(self) -> float:
        """Frames received a second, from the first frame to the last."""
        if self.first_frame_at is None or self.last_frame_at is None or self.frames < 2:
            return 0.0
        span = self.last_frame_at - self.first_frame_at
        return (self.frames - 1) / span if span > 0 else 0.0

    def summary(self) -> str:
        lat = self.median_latency_ms
        psnr = self.min_psnr
        return (
            f"{self.participant}/{self.track_sid}: {self.frames} frames, {self.decoded} decoded, "
            f"counters {self.first_counter}..{self.last_counter}, "
            f"{self.counter_regressions} regressions ({self.counter_repeats} repeats), "
            f"{self.counter_gaps} skipped, "
            f"{self.width}x{self.height} {dict(self.resolutions)}, "
            f"latency median {lat if lat is None else round(lat)} ms, "
            f"min PSNR {psnr if psnr is None else round(psnr, 1)} dB"
        )


class AudioStats:
    """What one subscribed audio track delivered; keeps the last few seconds of samples."""

    def __init__(self, participant: str, track_sid: str, source: int) -> None:
        self.participant = participant
        self.track_sid = track_sid
        self.source = source
        self.frames = 0
        self.samples = 0  # total samples received (per channel, mono here)
        self.first_frame_at: float | None = None
        self.last_frame_at: float | None = None
        self._ring = np.zeros(int(AUDIO_RING_SECONDS * AUDIO_SAMPLE_RATE), dtype=np.int16)
        self._filled = 0
        self._pos = 0

    def add(self, block: npt.NDArray[np.int16]) -> None:
        now = time.monotonic()
        if self.first_frame_at is None:
            self.first_frame_at = now
        self.last_frame_at = now
        self.frames += 1
        self.samples += block.size
        size = self._ring.size
        block = block[-size:]
        end = self._pos + block.size
        if end <= size:
            self._ring[self._pos : end] = block
        else:
            first = size - self._pos
            self._ring[self._pos :] = block[:first]
            self._ring[: end - size] = block[first:]
        self._pos = end % size
        self._filled = min(size, self._filled + block.size)

    def recent(self, seconds: float | None = None) -> npt.NDArray[np.int16]:
        """The last ``seconds`` (default: all kept, up to 5 s) of samples, oldest first."""
        n = self._filled if seconds is None else min(self._filled, int(seconds * AUDIO_SAMPLE_RATE))
        ordered = np.concatenate([self._ring[self._pos :], self._ring[: self._pos]])
        return ordered[ordered.size - n :].copy()

    def tone(self, seconds: float = 1.0) -> ToneReading:
        """Frequency and level of the last ``seconds`` received."""
        return analyse_tone(self.recent(seconds), AUDIO_SAMPLE_RATE)

    def summary(self) -> str:
        reading = self.tone() if self._filled else None
        return (
            f"{self.participant}/{self.track_sid}: {self.frames} frames, {self.samples} samples"
            + (f", {reading.frequency_hz:.1f} Hz at {reading.rms_dbfs:.1f} dBFS" if reading else "")
        )


@dataclass
class _Outgoing:
    publication: rtc.LocalTrackPublication
    track: rtc.LocalVideoTrack | rtc.LocalAudioTrack
    source: rtc.VideoSource | rtc.AudioSource
    task: asyncio.Task[None]
    sent: int = 0  # frames (video) or 10 ms blocks (audio) captured so far


# ---------------------------------------------------------------------------------------------
# the participant


class SdkParticipant:
    """One participant on the official SDK; see the module docstring."""

    def __init__(self, identity: str = "") -> None:
        self.identity = identity  # informative; the token decides the real identity
        self.room: rtc.Room | None = None
        self.events: list[Event] = []
        self.chat: list[ChatMessage] = []
        self.data: list[DataMessage] = []
        self.video: dict[str, VideoStats] = {}  # by track sid
        self.audio: dict[str, AudioStats] = {}  # by track sid
        self.outgoing: dict[str, _Outgoing] = {}  # by track sid
        self.errors: list[str] = []  # exceptions in background tasks
        self._receivers: dict[str, asyncio.Task[None]] = {}  # by track sid
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- connection ----------------------------------------------------------------------------

    async def connect(self, url: str, token: str, *, auto_subscribe: bool = True) -> None:
        room = rtc.Room()
        self.room = room
        self._register(room)
        await room.connect(url, token, rtc.RoomOptions(auto_subscribe=auto_subscribe))
        self.identity = room.local_participant.identity
        self._record("connected", room=room.name)

    async def disconnect(self) -> None:
        """Stops publishing and receiving, then leaves the room. Safe to call twice."""
        for sid in list(self.outgoing):
            out = self.outgoing.pop(sid)
            await _cancel(out.task)
            with contextlib.suppress(Exception):
                await out.source.aclose()
        for task in list(self._receivers.values()) + list(self._tasks):
            await _cancel(task)
        self._receivers.clear()
        self._tasks.clear()
        if self.room is not None:
            with contextlib.suppress(Exception):
                await self.room.disconnect()

    @property
    def local(self) -> rtc.LocalParticipant:
        return self._room().local_participant

    def remote_identities(self) -> list[str]:
        return sorted(self._room().remote_participants)

    # -- publishing ----------------------------------------------------------------------------

    async def publish_pattern(
        self,
        width: int = 640,
        height: int = 360,
        fps: float = 15.0,
        simulcast: bool = True,
        source: rtc.TrackSource.ValueType = rtc.TrackSource.SOURCE_CAMERA,
        *,
        name: str = "",
        codec: rtc.VideoCodec.ValueType = rtc.VideoCodec.VP8,
        max_bitrate: int | None = None,
    ) -> rtc.LocalTrackPublication:
        """Publishes the moving test pattern (frame counter from 0, send time in ms) at ``fps``
        frames a second, until :meth:`unpublish` or :meth:`disconnect`."""
        screen = source == rtc.TrackSource.SOURCE_SCREENSHARE
        video_source = rtc.VideoSource(width, height, is_screencast=screen)
        track = rtc.LocalVideoTrack.create_video_track(
            name or ("screen" if screen else "pattern"), video_source
        )
        options = rtc.TrackPublishOptions(source=source, simulcast=simulcast, video_codec=codec)
        if max_bitrate is not None:
            options.video_encoding.max_bitrate = max_bitrate
            options.video_encoding.max_framerate = fps
        publication = await self.local.publish_track(track, options)
        pattern = TestPattern(width, height)
        holder: list[_Outgoing] = []

        async def feed() -> None:
            period = 1.0 / fps
            start = time.monotonic()
            counter = 0
            while True:
                rgba = pattern.render_rgba(counter, now_ms())
                frame = rtc.VideoFrame(width, height, rtc.VideoBufferType.RGBA, rgba.tobytes())
                video_source.capture_frame(frame)
                counter += 1
                if holder:
                    holder[0].sent = counter
                delay = start + counter * period - time.monotonic()
                if delay < -1.0:  # far behind (a stalled loop): restart the schedule
                    start = time.monotonic() - counter * period
                    delay = 0.0
                await asyncio.sleep(max(delay, 0.0))

        task = self._spawn(feed(), f"pattern {publication.sid}")
        holder.append(_Outgoing(publication, track, video_source, task))
        self.outgoing[publication.sid] = holder[0]
        self._record("local_track_published", sid=publication.sid, kind="video", source=source)
        return publication

    async def publish_tone(
        self,
        frequency_hz: float = 440.0,
        *,
        amplitude: float = 0.3,
        name: str = "tone",
        source: rtc.TrackSource.ValueType = rtc.TrackSource.SOURCE_MICROPHONE,
    ) -> rtc.LocalTrackPublication:
        """Publishes a sine tone (48 kHz mono) in 10 ms blocks, paced in real time a little ahead
        of the SDK's playout so that a late event loop never starves it (a starved source sends
        silence, which shows up as gaps and a low level at the receiver)."""
        audio_source = rtc.AudioSource(AUDIO_SAMPLE_RATE, 1, queue_size_ms=AUDIO_QUEUE_MS)
        track = rtc.LocalAudioTrack.create_audio_track(name, audio_source)
        options = rtc.TrackPublishOptions(source=source)
        publication = await self.local.publish_track(track, options)
        tone_source = ToneSource(frequency_hz, AUDIO_SAMPLE_RATE, 1, amplitude)
        holder: list[_Outgoing] = []

        async def feed() -> None:
            period = tone_source.samples_per_block / AUDIO_SAMPLE_RATE
            start = time.monotonic()
            blocks = 0
            while True:
                block = tone_source.next_block()
                frame = rtc.AudioFrame(
                    block.tobytes(), AUDIO_SAMPLE_RATE, 1, tone_source.samples_per_block
                )
                await audio_source.capture_frame(frame)
                blocks += 1
                if holder:
                    holder[0].sent = blocks
                delay = start + blocks * period - AUDIO_LEAD_S - time.monotonic()
                if delay < -1.0:  # far behind (a stalled loop): restart the schedule
                    start = time.monotonic() - blocks * period + AUDIO_LEAD_S
                    delay = 0.0
                if delay > 0:
                    await asyncio.sleep(delay)

        task = self._spawn(feed(), f"tone {publication.sid}")
        holder.append(_Outgoing(publication, track, audio_source, task))
        self.outgoing[publication.sid] = holder[0]
        self._record("local_track_published", sid=publication.sid, kind="audio", source=source)
        return publication

    async def unpublish(self, track_sid: str) -> None:
        out = self.outgoing.pop(track_sid, None)
        if out is not None:
            await _cancel(out.task)
        await self.local.unpublish_track(track_sid)
        if out is not None:
            with contextlib.suppress(Exception):
                await out.source.aclose()
        self._record("local_track_unpublished", sid=track_sid)

    async def set_muted(self, track_sid: str, muted: bool) -> None:
        """Mutes or unmutes one of our published tracks (the media keeps flowing into the
        source; the SDK stops sending it and signals the mute)."""
        publication = self.local.track_publications[track_sid]
        track = publication.track
        if track is None:
            raise RuntimeError(f"publication {track_sid} has no local track")
        if muted:
            track.mute()
        else:
            track.unmute()
        self._record("local_track_muted" if muted else "local_track_unmuted", sid=track_sid)

    # -- data and chat -------------------------------------------------------------------------

    async def send_chat(self, text: str, destination_identities: list[str] | None = None) -> str:
        """Sends a chat message as an ``lk.chat`` text stream; returns the stream id."""
        info = await self.local.send_text(
            text, topic=CHAT_TOPIC, destination_identities=destination_identities
        )
        return info.stream_id

    async def send_legacy_chat(
        self,
        text: str,
        destination_identities: list[str] | None = None,
        *,
        ignore_legacy: bool = False,
    ) -> str:
        """Sends a chat message the legacy way (reliable data packet on ``lk-chat-topic``, JSON
        ``{id, timestamp, message, ignoreLegacy}``); returns its id."""
        message_id = str(uuid.uuid4())
        payload = json.dumps(
            {
                "id": message_id,
                "timestamp": now_ms(),
                "message": text,
                "ignoreLegacy": ignore_legacy,
            }
        )
        await self.local.publish_data(
            payload,
            reliable=True,
            topic=LEGACY_CHAT_TOPIC,
            destination_identities=destination_identities or [],
        )
        return message_id

    async def send_data(
        self,
        payload: bytes | str,
        *,
        topic: str = "",
        reliable: bool = True,
        destination_identities: list[str] | None = None,
    ) -> None:
        await self.local.publish_data(
            payload,
            reliable=reliable,
            topic=topic,
            destination_identities=destination_identities or [],
        )

    # -- queries and waiting -------------------------------------------------------------------

    def events_of(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def video_from(self, identity: str, source: int | None = None) -> list[VideoStats]:
        return [
            s
            for s in self.video.values()
            if s.participant == identity and (source is None or s.source == source)
        ]

    def audio_from(self, identity: str, source: int | None = None) -> list[AudioStats]:
        return [
            s
            for s in self.audio.values()
            if s.participant == identity and (source is None or s.source == source)
        ]

    async def wait_for(
        self,
        predicate: Callable[[], T | None] | Callable[[], Awaitable[T | None]],
        timeout_s: float = 10.0,
        *,
        interval: float = 0.05,
        what: str = "",
    ) -> T:
        """Polls ``predicate`` (sync or async) until it returns something truthy, and returns it;
        raises ``TimeoutError`` (with ``what`` and the background errors) after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value  # type: ignore[return-value]
            if time.monotonic() >= deadline:
                detail = f"; background errors: {self.errors}" if self.errors else ""
                name = what or getattr(predicate, "__name__", "condition")
                raise TimeoutError(
                    f"{self.identity}: timed out after {timeout_s} s on {name}{detail}"
                )
            await asyncio.sleep(interval)

    async def wait_for_participant(self, identity: str, timeout_s: float = 10.0) -> None:
        await self.wait_for(
            lambda: identity in self._room().remote_participants,
            timeout_s,
            what=f"participant {identity!r}",
        )

    async def wait_for_video(
        self,
        identity: str,
        min_decoded: int = 10,
        timeout_s: float = 15.0,
        source: int | None = None,
    ) -> VideoStats:
        """Waits until a video track from ``identity`` has delivered ``min_decoded`` frames
        with a readable pattern, and returns its stats."""

        def ready() -> VideoStats | None:
            for stats in self.video_from(identity, source):
                if stats.decoded >= min_decoded:
                    return stats
            return None

        return await self.wait_for(
            ready, timeout_s, what=f"{min_decoded} decoded video frames from {identity!r}"
        )

    async def wait_for_audio(
        self, identity: str, seconds: float = 1.0, timeout_s: float = 15.0
    ) -> AudioStats:
        """Waits until an audio track from ``identity`` has delivered ``seconds`` of samples."""

        def ready() -> AudioStats | None:
            for stats in self.audio_from(identity):
                if stats.samples >= seconds * AUDIO_SAMPLE_RATE:
                    return stats
            return None

        return await self.wait_for(ready, timeout_s, what=f"{seconds} s of audio from {identity!r}")

    async def wait_for_chat(
        self, text: str, sender: str | None = None, timeout_s: float = 10.0
    ) -> ChatMessage:
        def found() -> ChatMessage | None:
            for message in self.chat:
                if message.text == text and (sender is None or message.sender == sender):
                    return message
            return None

        return await self.wait_for(found, timeout_s, what=f"chat {text!r}")

    async def wait_for_event(
        self,
        kind: str,
        timeout_s: float = 10.0,
        match: Callable[[Event], bool] | None = None,
        since: float = 0.0,
    ) -> Event:
        def found() -> Event | None:
            for event in self.events:
                if event.kind == kind and event.at >= since and (match is None or match(event)):
                    return event
            return None

        return await self.wait_for(found, timeout_s, what=f"event {kind!r}")

    def report(self) -> str:
        """A multi-line summary (for assertion messages and logs)."""
        lines = [f"{self.identity}: {len(self.events)} events, {len(self.chat)} chat messages"]
        lines += ["  video " + s.summary() for s in self.video.values()]
        lines += ["  audio " + s.summary() for s in self.audio.values()]
        lines += [f"  sent {sid}: {o.sent}" for sid, o in self.outgoing.items()]
        lines += [f"  error {e}" for e in self.errors]
        return "\n".join(lines)

    # -- internals -----------------------------------------------------------------------------

    def _room(self) -> rtc.Room:
        if self.room is None:
            raise RuntimeError("not connected")
        return self.room

    def _record(self, kind: str, /, **data: Any) -> None:
        self.events.append(Event(kind, time.monotonic(), data))

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s: %s failed", self.identity, name)
            self.errors.append(f"{name}: {exc!r}")

    def _register(self, room: rtc.Room) -> None:
        room.on("participant_connected", self._on_participant_connected)
        room.on("participant_disconnected", self._on_participant_disconnected)
        room.on("track_published", self._on_track_published)
        room.on("track_unpublished", self._on_track_unpublished)
        room.on("track_subscribed", self._on_track_subscribed)
        room.on("track_unsubscribed", self._on_track_unsubscribed)
        room.on("track_subscription_failed", self._on_track_subscription_failed)
        room.on("track_muted", self._on_track_muted)
        room.on("track_unmuted", self._on_track_unmuted)
        room.on("active_speakers_changed", self._on_active_speakers_changed)
        room.on("data_received", self._on_data_received)
        room.on("connection_state_changed", self._on_connection_state_changed)
        room.on("disconnected", self._on_disconnected)
        room.on("reconnecting", lambda: self._record("reconnecting"))
        room.on("reconnected", lambda: self._record("reconnected"))
        room.on("participant_metadata_changed", self._on_participant_metadata_changed)
        room.on("participant_name_changed", self._on_participant_name_changed)
        room.on("participant_attributes_changed", self._on_participant_attributes_changed)
        room.on("room_metadata_changed", self._on_room_metadata_changed)
        room.on("connection_quality_changed", self._on_connection_quality_changed)
        room.register_text_stream_handler(CHAT_TOPIC, self._on_chat_stream)

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        self._record("participant_connected", identity=participant.identity, name=participant.name)

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        self._record(
            "participant_disconnected",
            identity=participant.identity,
            reason=participant.disconnect_reason,
        )

    def _on_track_published(
        self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._record(
            "track_published",
            identity=participant.identity,
            sid=publication.sid,
            kind=publication.kind,
            source=publication.source,
            simulcasted=publication.simulcasted,
            width=publication.width,
            height=publication.height,
            mime_type=publication.mime_type,
        )

    def _on_track_unpublished(
        self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._record("track_unpublished", identity=participant.identity, sid=publication.sid)
        self._stop_receiver(publication.sid)

    def _on_track_subscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        identity, sid, source = participant.identity, publication.sid, publication.source
        self._record("track_subscribed", identity=identity, sid=sid, kind=publication.kind)
        self._stop_receiver(sid)
        if isinstance(track, rtc.RemoteVideoTrack):
            stats = self.video.setdefault(sid, VideoStats(identity, sid, source))
            self._receivers[sid] = self._spawn(self._receive_video(track, stats), f"video {sid}")
        elif isinstance(track, rtc.RemoteAudioTrack):
            audio = self.audio.setdefault(sid, AudioStats(identity, sid, source))
            self._receivers[sid] = self._spawn(self._receive_audio(track, audio), f"audio {sid}")

    def _on_track_unsubscribed(
        self,
        track: rtc.Track | None,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        self._record("track_unsubscribed", identity=participant.identity, sid=publication.sid)
        self._stop_receiver(publication.sid)

    def _on_track_subscription_failed(
        self, participant: rtc.RemoteParticipant, track_sid: str, error: str
    ) -> None:
        self._record(
            "track_subscription_failed", identity=participant.identity, sid=track_sid, error=error
        )

    def _on_track_muted(
        self, participant: rtc.Participant, publication: rtc.TrackPublication
    ) -> None:
        self._record("track_muted", identity=participant.identity, sid=publication.sid)

    def _on_track_unmuted(
        self, participant: rtc.Participant, publication: rtc.TrackPublication
    ) -> None:
        self._record("track_unmuted", identity=participant.identity, sid=publication.sid)

    def _on_active_speakers_changed(self, speakers: list[rtc.Participant]) -> None:
        self._record("active_speakers_changed", identities=[p.identity for p in speakers])

    def _on_connection_state_changed(self, state: int) -> None:
        self._record("connection_state_changed", state=state)

    def _on_disconnected(self, reason: int) -> None:
        self._record("disconnected", reason=reason)

    def _on_participant_metadata_changed(
        self, participant: rtc.Participant, old: str, new: str
    ) -> None:
        self._record("participant_metadata_changed", identity=participant.identity, metadata=new)

    def _on_participant_name_changed(
        self, participant: rtc.Participant, old: str, new: str
    ) -> None:
        self._record("participant_name_changed", identity=participant.identity, name=new)

    def _on_participant_attributes_changed(
        self, changed: dict[str, str], participant: rtc.Participant
    ) -> None:
        self._record(
            "participant_attributes_changed", identity=participant.identity, changed=changed
        )

    def _on_room_metadata_changed(self, old: str, new: str) -> None:
        self._record("room_metadata_changed", metadata=new)

    def _on_connection_quality_changed(
        self, participant: rtc.Participant | None, quality: Any
    ) -> None:
        identity = participant.identity if participant is not None else ""
        self._record("connection_quality_changed", identity=identity, quality=int(quality))

    def _on_data_received(self, packet: rtc.DataPacket) -> None:
        sender = packet.participant.identity if packet.participant is not None else ""
        topic = packet.topic or ""
        now = time.monotonic()
        reliable = packet.kind == rtc.DataPacketKind.KIND_RELIABLE
        self.data.append(DataMessage(sender, packet.data, topic, reliable, now))
        self._record("data_received", identity=sender, topic=topic, size=len(packet.data))
        if topic == LEGACY_CHAT_TOPIC:
            try:
                body = json.loads(packet.data.decode("utf-8"))
                message = ChatMessage(
                    sender=sender,
                    text=str(body["message"]),
                    legacy=True,
                    at=now,
                    id=str(body.get("id", "")),
                    ignore_legacy=bool(body.get("ignoreLegacy", False)),
                )
            except (ValueError, KeyError, TypeError) as exc:
                self.errors.append(f"bad legacy chat packet from {sender!r}: {exc!r}")
                return
            self.chat.append(message)

    def _on_chat_stream(self, reader: rtc.TextStreamReader, participant_identity: str) -> None:
        async def read() -> None:
            text = await reader.read_all()
            info = reader.info
            self.chat.append(
                ChatMessage(
                    sender=participant_identity,
                    text=text,
                    legacy=False,
                    at=time.monotonic(),
                    id=info.stream_id,
                    attributes=dict(info.attributes or {}),
                )
            )
            self._record("chat_received", identity=participant_identity, stream_id=info.stream_id)

        self._spawn(read(), f"chat stream from {participant_identity}")

    def _stop_receiver(self, sid: str) -> None:
        task = self._receivers.pop(sid, None)
        if task is not None:
            task.cancel()

    async def _receive_video(self, track: rtc.RemoteVideoTrack, stats: VideoStats) -> None:
        stream = rtc.VideoStream(track, format=rtc.VideoBufferType.RGBA)
        try:
            async for event in stream:
                self._on_video_frame(event.frame, stats)
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()

    def _on_video_frame(self, frame: rtc.VideoFrame, stats: VideoStats) -> None:
        now = time.monotonic()
        if frame.type != rtc.VideoBufferType.RGBA:
            frame = frame.convert(rtc.VideoBufferType.RGBA)
        width, height = frame.width, frame.height
        rgba = np.frombuffer(frame.data, dtype=np.uint8).reshape(height, width, 4)
        stats.frames += 1
        stats.first_frame_at = stats.first_frame_at if stats.first_frame_at is not None else now
        stats.last_frame_at = now
        stats.width, stats.height = width, height
        stats.resolutions[(width, height)] = stats.resolutions.get((width, height), 0) + 1
        reading = read_pattern(rgba) if width >= 20 and height >= 16 else None
        if reading is None:
            return
        stats.decoded += 1
        stats.last_decoded_at = now
        counter = reading.counter
        if stats.last_counter is not None:
            if counter <= stats.last_counter:
                stats.counter_regressions += 1
                stats.counter_repeats += counter == stats.last_counter
            else:
                stats.counter_gaps += counter - stats.last_counter - 1
        else:
            stats.first_counter = counter
        stats.last_counter = counter
        stats.counters.append(counter)
        stats.latencies_ms.append(latency_ms(reading.timestamp_ms))
        if stats.decoded % PSNR_EVERY == 1:
            stats.psnr_db.append(pattern_psnr(rgba, counter))

    async def _receive_audio(self, track: rtc.RemoteAudioTrack, stats: AudioStats) -> None:
        stream = rtc.AudioStream(track, sample_rate=AUDIO_SAMPLE_RATE, num_channels=1)
        try:
            async for event in stream:
                block = np.frombuffer(event.frame.data, dtype=np.int16)
                stats.add(block)
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()


async def _cancel(task: asyncio.Task[Any]) -> None:
    if task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
