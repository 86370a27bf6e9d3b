"""In-call chat, in the three formats LiveKit clients use (livekit-protocol.md §3.4,
visio-meet-api.md §5.4).

1. ``lk.chat`` text streams: the current format, and the one Visio sends and reads. The
   message id is the stream id, the timestamp the header's; an ``UPDATE`` operation (or a
   second stream with an id already seen from that sender) is an edit of that message.
2. the legacy components-js packet: a user packet on topic ``lk-chat-topic`` carrying JSON
   ``{"id", "timestamp", "message", "ignoreLegacy"}``. Receivers drop it when
   ``ignoreLegacy`` is true (the stream copy carries the chat); when it is false it is
   deduplicated against the stream copy by ``(sender, id)``.
3. ``DataPacket.chat_message`` (``sendChatMessage`` / ``editChatMessage`` in JS).

Sending, as the Visio web app (components-core ``setupChat``) does: the text on an
``lk.chat`` text stream, then the legacy copy with the stream's id and
``ignoreLegacy = server supports data streams`` (LiveKit Cloud, or a server version above
1.8.2). Messages are limited to 2000 characters, counted as the web textarea counts them
(UTF-16 code units).

Incoming size (our choice): text longer than ``max_chars`` (2000 by default, Visio's own
limit) is **truncated** to that many characters and flagged ``truncated=True``, rather than
rejected: a longer message can only come from a non-Visio client, and showing its start
beats dropping it. Larger payloads are already refused by the stream assembler (1 MiB).
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from livekit.protocol import models

from visio_desktop.net.data.packets import user_packet
from visio_desktop.net.data.streams import (
    LEGACY_RECIPIENTS,
    OP_CREATE,
    OP_DELETE,
    OP_REACTION,
    OP_UPDATE,
    StreamSupport,
    TextStream,
    TextStreamWriter,
    now_ms,
)

log = logging.getLogger(__name__)

CHAT_TOPIC = "lk.chat"
LEGACY_CHAT_TOPIC = "lk-chat-topic"
MAX_CHAT_CHARS = 2000
_REMEMBERED_IDS = 2000


class ChatSource(StrEnum):
    STREAM = "stream"
    LEGACY = "legacy"
    CHAT_MESSAGE = "chat_message"


@dataclass(frozen=True)
class ChatMessage:
    id: str
    sender_identity: str
    text: str
    timestamp_ms: int
    edited: bool = False
    source: ChatSource = ChatSource.STREAM
    deleted: bool = False
    truncated: bool = False
    reply_to: str = ""
    generated: bool = False


@dataclass(frozen=True)
class ChatError:
    sender_identity: str
    source: ChatSource
    reason: str


class ChatTooLong(ValueError):
    def __init__(self, length: int, limit: int = MAX_CHAT_CHARS) -> None:
        super().__init__(f"chat message is {length} characters long; the limit is {limit}")
        self.length = length
        self.limit = limit


def chat_length(text: str) -> int:
    """Length as a browser textarea counts it (UTF-16 code units: an emoji may count 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def truncate_chars(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 code units of ``text``, never splitting a character."""
    if chat_length(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > limit:
            break
        out.append(ch)
        used += size
    return "".join(out)


def server_supports_data_streams(server_info: models.ServerInfo | None) -> bool:
    """``serverInfo.edition == Cloud`` or ``version > 1.8.2`` (components-core's rule)."""
    if server_info is None:
        return False
    if server_info.edition == models.ServerInfo.Edition.Cloud:
        return True
    return _version_tuple(server_info.version) > (1, 8, 2)


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.strip().lstrip("vV").split("-")[0].split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


# --------------------------------------------------------------------------- outgoing


@dataclass(frozen=True)
class OutgoingChat:
    """What to send for one chat message, in order: the stream packets, then the legacy one."""

    message: ChatMessage
    stream_packets: list[models.DataPacket]
    legacy_packet: models.DataPacket | None

    @property
    def packets(self) -> list[models.DataPacket]:
        tail = [self.legacy_packet] if self.legacy_packet is not None else []
        return [*self.stream_packets, *tail]


def validate_outgoing(text: str, limit: int = MAX_CHAT_CHARS) -> str:
    if not isinstance(text, str):
        raise TypeError(f"chat text must be str, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("chat message is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"chat text is not valid Unicode (lone surrogate at {exc.start})") \
            from exc
    length = chat_length(text)
    if length > limit:
        raise ChatTooLong(length, limit)
    return text


def build_chat(text: str, *, sender_identity: str, support: StreamSupport = LEGACY_RECIPIENTS,
               streams_supported_by_server: bool = True, legacy_copy: bool = True,
               destination_identities: Sequence[str] = (), edit_of: str | None = None,
               reply_to: str = "", timestamp_ms: int | None = None) -> OutgoingChat:
    """The packets of one chat message (or of an edit of message ``edit_of``).

    ``support`` says whether every recipient takes inline / compressed streams
    (:meth:`StreamSupport.for_send`); ``streams_supported_by_server`` is
    :func:`server_supports_data_streams` of the join response's ``server_info`` and becomes
    the legacy copy's ``ignoreLegacy``. Raises :class:`ChatTooLong` / ``ValueError`` for text
    Visio would refuse.
    """
    validate_outgoing(text)
    stamp = now_ms() if timestamp_ms is None else timestamp_ms
    writer = TextStreamWriter(
        topic=CHAT_TOPIC, destination_identities=destination_identities,
        stream_id=edit_of, operation=OP_UPDATE if edit_of else OP_CREATE, reply_to=reply_to,
        timestamp_ms=stamp)
    stream_packets = writer.send(text, support)
    legacy = None
    if legacy_copy:
        body = {"id": writer.stream_id, "timestamp": stamp, "message": text,
                "ignoreLegacy": bool(streams_supported_by_server)}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        legacy = user_packet(payload, topic=LEGACY_CHAT_TOPIC,
                             destination_identities=destination_identities)
    message = ChatMessage(id=writer.stream_id, sender_identity=sender_identity, text=text,
                          timestamp_ms=stamp, edited=edit_of is not None,
                          source=ChatSource.STREAM, reply_to=reply_to)
    return OutgoingChat(message, stream_packets, legacy)


# --------------------------------------------------------------------------- incoming


@dataclass
class _Seen:
    text: str
    timestamp_ms: int
    source: ChatSource


class ChatReceiver:
    """Turns incoming chat in any of the three formats into :class:`ChatMessage`s.

    Each method returns a message, a :class:`ChatError`, or ``None`` when the input is to be
    dropped silently (``ignoreLegacy``, a duplicate copy of a message already delivered, a
    reaction operation). It remembers the last ``remember`` ids per room for dedupe/edits.
    """

    def __init__(self, *, max_chars: int = MAX_CHAT_CHARS,
                 remember: int = _REMEMBERED_IDS) -> None:
        self.max_chars = max_chars
        self.remember = remember
        self._seen: OrderedDict[tuple[str, str], _Seen] = OrderedDict()

    def from_stream(self, stream: TextStream) -> ChatMessage | None:
        info = stream.info
        if info.operation == OP_REACTION:
            log.debug("chat reaction stream %s ignored", info.stream_id)
            return None
        return self._deliver(
            info.stream_id, info.sender_identity, stream.text, info.timestamp_ms,
            ChatSource.STREAM, update=info.operation == OP_UPDATE,
            deleted=info.operation == OP_DELETE, reply_to=info.reply_to_stream_id,
            generated=info.generated)

    def from_legacy(self, payload: bytes, sender_identity: str,
                    received_ms: int | None = None) -> ChatMessage | ChatError | None:
        try:
            body = json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return ChatError(sender_identity, ChatSource.LEGACY,
                             f"legacy chat packet is not valid UTF-8 (byte {exc.start})")
        except ValueError as exc:
            return ChatError(sender_identity, ChatSource.LEGACY,
                             f"legacy chat packet is not JSON: {exc}")
        if not isinstance(body, dict):
            return ChatError(sender_identity, ChatSource.LEGACY,
                             "legacy chat packet is not a JSON object")
        ignore = body.get("ignoreLegacy")
        if ignore is True or (type(ignore) is int and ignore == 1):  # JS: ignoreLegacy == true
            return None
        text = body.get("message")
        if not isinstance(text, str):
            return ChatError(sender_identity, ChatSource.LEGACY,
                             "legacy chat packet has no string 'message'")
        msg_id = body.get("id")
        if not isinstance(msg_id, str) or not msg_id:
            msg_id = f"legacy-{uuid.uuid4()}"
        stamp = body.get("timestamp")
        if isinstance(stamp, bool) or not isinstance(stamp, int | float) \
                or not math.isfinite(stamp):
            stamp = now_ms() if received_ms is None else received_ms
        return self._deliver(msg_id, sender_identity, text, int(stamp), ChatSource.LEGACY)

    def from_chat_message(self, message: models.ChatMessage,
                          sender_identity: str) -> ChatMessage | None:
        return self._deliver(
            message.id, sender_identity, message.message, message.timestamp,
            ChatSource.CHAT_MESSAGE, update=message.HasField("edit_timestamp"),
            deleted=message.deleted, generated=message.generated)

    def forget(self) -> None:
        self._seen.clear()

    def _deliver(self, msg_id: str, sender: str, text: str, timestamp_ms: int,
                 source: ChatSource, *, update: bool = False, deleted: bool = False,
                 reply_to: str = "", generated: bool = False) -> ChatMessage | None:
        key = (sender, msg_id)
        seen = self._seen.get(key)
        if seen is not None and not update and not deleted and seen.text == text:
            return None  # the same message again (stream + legacy copy, or a replay)
        shown = truncate_chars(text, self.max_chars)
        # an edit keeps the original time, as components-js does
        stamp = seen.timestamp_ms if seen is not None else timestamp_ms
        self._seen[key] = _Seen(text, stamp, source)
        self._seen.move_to_end(key)
        while len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        return ChatMessage(id=msg_id, sender_identity=sender, text="" if deleted else shown,
                           timestamp_ms=stamp, edited=update or seen is not None,
                           source=source, deleted=deleted, truncated=shown != text,
                           reply_to=reply_to, generated=generated)
