"""Rooms: who is in them, what they publish, and what everyone must be told."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING

from livekit.protocol import models, rtc

from visio_desktop.net.ids import ROOM_PREFIX, guid

if TYPE_CHECKING:
    from visio_desktop.server.session import ParticipantSession, PublishedTrack

log = logging.getLogger(__name__)

ENABLED_CODECS = ("video/VP8", "video/H264", "audio/opus")
SPEAKER_INTERVAL_S = 0.3
QUALITY_EVERY_TICKS = 7  # connection quality about every 2 s
SPEAKER_HOLD_S = 0.6
SPEAKER_THRESHOLD_DBOV = 50  # louder than -50 dBov counts as speaking


class Room:
    """One room: its participants (by identity) and the fan-out of their changes."""

    def __init__(self, name: str, manager: RoomManager) -> None:
        self.name = name
        self.sid = guid(ROOM_PREFIX)
        self.created_at = time.time()
        self.manager = manager
        self.metadata = ""
        self.participants: dict[str, ParticipantSession] = {}
        self._speakers: dict[str, float] = {}  # participant sid -> level 0..1 of active speakers
        self._speaker_task: asyncio.Task[None] | None = None

    # -- membership --------------------------------------------------------------------------
    def info(self) -> models.Room:
        return models.Room(
            sid=self.sid,
            name=self.name,
            empty_timeout=300,
            departure_timeout=20,
            creation_time=int(self.created_at),
            creation_time_ms=int(self.created_at * 1000),
            metadata=self.metadata,
            num_participants=sum(1 for p in self.participants.values() if not p.hidden),
            num_publishers=sum(1 for p in self.participants.values() if p.published),
            enabled_codecs=[models.Codec(mime=m) for m in ENABLED_CODECS],
        )

    def visible_others(self, session: ParticipantSession) -> list[ParticipantSession]:
        return [p for p in self.participants.values() if p is not session and not p.hidden]

    async def add(self, session: ParticipantSession) -> None:
        old = self.participants.get(session.identity)
        if old is not None:
            await old.close(models.DisconnectReason.DUPLICATE_IDENTITY, notify=True)
        self.participants[session.identity] = session
        if self._speaker_task is None:
            self._speaker_task = asyncio.ensure_future(self._speaker_loop())

    async def remove(self, session: ParticipantSession) -> None:
        if self.participants.get(session.identity) is not session:
            return
        del self.participants[session.identity]
        self._speakers.pop(session.sid, None)
        for track in list(session.published.values()):
            await self.track_unpublished(session, track)
        info = session.info()
        info.state = models.ParticipantInfo.State.DISCONNECTED
        self.broadcast_update(session, info)
        if not self.participants:
            if self._speaker_task is not None:
                self._speaker_task.cancel()
                self._speaker_task = None
            self.manager.discard(self)

    # -- fan-out -----------------------------------------------------------------------------
    def broadcast_update(self, session: ParticipantSession,
                         info: models.ParticipantInfo | None = None) -> None:
        """Tell everyone (and the participant itself) about a change of ``session``."""
        info = info or session.info()
        update = rtc.SignalResponse(update=rtc.ParticipantUpdate(participants=[info]))
        for other in list(self.participants.values()):
            if other is session or not session.hidden:
                other.send(update)
        if session not in self.participants.values():
            session.send(update)

    async def track_published(self, session: ParticipantSession, track: PublishedTrack) -> None:
        self.broadcast_update(session)
        for other in list(self.participants.values()):
            if other is not session and other.auto_subscribe and other.can_subscribe:
                await other.subscribe(session, track)

    async def track_unpublished(self, session: ParticipantSession, track: PublishedTrack) -> None:
        for other in list(self.participants.values()):
            if other is not session:
                await other.unsubscribe(track.sid)
        track.close()

    def find_track(self, track_sid: str) -> tuple[ParticipantSession, PublishedTrack] | None:
        for session in self.participants.values():
            track = session.published.get(track_sid)
            if track is not None:
                return session, track
        return None

    # -- active speakers ---------------------------------------------------------------------
    async def _speaker_loop(self) -> None:
        ticks = 0
        try:
            while True:
                await asyncio.sleep(SPEAKER_INTERVAL_S)
                self._update_speakers()
                ticks += 1
                if ticks % QUALITY_EVERY_TICKS == 0:
                    self._send_connection_quality()
        except asyncio.CancelledError:
            pass

    def _send_connection_quality(self) -> None:
        """Everyone's connection quality, from the loss measured on what they publish."""
        updates = []
        for session in self.participants.values():
            if session.hidden:
                continue
            loss = session.uplink_loss()
            quality = (models.ConnectionQuality.EXCELLENT if loss < 0.02 else
                       models.ConnectionQuality.GOOD if loss < 0.08 else
                       models.ConnectionQuality.POOR)
            updates.append(rtc.ConnectionQualityInfo(
                participant_sid=session.sid, quality=quality, score=round(5 * (1 - loss), 2)))
        if updates:
            message = rtc.SignalResponse(
                connection_quality=rtc.ConnectionQualityUpdate(updates=updates))
            for session in list(self.participants.values()):
                session.send(message)

    def _update_speakers(self) -> None:
        now = time.monotonic()
        current: dict[str, float] = {}
        for session in self.participants.values():
            level = session.speaking_level(now, SPEAKER_HOLD_S, SPEAKER_THRESHOLD_DBOV)
            if level is not None:
                current[session.sid] = level
        changed = [
            models.SpeakerInfo(sid=sid, level=level, active=True)
            for sid, level in current.items()
            if sid not in self._speakers or abs(self._speakers[sid] - level) > 0.1
        ]
        changed += [models.SpeakerInfo(sid=sid, level=0.0, active=False)
                    for sid in self._speakers if sid not in current]
        if not changed and set(current) == set(self._speakers):
            return
        self._speakers = current
        message = rtc.SignalResponse(speakers_changed=rtc.SpeakersChanged(speakers=changed))
        for session in list(self.participants.values()):
            session.send(message)

    @property
    def active_speakers(self) -> dict[str, float]:
        return dict(self._speakers)


def dbov_to_level(dbov: float) -> float:
    return max(0.0, min(1.0, math.pow(10, -dbov / 20)))


class RoomManager:
    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}

    def get_or_create(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is None:
            room = self.rooms[name] = Room(name, self)
            log.info("room %s created", name)
        return room

    def discard(self, room: Room) -> None:
        if self.rooms.get(room.name) is room and not room.participants:
            del self.rooms[room.name]
            log.info("room %s closed", room.name)
