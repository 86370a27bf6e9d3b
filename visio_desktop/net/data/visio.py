"""Visio's JSON "notifications" (visio-meet-api.md §5.3) and the raised-hand attribute (§5.1).

Sending: a reliable user packet with **no topic**, payload the compact JSON
``{"type": <NotificationType>, ...}``, broadcast or to ``destinationIdentities``; e.g.
``{"type":"reactionReceived","data":{"emoji":"thumbs-up"}}``. The backend sends some of them
(``participantWaiting``, ``*LimitReached``) through LiveKit's ``SendData``, so they may arrive
with an empty sender identity.

Receiving: the web app JSON-parses every user packet whatever its topic and switches on
``type``. Here anything that is not a Visio notification gives :class:`Ignored` (with
``notification_type=None``), never an exception; a known type with bad data (an emoji not in
the eight, a ``permissionsRemoved`` without sources, a reaction with no sender) gives
``Ignored`` naming its type.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from livekit.protocol import models

from visio_desktop.net.data.packets import user_packet

HAND_RAISED_ATTRIBUTE = "handRaisedAt"

#: ``features/reactions/types.ts``; receivers ignore any other value.
REACTION_EMOJIS: frozenset[str] = frozenset({
    "thumbs-up", "thumbs-down", "clapping-hands", "red-heart",
    "face-with-tears-of-joy", "face-with-open-mouth", "party-popper", "folded-hands",
})

#: Track.Source names the web app uses in ``permissionsRemoved``.
TRACK_SOURCES: frozenset[str] = frozenset(
    {"camera", "microphone", "screen_share", "screen_share_audio"})


class NotificationType(StrEnum):
    AUTO_MUTE_LARGE_ROOM = "autoMuteLargeRoom"
    PARTICIPANT_JOINED = "participantJoined"
    HAND_RAISED = "handRaised"
    PARTICIPANT_MUTED = "participantMuted"
    MESSAGE_RECEIVED = "messageReceived"
    LOWER_HAND = "lowerHand"
    REACTION_RECEIVED = "reactionReceived"
    PARTICIPANT_WAITING = "participantWaiting"
    TRANSCRIPTION_STARTED = "transcriptionStarted"
    TRANSCRIPTION_STOPPED = "transcriptionStopped"
    TRANSCRIPTION_LIMIT_REACHED = "transcriptionLimitReached"
    TRANSCRIPTION_REQUESTED = "transcriptionRequested"
    SCREEN_RECORDING_STARTED = "screenRecordingStarted"
    SCREEN_RECORDING_STOPPED = "screenRecordingStopped"
    SCREEN_RECORDING_REQUESTED = "screenRecordingRequested"
    SCREEN_RECORDING_LIMIT_REACHED = "screenRecordingLimitReached"
    RECORDING_SAVING = "recordingSaving"
    PERMISSIONS_REMOVED = "permissionsRemoved"
    ROLE_CHANGED = "roleChanged"


#: The types about recording / transcription that the web app turns into a toast.
RECORDING_TYPES: frozenset[NotificationType] = frozenset({
    NotificationType.TRANSCRIPTION_STARTED, NotificationType.TRANSCRIPTION_STOPPED,
    NotificationType.TRANSCRIPTION_LIMIT_REACHED, NotificationType.TRANSCRIPTION_REQUESTED,
    NotificationType.SCREEN_RECORDING_STARTED, NotificationType.SCREEN_RECORDING_STOPPED,
    NotificationType.SCREEN_RECORDING_REQUESTED, NotificationType.SCREEN_RECORDING_LIMIT_REACHED,
    NotificationType.RECORDING_SAVING,
})


@dataclass(frozen=True)
class ReactionReceived:
    sender_identity: str
    emoji: str


@dataclass(frozen=True)
class ParticipantMuted:
    """Someone (``sender_identity``) muted us; the SFU's track-muted signal does the muting."""

    sender_identity: str


@dataclass(frozen=True)
class PermissionsRemoved:
    sender_identity: str
    removed_sources: tuple[str, ...]


@dataclass(frozen=True)
class RecordingNotification:
    """transcription / screen recording started, stopped, requested, limit reached, saving."""

    sender_identity: str
    type: NotificationType


@dataclass(frozen=True)
class ParticipantWaiting:
    """Someone is waiting in the lobby (sent by the backend to admins)."""

    sender_identity: str


@dataclass(frozen=True)
class OtherNotification:
    """A known type the web app only uses locally (handRaised, roleChanged, …)."""

    sender_identity: str
    type: NotificationType
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ignored:
    reason: str
    notification_type: str | None = None


VisioEvent = (ReactionReceived | ParticipantMuted | PermissionsRemoved | RecordingNotification
              | ParticipantWaiting | OtherNotification)


def parse_notification(payload: bytes, sender_identity: str) -> VisioEvent | Ignored:
    """A Visio notification from a user packet's payload, or :class:`Ignored`."""
    try:
        body = json.loads(bytes(payload).decode("utf-8"))
    except UnicodeDecodeError:
        return Ignored("payload is not UTF-8")
    except ValueError:
        return Ignored("payload is not JSON")
    if not isinstance(body, dict):
        return Ignored("JSON payload is not an object")
    raw_type = body.get("type")
    if not isinstance(raw_type, str):
        return Ignored("JSON object has no string 'type'")
    try:
        kind = NotificationType(raw_type)
    except ValueError:
        return Ignored(f"unknown notification type {raw_type!r}")
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    if kind is NotificationType.REACTION_RECEIVED:
        emoji = data.get("emoji")
        if not isinstance(emoji, str) or emoji not in REACTION_EMOJIS:
            return Ignored(f"reaction emoji {emoji!r} is not one of Visio's eight", kind)
        if not sender_identity:
            return Ignored("reaction without a sender", kind)
        return ReactionReceived(sender_identity, emoji)
    if kind is NotificationType.PARTICIPANT_MUTED:
        return ParticipantMuted(sender_identity)
    if kind is NotificationType.PERMISSIONS_REMOVED:
        sources = data.get("removedSources")
        if not isinstance(sources, list) or not sources \
                or not all(isinstance(s, str) for s in sources):
            return Ignored("permissionsRemoved without removedSources", kind)
        return PermissionsRemoved(sender_identity, tuple(sources))
    if kind in RECORDING_TYPES:
        return RecordingNotification(sender_identity, kind)
    if kind is NotificationType.PARTICIPANT_WAITING:
        return ParticipantWaiting(sender_identity)
    return OtherNotification(sender_identity, kind, dict(data))


# --------------------------------------------------------------------------- outgoing


def notification_payload(kind: NotificationType, data: Mapping[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"type": str(kind)}
    if data is not None:
        body["data"] = dict(data)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_notification(kind: NotificationType, data: Mapping[str, Any] | None = None, *,
                       destination_identities: Sequence[str] = ()) -> models.DataPacket:
    """An unsealed reliable user packet with no topic, as ``useNotifyParticipants`` sends."""
    return user_packet(notification_payload(kind, data),
                       destination_identities=destination_identities)


def build_reaction(emoji: str, *, destination_identities: Sequence[str] = ()) -> \
        models.DataPacket:
    if emoji not in REACTION_EMOJIS:
        raise ValueError(f"{emoji!r} is not one of Visio's reactions: "
                         f"{', '.join(sorted(REACTION_EMOJIS))}")
    return build_notification(NotificationType.REACTION_RECEIVED, {"emoji": emoji},
                              destination_identities=destination_identities)


def build_participant_muted(target_identity: str) -> models.DataPacket:
    """The toast packet sent to the participant one has just muted."""
    return build_notification(NotificationType.PARTICIPANT_MUTED,
                              destination_identities=[target_identity])


def build_permissions_removed(sources: Sequence[str],
                              destination_identities: Sequence[str]) -> models.DataPacket:
    unknown = [s for s in sources if s not in TRACK_SOURCES]
    if not sources or unknown:
        raise ValueError(f"removed sources must be among {sorted(TRACK_SOURCES)}: {unknown}")
    return build_notification(NotificationType.PERMISSIONS_REMOVED,
                              {"removedSources": list(sources)},
                              destination_identities=destination_identities)


class RateLimiter:
    """At most ``max_calls`` per ``window_s`` (the web app sends at most 10 reactions/s)."""

    def __init__(self, max_calls: int = 10, window_s: float = 1.0) -> None:
        self.max_calls = max_calls
        self.window_s = window_s
        self._calls: deque[float] = deque()

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        while self._calls and now - self._calls[0] >= self.window_s:
            self._calls.popleft()
        if len(self._calls) >= self.max_calls:
            return False
        self._calls.append(now)
        return True


# --------------------------------------------------------------------------- raised hand


def hand_raised_at(attributes: Mapping[str, str]) -> dt.datetime | None:
    """When the participant raised their hand (``handRaisedAt``), or None when it is down."""
    value = attributes.get(HAND_RAISED_ATTRIBUTE, "")
    if not value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def hand_attributes(raised: bool, now: dt.datetime | None = None) -> dict[str, str]:
    """The attribute update that raises (ISO-8601 UTC, ms, like JS ``toISOString``) or lowers
    a hand, for meetings where a participant sets it itself (visio-meet-api.md §9)."""
    if not raised:
        return {HAND_RAISED_ATTRIBUTE: ""}
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {HAND_RAISED_ATTRIBUTE: stamp.strftime("%Y-%m-%dT%H:%M:%S.") +
            f"{stamp.microsecond // 1000:03d}Z"}
