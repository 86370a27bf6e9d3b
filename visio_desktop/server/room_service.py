"""LiveKit's ``RoomService`` API (Twirp) on the embedded server: the admin actions of a meeting.

A Visio backend does its moderation through LiveKit's server API, and a host's client can do the
same with its own join token when that token grants ``roomAdmin`` (see visio-meet-api.md §9).
``POST /twirp/livekit.RoomService/<Method>`` takes and answers ``application/protobuf`` or
``application/json`` (proto field names, camelCase accepted, unknown fields ignored), as
LiveKit's Twirp server does; errors are Twirp JSON ``{"code", "msg"}`` with Twirp's HTTP status.

Authorisation follows ``livekit-server``'s ``pkg/service``: ``Authorization: Bearer <token>``
(or ``access_token=``) signed with one of the server's keys; ``ListRooms`` needs ``roomList``,
``CreateRoom`` and ``DeleteRoom`` need ``roomCreate``, every other method ``roomAdmin`` for the
room named in the request. A missing grant is ``unauthenticated`` (401) ``permissions denied``,
as LiveKit answers; a missing or bad token is ``unauthenticated`` too (LiveKit's middleware
answers those with a plain-text 401). ``SendData`` payloads are limited to a data packet's size
(about 64 KB); ``max_participants`` and the other room options of ``CreateRoom`` are not kept.

Behaviour, as ``RoomManager`` / ``ParticipantImpl`` in livekit-server:

- ``CreateRoom`` is idempotent (an existing room keeps its participants; a non-empty
  ``metadata`` replaces its metadata, and participants get a ``room_update``). A room nobody
  joins is closed after ``empty_timeout`` (default 300 s).
- ``DeleteRoom`` disconnects everyone with ``ROOM_DELETED``.
- ``RemoveParticipant``: the participant gets a ``leave`` with ``PARTICIPANT_REMOVED``.
- ``MutePublishedTrack``: the publisher gets a ``mute`` signal (its SDK mutes the track), the
  track is marked muted for everyone at once, and the answer holds its ``TrackInfo`` (none for an
  unknown track, as LiveKit). Unmuting someone is refused with ``failed_precondition`` unless
  ``allow_remote_unmute`` (LiveKit's ``room.enable_remote_unmute``, off by default).
- ``UpdateParticipant``: non-empty ``name``/``metadata`` replace, ``attributes`` merge (a value
  ``""`` deletes the key), ``permission`` replaces the permission; everyone, the participant
  included, gets a ``ParticipantUpdate``. When publishing a source is no longer allowed, the
  server unpublishes those tracks as LiveKit does (``track_unpublished`` to the publisher, the
  track gone for everyone); when subscribing is revoked its subscriptions end, and when granted
  again it is subscribed to everything (if it auto-subscribes). ``hidden`` cannot change during
  a session here: it keeps its value.
- ``UpdateSubscriptions`` subscribes or unsubscribes a participant to tracks.
- ``SendData``: a user packet from the server (no sender identity) to everyone, or to the
  destination identities / sids, reliable or lossy, with its topic; a repeated nonce is dropped.
- ``UpdateRoomMetadata``: every participant gets a ``room_update``.
- ``ForwardParticipant``, ``MoveParticipant`` and ``PerformRpc`` answer ``unimplemented``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.protocol import models, rtc
from livekit.protocol import room as room_pb

from visio_desktop.net.token import Claims, TokenError, verify_token
from visio_desktop.server.auth import may_publish_source, token_from_request
from visio_desktop.server.data import MAX_DATA_PACKET_BYTES

if TYPE_CHECKING:
    from visio_desktop.server.app import ServerContext
    from visio_desktop.server.room import Room
    from visio_desktop.server.session import ParticipantSession

log = logging.getLogger(__name__)

PREFIX = "/twirp/livekit.RoomService/"
MAX_BODY_BYTES = 1 << 20
# livekit-server's default limits (config.LimitConfig)
MAX_METADATA_BYTES = 512 * 1024
MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_NAME_LENGTH = 256
DEFAULT_EMPTY_TIMEOUT_S = 300
NONCE_MEMORY = 1024
CORS = {"Access-Control-Allow-Origin": "*"}

# Twirp error codes and their HTTP statuses (twirp/errors.go)
STATUS = {
    "canceled": 408, "unknown": 500, "invalid_argument": 400, "malformed": 400,
    "deadline_exceeded": 408, "not_found": 404, "bad_route": 404, "already_exists": 409,
    "permission_denied": 403, "unauthenticated": 401, "resource_exhausted": 429,
    "failed_precondition": 412, "aborted": 409, "out_of_range": 400, "unimplemented": 501,
    "internal": 500, "unavailable": 503, "dataloss": 500,
}


class TwirpError(Exception):
    def __init__(self, code: str, msg: str, meta: dict[str, str] | None = None,
                 status: int | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.meta = meta or {}
        self.status = status or STATUS[code]

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.meta:
            body["meta"] = self.meta
        return web.Response(status=self.status, text=json.dumps(body),
                            content_type="application/json", headers=CORS)


def _not_found(what: str) -> TwirpError:
    return TwirpError("not_found", what)


def _permission_denied() -> TwirpError:
    return TwirpError("unauthenticated", "permissions denied")


Handler = Callable[[Any], Awaitable[Message]]


@dataclass(frozen=True, slots=True)
class _Method:
    request: type[Message]
    handler: Handler
    grant: str  # "admin" (roomAdmin for the request's room), "create" or "list"


class RoomService:
    """Serves ``/twirp/livekit.RoomService/*`` for the rooms of ``ctx``."""

    def __init__(self, ctx: ServerContext, *, allow_remote_unmute: bool = False) -> None:
        self.ctx = ctx
        self.allow_remote_unmute = allow_remote_unmute
        self._nonces: weakref.WeakKeyDictionary[Room, collections.deque[bytes]] = \
            weakref.WeakKeyDictionary()
        self._methods: dict[str, _Method] = {
            "CreateRoom": _Method(room_pb.CreateRoomRequest, self.create_room, "create"),
            "ListRooms": _Method(room_pb.ListRoomsRequest, self.list_rooms, "list"),
            "DeleteRoom": _Method(room_pb.DeleteRoomRequest, self.delete_room, "create"),
            "ListParticipants": _Method(room_pb.ListParticipantsRequest, self.list_participants,
                                        "admin"),
            "GetParticipant": _Method(room_pb.RoomParticipantIdentity, self.get_participant,
                                      "admin"),
            "RemoveParticipant": _Method(room_pb.RoomParticipantIdentity,
                                         self.remove_participant, "admin"),
            "MutePublishedTrack": _Method(room_pb.MuteRoomTrackRequest,
                                          self.mute_published_track, "admin"),
            "UpdateParticipant": _Method(room_pb.UpdateParticipantRequest,
                                         self.update_participant, "admin"),
            "UpdateSubscriptions": _Method(room_pb.UpdateSubscriptionsRequest,
                                           self.update_subscriptions, "admin"),
            "SendData": _Method(room_pb.SendDataRequest, self.send_data, "admin"),
            "UpdateRoomMetadata": _Method(room_pb.UpdateRoomMetadataRequest,
                                          self.update_room_metadata, "admin"),
        }
        self._unimplemented = {"ForwardParticipant", "MoveParticipant", "PerformRpc"}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", PREFIX + "{method}", self._serve)

    # -- Twirp ----------------------------------------------------------------------------------
    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":  # CORS preflight, as livekit-server allows
            return web.Response(status=204, headers={
                **CORS, "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600"})
        try:
            return await self._call(request)
        except TwirpError as exc:
            if exc.status >= 500:
                log.warning("RoomService %s failed: %s", request.path, exc.msg)
            return exc.response()

    async def _call(self, request: web.Request) -> web.Response:
        # the token first, as livekit-server's auth middleware runs before Twirp routing
        try:
            claims = verify_token(token_from_request(request.headers, request.query),
                                  self.ctx.keys)
        except TokenError as exc:
            raise TwirpError("unauthenticated", f"invalid authorization token: {exc}") from exc
        name = request.match_info["method"]
        route = f"{request.method} {request.path}"
        if request.method != "POST":
            raise TwirpError("bad_route", f"unsupported method {request.method!r} (only POST "
                             "is allowed)", {"twirp_invalid_route": route})
        method = self._methods.get(name)
        if method is None:
            if name in self._unimplemented:
                raise TwirpError("unimplemented", f"{name} is not supported by this server")
            raise TwirpError("bad_route", f"no handler for path {request.path!r}",
                             {"twirp_invalid_route": route})
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in ("application/json", "application/protobuf"):
            raise TwirpError("bad_route", f"unexpected Content-Type: {content_type!r}",
                             {"twirp_invalid_route": route})
        as_json = content_type == "application/json"
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise TwirpError("resource_exhausted", "request body too large", status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise TwirpError("resource_exhausted", "request body too large", status=413) from exc
        req = _decode(method.request, body, as_json)
        self._authorise(claims, method.grant, getattr(req, "room", ""))
        try:
            answer = await method.handler(req)
        except TwirpError:
            raise
        except Exception as exc:
            log.exception("RoomService %s failed", name)
            raise TwirpError("internal", f"{name} failed") from exc
        if as_json:
            text = json_format.MessageToJson(answer, preserving_proto_field_name=True,
                                             always_print_fields_with_no_presence=True, indent=None)
            return web.Response(text=text, content_type="application/json", headers=CORS)
        return web.Response(body=answer.SerializeToString(), content_type="application/protobuf",
                            headers=CORS)

    @staticmethod
    def _authorise(claims: Claims, grant: str, room: str) -> None:
        video = claims.video
        allowed = (video.room_create if grant == "create" else video.room_list
                   if grant == "list" else video.room_admin and video.room == room)
        if not allowed:
            raise _permission_denied()

    # -- lookups ------------------------------------------------------------------------------
    def _room(self, name: str) -> Room:
        room = self.ctx.rooms.rooms.get(name)
        if room is None:
            raise _not_found("requested room does not exist")
        return room

    def _participant(self, room_name: str, identity: str) -> tuple[Room, ParticipantSession]:
        room = self._room(room_name)
        session = room.participants.get(identity)
        if session is None:
            raise _not_found("participant does not exist")
        return room, session

    # -- rooms --------------------------------------------------------------------------------
    async def create_room(self, req: room_pb.CreateRoomRequest) -> models.Room:
        if not req.name:
            raise TwirpError("invalid_argument", "no room name")
        if len(req.name) > MAX_NAME_LENGTH:
            raise TwirpError("invalid_argument",
                             f"room name length exceeds limits: max length {MAX_NAME_LENGTH}")
        _check_metadata(req.metadata)
        existed = req.name in self.ctx.rooms.rooms
        room = self.ctx.rooms.get_or_create(req.name)
        if req.metadata and req.metadata != room.metadata:
            room.metadata = req.metadata
            _send_room_update(room)
        if not existed:
            timeout = req.empty_timeout or DEFAULT_EMPTY_TIMEOUT_S
            asyncio.get_running_loop().call_later(timeout, self._close_if_unused, room)
        return room.info()

    def _close_if_unused(self, room: Room) -> None:
        """A room created through the API that nobody joined closes after its empty timeout
        (one that was joined closes when its last participant leaves)."""
        if not room.participants:
            self.ctx.rooms.discard(room)

    async def list_rooms(self, req: room_pb.ListRoomsRequest) -> room_pb.ListRoomsResponse:
        names = set(req.names)
        return room_pb.ListRoomsResponse(rooms=[
            room.info() for room in list(self.ctx.rooms.rooms.values())
            if not names or room.name in names])

    async def delete_room(self, req: room_pb.DeleteRoomRequest) -> room_pb.DeleteRoomResponse:
        room = self._room(req.room)
        log.info("room %s deleted through the API", room.name)
        await asyncio.gather(*(
            session.close(models.DisconnectReason.ROOM_DELETED, notify=True)
            for session in list(room.participants.values())))
        self.ctx.rooms.discard(room)
        return room_pb.DeleteRoomResponse()

    async def update_room_metadata(self, req: room_pb.UpdateRoomMetadataRequest) -> models.Room:
        _check_metadata(req.metadata)
        room = self._room(req.room)
        room.metadata = req.metadata
        _send_room_update(room)
        return room.info()

    # -- participants ---------------------------------------------------------------------------
    async def list_participants(
            self, req: room_pb.ListParticipantsRequest) -> room_pb.ListParticipantsResponse:
        room = self._room(req.room)
        return room_pb.ListParticipantsResponse(
            participants=[p.info() for p in list(room.participants.values())])

    async def get_participant(self, req: room_pb.RoomParticipantIdentity) -> models.ParticipantInfo:
        return self._participant(req.room, req.identity)[1].info()

    async def remove_participant(
            self, req: room_pb.RoomParticipantIdentity) -> room_pb.RemoveParticipantResponse:
        _, session = self._participant(req.room, req.identity)
        log.info("removing participant %s from room %s", session.identity, req.room)
        await session.close(models.DisconnectReason.PARTICIPANT_REMOVED, notify=True)
        return room_pb.RemoveParticipantResponse()

    async def mute_published_track(
            self, req: room_pb.MuteRoomTrackRequest) -> room_pb.MuteRoomTrackResponse:
        room, session = self._participant(req.room, req.identity)
        if not req.muted and not self.allow_remote_unmute:
            raise TwirpError("failed_precondition", "remote unmute not enabled")
        # the publisher is told first: its SDK mutes the track and confirms with its own request
        session.send(rtc.SignalResponse(mute=rtc.MuteTrackRequest(
            sid=req.track_sid, muted=req.muted)))
        track = session.published.get(req.track_sid) or next(
            (t for t in session.pending.values() if t.sid == req.track_sid), None)
        if track is None:
            return room_pb.MuteRoomTrackResponse()
        if track.info.muted != req.muted:
            track.info.muted = req.muted
            if track.sid in session.published:
                session.bump()
                room.broadcast_update(session)
        return room_pb.MuteRoomTrackResponse(track=track.info)

    async def update_participant(
            self, req: room_pb.UpdateParticipantRequest) -> models.ParticipantInfo:
        if len(req.name) > MAX_NAME_LENGTH:
            raise TwirpError("invalid_argument", "name length exceeds limits",
                             {"argument": str(MAX_NAME_LENGTH)})
        _check_metadata(req.metadata)
        if sum(len(k) + len(v) for k, v in req.attributes.items()) > MAX_ATTRIBUTES_BYTES:
            raise TwirpError("invalid_argument", "attribute size exceeds limits",
                             {"argument": str(MAX_ATTRIBUTES_BYTES)})
        room, session = self._participant(req.room, req.identity)
        changed = False
        if req.name and req.name != session.name:
            session.name = req.name
            changed = True
        if req.metadata and req.metadata != session.metadata:
            session.metadata = req.metadata
            changed = True
        for key, value in req.attributes.items():
            if value and session.attributes.get(key) != value:
                session.attributes[key] = value
                changed = True
            elif not value and key in session.attributes:
                del session.attributes[key]
                changed = True
        if req.HasField("permission"):
            changed = await self._set_permission(room, session, req.permission) or changed
        if changed:
            session.bump()
            room.broadcast_update(session)
        return session.info()

    async def _set_permission(self, room: Room, session: ParticipantSession,
                              permission: models.ParticipantPermission) -> bool:
        new = models.ParticipantPermission()
        new.CopyFrom(permission)
        new.hidden = session.permission.hidden  # joining or leaving the visible set: not here
        if new == session.permission:
            return False
        log.info("participant %s: permission updated through the API", session.identity)
        session.permission = new
        # tracks it may no longer publish are unpublished, as LiveKit's SetPermission does
        for track in list(session.published.values()):
            if not may_publish_source(new, track.info.source):
                session.send(rtc.SignalResponse(track_unpublished=rtc.TrackUnpublishedResponse(
                    track_sid=track.sid)))
                await session.unpublish(track.sid)
        for cid, track in list(session.pending.items()):
            if not may_publish_source(new, track.info.source):
                del session.pending[cid]
                session.send(rtc.SignalResponse(track_unpublished=rtc.TrackUnpublishedResponse(
                    track_sid=track.sid)))
        if not new.can_subscribe:
            for track_sid in list(session.subscriptions):
                await session.unsubscribe(track_sid)
        elif session.auto_subscribe:
            for other in room.visible_others(session):
                for track in list(other.published.values()):
                    await session.subscribe(other, track)
        return True

    async def update_subscriptions(
            self, req: room_pb.UpdateSubscriptionsRequest) -> room_pb.UpdateSubscriptionsResponse:
        room, session = self._participant(req.room, req.identity)
        sids = list(req.track_sids) + [s for pt in req.participant_tracks for s in pt.track_sids]
        for sid in sids:
            if not req.subscribe:
                await session.unsubscribe(sid)
                continue
            found = room.find_track(sid)
            if found is not None and found[0] is not session and session.can_subscribe:
                await session.subscribe(*found)
        return room_pb.UpdateSubscriptionsResponse()

    # -- data -----------------------------------------------------------------------------------
    async def send_data(self, req: room_pb.SendDataRequest) -> room_pb.SendDataResponse:
        room = self._room(req.room)
        if req.nonce and len(req.nonce) != 16:
            raise TwirpError("invalid_argument", "nonce should be 16-bytes or not present, "
                             f"got: {len(req.nonce)} bytes")
        if len(req.data) > MAX_DATA_PACKET_BYTES - 1024:
            raise TwirpError("invalid_argument", "data exceeds the size of a data packet "
                             f"({MAX_DATA_PACKET_BYTES - 1024} bytes)")
        if req.nonce:
            seen = self._nonces.setdefault(room, collections.deque(maxlen=NONCE_MEMORY))
            if req.nonce in seen:
                log.info("dropping a duplicate SendData to room %s", room.name)
                return room_pb.SendDataResponse()
            seen.append(req.nonce)
        reliable = req.kind != models.DataPacket.Kind.LOSSY
        user = models.UserPacket(payload=req.data, destination_sids=req.destination_sids,
                                 destination_identities=req.destination_identities,
                                 nonce=req.nonce)
        if req.HasField("topic"):
            user.topic = req.topic
        packet = models.DataPacket(kind=req.kind, user=user,
                                   destination_identities=req.destination_identities)
        payload = packet.SerializeToString()
        identities, sids = set(req.destination_identities), set(req.destination_sids)
        for session in list(room.participants.values()):
            if (identities or sids) and session.identity not in identities and \
                    session.sid not in sids:
                continue
            if not session.ws.closed:
                session.send_data(reliable, payload)
        return room_pb.SendDataResponse()


def _decode(cls: type[Message], body: bytes, as_json: bool) -> Any:
    req = cls()
    try:
        if as_json:
            value = json.loads(body)
            if not isinstance(value, dict):
                raise ValueError("the request is not a JSON object")
            json_format.ParseDict(value, req, ignore_unknown_fields=True)
        else:
            req.ParseFromString(body)
    except (json_format.ParseError, DecodeError, ValueError, RecursionError) as exc:
        kind = "json" if as_json else "protobuf"
        raise TwirpError("malformed", f"the {kind} request could not be decoded") from exc
    return req


def _check_metadata(metadata: str) -> None:
    if len(metadata.encode()) > MAX_METADATA_BYTES:
        raise TwirpError("invalid_argument", "metadata size exceeds limits",
                         {"argument": str(MAX_METADATA_BYTES)})


def _send_room_update(room: Room) -> None:
    update = rtc.SignalResponse(room_update=rtc.RoomUpdate(room=room.info()))
    for session in list(room.participants.values()):
        session.send(update)
