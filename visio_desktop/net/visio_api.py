"""Visio's REST API (visio-meet-api.md §2–§3): join, lobby, rooms, account, in-call actions.

:class:`VisioClient` speaks to one instance through one :class:`~visio_desktop.net.http.HttpClient`
(so one cookie jar: the Django session, ``csrftoken`` and ``lobbyParticipantId``):

- ``config()`` — ``GET /config/``, cached on disk for an offline start;
- ``room()`` — ``GET /rooms/{slug}/?username=`` → :class:`RoomAccess`, or :class:`LobbyRequired`
  for a room with a waiting room; ``request_entry()`` / ``wait_in_lobby()`` poll
  ``POST /rooms/{id}/request-entry/`` every second as the web app does (the server forgets a
  waiting entry not polled for 3 s);
- ``create_room()``, ``list_rooms()``, ``me()`` — session-authenticated;
- ``toggle_hand()``, ``rename()``, ``start_subtitle()``, ``mute_participant()`` — the in-call
  endpoints authenticated by the LiveKit token (``Authorization: Bearer``); the LiveKit token
  of a Visio meeting cannot update its own attributes or name, so these go through REST;
- administrators: ``list_waiting()``, ``admit()``, ``remove_participant()``,
  ``update_participant()``, ``lower_hand()`` / ``lower_hands()``, ``set_participant_role()``.

Every failure is an :class:`ApiError` with a stable code (:data:`ERROR_MESSAGES`), which the UI
translates. A meeting hosted by Visio Desktop answers ``config`` and ``room`` with the same
shapes, so its LAN link is joined by the same code (:meth:`VisioClient.for_link`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

from visio_desktop.net.http import (
    ERROR_MESSAGES,
    ApiError,
    HttpClient,
    register_secret,
    user_agent,
)
from visio_desktop.net.links import MeetingLink, new_slug
from visio_desktop.net.session_store import SessionStore, is_session_cookie, session_cookies

__all__ = [
    "ERROR_MESSAGES",
    "ApiError",
    "InstanceConfig",
    "LobbyCancelled",
    "LobbyDenied",
    "LobbyEntry",
    "LobbyRequired",
    "LobbyTimeout",
    "RoomAccess",
    "RoomInfo",
    "User",
    "VisioClient",
    "VisioServices",
    "WaitingParticipant",
    "fetch_room",
    "user_agent",
]

log = logging.getLogger(__name__)

API = "/api/v1.0"
HAND_ATTRIBUTE = "handRaisedAt"
LOBBY_POLL_S = 1.0  # the web app's POLL_INTERVAL_MS
LOBBY_SERVER_TTL_S = 3.0  # LOBBY_WAITING_TIMEOUT: a waiting entry not polled this long is gone
LOBBY_TIMEOUT_S = 600.0  # the web app gives up after 10 minutes
LOBBY_OUTAGE_S = 20.0  # how long the lobby rides out network errors before giving up
TRANSIENT = frozenset({"unreachable", "timeout", "server", "throttled"})


# -- errors -----------------------------------------------------------------------------------

class LobbyRequired(ApiError):
    """The room has a waiting room: ask to enter (:meth:`VisioClient.wait_in_lobby`)."""

    def __init__(self, room_id: str, slug: str = "") -> None:
        super().__init__("lobby")
        self.room_id = room_id
        self.slug = slug


class LobbyDenied(ApiError):
    def __init__(self) -> None:
        super().__init__("lobby_denied")


class LobbyTimeout(ApiError):
    def __init__(self, waited_s: float) -> None:
        super().__init__("lobby_timeout")
        self.waited_s = waited_s


class LobbyCancelled(ApiError):
    def __init__(self) -> None:
        super().__init__("lobby_cancelled")


# -- values -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoomAccess:
    """What joining needs: the LiveKit URL (``https://`` is fine: the signalling client turns
    it into ``wss://…/rtc``), the LiveKit room (the room's UUID) and the join token."""

    livekit_url: str
    room: str
    token: str = field(repr=False)
    slug: str = ""
    room_id: str = ""
    access_level: str = ""

    @property
    def api_room_id(self) -> str:
        """The id the in-call endpoints take (``rooms/{uuid}/…``)."""
        return self.room_id or self.room


@dataclass(frozen=True)
class RoomInfo:
    id: str
    slug: str
    name: str
    access_level: str
    pin_code: str = ""
    is_administrable: bool = False
    access: RoomAccess | None = None


@dataclass(frozen=True)
class LobbyEntry:
    status: Literal["waiting", "accepted", "denied"]
    id: str
    username: str
    color: str = ""
    access: RoomAccess | None = None


@dataclass(frozen=True)
class WaitingParticipant:
    id: str
    username: str
    color: str = ""
    status: str = "waiting"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    full_name: str
    short_name: str = ""
    language: str = ""
    timezone: str = ""
    default_room_access_level: str = ""


@dataclass(frozen=True)
class InstanceConfig:
    """``GET /config/`` (§2). ``from_cache`` when the instance could not be reached and the
    copy saved by an earlier run is shown instead."""

    data: dict[str, Any]
    from_cache: bool = False
    fetched_at: float = 0.0

    def _section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def livekit_url(self) -> str:
        return str(self._section("livekit").get("url") or "")

    @property
    def default_sources(self) -> list[str]:
        return list(self._section("livekit").get("default_sources") or [])

    @property
    def subtitles_enabled(self) -> bool:
        return bool(self._section("subtitle").get("enabled"))

    @property
    def recording_enabled(self) -> bool:
        return bool(self._section("recording").get("is_enabled"))

    @property
    def telephony_enabled(self) -> bool:
        return bool(self._section("telephony").get("enabled"))

    @property
    def language_code(self) -> str:
        return str(self.data.get("LANGUAGE_CODE") or "")

    @property
    def max_participants_for_sound(self) -> int:
        return int(self.data.get("max_participants_for_sound") or 5)

    @property
    def auto_mute_on_join_threshold(self) -> int:
        return int(self.data.get("auto_mute_on_join_threshold") or 50)

    @property
    def silent_login_enabled(self) -> bool:
        return bool(self.data.get("is_silent_login_enabled", True))


SessionState = Literal["signed_out", "valid", "expired"]


# -- parsing ----------------------------------------------------------------------------------

def _bad(what: str) -> ApiError:
    log.info("unexpected answer: %s", what)
    return ApiError("bad_answer")


def _livekit(data: Any, slug: str, room_id: str, access_level: str) -> RoomAccess | None:
    if not data:
        return None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) and data.get(k) for k in ("url", "room", "token")):
        raise _bad("livekit block")
    register_secret(data["token"])
    token_room = _token_room(data["token"])
    if token_room is not None and token_room != data["room"]:
        log.warning("the join token names another room than the answer")
        raise ApiError("wrong_room")
    return RoomAccess(data["url"], data["room"], data["token"], slug, room_id, access_level)


def _token_room(token: str) -> str | None:
    """The room a LiveKit token grants (read, not verified: the SFU verifies it), or None
    when it cannot be read. A token for another room would silently put us in the wrong
    meeting."""
    import base64

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        room = claims.get("video", {}).get("room")
    except (IndexError, ValueError, AttributeError):
        return None
    return room if isinstance(room, str) and room else None


def parse_room(data: Any, slug: str) -> RoomAccess:
    """A room object → :class:`RoomAccess`; :class:`LobbyRequired` without a livekit block."""
    info = parse_room_info(data, slug)
    if info.access is None:
        raise LobbyRequired(info.id, info.slug)
    return info.access


def parse_room_info(data: Any, slug: str = "") -> RoomInfo:
    if not isinstance(data, dict):
        raise _bad("room is not an object")
    room_id = str(data.get("id") or "")
    slug = str(data.get("slug") or slug)
    access_level = str(data.get("access_level") or "")
    access = _livekit(data.get("livekit"), slug, room_id, access_level)
    return RoomInfo(room_id, slug, str(data.get("name") or slug), access_level,
                    str(data.get("pin_code") or ""), bool(data.get("is_administrable", False)),
                    access)


def parse_lobby_entry(data: Any, room_id: str) -> LobbyEntry:
    if not isinstance(data, dict) or data.get("status") not in ("waiting", "accepted", "denied"):
        raise _bad("lobby entry")
    access = _livekit(data.get("livekit"), "", room_id, "")
    if data["status"] == "accepted" and access is None:
        raise _bad("accepted without a livekit block")
    return LobbyEntry(data["status"], str(data.get("id") or ""), str(data.get("username") or ""),
                      str(data.get("color") or ""), access)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _without_secrets(value: Any) -> Any:
    """Defensive: what goes to disk never has a key that looks like a credential."""
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items()
                if not re.search(r"(?i)token|secret|password|session|cookie", str(k))}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


# -- the client -------------------------------------------------------------------------------

class VisioClient:
    """The REST API of one Visio instance. ``async with VisioClient(...) as client:``.

    ``session_store`` (optional) restores the signed-in session of the instance from the OS
    keyring before the first call, keeps a new one (:meth:`adopt_session`), and forgets it on
    sign-out or expiry. ``config_cache`` is the JSON file ``config()`` keeps for an offline
    start (it never holds a secret)."""

    def __init__(self, instance: str, session_store: SessionStore | None = None,
                 http: HttpClient | None = None, *, config_cache: Path | None = None,
                 proxy: str = "system", allow_private_http: bool = False) -> None:
        self.http = http or HttpClient(instance, proxy=proxy,
                                       allow_private_http=allow_private_http)
        self.instance = self.http.instance
        self.host = self.http.host
        self.session_store = session_store
        self.config_cache = config_cache
        self.on_session_expired: list[Callable[[], Awaitable[None] | None]] = []
        self._config: InstanceConfig | None = None
        self._restored = session_store is None

    @classmethod
    def for_link(cls, link: MeetingLink, **kwargs: Any) -> VisioClient:
        """The client of a meeting link's instance; a LAN link (``http://192.168.…``, a meeting
        hosted by Visio Desktop) is accepted, as ``links.parse_link`` accepted it."""
        return cls(link.instance, allow_private_http=True, **kwargs)

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> VisioClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- session ------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        """A session cookie is held (it may have expired: :meth:`check_session`)."""
        return any(is_session_cookie(k) for k in self.http.cookies())

    async def restore_session(self) -> bool:
        """Put the stored session (if any) in the jar; True when there was one."""
        self._restored = True
        if self.session_store is None:
            return False
        stored = await asyncio.to_thread(self.session_store.load, self.host)
        if stored is None:
            return False
        self.http.set_cookies(stored.cookies)
        return True

    async def adopt_session(self, cookies: Mapping[str, str]) -> bool:
        """Use the cookies of a login (the web view's ``sessionid`` and ``csrftoken``); True
        when the keyring keeps them for the next start (False: signed in for this run)."""
        kept = session_cookies(cookies)
        self._restored = True
        self.http.set_cookies(kept)
        if self.session_store is None:
            return False
        return await asyncio.to_thread(self.session_store.save, self.host, kept)

    async def sign_out(self) -> None:
        """Forget the session here and in the keyring. (The server-side session ends on its
        own after 12 h; ``/logout/`` goes through the identity provider in a browser.)"""
        self._forget_session_cookies()
        self._restored = True
        if self.session_store is not None:
            await asyncio.to_thread(self.session_store.clear, self.host)

    async def check_session(self) -> SessionState:
        """``GET /users/me/``: "valid", "expired" (a session was held, the server said 401),
        or "signed_out". Network errors raise (the state is unknown then)."""
        await self._ensure_restored()
        if not self.signed_in:
            return "signed_out"
        try:
            await self.me()
        except ApiError as exc:
            if exc.code == "session_expired":
                return "expired"
            raise
        return "valid"

    def _forget_session_cookies(self) -> None:
        names = [k for k in self.http.cookies() if is_session_cookie(k)] + ["csrftoken"]
        self.http.clear_cookies(*names)

    async def _session_expired(self) -> None:
        self._forget_session_cookies()
        if self.session_store is not None:
            await asyncio.to_thread(self.session_store.mark_expired, self.host)
        for hook in list(self.on_session_expired):
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("a session-expired hook failed")

    async def _ensure_restored(self) -> None:
        if not self._restored:
            await self.restore_session()

    async def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                    body: Any = None, bearer: str | None = None) -> Any:
        await self._ensure_restored()
        had_session = bearer is None and self.signed_in
        try:
            answer = await self.http.request(method, API + path, params=params,
                                             json_body=body, bearer=bearer)
        except ApiError as exc:
            if exc.code == "unauthorized" and had_session:
                await self._session_expired()
                raise ApiError("session_expired", status=exc.status) from None
            raise
        return answer.data

    # -- configuration --------------------------------------------------------------------
    async def config(self, *, refresh: bool = False) -> InstanceConfig:
        """The instance's configuration; when it cannot be reached, the copy cached by an
        earlier run (``from_cache=True``), else the error."""
        if self._config is not None and not refresh:
            return self._config
        try:
            data = await self._call("GET", "/config/")
        except ApiError as exc:
            cached = await asyncio.to_thread(self._read_config_cache)
            if cached is None or exc.code not in TRANSIENT | {"bad_answer", "certificate",
                                                               "proxy"}:
                raise
            log.info("using the cached configuration of %s (%s)", self.host, exc.code)
            self._config = cached
            return cached
        if not isinstance(data, dict):
            raise _bad("config is not an object")
        self._config = InstanceConfig(data, False, time.time())
        await asyncio.to_thread(self._write_config_cache, self._config)
        return self._config

    def _read_config_cache(self) -> InstanceConfig | None:
        if self.config_cache is None:
            return None
        try:
            saved = json.loads(self.config_cache.read_text(encoding="utf-8"))
            if saved.get("instance") != self.instance or not isinstance(saved["config"], dict):
                return None
            return InstanceConfig(saved["config"], True, float(saved.get("fetched_at", 0)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _write_config_cache(self, config: InstanceConfig) -> None:
        if self.config_cache is None:
            return
        payload = {"instance": self.instance, "fetched_at": config.fetched_at,
                   "config": _without_secrets(config.data)}
        try:
            self.config_cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.config_cache.with_name(self.config_cache.name + ".tmp")
            tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
            os.replace(tmp, self.config_cache)
        except OSError as exc:
            log.warning("cannot cache the configuration in %s: %s", self.config_cache, exc)

    # -- joining --------------------------------------------------------------------------
    async def room(self, slug_or_id: str, username: str = "") -> RoomAccess | LobbyRequired:
        """``GET /rooms/{slug}/``: the access to join, or :class:`LobbyRequired` (returned,
        not raised) when the room has a waiting room."""
        params = {"username": username} if username else None
        data = await self._call("GET", f"/rooms/{quote(slug_or_id, safe='')}/", params=params)
        info = parse_room_info(data, slug_or_id)
        if info.access is None:
            return LobbyRequired(info.id or slug_or_id, info.slug)
        return info.access

    async def request_entry(self, room_id: str, username: str) -> LobbyEntry:
        """One ``POST /rooms/{id}/request-entry/``; the ``lobbyParticipantId`` cookie it sets
        stays in the jar, so each poll is the same participant."""
        data = await self._call("POST", f"/rooms/{quote(room_id, safe='')}/request-entry/",
                                body={"username": username or "Anonymous"})
        return parse_lobby_entry(data, room_id)

    async def wait_in_lobby(self, room_id: str, username: str, *,
                            timeout_s: float = LOBBY_TIMEOUT_S, poll_s: float = LOBBY_POLL_S,
                            cancel: asyncio.Event | None = None,
                            on_entry: Callable[[LobbyEntry], None] | None = None) -> RoomAccess:
        """Ask to enter and poll until an administrator answers: the access when let in;
        :class:`LobbyDenied`, :class:`LobbyTimeout` after ``timeout_s``, or
        :class:`LobbyCancelled` when ``cancel`` is set. Network trouble is ridden out for up
        to 20 s (the entry is simply re-requested)."""
        poll_s = min(max(poll_s, 0.05), LOBBY_SERVER_TTL_S * 0.8)
        start = time.monotonic()
        deadline = start + timeout_s
        failing_since: float | None = None
        while True:
            if cancel is not None and cancel.is_set():
                raise LobbyCancelled()
            pause = poll_s
            try:
                entry = await self.request_entry(room_id, username)
                failing_since = None
            except ApiError as exc:
                if exc.code not in TRANSIENT:
                    raise
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > LOBBY_OUTAGE_S:
                    raise
                log.info("lobby poll failed (%s); trying again", exc.code)
                pause = max(poll_s, min(exc.retry_after or 0.0, 10.0))
            else:
                if on_entry is not None:
                    on_entry(entry)
                if entry.status == "accepted" and entry.access is not None:
                    return entry.access
                if entry.status == "denied":
                    raise LobbyDenied()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LobbyTimeout(time.monotonic() - start)
            if await _wait(cancel, min(pause, remaining)):
                raise LobbyCancelled()

    async def join(self, slug: str, username: str = "", *,
                   lobby_timeout_s: float = LOBBY_TIMEOUT_S,
                   cancel: asyncio.Event | None = None,
                   on_lobby: Callable[[LobbyRequired], None] | None = None) -> RoomAccess:
        """:meth:`room`, then the lobby if there is one."""
        result = await self.room(slug, username)
        if isinstance(result, RoomAccess):
            return result
        if on_lobby is not None:
            on_lobby(result)
        access = await self.wait_in_lobby(result.room_id, username, timeout_s=lobby_timeout_s,
                                          cancel=cancel)
        return RoomAccess(access.livekit_url, access.room, access.token,
                          result.slug or slug, result.room_id, access.access_level)

    # -- rooms and account (session) -----------------------------------------------------------
    async def create_room(self, name: str | None = None, *, username: str = "") -> RoomInfo:
        """``POST /rooms/`` (signed in): a new room, of which we are the owner, with its
        access to join. ``name`` defaults to a fresh ``abc-defg-hij``, as the web app."""
        params = {"username": username} if username else None
        data = await self._call("POST", "/rooms/", params=params,
                                body={"name": name or new_slug()})
        return parse_room_info(data)

    async def list_rooms(self, *, max_pages: int = 20) -> list[RoomInfo]:
        """``GET /rooms/`` (signed in): our rooms, every page."""
        rooms: list[RoomInfo] = []
        path: str | None = "/rooms/"
        for _ in range(max_pages):
            if path is None:
                break
            data = await self._call("GET", path)
            if isinstance(data, list):
                return rooms + [parse_room_info(r) for r in data]
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise _bad("rooms list")
            rooms += [parse_room_info(r) for r in data["results"]]
            following = data.get("next")
            path = _api_path(following) if isinstance(following, str) and following else None
        return rooms

    async def me(self) -> User:
        """``GET /users/me/``: ``unauthorized`` signed out, ``session_expired`` when the held
        session has ended (the stored one is forgotten and the hooks are told)."""
        data = await self._call("GET", "/users/me/")
        if not isinstance(data, dict) or "id" not in data:
            raise _bad("user")
        return User(_text(data, "id"), _text(data, "email"), _text(data, "full_name"),
                    _text(data, "short_name"), _text(data, "language"), _text(data, "timezone"),
                    _text(data, "default_room_access_level"))

    # -- in the meeting (LiveKit token) ----------------------------------------------------------
    def _room_path(self, room_id: str, action: str) -> str:
        return f"/rooms/{quote(room_id, safe='')}/{action}/"

    async def toggle_hand(self, room_id: str, token: str, raised: bool) -> None:
        await self._call("POST", self._room_path(room_id, "toggle-hand"),
                         body={"raised": raised}, bearer=token)

    async def rename(self, room_id: str, token: str, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a name cannot be empty")
        await self._call("POST", self._room_path(room_id, "rename"), body={"name": name[:255]},
                         bearer=token)

    async def start_subtitle(self, room_id: str, token: str) -> None:
        await self._call("POST", self._room_path(room_id, "start-subtitle"), bearer=token)

    async def mute_participant(self, room_id: str, identity: str, track_sid: str, *,
                               token: str | None = None) -> None:
        """With ``token`` when everyone may mute; without, as an administrator (session)."""
        await self._call("POST", self._room_path(room_id, "mute-participant"),
                         body={"participant_identity": identity, "track_sid": track_sid},
                         bearer=token)

    # -- administrators (session) ------------------------------------------------------------
    async def list_waiting(self, room_id: str) -> list[WaitingParticipant]:
        data = await self._call("GET", self._room_path(room_id, "waiting-participants"))
        if not isinstance(data, dict) or not isinstance(data.get("participants"), list):
            raise _bad("waiting participants")
        return [WaitingParticipant(_text(p, "id"), _text(p, "username"), _text(p, "color"),
                                   _text(p, "status") or "waiting")
                for p in data["participants"] if isinstance(p, dict)]

    async def admit(self, room_id: str, participant_id: str, allow: bool = True) -> None:
        """Let a waiting participant in (or not). ``not_found`` when the room has no lobby."""
        await self._call("POST", self._room_path(room_id, "enter"),
                         body={"participant_id": participant_id, "allow_entry": allow})

    async def remove_participant(self, room_id: str, identity: str) -> None:
        await self._call("POST", self._room_path(room_id, "remove-participant"),
                         body={"participant_identity": identity})

    async def update_participant(self, room_id: str, identity: str, *,
                                 attributes: Mapping[str, str] | None = None,
                                 metadata: str | None = None, name: str | None = None,
                                 permission: Mapping[str, Any] | None = None) -> None:
        body: dict[str, Any] = {"participant_identity": identity}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if metadata is not None:
            body["metadata"] = metadata
        if name is not None:
            body["name"] = name
        if permission is not None:
            body["permission"] = dict(permission)
        await self._call("POST", self._room_path(room_id, "update-participant"), body=body)

    async def lower_hand(self, room_id: str, identity: str) -> None:
        await self.update_participant(room_id, identity, attributes={HAND_ATTRIBUTE: ""})

    async def lower_hands(self, room_id: str, identities: Sequence[str]) -> None:
        """Every raised hand at once ("lower all hands"), one call each as the web app."""
        await asyncio.gather(*(self.lower_hand(room_id, i) for i in identities))

    async def set_participant_role(self, room_id: str, identity: str,
                                   role: Literal["member", "administrator"]) -> None:
        await self._call("POST", self._room_path(room_id, "update-participant-role"),
                         body={"participant_identity": identity, "role": role})

    async def room_configuration(self, room_id: str) -> dict[str, Any]:
        """``GET /rooms/{id}/``'s ``configuration`` (``{}`` when the room has none)."""
        data = await self._call("GET", f"/rooms/{quote(room_id, safe='')}/")
        if not isinstance(data, dict):
            raise _bad("room")
        config = data.get("configuration")
        return dict(config) if isinstance(config, dict) else {}

    async def update_room(self, room_id: str, *,
                          configuration: Mapping[str, Any] | None = None,
                          access_level: str | None = None) -> dict[str, Any]:
        """``PATCH /rooms/{id}/`` (administrator or owner; the backend then pushes the LiveKit
        room metadata). ``configuration`` replaces the whole configuration, as the web app's
        ``patchRoom`` sends it: merge with :meth:`room_configuration` first. Returns the
        room's configuration as the answer holds it."""
        body: dict[str, Any] = {}
        if configuration is not None:
            body["configuration"] = dict(configuration)
        if access_level is not None:
            body["access_level"] = access_level
        data = await self._call("PATCH", f"/rooms/{quote(room_id, safe='')}/", body=body)
        if not isinstance(data, dict):
            raise _bad("room")
        config = data.get("configuration")
        return dict(config) if isinstance(config, dict) else {}


def _api_path(url: str) -> str | None:
    """A pagination link → the path after ``/api/v1.0`` (the client keeps to its instance)."""
    index = url.find(API + "/")
    return url[index + len(API):] if index >= 0 else None


async def _wait(cancel: asyncio.Event | None, seconds: float) -> bool:
    """Sleep ``seconds``; True when ``cancel`` was set meanwhile."""
    if cancel is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(cancel.wait(), seconds)
    return cancel.is_set()


# -- the in-call adapter ------------------------------------------------------------------------

class _HandRaising(Protocol):
    hand_raiser: Callable[[bool], Awaitable[None]]


class VisioServices:
    """Hand raise, rename and subtitles of one Visio meeting, through REST with the meeting's
    LiveKit token (a Visio token cannot update its own attributes or name).

    ``services.attach(call)`` makes :meth:`Call.set_hand_raised` use :meth:`raise_hand`;
    the rename hook is :meth:`rename`. ``token`` may be a callable returning the current
    token, should the token be refreshed during the meeting."""

    def __init__(self, client: VisioClient, room_id: str, token: str | Callable[[], str]) -> None:
        self.client = client
        self.room_id = room_id
        self._token = token

    @classmethod
    def for_access(cls, client: VisioClient, access: RoomAccess) -> VisioServices:
        return cls(client, access.api_room_id, access.token)

    @property
    def token(self) -> str:
        return self._token() if callable(self._token) else self._token

    def attach(self, call: _HandRaising) -> None:
        call.hand_raiser = self.raise_hand

    async def raise_hand(self, raised: bool) -> None:
        await self.client.toggle_hand(self.room_id, self.token, raised)

    async def rename(self, name: str) -> None:
        await self.client.rename(self.room_id, self.token, name)

    async def start_subtitles(self) -> None:
        await self.client.start_subtitle(self.room_id, self.token)

    async def mute(self, identity: str, track_sid: str) -> None:
        await self.client.mute_participant(self.room_id, identity, track_sid, token=self.token)


VisioHandRaiser = VisioServices


# -- the one-call path used by the UI before the VisioClient lands there ------------------------

async def fetch_room(link: MeetingLink, username: str) -> RoomAccess:
    """Join ``link`` directly: the access, or :class:`LobbyRequired` raised."""
    async with VisioClient.for_link(link) as client:
        result = await client.room(link.slug, username)
    if isinstance(result, LobbyRequired):
        raise result
    return result
