"""Participants and track publications as the client sees them (LiveKit's vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import MediaStreamTrack, RTCRtpTransceiver
from livekit.protocol import models

SOURCE_NAMES = {
    models.TrackSource.UNKNOWN: "unknown",
    models.TrackSource.CAMERA: "camera",
    models.TrackSource.MICROPHONE: "microphone",
    models.TrackSource.SCREEN_SHARE: "screen_share",
    models.TrackSource.SCREEN_SHARE_AUDIO: "screen_share_audio",
}
SOURCE_VALUES = {name: value for value, name in SOURCE_NAMES.items()}


@dataclass
class TrackPublication:
    sid: str
    kind: str  # "audio" | "video"
    source: str  # a key of SOURCE_VALUES
    name: str = ""
    muted: bool = False
    mime_type: str = ""
    width: int = 0
    height: int = 0

    def update(self, info: models.TrackInfo) -> None:
        self.kind = "audio" if info.type == models.TrackType.AUDIO else "video"
        self.source = SOURCE_NAMES.get(info.source, "unknown")
        self.name = info.name
        self.muted = info.muted
        self.mime_type = info.mime_type
        self.width, self.height = info.width, info.height


@dataclass
class LocalTrackPublication(TrackPublication):
    track: MediaStreamTrack | None = None  # the source the application gave us
    transceiver: RTCRtpTransceiver | None = None
    cid: str = ""


@dataclass
class RemoteTrackPublication(TrackPublication):
    participant_identity: str = ""
    track: MediaStreamTrack | None = None  # set once subscribed
    subscribed: bool = False


@dataclass
class Participant:
    sid: str
    identity: str
    name: str = ""
    metadata: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    kind: int = models.ParticipantInfo.Kind.STANDARD
    permission: models.ParticipantPermission | None = None
    connection_quality: int = models.ConnectionQuality.EXCELLENT
    audio_level: float = 0.0
    is_speaking: bool = False


@dataclass
class RemoteParticipant(Participant):
    version: int = 0
    client_protocol: int = 0
    capabilities: list[int] = field(default_factory=list)
    track_publications: dict[str, RemoteTrackPublication] = field(default_factory=dict)


@dataclass
class LocalParticipant(Participant):
    track_publications: dict[str, LocalTrackPublication] = field(default_factory=dict)
