"""Outgoing ``DataPacket``s: building, sequencing and the size guard.

Building and sealing are separate steps. Builders return an unsealed ``models.DataPacket``
(no ``sequence``); the Room's send path calls :meth:`PacketSealer.seal` at the moment it
hands the bytes to a data channel, so reliable sequence numbers follow the real send order.
A sealed packet keeps its ``sequence`` forever: resend the returned bytes, never re-seal
(receivers and the server drop a reliable ``sequence`` at or below the last one seen, and
JS receivers dedupe by ``(participant_sid, sequence)``).

Facts (livekit-protocol.md §3.1–3.3):

- labels ``_reliable`` (ordered) and ``_lossy`` (unordered, no retransmits);
- ``kind`` is deprecated and overwritten by the server with the channel a packet arrived
  on. The official Python SDK 1.2.1 even sends reliable user packets with ``kind=LOSSY``,
  so receivers must go by the channel label, never by ``kind``;
- JS and Rust clamp a message to ``min(a=max-message-size, 64000)`` bytes;
- ``participant_identity`` / ``participant_sid`` are set by the server; a sender only
  fills ``participant_identity`` to publish on someone's behalf (agents).
"""

from __future__ import annotations

from collections.abc import Sequence

from livekit.protocol import models

RELIABLE_LABEL = "_reliable"
LOSSY_LABEL = "_lossy"
DATA_TRACK_LABEL = "_data_track"

#: What JS and Rust clients accept for one data-channel message.
MAX_PACKET_BYTES = 64_000
_MAX_SEQUENCE = 0xFFFF_FFFF


class DataTooLarge(ValueError):
    """A serialized packet (or a part of one that must fit a budget) is over its limit."""

    def __init__(self, size: int, limit: int, what: str = "data packet") -> None:
        super().__init__(f"{what} is {size} bytes serialized; the limit is {limit} bytes")
        self.size = size
        self.limit = limit


def is_reliable_label(channel_label: str) -> bool:
    """Whether a data channel label is the reliable one (anything but ``_lossy``)."""
    return channel_label != LOSSY_LABEL


def label_for(reliable: bool) -> str:
    return RELIABLE_LABEL if reliable else LOSSY_LABEL


def user_packet(payload: bytes, *, topic: str | None = None,
                destination_identities: Sequence[str] = (),
                participant_identity: str = "") -> models.DataPacket:
    """An unsealed ``DataPacket`` carrying a ``UserPacket`` (``publishData``).

    ``topic=None`` leaves the optional field unset (what Visio's notifications use); the
    destinations go on both the packet and the deprecated ``UserPacket`` field, as JS does.
    """
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
    packet = models.DataPacket(participant_identity=participant_identity)
    packet.destination_identities.extend(destination_identities)
    user = packet.user
    user.payload = bytes(payload)
    if topic is not None:
        user.topic = topic
    user.destination_identities.extend(destination_identities)
    return packet


def serialized_size(packet: models.DataPacket) -> int:
    return packet.ByteSize()


def check_size(packet: models.DataPacket, limit: int = MAX_PACKET_BYTES,
               what: str = "data packet") -> int:
    """Raise :class:`DataTooLarge` when ``packet`` serializes to more than ``limit`` bytes."""
    size = packet.ByteSize()
    if size > limit:
        raise DataTooLarge(size, limit, what)
    return size


class PacketSealer:
    """Assigns the reliable ``sequence`` (1, 2, …) and the ``kind``, checks the size, serializes.

    One instance per Room connection (a new sid restarts at 1, as JS and Rust do); keep it
    across a resume so sequences keep increasing.
    """

    def __init__(self, max_bytes: int = MAX_PACKET_BYTES) -> None:
        self.max_bytes = max_bytes
        self._next = 1

    @property
    def next_sequence(self) -> int:
        return self._next

    @property
    def last_sequence(self) -> int:
        """The sequence of the last reliable packet sealed (0 if none yet)."""
        return self._next - 1

    def seal(self, packet: models.DataPacket, *, reliable: bool = True) -> bytes:
        """Serialize ``packet`` for the ``_reliable`` (or ``_lossy``) channel.

        A reliable packet without a sequence gets the next one; a packet that already has
        one keeps it (never renumbered). Raises :class:`DataTooLarge` without consuming a
        sequence number when the result would be over ``max_bytes``.
        """
        self._check(packet, reliable, self._next)
        self._stamp(packet, reliable, self._next)
        if reliable and packet.sequence == self._next:
            self._next = self._next + 1 if self._next < _MAX_SEQUENCE else 1
        return packet.SerializeToString()

    def seal_all(self, packets: Sequence[models.DataPacket], *,
                 reliable: bool = True) -> list[bytes]:
        """Seal several packets in order (e.g. a stream's header, chunks and trailer).

        Every packet is size-checked first, so a failure seals nothing and consumes no
        sequence number.
        """
        seq = self._next
        for packet in packets:
            self._check(packet, reliable, seq)
            if reliable and not packet.sequence:
                seq += 1
        return [self.seal(packet, reliable=reliable) for packet in packets]

    @staticmethod
    def _stamp(packet: models.DataPacket, reliable: bool, seq: int) -> None:
        packet.kind = models.DataPacket.Kind.RELIABLE if reliable else models.DataPacket.Kind.LOSSY
        if reliable and not packet.sequence:
            packet.sequence = seq

    def _check(self, packet: models.DataPacket, reliable: bool, seq: int) -> None:
        kind, sequence = packet.kind, packet.sequence
        self._stamp(packet, reliable, seq)
        try:
            check_size(packet, self.max_bytes)
        finally:
            packet.kind, packet.sequence = kind, sequence
