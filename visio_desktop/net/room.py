"""``Room``: one connection to a LiveKit server (Visio's or our embedded one), on aiortc.

Dual peer connection (protocol v0): the server offers on the *subscriber* connection, which
carries what others publish and the data we receive; we offer on the *publisher* connection,
which carries our tracks and the data we send. Events are emitted with ``room.on(name, fn)``;
a handler that raises is logged and never breaks the call.

Events: ``connection_state_changed(state)``, ``participant_connected(p)``,
``participant_disconnected(p)``, ``track_published(pub, p)``, ``track_unpublished(pub, p)``,
``track_subscribed(track, pub, p)``, ``track_unsubscribed(track, pub, p)``,
``track_muted(pub, p)``, ``track_unmuted(pub, p)``, ``active_speakers_changed(list)``,
``connection_quality_changed(p, quality)``, ``attributes_changed(changed, p)``,
``participant_metadata_changed(p, old, new)``, ``participant_name_changed(p, old, new)``,
``room_metadata_changed(old, new)``, ``chat_message(ChatMessage)``,
``caption_received(Caption)``, ``reaction_received(ReactionReceived)``,
``visio_notification(event)``, ``data_received(UserData)``, ``stream_received(event)``,
``rpc(event)``, ``data_error(DataError)``, ``reconnecting()``, ``reconnected()``,
``disconnected(reason)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.sdp import candidate_from_sdp
from livekit.protocol import models, rtc

from visio_desktop.net import aiortc_ext
from visio_desktop.net.data import (
    CaptionMode,
    CaptionReceived,
    ChatMessage,
    ChatReceived,
    DataError,
    DataMux,
    PacketSealer,
    ReactionReceived,
    RpcAck,
    RpcRequest,
    RpcResponse,
    StreamReceived,
    StreamSupport,
    UserData,
    build_chat,
    build_reaction,
    server_supports_data_streams,
    user_packet,
)
from visio_desktop.net.participant import (
    SOURCE_VALUES,
    LocalParticipant,
    LocalTrackPublication,
    RemoteParticipant,
    RemoteTrackPublication,
)
from visio_desktop.net.signal import SignalClient, SignalError

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0
NEGOTIATION_TIMEOUT_S = 15.0
PC_CONNECT_TIMEOUT_S = 15.0
RECONNECT_DELAYS_S = (0.3, 1.0, 2.0, 4.0, 8.0, 15.0)


class ConnectError(Exception):
    """Joining failed; the message is safe to show."""


class PublishError(Exception):
    """A track could not be published; the message is safe to show."""


class Room:
    def __init__(self) -> None:
        aiortc_ext.install()
        self.name = ""
        self.sid = ""
        self.metadata = ""
        self.server_version = ""
        self.connection_state = "disconnected"
        self.local_participant = LocalParticipant(sid="", identity="")
        self.remote_participants: dict[str, RemoteParticipant] = {}
        self.active_speakers: list[str] = []  # identities, loudest first
        self.reconnects = 0
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._signal: SignalClient | None = None
        self._publisher: RTCPeerConnection | None = None
        self._subscriber: RTCPeerConnection | None = None
        self._relay = MediaRelay()
        self._url = ""
        self._token = ""
        self._auto_subscribe = True
        self._join_timeout_s = 10.0
        self._pub_offer_id = 0
        self._pub_lock = asyncio.Lock()
        self._pub_answer: asyncio.Future[rtc.SessionDescription] | None = None
        self._pending_publish: dict[str, asyncio.Future[models.TrackInfo]] = {}
        self._candidates: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
        self._unresolved: dict[str, MediaStreamTrack] = {}  # remote track sid -> track
        self._channels: dict[str, RTCDataChannel] = {}
        self._sealer = PacketSealer()
        self.data = DataMux(track_owner=self._track_owner, caption_mode=CaptionMode.AUTO)
        self.chat_history: list[ChatMessage] = []  # kept across rejoins
        self.server_info: models.ServerInfo | None = None
        self._subscriber_connected = asyncio.Event()
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sid_to_identity: dict[str, str] = {}
        self._mid_tracks: dict[str | None, str] = {}  # subscriber m-line -> remote track sid

    # -- events --------------------------------------------------------------------------------
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """``room.on("track_subscribed", fn)`` or as a decorator."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._handlers.setdefault(event, []).append(fn)
            return fn
        return register(handler) if handler is not None else register

    def emit(self, event: str, *args: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            try:
                result = handler(*args)
                if asyncio.iscoroutine(result):
                    self._spawn(result)
            except Exception:
                log.exception("a %s handler failed", event)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("room task %s failed", t.get_coro().__qualname__,
                          exc_info=t.exception())
        task.add_done_callback(done)
        return task

    def _set_state(self, state: str) -> None:
        if state != self.connection_state:
            self.connection_state = state
            self.emit("connection_state_changed", state)

    # -- connect / disconnect ------------------------------------------------------------------
    async def connect(self, url: str, token: str, *, auto_subscribe: bool = True,
                      timeout_s: float = 10.0) -> None:
        self._url, self._token, self._auto_subscribe = url, token, auto_subscribe
        self._join_timeout_s = timeout_s
        self._closing = False
        self._set_state("connecting")
        try:
            await self._join()
        except BaseException:
            self._set_state("disconnected")
            raise
        self._set_state("connected")

    async def _join(self) -> None:
        signal = SignalClient(self._on_signal, self._on_signal_closed)
        try:
            join = await signal.connect(self._url, self._token,
                                        auto_subscribe=self._auto_subscribe,
                                        timeout_s=self._join_timeout_s)
        except SignalError as exc:
            raise ConnectError(str(exc)) from None
        self._signal = signal
        self._subscriber_connected = asyncio.Event()
        self._apply_join(join)
        config = RTCConfiguration(
            iceServers=[RTCIceServer(urls=list(s.urls), username=s.username or None,
                                     credential=s.credential or None) for s in join.ice_servers],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self._publisher = RTCPeerConnection(config)
        self._subscriber = RTCPeerConnection(config)
        self._setup_subscriber(self._subscriber)
        self._channels = {}
        self._sealer = PacketSealer()
        for label, options in (("_reliable", {"ordered": True}),
                               ("_lossy", {"ordered": False, "maxRetransmits": 0})):
            channel = self._publisher.createDataChannel(label, **options)
            self._channels[label] = channel
        try:
            await asyncio.wait_for(self._subscriber_connected.wait(), PC_CONNECT_TIMEOUT_S)
            await self._negotiate_publisher()
        except TimeoutError:
            await self._teardown(leave=True)
            raise ConnectError("the media connection to the server could not be set up") \
                from None

    async def disconnect(self) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        await self._teardown(leave=True)
        for pub in self.local_participant.track_publications.values():
            if pub.track is not None:
                pub.track.stop()
        self.local_participant.track_publications.clear()
        for task in list(self._tasks):
            task.cancel()
        self._set_state("disconnected")

    async def _teardown(self, leave: bool) -> None:
        signal, self._signal = self._signal, None
        if signal is not None:
            await signal.close(leave=leave)
        for pc in (self._publisher, self._subscriber):
            if pc is not None:
                # shielded: a cancelled close would cancel aiortc's shared "closed" future
                # and make its own close task fail (InvalidStateError)
                with contextlib.suppress(Exception):
                    await asyncio.shield(pc.close())
        self._publisher = self._subscriber = None
        for future in self._pending_publish.values():
            if not future.done():
                future.set_exception(PublishError("the connection closed"))
        self._pending_publish.clear()

    # -- reconnection --------------------------------------------------------------------------
    async def _on_signal_closed(self, reason: str) -> None:
        if self._closing or self._reconnect_task is not None:
            return
        log.warning("connection lost (%s); rejoining", reason)
        self._reconnect_task = self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        self._set_state("reconnecting")
        self.emit("reconnecting")
        await self._teardown(leave=False)
        for identity in list(self.remote_participants):
            self._remove_participant(identity, quietly=True)
        local = list(self.local_participant.track_publications.values())
        self.local_participant.track_publications.clear()
        try:
            for delay in RECONNECT_DELAYS_S:
                if self._closing:
                    return
                await asyncio.sleep(delay)
                try:
                    await self._join()
                except ConnectError as exc:
                    log.info("rejoin failed: %s", exc)
                    continue
                self.reconnects += 1
                for pub in local:
                    if pub.track is not None and pub.track.readyState == "live":
                        try:
                            await self.publish_track(pub.track, pub.source, pub.name)
                        except PublishError as exc:
                            log.warning("could not republish %s: %s", pub.source, exc)
                self._set_state("connected")
                self.emit("reconnected")
                return
            self._set_state("disconnected")
            self.emit("disconnected", "could not reconnect to the server")
        finally:
            self._reconnect_task = None

    # -- signalling ----------------------------------------------------------------------------
    def _apply_join(self, join: rtc.JoinResponse) -> None:
        self.name, self.sid, self.metadata = join.room.name, join.room.sid, join.room.metadata
        self.server_version = join.server_info.version or join.server_version
        self.server_info = join.server_info
        me = join.participant
        lp = self.local_participant
        lp.sid, lp.identity, lp.name = me.sid, me.identity, me.name
        lp.metadata, lp.attributes = me.metadata, dict(me.attributes)
        lp.permission = me.permission
        self._sid_to_identity = {me.sid: me.identity}
        for info in join.other_participants:
            self._upsert(info)

    async def _on_signal(self, response: rtc.SignalResponse) -> None:
        kind = response.WhichOneof("message")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            log.debug("ignoring %s", kind)
            return
        await handler(getattr(response, kind))

    async def _on_offer(self, desc: rtc.SessionDescription) -> None:
        pc = self._subscriber
        if pc is None:
            return
        await pc.setRemoteDescription(RTCSessionDescription(sdp=desc.sdp, type="offer"))
        self._map_received_tracks(pc, desc.sdp)
        await self._flush_candidates(1)
        await pc.setLocalDescription(await pc.createAnswer())
        assert self._signal is not None
        await self._signal.send(rtc.SignalRequest(answer=rtc.SessionDescription(
            type="answer", sdp=pc.localDescription.sdp, id=desc.id)))

    async def _on_answer(self, desc: rtc.SessionDescription) -> None:
        if self._pub_answer is not None and not self._pub_answer.done() and \
                desc.id in (0, self._pub_offer_id):
            self._pub_answer.set_result(desc)
        else:
            log.debug("ignoring answer %d (offer %d)", desc.id, self._pub_offer_id)

    async def _on_trickle(self, trickle: rtc.TrickleRequest) -> None:
        try:
            init = json.loads(trickle.candidateInit)
        except ValueError:
            log.info("ignoring a malformed ICE candidate from the server")
            return
        target = 1 if trickle.target == rtc.SignalTarget.SUBSCRIBER else 0
        pc = self._subscriber if target == 1 else self._publisher
        if pc is None:
            return
        if pc.remoteDescription is None:
            self._candidates[target].append(init)
        else:
            await self._add_candidate(pc, init)

    async def _add_candidate(self, pc: RTCPeerConnection, init: dict[str, Any]) -> None:
        text = init.get("candidate") if isinstance(init, dict) else None
        if not text or not isinstance(text, str):
            return
        try:
            candidate = candidate_from_sdp(text.removeprefix("candidate:"))
        except (ValueError, IndexError):
            return
        candidate.sdpMid = init.get("sdpMid")
        candidate.sdpMLineIndex = init.get("sdpMLineIndex")
        with contextlib.suppress(Exception):
            await pc.addIceCandidate(candidate)

    async def _flush_candidates(self, target: int) -> None:
        pc = self._subscriber if target == 1 else self._publisher
        queued, self._candidates[target] = self._candidates[target], []
        if pc is not None:
            for init in queued:
                await self._add_candidate(pc, init)

    async def _on_update(self, update: rtc.ParticipantUpdate) -> None:
        for info in update.participants:
            if info.identity == self.local_participant.identity:
                self._update_local(info)
                continue
            if info.state == models.ParticipantInfo.State.DISCONNECTED:
                self._remove_participant(info.identity)
            else:
                self._upsert(info)

    def _update_local(self, info: models.ParticipantInfo) -> None:
        local = self.local_participant
        permission_changed = local.permission != info.permission
        local.permission = info.permission
        old_name = local.name
        changed = {k: v for k, v in info.attributes.items() if local.attributes.get(k) != v}
        changed.update({k: "" for k in local.attributes if k not in info.attributes})
        local.name, local.metadata = info.name, info.metadata
        local.attributes = dict(info.attributes)
        if old_name != local.name:
            self.emit("participant_name_changed", local, old_name, local.name)
        if changed:
            self.emit("attributes_changed", changed, local)
        if permission_changed:
            self.emit("local_permissions_changed", local.permission)

    async def _on_track_published(self, published: rtc.TrackPublishedResponse) -> None:
        future = self._pending_publish.get(published.cid)
        if future is not None and not future.done():
            future.set_result(published.track)

    async def _on_request_response(self, response: rtc.RequestResponse) -> None:
        if response.reason != rtc.RequestResponse.Reason.OK:
            log.info("the server refused a request: %s", response.message)
        if response.reason == rtc.RequestResponse.Reason.NOT_ALLOWED:
            for future in self._pending_publish.values():
                if not future.done():
                    future.set_exception(PublishError(response.message or "not allowed"))

    async def _on_mute(self, mute: rtc.MuteTrackRequest) -> None:
        pub = self.local_participant.track_publications.get(mute.sid)
        if pub is not None:
            await self.set_muted(pub.sid, mute.muted)
            self.emit("track_muted" if mute.muted else "track_unmuted", pub,
                      self.local_participant)

    async def _on_leave(self, leave: rtc.LeaveRequest) -> None:
        if leave.action == rtc.LeaveRequest.Action.DISCONNECT:
            self._closing = True
            await self._teardown(leave=False)
            self._set_state("disconnected")
            self.emit("disconnected", models.DisconnectReason.Name(leave.reason))
        else:
            await self._on_signal_closed("the server asked us to reconnect")

    async def _on_speakers_changed(self, changed: rtc.SpeakersChanged) -> None:
        levels = {i: 0.0 for i in self.active_speakers}
        for speaker in changed.speakers:
            identity = self._sid_to_identity.get(speaker.sid)
            if identity is None:
                continue
            if speaker.active:
                levels[identity] = speaker.level
            else:
                levels.pop(identity, None)
        self.active_speakers = sorted(levels, key=lambda i: -levels[i])
        for identity, participant in [*self.remote_participants.items(),
                                      (self.local_participant.identity, self.local_participant)]:
            participant.is_speaking = identity in levels
            participant.audio_level = levels.get(identity, 0.0)
        self.emit("active_speakers_changed", list(self.active_speakers))

    async def _on_connection_quality(self, update: rtc.ConnectionQualityUpdate) -> None:
        for info in update.updates:
            identity = self._sid_to_identity.get(info.participant_sid)
            participant = self.remote_participants.get(identity or "") or (
                self.local_participant if identity == self.local_participant.identity else None)
            if participant is not None and participant.connection_quality != info.quality:
                participant.connection_quality = info.quality
                self.emit("connection_quality_changed", participant, info.quality)

    async def _on_room_update(self, update: rtc.RoomUpdate) -> None:
        if update.room.metadata != self.metadata:
            old, self.metadata = self.metadata, update.room.metadata
            self.emit("room_metadata_changed", old, self.metadata)

    # -- participants --------------------------------------------------------------------------
    def _upsert(self, info: models.ParticipantInfo) -> None:
        participant = self.remote_participants.get(info.identity)
        new = participant is None or participant.sid != info.sid
        if new:
            if participant is not None:
                self._remove_participant(info.identity)
            participant = RemoteParticipant(sid=info.sid, identity=info.identity)
            self.remote_participants[info.identity] = participant
        assert participant is not None
        if not new and info.version and info.version < participant.version:
            return  # an older view of this participant
        participant.version = info.version
        self._sid_to_identity[info.sid] = info.identity
        old_name, old_metadata = participant.name, participant.metadata
        changed = {k: v for k, v in info.attributes.items()
                   if participant.attributes.get(k) != v}
        changed.update({k: "" for k in participant.attributes if k not in info.attributes})
        participant.name, participant.metadata = info.name, info.metadata
        participant.attributes = dict(info.attributes)
        participant.kind, participant.permission = info.kind, info.permission
        participant.client_protocol = info.client_protocol
        participant.capabilities = list(info.capabilities)
        if new:
            self.emit("participant_connected", participant)
        else:
            if old_name != participant.name:
                self.emit("participant_name_changed", participant, old_name, participant.name)
            if old_metadata != participant.metadata:
                self.emit("participant_metadata_changed", participant, old_metadata,
                          participant.metadata)
            if changed:
                self.emit("attributes_changed", changed, participant)
        seen = set()
        for track in info.tracks:
            if track.type not in (models.TrackType.AUDIO, models.TrackType.VIDEO):
                continue
            seen.add(track.sid)
            pub = participant.track_publications.get(track.sid)
            if pub is None:
                pub = RemoteTrackPublication(sid=track.sid, kind="", source="",
                                             participant_identity=info.identity)
                pub.update(track)
                participant.track_publications[track.sid] = pub
                self.emit("track_published", pub, participant)
                pending = self._unresolved.pop(track.sid, None)
                if pending is not None:
                    self._subscribed(pending, pub, participant)
            else:
                was_muted = pub.muted
                pub.update(track)
                if pub.muted != was_muted:
                    self.emit("track_muted" if pub.muted else "track_unmuted", pub, participant)
        for sid in [s for s in participant.track_publications if s not in seen]:
            self._unpublished(participant, participant.track_publications.pop(sid))

    def _remove_participant(self, identity: str, quietly: bool = False) -> None:
        participant = self.remote_participants.pop(identity, None)
        if participant is None:
            return
        for pub in list(participant.track_publications.values()):
            self._unpublished(participant, pub, quietly)
        participant.track_publications.clear()
        if identity in self.active_speakers:
            self.active_speakers.remove(identity)
        self._dispatch_data(self.data.participant_left(identity))
        if not quietly:
            self.emit("participant_disconnected", participant)

    def _unpublished(self, participant: RemoteParticipant, pub: RemoteTrackPublication,
                     quietly: bool = False) -> None:
        if pub.track is not None:
            track, pub.track, pub.subscribed = pub.track, None, False
            if not quietly:
                self.emit("track_unsubscribed", track, pub, participant)
        if not quietly:
            self.emit("track_unpublished", pub, participant)

    def _find_publication(self, track_sid: str) -> tuple[RemoteTrackPublication,
                                                         RemoteParticipant] | None:
        for participant in self.remote_participants.values():
            pub = participant.track_publications.get(track_sid)
            if pub is not None:
                return pub, participant
        return None

    def _subscribed(self, track: MediaStreamTrack, pub: RemoteTrackPublication,
                    participant: RemoteParticipant) -> None:
        pub.track, pub.subscribed = track, True
        self.emit("track_subscribed", track, pub, participant)

    # -- subscriber connection -----------------------------------------------------------------
    def _map_received_tracks(self, pc: RTCPeerConnection, offer_sdp: str) -> None:
        """Which remote track each receiving m-line now carries, from the offer's msid.

        Servers reuse an m-line for another track after an unsubscribe (LiveKit does); aiortc
        keeps the receiver's track object and fires no new track event, so the mapping comes
        from the SDP, by MID, on every offer."""
        by_mid = aiortc_ext.sending_media(offer_sdp)
        for transceiver in pc.getTransceivers():
            track = transceiver.receiver.track
            sid = by_mid.get(transceiver.mid or "")
            if track is None or not sid or self._mid_tracks.get(transceiver.mid) == sid:
                continue
            self._mid_tracks[transceiver.mid] = sid
            found = self._find_publication(sid)
            if found is None:
                self._unresolved[sid] = track  # its update comes later
            elif found[0].track is not track:
                self._subscribed(track, *found)

    def _setup_subscriber(self, pc: RTCPeerConnection) -> None:
        self._mid_tracks = {}

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def on_message(message: bytes | str) -> None:
                self._on_data(message, channel.label)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected":
                self._subscriber_connected.set()
            elif pc.connectionState == "failed" and pc is self._subscriber:
                self._spawn(self._on_signal_closed("the media connection failed"))

    def _on_data(self, message: bytes | str, label: str) -> None:
        self._dispatch_data(self.data.feed(message, label))

    def _dispatch_data(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, ChatReceived):
                self._remember_chat(event.message)
                self.emit("chat_message", event.message)
            elif isinstance(event, CaptionReceived):
                self.emit("caption_received", event.caption)
            elif isinstance(event, ReactionReceived):
                self.emit("reaction_received", event)
            elif isinstance(event, UserData):
                self.emit("data_received", event)
            elif isinstance(event, StreamReceived):
                self.emit("stream_received", event)
            elif isinstance(event, RpcRequest | RpcResponse | RpcAck):
                self.emit("rpc", event)
            elif isinstance(event, DataError):
                self.emit("data_error", event)
            else:  # Visio notifications: muted by someone, permissions, recording, lobby, …
                self.emit("visio_notification", event)

    def _remember_chat(self, message: ChatMessage) -> None:
        for i, known in enumerate(self.chat_history):
            if known.id == message.id:
                self.chat_history[i] = message  # an edit
                return
        self.chat_history.append(message)

    def _track_owner(self, track_sid: str) -> str | None:
        found = self._find_publication(track_sid)
        if found is not None:
            return found[1].identity
        if track_sid in self.local_participant.track_publications:
            return self.local_participant.identity
        return None

    # -- publishing ----------------------------------------------------------------------------
    async def _negotiate_publisher(self) -> None:
        async with self._pub_lock:
            pc, signal = self._publisher, self._signal
            if pc is None or signal is None:
                raise PublishError("not connected")
            await pc.setLocalDescription(await pc.createOffer())
            self._pub_offer_id += 1
            self._pub_answer = asyncio.get_running_loop().create_future()
            await signal.send(rtc.SignalRequest(offer=rtc.SessionDescription(
                type="offer", sdp=pc.localDescription.sdp, id=self._pub_offer_id)))
            try:
                answer = await asyncio.wait_for(self._pub_answer, NEGOTIATION_TIMEOUT_S)
            except TimeoutError:
                raise PublishError("the server did not answer our offer") from None
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
            await self._flush_candidates(0)
            await aiortc_ext.start_media_when_connected(pc)

    async def publish_track(self, track: MediaStreamTrack, source: str = "", name: str = "",
                            *, video_codec: str = "VP8") -> LocalTrackPublication:
        """Publish ``track`` (kept by the room, so it survives a reconnection) as ``source``."""
        pc, signal = self._publisher, self._signal
        if pc is None or signal is None:
            raise PublishError("not connected")
        source = source or ("microphone" if track.kind == "audio" else "camera")
        if source not in SOURCE_VALUES:
            raise PublishError(f"unknown track source {source!r}")
        sender_track = self._relay.subscribe(track, buffered=False)
        cid = sender_track.id
        request = rtc.AddTrackRequest(
            cid=cid, name=name or source,
            type=models.TrackType.AUDIO if track.kind == "audio" else models.TrackType.VIDEO,
            source=SOURCE_VALUES[source],
            width=int(getattr(track, "width", 0) or 0),
            height=int(getattr(track, "height", 0) or 0),
            stream="screen" if source.startswith("screen") else "camera",
        )
        future: asyncio.Future[models.TrackInfo] = asyncio.get_running_loop().create_future()
        self._pending_publish[cid] = future
        try:
            await signal.send(rtc.SignalRequest(add_track=request))
            info = await asyncio.wait_for(future, PUBLISH_TIMEOUT_S)
        except TimeoutError:
            sender_track.stop()
            raise PublishError("the server did not accept the track in time") from None
        except PublishError:
            sender_track.stop()
            raise
        finally:
            self._pending_publish.pop(cid, None)
        transceiver = pc.addTransceiver(sender_track, direction="sendonly")
        if track.kind == "video":
            caps = RTCRtpSender.getCapabilities("video").codecs
            prefs = [c for c in caps if c.mimeType.lower() == f"video/{video_codec.lower()}"]
            prefs += [c for c in caps if c.mimeType.lower() == "video/rtx"]
            transceiver.setCodecPreferences(prefs)
        pub = LocalTrackPublication(sid=info.sid, kind=track.kind, source=source,
                                    name=request.name, track=track, transceiver=transceiver,
                                    cid=cid)
        pub.update(info)
        self.local_participant.track_publications[pub.sid] = pub
        await self._negotiate_publisher()
        return pub

    async def unpublish_track(self, track_sid: str) -> None:
        pub = self.local_participant.track_publications.pop(track_sid, None)
        if pub is None or pub.transceiver is None:
            return
        pub.transceiver.direction = "inactive"
        sender_track = pub.transceiver.sender.track
        await pub.transceiver.sender.stop()
        if sender_track is not None:
            sender_track.stop()
        if self._publisher is not None:
            await self._negotiate_publisher()

    async def set_muted(self, track_sid: str, muted: bool) -> None:
        pub = self.local_participant.track_publications.get(track_sid)
        if pub is None:
            raise KeyError(track_sid)
        pub.muted = muted
        if pub.transceiver is not None:
            pub.transceiver.sender._enabled = not muted  # nothing is sent while muted
        if self._signal is not None:
            await self._signal.send(rtc.SignalRequest(mute=rtc.MuteTrackRequest(
                sid=track_sid, muted=muted)))

    def set_subscribed(self, track_sid: str, subscribed: bool) -> None:
        """Subscribe to a remote track, or stop receiving it (a tile nobody can see)."""
        found = self._find_publication(track_sid)
        if found is None:
            raise KeyError(track_sid)
        pub, participant = found
        if not subscribed and pub.track is not None:
            track, pub.track, pub.subscribed = pub.track, None, False
            self._unresolved.pop(track_sid, None)
            for mid in [m for m, sid in self._mid_tracks.items() if sid == track_sid]:
                del self._mid_tracks[mid]  # a later offer that carries it again re-subscribes
            self.emit("track_unsubscribed", track, pub, participant)
        if self._signal is not None:
            self._spawn(self._signal.send(rtc.SignalRequest(subscription=rtc.UpdateSubscription(
                track_sids=[track_sid], subscribe=subscribed,
                participant_tracks=[models.ParticipantTracks(participant_sid=participant.sid,
                                                          track_sids=[track_sid])]))))

    def set_video_settings(self, track_sid: str, *, width: int = 0, height: int = 0,
                           disabled: bool = False) -> None:
        """Ask for a size (or nothing, for a hidden tile) of a remote video track."""
        if self._signal is not None:
            self._spawn(self._signal.send(rtc.SignalRequest(track_setting=rtc.UpdateTrackSettings(
                track_sids=[track_sid], disabled=disabled, width=width, height=height))))

    def peer_connections(self) -> dict[str, RTCPeerConnection]:
        """The live peer connections by role ("publisher", "subscriber"), for statistics."""
        pcs = {"publisher": self._publisher, "subscriber": self._subscriber}
        return {role: pc for role, pc in pcs.items() if pc is not None}

    async def update_metadata(self, *, name: str | None = None,
                              attributes: dict[str, str] | None = None,
                              metadata: str | None = None) -> None:
        """Change our own name, attributes (merged; "" removes a key) or metadata. Needs the
        ``canUpdateOwnMetadata`` grant; the server's ParticipantUpdate confirms it."""
        if self._signal is None:
            raise ConnectionError("not connected")
        await self._signal.send(rtc.SignalRequest(update_metadata=rtc.UpdateParticipantMetadata(
            name=name if name is not None else self.local_participant.name,
            metadata=metadata if metadata is not None else self.local_participant.metadata,
            attributes=attributes or {})))

    # -- data ----------------------------------------------------------------------------------
    def send_data_packet(self, packet: models.DataPacket, reliable: bool = True) -> None:
        """Send one DataPacket (numbered on the reliable channel; size checked)."""
        channel = self._channels.get("_reliable" if reliable else "_lossy")
        if channel is None or channel.readyState != "open":
            raise ConnectionError("the data channel is not open")
        channel.send(self._sealer.seal(packet, reliable=reliable))

    async def publish_data(self, payload: bytes, *, topic: str = "", reliable: bool = True,
                           destination_identities: list[str] | None = None) -> None:
        await self.wait_data_ready()
        self.send_data_packet(user_packet(payload, topic=topic or None,
                                          destination_identities=destination_identities or ()),
                              reliable)

    def _stream_support(self, destinations: list[str] | None) -> StreamSupport:
        infos = [models.ParticipantInfo(identity=p.identity, client_protocol=p.client_protocol,
                                        capabilities=p.capabilities)
                 for p in self.remote_participants.values()]
        return StreamSupport.for_send(infos, destinations or ())

    async def send_chat(self, text: str, *,
                        destination_identities: list[str] | None = None) -> ChatMessage:
        """Send a chat message as the Visio web app does (``lk.chat`` stream + legacy copy).
        Raises ``ChatTooLong``/``ValueError`` for text Visio refuses."""
        outgoing = build_chat(
            text, sender_identity=self.local_participant.identity,
            support=self._stream_support(destination_identities),
            streams_supported_by_server=server_supports_data_streams(self.server_info),
            destination_identities=destination_identities or ())
        await self.wait_data_ready()
        for packet in outgoing.packets:
            self.send_data_packet(packet)
        self._remember_chat(outgoing.message)
        return outgoing.message

    async def send_reaction(self, emoji: str) -> None:
        """One of Visio's 8 reactions, to everyone (``ValueError`` for any other emoji)."""
        packet = build_reaction(emoji)
        await self.wait_data_ready()
        self.send_data_packet(packet)

    async def wait_data_ready(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            channel = self._channels.get("_reliable")
            if channel is not None and channel.readyState == "open":
                return
            if time.monotonic() > deadline:
                raise ConnectionError("the data channel did not open")
            await asyncio.sleep(0.05)
