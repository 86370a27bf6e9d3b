"""Per-track connection statistics for the "connection details" dialog (no Qt here).

:func:`collect_stats` (or :meth:`StatsSampler.collect`) turns aiortc's statistics into one
:class:`TrackStats` row per sent and per received track, mapped to the room's publications:

* **send** rows come from each local publication's transceiver sender
  (``RTCRtpSender.getStats()``): ``outbound-rtp`` (packets and bytes sent) and, once the server
  has sent a receiver report, ``remote-inbound-rtp`` (cumulative packets lost, the fraction
  lost in the last report interval, jitter and round-trip time);
* **receive** rows come from the subscriber connection's transceiver whose receiver track is
  a remote publication's track (``RTCRtpReceiver.getStats()``): ``inbound-rtp`` (packets
  received and lost, jitter) and ``remote-outbound-rtp`` (the server's sender report: the
  bytes it sent on that stream). aiortc counts no received bytes, so the receive bitrate is the
  difference of the sender reports' octet counts (RTP payload bytes) over their arrival times;
  it is ``None`` until two reports have arrived.

Bitrates and the loss percentage of received streams are differences between two samples, so
keep one :class:`StatsSampler` per room (``collect_stats(room)`` keeps one per room for you)
and call it every second or two; the first sample has no bitrate.

Frame size and frame rate: aiortc's statistics have neither. The sampler therefore wraps, on
the first sample that sees a video track, that track object's ``recv`` (an instance attribute,
the class is untouched) with a :class:`FrameMeter` that notes the size and time of each frame
passing through: the sender's track (the frames handed to the encoder) and the receiver's track
(the decoded frames handed to the application). Frames are only measured from then on, so the
first sample of a track has no frame rate, and a received track nobody reads has no size. A
send row without measured frames takes its size from the encoder's FFmpeg context.

The encoder column names the FFmpeg encoder a sender uses (:mod:`visio_desktop.media.encoders`)
and whether it is hardware; receive rows leave it empty.

Everything here must run on the engine's event loop (the one the room lives on).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCRemoteOutboundRtpStreamStats,
    RTCStatsReport,
)

from visio_desktop.media.encoders import current_encoder_name, is_hardware_encoder, sender_encoder

log = logging.getLogger(__name__)

__all__ = ["FrameMeter", "StatsSampler", "TrackStats", "collect_stats", "format_encoder"]

Direction = Literal["send", "receive"]

#: Frames older than this do not count towards the frame rate.
FPS_WINDOW_S = 2.0


@dataclass(frozen=True)
class TrackStats:
    """One sent or received RTP stream, as the statistics dialog shows it.

    ``None`` means "not known (yet)" or "not applicable" (no frame size for audio, no
    round-trip time for received streams: aiortc measures it only for what it sends).
    """

    direction: Direction  # "send" | "receive"
    kind: str  # "audio" | "video"
    source: str  # "camera", "microphone", "screen_share", "screen_share_audio", "unknown"
    participant_identity: str
    participant_name: str
    track_sid: str
    codec: str  # "VP8", "H264", "opus"... ("" when not negotiated yet)
    width: int | None
    height: int | None
    fps: float | None
    bitrate_kbps: float | None
    packets: int  # RTP packets sent (send) or received (receive) so far
    packets_lost: int | None  # cumulative; for "send", as the server's receiver reports say
    loss_percent: float | None  # over the last interval
    rtt_ms: float | None
    jitter_ms: float | None
    encoder: str  # "libvpx (software)", "h264_nvenc (hardware)"; "" for receive rows


# --- frame meter ------------------------------------------------------------------------------


class FrameMeter:
    """Size and rate of the frames a track's ``recv()`` returns (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.width: int | None = None
        self.height: int | None = None
        self.frames = 0
        self._times: collections.deque[float] = collections.deque(maxlen=120)
        self._clock = clock

    def note(self, frame: Any) -> None:
        width, height = getattr(frame, "width", None), getattr(frame, "height", None)
        if isinstance(width, int) and isinstance(height, int):
            self.width, self.height = width, height
        self.frames += 1
        self._times.append(self._clock())

    def fps(self) -> float | None:
        """Frames per second over the last :data:`FPS_WINDOW_S` (0 when frames stopped,
        None before two frames were seen)."""
        if len(self._times) < 2:
            return None
        now = self._clock()
        recent = [t for t in self._times if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else None


_meters: weakref.WeakKeyDictionary[MediaStreamTrack, FrameMeter] = weakref.WeakKeyDictionary()


def meter_for(track: MediaStreamTrack) -> FrameMeter:
    """The meter of ``track``, wrapping its ``recv`` on first use (once per track)."""
    meter = _meters.get(track)
    if meter is not None:
        return meter
    meter = FrameMeter()
    original = track.recv

    @functools.wraps(original)
    async def recv() -> Any:
        frame = await original()
        meter.note(frame)
        return frame

    track.recv = recv  # type: ignore[method-assign]
    _meters[track] = meter
    return meter


# --- helpers ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def format_encoder(name: str | None) -> str:
    """``"libvpx (software)"``, ``"h264_nvenc (hardware)"``, or "" for no encoder yet."""
    if not name:
        return ""
    return f"{name} ({'hardware' if is_hardware_encoder(name) else 'software'})"


def _codec(transceiver: RTCRtpTransceiver, mime_type: str) -> tuple[str, int | None]:
    """Codec name and clock rate: the transceiver's negotiated codec, else the publication's
    MIME type (the server's TrackInfo)."""
    for codec in getattr(transceiver, "_codecs", ()) or ():
        if codec.name.lower() not in ("rtx", "red", "ulpfec", "flexfec-03"):
            if mime_type and codec.mimeType.lower() != mime_type.lower():
                continue  # received streams: the publisher's codec, when several are offered
            return codec.name, codec.clockRate
    name = mime_type.partition("/")[2]
    if name.lower() == "opus":
        name = "opus"
    elif name:
        name = name.upper()
    return name, None


def _first(report: RTCStatsReport, cls: type[Any]) -> Any:
    return next((s for s in report.values() if type(s) is cls), None)


def _timestamp(value: datetime) -> float:
    return value.timestamp()


def _jitter_ms(jitter: float | None, clock_rate: int | None, kind: str) -> float | None:
    if jitter is None:
        return None
    rate = clock_rate or (90000 if kind == "video" else 48000)
    return jitter * 1000.0 / rate


def _encoder_size(sender: RTCRtpSender) -> tuple[int | None, int | None]:
    """The size the sender's encoder was opened at (aiortc's ``codec``, ours ``_ctx``)."""
    encoder = sender_encoder(sender)
    ctx = getattr(encoder, "codec", None) or getattr(encoder, "_ctx", None)
    width, height = getattr(ctx, "width", None), getattr(ctx, "height", None)
    if isinstance(width, int) and isinstance(height, int) and width and height:
        return width, height
    return None, None


# --- the sampler ------------------------------------------------------------------------------


@dataclass
class _Counter:
    time_s: float
    value: int


class StatsSampler:
    """Keeps the previous sample of a room's streams, for bitrates and interval loss."""

    def __init__(self) -> None:
        self._bytes: dict[str, _Counter] = {}
        self._loss: dict[str, tuple[int, int]] = {}  # key -> (received, lost)

    def _bitrate(self, key: str, time_s: float, total_bytes: int) -> float | None:
        previous = self._bytes.get(key)
        self._bytes[key] = _Counter(time_s, total_bytes)
        if previous is None or total_bytes < previous.value:
            return None  # first sample, or the stream restarted
        elapsed = time_s - previous.time_s
        if elapsed <= 0:
            # no new report since the last sample (a sender report not arrived yet): keep
            # the previous point so the next delta spans the whole interval
            self._bytes[key] = previous
            return None
        return (total_bytes - previous.value) * 8 / elapsed / 1000

    def _interval_loss(self, key: str, received: int, lost: int) -> float | None:
        previous = self._loss.get(key)
        self._loss[key] = (received, lost)
        d_received, d_lost = received, lost
        if previous is not None and received >= previous[0]:
            d_received, d_lost = received - previous[0], lost - previous[1]
        expected = d_received + max(0, d_lost)
        return None if expected <= 0 else 100.0 * max(0, d_lost) / expected

    async def collect(self, room: Any) -> list[TrackStats]:
        """One row per published and per subscribed track of ``room`` (a
        :class:`visio_desktop.net.room.Room`), sent first."""
        sends = [self._send_row(room, pub) for pub in
                 list(room.local_participant.track_publications.values())
                 if pub.transceiver is not None]
        pcs = room.peer_connections()
        subscriber = pcs.get("subscriber")
        receives = []
        if subscriber is not None:
            by_track = {id(t.receiver.track): t for t in subscriber.getTransceivers()
                        if t.receiver.track is not None}
            for participant in list(room.remote_participants.values()):
                for pub in list(participant.track_publications.values()):
                    transceiver = by_track.get(id(pub.track)) if pub.track is not None else None
                    if transceiver is not None:
                        receives.append(self._receive_row(participant, pub, transceiver))
        results = await asyncio.gather(*sends, *receives, return_exceptions=True)
        rows = []
        for result in results:
            if isinstance(result, TrackStats):
                rows.append(result)
            elif isinstance(result, Exception):  # e.g. a sender not negotiated yet: skip it
                log.debug("no statistics for a track: %r", result)
            else:
                raise result  # CancelledError and the like
        live = {f"{row.direction}:{row.track_sid}" for row in rows}
        for table in (self._bytes, self._loss):
            for key in [k for k in table if k not in live]:
                del table[key]
        return rows

    async def _send_row(self, room: Any, pub: Any) -> TrackStats:
        transceiver: RTCRtpTransceiver = pub.transceiver
        sender = transceiver.sender
        report = await sender.getStats()
        out: RTCOutboundRtpStreamStats | None = _first(report, RTCOutboundRtpStreamStats)
        remote: RTCRemoteInboundRtpStreamStats | None = _first(
            report, RTCRemoteInboundRtpStreamStats)
        key = f"send:{pub.sid}"
        codec, clock_rate = _codec(transceiver, "")
        if not codec:
            codec, clock_rate = _codec(transceiver, pub.mime_type)
        bitrate = None
        if out is not None:
            bitrate = self._bitrate(key, _timestamp(out.timestamp), out.bytesSent)
        width = height = fps = None
        if pub.kind == "video":
            if sender.track is not None:
                meter = meter_for(sender.track)
                width, height, fps = meter.width, meter.height, meter.fps()
            if width is None:
                width, height = _encoder_size(sender)
            if pub.muted:
                fps = 0.0
        loss = None
        if remote is not None and remote.fractionLost is not None:
            loss = 100.0 * remote.fractionLost / 256
        rtt = remote.roundTripTime if remote is not None else None
        local = room.local_participant
        return TrackStats(
            direction="send", kind=pub.kind, source=pub.source,
            participant_identity=local.identity, participant_name=local.name or local.identity,
            track_sid=pub.sid, codec=codec, width=width, height=height, fps=fps,
            bitrate_kbps=bitrate, packets=out.packetsSent if out is not None else 0,
            packets_lost=remote.packetsLost if remote is not None else None,
            loss_percent=loss, rtt_ms=rtt * 1000 if rtt is not None else None,
            jitter_ms=_jitter_ms(remote.jitter if remote is not None else None, clock_rate,
                                 pub.kind),
            encoder=format_encoder(current_encoder_name(sender)))

    async def _receive_row(self, participant: Any, pub: Any,
                           transceiver: RTCRtpTransceiver) -> TrackStats:
        receiver: RTCRtpReceiver = transceiver.receiver
        report = await receiver.getStats()
        inbound: RTCInboundRtpStreamStats | None = _first(report, RTCInboundRtpStreamStats)
        remote: RTCRemoteOutboundRtpStreamStats | None = _first(
            report, RTCRemoteOutboundRtpStreamStats)
        key = f"receive:{pub.sid}"
        codec, clock_rate = _codec(transceiver, pub.mime_type)
        bitrate = None
        if remote is not None:
            bitrate = self._bitrate(key, _timestamp(remote.timestamp), remote.bytesSent)
        width = height = fps = None
        if pub.kind == "video" and pub.track is not None:
            meter = meter_for(pub.track)
            width, height, fps = meter.width, meter.height, meter.fps()
        packets = inbound.packetsReceived if inbound is not None else 0
        lost = inbound.packetsLost if inbound is not None else None
        loss = self._interval_loss(key, packets, lost) if lost is not None else None
        return TrackStats(
            direction="receive", kind=pub.kind, source=pub.source,
            participant_identity=participant.identity,
            participant_name=participant.name or participant.identity,
            track_sid=pub.sid, codec=codec, width=width, height=height, fps=fps,
            bitrate_kbps=bitrate, packets=packets, packets_lost=lost, loss_percent=loss,
            rtt_ms=None,
            jitter_ms=_jitter_ms(inbound.jitter if inbound is not None else None, clock_rate,
                                 pub.kind),
            encoder="")


_samplers: weakref.WeakKeyDictionary[Any, StatsSampler] = weakref.WeakKeyDictionary()


async def collect_stats(room: Any, sampler: StatsSampler | None = None) -> list[TrackStats]:
    """The statistics of ``room``'s tracks now; bitrates against the previous call with the
    same ``sampler`` (by default one kept per room)."""
    if sampler is None:
        sampler = _samplers.get(room)
        if sampler is None:
            sampler = _samplers[room] = StatsSampler()
    return await sampler.collect(room)
