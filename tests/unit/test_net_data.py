"""Unit tests for the pure data layer ``visio_desktop.net.data`` (no network, no asyncio).

The ``SDK_PACKETS`` below were recorded on the wire from the official LiveKit Python SDK
(``livekit`` 1.2.1, Rust FFI inside) sending through our embedded server to a second SDK client
that advertises ``client_protocol=2`` and ``CAP_COMPRESSION_DEFLATE_RAW`` (recorded before the
server's rewriting, i.e. exactly as the SDK built them): ``send_text`` (inline, inline
DEFLATE_RAW, chunked DEFLATE_RAW), ``stream_text`` with ``sender_identity`` and trailer
attributes, ``publish_data`` (note ``kind=LOSSY`` on a reliable packet), a lossy user packet,
``publish_transcription``, ``send_bytes`` and an RPC v2 request / ack / response. Streams too
big to keep here are rebuilt by ``sdk_text_stream`` with the SDK's field usage (header with
``participant_identity`` and destinations, chunks and trailer with ``participant_identity``
only, DEFLATE_RAW chunks as raw 15000-byte slices).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import zlib

import pytest
from livekit.protocol import models

from visio_desktop.net.data import (
    ByteStream,
    CaptionMode,
    CaptionReceived,
    CaptionTracker,
    ChatReceived,
    ChatReceiver,
    ChatSource,
    ChatTooLong,
    DataError,
    DataMux,
    DataTooLarge,
    DtmfReceived,
    Ignored,
    NotificationType,
    OtherNotification,
    PacketSealer,
    ParticipantMuted,
    ParticipantWaiting,
    PermissionsRemoved,
    RateLimiter,
    ReactionReceived,
    RecordingNotification,
    RpcAck,
    RpcRequest,
    RpcResponse,
    StreamAssembler,
    StreamErrorKind,
    StreamFailed,
    StreamReceived,
    StreamSupport,
    TextStream,
    TextStreamWriter,
    UserData,
    build_chat,
    build_participant_muted,
    build_reaction,
    hand_attributes,
    hand_raised_at,
    parse_notification,
    server_supports_data_streams,
    user_packet,
)
from visio_desktop.net.data.chat import chat_length
from visio_desktop.net.data.streams import (
    COMPRESSION_DEFLATE_RAW,
    OP_DELETE,
    OP_UPDATE,
    STREAM_CHUNK_SIZE,
    ByteStreamWriter,
    deflate_raw,
    split_utf8,
)
from visio_desktop.net.data.visio import build_permissions_removed

SDK_PACKETS: dict[str, tuple[str, ...]] = {
    'CHAT_INLINE': (
        "6a560a2462383838393337302d373739332d343632662d613566382d6232393963343235646461301092"
        "c3d0b1a0341a076c6b2e63686174220a746578742f706c61696e280e4a005a0e626f6e6a6f757220c3a9"
        "20e29c932205616c696365800101"),
    'NOISE_HEADER': (
        "6a4a0a2465303566646538622d646166392d346437662d613039322d65633466393238356430323110ef"
        "c7d0b1a0341a076c6b2e63686174220a746578742f706c61696e2882fa014a0060012205616c69636580"
        "0102"),
    'NOISE_TRAILER': (
        "7a260a2465303566646538622d646166392d346437662d613039322d6563346639323835643032312205"
        "616c696365800105"),
    'CHAT_INLINE_DEFLATE': (
        "6aa0010a2438383663393364312d323435312d343463632d613763622d39353737626234356234326410"
        "afcad0b1a0341a076c6b2e63686174220a746578742f706c61696e28c0b8024a005a54edc5c100000008"
        "043095338925899402492c91bd76db99ae1c499224499224499224499224499224499224499224499224"
        "499224499224499224499224499224499224499224499224499224499224499224c93c60012205616c69"
        "6365800106"),
    'TEXT_TO_BOB': (
        "6a510a2439613663623731662d383861652d343630302d386635342d32613333653132383961356510e2"
        "ccd0b1a0341a0174220a746578742f706c61696e280242060a016b1201764a051a036162635a02686922"
        "05616c6963652a03626f62800107"),
    'TRANSCRIPTION_HEADER': (
        "6a85010a2464303839333533632d363964312d346634352d613763632d36373737323536643932356610"
        "95cfd0b1a0341a106c6b2e7472616e736372697074696f6e220a746578742f706c61696e421f0a166c6b"
        "2e7472616e736372697074696f6e5f66696e616c120566616c736542150a0d6c6b2e7365676d656e745f"
        "6964120453475f314a002205616c696365800108"),
    'TRANSCRIPTION_CHUNK0': (
        "722e0a2464303839333533632d363964312d346634352d613763632d3637373732353664393235661a06"
        "68656c6c6f202205616c696365800109"),
    'TRANSCRIPTION_CHUNK1': (
        "722f0a2464303839333533632d363964312d346634352d613763632d3637373732353664393235661001"
        "1a05776f726c642205616c69636580010a"),
    'TRANSCRIPTION_TRAILER': (
        "7a460a2464303839333533632d363964312d346634352d613763632d3637373732353664393235661a1e"
        "0a166c6b2e7472616e736372697074696f6e5f66696e616c1204747275652205616c69636580010b"),
    'REACTION': (
        "0801123c12387b2274797065223a227265616374696f6e5265636569766564222c2264617461223a7b22"
        "656d6f6a69223a227468756d62732d7570227d7d22002205616c69636580010c8a010f50415f46486367"
        "6d375a7135515961"),
    'LOSSY_USER': (
        "1209120378797a220274742205616c6963652a03626f628a010f50415f464863676d375a7135515961"),
    'LEGACY_TRANSCRIPTION': (
        "3a241205616c6963651a0454525f7822150a0453475f321207626f6e6a6f75722801320266722205616c"
        "69636580010d8a010f50415f464863676d375a7135515961"),
    'BYTES_INLINE': (
        "6a630a2430636638373066362d663838632d343831392d383633332d31313037656533633265343110f0"
        "d8d0b1a0341a0566696c657322186170706c69636174696f6e2f6f637465742d73747265616d28085207"
        "0a05662e62696e5a08000162696e6172792205616c69636580010e"),
    'RPC_REQUEST_V2': (
        "6af6010a2434313637393765642d636339632d343134382d616163382d36373637313161373762353110"
        "a1dbd0b1a0341a0e6c6b2e7270635f72657175657374220a746578742f706c61696e2804422a0a226c6b"
        "2e7270635f726571756573745f726573706f6e73655f74696d656f75745f6d7312043130303042390a11"
        "6c6b2e7270635f726571756573745f6964122462646330656130322d646264362d346265352d38396533"
        "2d373334616136303264663533421b0a166c6b2e7270635f726571756573745f76657273696f6e120132"
        "421d0a156c6b2e7270635f726571756573745f6d6574686f6412046563686f4a005a0470696e67220561"
        "6c6963652a03626f6280010f8a010f50415f464863676d375a7135515961"),
    'RPC_ACK': (
        "5a260a2462646330656130322d646264362d346265352d383965332d3733346161363032646635332203"
        "626f622a05616c6963658001018a010f50415f316b646e335978686c497a55"),
    'RPC_RESPONSE_V2': (
        "6a8f010a2464346538376666632d633735322d346638312d396465342d34333461383135336332646110"
        "e0ddd0b1a0341a0f6c6b2e7270635f726573706f6e7365220a746578742f706c61696e280442390a116c"
        "6b2e7270635f726571756573745f6964122462646330656130322d646264362d346265352d383965332d"
        "3733346161363032646635334a005a0470696e672203626f622a05616c6963658001028a010f50415f31"
        "6b646e335978686c497a55"),
}


def sdk(name: str) -> bytes:
    return bytes.fromhex("".join(SDK_PACKETS[name]))


def sdk_packet(name: str) -> models.DataPacket:
    packet = models.DataPacket()
    packet.ParseFromString(sdk(name))
    return packet


def noise_text() -> str:
    """The text of the recorded chunked DEFLATE_RAW stream (``NOISE_HEADER``/``_TRAILER``)."""
    return "é" + base64.b64encode(random.Random(7).randbytes(24000)).decode()


def sdk_text_stream(text: str, *, topic: str, sender: str, stream_id: str = "sdk-stream",
                    destinations: tuple[str, ...] = (), compress: bool = False,
                    attributes: dict[str, str] | None = None) -> list[models.DataPacket]:
    """A chunked text stream with the official SDK's field usage (see the module doc)."""
    data = text.encode()
    header = models.DataPacket(participant_identity=sender)
    header.destination_identities.extend(destinations)
    h = header.stream_header
    h.stream_id, h.timestamp, h.topic, h.mime_type = stream_id, 1_700_000_000_000, topic, \
        "text/plain"
    h.total_length = len(data)
    h.attributes.update(attributes or {})
    h.text_header.SetInParent()
    body = data
    if compress:
        h.compression = COMPRESSION_DEFLATE_RAW
        body = deflate_raw(data)
        pieces = [body[i:i + STREAM_CHUNK_SIZE] for i in range(0, len(body), STREAM_CHUNK_SIZE)]
    else:
        pieces = list(split_utf8(body))
    packets = [header]
    for index, piece in enumerate(pieces):
        chunk = models.DataPacket(participant_identity=sender)
        chunk.stream_chunk.stream_id, chunk.stream_chunk.chunk_index = stream_id, index
        chunk.stream_chunk.content = piece
        packets.append(chunk)
    trailer = models.DataPacket(participant_identity=sender)
    trailer.stream_trailer.stream_id = stream_id
    packets.append(trailer)
    return packets


def feed_all(assembler: StreamAssembler, packets: list[models.DataPacket], sender: str = "alice",
             now: float = 0.0) -> list:
    results = []
    for packet in packets:
        # what the receiver gets is the serialized packet
        wire = models.DataPacket()
        wire.ParseFromString(packet.SerializeToString())
        results.extend(assembler.feed(wire, sender, now))
    return results


def only_text(results: list) -> TextStream:
    assert len(results) == 1, results
    assert isinstance(results[0], TextStream), results
    return results[0]


def only_failure(results: list) -> StreamFailed:
    assert len(results) == 1, results
    assert isinstance(results[0], StreamFailed), results
    return results[0]


def mux_feed(mux: DataMux, packets: list[models.DataPacket], label: str = "_reliable",
             now: float = 0.0) -> list:
    sealer = PacketSealer()
    events = []
    for packet in packets:
        events.extend(mux.feed(sealer.seal(packet, reliable=label == "_reliable"), label, now))
    return events


ALL = StreamSupport(inline=True, deflate_raw=True)
INLINE = StreamSupport(inline=True)
LEGACY = StreamSupport()


# --------------------------------------------------------------------------- packets


def test_user_packet_fields() -> None:
    no_topic = user_packet(b"{}")
    assert not no_topic.user.HasField("topic")
    assert list(no_topic.destination_identities) == []
    addressed = user_packet(b"x", topic="t", destination_identities=["bob", "carol"])
    assert addressed.user.topic == "t"
    assert list(addressed.destination_identities) == ["bob", "carol"]
    assert list(addressed.user.destination_identities) == ["bob", "carol"]
    assert addressed.participant_identity == ""  # the server sets it
    with pytest.raises(TypeError):
        user_packet("text")  # type: ignore[arg-type]


def test_sealer_sequences_start_at_one_and_are_never_renumbered() -> None:
    sealer = PacketSealer()
    first, second = user_packet(b"1"), user_packet(b"2")
    lossy = user_packet(b"l")
    wire = [sealer.seal(first), sealer.seal(lossy, reliable=False), sealer.seal(second)]
    parsed = []
    for raw in wire:
        packet = models.DataPacket()
        packet.ParseFromString(raw)
        parsed.append(packet)
    assert [p.sequence for p in parsed] == [1, 0, 2]
    assert [p.kind for p in parsed] == [models.DataPacket.Kind.RELIABLE,
                                        models.DataPacket.Kind.LOSSY,
                                        models.DataPacket.Kind.RELIABLE]
    # resealing (a retry) keeps the number
    assert sealer.seal(first) == wire[0]
    assert sealer.last_sequence == 2 and sealer.next_sequence == 3


def test_sealer_size_guard_consumes_no_sequence() -> None:
    sealer = PacketSealer()
    big = user_packet(b"x" * 64_000)
    with pytest.raises(DataTooLarge) as info:
        sealer.seal(big)
    assert info.value.limit == 64_000 and info.value.size > 64_000
    assert "64000" in str(info.value)
    assert big.sequence == 0
    fits = user_packet(b"x" * 63_900)
    raw = sealer.seal(fits)
    assert len(raw) <= 64_000 and fits.sequence == 1
    # seal_all checks everything before sealing anything
    with pytest.raises(DataTooLarge):
        sealer.seal_all([user_packet(b"a"), user_packet(b"x" * 70_000)])
    assert sealer.next_sequence == 2
    assert len(sealer.seal_all([user_packet(b"a"), user_packet(b"b")])) == 2
    assert sealer.next_sequence == 4


# --------------------------------------------------------------------------- streams out


def test_text_stream_legacy_recipients_header_chunk_trailer() -> None:
    writer = TextStreamWriter(topic="t", destination_identities=["bob"], attributes={"a": "1"},
                              operation=OP_UPDATE, version=3, reply_to="r1", generated=True,
                              timestamp_ms=1234)
    packets = writer.send("bonjour ✓", LEGACY)
    assert [p.WhichOneof("value") for p in packets] == \
        ["stream_header", "stream_chunk", "stream_trailer"]
    header = packets[0].stream_header
    assert header.stream_id == writer.stream_id and len(writer.stream_id) == 36
    assert (header.timestamp, header.topic, header.mime_type) == (1234, "t", "text/plain")
    assert header.total_length == len("bonjour ✓".encode())
    assert dict(header.attributes) == {"a": "1"}
    th = header.text_header
    assert (th.operation_type, th.version, th.reply_to_stream_id, th.generated) == \
        (OP_UPDATE, 3, "r1", True)
    assert not header.HasField("inline_content")
    assert header.compression == 0
    assert all(list(p.destination_identities) == ["bob"] for p in packets)
    assert packets[1].stream_chunk.chunk_index == 0
    assert packets[2].stream_trailer.reason == ""
    result = only_text(feed_all(StreamAssembler(), packets))
    assert result.text == "bonjour ✓"
    assert result.info.operation == OP_UPDATE and result.info.reply_to_stream_id == "r1"
    assert result.info.destination_identities == ("bob",)


def test_text_stream_inline_when_every_recipient_is_v2() -> None:
    packets = TextStreamWriter(topic="lk.chat").send("salut", INLINE)
    assert len(packets) == 1
    header = packets[0].stream_header
    assert header.inline_content == b"salut" and header.total_length == 5
    result = only_text(feed_all(StreamAssembler(), packets))
    assert result.text == "salut" and result.info.inline


def test_inline_falls_back_to_chunks_when_it_does_not_fit() -> None:
    text = "x" * 20_000
    packets = TextStreamWriter(topic="t").send(text, INLINE)
    assert len(packets) == 4  # header, 2 chunks, trailer
    assert not packets[0].stream_header.HasField("inline_content")
    assert only_text(feed_all(StreamAssembler(), packets)).text == text


@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_chunks_split_on_character_boundaries(char: str) -> None:
    # "a" shifts the characters so that 15000 falls inside one of them
    text = "a" + char * (40_000 // len(char.encode()))
    packets = TextStreamWriter(topic="t").send(text, LEGACY)
    chunks = [p.stream_chunk.content for p in packets if p.WhichOneof("value") == "stream_chunk"]
    assert len(chunks) >= 3
    assert all(len(c) <= STREAM_CHUNK_SIZE for c in chunks)
    assert any(len(c) < STREAM_CHUNK_SIZE for c in chunks[:-1])  # a boundary was moved
    for chunk in chunks:
        chunk.decode("utf-8")  # each chunk is valid UTF-8 on its own
    assert only_text(feed_all(StreamAssembler(), packets)).text == text


def test_deflate_raw_when_every_recipient_supports_it() -> None:
    text = "ça va ? " * 10_000  # 90 kB, very compressible: inline after compression
    packets = TextStreamWriter(topic="t").send(text, ALL)
    assert len(packets) == 1
    header = packets[0].stream_header
    assert header.compression == COMPRESSION_DEFLATE_RAW
    assert header.total_length == len(text.encode())  # uncompressed length
    assert zlib.decompress(header.inline_content, -15) == text.encode()
    assert only_text(feed_all(StreamAssembler(), packets)).text == text


def test_deflate_raw_chunked_and_out_of_order() -> None:
    rng = random.Random(3)
    text = "€" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzé€😀 ") for _ in range(60_000))
    packets = TextStreamWriter(topic="t").send(text, ALL)
    header, *chunks, trailer = packets
    assert header.stream_header.compression == COMPRESSION_DEFLATE_RAW
    assert len(chunks) >= 2
    assert all(len(c.stream_chunk.content) <= STREAM_CHUNK_SIZE for c in chunks)
    rng.shuffle(chunks)
    assert only_text(feed_all(StreamAssembler(), [header, *chunks, trailer])).text == text


def test_no_compression_when_it_does_not_help() -> None:
    text = base64.b64encode(random.Random(1).randbytes(30)).decode()
    packets = TextStreamWriter(topic="t").send(text, ALL)
    assert packets[0].stream_header.compression == 0
    assert packets[0].stream_header.inline_content == text.encode()


def test_uncompressed_chunks_out_of_order_and_duplicates() -> None:
    text = "😀" * 12_000
    header, *chunks, trailer = TextStreamWriter(topic="t").send(text, LEGACY)
    chunks = [chunks[2], chunks[0], chunks[0], chunks[1], *chunks[3:]]
    assert only_text(feed_all(StreamAssembler(), [header, *chunks, trailer])).text == text


def test_incremental_text_stream() -> None:
    writer = TextStreamWriter(topic="lk.transcription", attributes={"lk.segment_id": "SG_1"})
    packets = [writer.open()]
    packets += writer.write("bonjour ")
    packets += writer.write("le monde")
    packets.append(writer.close(attributes={"lk.transcription_final": "true"}))
    assert not packets[0].stream_header.HasField("total_length")
    assert [p.stream_chunk.chunk_index for p in packets[1:3]] == [0, 1]
    result = only_text(feed_all(StreamAssembler(), packets))
    assert result.text == "bonjour le monde"
    assert result.info.attributes == {"lk.segment_id": "SG_1", "lk.transcription_final": "true"}
    with pytest.raises(RuntimeError):
        writer.write("more")
    with pytest.raises(RuntimeError):
        writer.send("again")


def test_writer_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        TextStreamWriter(topic="t").send("bad \ud800")
    with pytest.raises(DataTooLarge):
        TextStreamWriter(topic="t", attributes={"k": "v" * 20_000}).send("x")


def test_byte_stream_round_trips() -> None:
    data = bytes(range(256)) * 200
    for support in (LEGACY, INLINE, ALL):
        packets = ByteStreamWriter(topic="files", name="f.bin").send(data, support)
        results = feed_all(StreamAssembler(), packets)
        assert len(results) == 1 and isinstance(results[0], ByteStream)
        assert results[0].data == data
        assert results[0].info.name == "f.bin"
        assert results[0].info.mime_type == "application/octet-stream"
        assert not results[0].info.is_text


def test_stream_support_from_participants() -> None:
    v2 = models.ParticipantInfo(identity="a", client_protocol=2, capabilities=[2])
    v2_plain = models.ParticipantInfo(identity="b", client_protocol=2)
    old = models.ParticipantInfo(identity="c", client_protocol=1)
    assert StreamSupport.of([]) == StreamSupport(True, True)  # empty room
    assert StreamSupport.of([v2]) == StreamSupport(True, True)
    assert StreamSupport.of([v2, v2_plain]) == StreamSupport(True, False)
    assert StreamSupport.of([v2, old]) == StreamSupport(False, False)
    assert StreamSupport.for_send([v2, old], ["a"]) == StreamSupport(True, True)
    assert StreamSupport.for_send([v2, old], ["a", "nobody"]) == StreamSupport(False, False)


# --------------------------------------------------------------------------- streams in


def test_missing_chunk_fails_on_trailer() -> None:
    header, c0, _c1, c2, trailer = TextStreamWriter(topic="t").send("z" * 40_000, LEGACY)
    failure = only_failure(feed_all(StreamAssembler(), [header, c0, c2, trailer]))
    assert failure.kind is StreamErrorKind.MISSING_CHUNK and "[1]" in failure.detail
    assert failure.topic == "t"


def test_missing_last_chunk_is_a_length_mismatch() -> None:
    header, c0, c1, _c2, trailer = TextStreamWriter(topic="t").send("z" * 40_000, LEGACY)
    failure = only_failure(feed_all(StreamAssembler(), [header, c0, c1, trailer]))
    assert failure.kind is StreamErrorKind.LENGTH_MISMATCH


def test_missing_compressed_chunks() -> None:
    text = base64.b64encode(random.Random(5).randbytes(40_000)).decode()
    header, *chunks, trailer = TextStreamWriter(topic="t").send(text, ALL)
    assert len(chunks) >= 3
    gap = only_failure(feed_all(StreamAssembler(), [header, chunks[0], chunks[2], trailer]))
    assert gap.kind is StreamErrorKind.MISSING_CHUNK
    short = only_failure(feed_all(StreamAssembler(), [header, *chunks[:-1], trailer]))
    assert short.kind is StreamErrorKind.MISSING_CHUNK


def test_stale_stream_is_dropped() -> None:
    assembler = StreamAssembler(idle_timeout_s=30)
    header, c0, c1, trailer = TextStreamWriter(topic="t").send("y" * 20_000, LEGACY)
    assert feed_all(assembler, [header], now=0.0) == []
    assert feed_all(assembler, [c0], now=20.0) == []  # activity keeps it alive
    assert assembler.expire(now=45.0) == []
    failures = assembler.expire(now=50.0)
    assert len(failures) == 1 and failures[0].kind is StreamErrorKind.STALE
    assert assembler.open_count == 0 and assembler.buffered_bytes == 0
    assert feed_all(assembler, [c1, trailer], now=51.0) == []  # late pieces are ignored
    # expiry also happens while feeding other packets
    other = TextStreamWriter(topic="t").send("w" * 20_000, LEGACY)
    assembler.feed(other[0], "alice", now=100.0)
    results = assembler.feed(TextStreamWriter(topic="u").send("hi", INLINE)[0], "bob", now=140.0)
    assert [type(r) for r in results] == [StreamFailed, TextStream]


def test_size_limits() -> None:
    assembler = StreamAssembler(max_stream_bytes=10_000)
    announced = TextStreamWriter(topic="t").send("a" * 20_000, LEGACY)
    failure = only_failure(feed_all(assembler, announced[:1]))
    assert failure.kind is StreamErrorKind.TOO_LARGE and assembler.open_count == 0
    assert feed_all(assembler, announced[1:]) == []
    writer = TextStreamWriter(topic="t")
    unannounced = [writer.open(), *writer.write("b" * 20_000), writer.close()]
    assert only_failure(feed_all(assembler, unannounced)).kind is StreamErrorKind.TOO_LARGE
    bomb = TextStreamWriter(topic="t").send("c" * 5_000_000, ALL)  # inline, deflated
    assert len(bomb) == 1
    bomb[0].stream_header.ClearField("total_length")
    assert only_failure(feed_all(assembler, bomb)).kind is StreamErrorKind.TOO_LARGE


def test_too_many_open_streams_per_sender() -> None:
    assembler = StreamAssembler(max_open_per_sender=2)
    headers = [TextStreamWriter(topic="t").open() for _ in range(3)]
    results = feed_all(assembler, headers)
    assert only_failure(results).kind is StreamErrorKind.TOO_MANY_STREAMS
    assert feed_all(assembler, [TextStreamWriter(topic="t").open()], sender="bob") == []
    assert assembler.open_count == 3


def test_invalid_utf8_is_an_error_result() -> None:
    for support in (LEGACY, INLINE, ALL):
        packets = ByteStreamWriter(topic="t").send(b"ok \xff\xfe bad" * 3, support)
        for packet in packets:  # the same bytes, declared as text
            if packet.WhichOneof("value") == "stream_header":
                packet.stream_header.text_header.SetInParent()
        failure = only_failure(feed_all(StreamAssembler(), packets))
        assert failure.kind is StreamErrorKind.INVALID_UTF8


def test_bad_headers_and_content() -> None:
    header = TextStreamWriter(topic="t").send("hello", INLINE)[0]
    unknown = models.DataPacket()
    unknown.CopyFrom(header)
    unknown.stream_header.compression = 7  # type: ignore[assignment]
    assert only_failure(feed_all(StreamAssembler(), [unknown])).kind is StreamErrorKind.UNSUPPORTED
    no_content = models.DataPacket()
    no_content.CopyFrom(header)
    no_content.stream_header.ClearField("text_header")
    assert only_failure(feed_all(StreamAssembler(), [no_content])).kind is \
        StreamErrorKind.INVALID_HEADER
    bad_deflate = models.DataPacket()
    bad_deflate.CopyFrom(header)
    bad_deflate.stream_header.compression = COMPRESSION_DEFLATE_RAW
    bad_deflate.stream_header.inline_content = b"\xff\xff\xff not deflate"
    assert only_failure(feed_all(StreamAssembler(), [bad_deflate])).kind is \
        StreamErrorKind.DECOMPRESSION
    wrong_length = models.DataPacket()
    wrong_length.CopyFrom(header)
    wrong_length.stream_header.total_length = 99
    assert only_failure(feed_all(StreamAssembler(), [wrong_length])).kind is \
        StreamErrorKind.LENGTH_MISMATCH


def test_trailer_reason_and_sender_leaving() -> None:
    writer = TextStreamWriter(topic="t")
    packets = [writer.open(), *writer.write("partial"), writer.close(reason="cancelled")]
    failure = only_failure(feed_all(StreamAssembler(), packets))
    assert failure.kind is StreamErrorKind.ABORTED and "cancelled" in failure.detail
    assembler = StreamAssembler()
    feed_all(assembler, [TextStreamWriter(topic="t").open()], sender="alice")
    feed_all(assembler, [TextStreamWriter(topic="t").open()], sender="bob")
    left = assembler.participant_left("alice")
    assert [(f.sender_identity, f.kind) for f in left] == [("alice", StreamErrorKind.SENDER_LEFT)]
    assert assembler.open_count == 1
    assert [f.kind for f in assembler.reset()] == [StreamErrorKind.DISCONNECTED]


def test_streams_are_keyed_by_sender() -> None:
    a = TextStreamWriter(topic="t", stream_id="same").send("from alice", LEGACY)
    b = TextStreamWriter(topic="t", stream_id="same").send("from bob", LEGACY)
    assembler = StreamAssembler()
    results = []
    for pa, pb in zip(a, b, strict=True):
        results += assembler.feed(pa, "alice", 0.0)
        results += assembler.feed(pb, "bob", 0.0)
    assert sorted((r.info.sender_identity, r.text) for r in results) == \
        [("alice", "from alice"), ("bob", "from bob")]
    # chunks for a stream nobody opened are ignored
    assert feed_all(assembler, b[1:]) == []


# --------------------------------------------------------------------------- official SDK


def test_sdk_inline_chat_and_compressed_inline() -> None:
    assembler = StreamAssembler()
    chat = only_text(assembler.feed(sdk_packet("CHAT_INLINE"), "alice", 0.0))
    assert chat.text == "bonjour é ✓" and chat.info.topic == "lk.chat"
    assert chat.info.inline and not chat.info.compressed
    deflated = only_text(assembler.feed(sdk_packet("CHAT_INLINE_DEFLATE"), "alice", 0.0))
    assert deflated.text == "ça va? " * 5000 and deflated.info.compressed
    addressed = only_text(assembler.feed(sdk_packet("TEXT_TO_BOB"), "alice", 0.0))
    assert addressed.text == "hi" and addressed.info.attributes == {"k": "v"}
    assert addressed.info.reply_to_stream_id == "abc"
    assert addressed.info.destination_identities == ("bob",)


def test_sdk_chunked_compressed_stream() -> None:
    header, trailer = sdk_packet("NOISE_HEADER"), sdk_packet("NOISE_TRAILER")
    text = noise_text()
    assert header.stream_header.total_length == len(text.encode())
    body = deflate_raw(text.encode())
    chunks = []
    for index in range(0, len(body), STREAM_CHUNK_SIZE):
        chunk = models.DataPacket(participant_identity="alice")
        chunk.stream_chunk.stream_id = header.stream_header.stream_id
        chunk.stream_chunk.chunk_index = index // STREAM_CHUNK_SIZE
        chunk.stream_chunk.content = body[index:index + STREAM_CHUNK_SIZE]
        chunks.append(chunk)
    assert only_text(feed_all(StreamAssembler(), [header, *chunks, trailer])).text == text


def test_sdk_incremental_stream_with_trailer_attributes() -> None:
    names = ["TRANSCRIPTION_HEADER", "TRANSCRIPTION_CHUNK0", "TRANSCRIPTION_CHUNK1",
             "TRANSCRIPTION_TRAILER"]
    result = only_text(feed_all(StreamAssembler(), [sdk_packet(n) for n in names]))
    assert result.text == "hello world"
    assert result.info.attributes == {"lk.segment_id": "SG_1", "lk.transcription_final": "true"}


def test_sdk_packets_through_the_mux() -> None:
    mux = DataMux(caption_mode=CaptionMode.BOTH)
    events = []
    labels = {"LOSSY_USER": "_lossy"}
    for name in SDK_PACKETS:
        if name.startswith("NOISE"):
            continue
        events += mux.feed(sdk(name), labels.get(name, "_reliable"), now=0.0)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ChatReceived", "ChatReceived", "StreamReceived", "CaptionReceived",
                     "ReactionReceived", "UserData", "CaptionReceived", "StreamReceived",
                     "RpcRequest", "RpcAck", "RpcResponse"], events
    assert events[0].message.text == "bonjour é ✓"
    assert events[0].message.source is ChatSource.STREAM
    stream_caption, legacy_caption = events[3].caption, events[6].caption
    assert (stream_caption.segment_id, stream_caption.speaker_identity, stream_caption.text,
            stream_caption.final) == ("SG_1", "alice", "hello world", True)
    assert (legacy_caption.segment_id, legacy_caption.track_sid, legacy_caption.language,
            legacy_caption.source) == ("SG_2", "TR_x", "fr", "legacy")
    # kind=LOSSY on the reliable channel: the label wins
    assert events[4] == ReactionReceived("alice", "thumbs-up")
    assert events[5] == UserData("alice", "tt", b"xyz", False, ("bob",))
    assert events[7].content == b"\x00\x01binary" and events[7].info.name == "f.bin"
    request, ack, response = events[8:]
    assert (request.method, request.payload, request.version) == ("echo", "ping", 2)
    assert ack.request_id == request.request_id == response.request_id
    assert response.payload == "ping" and response.sender_identity == "bob"


# --------------------------------------------------------------------------- chat


def test_build_chat_like_the_web_app() -> None:
    out = build_chat("bonjour ✓", sender_identity="me", support=INLINE,
                     streams_supported_by_server=True, timestamp_ms=1755800000000)
    assert len(out.stream_packets) == 1
    header = out.stream_packets[0].stream_header
    assert header.topic == "lk.chat" and header.inline_content == "bonjour ✓".encode()
    assert header.timestamp == 1755800000000
    legacy = out.legacy_packet
    assert legacy is not None and legacy.user.topic == "lk-chat-topic"
    assert json.loads(legacy.user.payload) == {
        "id": header.stream_id, "timestamp": 1755800000000, "message": "bonjour ✓",
        "ignoreLegacy": True}
    assert b"\\u" not in legacy.user.payload and b": " not in legacy.user.payload
    assert out.packets[-1] is legacy
    assert out.message.id == header.stream_id and out.message.sender_identity == "me"
    old_server = build_chat("hi", sender_identity="me", streams_supported_by_server=False)
    assert json.loads(old_server.packets[-1].user.payload)["ignoreLegacy"] is False
    assert len(old_server.stream_packets) == 3  # legacy recipients: header, chunk, trailer
    no_legacy = build_chat("hi", sender_identity="me", legacy_copy=False)
    assert no_legacy.legacy_packet is None
    edit = build_chat("fixed", sender_identity="me", edit_of=header.stream_id, support=INLINE)
    edit_header = edit.stream_packets[0].stream_header
    assert edit_header.stream_id == header.stream_id
    assert edit_header.text_header.operation_type == OP_UPDATE and edit.message.edited


def test_outgoing_chat_limit() -> None:
    build_chat("é" * 2000, sender_identity="me")
    with pytest.raises(ChatTooLong, match="2001 characters"):
        build_chat("é" * 2001, sender_identity="me")
    assert chat_length("😀") == 2  # the browser textarea counts UTF-16 code units
    with pytest.raises(ChatTooLong):
        build_chat("😀" * 1001, sender_identity="me")
    with pytest.raises(ValueError, match="empty"):
        build_chat("  \n", sender_identity="me")
    with pytest.raises(ValueError, match="surrogate"):
        build_chat("a\udc80", sender_identity="me")


@pytest.mark.parametrize(("edition", "version", "expected"), [
    (0, "1.8.2", False), (0, "1.8.3", True), (0, "1.9.0", True), (0, "1.10.1", True),
    (0, "1.7.9", False), (0, "v1.9.0-rc1", True), (0, "", False), (1, "", True),
])
def test_server_supports_data_streams(edition: int, version: str, expected: bool) -> None:
    info = models.ServerInfo(edition=edition, version=version)  # type: ignore[arg-type]
    assert server_supports_data_streams(info) is expected
    assert server_supports_data_streams(None) is False


def legacy_payload(msg_id: str, message: str, ignore: object, stamp: int = 1) -> bytes:
    return json.dumps({"id": msg_id, "timestamp": stamp, "message": message,
                       "ignoreLegacy": ignore}).encode()


def test_chat_round_trip_through_the_mux() -> None:
    for server_streams in (True, False):
        out = build_chat("salut à tous", sender_identity="alice",
                         streams_supported_by_server=server_streams)
        mux = DataMux()
        events = mux_feed(mux, [_as_from(p, "alice") for p in out.packets])
        assert [type(e) for e in events] == [ChatReceived], events
        assert events[0].message.text == "salut à tous"
        assert events[0].message.id == out.message.id


def _as_from(packet: models.DataPacket, identity: str) -> models.DataPacket:
    """What the server forwards: the sender's identity filled in."""
    packet.participant_identity = identity
    return packet


def test_legacy_chat_ignore_and_dedupe() -> None:
    chat = ChatReceiver()
    assert chat.from_legacy(legacy_payload("m1", "hi", True), "bob") is None
    assert chat.from_legacy(legacy_payload("m1", "hi", 1), "bob") is None
    first = chat.from_legacy(legacy_payload("m1", "hi", False, 42), "bob")
    assert first is not None and not isinstance(first, Exception)
    assert (first.id, first.text, first.timestamp_ms, first.source, first.edited) == \
        ("m1", "hi", 42, ChatSource.LEGACY, False)
    # the stream copy of the same message is a duplicate
    stream = only_text(feed_all(StreamAssembler(), TextStreamWriter(
        topic="lk.chat", stream_id="m1").send("hi", INLINE), sender="bob"))
    assert chat.from_stream(stream) is None
    # and the other way round; another sender's m1 is another message
    stream2 = only_text(feed_all(StreamAssembler(), TextStreamWriter(
        topic="lk.chat", stream_id="m2").send("yo", INLINE), sender="bob"))
    assert chat.from_stream(stream2) is not None
    assert chat.from_legacy(legacy_payload("m2", "yo", False), "bob") is None
    other = chat.from_legacy(legacy_payload("m2", "yo", False), "carol")
    assert other is not None and other.sender_identity == "carol"


def test_chat_edits_and_deletes() -> None:
    chat = ChatReceiver()
    original = only_text(feed_all(StreamAssembler(), TextStreamWriter(
        topic="lk.chat", stream_id="m1", timestamp_ms=100).send("helo", INLINE)))
    edit = only_text(feed_all(StreamAssembler(), TextStreamWriter(
        topic="lk.chat", stream_id="m1", operation=OP_UPDATE, timestamp_ms=200).send(
        "hello", INLINE)))
    first, second = chat.from_stream(original), chat.from_stream(edit)
    assert first is not None and not first.edited
    assert second is not None and second.edited and second.text == "hello"
    assert second.timestamp_ms == 100  # an edit keeps the original time
    deleted = only_text(feed_all(StreamAssembler(), TextStreamWriter(
        topic="lk.chat", stream_id="m1", operation=OP_DELETE).send("", INLINE)))
    gone = chat.from_stream(deleted)
    assert gone is not None and gone.deleted and gone.text == ""
    message = models.ChatMessage(id="c1", timestamp=5, message="via chat_message")
    received = chat.from_chat_message(message, "bob")
    assert received is not None and received.source is ChatSource.CHAT_MESSAGE
    assert not received.edited
    message.edit_timestamp = 9
    message.message = "edited"
    edited = chat.from_chat_message(message, "bob")
    assert edited is not None and edited.edited and edited.text == "edited"


def test_bad_legacy_chat() -> None:
    chat = ChatReceiver()
    for payload, reason in [(b"not json", "not JSON"), (b"\xff\xfe", "UTF-8"),
                            (b"[1, 2]", "object"), (b'{"id": "x"}', "message")]:
        error = chat.from_legacy(payload, "bob")
        assert error is not None and not hasattr(error, "text"), error
        assert reason in error.reason  # type: ignore[union-attr]
    mux = DataMux()
    events = mux_feed(mux, [_as_from(user_packet(b"{oops", topic="lk-chat-topic"), "bob")])
    assert len(events) == 1 and isinstance(events[0], DataError)
    assert events[0].kind == "chat" and events[0].topic == "lk-chat-topic"


def test_incoming_chat_is_truncated_to_visio_limit() -> None:
    chat = ChatReceiver()
    long = "😀" * 1500  # 3000 UTF-16 units
    message = chat.from_legacy(legacy_payload("big", long, False), "bob")
    assert message is not None and not isinstance(message, Exception)
    assert message.truncated and chat_length(message.text) == 2000  # type: ignore[union-attr]
    assert message.text == "😀" * 1000  # type: ignore[union-attr]


def test_chat_stream_with_invalid_utf8_is_an_error_event() -> None:
    packets = ByteStreamWriter(topic="lk.chat").send(b"\xc3\x28", INLINE)
    packets[0].stream_header.text_header.SetInParent()
    events = mux_feed(DataMux(), [_as_from(p, "bob") for p in packets])
    assert len(events) == 1 and isinstance(events[0], DataError)
    assert events[0].kind == "stream_invalid_utf8" and events[0].topic == "lk.chat"


# --------------------------------------------------------------------------- visio


def test_reaction_builder_matches_the_web_app() -> None:
    packet = build_reaction("thumbs-up")
    assert packet.user.payload == b'{"type":"reactionReceived","data":{"emoji":"thumbs-up"}}'
    assert not packet.user.HasField("topic") and not packet.destination_identities
    with pytest.raises(ValueError, match="not one of Visio's reactions"):
        build_reaction("🚀")
    muted = build_participant_muted("bob")
    assert muted.user.payload == b'{"type":"participantMuted"}'
    assert list(muted.destination_identities) == ["bob"]
    removed = build_permissions_removed(["microphone"], ["bob"])
    assert json.loads(removed.user.payload) == {
        "type": "permissionsRemoved", "data": {"removedSources": ["microphone"]}}
    with pytest.raises(ValueError):
        build_permissions_removed(["keyboard"], ["bob"])


def test_parse_notifications() -> None:
    def parse(body: object, sender: str = "alice") -> object:
        return parse_notification(json.dumps(body).encode(), sender)

    for emoji in ("thumbs-up", "thumbs-down", "clapping-hands", "red-heart",
                  "face-with-tears-of-joy", "face-with-open-mouth", "party-popper",
                  "folded-hands"):
        assert parse({"type": "reactionReceived", "data": {"emoji": emoji}}) == \
            ReactionReceived("alice", emoji)
    assert parse({"type": "participantMuted"}) == ParticipantMuted("alice")
    assert parse({"type": "permissionsRemoved", "data": {"removedSources": ["camera"]}}) == \
        PermissionsRemoved("alice", ("camera",))
    assert parse({"type": "transcriptionStarted"}) == \
        RecordingNotification("alice", NotificationType.TRANSCRIPTION_STARTED)
    assert parse({"type": "screenRecordingLimitReached"}, "") == \
        RecordingNotification("", NotificationType.SCREEN_RECORDING_LIMIT_REACHED)
    assert parse({"type": "participantWaiting"}, "") == ParticipantWaiting("")
    assert parse({"type": "handRaised", "data": {"x": 1}}) == \
        OtherNotification("alice", NotificationType.HAND_RAISED, {"x": 1})


@pytest.mark.parametrize(("payload", "typed"), [
    (b"not json", False), (b"\xff\xfe{}", False), (b"[1]", False), (b'{"kind": 1}', False),
    (b'{"type": "somethingElse"}', False), (b"", False),
    (b'{"type": "reactionReceived", "data": {"emoji": "rocket"}}', True),
    (b'{"type": "reactionReceived", "data": {"emoji": "\xf0\x9f\x91\x8d"}}', True),
    (b'{"type": "reactionReceived"}', True),
    (b'{"type": "permissionsRemoved", "data": {"removedSources": []}}', True),
])
def test_notification_bad_input_is_ignored(payload: bytes, typed: bool) -> None:
    result = parse_notification(payload, "alice")
    assert isinstance(result, Ignored) and result.reason
    assert (result.notification_type is not None) is typed


def test_reaction_without_sender_is_ignored() -> None:
    result = parse_notification(b'{"type":"reactionReceived","data":{"emoji":"red-heart"}}', "")
    assert isinstance(result, Ignored)


def test_rate_limiter_and_raised_hand() -> None:
    limiter = RateLimiter(max_calls=10, window_s=1.0)
    assert all(limiter.allow(0.01 * i) for i in range(10))
    assert not limiter.allow(0.5)
    assert limiter.allow(1.001)
    raised = hand_attributes(True)
    stamp = hand_raised_at(raised)
    assert stamp is not None and raised["handRaisedAt"].endswith("Z")
    assert len(raised["handRaisedAt"]) == len("2025-08-21T18:13:20.000Z")
    assert hand_raised_at(hand_attributes(False)) is None
    assert hand_raised_at({}) is None and hand_raised_at({"handRaisedAt": "garbage"}) is None
    assert hand_raised_at({"handRaisedAt": "2025-08-21T18:13:20.123456+00:00"}) is not None


def test_mux_visio_events_and_user_data() -> None:
    mux = DataMux()
    packets = [_as_from(p, "alice") for p in (
        build_reaction("party-popper"),
        user_packet(b'{"type":"reactionReceived","data":{"emoji":"rocket"}}'),
        user_packet(b"\x00binary", topic="app"),
        user_packet(b'{"type":"participantMuted"}', destination_identities=["me"]),
    )]
    events = mux_feed(mux, packets)
    assert events == [ReactionReceived("alice", "party-popper"),
                      UserData("alice", "app", b"\x00binary", True),
                      ParticipantMuted("alice")]


# --------------------------------------------------------------------------- captions


def legacy_transcription(segment: str, text: str, final: bool,
                         speaker: str = "alice") -> models.Transcription:
    transcription = models.Transcription(transcribed_participant_identity=speaker,
                                         track_id="TR_mic")
    transcription.segments.add(id=segment, text=text, final=final)
    return transcription


def transcription_stream(segment: str, text: str, final: str | None,
                         track: str = "TR_mic") -> TextStream:
    attributes = {"lk.segment_id": segment, "lk.transcribed_track_id": track}
    if final is not None:
        attributes["lk.transcription_final"] = final
    packets = TextStreamWriter(topic="lk.transcription", attributes=attributes).send(text, INLINE)
    return only_text(feed_all(StreamAssembler(), packets, sender="agent"))


def test_legacy_captions_one_line_per_segment() -> None:
    tracker = CaptionTracker(mode=CaptionMode.LEGACY, clock=lambda: 7.0)
    interim = tracker.from_legacy(legacy_transcription("SG_1", "bon", False), "agent")
    final = tracker.from_legacy(legacy_transcription("SG_1", "bonjour", True), "agent")
    again = tracker.from_legacy(legacy_transcription("SG_1", "bonjour", True), "agent")
    assert [(c.text, c.final) for c in interim + final] == [("bon", False), ("bonjour", True)]
    assert again == []
    caption = final[0]
    assert (caption.segment_id, caption.speaker_identity, caption.track_sid,
            caption.received_at) == ("SG_1", "alice", "TR_mic", 7.0)
    assert tracker.from_stream(transcription_stream("SG_2", "x", "true")) is None


def test_stream_captions_and_speaker_attribution() -> None:
    owners = {"TR_mic": "alice"}
    tracker = CaptionTracker(track_owner=owners.get)
    assert tracker.from_legacy(legacy_transcription("SG_1", "x", True), "agent") == []
    interim = tracker.from_stream(transcription_stream("SG_5", "hel", "false"), now=1.0)
    final = tracker.from_stream(transcription_stream("SG_5", "hello", "true"), now=2.0)
    late = tracker.from_stream(transcription_stream("SG_5", "hello!", "false"), now=3.0)
    assert interim is not None and final is not None and late is None
    assert (interim.text, interim.final, final.text, final.final) == \
        ("hel", False, "hello", True)
    assert final.speaker_identity == "alice"  # the owner of lk.transcribed_track_id
    unknown = tracker.from_stream(transcription_stream("SG_6", "hi", None, track="TR_other"))
    assert unknown is not None and unknown.speaker_identity == "agent" and unknown.final


def test_captions_through_the_mux() -> None:
    mux = DataMux(track_owner={"TR_mic": "alice"}.get)
    legacy = models.DataPacket(participant_identity="agent")
    legacy.transcription.CopyFrom(legacy_transcription("SG_1", "ignored", True))
    stream = TextStreamWriter(topic="lk.transcription", attributes={
        "lk.segment_id": "SG_2", "lk.transcription_final": "true",
        "lk.transcribed_track_id": "TR_mic"}).send("bonjour", INLINE)
    events = mux_feed(mux, [legacy, *(_as_from(p, "alice") for p in stream)], now=3.0)
    assert len(events) == 1 and isinstance(events[0], CaptionReceived)
    assert events[0].caption.text == "bonjour" and events[0].caption.received_at == 3.0


# --------------------------------------------------------------------------- mux


def test_malformed_packets_give_one_error_each_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    mux = DataMux()
    with caplog.at_level(logging.DEBUG, logger="visio_desktop.net.data.mux"):
        first = mux.feed(b"\xff\xff\xff\xff", "_reliable")
        second = mux.feed(b"\x0a\x05ab", "_reliable")  # truncated field
    assert [type(e) for e in first + second] == [DataError, DataError]
    assert first[0].kind == "malformed" and "not a DataPacket" in first[0].detail
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert [type(e) for e in mux.feed("text", "_reliable")] == [DataError]
    assert [e.kind for e in mux.feed(b"", "_reliable")] == ["malformed"]  # nothing inside
    assert mux.feed(b"\x01\x02", "_data_track") == []


def test_mux_drops_replayed_reliable_sequences() -> None:
    mux = DataMux()
    packet = user_packet(b"\x01", topic="app")
    packet.participant_identity, packet.participant_sid, packet.sequence = "bob", "PA_bob", 5
    raw = packet.SerializeToString()
    assert len(mux.feed(raw, "_reliable", now=0.0)) == 1
    assert mux.feed(raw, "_reliable", now=1.0) == []
    assert len(mux.feed(raw, "_lossy", now=1.0)) == 1  # lossy packets are not sequenced
    assert mux.receive_states() == {"PA_bob": 5}
    assert len(mux.feed(raw, "_reliable", now=40.0)) == 1  # state expires after 30 s
    mux.tick(now=100.0)
    assert mux.receive_states() == {}


def test_mux_rpc_v1_dtmf_and_unsupported() -> None:
    mux = DataMux()
    request = models.DataPacket(participant_identity="bob")
    request.rpc_request.CopyFrom(models.RpcRequest(id="r1", method="m", payload="p",
                                                   response_timeout_ms=7000, version=1))
    failure = models.DataPacket(participant_identity="bob")
    failure.rpc_response.request_id = "r1"
    failure.rpc_response.error.CopyFrom(models.RpcError(code=1500, message="boom"))
    ack = models.DataPacket(participant_identity="bob")
    ack.rpc_ack.request_id = "r1"
    dtmf = models.DataPacket(participant_identity="sip")
    dtmf.sip_dtmf.code, dtmf.sip_dtmf.digit = 3, "3"
    encrypted = models.DataPacket(participant_identity="bob")
    encrypted.encrypted_packet.encrypted_value = b"\x00"
    events = mux_feed(mux, [request, ack, failure, dtmf, encrypted])
    assert events[0] == RpcRequest("bob", "r1", "m", "p", 7000, 1)
    assert events[1] == RpcAck("bob", "r1")
    assert isinstance(events[2], RpcResponse) and events[2].payload is None
    assert events[2].error is not None and events[2].error.code == 1500
    assert events[3] == DtmfReceived("sip", 3, "3")
    assert isinstance(events[4], DataError) and events[4].kind == "unsupported"


def test_mux_other_streams_and_sender_leaving() -> None:
    mux = DataMux()
    done = TextStreamWriter(topic="app.notes").send("note", INLINE)
    writer = TextStreamWriter(topic="app.notes")
    unfinished = [writer.open(), *writer.write("half")]
    events = mux_feed(mux, [_as_from(p, "bob") for p in done + unfinished])
    assert len(events) == 1 and isinstance(events[0], StreamReceived)
    assert events[0].content == "note" and events[0].sender_identity == "bob"
    left = mux.participant_left("bob")
    assert len(left) == 1 and isinstance(left[0], DataError)
    assert left[0].kind == "stream_sender_left" and left[0].topic == "app.notes"
    assert left[0].stream is not None and left[0].stream.info is not None


def test_mux_stale_streams_on_tick() -> None:
    mux = DataMux()
    writer = TextStreamWriter(topic="t")
    mux_feed(mux, [_as_from(writer.open(), "bob")], now=0.0)
    assert mux.tick(now=10.0) == []
    events = mux.tick(now=31.0)
    assert len(events) == 1 and events[0].kind == "stream_stale"


def test_auto_caption_mode_takes_legacy_only_from_senders_without_streams() -> None:
    from visio_desktop.net.data.captions import CaptionMode, CaptionTracker
    from visio_desktop.net.data.streams import StreamInfo, TextStream

    tracker = CaptionTracker(mode=CaptionMode.AUTO)
    legacy = models.Transcription(transcribed_participant_identity="alice", track_id="TR_a",
                                  segments=[models.TranscriptionSegment(id="S1", text="bonjour",
                                                                        final=True)])
    assert [c.text for c in tracker.from_legacy(legacy, "old-agent")] == ["bonjour"]
    info = StreamInfo(stream_id="s1", sender_identity="new-agent", topic="lk.transcription",
                      mime_type="text/plain", timestamp_ms=0, total_length=None,
                      attributes={"lk.segment_id": "SG_1", "lk.transcription_final": "true"},
                      is_text=True)
    assert tracker.from_stream(TextStream(info, "salut")) is not None
    legacy2 = models.Transcription(transcribed_participant_identity="bob", track_id="TR_b",
                                   segments=[models.TranscriptionSegment(id="S2", text="dup",
                                                                         final=True)])
    assert tracker.from_legacy(legacy2, "new-agent") == []  # its streams already carry it
