"""One entry point for everything that arrives on the data channels: :class:`DataMux`.

``DataMux.feed(raw, channel_label)`` parses a ``DataPacket`` and returns typed events; it
never raises on bad input (a malformed packet gives one :class:`DataError`, logged once per
sender and kind). Dispatch:

==========================================  =================================================
user packet, topic ``lk-chat-topic``        :class:`ChatReceived` (legacy chat; see chat.py)
user packet, Visio JSON notification        ``ReactionReceived``, ``ParticipantMuted``, …
                                            (visio.py); a known type with bad data is dropped
other user packets                          :class:`UserData`
``chat_message``                            :class:`ChatReceived`
``transcription``                           :class:`CaptionReceived` (mode LEGACY/BOTH)
text stream ``lk.chat``                     :class:`ChatReceived`
text stream ``lk.transcription``            :class:`CaptionReceived` (mode STREAM/BOTH)
text stream ``lk.rpc_request`` / response   :class:`RpcRequest` / :class:`RpcResponse` (v2)
any other stream (and byte streams)         :class:`StreamReceived`
``rpc_request`` / ``rpc_response`` / ack    :class:`RpcRequest` / :class:`RpcResponse` /
                                            :class:`RpcAck` (v1, passed through)
``sip_dtmf``                                :class:`DtmfReceived`
a stream that fails                         :class:`DataError` (``.stream`` has the details)
==========================================  =================================================

Reliable packets repeated with a ``sequence`` at or below the last one seen from the same
``participant_sid`` (within 30 s) are dropped, as livekit-client does; :meth:`receive_states`
gives the last sequences for a resume's ``SyncState``. The channel label decides reliability;
the packet's deprecated ``kind`` is ignored (the official SDK sets it wrong).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from livekit.protocol import models

from visio_desktop.net.data.captions import (
    TRANSCRIPTION_TOPIC,
    Caption,
    CaptionMode,
    CaptionTracker,
    TrackOwner,
)
from visio_desktop.net.data.chat import (
    CHAT_TOPIC,
    LEGACY_CHAT_TOPIC,
    ChatError,
    ChatMessage,
    ChatReceiver,
)
from visio_desktop.net.data.packets import DATA_TRACK_LABEL, is_reliable_label
from visio_desktop.net.data.streams import (
    ByteStream,
    StreamAssembler,
    StreamFailed,
    StreamInfo,
    StreamResult,
    TextStream,
)
from visio_desktop.net.data.visio import (
    Ignored,
    OtherNotification,
    ParticipantMuted,
    ParticipantWaiting,
    PermissionsRemoved,
    ReactionReceived,
    RecordingNotification,
    parse_notification,
)

log = logging.getLogger(__name__)

RPC_REQUEST_TOPIC = "lk.rpc_request"
RPC_RESPONSE_TOPIC = "lk.rpc_response"
ATTR_RPC_REQUEST_ID = "lk.rpc_request_id"
ATTR_RPC_METHOD = "lk.rpc_request_method"
ATTR_RPC_TIMEOUT_MS = "lk.rpc_request_response_timeout_ms"
ATTR_RPC_VERSION = "lk.rpc_request_version"
RPC_DEFAULT_TIMEOUT_MS = 15_000
SEQUENCE_STATE_TTL_S = 30.0
_MAX_WARNED = 1024


@dataclass(frozen=True)
class UserData:
    sender_identity: str
    topic: str  # "" when the packet has none
    payload: bytes
    reliable: bool
    destination_identities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatReceived:
    message: ChatMessage


@dataclass(frozen=True)
class CaptionReceived:
    caption: Caption


@dataclass(frozen=True)
class StreamReceived:
    info: StreamInfo
    content: str | bytes

    @property
    def sender_identity(self) -> str:
        return self.info.sender_identity


@dataclass(frozen=True)
class RpcErrorInfo:
    code: int
    message: str
    data: str = ""


@dataclass(frozen=True)
class RpcRequest:
    sender_identity: str
    request_id: str
    method: str
    payload: str
    response_timeout_ms: int
    version: int
    compressed_payload: bytes = b""


@dataclass(frozen=True)
class RpcResponse:
    sender_identity: str
    request_id: str
    payload: str | None
    error: RpcErrorInfo | None = None
    compressed_payload: bytes = b""


@dataclass(frozen=True)
class RpcAck:
    sender_identity: str
    request_id: str


@dataclass(frozen=True)
class DtmfReceived:
    sender_identity: str
    code: int
    digit: str


@dataclass(frozen=True)
class DataError:
    sender_identity: str
    kind: str  # "malformed", "unsupported", "chat", "stream_<StreamErrorKind>", …
    detail: str
    topic: str = ""
    stream: StreamFailed | None = None


DataEvent = (UserData | ChatReceived | CaptionReceived | StreamReceived | RpcRequest
             | RpcResponse | RpcAck | DtmfReceived | DataError | ReactionReceived
             | ParticipantMuted | PermissionsRemoved | RecordingNotification
             | ParticipantWaiting | OtherNotification)


class DataMux:
    """Parses incoming data-channel messages into :data:`DataEvent`s (see the module doc)."""

    def __init__(self, *, caption_mode: CaptionMode = CaptionMode.STREAM,
                 track_owner: TrackOwner | None = None,
                 assembler: StreamAssembler | None = None, chat: ChatReceiver | None = None,
                 captions: CaptionTracker | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.assembler = assembler or StreamAssembler(clock=clock)
        self.chat = chat or ChatReceiver()
        self.captions = captions or CaptionTracker(mode=caption_mode, track_owner=track_owner,
                                                   clock=clock)
        self._sequences: dict[str, tuple[int, float]] = {}  # participant sid -> (seq, when)
        self._warned: set[tuple[str, str]] = set()

    # ---- entry points

    def feed(self, raw: bytes | str, channel_label: str,
             now: float | None = None) -> list[DataEvent]:
        now = self._clock() if now is None else now
        if channel_label == DATA_TRACK_LABEL:
            return []  # data-track frames are not DataPackets
        if not isinstance(raw, bytes | bytearray | memoryview):
            return [self._error("", "malformed", "text message on a data channel (must be "
                                "binary)")]
        packet = models.DataPacket()
        try:
            packet.ParseFromString(bytes(raw))
        except DecodeError as exc:
            return [self._error("", "malformed", f"not a DataPacket ({len(raw)} bytes): {exc}")]
        return self.feed_packet(packet, channel_label, now)

    def feed_packet(self, packet: models.DataPacket, channel_label: str,
                    now: float | None = None) -> list[DataEvent]:
        now = self._clock() if now is None else now
        reliable = is_reliable_label(channel_label)
        if reliable and self._is_replay(packet, now):
            return []
        sender = packet.participant_identity
        which = packet.WhichOneof("value")
        events = self._stream_events(self.assembler.expire(now), now)
        if which == "user":
            events.extend(self._on_user(packet, sender or packet.user.participant_identity,
                                        reliable))
        elif which in ("stream_header", "stream_chunk", "stream_trailer"):
            events.extend(self._stream_events(self.assembler.feed(packet, sender, now), now))
        elif which == "chat_message":
            message = self.chat.from_chat_message(packet.chat_message, sender)
            if message is not None:
                events.append(ChatReceived(message))
        elif which == "transcription":
            events.extend(CaptionReceived(c)
                          for c in self.captions.from_legacy(packet.transcription, sender, now))
        elif which == "rpc_request":
            events.append(_rpc_request_v1(packet.rpc_request, sender))
        elif which == "rpc_response":
            events.append(_rpc_response_v1(packet.rpc_response, sender))
        elif which == "rpc_ack":
            events.append(RpcAck(sender, packet.rpc_ack.request_id))
        elif which == "sip_dtmf":
            events.append(DtmfReceived(sender, packet.sip_dtmf.code, packet.sip_dtmf.digit))
        elif which == "encrypted_packet":
            events.append(self._error(sender, "unsupported",
                                      "encrypted data packet (E2EE is not supported)"))
        elif which in ("metrics", "speaker"):
            pass
        else:
            events.append(self._error(sender, "malformed",
                                      f"DataPacket with no content we know ({which})"))
        return events

    def tick(self, now: float | None = None) -> list[DataEvent]:
        """Expire stale streams; call every few seconds."""
        now = self._clock() if now is None else now
        for sid in [s for s, (_, t) in self._sequences.items()
                    if now - t >= SEQUENCE_STATE_TTL_S]:
            del self._sequences[sid]
        return self._stream_events(self.assembler.expire(now), now)

    def participant_left(self, identity: str) -> list[DataEvent]:
        """Abort the unfinished streams of a participant that left (one DataError each)."""
        return self._stream_events(self.assembler.participant_left(identity))

    def reset(self) -> list[DataEvent]:
        """Our own disconnect: abort unfinished streams, forget sequences."""
        self._sequences.clear()
        return self._stream_events(self.assembler.reset())

    def receive_states(self) -> dict[str, int]:
        """Last reliable sequence per publisher sid (``SyncState.datachannel_receive_states``)."""
        return {sid: seq for sid, (seq, _) in self._sequences.items()}

    # ---- dispatch

    def _is_replay(self, packet: models.DataPacket, now: float) -> bool:
        sid, seq = packet.participant_sid, packet.sequence
        if not sid or not seq:
            return False
        last = self._sequences.get(sid)
        if last is not None and now - last[1] < SEQUENCE_STATE_TTL_S and seq <= last[0]:
            log.debug("dropping replayed reliable packet %d from %s", seq, sid)
            return True
        self._sequences[sid] = (seq, now)
        return False

    def _on_user(self, packet: models.DataPacket, sender: str,
                 reliable: bool) -> list[DataEvent]:
        user = packet.user
        payload = bytes(user.payload)
        topic = user.topic
        if topic == LEGACY_CHAT_TOPIC:
            result = self.chat.from_legacy(payload, sender)
            if isinstance(result, ChatError):
                return [self._error(sender, "chat", result.reason, topic)]
            return [ChatReceived(result)] if result is not None else []
        event = parse_notification(payload, sender)
        if isinstance(event, Ignored):
            if event.notification_type is not None:
                log.debug("Visio notification from %s dropped: %s", sender, event.reason)
                return []
            destinations = tuple(packet.destination_identities or user.destination_identities)
            return [UserData(sender, topic, payload, reliable, destinations)]
        return [event]

    def _stream_events(self, results: Iterable[StreamResult],
                       now: float | None = None) -> list[DataEvent]:
        events: list[DataEvent] = []
        for result in results:
            if isinstance(result, StreamFailed):
                events.append(self._error(
                    result.sender_identity, f"stream_{result.kind}",
                    f"stream {result.stream_id}: {result.detail}", result.topic, result))
            elif isinstance(result, ByteStream):
                events.append(StreamReceived(result.info, result.data))
            else:
                event = self._text_stream_event(result, now)
                if event is not None:
                    events.append(event)
        return events

    def _text_stream_event(self, stream: TextStream, now: float | None) -> DataEvent | None:
        info = stream.info
        if info.topic == CHAT_TOPIC:
            message = self.chat.from_stream(stream)
            return ChatReceived(message) if message is not None else None
        if info.topic == TRANSCRIPTION_TOPIC:
            caption = self.captions.from_stream(stream, now)
            return CaptionReceived(caption) if caption is not None else None
        if info.topic == RPC_REQUEST_TOPIC:
            return self._rpc_request_v2(stream)
        if info.topic == RPC_RESPONSE_TOPIC:
            request_id = info.attributes.get(ATTR_RPC_REQUEST_ID, "")
            if not request_id:
                return self._error(info.sender_identity, "rpc", "RPC response stream without "
                                   f"{ATTR_RPC_REQUEST_ID}", info.topic)
            return RpcResponse(info.sender_identity, request_id, stream.text)
        return StreamReceived(info, stream.text)

    def _rpc_request_v2(self, stream: TextStream) -> DataEvent:
        info = stream.info
        attrs = info.attributes
        request_id = attrs.get(ATTR_RPC_REQUEST_ID, "")
        if not request_id:
            return self._error(info.sender_identity, "rpc",
                               f"RPC request stream without {ATTR_RPC_REQUEST_ID}", info.topic)
        return RpcRequest(info.sender_identity, request_id, attrs.get(ATTR_RPC_METHOD, ""),
                          stream.text,
                          _int(attrs.get(ATTR_RPC_TIMEOUT_MS), RPC_DEFAULT_TIMEOUT_MS),
                          _int(attrs.get(ATTR_RPC_VERSION), 2))

    def _error(self, sender: str, kind: str, detail: str, topic: str = "",
               stream: StreamFailed | None = None) -> DataError:
        key = (sender, kind)
        if key not in self._warned:
            if len(self._warned) >= _MAX_WARNED:
                self._warned.clear()
            self._warned.add(key)
            log.warning("data from %s: %s (%s)%s", sender or "?", detail, kind,
                        " — further ones logged at debug level" if sender else "")
        else:
            log.debug("data from %s: %s (%s)", sender or "?", detail, kind)
        return DataError(sender, kind, detail, topic, stream)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _rpc_request_v1(request: models.RpcRequest, sender: str) -> RpcRequest:
    return RpcRequest(sender, request.id, request.method, request.payload,
                      request.response_timeout_ms, request.version,
                      bytes(request.compressed_payload))


def _rpc_response_v1(response: models.RpcResponse, sender: str) -> RpcResponse:
    which = response.WhichOneof("value")
    error = None
    if which == "error":
        error = RpcErrorInfo(response.error.code, response.error.message, response.error.data)
    return RpcResponse(sender, response.request_id,
                       response.payload if which == "payload" else None, error,
                       bytes(response.compressed_payload))
