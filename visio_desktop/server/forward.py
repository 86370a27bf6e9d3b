"""Encoded-frame forwarding: one publisher track to many subscribers, never re-encoded.

A :class:`TrackForwarder` takes over the RTP input of the publisher's ``RTCRtpReceiver``: it keeps
one :class:`MediaLayer` per simulcast layer (by RID or SSRC), unwraps RTX, sends NACKs, REMB and
receiver reports, reassembles encoded frames, and hands each frame to the :class:`DownTrack`s of
its subscribers. A DownTrack is the track of a subscriber's ``RTCRtpSender``; the sender's encoder
is replaced by a :class:`ForwardingPacker` that only packetizes, so no codec context exists per
subscriber. Picture loss reported by a subscriber becomes a PLI to the publisher for the layer
that subscriber is on; a subscriber that joins or switches layer waits for a keyframe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import depayload, is_rtx
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, pack_remb_fci, unwrap_rtx
from livekit.protocol import models

from visio_desktop.net.aiortc_ext import VIDEO_JITTER_PACKETS  # a whole 1080p keyframe

log = logging.getLogger(__name__)

PLI_MIN_INTERVAL_S = 0.25
KEYFRAME_RETRY_S = 1.0
LAYER_IDLE_S = 2.0  # a layer with no frame for this long is off (a still screen share is slow)
LAYER_BEHIND_FRAMES = 4  # ...or once the other layers have sent this many captures without it
DOWNTRACK_QUEUE = 30
RID_QUALITY = {"q": models.VideoQuality.LOW, "h": models.VideoQuality.MEDIUM,
               "f": models.VideoQuality.HIGH}


@dataclass(slots=True)
class EncodedFrame:
    """One encoded audio or video frame as it came from the publisher."""

    data: bytes
    timestamp: int  # RTP timestamp of the layer it came from
    keyframe: bool
    layer: str
    audio_level: int | None = None  # dBov, 0 (loud) .. 127 (silent)


def is_keyframe(codec_name: str, data: bytes) -> bool:
    if not data:
        return False
    name = codec_name.upper()
    if name == "VP8":
        return (data[0] & 0x01) == 0
    if name == "H264":
        i = 0
        while True:
            i = data.find(b"\x00\x00\x01", i)
            if i < 0 or i + 3 >= len(data):
                return False
            if (data[i + 3] & 0x1F) in (5, 7):
                return True
            i += 3
    return True


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe header."""
    if len(data) >= 10 and (data[0] & 1) == 0 and data[3:6] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[6:8], "little") & 0x3FFF
        height = int.from_bytes(data[8:10], "little") & 0x3FFF
        return width, height
    return None


@dataclass
class MediaLayer:
    """One incoming RTP stream of a track: the single stream, or one simulcast layer."""

    rid: str
    quality: int
    clock_rate: int
    ssrc: int | None = None
    rtx_ssrc: int | None = None
    width: int = 0
    height: int = 0
    frames: int = 0
    keyframes: int = 0
    last_frame_at: float = 0.0
    last_pli_at: float = 0.0
    stats: StreamStatistics | None = None
    nack: NackGenerator | None = None
    jitter: JitterBuffer | None = None

    last_seq: int = 0  # the track's frame sequence number at this layer's last frame
    loss_prior: tuple[int, int] = (0, 0)  # packets expected, received at the last loss check

    def active_in(self, forwarder: TrackForwarder) -> bool:
        """Receiving frames: recently, and not left behind while the other layers go on (a
        publisher pausing a layer is noticed within a few frame intervals, whatever the rate)."""
        if self.frames == 0 or time.monotonic() - self.last_frame_at >= LAYER_IDLE_S:
            return False
        others = max(1, len(forwarder.layers) - 1)
        return forwarder.frame_seq - self.last_seq <= others * LAYER_BEHIND_FRAMES + 1


class ForwardingPacker:
    """Stands in for the sender's encoder: packetizes forwarded frames, encodes nothing."""

    def __init__(self, codec_name: str) -> None:
        self.codec_name = codec_name.upper()
        self.picture_id = 0

    def pack(self, frame: EncodedFrame) -> tuple[list[bytes], int]:
        if self.codec_name == "VP8":
            payloads = Vp8Encoder._packetize(frame.data, self.picture_id)
            self.picture_id = (self.picture_id + 1) % (1 << 15)
        elif self.codec_name == "H264":
            payloads = H264Encoder._packetize(H264Encoder._split_bitstream(frame.data))
        else:
            payloads = [frame.data]
        return payloads, frame.timestamp

    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        raise RuntimeError("a forwarding sender never encodes")


class DownTrack(MediaStreamTrack):
    """What one subscriber receives of a forwarded track: the track of one subscriber sender.

    When the subscriber stops receiving that track, the DownTrack is detached and waits; a later
    subscription of the same kind and codec attaches it to another forwarder, so the m-line, its
    sender and its SSRC are reused (no RTCP BYE: a receiver would end its track for good)."""

    def __init__(self, forwarder: TrackForwarder, subscriber: str) -> None:
        super().__init__()
        self.kind = forwarder.kind
        self.subscriber = subscriber
        self.queue: asyncio.Queue[EncodedFrame | None] = asyncio.Queue(DOWNTRACK_QUEUE)
        self.offset = 0
        self.last_out: int | None = None
        self.last_out_at = 0.0
        self.frames_sent = 0
        self.layer_switches = 0  # from one simulcast layer to another
        # Frames are only queued once the sender pulls (its transport is up): a frame queued
        # earlier would be stale, and a video stream must start at a fresh keyframe.
        self.started = False
        self.forwarder: TrackForwarder | None = None
        self._reset(forwarder)

    def _reset(self, forwarder: TrackForwarder | None) -> None:
        self.forwarder = forwarder
        if forwarder is not None:
            self._id = forwarder.track_sid
        self.layer: str | None = None  # layer being forwarded
        self.target: str | None = None  # layer wanted; switched at its next keyframe
        self.disabled = False
        self.max_quality = models.VideoQuality.HIGH
        self.max_width = 0
        self.max_height = 0
        self.waiting_keyframe = self.kind == "video"
        self.waiting_since = time.monotonic()
        while not self.queue.empty():
            self.queue.get_nowait()

    # -- called by the forwarder --------------------------------------------------------------
    def push(self, frame: EncodedFrame) -> None:
        if self.disabled or not self.started or self.readyState != "live":
            return
        if self.kind == "video":
            if frame.layer != self.layer and not (frame.layer == self.target and frame.keyframe):
                return
            if frame.layer != self.layer:  # switch to the target layer on its keyframe
                if self.layer is not None:
                    self.layer_switches += 1
                self._rebase(frame)
                self.layer = frame.layer
                self.waiting_keyframe = False
            elif self.waiting_keyframe:
                if not frame.keyframe:
                    return
                self.waiting_keyframe = False
        elif self.layer is None:
            self._rebase(frame)
            self.layer = frame.layer
        if self.queue.full():
            # the subscriber is behind: drop what is queued and restart from a keyframe
            while not self.queue.empty():
                self.queue.get_nowait()
            if self.kind == "video":
                self.need_keyframe()
                return
        out = EncodedFrame(frame.data, (frame.timestamp + self.offset) & 0xFFFFFFFF,
                           frame.keyframe, frame.layer, frame.audio_level)
        self.last_out = out.timestamp
        self.last_out_at = time.monotonic()
        self.queue.put_nowait(out)

    def _rebase(self, frame: EncodedFrame) -> None:
        """Keep the outgoing timestamps continuous across layer switches: the new layer's
        frames continue from the last one sent, as far apart as the wall-clock time between
        them, so the receiver's timing sees neither a jump nor a burst of late frames."""
        if self.last_out is None:
            self.offset = 0
        else:
            elapsed = time.monotonic() - self.last_out_at
            step = max(1, round(elapsed * self.forwarder.clock_rate))
            self.offset = (self.last_out + step - frame.timestamp) & 0xFFFFFFFF

    def need_keyframe(self) -> None:
        self.waiting_keyframe = True
        self.waiting_since = time.monotonic()
        if self.forwarder is not None:
            self.forwarder.request_keyframe(self.target or self.layer)

    # -- MediaStreamTrack ---------------------------------------------------------------------
    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        from aiortc.mediastreams import MediaStreamError

        if self.readyState != "live":
            raise MediaStreamError
        if not self.started:
            self.started = True
            if self.kind == "video":
                self.need_keyframe()
        frame = await self.queue.get()
        if frame is None:
            raise MediaStreamError
        self.frames_sent += 1
        return frame

    def detach(self) -> None:
        """Stop forwarding; the sender stays, idle, until :meth:`TrackForwarder.attach`."""
        if self.forwarder is not None:
            self.forwarder.remove_down_track(self)
        self._reset(None)

    def stop(self) -> None:
        self.detach()
        if self.readyState == "live":
            super().stop()
            try:
                self.queue.put_nowait(None)
            except asyncio.QueueFull:
                pass


class BandwidthEstimator:
    """Receiver-side estimate of a publisher's uplink, for all its video streams together.

    One per publisher connection: REMB describes the whole connection, so each report lists
    every SSRC it covers. (One estimator per track made the reports of a newly published track
    start from scratch and drag the publisher's estimate down for all its tracks.)
    """

    def __init__(self, floor_bps: int = 0) -> None:
        self._estimator = RemoteBitrateEstimator()
        self.floor_bps = floor_bps
        self.last_bps = 0

    async def on_packet(self, receiver: RTCRtpReceiver, packet: RtpPacket,
                        arrival_time_ms: int) -> None:
        if packet.extensions.abs_send_time is None:
            return
        remb = self._estimator.add(
            abs_send_time=packet.extensions.abs_send_time,
            arrival_time_ms=arrival_time_ms,
            payload_size=len(packet.payload) + packet.padding_size,
            ssrc=packet.ssrc,
        )
        rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
        if remb is not None and rtcp_ssrc is not None:
            # The delay-based estimate follows what arrives, so a publisher that sends below
            # its means (a paused layer, a new track) would be held down there; the floor keeps
            # room to grow, and the publisher's own loss-based control still backs off.
            bitrate, ssrcs = remb
            self.last_bps = max(bitrate, self.floor_bps)
            await receiver._send_rtcp(RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                fci=pack_remb_fci(self.last_bps, ssrcs)))


@dataclass
class ForwarderStats:
    frames_in: int = 0
    packets_in: int = 0
    bytes_in: int = 0
    keyframes_requested: int = 0


class TrackForwarder:
    """Receives one published track and fans its encoded frames out to DownTracks."""

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        *,
        track_sid: str,
        kind: str,
        mime_type: str,
        layers: list[tuple[str, int, int, int]] | None = None,
        on_audio_level: Callable[[int], None] | None = None,
        bandwidth: BandwidthEstimator | None = None,
    ) -> None:
        """``layers``: (rid, quality, width, height) for each simulcast layer, low to high."""
        self.receiver = receiver
        self.track_sid = track_sid
        self.kind = kind
        self.codec_name = mime_type.partition("/")[2].upper()
        self.on_audio_level = on_audio_level
        self.stats = ForwarderStats()
        self.down_tracks: set[DownTrack] = set()
        self.layers: dict[str, MediaLayer] = {}
        self._by_ssrc: dict[int, MediaLayer] = {}
        self._rtx_by_ssrc: dict[int, MediaLayer] = {}
        self.bandwidth = bandwidth if kind == "video" else None
        self.clock_rate = 90000 if kind == "video" else 48000
        self._declared = list(layers or [])
        self.frame_seq = 0
        self._closed = False
        self._keyframe_task: asyncio.Task[None] | None = None
        self._pli_tasks: set[asyncio.Future[None]] = set()
        receiver._handle_rtp_packet = self._handle_rtp_packet  # type: ignore[method-assign]
        if kind == "video":
            self._keyframe_task = asyncio.ensure_future(self._keyframe_watchdog())

    # -- receiver internals we rely on (aiortc 1.16) --------------------------------------------
    @property
    def _codecs(self) -> dict[int, RTCRtpCodecParameters]:
        return self.receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]

    @property
    def _rtcp_ssrc(self) -> int | None:
        return self.receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]

    # -- layers ----------------------------------------------------------------------------------
    def _layer(self, rid: str, clock_rate: int) -> MediaLayer:
        layer = self.layers.get(rid)
        if layer is None:
            quality, width, height = models.VideoQuality.HIGH, 0, 0
            for d_rid, d_quality, d_width, d_height in self._declared:
                if d_rid == rid:
                    quality, width, height = d_quality, d_width, d_height
            if rid in RID_QUALITY and not any(d[0] == rid for d in self._declared):
                quality = RID_QUALITY[rid]
            layer = MediaLayer(rid=rid, quality=quality, clock_rate=clock_rate,
                               width=width, height=height)
            layer.stats = StreamStatistics(clock_rate)
            if self.kind == "video":
                layer.nack = NackGenerator()
                layer.jitter = JitterBuffer(capacity=VIDEO_JITTER_PACKETS, is_video=True)
            self.layers[rid] = layer
        return layer

    def recent_loss(self) -> float:
        """Worst packet loss (0..1) over the layers since the last call. (aiortc's own
        ``fraction_lost`` belongs to its receiver reports: reading it would reset them.)"""
        worst = 0.0
        for layer in self.layers.values():
            if layer.stats is None or not layer.stats.packets_received:
                continue
            expected, received = layer.stats.packets_expected, layer.stats.packets_received
            d_expected = expected - layer.loss_prior[0]
            d_received = received - layer.loss_prior[1]
            layer.loss_prior = (expected, received)
            if d_expected > 0:
                worst = max(worst, max(0, d_expected - d_received) / d_expected)
        return worst

    def layer_order(self) -> list[MediaLayer]:
        return sorted(self.layers.values(), key=lambda layer: (layer.quality, layer.width))

    def _register_ssrc(self, layer: MediaLayer, ssrc: int) -> None:
        layer.ssrc = ssrc
        self._by_ssrc[ssrc] = layer
        remote_streams = self.receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        if layer.stats is not None:
            remote_streams[ssrc] = layer.stats

    # -- RTP input -------------------------------------------------------------------------------
    async def _handle_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        if self._closed:
            return
        self.stats.packets_in += 1
        self.stats.bytes_in += len(packet.payload)
        if self.bandwidth is not None:
            await self.bandwidth.on_packet(self.receiver, packet, arrival_time_ms)
        codec = self._codecs.get(packet.payload_type)
        if codec is None:
            return
        if is_rtx(codec):
            layer = self._rtx_by_ssrc.get(packet.ssrc)
            if layer is None:
                rid = packet.extensions.repaired_rtp_stream_id
                if rid is None:
                    rid = "" if not self.layers or "" in self.layers else None
                if rid is None or rid not in self.layers:
                    return
                layer = self.layers[rid]
                layer.rtx_ssrc = packet.ssrc
                self._rtx_by_ssrc[packet.ssrc] = layer
            apt = codec.parameters.get("apt")
            if layer.ssrc is None or not isinstance(apt, int) or apt not in self._codecs:
                return
            if len(packet.payload) < 2:
                return  # padding-only probe
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=layer.ssrc)
            codec = self._codecs[apt]
        else:
            layer = self._by_ssrc.get(packet.ssrc)
            if layer is None:
                rid = packet.extensions.rtp_stream_id or ""
                layer = self._layer(rid, codec.clockRate)
                self._register_ssrc(layer, packet.ssrc)
        assert layer.stats is not None
        layer.stats.add(packet)
        if layer.nack is not None and layer.nack.add(packet):
            await self.receiver._send_rtcp_nack(packet.ssrc, sorted(layer.nack.missing))
        if self.kind == "audio":
            level = packet.extensions.audio_level
            if level is not None and self.on_audio_level is not None:
                self.on_audio_level(level[1])
            if packet.payload:
                self._dispatch(EncodedFrame(packet.payload, packet.timestamp, True, layer.rid,
                                            level[1] if level is not None else None))
            return
        try:
            packet._data = depayload(codec, packet.payload) if packet.payload else b""  # type: ignore[attr-defined]
        except ValueError:
            return
        assert layer.jitter is not None
        pli, jframe = layer.jitter.add(packet)
        if pli:
            self.request_keyframe(layer.rid, force=True)
        if jframe is None:
            return
        key = is_keyframe(codec.name, jframe.data)
        if key and codec.name.upper() == "VP8":
            size = vp8_size(jframe.data)
            if size:
                layer.width, layer.height = size
        layer.frames += 1
        self.frame_seq += 1
        layer.last_seq = self.frame_seq
        if key:
            layer.keyframes += 1
        layer.last_frame_at = time.monotonic()
        self.stats.frames_in += 1
        self._dispatch(EncodedFrame(jframe.data, jframe.timestamp, key, layer.rid))

    def _dispatch(self, frame: EncodedFrame) -> None:
        for down in tuple(self.down_tracks):
            if self.kind == "video" and down.target is None:
                self._choose_layer(down)
            down.push(frame)

    # -- subscribers -----------------------------------------------------------------------------
    def add_down_track(self, subscriber: str) -> DownTrack:
        return self.attach(DownTrack(self, subscriber))

    def attach(self, down: DownTrack) -> DownTrack:
        """Forward this track through ``down`` (new, or detached from another track)."""
        if down.forwarder is not self:
            down.detach()
            down._reset(self)
        self.down_tracks.add(down)
        if self.kind == "video":
            self._choose_layer(down)
            if down.started:
                down.need_keyframe()
        return down

    def remove_down_track(self, down: DownTrack) -> None:
        self.down_tracks.discard(down)

    def bind_sender(self, sender: RTCRtpSender, down: DownTrack) -> None:
        """Make ``sender`` forward ``down`` without an encoder; its PLIs reach the publisher."""
        current = sender._RTCRtpSender__encoder  # type: ignore[attr-defined]
        if not (isinstance(current, ForwardingPacker) and current.codec_name == self.codec_name):
            # a reused sender keeps its packer, so VP8 picture ids run on
            sender._RTCRtpSender__encoder = ForwardingPacker(self.codec_name)  # type: ignore[attr-defined]
        sender._send_keyframe = down.need_keyframe  # type: ignore[method-assign]

    def set_preferences(self, down: DownTrack, *, disabled: bool | None = None,
                        quality: int | None = None, width: int = 0, height: int = 0) -> None:
        if disabled is not None:
            was = down.disabled
            down.disabled = disabled
            if was and not disabled:
                down.need_keyframe()
        if quality is not None:
            down.max_quality = quality
        down.max_width, down.max_height = width, height
        if self.kind == "video":
            self._choose_layer(down)

    def _choose_layer(self, down: DownTrack) -> None:
        layers = [layer for layer in self.layer_order() if layer.active_in(self)] \
            or self.layer_order()
        if not layers:
            return
        choice = layers[-1]
        if down.max_width or down.max_height:
            for layer in layers:
                if (layer.width >= down.max_width and layer.height >= down.max_height) \
                        or layer is layers[-1]:
                    choice = layer
                    break
        else:
            allowed = [layer for layer in layers if layer.quality <= down.max_quality]
            choice = allowed[-1] if allowed else layers[0]
        if choice.rid != down.target:
            down.target = choice.rid
            if down.layer is not None and down.layer != choice.rid:
                self.request_keyframe(choice.rid)

    def request_keyframe(self, rid: str | None, force: bool = False) -> None:
        if self.kind != "video" or rid is None:
            return
        layer = self.layers.get(rid)
        if layer is None or layer.ssrc is None:
            return
        now = time.monotonic()
        if not force and now - layer.last_pli_at < PLI_MIN_INTERVAL_S:
            return
        layer.last_pli_at = now
        self.stats.keyframes_requested += 1
        log.debug("PLI for %s layer %r (ssrc %s)", self.track_sid, rid, layer.ssrc)
        task = asyncio.ensure_future(self.receiver._send_rtcp_pli(layer.ssrc))
        self._pli_tasks.add(task)
        task.add_done_callback(self._pli_tasks.discard)

    async def _keyframe_watchdog(self) -> None:
        """Re-ask for keyframes while subscribers wait, and move subscribers off dead layers."""
        try:
            while not self._closed:
                await asyncio.sleep(0.2)
                now = time.monotonic()
                for down in tuple(self.down_tracks):
                    self._choose_layer(down)  # follows layers that start or stop
                    if down.waiting_keyframe and now - down.waiting_since > KEYFRAME_RETRY_S:
                        down.waiting_since = now
                        self.request_keyframe(down.target or down.layer)
                    elif down.target != down.layer and down.target is not None:
                        self.request_keyframe(down.target)
        except asyncio.CancelledError:
            pass

    def close(self) -> None:
        self._closed = True
        if self._keyframe_task is not None:
            self._keyframe_task.cancel()
        for down in tuple(self.down_tracks):
            down.stop()
        self.down_tracks.clear()


__all__ = [
    "DownTrack",
    "EncodedFrame",
    "ForwardingPacker",
    "TrackForwarder",
    "is_keyframe",
]
