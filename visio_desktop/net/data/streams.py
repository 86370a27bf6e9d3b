"""Text and byte data streams (``DataStream`` header → chunks → trailer), both directions.

Wire facts (livekit-protocol.md §3.5, checked against packets the official Python SDK 1.2.1
put on the wire):

- every packet of a stream travels on the reliable channel;
- a header carries ``stream_id`` (uuid4), ``timestamp`` (ms), ``topic``, ``mime_type``
  (``text/plain`` for text), ``total_length`` (the *uncompressed* byte count, when known),
  ``attributes`` and a ``text_header`` or ``byte_header``;
- text chunks are at most 15000 bytes, split on UTF-8 character boundaries; the trailer may
  carry a ``reason`` (abnormal end) and more attributes (merged into the header's);
- **streams v2:** when every recipient has ``client_protocol >= 2`` a whole stream may be a
  single header with ``inline_content`` (the serialized header packet must fit in 15000
  bytes); no chunk or trailer follows;
- **compression:** ``DEFLATE_RAW`` (deflate with no zlib header, ``wbits=-15``) when every
  recipient also advertises ``CAP_COMPRESSION_DEFLATE_RAW``; it applies to the inline content
  or to the concatenated chunk bytes (compressed chunks are raw 15000-byte slices);
- the official SDK sets ``participant_identity`` (its own, or the identity it publishes on
  behalf of) on every packet and puts ``destination_identities`` on the header only; JS puts
  them on every packet, which is what we do (chunks sent to everyone would leak content).

Outgoing: :class:`TextStreamWriter` / :class:`ByteStreamWriter` produce unsealed
``DataPacket``s (seal them with :class:`~visio_desktop.net.data.packets.PacketSealer`).
Incoming: :class:`StreamAssembler` turns packets into completed streams or failures; it never
raises on bad input.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from livekit.protocol import models

from visio_desktop.net.data.packets import DataTooLarge

log = logging.getLogger(__name__)

STREAM_CHUNK_SIZE = 15_000
#: A header packet (inline content included) must serialize within this many bytes.
HEADER_BUDGET = STREAM_CHUNK_SIZE
TEXT_MIME_TYPE = "text/plain"
BYTE_MIME_TYPE = "application/octet-stream"
BYTE_DEFAULT_NAME = "unknown"
CLIENT_PROTOCOL_DATA_STREAM_V2 = 2
CAP_DEFLATE_RAW = models.ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW

OP_CREATE = models.DataStream.OperationType.CREATE
OP_UPDATE = models.DataStream.OperationType.UPDATE
OP_DELETE = models.DataStream.OperationType.DELETE
OP_REACTION = models.DataStream.OperationType.REACTION
COMPRESSION_NONE = models.DataStream.CompressionType.NONE
COMPRESSION_DEFLATE_RAW = models.DataStream.CompressionType.DEFLATE_RAW

DEFAULT_MAX_STREAM_BYTES = 1 << 20
DEFAULT_MAX_OPEN_PER_SENDER = 32
DEFAULT_MAX_BUFFERED_BYTES = 16 << 20
DEFAULT_IDLE_TIMEOUT_S = 30.0
MAX_CHUNKS_PER_STREAM = 65_536


# --------------------------------------------------------------------------- helpers


def now_ms() -> int:
    return int(time.time() * 1000)


def deflate_raw(data: bytes) -> bytes:
    """Raw DEFLATE (no zlib header or checksum), as ``CompressionType.DEFLATE_RAW`` means."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def split_utf8(data: bytes, limit: int = STREAM_CHUNK_SIZE) -> Iterator[bytes]:
    """Slices of UTF-8 ``data`` of at most ``limit`` bytes, never cutting a character."""
    if limit < 4:
        raise ValueError("limit must leave room for a 4-byte character")
    pos, size = 0, len(data)
    while pos < size:
        end = min(pos + limit, size)
        if end < size:
            while end > pos and (data[end] & 0xC0) == 0x80:  # continuation byte
                end -= 1
            if end == pos:  # not UTF-8 after all: fall back to a raw cut
                end = pos + limit
        yield data[pos:end]
        pos = end


def split_raw(data: bytes, limit: int = STREAM_CHUNK_SIZE) -> Iterator[bytes]:
    for pos in range(0, len(data), limit):
        yield data[pos:pos + limit]


@dataclass(frozen=True)
class StreamSupport:
    """What every recipient of a send supports: single-packet streams, DEFLATE_RAW."""

    inline: bool = False
    deflate_raw: bool = False

    @classmethod
    def of(cls, recipients: Iterable[models.ParticipantInfo]) -> StreamSupport:
        """From the recipients' ``ParticipantInfo`` (an empty room supports everything)."""
        infos = list(recipients)
        inline = all(p.client_protocol >= CLIENT_PROTOCOL_DATA_STREAM_V2 for p in infos)
        deflate = inline and all(CAP_DEFLATE_RAW in p.capabilities for p in infos)
        return cls(inline=inline, deflate_raw=deflate)

    @classmethod
    def for_send(cls, remotes: Iterable[models.ParticipantInfo],
                 destination_identities: Sequence[str] = ()) -> StreamSupport:
        """The recipients are the named destinations, or every remote for a broadcast.

        A destination not among ``remotes`` counts as a legacy client (protocol 0).
        """
        infos = list(remotes)
        if not destination_identities:
            return cls.of(infos)
        by_identity = {p.identity: p for p in infos}
        chosen = [by_identity.get(i) for i in destination_identities]
        if any(p is None for p in chosen):
            return cls()
        return cls.of(p for p in chosen if p is not None)


LEGACY_RECIPIENTS = StreamSupport()


# --------------------------------------------------------------------------- outgoing


class _StreamWriter:
    """What text and byte writers share: the header, the packets, the open/close states."""

    _mime_type: str

    def __init__(self, *, topic: str, destination_identities: Sequence[str],
                 attributes: Mapping[str, str] | None, stream_id: str | None,
                 sender_identity: str, timestamp_ms: int | None) -> None:
        self.topic = topic
        self.destination_identities = tuple(destination_identities)
        self.attributes = dict(attributes or {})
        self.stream_id = stream_id or str(uuid.uuid4())
        self.sender_identity = sender_identity
        self.timestamp_ms = now_ms() if timestamp_ms is None else timestamp_ms
        self._state = "new"  # new → open → closed
        self._chunk_index = 0
        self._written = 0

    # subclasses fill the text_header / byte_header
    def _fill_content_header(self, header: models.DataStream.Header) -> None:
        raise NotImplementedError

    def _split(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    @property
    def attached(self) -> bool:
        return False

    def _packet(self) -> models.DataPacket:
        packet = models.DataPacket(participant_identity=self.sender_identity)
        packet.destination_identities.extend(self.destination_identities)
        return packet

    def _header_packet(self, total_length: int | None, compression: int,
                       inline: bytes | None = None) -> models.DataPacket:
        packet = self._packet()
        header = packet.stream_header
        header.stream_id = self.stream_id
        header.timestamp = self.timestamp_ms
        header.topic = self.topic
        header.mime_type = self._mime_type
        if total_length is not None:
            header.total_length = total_length
        header.attributes.update(self.attributes)
        self._fill_content_header(header)
        if inline is not None:
            header.inline_content = inline
        header.compression = compression  # type: ignore[assignment]
        return packet

    def _chunk_packet(self, content: bytes) -> models.DataPacket:
        packet = self._packet()
        chunk = packet.stream_chunk
        chunk.stream_id = self.stream_id
        chunk.chunk_index = self._chunk_index
        chunk.content = content
        self._chunk_index += 1
        self._written += len(content)
        return packet

    def _trailer_packet(self, reason: str, attributes: Mapping[str, str] | None) -> \
            models.DataPacket:
        packet = self._packet()
        trailer = packet.stream_trailer
        trailer.stream_id = self.stream_id
        trailer.reason = reason
        trailer.attributes.update(attributes or {})
        return packet

    def _expect(self, state: str, action: str) -> None:
        if self._state != state:
            raise RuntimeError(f"cannot {action} a stream that is {self._state}")

    def _send(self, data: bytes, support: StreamSupport) -> list[models.DataPacket]:
        self._expect("new", "send")
        self._state = "closed"
        compressed = deflate_raw(data) if support.deflate_raw else None
        use_deflate = compressed is not None and len(compressed) < len(data)
        content = compressed if use_deflate and compressed is not None else data
        compression = COMPRESSION_DEFLATE_RAW if use_deflate else COMPRESSION_NONE
        if support.inline and not self.attached:
            packet = self._header_packet(len(data), compression, inline=content)
            if packet.ByteSize() <= HEADER_BUDGET:
                return [packet]
        header = self._header_packet(len(data), compression)
        _check_header(header)
        pieces = split_raw(content) if use_deflate else self._split(content)
        packets = [header, *(self._chunk_packet(piece) for piece in pieces)]
        packets.append(self._trailer_packet("", None))
        return packets

    def open(self, total_length: int | None = None) -> models.DataPacket:
        """Start an incremental stream (never inline nor compressed): the header packet."""
        self._expect("new", "open")
        header = self._header_packet(total_length, COMPRESSION_NONE)
        _check_header(header)
        self._state = "open"
        return header

    def _write(self, data: bytes) -> list[models.DataPacket]:
        self._expect("open", "write to")
        return [self._chunk_packet(piece) for piece in self._split(data)]

    def close(self, *, reason: str = "", attributes: Mapping[str, str] | None = None) -> \
            models.DataPacket:
        """The trailer; a non-empty ``reason`` tells receivers the stream ended abnormally."""
        self._expect("open", "close")
        self._state = "closed"
        return self._trailer_packet(reason, attributes)


def _check_header(packet: models.DataPacket) -> None:
    size = packet.ByteSize()
    if size > HEADER_BUDGET:
        raise DataTooLarge(size, HEADER_BUDGET, "stream header packet")


class TextStreamWriter(_StreamWriter):
    """The packets of one outgoing text stream.

    One-shot (``send_text``): ``packets = TextStreamWriter(topic="lk.chat").send(text, support)``
    gives a single inline header, or header + chunks + trailer. Incremental (``stream_text``):
    ``open()``, then ``write(text)`` any number of times, then ``close()``.
    """

    _mime_type = TEXT_MIME_TYPE

    def __init__(self, *, topic: str = "", destination_identities: Sequence[str] = (),
                 attributes: Mapping[str, str] | None = None, stream_id: str | None = None,
                 operation: int = OP_CREATE, version: int = 0, reply_to: str = "",
                 attached_stream_ids: Sequence[str] = (), generated: bool = False,
                 sender_identity: str = "", timestamp_ms: int | None = None) -> None:
        super().__init__(topic=topic, destination_identities=destination_identities,
                         attributes=attributes, stream_id=stream_id,
                         sender_identity=sender_identity, timestamp_ms=timestamp_ms)
        self.operation = operation
        self.version = version
        self.reply_to = reply_to
        self.attached_stream_ids = tuple(attached_stream_ids)
        self.generated = generated

    @property
    def attached(self) -> bool:
        return bool(self.attached_stream_ids)

    def _fill_content_header(self, header: models.DataStream.Header) -> None:
        text_header = header.text_header
        text_header.SetInParent()
        text_header.operation_type = self.operation  # type: ignore[assignment]
        text_header.version = self.version
        text_header.reply_to_stream_id = self.reply_to
        text_header.attached_stream_ids.extend(self.attached_stream_ids)
        text_header.generated = self.generated

    def _split(self, data: bytes) -> Iterator[bytes]:
        return split_utf8(data)

    def send(self, text: str, support: StreamSupport = LEGACY_RECIPIENTS) -> \
            list[models.DataPacket]:
        return self._send(_utf8(text), support)

    def write(self, text: str) -> list[models.DataPacket]:
        return self._write(_utf8(text))


class ByteStreamWriter(_StreamWriter):
    """The packets of one outgoing byte stream (same usage as :class:`TextStreamWriter`)."""

    def __init__(self, *, name: str = BYTE_DEFAULT_NAME, mime_type: str = BYTE_MIME_TYPE,
                 topic: str = "", destination_identities: Sequence[str] = (),
                 attributes: Mapping[str, str] | None = None, stream_id: str | None = None,
                 sender_identity: str = "", timestamp_ms: int | None = None) -> None:
        super().__init__(topic=topic, destination_identities=destination_identities,
                         attributes=attributes, stream_id=stream_id,
                         sender_identity=sender_identity, timestamp_ms=timestamp_ms)
        self.name = name
        self._mime_type = mime_type

    def _fill_content_header(self, header: models.DataStream.Header) -> None:
        header.byte_header.name = self.name

    def _split(self, data: bytes) -> Iterator[bytes]:
        return split_raw(data)

    def send(self, data: bytes, support: StreamSupport = LEGACY_RECIPIENTS) -> \
            list[models.DataPacket]:
        return self._send(bytes(data), support)

    def write(self, data: bytes) -> list[models.DataPacket]:
        return self._write(bytes(data))


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"text is not valid Unicode (lone surrogate at {exc.start})") from exc


# --------------------------------------------------------------------------- incoming


class StreamErrorKind(StrEnum):
    INVALID_HEADER = "invalid_header"
    UNSUPPORTED = "unsupported"  # compression type or encryption we cannot read
    TOO_LARGE = "too_large"
    TOO_MANY_STREAMS = "too_many_streams"
    MISSING_CHUNK = "missing_chunk"
    LENGTH_MISMATCH = "length_mismatch"
    DECOMPRESSION = "decompression"
    INVALID_UTF8 = "invalid_utf8"
    ABORTED = "aborted"  # the trailer carried a reason
    SENDER_LEFT = "sender_left"
    STALE = "stale"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class StreamInfo:
    stream_id: str
    sender_identity: str
    topic: str
    mime_type: str
    timestamp_ms: int
    total_length: int | None
    attributes: dict[str, str]
    is_text: bool
    operation: int = OP_CREATE
    version: int = 0
    reply_to_stream_id: str = ""
    attached_stream_ids: tuple[str, ...] = ()
    generated: bool = False
    name: str = ""
    compressed: bool = False
    inline: bool = False
    destination_identities: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextStream:
    info: StreamInfo
    text: str


@dataclass(frozen=True)
class ByteStream:
    info: StreamInfo
    data: bytes


@dataclass(frozen=True)
class StreamFailed:
    stream_id: str
    sender_identity: str
    kind: StreamErrorKind
    detail: str
    info: StreamInfo | None = None

    @property
    def topic(self) -> str:
        return self.info.topic if self.info is not None else ""


StreamResult = TextStream | ByteStream | StreamFailed


class _Failure(Exception):
    def __init__(self, kind: StreamErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass
class _Open:
    info: StreamInfo
    last_activity: float
    chunks: dict[int, bytes] = field(default_factory=dict)
    buffered: int = 0  # bytes held for this stream (raw chunks, plus inflated output)
    inflater: zlib._Decompress | None = None
    next_to_inflate: int = 0
    inflated: bytearray = field(default_factory=bytearray)


def _info_from_header(header: models.DataStream.Header, sender_identity: str,
                      destinations: Sequence[str]) -> StreamInfo:
    if not header.stream_id:
        raise _Failure(StreamErrorKind.INVALID_HEADER, "stream header without a stream_id")
    content = header.WhichOneof("content_header")
    if content is None:
        raise _Failure(StreamErrorKind.INVALID_HEADER, "stream header without text/byte header")
    text = header.text_header
    return StreamInfo(
        stream_id=header.stream_id,
        sender_identity=sender_identity,
        topic=header.topic,
        mime_type=header.mime_type,
        timestamp_ms=header.timestamp,
        total_length=header.total_length if header.HasField("total_length") else None,
        attributes=dict(header.attributes),
        is_text=content == "text_header",
        operation=text.operation_type,
        version=text.version,
        reply_to_stream_id=text.reply_to_stream_id,
        attached_stream_ids=tuple(text.attached_stream_ids),
        generated=text.generated,
        name=header.byte_header.name,
        compressed=header.compression == COMPRESSION_DEFLATE_RAW,
        inline=header.HasField("inline_content"),
        destination_identities=tuple(destinations),
    )


class StreamAssembler:
    """Reassembles incoming streams, per ``(sender identity, stream id)``.

    :meth:`feed` takes any ``DataPacket`` (non-stream packets give ``[]``) and returns the
    streams completed or failed by it, plus any stale stream it expired. Chunks may come in
    any order (they are placed by ``chunk_index``); a gap is reported when the trailer
    arrives. Limits: ``max_stream_bytes`` of (decompressed) content per stream,
    ``max_open_per_sender`` unfinished streams per sender, ``max_buffered_bytes`` over all
    unfinished streams, and ``idle_timeout_s`` without a packet before an unfinished stream
    is dropped. Nothing here raises on bad input.
    """

    def __init__(self, *, max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES,
                 max_open_per_sender: int = DEFAULT_MAX_OPEN_PER_SENDER,
                 max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
                 idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_stream_bytes = max_stream_bytes
        self.max_open_per_sender = max_open_per_sender
        self.max_buffered_bytes = max_buffered_bytes
        self.idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._open: dict[tuple[str, str], _Open] = {}
        self._buffered = 0

    # ---- public

    @property
    def open_count(self) -> int:
        return len(self._open)

    @property
    def buffered_bytes(self) -> int:
        return self._buffered

    def open_streams(self) -> list[StreamInfo]:
        return [state.info for state in self._open.values()]

    def feed(self, packet: models.DataPacket, sender_identity: str,
             now: float | None = None) -> list[StreamResult]:
        now = self._clock() if now is None else now
        results: list[StreamResult] = list(self.expire(now))
        which = packet.WhichOneof("value")
        if which == "stream_header":
            result = self._on_header(packet, sender_identity, now)
        elif which == "stream_chunk":
            result = self._on_chunk(packet.stream_chunk, sender_identity, now)
        elif which == "stream_trailer":
            result = self._on_trailer(packet.stream_trailer, sender_identity)
        else:
            result = None
        if result is not None:
            results.append(result)
        return results

    def expire(self, now: float | None = None) -> list[StreamFailed]:
        """Drop unfinished streams that saw no packet for ``idle_timeout_s``."""
        now = self._clock() if now is None else now
        stale = [key for key, state in self._open.items()
                 if now - state.last_activity >= self.idle_timeout_s]
        return [self._fail(key, StreamErrorKind.STALE,
                           f"no packet for {self.idle_timeout_s:g} s before the trailer")
                for key in stale]

    def participant_left(self, identity: str) -> list[StreamFailed]:
        """Abort the unfinished streams of a participant that left."""
        keys = [key for key in self._open if key[0] == identity]
        return [self._fail(key, StreamErrorKind.SENDER_LEFT,
                           f"{identity} left in the middle of sending this stream")
                for key in keys]

    def reset(self) -> list[StreamFailed]:
        """Abort every unfinished stream (our own disconnect)."""
        return [self._fail(key, StreamErrorKind.DISCONNECTED, "disconnected while receiving")
                for key in list(self._open)]

    # ---- packets

    def _on_header(self, packet: models.DataPacket, sender: str,
                   now: float) -> StreamResult | None:
        header = packet.stream_header
        try:
            info = _info_from_header(header, sender, packet.destination_identities)
        except _Failure as failure:
            return StreamFailed(header.stream_id, sender, failure.kind, failure.detail)
        key = (sender, info.stream_id)
        if key in self._open:
            log.debug("stream %s from %s is already open; header ignored", info.stream_id, sender)
            return None
        try:
            self._check_header(header, info, sender)
        except _Failure as failure:
            return StreamFailed(info.stream_id, sender, failure.kind, failure.detail, info)
        if info.inline:
            try:
                return self._complete(info, bytes(header.inline_content))
            except _Failure as failure:
                return StreamFailed(info.stream_id, sender, failure.kind, failure.detail, info)
        state = _Open(info=info, last_activity=now)
        if info.compressed:
            state.inflater = zlib.decompressobj(-15)
        self._open[key] = state
        return None

    def _check_header(self, header: models.DataStream.Header, info: StreamInfo,
                      sender: str) -> None:
        if header.encryption_type != models.Encryption.Type.NONE:
            raise _Failure(StreamErrorKind.UNSUPPORTED, "encrypted streams are not supported")
        if header.compression not in (COMPRESSION_NONE, COMPRESSION_DEFLATE_RAW):
            raise _Failure(StreamErrorKind.UNSUPPORTED,
                           f"unknown compression type {header.compression}")
        if info.total_length is not None and info.total_length > self.max_stream_bytes:
            raise _Failure(StreamErrorKind.TOO_LARGE,
                           f"announced {info.total_length} bytes, over the "
                           f"{self.max_stream_bytes}-byte limit")
        if not info.inline:
            mine = sum(1 for s, _ in self._open if s == sender)
            if mine >= self.max_open_per_sender:
                raise _Failure(StreamErrorKind.TOO_MANY_STREAMS,
                               f"{sender} already has {mine} unfinished streams")

    def _on_chunk(self, chunk: models.DataStream.Chunk, sender: str,
                  now: float) -> StreamResult | None:
        key = (sender, chunk.stream_id)
        state = self._open.get(key)
        if state is None:
            return None  # not ours, already failed, or opened before we joined
        state.last_activity = now
        index = chunk.chunk_index
        if index in state.chunks or index < state.next_to_inflate:
            return None  # duplicate (replayed after a reconnect)
        try:
            if len(state.chunks) >= MAX_CHUNKS_PER_STREAM:
                raise _Failure(StreamErrorKind.TOO_LARGE,
                               f"more than {MAX_CHUNKS_PER_STREAM} chunks")
            content = bytes(chunk.content)
            state.chunks[index] = content
            self._grow(state, len(content))
            if state.inflater is not None:
                self._inflate_ready(state)
        except _Failure as failure:
            return self._fail(key, failure.kind, failure.detail)
        return None

    def _on_trailer(self, trailer: models.DataStream.Trailer,
                    sender: str) -> StreamResult | None:
        key = (sender, trailer.stream_id)
        state = self._open.get(key)
        if state is None:
            return None
        state.info.attributes.update(trailer.attributes)
        if trailer.reason:
            return self._fail(key, StreamErrorKind.ABORTED,
                              f"sender ended the stream: {trailer.reason}")
        try:
            if state.inflater is not None:
                if state.chunks:
                    raise _Failure(StreamErrorKind.MISSING_CHUNK,
                                   _missing(state.next_to_inflate, state.chunks))
                if not state.inflater.eof:
                    raise _Failure(StreamErrorKind.MISSING_CHUNK,
                                   "compressed content stops before the end of its deflate "
                                   "data (last chunk(s) missing)")
                result = self._complete(state.info, bytes(state.inflated), inflated=True)
            else:
                count = len(state.chunks)
                if count and max(state.chunks) != count - 1:
                    raise _Failure(StreamErrorKind.MISSING_CHUNK, _missing(0, state.chunks))
                data = b"".join(state.chunks[i] for i in range(count))
                result = self._complete(state.info, data)
        except _Failure as failure:
            return self._fail(key, failure.kind, failure.detail)
        self._drop(key)
        return result

    # ---- content

    def _grow(self, state: _Open, size: int) -> None:
        state.buffered += size
        self._buffered += size
        # compressed streams: the inflated output is checked in _inflate; pending compressed
        # chunks (waiting for an earlier index) may not hold more than that again
        limit = self.max_stream_bytes * (1 if state.inflater is None else 2)
        if state.buffered > limit:
            raise _Failure(StreamErrorKind.TOO_LARGE,
                           f"over the {self.max_stream_bytes}-byte limit")
        if self._buffered > self.max_buffered_bytes:
            raise _Failure(StreamErrorKind.TOO_LARGE,
                           f"unfinished streams hold over {self.max_buffered_bytes} bytes")

    def _inflate_ready(self, state: _Open) -> None:
        """Feed the in-order prefix of compressed chunks to the inflater."""
        assert state.inflater is not None
        while state.next_to_inflate in state.chunks:
            piece = state.chunks.pop(state.next_to_inflate)
            state.next_to_inflate += 1
            before = len(state.inflated)
            state.inflated += self._inflate(state.inflater, piece, len(state.inflated))
            state.buffered -= len(piece)
            self._buffered -= len(piece)
            self._grow(state, len(state.inflated) - before)

    def _inflate(self, inflater: zlib._Decompress, data: bytes, have: int) -> bytes:
        room = self.max_stream_bytes - have
        try:
            out = inflater.decompress(data, room + 1)
        except zlib.error as exc:
            raise _Failure(StreamErrorKind.DECOMPRESSION, f"bad deflate data: {exc}") from exc
        if len(out) > room or inflater.unconsumed_tail:
            raise _Failure(StreamErrorKind.TOO_LARGE,
                           f"decompresses to over the {self.max_stream_bytes}-byte limit")
        if inflater.unused_data:
            raise _Failure(StreamErrorKind.DECOMPRESSION, "data after the end of the deflate data")
        return out

    def _complete(self, info: StreamInfo, data: bytes, *, inflated: bool = False) -> \
            StreamResult:
        if info.compressed and not inflated:
            inflater = zlib.decompressobj(-15)
            data = self._inflate(inflater, data, 0)
            if not inflater.eof:
                raise _Failure(StreamErrorKind.DECOMPRESSION,
                               "compressed content ends before the end of the deflate data")
        elif len(data) > self.max_stream_bytes:
            raise _Failure(StreamErrorKind.TOO_LARGE,
                           f"{len(data)} bytes, over the {self.max_stream_bytes}-byte limit")
        if info.total_length is not None and len(data) != info.total_length:
            raise _Failure(StreamErrorKind.LENGTH_MISMATCH,
                           f"received {len(data)} bytes, the header announced "
                           f"{info.total_length}")
        if not info.is_text:
            return ByteStream(info, data)
        try:
            return TextStream(info, data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _Failure(StreamErrorKind.INVALID_UTF8,
                           f"text stream is not valid UTF-8 (byte {exc.start})") from exc

    # ---- bookkeeping

    def _drop(self, key: tuple[str, str]) -> _Open | None:
        state = self._open.pop(key, None)
        if state is not None:
            self._buffered -= state.buffered
        return state

    def _fail(self, key: tuple[str, str], kind: StreamErrorKind, detail: str) -> StreamFailed:
        state = self._drop(key)
        info = state.info if state is not None else None
        return StreamFailed(key[1], key[0], kind, detail, info)


def _missing(start: int, chunks: Mapping[int, bytes]) -> str:
    top = max(chunks) if chunks else start
    gaps = [i for i in range(start, top) if i not in chunks][:5]
    return f"chunk(s) {gaps} missing" if gaps else "chunks missing"
