"""Data-packet relay: what one participant sends on ``_reliable``/``_lossy`` reaches the others.

As LiveKit does: the sender's identity and sid are rewritten by the server, ``destination
identities`` (or the legacy ``destination_sids``) are honoured, the packet keeps its kind,
channel and ``sequence``, and every ``DataPacket`` kind passes (user packets, chat, transcription,
text-stream header/chunk/trailer, RPC). Reliable packets replayed with an old sequence and user
packets with a repeated nonce are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError
from livekit.protocol import models

if TYPE_CHECKING:
    from visio_desktop.server.session import ParticipantSession

log = logging.getLogger(__name__)

#: Larger than any packet a LiveKit client sends (they clamp to 64000 bytes).
MAX_DATA_PACKET_BYTES = 65_535
NONCE_MEMORY = 256


class DataError(Exception):
    """The sender broke the data protocol."""


@dataclass
class SenderState:
    last_sequence: int = 0
    nonces: list[bytes] = field(default_factory=list)
    refused: int = 0


async def relay(sender: ParticipantSession, label: str, message: bytes | str) -> None:
    if label not in ("_reliable", "_lossy"):
        return  # other channels (e.g. _data_track) are not relayed
    if isinstance(message, str):
        raise DataError("data packets must be sent as binary")
    if len(message) > MAX_DATA_PACKET_BYTES:
        raise DataError(f"data packet of {len(message)} bytes is over the "
                        f"{MAX_DATA_PACKET_BYTES}-byte limit")
    packet = models.DataPacket()
    try:
        packet.ParseFromString(message)
    except DecodeError as exc:
        raise DataError("malformed data packet") from exc
    if not sender.permission.can_publish_data:
        sender.data_state.refused += 1
        if sender.data_state.refused == 1:
            log.info("participant %s may not publish data; its packets are dropped",
                     sender.identity)
        return
    reliable = label == "_reliable"
    state = sender.data_state
    if reliable and packet.sequence:
        if packet.sequence <= state.last_sequence:
            return
        state.last_sequence = packet.sequence
    kind = packet.WhichOneof("value")
    log.debug("data %s from %s (%d bytes)", kind, sender.identity, len(message))
    if kind == "metrics":
        return  # LiveKit never forwards metrics
    packet.kind = models.DataPacket.Kind.RELIABLE if reliable else models.DataPacket.Kind.LOSSY
    identity = "" if sender.hidden else sender.identity
    sid = "" if sender.hidden else sender.sid
    keep_identity = sender.kind == models.ParticipantInfo.Kind.AGENT and \
        packet.participant_identity  # an agent may publish on behalf of someone
    if not keep_identity:
        packet.participant_identity = identity
    packet.participant_sid = sid
    destinations = list(packet.destination_identities)
    if kind == "user":
        user = packet.user
        if user.nonce:
            if user.nonce in state.nonces:
                return
            state.nonces.append(user.nonce)
            del state.nonces[:-NONCE_MEMORY]
        user.participant_identity = packet.participant_identity
        user.participant_sid = sid
        if not destinations:
            destinations = list(user.destination_identities)
        if not destinations and user.destination_sids:
            by_sid = {p.sid: p.identity for p in sender.room.participants.values()}
            destinations = [by_sid[s] for s in user.destination_sids if s in by_sid]
        del user.destination_identities[:]
        user.destination_identities.extend(destinations)
    del packet.destination_identities[:]
    packet.destination_identities.extend(destinations)
    payload = packet.SerializeToString()
    targets = destinations or None
    for other in list(sender.room.participants.values()):
        if other is sender or other.ws.closed:
            continue
        if targets is not None and other.identity not in targets:
            continue
        other.send_data(reliable, payload)
