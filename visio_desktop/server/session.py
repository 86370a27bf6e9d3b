"""One participant of the embedded server: its signalling loop and its two peer connections.

Dual peer connection (LiveKit protocol v0, subscriber primary): the client offers on the
*publisher* PC and we answer; we offer on the *subscriber* PC, which also carries the data
channels we send on. Messages to the client leave through one queue, so an ``update`` queued
before a subscriber ``offer`` always reaches the client first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.exceptions import InvalidStateError
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.sdp import candidate_from_sdp
from google.protobuf.message import DecodeError
from livekit.protocol import models, rtc

from visio_desktop.net import aiortc_ext
from visio_desktop.net.ids import PARTICIPANT_PREFIX, TRACK_PREFIX, guid
from visio_desktop.net.token import Claims
from visio_desktop.server import data as data_relay
from visio_desktop.server.auth import may_publish_source, permission
from visio_desktop.server.forward import BandwidthEstimator, DownTrack, TrackForwarder
from visio_desktop.server.room import ENABLED_CODECS, Room, dbov_to_level

if TYPE_CHECKING:
    from visio_desktop.server.app import ServerContext

log = logging.getLogger(__name__)

SERVER_VERSION = "1.9.0"
PROTOCOL = 17
PING_INTERVAL_S = 5
PING_TIMEOUT_S = 15
SIGNAL_MAX_BYTES = 1 << 20
START_BITRATE_KBPS = 1500  # publishers' initial video estimate (LAN / same computer)
SCREEN_FLOOR_KBPS = 5000  # a shared screen of dense text needs 3-4 Mbit/s at 1080p
MAX_PENDING_DATA = 256  # reliable packets kept for a participant whose channel is opening


class ProtocolViolation(Exception):
    """The client broke the protocol: it gets this message and a ``leave``, then is dropped."""

    def __init__(self, message: str,
                 reason: int = models.DisconnectReason.STATE_MISMATCH) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class PublishedTrack:
    """A track a participant publishes, and the forwarder that fans it out."""

    info: models.TrackInfo
    forwarder: TrackForwarder | None = None
    mid: str | None = None
    cid: str = ""

    @property
    def sid(self) -> str:
        return self.info.sid

    def close(self) -> None:
        if self.forwarder is not None:
            self.forwarder.close()


@dataclass
class Subscription:
    track_sid: str
    publisher_sid: str
    transceiver: RTCRtpTransceiver
    down: DownTrack
    mime: str


class ParticipantSession:
    def __init__(self, ctx: ServerContext, room: Room, claims: Claims,
                 ws: web.WebSocketResponse, query: dict[str, str]) -> None:
        self.ctx = ctx
        self.room = room
        self.ws = ws
        self.sid = guid(PARTICIPANT_PREFIX)
        self.identity = claims.identity
        self.name = claims.name
        self.metadata = claims.metadata
        self.attributes = dict(claims.attributes)
        self.kind = {"agent": models.ParticipantInfo.Kind.AGENT,
                     "ingress": models.ParticipantInfo.Kind.INGRESS,
                     "egress": models.ParticipantInfo.Kind.EGRESS,
                     "sip": models.ParticipantInfo.Kind.SIP}.get(
                         claims.kind, models.ParticipantInfo.Kind.STANDARD)
        self.permission = permission(claims)
        self.joined_at = time.time()
        self.version = 1
        self.state = models.ParticipantInfo.State.JOINING
        self.auto_subscribe = query.get("auto_subscribe", "1").lower() not in ("0", "false")
        self.client_protocol = _int(query.get("client_protocol"), 0)
        self.capabilities = _capabilities(query.get("capabilities", ""))
        self.sdk = query.get("sdk", "")

        self.published: dict[str, PublishedTrack] = {}
        self.pending: dict[str, PublishedTrack] = {}  # by cid, waiting for media
        self.unmatched: dict[str, Any] = {}  # remote track id -> (transceiver, track)
        self.subscriptions: dict[str, Subscription] = {}
        self._spare: list[RTCRtpTransceiver] = []  # inactive subscriber transceivers to reuse
        self._retiring: list[RTCRtpTransceiver] = []  # going inactive in the next negotiation
        self.audio_dbov: float = 127.0
        self.audio_at: float = 0.0

        self._out: asyncio.Queue[rtc.SignalResponse | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._pending_data: list[bytes] = []
        self._last_seen = time.monotonic()

        # MAX_BUNDLE: every m-line shares one transport (aiortc's BALANCED policy strands
        # transceivers added in a renegotiation on a transport that never connects)
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.publisher = RTCPeerConnection(config)
        self.subscriber = RTCPeerConnection(config)
        self._sub_offer_id = 0
        self._sub_negotiating = False
        self._sub_renegotiate = False
        self._sub_lock = asyncio.Lock()
        self._pub_lock = asyncio.Lock()
        self._pending_candidates: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
        self._reliable: RTCDataChannel | None = None
        self._lossy: RTCDataChannel | None = None
        self.data_state = data_relay.SenderState()
        self.bandwidth = BandwidthEstimator(floor_bps=START_BITRATE_KBPS * 1000)

    # -- identity ---------------------------------------------------------------------------
    @property
    def hidden(self) -> bool:
        return self.permission.hidden

    @property
    def can_subscribe(self) -> bool:
        return self.permission.can_subscribe

    def info(self) -> models.ParticipantInfo:
        return models.ParticipantInfo(
            sid=self.sid,
            identity=self.identity,
            name=self.name,
            metadata=self.metadata,
            attributes=self.attributes,
            state=self.state,
            tracks=[t.info for t in self.published.values()],
            joined_at=int(self.joined_at),
            joined_at_ms=int(self.joined_at * 1000),
            version=self.version,
            permission=self.permission,
            is_publisher=bool(self.published),
            kind=self.kind,
            client_protocol=self.client_protocol,
            capabilities=self.capabilities,
        )

    def bump(self) -> None:
        self.version += 1

    def uplink_loss(self) -> float:
        """Fraction of packets lost lately on what this participant publishes (0..1)."""
        losses = [track.forwarder.recent_loss() for track in self.published.values()
                  if track.forwarder is not None]
        return max(losses, default=0.0)

    def speaking_level(self, now: float, hold: float, threshold: float) -> float | None:
        if now - self.audio_at > hold or self.audio_dbov >= threshold:
            return None
        if not any(t.info.type == models.TrackType.AUDIO and not t.info.muted
                   for t in self.published.values()):
            return None
        return dbov_to_level(self.audio_dbov)

    # -- outgoing -----------------------------------------------------------------------------
    def send(self, message: rtc.SignalResponse) -> None:
        if not self._closed:
            self._out.put_nowait(message)

    async def _write_loop(self) -> None:
        while True:
            message = await self._out.get()
            if message is None:
                return
            try:
                await self.ws.send_bytes(message.SerializeToString())
            except (ConnectionError, RuntimeError):
                return

    def respond(self, reason: int, message: str, request_id: int = 0) -> None:
        """Answer a request with a ``request_response`` (the protocol's error report)."""
        self.send(rtc.SignalResponse(request_response=rtc.RequestResponse(
            request_id=request_id, reason=reason, message=message)))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("participant %s: %s failed", self.identity, task.get_coro().__qualname__,
                      exc_info=task.exception())

    # -- lifecycle ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Join, then serve signalling until the client leaves or breaks the protocol."""
        self._writer = asyncio.ensure_future(self._write_loop())
        self._setup_peer_connections()
        await self.room.add(self)
        self.send(rtc.SignalResponse(join=self._join_response()))
        self.state = models.ParticipantInfo.State.JOINED
        self.room.broadcast_update(self)
        log.info("participant %s joined room %s", self.identity, self.room.name)
        # fast start: the first subscriber offer carries the data channels and existing tracks
        if self.can_subscribe and self.auto_subscribe:
            for other in self.room.visible_others(self):
                for track in list(other.published.values()):
                    await self.subscribe(other, track, negotiate=False)
        self.spawn(self.negotiate_subscriber())
        watchdog = self.spawn(self._ping_watchdog())
        reason = models.DisconnectReason.CLIENT_INITIATED
        try:
            async for msg in self.ws:
                self._last_seen = time.monotonic()
                if msg.type == WSMsgType.BINARY:
                    await self._handle(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    raise ProtocolViolation("signalling messages must be binary protobuf")
                elif msg.type == WSMsgType.ERROR:
                    reason = models.DisconnectReason.SIGNAL_CLOSE
                    break
                if self._closed:
                    break
        except ProtocolViolation as exc:
            reason = exc.reason
            await self.drop(str(exc), reason)
        except (ConnectionError, asyncio.CancelledError):
            reason = models.DisconnectReason.SIGNAL_CLOSE
        finally:
            watchdog.cancel()
            await self.close(reason, notify=False)

    async def close(self, reason: int, notify: bool) -> None:
        if self._closed:
            return
        if notify:
            self.send(rtc.SignalResponse(leave=rtc.LeaveRequest(
                reason=reason, action=rtc.LeaveRequest.Action.DISCONNECT)))
        self._closed = True
        self._out.put_nowait(None)
        if self._writer is not None:
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(self._writer, 2)
        await self.room.remove(self)
        for sub in list(self.subscriptions.values()):
            sub.down.stop()
        self.subscriptions.clear()
        for transceiver in self._spare + self._retiring:
            if transceiver.sender.track is not None:
                transceiver.sender.track.stop()
        self._spare.clear()
        self._retiring.clear()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        await self.publisher.close()
        await self.subscriber.close()
        with contextlib.suppress(Exception):
            await self.ws.close()
        log.info("participant %s left room %s (%s)", self.identity, self.room.name,
                 models.DisconnectReason.Name(reason))

    async def drop(self, why: str, reason: int) -> None:
        """The participant broke the protocol: one log line, the reason, a leave, closed."""
        log.warning("participant %s in room %s dropped: %s", self.identity, self.room.name, why)
        self.respond(rtc.RequestResponse.Reason.INVALID_REQUEST, why)
        await self.close(reason, notify=True)

    async def _ping_watchdog(self) -> None:
        while not self._closed:
            await asyncio.sleep(1)
            if time.monotonic() - self._last_seen > PING_TIMEOUT_S:
                log.warning("participant %s timed out", self.identity)
                await self.close(models.DisconnectReason.CONNECTION_TIMEOUT, notify=True)
                return

    def _join_response(self) -> rtc.JoinResponse:
        return rtc.JoinResponse(
            room=self.room.info(),
            participant=self.info(),
            other_participants=[p.info() for p in self.room.visible_others(self)],
            server_version=SERVER_VERSION,
            ice_servers=[],
            subscriber_primary=True,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            server_info=models.ServerInfo(
                edition=models.ServerInfo.Edition.Standard,
                version=SERVER_VERSION,
                protocol=PROTOCOL,
                node_id="visio-desktop",
            ),
            enabled_publish_codecs=[models.Codec(mime=m) for m in ENABLED_CODECS],
            client_configuration=models.ClientConfiguration(
                resume_connection=models.ClientConfigSetting.DISABLED),
        )

    # -- signalling -------------------------------------------------------------------------
    async def _handle(self, raw: bytes) -> None:
        if len(raw) > SIGNAL_MAX_BYTES:
            raise ProtocolViolation("signalling message too large")
        request = rtc.SignalRequest()
        try:
            request.ParseFromString(raw)
        except DecodeError as exc:
            raise ProtocolViolation("malformed signalling message") from exc
        kind = request.WhichOneof("message")
        if kind is None:
            raise ProtocolViolation("empty or unknown signalling message")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            log.debug("ignoring %s from %s", kind, self.identity)
            return
        try:
            await handler(getattr(request, kind))
        except (ProtocolViolation, ConnectionError, asyncio.CancelledError):
            raise
        except Exception:
            # a bug of ours must not end the participant's call
            log.exception("participant %s: handling %s failed", self.identity, kind)
            self.respond(rtc.RequestResponse.Reason.UNCLASSIFIED_ERROR,
                         f"the server could not handle {kind}")

    async def _on_ping(self, timestamp: int) -> None:
        self.send(rtc.SignalResponse(pong=int(time.time() * 1000)))

    async def _on_ping_req(self, ping: rtc.Ping) -> None:
        self.send(rtc.SignalResponse(pong_resp=rtc.Pong(
            last_ping_timestamp=ping.timestamp, timestamp=int(time.time() * 1000))))

    async def _on_leave(self, leave: rtc.LeaveRequest) -> None:
        await self.close(models.DisconnectReason.CLIENT_INITIATED, notify=False)

    async def _on_trickle(self, trickle: rtc.TrickleRequest) -> None:
        try:
            init = json.loads(trickle.candidateInit)
            if not isinstance(init, dict):
                raise ValueError
        except ValueError as exc:
            raise ProtocolViolation("trickle candidate is not JSON") from exc
        target = 1 if trickle.target == rtc.SignalTarget.SUBSCRIBER else 0
        pc = self.subscriber if target == 1 else self.publisher
        if pc.remoteDescription is None:
            self._pending_candidates[target].append(init)
        else:
            await self._add_candidate(pc, init)

    async def _add_candidate(self, pc: RTCPeerConnection, init: dict[str, Any]) -> None:
        text = init.get("candidate") or ""
        if not isinstance(text, str) or not text:
            return  # end of candidates: aiortc needs nothing
        if text.startswith("candidate:"):
            text = text[len("candidate:"):]
        try:
            candidate = candidate_from_sdp(text)
        except (ValueError, IndexError):
            log.info("ignoring unparsable ICE candidate from %s", self.identity)
            return
        candidate.sdpMid = init.get("sdpMid")
        candidate.sdpMLineIndex = init.get("sdpMLineIndex")
        if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
            candidate.sdpMLineIndex = 0
        with contextlib.suppress(Exception):
            await pc.addIceCandidate(candidate)

    async def _flush_candidates(self, target: int) -> None:
        pc = self.subscriber if target == 1 else self.publisher
        queued, self._pending_candidates[target] = self._pending_candidates[target], []
        for init in queued:
            await self._add_candidate(pc, init)

    async def _on_add_track(self, req: rtc.AddTrackRequest) -> None:
        if not req.cid:
            raise ProtocolViolation("add_track without a cid")
        if not may_publish_source(self.permission, req.source) or req.type not in (
                models.TrackType.AUDIO, models.TrackType.VIDEO):
            self.respond(rtc.RequestResponse.Reason.NOT_ALLOWED,
                         "not allowed to publish this track")
            return
        if req.cid in self.pending or any(t.cid == req.cid for t in self.published.values()):
            self.respond(rtc.RequestResponse.Reason.DUPLICATE_HANDLE,
                         "a track with this cid is already published")
            return
        info = models.TrackInfo(
            sid=guid(TRACK_PREFIX),
            type=req.type,
            name=req.name,
            muted=req.muted,
            width=req.width,
            height=req.height,
            source=req.source,
            layers=list(req.layers),
            stream=req.stream or ("screen" if req.source in (
                models.TrackSource.SCREEN_SHARE, models.TrackSource.SCREEN_SHARE_AUDIO)
                else "camera"),
            disable_dtx=req.disable_dtx,
            stereo=req.stereo,
            disable_red=True,
            simulcast=len(req.layers) > 1,
        )
        for codec in req.simulcast_codecs:
            mime = codec.codec if "/" in codec.codec else f"video/{codec.codec}"
            if mime.lower() in ("video/vp8", "video/h264"):
                info.codecs.append(models.SimulcastCodecInfo(
                    mime_type=mime, cid=codec.cid or req.cid, layers=list(codec.layers)))
        if req.type == models.TrackType.AUDIO:
            info.mime_type = "audio/opus"
        track = PublishedTrack(info=info, cid=req.cid)
        self.pending[req.cid] = track
        self.send(rtc.SignalResponse(track_published=rtc.TrackPublishedResponse(
            cid=req.cid, track=info)))
        matched = self.unmatched.pop(req.cid, None)
        if matched is None and self.unmatched:
            matched = self._unmatched_by_kind(info.type)
        if matched is not None:
            await self._start_published(track, *matched)

    def _pending_by_kind(self, kind: str) -> PublishedTrack | None:
        want = models.TrackType.AUDIO if kind == "audio" else models.TrackType.VIDEO
        for cid, track in list(self.pending.items()):
            if track.info.type == want:
                return self.pending.pop(cid)
        return None

    def _unmatched_by_kind(self, kind: int) -> Any:
        want = "audio" if kind == models.TrackType.AUDIO else "video"
        for key, (transceiver, remote) in list(self.unmatched.items()):
            if remote.kind == want:
                del self.unmatched[key]
                return transceiver, remote
        return None

    async def _on_mute(self, req: rtc.MuteTrackRequest) -> None:
        track = self.published.get(req.sid) or next(
            (t for t in self.pending.values() if t.sid == req.sid), None)
        if track is None:
            self.respond(rtc.RequestResponse.Reason.NOT_FOUND, f"unknown track {req.sid}")
            return
        if track.info.muted == req.muted:
            return
        track.info.muted = req.muted
        if track.sid in self.published:
            self.bump()
            self.room.broadcast_update(self)

    async def _on_update_metadata(self, req: rtc.UpdateParticipantMetadata) -> None:
        if not self.permission.can_update_metadata:
            self.respond(rtc.RequestResponse.Reason.NOT_ALLOWED,
                         "not allowed to update metadata", request_id=req.request_id)
            return
        if req.name:
            self.name = req.name
        if req.metadata:
            self.metadata = req.metadata
        for key, value in req.attributes.items():
            if value:
                self.attributes[key] = value
            else:
                self.attributes.pop(key, None)
        self.bump()
        self.room.broadcast_update(self)
        self.respond(rtc.RequestResponse.Reason.OK, "", request_id=req.request_id)

    async def _on_subscription(self, req: rtc.UpdateSubscription) -> None:
        sids = list(req.track_sids) + [s for pt in req.participant_tracks for s in pt.track_sids]
        for sid in sids:
            if req.subscribe:
                found = self.room.find_track(sid)
                if found is None or found[0] is self:
                    self.send(rtc.SignalResponse(subscription_response=rtc.SubscriptionResponse(
                        track_sid=sid, err=models.SubscriptionError.SE_TRACK_NOTFOUND)))
                    continue
                if self.can_subscribe:
                    await self.subscribe(*found)
            else:
                await self.unsubscribe(sid)

    async def _on_track_setting(self, req: rtc.UpdateTrackSettings) -> None:
        for sid in req.track_sids:
            sub = self.subscriptions.get(sid)
            if sub is None:
                continue
            quality = req.quality if not (req.width or req.height) else None
            sub.down.forwarder.set_preferences(
                sub.down, disabled=req.disabled, quality=quality,
                width=req.width, height=req.height)

    # -- publisher PC (client offers, we answer) ---------------------------------------------------
    def _setup_peer_connections(self) -> None:
        @self.publisher.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def on_message(message: bytes | str) -> None:
                self.spawn(self._on_data(channel, message))

        @self.publisher.on("track")
        def on_track(remote: Any) -> None:
            transceiver = next((t for t in self.publisher.getTransceivers()
                                if t.receiver.track is remote), None)
            if transceiver is None:
                return
            track = self.pending.pop(remote.id, None) or self._pending_by_kind(remote.kind)
            log.debug("publisher track %s (%s) matched %s", remote.id, remote.kind,
                      track.sid if track else None)
            if track is None:
                self.unmatched[remote.id] = (transceiver, remote)
                return
            self.spawn(self._start_published(track, transceiver, remote))

        @self.subscriber.on("connectionstatechange")
        def on_state() -> None:
            if self.subscriber.connectionState == "connected" and \
                    self.state != models.ParticipantInfo.State.ACTIVE and not self._closed:
                self.state = models.ParticipantInfo.State.ACTIVE
                self.bump()
                self.room.broadcast_update(self)

        self._reliable = self.subscriber.createDataChannel("_reliable", ordered=True)
        self._reliable.on("open", self._flush_pending_data)
        self._lossy = self.subscriber.createDataChannel("_lossy", ordered=False, maxRetransmits=0)
        # The SCTP transport exists before any transceiver, so every later m-line bundles onto
        # it. aiortc would otherwise treat it as a not-yet-bundled transport when the answer
        # groups it behind a media m-line, and stop it: the ICE transport everyone shares.
        assert self.subscriber.sctp is not None
        self.subscriber.sctp._bundled = True

    async def _on_offer(self, desc: rtc.SessionDescription) -> None:
        if desc.type != "offer":
            raise ProtocolViolation("offer has the wrong type")
        _check_sdp(desc.sdp, "publisher offer")
        async with self._pub_lock:
            token = aiortc_ext.ice_host_addresses.set(self.ctx.ice_addresses)
            try:
                await self.publisher.setRemoteDescription(
                    RTCSessionDescription(sdp=desc.sdp, type="offer"))
                await self._flush_candidates(0)
                await self.publisher.setLocalDescription(await self.publisher.createAnswer())
            except ProtocolViolation:
                raise
            except Exception as exc:
                raise ProtocolViolation(f"the publisher offer could not be applied: {exc}") \
                    from exc
            finally:
                aiortc_ext.ice_host_addresses.reset(token)
            answer = aiortc_ext.answer_simulcast(desc.sdp, self.publisher.localDescription.sdp)
            answer = aiortc_ext.add_start_bitrate(answer, START_BITRATE_KBPS)
            self.send(rtc.SignalResponse(answer=rtc.SessionDescription(
                type="answer", sdp=answer, id=desc.id)))
            await self._check_unpublished(desc.sdp)
        self.spawn(aiortc_ext.start_media_when_connected(self.publisher))

    async def _check_unpublished(self, offer_sdp: str) -> None:
        sending = aiortc_ext.sending_media(offer_sdp)
        for track in list(self.published.values()):
            if track.mid is not None and track.mid not in sending:
                await self.unpublish(track.sid)

    async def _start_published(self, track: PublishedTrack, transceiver: RTCRtpTransceiver,
                               remote: Any) -> None:
        if self._closed:
            return
        self.pending.pop(track.cid, None)
        kind = remote.kind
        track.mid = transceiver.mid
        track.info.mid = transceiver.mid or ""
        rids = aiortc_ext.simulcast_rids(self.publisher.remoteDescription.sdp).get(
            transceiver.mid or "", [])
        declared = []
        if rids:
            by_quality = sorted(track.info.layers, key=lambda layer: layer.quality)
            for i, rid in enumerate(rids):
                if i < len(by_quality):
                    lay = by_quality[i]
                    declared.append((rid, lay.quality, lay.width, lay.height))
                    lay.rid = rid
        codec_mime = ""
        for codec in transceiver._codecs:  # negotiated codecs of this m-line
            if codec.name.lower() not in ("rtx", "red", "ulpfec"):
                codec_mime = codec.mimeType
                break
        if kind == "video":
            track.info.mime_type = codec_mime or "video/VP8"
            if not track.info.codecs:
                track.info.codecs.append(models.SimulcastCodecInfo(
                    mime_type=track.info.mime_type, mid=track.mid or "", cid=track.cid,
                    layers=list(track.info.layers)))
        else:
            track.info.mime_type = codec_mime or "audio/opus"
        track.forwarder = TrackForwarder(
            transceiver.receiver, track_sid=track.sid, kind=kind,
            mime_type=track.info.mime_type, layers=declared,
            on_audio_level=self._on_audio_level if kind == "audio" else None,
            bandwidth=self.bandwidth)
        self.published[track.sid] = track
        self._update_bandwidth_floor()
        self.bump()
        log.info("participant %s published %s track %s (%s)", self.identity, kind, track.sid,
                 track.info.mime_type)
        await self.room.track_published(self, track)

    def _update_bandwidth_floor(self) -> None:
        """The uplink estimate never holds a publisher below what its content needs on a LAN:
        more while it shares a screen (legible text), the start bitrate otherwise."""
        sharing = any(t.info.source == models.TrackSource.SCREEN_SHARE
                      for t in self.published.values())
        self.bandwidth.floor_bps = 1000 * (SCREEN_FLOOR_KBPS if sharing else START_BITRATE_KBPS)

    def _on_audio_level(self, dbov: int) -> None:
        self.audio_dbov = 0.7 * self.audio_dbov + 0.3 * dbov if self.audio_at else dbov
        self.audio_at = time.monotonic()

    async def unpublish(self, track_sid: str) -> None:
        track = self.published.pop(track_sid, None)
        if track is None:
            return
        self._update_bandwidth_floor()
        self.bump()
        log.info("participant %s unpublished %s", self.identity, track_sid)
        self.room.broadcast_update(self)
        await self.room.track_unpublished(self, track)

    # -- subscriber PC (we offer) ----------------------------------------------------------------
    async def subscribe(self, publisher: ParticipantSession, track: PublishedTrack,
                        negotiate: bool = True) -> None:
        if self._closed or track.sid in self.subscriptions or track.forwarder is None:
            return
        forwarder = track.forwarder
        kind = forwarder.kind
        mime = track.info.mime_type
        transceiver = next((t for t in self._spare if t.kind == kind and
                            _transceiver_mime(t) == mime.lower()), None)
        if transceiver is not None:  # reuse an m-line, its sender and its SSRC
            self._spare.remove(transceiver)
            down = transceiver.sender.track
            assert isinstance(down, DownTrack)
            forwarder.attach(down)
            transceiver.direction = "sendonly"
            sender = transceiver.sender
            sender._track_id = track.sid
        else:
            down = forwarder.add_down_track(self.identity)
            transceiver = self.subscriber.addTransceiver(down, direction="sendonly")
            prefs = _codec_preferences(kind, mime)
            if prefs:
                transceiver.setCodecPreferences(prefs)
            sender = transceiver.sender
        sender._stream_id = f"{publisher.sid}|{track.sid}"
        forwarder.bind_sender(sender, down)
        self.subscriptions[track.sid] = Subscription(
            track.sid, publisher.sid, transceiver, down, mime.lower())
        if negotiate:
            self.spawn(self.negotiate_subscriber())

    async def unsubscribe(self, track_sid: str) -> None:
        sub = self.subscriptions.pop(track_sid, None)
        if sub is None:
            return
        sub.down.detach()
        sub.transceiver.direction = "inactive"
        # aiortc writes an a=msid on inactive m-lines too: give the retired one an id of its
        # own, or subscribing to the same track again before the answer would put the same
        # msid twice in one offer (the Rust SDK aborts on that)
        retired = uuid.uuid4().hex
        sub.transceiver.sender._stream_id = f"retired-{retired}"
        sub.transceiver.sender._track_id = retired
        # reusable once the subscriber has agreed it is inactive: reusing it in the same offer
        # would turn one track into another without the inactive step, and a browser or the
        # Rust SDK would then see no new track
        self._retiring.append(sub.transceiver)
        if not self._closed:
            self.spawn(self.negotiate_subscriber())

    async def negotiate_subscriber(self) -> None:
        """Send a new subscriber offer, or mark one as needed if an answer is awaited."""
        await asyncio.sleep(0.01)  # gather simultaneous changes into one offer
        async with self._sub_lock:
            if self._closed:
                return
            if self._sub_negotiating:
                self._sub_renegotiate = True
                return
            self._sub_negotiating = True
            self._sub_renegotiate = False
            token = aiortc_ext.ice_host_addresses.set(self.ctx.ice_addresses)
            try:
                await self.subscriber.setLocalDescription(await self.subscriber.createOffer())
            except InvalidStateError:
                return  # closed meanwhile
            finally:
                aiortc_ext.ice_host_addresses.reset(token)
            self._sub_offer_id += 1
            self.send(rtc.SignalResponse(offer=rtc.SessionDescription(
                type="offer", sdp=self.subscriber.localDescription.sdp, id=self._sub_offer_id)))

    async def _on_answer(self, desc: rtc.SessionDescription) -> None:
        if desc.type != "answer":
            raise ProtocolViolation("answer has the wrong type")
        _check_sdp(desc.sdp, "subscriber answer")
        async with self._sub_lock:
            if not self._sub_negotiating:
                log.info("ignoring unexpected answer from %s", self.identity)
                return
            if desc.id not in (0, self._sub_offer_id):
                log.info("ignoring answer for old offer %d from %s", desc.id, self.identity)
                return
            try:
                await self.subscriber.setRemoteDescription(
                    RTCSessionDescription(sdp=desc.sdp, type="answer"))
            except Exception as exc:
                raise ProtocolViolation(f"the subscriber answer could not be applied: {exc}") \
                    from exc
            await self._flush_candidates(1)
            for transceiver in list(self._retiring):
                if transceiver.currentDirection == "inactive":
                    self._retiring.remove(transceiver)
                    self._spare.append(transceiver)
            self.spawn(aiortc_ext.start_media_when_connected(self.subscriber))
            self._sub_negotiating = False
            again = self._sub_renegotiate
        if again:
            self.spawn(self.negotiate_subscriber())

    # -- data ----------------------------------------------------------------------------------
    async def _on_data(self, channel: RTCDataChannel, message: bytes | str) -> None:
        try:
            await data_relay.relay(self, channel.label, message)
        except data_relay.DataError as exc:
            await self.drop(str(exc), models.DisconnectReason.STATE_MISMATCH)

    def send_data(self, reliable: bool, payload: bytes) -> None:
        """Send to this participant; reliable packets sent while its channel is still opening
        (just after joining) wait for it, up to a bound, instead of being lost."""
        channel = self._reliable if reliable else self._lossy
        if channel is not None and channel.readyState == "open":
            channel.send(payload)
        elif reliable and not self._closed and len(self._pending_data) < MAX_PENDING_DATA:
            self._pending_data.append(payload)

    def _flush_pending_data(self) -> None:
        channel = self._reliable
        pending, self._pending_data = self._pending_data, []
        if channel is not None and channel.readyState == "open":
            for payload in pending:
                channel.send(payload)


def _check_sdp(sdp: str, what: str) -> None:
    """aiortc accepts almost any text as SDP; refuse what is not a session description."""
    lines = sdp.strip().splitlines()
    if not lines or lines[0].strip() != "v=0" or not any(ln.startswith("m=") for ln in lines):
        raise ProtocolViolation(f"the {what} is not a valid SDP session description")
    for line in lines:
        if len(line) < 2 or line[1] != "=":
            raise ProtocolViolation(f"the {what} has a malformed SDP line")


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _capabilities(text: str) -> list[int]:
    caps = []
    for name in text.split(","):
        name = name.strip()
        if name in models.ClientInfo.Capability.keys():
            caps.append(models.ClientInfo.Capability.Value(name))
    return caps


def _codec_preferences(kind: str, mime: str) -> list[RTCRtpCodecCapability]:
    caps = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [c for c in caps if c.mimeType.lower() == mime.lower()]
    if not chosen:
        return []
    if kind == "video":
        chosen += [c for c in caps if c.mimeType.lower() == "video/rtx"]
    return chosen


def _transceiver_mime(transceiver: RTCRtpTransceiver) -> str:
    for codec in transceiver._codecs:
        if codec.name.lower() != "rtx":
            return codec.mimeType.lower()
    return ""
