"""What the user sees of a meeting, as immutable values.

``Call`` (the engine side) publishes these; the Qt UI only renders them. Nothing here imports
Qt, aiortc or asyncio, so widgets can be tested with hand-made states and the engine with no
screen.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

LOCAL_CAMERA = "local:camera"  # frame-store keys of the local previews
LOCAL_SCREEN = "local:screen"


class Quality(enum.Enum):
    EXCELLENT = "excellent"
    GOOD = "good"
    POOR = "poor"
    LOST = "lost"
    UNKNOWN = "unknown"


class ConnectionState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class ParticipantState:
    """One tile / one row of the participants panel."""

    identity: str
    name: str  # display name; falls back to the identity
    is_local: bool = False
    microphone_muted: bool = True  # also True when no microphone is published
    camera_key: str | None = None  # FrameStore key of a live (unmuted) camera, else None
    screen_key: str | None = None  # FrameStore key of a live screen share, else None
    hand_raised_at: datetime | None = None
    speaking: bool = False
    audio_level: float = 0.0  # 0..1
    quality: Quality = Quality.UNKNOWN
    is_admin: bool = False  # room_role owner/admin, or a roomAdmin grant
    room_role: str = ""  # "owner" | "administrator" | "member" | ""
    is_authenticated: bool = False  # signed in with an account (Visio's attribute)
    joined_at: float = 0.0  # monotonic seconds, for a stable order

    @property
    def display_name(self) -> str:
        return self.name or self.identity


@dataclass(frozen=True)
class LocalMedia:
    """The state of the user's own controls."""

    microphone_on: bool = False
    camera_on: bool = False
    screen_sharing: bool = False
    hand_raised: bool = False
    microphone_error: str = ""  # "microphone unavailable: …" for the UI, "" when fine
    camera_error: str = ""
    screen_error: str = ""
    speaking_while_muted: bool = False
    # what the room lets us publish ("camera", "microphone", "screen_share", …); None: all
    allowed_sources: tuple[str, ...] | None = None
    is_admin: bool = False  # may admit, mute, remove (room admin)


@dataclass(frozen=True)
class CallSnapshot:
    """Everything the call window needs to draw its stage and panels."""

    room_name: str = ""
    state: ConnectionState = ConnectionState.IDLE
    participants: tuple[ParticipantState, ...] = ()  # local first, then by join order
    active_speakers: tuple[str, ...] = ()  # identities, loudest first
    local: LocalMedia = field(default_factory=LocalMedia)
    recording: bool = False
    transcribing: bool = False
    waiting: tuple[tuple[str, str], ...] = ()  # (lobby participant id, name), for admins

    def participant(self, identity: str) -> ParticipantState | None:
        return next((p for p in self.participants if p.identity == identity), None)

    @property
    def raised_hands(self) -> tuple[ParticipantState, ...]:
        """Participants with a raised hand, first raised first."""
        raised = [p for p in self.participants if p.hand_raised_at is not None]
        return tuple(sorted(raised, key=lambda p: p.hand_raised_at or datetime.min))

    @property
    def screen_shares(self) -> tuple[ParticipantState, ...]:
        return tuple(p for p in self.participants if p.screen_key is not None)


@dataclass(frozen=True)
class ChatEntry:
    id: str
    sender_identity: str
    sender_name: str
    text: str  # plain text: render as such, never as rich text
    timestamp: datetime
    is_local: bool = False


@dataclass(frozen=True)
class CaptionLine:
    """One segment of speech; an interim line is replaced by the next line with the same
    (speaker_identity, segment_id), and finally by a final one."""

    segment_id: str
    speaker_identity: str
    speaker_name: str
    text: str
    final: bool
    timestamp: datetime


@dataclass(frozen=True)
class Reaction:
    sender_identity: str
    sender_name: str
    emoji: str  # one of visio_desktop.net.data.visio REACTIONS' slugs
    is_local: bool = False


@dataclass(frozen=True)
class Notice:
    """A short message for a toast / native notification.

    ``kind`` is a stable key the UI translates (e.g. "participant_joined", "hand_raised",
    "muted_by", "reconnecting", "recording_started", "error"); ``args`` fill it in.
    """

    kind: str
    args: tuple[str, ...] = ()


# -- events a Call publishes (on the engine thread; the UI bridge re-emits them on its thread) --


@dataclass(frozen=True)
class SnapshotChanged:
    snapshot: CallSnapshot


@dataclass(frozen=True)
class ChatReceived:
    entry: ChatEntry


@dataclass(frozen=True)
class CaptionReceived:
    line: CaptionLine


@dataclass(frozen=True)
class ReactionReceived:
    reaction: Reaction


@dataclass(frozen=True)
class NoticeRaised:
    notice: Notice


@dataclass(frozen=True)
class CallEnded:
    reason: str  # "" when the user left


CallEvent = (SnapshotChanged | ChatReceived | CaptionReceived | ReactionReceived | NoticeRaised
             | CallEnded)
