"""Bitrate of our published video follows the content and the network.

:class:`BitrateController` runs beside a :class:`~visio_desktop.net.room.Room` (an asyncio task,
no Qt) and, for each local *video* publication:

* **content start** - once aiortc has created the sender's encoder (at its first frame), sets
  the target to :func:`.encoders.bitrate_for` of the frame size and rate, ``"screen"`` content
  for ``screen_share`` publications, and makes that the encoder's ceiling. For VP8 this lifts
  aiortc's 1.5 Mbit/s clamp (:func:`.encoders.apply_bitrate` switches the encoder to
  :class:`.encoders.Vp8EncoderWithCeiling`); aiortc's own libx264 stays clamped at 3 Mbit/s.
  Size: the encoder's open context, else the track's (or the track a ``PreviewTee`` wraps)
  ``width``/``height``, else the publication's; fps: the track's ``fps``, else 30 (camera) or
  15 (screen).
* **loss** - every ``interval_s`` reads the loss the remote receiver reports in RTCP receiver
  reports, through the public ``RTCRtpSender.getStats()``: aiortc stores the last report block
  for the sender's SSRC as ``RTCRemoteInboundRtpStreamStats`` whose ``fractionLost`` is the raw
  8-bit RTCP value (lost/256 since the previous report). Only a report newer than the one used
  last time moves the rate: :func:`.encoders.loss_adjusted_bitrate` (above 10 % cut by half the
  loss, below 2 % grow 5 %, up to the content ceiling), never under a floor (a tenth of the
  ceiling, at least ``encoders.MIN_BITRATE``). No fresh report: the rate holds.
* **REMB as a cap** - the sender's ``_handle_rtcp_packet`` is wrapped (an instance attribute,
  removed by :meth:`BitrateController.stop`): a REMB that lists the sender's SSRC is recorded
  and answered here instead of by aiortc (which would set ``target_bitrate`` to the REMB value
  as is). A REMB estimates the whole connection, so each of our video senders it lists gets a
  share proportional to its content ceiling; for ``REMB_TTL_S`` after it the target is never
  above that share (even under the floor). Other RTCP goes to aiortc unchanged. Against a
  server that sends no REMB (LiveKit relies on transport-cc) only loss and content apply.

Start with ``BitrateController(room).start()`` once joined; :meth:`~BitrateController.stop` on
leave. :meth:`~BitrateController.snapshot` gives per-publication values for the stats UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci

from visio_desktop.media.encoders import (
    MIN_BITRATE,
    Content,
    apply_bitrate,
    bitrate_for,
    loss_adjusted_bitrate,
    sender_encoder,
)

logger = logging.getLogger(__name__)

INTERVAL_S = 1.0  # loss steps
POLL_S = 0.1  # while a publication waits for its encoder
REMB_TTL_S = 5.0  # a REMB caps the target this long
LOSS_HIGH = 0.10  # above: back off (loss_adjusted_bitrate's threshold)
DEFAULT_FPS: dict[Content, float] = {"camera": 30.0, "screen": 15.0}
DEFAULT_SIZE = (1280, 720)


def content_of(source: str) -> Content:
    return "screen" if source.startswith("screen") else "camera"


@dataclass
class _Stream:
    """Control state of one local video publication."""

    sid: str
    source: str
    sender: Any
    ssrc: int
    encoder: Any = None  # the encoder the start target was applied to
    ceiling: int = 0
    floor: int = MIN_BITRATE
    target: int = 0  # loss-based target (before the REMB cap)
    applied: int = 0  # last value given to the encoder
    loss: float | None = None
    loss_stamp: Any = None  # timestamp of the receiver report last used
    remb_bps: int | None = None  # last REMB (whole connection) and our share of it
    remb_share: int | None = None
    remb_at: float = -1e9
    last_step: float = -1e9

    @property
    def started(self) -> bool:
        return self.encoder is not None


class BitrateController:
    """Content-aware start, loss-based steps and REMB cap for a Room's published video."""

    def __init__(self, room: Any, *, interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.room = room
        self.interval_s = interval_s
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the control task on the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="bitrate-control")

    def stop(self) -> None:
        """Stop the task and give aiortc back its REMB handling. Targets stay as they are."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for stream in list(self._streams.values()):
            self._unhook(stream)
        self._streams.clear()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one bad sender end the control loop
                logger.exception("bitrate control step failed")
            waiting = any(not s.started for s in self._streams.values())
            await asyncio.sleep(POLL_S if waiting else min(POLL_S * 5, self.interval_s))

    # -- one pass ------------------------------------------------------------------------------
    async def tick(self) -> None:
        """Pick up new publications, set start targets, and take due loss steps."""
        pubs = {sid: pub for sid, pub in self._video_publications()}
        for sid in [s for s in self._streams if s not in pubs]:
            self._unhook(self._streams.pop(sid))
        now = self._clock()
        for sid, pub in pubs.items():
            sender = pub.transceiver.sender
            stream = self._streams.get(sid)
            if stream is None or stream.sender is not sender:
                if stream is not None:
                    self._unhook(stream)
                stream = self._streams[sid] = _Stream(sid, pub.source, sender,
                                                      int(getattr(sender, "_ssrc", 0)))
                self._set_ceiling(stream, pub, None)  # a first guess, for REMB shares
                self._hook(stream)
            encoder = sender_encoder(sender)
            if encoder is None or not hasattr(encoder, "target_bitrate"):
                continue
            if stream.encoder is not encoder:
                self._start_stream(stream, pub, encoder)
                stream.last_step = now
            elif now - stream.last_step >= 0.9 * self.interval_s:
                stream.last_step = now
                await self._step(stream, pub, encoder)

    def _video_publications(self) -> list[tuple[str, Any]]:
        pubs = getattr(self.room.local_participant, "track_publications", {})
        return [(sid, pub) for sid, pub in list(pubs.items())
                if pub.kind == "video" and getattr(pub, "transceiver", None) is not None]

    def _start_stream(self, stream: _Stream, pub: Any, encoder: Any) -> None:
        stream.encoder = encoder
        self._set_ceiling(stream, pub, encoder)
        stream.target = stream.ceiling
        self._apply(stream)
        logger.info("%s %s: start target %d kbps (ceiling %d, floor %d)", stream.source,
                    stream.sid, stream.applied // 1000, stream.ceiling // 1000,
                    stream.floor // 1000)

    def _set_ceiling(self, stream: _Stream, pub: Any, encoder: Any) -> None:
        content = content_of(stream.source)
        width, height, fps = video_geometry(pub, encoder, content)
        stream.ceiling = bitrate_for(width, height, fps, content)
        stream.floor = max(MIN_BITRATE, stream.ceiling // 10)

    async def _step(self, stream: _Stream, pub: Any, encoder: Any) -> None:
        self._set_ceiling(stream, pub, encoder)  # follows a size or rate change
        loss = await self._fresh_loss(stream)
        cap = self._cap(stream)
        target = min(stream.target, stream.ceiling)
        if loss is not None:
            # back off from what is really used (the REMB may hold it below our target)
            base = min(target, cap) if cap is not None and loss > LOSS_HIGH else target
            target = loss_adjusted_bitrate(base, loss, stream.ceiling)
        stream.target = max(stream.floor, target)
        self._apply(stream)

    # -- loss ----------------------------------------------------------------------------------
    async def _fresh_loss(self, stream: _Stream) -> float | None:
        """Fraction lost (0-1) of the newest receiver report, None if none came since the
        last step."""
        try:
            report = await stream.sender.getStats()
        except Exception as exc:  # a stopping sender/transport
            logger.debug("getStats failed for %s: %s", stream.sid, exc)
            return None
        for stats in report.values():
            if getattr(stats, "type", "") != "remote-inbound-rtp":
                continue
            raw = getattr(stats, "fractionLost", None)
            if raw is None:
                return None
            stream.loss = min(1.0, max(0.0, float(raw) / 256.0))
            if stats.timestamp == stream.loss_stamp:
                return None
            stream.loss_stamp = stats.timestamp
            return stream.loss
        return None

    # -- REMB ----------------------------------------------------------------------------------
    def _hook(self, stream: _Stream) -> None:
        sender = stream.sender
        original = getattr(sender, "_handle_rtcp_packet", None)
        if original is None:
            return

        async def handle_rtcp(packet: Any) -> None:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                try:
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                except ValueError:
                    bitrate, ssrcs = 0, []
                if stream.ssrc in ssrcs:
                    self.on_remb(stream.sid, bitrate, ssrcs)
                    return
            await original(packet)

        handle_rtcp.bitrate_control = self  # type: ignore[attr-defined]
        sender._handle_rtcp_packet = handle_rtcp

    def _unhook(self, stream: _Stream) -> None:
        hook = vars(stream.sender).get("_handle_rtcp_packet")
        if getattr(hook, "bitrate_control", None) is self:
            del stream.sender._handle_rtcp_packet

    def on_remb(self, sid: str, bitrate: int, ssrcs: list[int]) -> None:
        """A REMB of ``bitrate`` bps for the connection's ``ssrcs`` reached publication ``sid``:
        cap its target at its share of it (applied at once)."""
        stream = self._streams.get(sid)
        if stream is None:
            return
        listed = [s for s in self._streams.values() if s.ssrc in ssrcs]
        total = sum(s.ceiling for s in listed) or stream.ceiling or 1
        stream.remb_bps = int(bitrate)
        stream.remb_share = int(bitrate * (stream.ceiling or total) / total)
        stream.remb_at = self._clock()
        if stream.started:
            self._apply(stream)

    def _cap(self, stream: _Stream) -> int | None:
        if stream.remb_share is None or self._clock() - stream.remb_at > REMB_TTL_S:
            return None
        return stream.remb_share

    # -- applying ------------------------------------------------------------------------------
    def _apply(self, stream: _Stream) -> None:
        want = min(max(stream.floor, stream.target), stream.ceiling)
        cap = self._cap(stream)
        if cap is not None:
            want = min(want, cap)
        if apply_bitrate(stream.sender, want, ceiling=stream.ceiling):
            if want != stream.applied:
                logger.debug("%s %s: target %d kbps (loss %s, REMB share %s)", stream.source,
                             stream.sid, want // 1000, stream.loss, cap)
            stream.applied = want

    # -- stats ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per local video publication (by track sid): ``source``, ``target_bps`` (what we
        asked the encoder for; 0 before its encoder exists), ``encoder_bps`` (what the encoder
        holds after its own clamp), ``ceiling_bps``, ``loss`` (last reported fraction lost,
        0-1, or None), ``remb_bps`` (last REMB for the connection within REMB_TTL_S, or None).
        """
        out: dict[str, dict[str, Any]] = {}
        for sid, s in self._streams.items():
            encoder = sender_encoder(s.sender)
            fresh = self._cap(s) is not None
            out[sid] = {
                "source": s.source,
                "target_bps": s.applied,
                "encoder_bps": int(getattr(encoder, "target_bitrate", 0) or 0),
                "ceiling_bps": s.ceiling,
                "loss": s.loss,
                "remb_bps": s.remb_bps if fresh else None,
            }
        return out


def video_geometry(pub: Any, encoder: Any, content: Content) -> tuple[int, int, float]:
    """(width, height, fps) a publication is encoded at, from the best source there is."""
    width = height = 0
    for name in ("_ctx", "codec"):  # our H.264 encoder's context, aiortc's
        ctx = getattr(encoder, name, None)
        if ctx is not None and getattr(ctx, "width", 0) and getattr(ctx, "height", 0):
            width, height = int(ctx.width), int(ctx.height)
            break
    fps = 0.0
    track = getattr(pub, "track", None)
    for _ in range(4):  # the track, or the one a PreviewTee/wrapper passes through
        if not isinstance(track, MediaStreamTrack):
            break
        if not width and getattr(track, "width", 0) and getattr(track, "height", 0):
            width, height = int(track.width), int(track.height)
        if not fps and getattr(track, "fps", 0):
            with contextlib.suppress(TypeError, ValueError):
                fps = float(track.fps)
        track = getattr(track, "source", None)
    if not width and getattr(pub, "width", 0) and getattr(pub, "height", 0):
        width, height = int(pub.width), int(pub.height)
    if not width:
        width, height = DEFAULT_SIZE
    return width, height, fps or DEFAULT_FPS[content]
