"""A host's moderation of a meeting: mute, remove, lower hands, the waiting room.

:class:`AdminActions` is what the participants panel drives; two implementations:

- :class:`VisioAdmin`, a Visio meeting: the backend's REST endpoints (visio-meet-api.md §3.3,
  §3.5) with the signed-in session of a room administrator or owner (``mute-participant`` with
  the meeting's LiveKit token when everyone may mute and no session is held);
- :class:`LocalAdmin`, a meeting on our embedded server (§9): LiveKit's ``RoomService`` (Twirp,
  ``application/protobuf``) with the host's join token, which grants ``roomAdmin``. These
  meetings have no waiting room.

Both send, after a mute, the ``participantMuted`` notification to the muted participant as the
web app's ``muteParticipant.ts`` does (a reliable user packet with no topic, payload
``{"type":"participantMuted"}``, ``destinationIdentities=[target]``): the server mutes the
track, the packet only explains why (a toast). Lowering a hand sends no packet (the web app's
``lowerHand`` notification type is a local toast).

Roles (:meth:`AdminActions.set_role`, ``"administrator"`` or ``"member"``), as the web app's
``PromoteMenuItem``: in a Visio meeting ``update-participant-role`` (§3.5), offered only for
participants whose ``is_authenticated`` attribute is ``"true"`` (others are refused here with
``not_authenticated``: the backend can only give a role to an account) and never for an owner;
the backend then sets the ``room_role`` attribute. On our embedded server the host sets the
``room_role`` attribute with ``UpdateParticipant``. **That attribute does not grant moderation
there**: ``roomAdmin`` lives in each join token and cannot be granted through attributes, so a
promoted local participant shows as an administrator to everyone while moderation stays with the
host, whose token holds ``roomAdmin``.

Who may publish what (:meth:`AdminActions.set_publish_sources`), as the web app's
``usePublishSourcesManager``: in a Visio meeting the room's ``configuration.can_publish_sources``
is PATCHed (the rest of the configuration kept; the backend pushes the room metadata and puts the
list in the tokens it mints from then on), then *the client* sets the permission of every
participant present who is not an administrator or owner (``update-participant`` with
``permission``), and, when sources were taken away, sends them
``{"type":"permissionsRemoved","data":{"removedSources":[...]}}`` (reliable, no topic,
``destinationIdentities`` = those participants). On our embedded server: ``UpdateParticipant``
``permission`` for the same participants (the server unpublishes what they may no longer
publish), the same packet, and the configuration written into the room metadata as Visio's
backend does (§5.2) so that everyone (and :meth:`LocalAdmin.publish_sources`) can read it.
Our server's join tokens do not read it: :meth:`LocalAdmin.apply_publish_sources` restricts
someone who joins afterwards.

Every failure is an :class:`~visio_desktop.net.http.ApiError` whose ``code`` the UI translates:
the HTTP client's codes (``forbidden``, ``unauthorized``, ``session_expired``, ``unreachable``,
``timeout``, ``server``, ``throttled``, ``bad_answer``…) and those of :data:`ADMIN_ERROR_MESSAGES`
(``participant_gone``, ``no_microphone``, ``no_lobby``, ``not_connected``,
``not_authenticated``). A Twirp error is a
:class:`TwirpError` (an ``ApiError``) that also keeps Twirp's own code and message.
Tokens are never logged (they are registered with the log redaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import aiohttp
from google.protobuf.message import DecodeError, Message
from livekit.protocol import models
from livekit.protocol import room as room_pb

from visio_desktop.net.data.visio import (
    HAND_RAISED_ATTRIBUTE,
    build_participant_muted,
    build_permissions_removed,
)
from visio_desktop.net.http import ERROR_MESSAGES, ApiError, register_secret, user_agent
from visio_desktop.net.participant import SOURCE_VALUES, Participant, RemoteParticipant
from visio_desktop.net.room import Room
from visio_desktop.net.visio_api import VisioClient

__all__ = [
    "ADMIN_ERROR_MESSAGES",
    "PUBLISH_SOURCES",
    "ROLES",
    "AdminActions",
    "LobbyWatcher",
    "LocalAdmin",
    "TwirpError",
    "VisioAdmin",
    "WaitingParticipant",
    "error_message",
    "microphone_sid",
    "raised_hands",
    "unprivileged_others",
]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)

TWIRP_PREFIX = "/twirp/livekit.RoomService/"
TWIRP_TIMEOUT_S = 10.0
WAITING_POLL_S = 1.0  # the web app's useWaitingParticipants polls every second

ROLE_ATTRIBUTE = "room_role"
AUTHENTICATED_ATTRIBUTE = "is_authenticated"
ROLES = ("administrator", "member")
"""The roles :meth:`AdminActions.set_role` gives (an owner's cannot change)."""
PRIVILEGED_ROLES = frozenset({"administrator", "owner"})
PUBLISH_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio")
"""``LIVEKIT_DEFAULT_SOURCES``, in the backend's order: what may be published by default."""

ADMIN_ERROR_MESSAGES: dict[str, str] = {
    "participant_gone": "This participant is no longer in the meeting.",
    "no_microphone": "This participant has no microphone to mute.",
    "no_lobby": "This meeting has no waiting room.",
    "not_connected": "You are not connected to the meeting.",
    "not_authenticated": "Only participants signed in with an account can be made "
                         "administrators.",
}
"""The codes this module adds to :data:`~visio_desktop.net.http.ERROR_MESSAGES`."""

# Twirp error code → ApiError code (twirp/errors.go; livekit-server answers a token without
# the roomAdmin grant with "unauthenticated" / "permissions denied")
_TWIRP_CODES = {
    "unauthenticated": "forbidden",
    "permission_denied": "forbidden",
    "not_found": "participant_gone",
    "resource_exhausted": "throttled",
    "canceled": "timeout",
    "deadline_exceeded": "timeout",
    "unavailable": "server",
    "internal": "server",
    "unknown": "server",
    "dataloss": "server",
}


def error_message(code: str) -> str:
    """The English text of an admin error code (the UI translates by code)."""
    return ADMIN_ERROR_MESSAGES.get(code) or ERROR_MESSAGES.get(code) or code


def _error(code: str, *, status: int | None = None) -> ApiError:
    return ApiError(code, error_message(code), status=status)


class TwirpError(ApiError):
    """A Twirp error from the RoomService: ``code`` is the ApiError code the UI translates,
    ``twirp_code`` / ``msg`` what the server said."""

    def __init__(self, twirp_code: str, msg: str, status: int | None = None) -> None:
        code = _TWIRP_CODES.get(twirp_code) or (
            "server" if status is not None and status >= 500 else "refused")
        super().__init__(code, error_message(code), status=status)
        self.twirp_code = twirp_code
        self.msg = msg


@dataclass(frozen=True)
class WaitingParticipant:
    """Someone in the waiting room: ``id`` is what :meth:`AdminActions.admit` takes."""

    id: str
    name: str
    color: str = ""


@runtime_checkable
class AdminActions(Protocol):
    """The moderation a host can do. Coroutines; each raises :class:`ApiError` on failure."""

    supports_lobby: bool

    async def mute(self, identity: str) -> None:
        """Mute ``identity``'s microphone and tell them (``participantMuted``)."""

    async def mute_all(self) -> None:
        """Mute every other participant whose microphone is on."""

    async def remove(self, identity: str) -> None: ...

    async def lower_hand(self, identity: str) -> None: ...

    async def lower_all_hands(self) -> None:
        """Lower every raised hand (ours included), as the web app's "lower all hands"."""

    async def list_waiting(self) -> list[WaitingParticipant]: ...

    async def admit(self, participant_id: str, allow: bool = True) -> None: ...

    async def set_role(self, identity: str, role: str) -> None:
        """Make ``identity`` an ``"administrator"`` or a ``"member"`` again."""

    async def publish_sources(self) -> list[str]:
        """What participants who are not administrators may publish now."""

    async def set_publish_sources(self, sources: Sequence[str]) -> list[str]:
        """Let participants who are not administrators publish only ``sources`` (a subset of
        :data:`PUBLISH_SOURCES`); returns the new list, in :data:`PUBLISH_SOURCES` order."""

    async def close(self) -> None: ...


# -- what the room shows ------------------------------------------------------------------------

def microphone_sid(participant: RemoteParticipant, *, unmuted_only: bool = False) -> str | None:
    """The SID of ``participant``'s microphone publication, if any (and on, if asked)."""
    for pub in participant.track_publications.values():
        if pub.source == "microphone" and not (unmuted_only and pub.muted):
            return pub.sid
    return None


def raised_hands(room: Room) -> list[str]:
    """Identities with a raised hand (``handRaisedAt`` set), ours included."""
    people: Iterable[Participant] = [room.local_participant,
                                     *room.remote_participants.values()]
    return [p.identity for p in people
            if p.identity and p.attributes.get(HAND_RAISED_ATTRIBUTE)]


def _unmuted_others(room: Room) -> list[tuple[str, str]]:
    """(identity, microphone SID) of every other participant whose microphone is on."""
    found = []
    for participant in list(room.remote_participants.values()):
        sid = microphone_sid(participant, unmuted_only=True)
        if sid is not None:
            found.append((participant.identity, sid))
    return found


def _microphone_of(room: Room, identity: str) -> str:
    participant = room.remote_participants.get(identity)
    if participant is None:
        raise _error("participant_gone")
    sid = microphone_sid(participant)
    if sid is None:
        raise _error("no_microphone")
    return sid


async def _notify_muted(room: Room, identity: str) -> None:
    """The ``participantMuted`` toast packet; a failure here does not undo the mute."""
    try:
        await room.wait_data_ready(timeout_s=5.0)
        room.send_data_packet(build_participant_muted(identity))
    except (ConnectionError, ValueError) as exc:
        log.warning("could not tell %s they were muted: %s", identity, exc)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"a role is one of {ROLES}, not {role!r}")


def _sources(sources: Sequence[str] | None) -> list[str]:
    """``sources`` checked and put in :data:`PUBLISH_SOURCES` order (None: the defaults)."""
    if sources is None:
        return list(PUBLISH_SOURCES)
    if isinstance(sources, str):
        raise ValueError("publish sources are a list of source names")
    unknown = [s for s in sources if s not in PUBLISH_SOURCES]
    if unknown:
        raise ValueError(f"unknown publish sources {unknown}: use {PUBLISH_SOURCES}")
    return [s for s in PUBLISH_SOURCES if s in sources]


def unprivileged_others(room: Room) -> list[RemoteParticipant]:
    """The other participants whose publishing the room's configuration limits: neither
    administrators nor owners (``room_role``), nor agents (the captioner, recorders)."""
    return [p for p in list(room.remote_participants.values())
            if p.attributes.get(ROLE_ATTRIBUTE) not in PRIVILEGED_ROLES
            and p.kind != models.ParticipantInfo.Kind.AGENT]


async def _notify_permissions_removed(room: Room, removed: Sequence[str],
                                      identities: Sequence[str]) -> None:
    """The ``permissionsRemoved`` toast packet; a failure here does not undo the change."""
    if not removed or not identities:
        return
    try:
        await room.wait_data_ready(timeout_s=5.0)
        room.send_data_packet(build_permissions_removed(list(removed), list(identities)))
    except (ConnectionError, ValueError) as exc:
        log.warning("could not tell participants their permissions changed: %s", exc)


async def _all(calls: Sequence[Awaitable[None]]) -> None:
    """Run every call; then raise the first failure, if any (the others are logged)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    for extra in errors[1:]:
        log.info("another admin action failed too: %s", extra)
    if errors:
        raise errors[0]


# -- a Visio meeting ----------------------------------------------------------------------------

class VisioAdmin:
    """Moderation of a Visio meeting through its REST API.

    ``client`` holds the administrator's session (``VisioClient.adopt_session``); ``room_id``
    is the id the in-call endpoints take (``RoomAccess.api_room_id``); ``room`` is our
    connection to the meeting (for the tracks to mute and the ``participantMuted`` packet).
    ``token`` (the meeting's LiveKit token, or a callable returning it) lets ``mute`` work
    without a session in a room where everyone may mute."""

    supports_lobby = True

    def __init__(self, client: VisioClient, room_id: str, room: Room, *,
                 token: str | Callable[[], str] | None = None) -> None:
        self.client = client
        self.room_id = room_id
        self.room = room
        self._token = token

    def _bearer(self) -> str | None:
        if self.client.signed_in or self._token is None:
            return None  # an administrator's session: allowed whatever everyone_can_mute
        return self._token() if callable(self._token) else self._token

    async def _rest(self, call: Awaitable[None]) -> None:
        try:
            await call
        except ApiError as exc:
            if exc.code == "not_found":
                raise _error("participant_gone", status=exc.status) from None
            raise

    async def mute(self, identity: str) -> None:
        await self._mute(identity, _microphone_of(self.room, identity))

    async def _mute(self, identity: str, track_sid: str) -> None:
        await self._rest(self.client.mute_participant(self.room_id, identity, track_sid,
                                                      token=self._bearer()))
        await _notify_muted(self.room, identity)

    async def mute_all(self) -> None:
        await _all([self._mute(i, sid) for i, sid in _unmuted_others(self.room)])

    async def remove(self, identity: str) -> None:
        await self._rest(self.client.remove_participant(self.room_id, identity))

    async def lower_hand(self, identity: str) -> None:
        await self._rest(self.client.lower_hand(self.room_id, identity))

    async def lower_all_hands(self) -> None:
        await _all([self.lower_hand(i) for i in raised_hands(self.room)])

    async def list_waiting(self) -> list[WaitingParticipant]:
        waiting = await self.client.list_waiting(self.room_id)
        return [WaitingParticipant(w.id, w.username, w.color) for w in waiting
                if w.status == "waiting"]

    async def admit(self, participant_id: str, allow: bool = True) -> None:
        """``participant_gone`` when the entry is gone (they stopped waiting), or the room
        has no waiting room (a public room)."""
        await self._rest(self.client.admit(self.room_id, participant_id, allow))

    async def set_role(self, identity: str, role: str) -> None:
        """``update-participant-role``; ``not_authenticated`` for a participant without an
        account (``is_authenticated`` is not ``"true"``), ``participant_gone`` when they left,
        ``forbidden`` for an owner."""
        _check_role(role)
        participant = self.room.remote_participants.get(identity)
        if participant is None:
            raise _error("participant_gone")
        if participant.attributes.get(AUTHENTICATED_ATTRIBUTE) != "true":
            raise _error("not_authenticated")
        await self._rest(self.client.set_participant_role(
            self.room_id, identity, "administrator" if role == "administrator" else "member"))

    async def publish_sources(self) -> list[str]:
        """The room's ``can_publish_sources``, else the instance's default sources."""
        config = await self.client.room_configuration(self.room_id)
        return await self._current(config)

    async def _current(self, config: dict[str, object]) -> list[str]:
        sources = config.get("can_publish_sources")
        if isinstance(sources, list):
            return [s for s in PUBLISH_SOURCES if s in sources]
        try:
            defaults = (await self.client.config()).default_sources
        except ApiError:
            defaults = []
        return [s for s in PUBLISH_SOURCES if s in defaults] if defaults \
            else list(PUBLISH_SOURCES)

    async def set_publish_sources(self, sources: Sequence[str]) -> list[str]:
        new = _sources(sources)
        config = await self.client.room_configuration(self.room_id)
        old = await self._current(config)
        await self.client.update_room(self.room_id,
                                      configuration={**config, "can_publish_sources": new})
        targets = unprivileged_others(self.room)
        await _all([self._rest(self.client.update_participant(
            self.room_id, p.identity, permission=_permission_json(p, new))) for p in targets])
        await _notify_permissions_removed(self.room, [s for s in old if s not in new],
                                          [p.identity for p in targets])
        return new

    async def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""


# -- a meeting on our embedded server -----------------------------------------------------------

def twirp_base(url: str) -> str:
    """``ws://host:port`` (or ``http``, with or without ``/rtc``) → ``http://host:port``."""
    url = url.strip().rstrip("/")
    for old, new in (("ws://", "http://"), ("wss://", "https://")):
        if url.startswith(old):
            url = new + url[len(old):]
    return url.removesuffix("/rtc")


class LocalAdmin:
    """Moderation of a meeting on our embedded server through LiveKit's RoomService (Twirp),
    authenticated with the host's join token (``roomAdmin``). ``http_url`` is the server's
    address (``http://`` or the ``ws://`` signalling URL); ``admin_token`` may be a callable
    returning the current token."""

    supports_lobby = False

    def __init__(self, room: Room, http_url: str, admin_token: str | Callable[[], str], *,
                 timeout_s: float = TWIRP_TIMEOUT_S) -> None:
        self.room = room
        self.base = twirp_base(http_url)
        self._token = admin_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        if isinstance(admin_token, str):
            register_secret(admin_token)

    @property
    def token(self) -> str:
        token = self._token() if callable(self._token) else self._token
        register_secret(token)
        return token

    @property
    def room_name(self) -> str:
        if not self.room.name:
            raise _error("not_connected")
        return self.room.name

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, request: Message, answer: type[M]) -> M:
        """One RoomService call (``application/protobuf``); :class:`TwirpError` or
        :class:`ApiError` on failure."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers={"User-Agent": user_agent()})
        headers = {"Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/protobuf"}
        try:
            async with self._session.post(self.base + TWIRP_PREFIX + method,
                                          data=request.SerializeToString(),
                                          headers=headers) as response:
                body = await response.read()
                status = response.status
        except TimeoutError:
            raise _error("timeout") from None
        except aiohttp.ClientConnectionError as exc:
            log.info("RoomService %s: cannot reach the meeting server: %s", method, exc)
            raise _error("unreachable") from None
        except aiohttp.ClientError as exc:
            log.info("RoomService %s: %s", method, exc)
            raise _error("bad_answer") from None
        if status != 200:
            raise _twirp_error(method, status, body)
        try:
            return answer.FromString(body)
        except DecodeError:
            raise _error("bad_answer", status=status) from None

    async def mute(self, identity: str) -> None:
        await self._mute(identity, _microphone_of(self.room, identity))

    async def _mute(self, identity: str, track_sid: str) -> None:
        await self.call("MutePublishedTrack", room_pb.MuteRoomTrackRequest(
            room=self.room_name, identity=identity, track_sid=track_sid, muted=True),
            room_pb.MuteRoomTrackResponse)
        await _notify_muted(self.room, identity)

    async def mute_all(self) -> None:
        await _all([self._mute(i, sid) for i, sid in _unmuted_others(self.room)])

    async def remove(self, identity: str) -> None:
        await self.call("RemoveParticipant", room_pb.RoomParticipantIdentity(
            room=self.room_name, identity=identity), room_pb.RemoveParticipantResponse)

    async def lower_hand(self, identity: str) -> None:
        await self.call("UpdateParticipant", room_pb.UpdateParticipantRequest(
            room=self.room_name, identity=identity, attributes={HAND_RAISED_ATTRIBUTE: ""}),
            models.ParticipantInfo)

    async def lower_all_hands(self) -> None:
        await _all([self.lower_hand(i) for i in raised_hands(self.room)])

    async def list_waiting(self) -> list[WaitingParticipant]:
        return []  # no waiting room in a meeting on our server

    async def admit(self, participant_id: str, allow: bool = True) -> None:
        raise _error("no_lobby")

    async def set_role(self, identity: str, role: str) -> None:
        """Sets the ``room_role`` attribute only: see the module's note (no ``roomAdmin``)."""
        _check_role(role)
        await self.call("UpdateParticipant", room_pb.UpdateParticipantRequest(
            room=self.room_name, identity=identity, attributes={ROLE_ATTRIBUTE: role}),
            models.ParticipantInfo)

    async def publish_sources(self) -> list[str]:
        """From the room metadata's ``configuration`` (every source when there is none)."""
        sources = _metadata(self.room.metadata).get("configuration", {})
        listed = sources.get("can_publish_sources") if isinstance(sources, dict) else None
        return _sources([s for s in listed if s in PUBLISH_SOURCES]) \
            if isinstance(listed, list) else list(PUBLISH_SOURCES)

    async def set_publish_sources(self, sources: Sequence[str]) -> list[str]:
        new = _sources(sources)
        old = await self.publish_sources()
        metadata = _metadata(self.room.metadata)
        config = metadata.get("configuration")
        metadata["configuration"] = {**(config if isinstance(config, dict) else {}),
                                     "can_publish_sources": new}
        await self.call("UpdateRoomMetadata", room_pb.UpdateRoomMetadataRequest(
            room=self.room_name, metadata=json.dumps(metadata)), models.Room)
        targets = unprivileged_others(self.room)
        await _all([self._set_permission(p, new) for p in targets])
        await _notify_permissions_removed(self.room, [s for s in old if s not in new],
                                          [p.identity for p in targets])
        return new

    async def apply_publish_sources(self, identity: str) -> None:
        """Give someone who joined after :meth:`set_publish_sources` the same limits (our
        server's join tokens do not read the room configuration); nothing to do for an
        administrator or when every source is allowed."""
        participant = self.room.remote_participants.get(identity)
        if participant is None or participant not in unprivileged_others(self.room):
            return
        sources = await self.publish_sources()
        if sources != list(PUBLISH_SOURCES):
            await self._set_permission(participant, sources)

    async def _set_permission(self, participant: RemoteParticipant,
                              sources: Sequence[str]) -> None:
        permission = models.ParticipantPermission()
        if participant.permission is not None:
            permission.CopyFrom(participant.permission)
        else:  # what our server's join tokens grant
            permission.can_subscribe = permission.can_publish_data = True
            permission.can_update_metadata = True
        permission.can_publish = bool(sources)
        del permission.can_publish_sources[:]
        permission.can_publish_sources.extend(SOURCE_VALUES[s] for s in sources)
        await self.call("UpdateParticipant", room_pb.UpdateParticipantRequest(
            room=self.room_name, identity=participant.identity, permission=permission),
            models.ParticipantInfo)


def _metadata(text: str) -> dict[str, object]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _permission_json(participant: RemoteParticipant, sources: list[str]) -> dict[str, object]:
    """``update-participant``'s ``permission``, as the web app's updateParticipantPermissions:
    the participant's other permissions kept, publishing limited to ``sources``."""
    permission = participant.permission
    body: dict[str, object] = {"can_publish": bool(sources), "can_publish_sources": sources}
    if permission is not None:
        body.update(can_subscribe=permission.can_subscribe,
                    can_publish_data=permission.can_publish_data,
                    can_update_metadata=permission.can_update_metadata,
                    can_subscribe_metrics=permission.can_subscribe_metrics)
    return body


def _twirp_error(method: str, status: int, body: bytes) -> ApiError:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        msg = str(data.get("msg") or "")
        log.info("RoomService %s: %s (%s)", method, data["code"], msg)
        return TwirpError(data["code"], msg, status)
    # LiveKit's auth middleware answers a bad token with a plain-text 401
    log.info("RoomService %s: HTTP %d", method, status)
    if status in (401, 403):
        return TwirpError("unauthenticated", body[:200].decode("utf-8", "replace"), status)
    return TwirpError("unknown" if status >= 500 else "malformed", "", status)


# -- the waiting room, watched -------------------------------------------------------------------

class LobbyWatcher:
    """Polls the waiting room as the web app does: :meth:`poke` (on a ``participantWaiting``
    notification, and once on joining) starts polling every second, which stops once nobody
    waits. ``on_change`` gets each new list (an empty one too, once). Polling stops for good on
    ``forbidden``/``unauthorized``/``session_expired``; other errors are retried."""

    def __init__(self, admin: AdminActions,
                 on_change: Callable[[list[WaitingParticipant]], None], *,
                 interval_s: float = WAITING_POLL_S) -> None:
        self.admin = admin
        self.on_change = on_change
        self.interval_s = interval_s
        self.waiting: list[WaitingParticipant] = []
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def polling(self) -> bool:
        return self._task is not None and not self._task.done()

    def poke(self) -> None:
        if self._stopped or not self.admin.supports_lobby or self.polling:
            return
        self._task = asyncio.ensure_future(self._poll())

    async def refresh(self) -> list[WaitingParticipant]:
        """One poll now (e.g. right after admitting someone)."""
        waiting = await self.admin.list_waiting()
        if waiting != self.waiting:
            self.waiting = waiting
            self.on_change(list(waiting))
        return waiting

    async def _poll(self) -> None:
        while not self._stopped:
            try:
                waiting = await self.refresh()
            except ApiError as exc:
                if exc.code in ("forbidden", "unauthorized", "session_expired"):
                    log.info("stopped watching the waiting room: %s", exc.code)
                    self._stopped = True
                    return
                log.info("waiting room poll failed (%s)", exc.code)
                waiting = self.waiting
            if not waiting:
                return
            await asyncio.sleep(self.interval_s)

    async def close(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
