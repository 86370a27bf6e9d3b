"""The data layer of our LiveKit client: pure (no network, no asyncio) parsing and building of
data-channel packets — user packets, text/byte streams, chat, Visio notifications, captions
and RPC passthrough.

The Room feeds every message received on ``_reliable`` / ``_lossy`` to
:meth:`DataMux.feed` and sends what the builders return, sealed by one
:class:`PacketSealer` per connection.
"""

from visio_desktop.net.data.captions import Caption, CaptionMode, CaptionTracker
from visio_desktop.net.data.chat import (
    CHAT_TOPIC,
    LEGACY_CHAT_TOPIC,
    MAX_CHAT_CHARS,
    ChatMessage,
    ChatReceiver,
    ChatSource,
    ChatTooLong,
    OutgoingChat,
    build_chat,
    server_supports_data_streams,
)
from visio_desktop.net.data.mux import (
    CaptionReceived,
    ChatReceived,
    DataError,
    DataEvent,
    DataMux,
    DtmfReceived,
    RpcAck,
    RpcErrorInfo,
    RpcRequest,
    RpcResponse,
    StreamReceived,
    UserData,
)
from visio_desktop.net.data.packets import (
    LOSSY_LABEL,
    MAX_PACKET_BYTES,
    RELIABLE_LABEL,
    DataTooLarge,
    PacketSealer,
    user_packet,
)
from visio_desktop.net.data.streams import (
    ByteStream,
    ByteStreamWriter,
    StreamAssembler,
    StreamErrorKind,
    StreamFailed,
    StreamInfo,
    StreamSupport,
    TextStream,
    TextStreamWriter,
)
from visio_desktop.net.data.visio import (
    REACTION_EMOJIS,
    Ignored,
    NotificationType,
    OtherNotification,
    ParticipantMuted,
    ParticipantWaiting,
    PermissionsRemoved,
    RateLimiter,
    ReactionReceived,
    RecordingNotification,
    build_notification,
    build_participant_muted,
    build_reaction,
    hand_attributes,
    hand_raised_at,
    parse_notification,
)

__all__ = [
    "CHAT_TOPIC", "LEGACY_CHAT_TOPIC", "LOSSY_LABEL", "MAX_CHAT_CHARS", "MAX_PACKET_BYTES",
    "REACTION_EMOJIS", "RELIABLE_LABEL",
    "ByteStream", "ByteStreamWriter", "Caption", "CaptionMode", "CaptionReceived",
    "CaptionTracker", "ChatMessage", "ChatReceived", "ChatReceiver", "ChatSource",
    "ChatTooLong", "DataError", "DataEvent", "DataMux", "DataTooLarge", "DtmfReceived",
    "Ignored", "NotificationType", "OtherNotification", "OutgoingChat", "PacketSealer",
    "ParticipantMuted", "ParticipantWaiting", "PermissionsRemoved", "RateLimiter",
    "ReactionReceived", "RecordingNotification", "RpcAck", "RpcErrorInfo", "RpcRequest",
    "RpcResponse", "StreamAssembler", "StreamErrorKind", "StreamFailed", "StreamInfo",
    "StreamReceived", "StreamSupport", "TextStream", "TextStreamWriter", "UserData",
    "build_chat", "build_notification", "build_participant_muted", "build_reaction",
    "hand_attributes", "hand_raised_at", "parse_notification", "server_supports_data_streams",
    "user_packet",
]
