"""Live captions from LiveKit transcriptions (captions.md §1.2–1.4, livekit-protocol.md §3.6).

Visio's transcriber agent publishes every utterance twice, with independent segment ids:

- a legacy ``Transcription`` packet: ``transcribed_participant_identity`` = the speaker,
  ``track_id`` = the speaker's microphone track, one segment (``SG_…``) sent with
  ``final=false`` then again with ``final=true``; ``language`` is ``""``;
- an ``lk.transcription`` text stream sent on the speaker's behalf (the stream's sender
  identity is the speaker), with attributes ``lk.segment_id``, ``lk.transcription_final``
  (``"true"``/``"false"``, possibly only in the trailer) and ``lk.transcribed_track_id``.

Because the ids differ, a client must read one form only: :class:`CaptionMode` ``STREAM`` by
default (captions.md §1.4), ``LEGACY`` as the fallback switch, ``BOTH`` for diagnostics.

One caption line per ``(speaker, segment id)``: each update replaces the line's text until
the final one; anything for a segment after its final is dropped. The speaker of a stream
caption is the owner of ``lk.transcribed_track_id`` when the ``track_owner`` callback knows
the track (robust if the receiver sees the agent, not the speaker, as the sender — unverified
per captions.md), else the stream's sender.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from livekit.protocol import models

from visio_desktop.net.data.streams import TextStream

TRANSCRIPTION_TOPIC = "lk.transcription"
ATTR_SEGMENT_ID = "lk.segment_id"
ATTR_TRACK_ID = "lk.transcribed_track_id"
ATTR_FINAL = "lk.transcription_final"
_REMEMBERED_SEGMENTS = 4000

TrackOwner = Callable[[str], str | None]


class CaptionMode(StrEnum):
    STREAM = "stream"
    LEGACY = "legacy"
    BOTH = "both"
    # streams, and the legacy packets of senders that send no stream captions (older agents)
    AUTO = "auto"


@dataclass(frozen=True)
class Caption:
    segment_id: str
    speaker_identity: str
    track_sid: str
    text: str
    final: bool
    language: str
    received_at: float
    source: str = "stream"  # "stream" | "legacy"


class CaptionTracker:
    """Produces :class:`Caption` updates, one line per segment (see the module doc)."""

    def __init__(self, *, mode: CaptionMode = CaptionMode.STREAM,
                 track_owner: TrackOwner | None = None,
                 remember: int = _REMEMBERED_SEGMENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.mode = mode
        self.track_owner = track_owner
        self._stream_senders: set[str] = set()
        self.remember = remember
        self._clock = clock
        # (source, speaker, segment id) -> (text, final)
        self._segments: OrderedDict[tuple[str, str, str], tuple[str, bool]] = OrderedDict()

    def from_stream(self, stream: TextStream, now: float | None = None) -> Caption | None:
        if self.mode is CaptionMode.LEGACY:
            return None
        info = stream.info
        self._stream_senders.add(info.sender_identity)
        attrs = info.attributes
        track_sid = attrs.get(ATTR_TRACK_ID, "")
        speaker = info.sender_identity
        if track_sid and self.track_owner is not None:
            speaker = self.track_owner(track_sid) or speaker
        segment_id = attrs.get(ATTR_SEGMENT_ID) or info.stream_id
        # a stream that ends without saying is complete: treat it as final
        final = attrs.get(ATTR_FINAL, "true").strip().lower() != "false"
        return self._update("stream", speaker, segment_id, track_sid, stream.text, final, "",
                            now)

    def from_legacy(self, transcription: models.Transcription, packet_sender: str,
                    now: float | None = None) -> list[Caption]:
        if self.mode is CaptionMode.STREAM or (
                self.mode is CaptionMode.AUTO and packet_sender in self._stream_senders):
            return []
        speaker = transcription.transcribed_participant_identity or packet_sender
        captions = []
        for segment in transcription.segments:
            caption = self._update("legacy", speaker, segment.id, transcription.track_id,
                                   segment.text, segment.final, segment.language, now)
            if caption is not None:
                captions.append(caption)
        return captions

    def forget(self) -> None:
        self._segments.clear()

    def _update(self, source: str, speaker: str, segment_id: str, track_sid: str, text: str,
                final: bool, language: str, now: float | None) -> Caption | None:
        if not segment_id:
            return None
        key = (source, speaker, segment_id)
        previous = self._segments.get(key)
        if previous is not None and (previous[1] or previous == (text, final)):
            return None  # after the final, or the same update again
        self._segments[key] = (text, final)
        self._segments.move_to_end(key)
        while len(self._segments) > self.remember:
            self._segments.popitem(last=False)
        return Caption(segment_id=segment_id, speaker_identity=speaker, track_sid=track_sid,
                       text=text, final=final, language=language,
                       received_at=self._clock() if now is None else now, source=source)
