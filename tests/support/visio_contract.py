"""A contract server for Visio's (La Suite Meet's) REST API, for tests that cannot reach Visio.

It implements the backend of ``suitenumerique/meet`` as ``../shared/docs/visio-meet-api.md``
documents it (§2, §3.1-3.6, §5.1-5.3, §8); where the doc is silent the behaviour follows the
backend's source at the doc's commit (``src/backend/core/api/viewsets.py``, ``serializers.py``,
``permissions.py``, ``throttling.py``, ``core/services/lobby.py``, ``participants_management.py``,
``room_roles.py``, ``core/utils.py``, ``core/authentication/*``, ``meet/settings.py``,
``django-lasuite``'s ``oidc_login/views.py``), including Django REST Framework's status codes and
error bodies. It mints LiveKit tokens with the ``livekit-api`` SDK exactly as the backend does,
and does its moderation through LiveKit's RoomService Twirp API (``livekit.api.LiveKitAPI``)
against our embedded room server, as the real backend does against LiveKit.

Fixture API (``visio_contract`` in ``tests/conftest.py``, on top of ``room_server``)
=================================================================================

::

    async def test_join(visio_contract, room_server):
        room_id = visio_contract.add_room("abc-defg-hij", "public")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{visio_contract.url}/api/v1.0/rooms/abc-defg-hij/",
                                params={"username": "Jane"}) as r:
                lk = (await r.json())["livekit"]        # {"url", "room": room_id, "token"}

``VisioContract(livekit_url, api_key, api_secret, **settings)``; ``start()`` / ``stop()`` (own
thread and event loop, like ``ServerThread``); ``url`` = ``http://127.0.0.1:<port>`` (the
instance; the API is under ``/api/v1.0/``).

Data set-up (callable from any thread, before or after ``start()``):

- ``add_user(sub, email, full_name, password, *, short_name=None,
  default_room_access_level=None, default_room_configuration=None) -> user id`` registers an
  account at the fake ProConnect IdP (and its Visio user row).
- ``add_room(slug, access_level="public", owner_sub=None, configuration=None, *, name=None,
  members=None) -> room id (uuid str)``; ``members`` = ``{sub: "member"|"administrator"|"owner"}``;
  ``set_role(room, sub, role | None)``; ``room_info(room) -> dict`` (``room`` = id or slug).
- ``login(sub) -> {"sessionid": ..., "csrftoken": ...}``: a logged-in session without the OIDC
  dance (put both in a cookie jar; cookie names: ``session_cookie_name``, ``"csrftoken"``).
- ``expire_sessions()`` (every Visio session ends: the next call is 401); ``idp_logout()``
  (every IdP session ends: silent login then fails).

Lobby (§3.3): ``waiting(room) -> [{"status","username","id","color"}]`` (what an admin's
``waiting-participants`` returns), ``lobby_entry(room, participant_id) -> dict | None``,
``decide(room, participant_id, allow)`` (an admin's ``enter``), ``advance(seconds)`` (moves the
contract's clock: lobby TTLs, throttling and session expiry all read it).

What the backend did (for assertions): ``requests`` (``RecordedRequest``: method, path, query,
status, headers), ``livekit_calls`` (``LiveKitCall``: the RoomService method, the request as a
dict, and the error code if it failed), ``notifications`` (``(room name, payload dict)`` sent with
``SendData``), ``subtitles_started`` (room ids), ``invitations`` (``(room id, emails)``).

Fault injection (each also ``clear_faults()``):

- ``fail_next(path_regex, status, body=None, content_type=None, *, times=1, method=None,
  headers=None)``: the next ``times`` matching requests (``re.search`` on the path) get that
  answer instead; the default body is what the real stack returns for that status (Django's HTML
  500/404 pages, an nginx 502/503/504 page, DRF's JSON 429 with ``Retry-After``, DRF's 403 ...).
- ``delay(path_regex, seconds, *, times=None, method=None)``: matching requests wait first.
- ``down()`` / ``up()``: stop listening (connection refused; open connections are closed) and
  listen again on the same port.

Settings (constructor keywords, also plain attributes that may be changed while running):

- ``livekit_api_url``: the RoomService URL (default ``livekit_url``);
- ``allow_unregistered_rooms`` (True, the backend's default; the Helm/dev examples set False);
- ``subtitle_enabled``, ``connection_test_enabled``, ``recording_enabled`` (False);
  ``telephony`` (None, or the config's telephony block); ``frontend`` (extra config keys);
- ``authenticated_can_edit_display_name`` (True);
- ``emulate_https`` (True): Django's CSRF checks as behind TLS, so an unsafe session call
  without ``Origin`` needs a same-origin ``Referer`` (its scheme is not checked: the contract
  speaks plain HTTP); ``csrf_trusted_origins`` ([]);
- ``secure_cookies`` (False: production sets ``Secure``, which clients refuse over plain HTTP);
- ``session_cookie_name`` ("sessionid"; Visio's dev settings use "meet_sessionid");
  ``session_age`` (43200 s);
- ``lobby_waiting_timeout`` (3 s), ``lobby_denied_timeout`` (5 s), ``lobby_accepted_timeout``
  (21600 s), ``request_entry_rate`` ((150, 60.0): that many requests per that many seconds);
- ``redirect_allowed_hosts`` ([]: other hosts ``returnTo`` may point to);
  ``idp_logout_endpoint`` (True: logout goes through the IdP's end-session page).

Endpoints (all under ``/api/v1.0/``): ``config/``; ``users/me/``; ``rooms/`` (GET list, POST
create); ``rooms/{slug-or-uuid}/`` (GET, PATCH, PUT, DELETE); ``rooms/{id}/request-entry/``,
``enter/``, ``waiting-participants/``, ``toggle-hand/``, ``rename/``, ``start-subtitle/``,
``mute-participant/``, ``update-participant/``, ``remove-participant/``,
``update-participant-role/``, ``invite/``, ``start-recording/``, ``stop-recording/``;
``rooms/creation-callback/``; ``diagnostics/connection/``; OIDC: ``authenticate/``,
``callback/``, ``logout/``, ``logout-callback/``. The fake IdP lives under ``/fake-proconnect/``
(``authorize``, ``login`` form, ``logout``) on the same server; ``/`` and ``/<slug>`` answer the
web app's HTML shell.

Client notes: the host is an IP address, so an aiohttp client keeps its cookies only with
``aiohttp.CookieJar(unsafe=True)``. Logging in for real: ``GET /api/v1.0/authenticate/?silent=
false&returnTo=<url>`` redirects to the IdP's HTML form (``email``, ``password`` and hidden
fields, ``POST /fake-proconnect/login``), which redirects to ``/api/v1.0/callback/`` (sets
``sessionid`` and ``csrftoken``), which redirects to ``returnTo`` (same host, or one of
``redirect_allowed_hosts``; otherwise ``/``).

Faithful details worth knowing (all from the backend source):

- The LiveKit room is the room UUID; ``livekit.url`` is the configured URL as is (default the
  room server's ``http://`` URL, like production's ``https://``): clients convert it to ``ws``.
- Session calls: ``401`` + ``WWW-Authenticate: Session`` when anonymous; unsafe methods of a
  logged-in session need ``X-CSRFToken`` = the ``csrftoken`` cookie (403 ``{"detail": "CSRF
  Failed: ..."}``). Anonymous calls (e.g. an anonymous ``request-entry``) need no CSRF. The
  ``csrftoken`` cookie is only set when logging in.
- Bearer (LiveKit token) endpoints answer 403 (not 401) without or with a bad token.
- ``request-entry`` sets ``lobbyParticipantId`` on every answer; throttling counts from the
  second request (the first has no cookie); the ``participantWaiting`` packet is sent (through
  ``ListRooms`` + ``SendData``) when a participant starts waiting, only if the LiveKit room
  exists.
- ``mute-participant`` only mutes (``MutePublishedTrack``); the ``participantMuted`` packet is
  sent by the *muting client* (frontend ``muteParticipant.ts``), not by the backend.
- ``toggle-hand``/``rename``/``update-participant`` call ``UpdateParticipant`` with
  ``metadata=json.dumps(None)``, i.e. the participant's metadata becomes ``"null"``.
- ``start-subtitle`` is 404 ``{"detail": "Not found."}`` when subtitles are disabled; when
  enabled it is recorded (the agent dispatch is not performed: the room server has no
  AgentDispatch service).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import html
import json
import logging
import math
import random
import re
import secrets
import string
import threading
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web
from livekit import api as lkapi

log = logging.getLogger(__name__)
T = TypeVar("T")

API = "/api/v1.0"
IDP = "/fake-proconnect"
CSRF_COOKIE = "csrftoken"
LOBBY_COOKIE = "lobbyParticipantId"
IDP_COOKIE = "fakeproconnect_session"
OIDC_CLIENT_ID = "meet"
LIVEKIT_DEFAULT_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"]
TRACK_SOURCES = frozenset(LIVEKIT_DEFAULT_SOURCES)
ACCESS_LEVELS = ("public", "trusted", "restricted")
ROLES = ("member", "administrator", "owner")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_CHARS = string.ascii_letters + string.digits
FORBIDDEN_PERMISSION_FIELDS = ("hidden", "recorder", "agent")
PERMISSION_FIELDS = ("can_subscribe", "can_publish", "can_publish_data", "can_publish_sources",
                     "hidden", "recorder", "can_update_metadata", "agent",
                     "can_subscribe_metrics")
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# DRF's messages
NOT_AUTHENTICATED = "Authentication credentials were not provided."
NO_PERMISSION = "You do not have permission to perform this action."
NO_PRIVILEGES = "You must have privileges on room to perform this action."
NOT_IN_MEETING = "You must be connected to the meeting to perform this action."
ROOM_NOT_FOUND = "No Room matches the given query."
REQUIRED = "This field is required."

_DJANGO_PAGE = ('<!doctype html>\n<html lang="en">\n<head>\n  <title>{title}</title>\n</head>\n'
                '<body>\n  <h1>{title}</h1><p>{text}</p>\n</body>\n</html>\n')
_NGINX_PAGE = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center>"
               "<h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
               "</html>\r\n")
_CSRF_PAGE = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n  <title>403 Forbidden</title>\n'
              '</head>\n<body>\n  <div id="summary">\n    <h1>Forbidden <span>(403)</span></h1>'
              "\n    <p>CSRF verification failed. Request aborted.</p>\n    <p>{reason}</p>\n"
              "  </div>\n</body>\n</html>\n")


# ---------------------------------------------------------------------------------------------
# records


@dataclass(slots=True)
class ContractUser:
    sub: str
    email: str
    full_name: str
    password: str
    short_name: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    language: str = "en-us"
    timezone: str = "UTC"
    default_room_access_level: str | None = None
    default_room_configuration: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:  # core/api/serializers.py::UserSerializer
        return {"id": self.id, "email": self.email, "full_name": self.full_name,
                "short_name": self.short_name, "timezone": self.timezone,
                "language": self.language,
                "default_room_access_level": self.default_room_access_level,
                "default_room_configuration": self.default_room_configuration}

    def __str__(self) -> str:  # core/models.py::User.__str__
        return self.email or self.id


@dataclass(slots=True)
class _Access:
    id: str
    sub: str
    role: str
    created: float


@dataclass(slots=True)
class ContractRoom:
    id: str
    name: str
    slug: str
    access_level: str
    configuration: dict[str, Any]
    accesses: list[_Access] = field(default_factory=list)
    pin_code: str | None = None
    created: float = field(default_factory=time.time)

    def role_of(self, user: ContractUser | None) -> str | None:  # core/models.py::get_role
        if user is None:
            return None
        role = None
        for access in self.accesses:
            if access.sub != user.sub:
                continue
            if access.role == "owner":
                return "owner"
            if access.role == "administrator":
                role = "administrator"
            if access.role == "member" and role != "administrator":
                role = "member"
        return role

    def is_admin_or_owner(self, user: ContractUser | None) -> bool:
        return self.role_of(user) in ("administrator", "owner")


@dataclass(slots=True)
class _Session:
    key: str
    data: dict[str, Any]
    expires_at: float


@dataclass(slots=True)
class _LobbyEntry:
    status: str
    username: str
    id: str
    color: str
    expires_at: float

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "username": self.username, "id": self.id,
                "color": self.color}


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0


@dataclass(slots=True)
class LiveKitCall:
    method: str
    request: dict[str, Any]
    error: str | None = None


@dataclass(slots=True)
class _Fault:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int | None
    status: int = 0
    body: str | bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def matches(self, request: web.Request) -> bool:
        return (self.remaining is None or self.remaining > 0) and \
            (self.method is None or self.method.upper() == request.method) and \
            bool(self.pattern.search(request.path))


@dataclass(slots=True)
class _RequestState:
    """What one request carries through the middleware (the Django session's life)."""

    session: _Session | None = None
    session_stale: bool = False  # a session cookie came, but its session is gone
    session_dirty: bool = False  # save the session and (re)send its cookie
    session_accessed: bool = False
    session_flushed: bool = False  # logged out: delete the cookie
    set_csrf: str | None = None  # a new csrftoken cookie (login rotates it)
    data: Any = None
    data_read: bool = False


_STATE = web.RequestKey("visio_contract", _RequestState)


def _st(request: web.Request) -> _RequestState:
    return request[_STATE]


class _Abort(Exception):
    """Ends a handler with a ready response."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(slots=True)
class _Auth:
    """What DRF's authentication produced for one request."""

    user: ContractUser | None = None
    claims: lkapi.access_token.Claims | None = None
    authenticator: str | None = None  # the successful one: "session" | "livekit" | None
    header: str | None = None  # the first authenticator's WWW-Authenticate (None -> 403)


# ---------------------------------------------------------------------------------------------
# small helpers (Django / DRF behaviour)


def slugify(value: str) -> str:
    """django.utils.text.slugify (allow_unicode=False)."""
    value = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value.lower())
    return re.sub(r"[-\s]+", "-", value).strip("-_")


def generate_color(identity: str) -> str:
    """core/utils.py::generate_color (same seed, same sequence of randint)."""
    seed = int(hashlib.sha1(identity.encode("utf-8")).hexdigest(), 16) & 0xFFFF
    rnd = random.Random(seed)
    hue = rnd.randint(0, 360)
    saturation = rnd.randint(50, 75)
    lightness = rnd.randint(25, 60)
    return f"hsl({hue}, {saturation}%, {lightness}%)"


def generate_room_slug() -> str:
    """core/utils.py::generate_room_slug / the web app's generateRoomId: xxx-xxxx-xxx."""
    return "-".join("".join(secrets.choice(string.ascii_lowercase) for _ in range(n))
                    for n in (3, 4, 3))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None
          ) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, separators=(",", ":")),
                        content_type="application/json", headers=dict(headers or {}))


def _detail(status: int, detail: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return _json({"detail": detail}, status, headers)


def _django_page(status: int) -> web.Response:
    titles = {400: ("Bad Request (400)", ""), 403: ("403 Forbidden", ""),
              404: ("Not Found", "The requested resource was not found on this server."),
              500: ("Server Error (500)", "")}
    title, text = titles.get(status, (f"{status}", ""))
    return web.Response(status=status, text=_DJANGO_PAGE.format(title=title, text=text),
                        content_type="text/html", charset="utf-8")


def _redirect(location: str, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location},
                        content_type="text/html", charset="utf-8")


def _throttled(wait: float) -> web.Response:
    wait_s = math.ceil(wait)
    unit = "second" if wait_s == 1 else "seconds"
    return _detail(429, f"Request was throttled. Expected available in {wait_s} {unit}.",
                   {"Retry-After": str(wait_s)})


def _fault_response(fault: _Fault) -> web.Response:
    status = fault.status
    body, content_type = fault.body, fault.content_type
    if body is None:
        if status == 429:
            response = _throttled(60)
            response.headers.update(fault.headers)
            return response
        if status in (502, 503, 504):
            reasons = {502: "Bad Gateway", 503: "Service Temporarily Unavailable",
                       504: "Gateway Time-out"}
            body = _NGINX_PAGE.format(status=status, reason=reasons[status])
            content_type = content_type or "text/html"
        elif status in (400, 404, 500):
            body = _DJANGO_PAGE.format(title=_django_title(status), text="")
            content_type = content_type or "text/html"
        elif status == 401:
            response = _detail(401, NOT_AUTHENTICATED, {"WWW-Authenticate": "Session"})
            response.headers.update(fault.headers)
            return response
        else:
            body = json.dumps({"detail": NO_PERMISSION if status == 403 else "Error."})
            content_type = content_type or "application/json"
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        content_type = content_type or "application/json"
    response = web.Response(status=status, body=body.encode() if isinstance(body, str) else body,
                            headers=fault.headers)
    response.content_type = content_type or "text/plain"
    return response


def _django_title(status: int) -> str:
    return {400: "Bad Request (400)", 404: "Not Found", 500: "Server Error (500)"}.get(
        status, str(status))


class _Errors(dict[str, list[str]]):
    """DRF serializer errors: ``{"field": ["message"]}``; raise() answers 400."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise _Abort(_json(dict(self), 400))


def _char(data: Mapping[str, Any], name: str, errors: _Errors, *, required: bool = True,
          allow_blank: bool = False, allow_null: bool = False, min_length: int | None = None,
          max_length: int | None = None) -> str | None:
    """rest_framework.fields.CharField (trim_whitespace=True)."""
    if name not in data:
        if required:
            errors.add(name, REQUIRED)
        return None
    value = data[name]
    if value is None:
        if not allow_null:
            errors.add(name, "This field may not be null.")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.add(name, "Not a valid string.")
        return None
    text = str(value).strip()
    if text == "":
        if not allow_blank:
            errors.add(name, "This field may not be blank.")
        return ""
    if max_length is not None and len(text) > max_length:
        errors.add(name, f"Ensure this field has no more than {max_length} characters.")
    if min_length is not None and len(text) < min_length:
        errors.add(name, f"Ensure this field has at least {min_length} characters.")
    return text


# DRF's TRUE_VALUES / FALSE_VALUES (1 also stands for True, 0 for 0.0 and False)
_TRUE = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1",
         1}
_FALSE = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
          "0", 0}


def _bool(data: Mapping[str, Any], name: str, errors: _Errors) -> bool | None:
    """rest_framework.fields.BooleanField (required)."""
    if name not in data:
        errors.add(name, REQUIRED)
        return None
    value = data[name]
    if value is None:
        errors.add(name, "This field may not be null.")
        return None
    try:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    except TypeError:  # unhashable
        pass
    errors.add(name, "Must be a valid boolean.")
    return None


def _dict_field(data: Mapping[str, Any], name: str, errors: _Errors) -> dict[str, Any] | None:
    """rest_framework.fields.DictField(required=False, allow_null=True)."""
    if name not in data or data[name] is None:
        return None
    value = data[name]
    if not isinstance(value, dict):
        errors.add(name, f'Expected a dictionary of items but got type "{type(value).__name__}".')
        return None
    return {str(k): v for k, v in value.items()}


def _unmask(token: str) -> str:
    """django.middleware.csrf._unmask_cipher_token."""
    mask, cipher = token[:32], token[32:]
    return "".join(CSRF_CHARS[CSRF_CHARS.index(x) - CSRF_CHARS.index(y)]
                   for x, y in zip(cipher, mask, strict=True))


def _token_format_error(token: str) -> str | None:
    if len(token) not in (32, 64):
        return "has incorrect length"
    if any(c not in CSRF_CHARS for c in token):
        return "has invalid characters"
    return None


def _replace_query(url: str, key: str, value: str | None) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
    if value is not None:
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(sorted(query))))


def _is_safe_url(url: str, allowed_hosts: set[str]) -> bool:
    """django.utils.http.url_has_allowed_host_and_scheme (require_https=False), simplified."""
    url = url.strip()
    if not url or url.startswith("///") or "\\" in url:
        return False
    parts = urlsplit(url)
    if not parts.scheme and parts.netloc:
        return parts.netloc in allowed_hosts
    if parts.scheme and parts.scheme not in ("http", "https"):
        return False
    return not parts.netloc or parts.netloc in allowed_hosts


# ---------------------------------------------------------------------------------------------
# the contract server


class VisioContract:
    """Visio's REST API on 127.0.0.1 (ephemeral port), on its own thread and event loop."""

    def __init__(self, livekit_url: str, api_key: str, api_secret: str, *,
                 livekit_api_url: str | None = None,
                 allow_unregistered_rooms: bool = True,
                 subtitle_enabled: bool = False,
                 connection_test_enabled: bool = False,
                 recording_enabled: bool = False,
                 telephony: dict[str, Any] | None = None,
                 authenticated_can_edit_display_name: bool = True,
                 emulate_https: bool = True,
                 csrf_trusted_origins: list[str] | None = None,
                 secure_cookies: bool = False,
                 session_cookie_name: str = "sessionid",
                 session_age: float = 60 * 60 * 12,
                 lobby_waiting_timeout: float = 3,
                 lobby_denied_timeout: float = 5,
                 lobby_accepted_timeout: float = 21600,
                 request_entry_rate: tuple[int, float] = (150, 60.0),
                 redirect_allowed_hosts: list[str] | None = None,
                 idp_logout_endpoint: bool = True,
                 frontend: dict[str, Any] | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.livekit_url = livekit_url
        self.livekit_api_url = livekit_api_url or livekit_url
        self.api_key = api_key
        self.api_secret = api_secret
        self.allow_unregistered_rooms = allow_unregistered_rooms
        self.subtitle_enabled = subtitle_enabled
        self.connection_test_enabled = connection_test_enabled
        self.recording_enabled = recording_enabled
        self.telephony = telephony
        self.authenticated_can_edit_display_name = authenticated_can_edit_display_name
        self.emulate_https = emulate_https
        self.csrf_trusted_origins = list(csrf_trusted_origins or [])
        self.secure_cookies = secure_cookies
        self.session_cookie_name = session_cookie_name
        self.session_age = session_age
        self.lobby_waiting_timeout = lobby_waiting_timeout
        self.lobby_denied_timeout = lobby_denied_timeout
        self.lobby_accepted_timeout = lobby_accepted_timeout
        self.request_entry_rate = request_entry_rate
        self.redirect_allowed_hosts = list(redirect_allowed_hosts or [])
        self.idp_logout_endpoint = idp_logout_endpoint
        self.frontend = dict(frontend or {})
        self.host = host
        self.port = port

        # state (touched on the server's loop only; hooks hop onto it)
        self.users: dict[str, ContractUser] = {}  # by sub
        self.rooms: dict[str, ContractRoom] = {}  # by id
        self._sessions: dict[str, _Session] = {}
        self._idp_sessions: dict[str, str] = {}  # IdP cookie -> sub
        self._codes: dict[str, dict[str, Any]] = {}  # authorization code -> grant
        self._lobby: dict[tuple[str, str], _LobbyEntry] = {}
        self._throttle: dict[str, list[float]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._clock_offset = 0.0

        # what happened
        self.requests: list[RecordedRequest] = []
        self.livekit_calls: list[LiveKitCall] = []
        self.notifications: list[tuple[str, dict[str, Any]]] = []
        self.subtitles_started: list[str] = []
        self.invitations: list[tuple[str, list[str]]] = []

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="visio-contract",
                                       daemon=True)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._started = False

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()
        self._started = True
        self.call(self._start)

    def stop(self) -> None:
        if not self._started:
            return
        try:
            self.call(self._stop, timeout=20)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self._started = False

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Run an async function on the contract's loop and wait for its result."""
        async def run() -> T:
            return await fn()
        fut: Future[T] = asyncio.run_coroutine_threadsafe(run(), self.loop)
        return fut.result(timeout)

    def _sync(self, fn: Callable[[], T]) -> T:
        """Run a state change on the contract's loop (or inline before start / on that loop)."""
        if not self._started or threading.current_thread() is self.thread:
            return fn()

        async def run() -> T:
            return fn()
        return self.call(run, timeout=10)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Visio contract server on %s", self.url)

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def down(self) -> None:
        """Stop listening: new connections are refused and open ones are closed."""
        async def go() -> None:
            if self._site is not None:
                await self._site.stop()
                self._site = None
            if self._runner is not None and self._runner.server is not None:
                for handler in self._runner.server.connections:
                    handler.force_close()
        self.call(go)

    def up(self) -> None:
        """Listen again on the same port."""
        async def go() -> None:
            if self._site is None and self._runner is not None:
                self._site = web.TCPSite(self._runner, self.host, self.port,
                                         reuse_address=True)
                await self._site.start()
        self.call(go)

    # -- clock ----------------------------------------------------------------------------------
    def now(self) -> float:
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the contract's clock forward (lobby TTLs, throttling, session expiry)."""
        def go() -> None:
            self._clock_offset += seconds
        self._sync(go)

    # -- data set-up hooks ----------------------------------------------------------------------
    def add_user(self, sub: str, email: str, full_name: str, password: str, *,
                 short_name: str | None = None, default_room_access_level: str | None = None,
                 default_room_configuration: dict[str, Any] | None = None) -> str:
        user = ContractUser(sub=sub, email=email, full_name=full_name, password=password,
                            short_name=short_name,
                            default_room_access_level=default_room_access_level,
                            default_room_configuration=dict(default_room_configuration or {}))

        def go() -> str:
            self.users[sub] = user
            return user.id
        return self._sync(go)

    def add_room(self, slug: str, access_level: str = "public", owner_sub: str | None = None,
                 configuration: dict[str, Any] | None = None, *, name: str | None = None,
                 members: Mapping[str, str] | None = None) -> str:
        if access_level not in ACCESS_LEVELS:
            raise ValueError(f"unknown access level {access_level!r}")
        room = ContractRoom(id=str(uuid.uuid4()), name=name or slug, slug=slugify(name or slug),
                            access_level=access_level, configuration=dict(configuration or {}))

        def go() -> str:
            if any(r.slug == room.slug for r in self.rooms.values()):
                raise ValueError(f"a room with slug {room.slug!r} exists")
            self.rooms[room.id] = room
            if owner_sub is not None:
                self._set_role(room, owner_sub, "owner")
            for sub, role in (members or {}).items():
                self._set_role(room, sub, role)
            return room.id
        return self._sync(go)

    def set_role(self, room: str, sub: str, role: str | None) -> None:
        def go() -> None:
            self._set_role(self._find_room(room), sub, role)
        self._sync(go)

    def _set_role(self, room: ContractRoom, sub: str, role: str | None) -> None:
        if sub not in self.users:
            raise KeyError(f"unknown user {sub!r} (add_user first)")
        room.accesses = [a for a in room.accesses if a.sub != sub]
        if role is not None:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            room.accesses.insert(0, _Access(str(uuid.uuid4()), sub, role, time.time()))

    def room_info(self, room: str) -> dict[str, Any]:
        def go() -> dict[str, Any]:
            r = self._find_room(room)
            return {"id": r.id, "name": r.name, "slug": r.slug, "access_level": r.access_level,
                    "configuration": json.loads(json.dumps(r.configuration)),
                    "accesses": {a.sub: a.role for a in r.accesses}}
        return self._sync(go)

    def _find_room(self, key: str) -> ContractRoom:
        room = self._lookup_room(key)
        if room is None:
            raise KeyError(f"no room {key!r}")
        return room

    def _lookup_room(self, key: str) -> ContractRoom | None:
        """RoomViewSet.get_object: a UUID is looked up as the id, anything else as a slug."""
        if _is_uuid(key):
            return self.rooms.get(str(uuid.UUID(key)))
        slug = slugify(key)
        return next((r for r in self.rooms.values() if r.slug == slug), None)

    def login(self, sub: str) -> dict[str, str]:
        """A logged-in session for ``sub`` without the OIDC dance: the cookies to send."""
        def go() -> dict[str, str]:
            if sub not in self.users:
                raise KeyError(f"unknown user {sub!r}")
            session = self._new_session({"_auth_user_sub": sub})
            return {self.session_cookie_name: session.key, CSRF_COOKIE: _new_csrf_secret()}
        return self._sync(go)

    def expire_sessions(self) -> None:
        """Every Visio session ends (as if SESSION_COOKIE_AGE had passed)."""
        self._sync(self._sessions.clear)

    def idp_logout(self) -> None:
        """Every session at the fake IdP ends: a silent login then fails."""
        self._sync(self._idp_sessions.clear)

    # -- lobby hooks ----------------------------------------------------------------------------
    def waiting(self, room: str) -> list[dict[str, str]]:
        """The waiting participants of a room, as ``waiting-participants`` lists them."""
        return self._sync(lambda: self._list_waiting(self._find_room(room).id))

    def lobby_entry(self, room: str, participant_id: str) -> dict[str, str] | None:
        def go() -> dict[str, str] | None:
            entry = self._lobby_get(self._find_room(room).id, participant_id)
            return entry.to_dict() if entry else None
        return self._sync(go)

    def decide(self, room: str, participant_id: str, allow: bool) -> None:
        """An admin accepts or denies a waiting participant (KeyError if unknown)."""
        def go() -> None:
            if not self._handle_entry(self._find_room(room).id, participant_id, allow):
                raise KeyError(f"participant {participant_id!r} is not in the lobby")
        self._sync(go)

    # -- fault injection ------------------------------------------------------------------------
    def fail_next(self, path_regex: str, status: int, body: str | bytes | dict[str, Any] |
                  list[Any] | None = None, content_type: str | None = None, *,
                  times: int | None = 1, method: str | None = None,
                  headers: Mapping[str, str] | None = None) -> None:
        fault = _Fault(re.compile(path_regex), method, times, status=status,
                       body=body if not isinstance(body, (dict, list)) else json.dumps(body),
                       content_type=content_type or ("application/json"
                                                     if isinstance(body, (dict, list))
                                                     else None),
                       headers=dict(headers or {}))
        self._sync(lambda: self._faults.append(fault))

    def delay(self, path_regex: str, seconds: float, *, times: int | None = None,
              method: str | None = None) -> None:
        fault = _Fault(re.compile(path_regex), method, times, delay=seconds)
        self._sync(lambda: self._faults.append(fault))

    def clear_faults(self) -> None:
        self._sync(self._faults.clear)

    # -- routing --------------------------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get(f"{API}/config/", self._config)
        r.add_get(f"{API}/users/me/", self._me)
        r.add_route("*", f"{API}/rooms/creation-callback/", self._creation_callback)
        r.add_route("*", f"{API}/rooms/", self._rooms)
        actions: dict[str, tuple[str, Callable[[web.Request, str], Awaitable[web.Response]]]] = {
            "request-entry": ("POST", self._request_entry),
            "enter": ("POST", self._enter),
            "waiting-participants": ("GET", self._waiting_participants),
            "toggle-hand": ("POST", self._toggle_hand),
            "rename": ("POST", self._rename),
            "start-subtitle": ("POST", self._start_subtitle),
            "mute-participant": ("POST", self._mute_participant),
            "update-participant": ("POST", self._update_participant),
            "remove-participant": ("POST", self._remove_participant),
            "update-participant-role": ("POST", self._update_participant_role),
            "invite": ("POST", self._invite),
            "start-recording": ("POST", self._recording),
            "stop-recording": ("POST", self._recording),
        }
        for action, (method, handler) in actions.items():
            r.add_route("*", f"{API}/rooms/{{pk:[^/.]+}}/{action}/",
                        self._action(method, action, handler))
        r.add_route("*", f"{API}/rooms/{{pk:[^/.]+}}/", self._room_detail)
        r.add_route("*", f"{API}/diagnostics/connection/", self._connection_test)
        r.add_get(f"{API}/authenticate/", self._authenticate)
        r.add_get(f"{API}/callback/", self._callback)
        r.add_route("*", f"{API}/logout/", self._logout)
        r.add_get(f"{API}/logout-callback/", self._logout_callback)
        r.add_get(f"{IDP}/authorize", self._idp_authorize)
        r.add_post(f"{IDP}/login", self._idp_login)
        r.add_get(f"{IDP}/logout", self._idp_end_session)
        r.add_get("/", self._frontend)
        r.add_get("/{slug:[^/]+}", self._frontend)

    def _action(self, method: str, action: str,
                handler: Callable[[web.Request, str], Awaitable[web.Response]]
                ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            if request.method != method and request.method != "OPTIONS":
                raise _Abort(_detail(405, f'Method "{request.method}" not allowed.'))
            return await handler(request, action)
        return serve

    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
        record = RecordedRequest(request.method, request.path, dict(request.query),
                                 dict(request.headers))
        self.requests.append(record)
        response = await self._faulted(request)
        if response is None:
            self._load_session(request)
            try:
                response = await handler(request)
            except _Abort as abort:
                response = abort.response
            except web.HTTPMethodNotAllowed:
                response = _detail(405, f'Method "{request.method}" not allowed.')
            except web.HTTPNotFound:
                response = self._append_slash(request) or _django_page(404)
            except Exception:
                log.exception("contract server: %s %s failed", request.method, request.path)
                response = _django_page(500)
            self._save_session(request, response)
        record.status = response.status
        return response

    async def _faulted(self, request: web.Request) -> web.Response | None:
        for fault in list(self._faults):
            if not fault.matches(request):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            if fault.delay:
                await asyncio.sleep(fault.delay)
                continue
            return _fault_response(fault)
        return None

    def _append_slash(self, request: web.Request) -> web.Response | None:
        """Django's CommonMiddleware (APPEND_SLASH): a 301 to the path with a slash."""
        path = request.path
        if path.endswith("/") or not path.startswith(API):
            return None
        candidate = path + "/"
        for resource in request.app.router.resources():
            info = resource.get_info()
            pattern = info.get("pattern")
            if (pattern is not None and pattern.fullmatch(candidate)) or \
                    info.get("path") == candidate:
                location = candidate + (f"?{request.query_string}" if request.query_string
                                        else "")
                return web.Response(status=301, headers={"Location": location})
        return None

    # -- sessions, cookies, CSRF ----------------------------------------------------------------
    def _new_session(self, data: dict[str, Any]) -> _Session:
        key = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))
        session = _Session(key, data, self.now() + self.session_age)
        self._sessions[key] = session
        return session

    def _load_session(self, request: web.Request) -> None:
        key = request.cookies.get(self.session_cookie_name)
        session = self._sessions.get(key) if key else None
        if session is not None and session.expires_at <= self.now():
            del self._sessions[session.key]
            session = None
        request[_STATE] = _RequestState(session=session,
                                        session_stale=bool(key) and session is None)

    def _session_for_write(self, request: web.Request) -> _Session:
        session: _Session | None = _st(request).session
        if session is None:
            session = self._new_session({})
            _st(request).session = session
        _st(request).session_dirty = True
        return session

    def _save_session(self, request: web.Request, response: web.StreamResponse) -> None:
        session: _Session | None = _st(request).session
        secure = self.secure_cookies
        if _st(request).session_flushed:
            response.del_cookie(self.session_cookie_name, path="/")
        elif session is not None and _st(request).session_dirty:
            session.expires_at = self.now() + self.session_age
            response.set_cookie(self.session_cookie_name, session.key,
                                max_age=int(self.session_age), path="/", httponly=True,
                                samesite="Lax", secure=secure or None,
                                expires=_cookie_expiry(self.session_age))
        elif _st(request).session_stale and _st(request).session_accessed:
            response.del_cookie(self.session_cookie_name, path="/")
        csrf = _st(request).set_csrf
        if csrf:
            year = 60 * 60 * 24 * 7 * 52
            response.set_cookie(CSRF_COOKIE, csrf, max_age=year, path="/", samesite="Lax",
                                secure=secure or None, expires=_cookie_expiry(year))

    def _session_user(self, request: web.Request) -> ContractUser | None:
        _st(request).session_accessed = True
        session: _Session | None = _st(request).session
        if session is None:
            return None
        sub = session.data.get("_auth_user_sub")
        return self.users.get(sub) if isinstance(sub, str) else None

    def _csrf_reason(self, request: web.Request) -> str | None:
        """django.middleware.csrf.CsrfViewMiddleware.process_view: why the request is refused."""
        good_origin = f"{request.scheme}://{request.host}"
        origin = request.headers.get("Origin")
        if origin is not None:
            if origin != good_origin and origin not in self.csrf_trusted_origins:
                return f"Origin checking failed - {origin} does not match any trusted origins."
        elif self.emulate_https:
            referer = request.headers.get("Referer")
            if referer is None:
                return "Referer checking failed - no Referer."
            parts = urlsplit(referer)
            if not parts.scheme or not parts.netloc:
                return "Referer checking failed - Referer is malformed."
            trusted = {urlsplit(o).netloc for o in self.csrf_trusted_origins}
            if parts.netloc != request.host and parts.netloc not in trusted:
                return (f"Referer checking failed - {parts.geturl()} does not match any "
                        "trusted origins.")
        secret = request.cookies.get(CSRF_COOKIE)
        if secret is None:
            return "CSRF cookie not set."
        problem = _token_format_error(secret)
        if problem:
            return f"CSRF cookie {problem}."
        token = request.headers.get("X-CSRFToken")
        if token is None:
            return "CSRF token missing."
        problem = _token_format_error(token)
        if problem:
            return f"CSRF token {problem}."
        if len(secret) == 64:
            secret = _unmask(secret)
        if len(token) == 64:
            token = _unmask(token)
        if not secrets.compare_digest(token, secret):
            return "CSRF token incorrect."
        return None

    # -- DRF authentication and permissions -----------------------------------------------------
    def _authenticate_session(self, request: web.Request, auth: _Auth) -> None:
        """SessionAuthenticationWith401: the session's user, with CSRF on unsafe methods."""
        user = self._session_user(request)
        if user is None:
            return
        if request.method not in SAFE_METHODS:
            reason = self._csrf_reason(request)
            if reason:
                raise _Abort(_detail(403, f"CSRF Failed: {reason}"))
        auth.user, auth.authenticator = user, "session"

    def _authenticate_livekit(self, request: web.Request, auth: _Auth) -> bool:
        """LiveKitTokenAuthentication: False when there is no Authorization header."""
        header = request.headers.get("Authorization")
        if not header:
            return False
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise _Abort(_detail(403, "Authorization header must be: Bearer <token>"))
        try:
            claims = lkapi.TokenVerifier(self.api_key, self.api_secret).verify(parts[1])
        except Exception as exc:
            raise _Abort(_detail(403, f"Invalid LiveKit token: {exc}")) from exc
        if not claims.identity:
            raise _Abort(_detail(403, "Invalid LiveKit token: Token missing user identity"))
        auth.user = self.users.get(claims.identity)
        auth.claims, auth.authenticator = claims, "livekit"
        return True

    def _auth(self, request: web.Request, kind: str = "session") -> _Auth:
        """``kind``: "session" (the DRF default), "livekit", or "livekit+session"."""
        if kind == "session":
            auth = _Auth(header="Session")
            self._authenticate_session(request, auth)
        elif kind == "livekit":
            auth = _Auth()
            self._authenticate_livekit(request, auth)
        else:
            auth = _Auth()
            if not self._authenticate_livekit(request, auth):
                self._authenticate_session(request, auth)
        return auth

    @staticmethod
    def _deny(auth: _Auth, message: str = NO_PERMISSION) -> _Abort:
        """APIView.permission_denied: 401/403 NotAuthenticated, else 403 PermissionDenied."""
        if auth.authenticator is None:
            if auth.header:
                return _Abort(_detail(401, NOT_AUTHENTICATED, {"WWW-Authenticate": auth.header}))
            return _Abort(_detail(403, NOT_AUTHENTICATED))
        return _Abort(_detail(403, message))

    def _require_authenticated(self, auth: _Auth) -> ContractUser:
        if auth.user is None:
            raise self._deny(auth)
        return auth.user

    def _get_room(self, pk: str) -> ContractRoom:
        room = self._lookup_room(pk)
        if room is None:
            raise _Abort(_detail(404, ROOM_NOT_FOUND))
        return room

    def _privileged_room(self, pk: str, auth: _Auth) -> ContractRoom:
        """get_object() under HasPrivilegesOnRoom."""
        room = self._get_room(pk)
        if not room.is_admin_or_owner(auth.user):
            raise self._deny(auth, NO_PRIVILEGES)
        return room

    def _livekit_room(self, pk: str, auth: _Auth) -> ContractRoom:
        """get_object() under HasLiveKitRoomAccess: the token must be for this room."""
        room = self._get_room(pk)
        if auth.claims is None or auth.claims.video is None or \
                auth.claims.video.room != room.id:
            raise self._deny(auth)
        return room

    async def _data(self, request: web.Request) -> Any:
        """request.data under JSONParser + the multipart parser (parsed when first read)."""
        if _st(request).data_read:
            return _st(request).data
        body = await request.read()
        media = request.headers.get("Content-Type")
        data: Any
        if not body or not media:
            data = {}
        elif request.content_type == "application/json":
            try:
                data = json.loads(body.decode(request.charset or "utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _Abort(_detail(400, f"JSON parse error - {exc}")) from exc
        elif request.content_type == "multipart/form-data":
            data = dict(await request.post())
        else:
            raise _Abort(_detail(415, f'Unsupported media type "{media}" in request.'))
        _st(request).data, _st(request).data_read = data, True
        return data

    async def _object_data(self, request: web.Request) -> dict[str, Any]:
        data = await self._data(request)
        if not isinstance(data, dict):
            raise _Abort(_json({"non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]}, 400))
        return data

    def _check_throttle(self, key: str | None, rate: tuple[int, float]) -> None:
        """DRF SimpleRateThrottle: ``rate`` = (requests, seconds)."""
        if key is None:
            return
        num, duration = rate
        now = self.now()
        history = [t for t in self._throttle.get(key, []) if t > now - duration]
        if len(history) >= num:
            self._throttle[key] = history
            remaining = duration - (now - history[-1]) if history else duration
            available = num - len(history) + 1
            raise _Abort(_throttled(remaining / available if available > 0 else duration))
        history.insert(0, now)
        self._throttle[key] = history

    # -- LiveKit tokens (core/utils.py) ---------------------------------------------------------
    def generate_token(self, room: str, user: ContractUser | None, username: str | None = None,
                       color: str | None = None, sources: list[str] | None = None,
                       role: str | None = None, participant_id: str | None = None,
                       ttl: dt.timedelta | None = None) -> str:
        is_admin_or_owner = role in ("owner", "administrator")
        if is_admin_or_owner or sources is None:
            sources = list(LIVEKIT_DEFAULT_SOURCES)
        grants = lkapi.VideoGrants(room=room, room_join=True, room_admin=is_admin_or_owner,
                                   can_update_own_metadata=False, can_publish=bool(sources),
                                   can_publish_sources=sources, can_subscribe=True)
        if user is None:
            identity = participant_id or str(uuid.uuid4())
            default_username = "Anonymous"
        else:
            identity = user.sub
            default_username = user.full_name or str(user)
        if color is None:
            color = generate_color(identity)
        can_edit = self.authenticated_can_edit_display_name or user is None
        display_name = (username or default_username) if can_edit else default_username
        token = (lkapi.AccessToken(self.api_key, self.api_secret)
                 .with_grants(grants).with_identity(identity).with_name(display_name)
                 .with_attributes({"color": color, "room_role": role,  # type: ignore[dict-item]
                                   "is_authenticated": "true" if user else "false"}))
        if ttl is not None:
            token = token.with_ttl(ttl)
        return token.to_jwt()

    def _livekit_config(self, room_id: str, user: ContractUser | None, username: str | None,
                        role: str | None = None, color: str | None = None,
                        configuration: dict[str, Any] | None = None,
                        participant_id: str | None = None) -> dict[str, str]:
        sources = configuration.get("can_publish_sources") if configuration is not None \
            else None
        return {"url": self.livekit_url, "room": room_id,
                "token": self.generate_token(room_id, user, username, color, sources, role,
                                             participant_id)}

    # -- LiveKit server API (the backend's services, through livekit-api) ----------------------
    async def _livekit(self, method: str, request: Any) -> Any:
        call = LiveKitCall(method, _message_dict(request))
        self.livekit_calls.append(call)
        client = lkapi.LiveKitAPI(self.livekit_api_url, self.api_key, self.api_secret)
        try:
            return await getattr(client.room, method)(request)
        except lkapi.TwirpError as exc:
            call.error = exc.code
            raise
        except Exception as exc:
            call.error = type(exc).__name__
            raise
        finally:
            await client.aclose()

    async def _notify_participants(self, room_name: str, data: dict[str, Any]) -> None:
        """core/utils.py::notify_participants (errors are logged by the caller)."""
        rooms = await self._livekit("list_rooms", lkapi.ListRoomsRequest(names=[room_name]))
        if not rooms.rooms:
            return
        await self._livekit("send_data", lkapi.SendDataRequest(
            room=room_name, data=json.dumps(data).encode("utf-8"), kind="RELIABLE"))
        self.notifications.append((room_name, data))

    async def _participant_update(self, room_name: str, identity: str,
                                  metadata: dict[str, Any] | None = None,
                                  attributes: dict[str, Any] | None = None,
                                  permission: dict[str, Any] | None = None,
                                  name: str | None = None) -> str | None:
        """ParticipantsManagement.update: None, "not_found" or "error"."""
        # a non-string attribute value makes the protobuf constructor raise, as in the backend
        # (-> Django's 500 page)
        request = lkapi.UpdateParticipantRequest(
            room=room_name, identity=identity, metadata=json.dumps(metadata),
            permission=permission, attributes=attributes, name=name)
        return await self._management_call("update_participant", request)

    async def _management_call(self, method: str, request: Any) -> str | None:
        # anything but a Twirp error (LiveKit unreachable) escapes the backend: a 500 page
        try:
            await self._livekit(method, request)
        except lkapi.TwirpError as exc:
            return "not_found" if exc.code == "not_found" else "error"
        return None

    async def _in_meeting(self, room_name: str, identity: str) -> bool | str:
        """ParticipantsManagement.check_if_in_meeting: a bool, or "not_found" / "error"."""
        if not room_name or not identity:
            return False
        try:
            info = await self._livekit("get_participant", lkapi.RoomParticipantIdentity(
                room=room_name, identity=identity))
        except lkapi.TwirpError as exc:
            return "not_found" if exc.code == "not_found" else "error"
        return bool(info.state != lkapi.ParticipantInfo.State.DISCONNECTED)

    # -- lobby (core/services/lobby.py) ---------------------------------------------------------
    def _lobby_get(self, room_id: str, participant_id: str) -> _LobbyEntry | None:
        key = (room_id, participant_id)
        entry = self._lobby.get(key)
        if entry is not None and entry.expires_at <= self.now():
            del self._lobby[key]
            return None
        return entry

    def _list_waiting(self, room_id: str) -> list[dict[str, str]]:
        return [e.to_dict() for (rid, pid), e in list(self._lobby.items())
                if rid == room_id and self._lobby_get(rid, pid) is not None
                and e.status == "waiting"]

    def _handle_entry(self, room_id: str, participant_id: str, allow: bool) -> bool:
        entry = self._lobby_get(room_id, participant_id)
        if entry is None:
            return False
        entry.status = "accepted" if allow else "denied"
        entry.expires_at = self.now() + (self.lobby_accepted_timeout if allow
                                         else self.lobby_denied_timeout)
        return True

    @staticmethod
    def _can_bypass_lobby(room: ContractRoom, user: ContractUser | None,
                          role: str | None) -> bool:
        return (room.access_level == "public"
                or (room.access_level == "trusted" and user is not None)
                or (room.access_level == "restricted" and user is not None
                    and role is not None))

    # -- serializers ----------------------------------------------------------------------------
    def _room_json(self, room: ContractRoom, request: web.Request,
                   user: ContractUser | None) -> dict[str, Any]:
        """RoomSerializer.to_representation."""
        output: dict[str, Any] = {"id": room.id, "name": room.name, "slug": room.slug,
                                  "configuration": room.configuration,
                                  "access_level": room.access_level, "pin_code": room.pin_code}
        role = room.role_of(user)
        if role in ("administrator", "owner"):
            output["accesses"] = [
                {"id": a.id, "user": self.users[a.sub].to_json(), "resource": room.id,
                 "role": a.role}
                for a in sorted(room.accesses, key=lambda a: -a.created) if a.sub in self.users]
        if (room.access_level == "trusted" and user is not None) or role is not None or \
                room.access_level == "public":
            output["livekit"] = self._livekit_config(
                room.id, user, request.query.get("username"), role=role,
                configuration=output["configuration"])
        else:
            del output["pin_code"]
        return output

    def _validate_room(self, data: Mapping[str, Any], errors: _Errors, *, partial: bool
                       ) -> dict[str, Any]:
        """RoomSerializer's writable fields: name, configuration, access_level."""
        values: dict[str, Any] = {}
        if "name" in data or not partial:
            name = _char(data, "name", errors, max_length=500)
            if name is not None:
                values["name"] = name
        if "access_level" in data:
            level = data["access_level"]
            if level not in ACCESS_LEVELS:
                errors.add("access_level", f'"{level}" is not a valid choice.')
            else:
                values["access_level"] = level
        if "configuration" in data:
            config = data["configuration"]
            problem = _configuration_problem(config)
            if problem:
                errors.add("configuration", problem)
            else:
                values["configuration"] = config if config is not None else {}
        return values

    def _apply_room_values(self, room: ContractRoom, values: dict[str, Any]) -> None:
        """Room.save(): full_clean() slugifies the name, refuses UUID-like names, checks
        the slug's uniqueness."""
        errors = _Errors()
        name = values.get("name", room.name)
        slug = slugify(name)
        if _is_uuid(slug):
            errors.add("name", f'Room name "{name}" is reserved.')
        elif any(r.slug == slug and r.id != room.id for r in self.rooms.values()):
            errors.add("slug", "Room with this Slug already exists.")
        errors.raise_if_any()
        room.name, room.slug = name, slug
        room.access_level = values.get("access_level", room.access_level)
        room.configuration = values.get("configuration", room.configuration)

    # -- handlers: configuration and users ------------------------------------------------------
    async def _config(self, request: web.Request) -> web.Response:
        self._auth(request)
        config: dict[str, Any] = {
            "LANGUAGE_CODE": "en-us",
            "recording": {"is_enabled": self.recording_enabled,
                          "available_modes": ["screen_recording", "transcript"],
                          "expiration_days": None, "max_duration": None},
            "background_image": {"upload_is_enabled": False, "max_count_by_user": 10,
                                 "max_size": 2 * 1024 * 1024,
                                 "allowed_extensions": [".jpeg", ".jpg", ".png"],
                                 "allowed_mimetypes": ["image/jpeg", "image/png"]},
            "telephony": dict(self.telephony) if self.telephony else {"enabled": False},
            "resource": {"default_access_level": "public"},
            "subtitle": {"enabled": self.subtitle_enabled},
            "diagnostics": {"connection_test_enabled": self.connection_test_enabled},
            "livekit": {"url": self.livekit_url, "force_wss_protocol": False,
                        "enable_firefox_proxy_workaround": False,
                        "default_sources": list(LIVEKIT_DEFAULT_SOURCES)},
            "authenticated_users_can_edit_display_name": self.authenticated_can_edit_display_name,
            "custom_css_url": None, "analytics": {}, "support": {},
            "silence_livekit_debug_logs": False, "is_silent_login_enabled": True,
            "idle_disconnect_warning_delay": None, "feedback": {}, "documentation_url": None,
            "external_home_url": None, "use_french_gov_footer": False,
            "use_proconnect_button": False, "manifest_link": None,
            "transcription_destination": None, "max_participants_for_sound": 5,
            "auto_mute_on_join_threshold": 50,
        }
        config.update(self.frontend)
        return _json(config)

    async def _me(self, request: web.Request) -> web.Response:
        auth = self._auth(request)
        return _json(self._require_authenticated(auth).to_json())

    # -- handlers: rooms ------------------------------------------------------------------------
    async def _rooms(self, request: web.Request) -> web.Response:
        auth = self._auth(request)
        if request.method == "GET":
            return self._room_list(request, auth)
        if request.method != "POST":
            raise _Abort(_detail(405, f'Method "{request.method}" not allowed.'))
        user = self._require_authenticated(auth)  # RoomPermissions.has_permission
        data = await self._object_data(request)
        errors = _Errors()
        values = self._validate_room(data, errors, partial=False)
        errors.raise_if_any()
        # perform_create: the user's defaults apply unless the request sets them
        if "access_level" not in values and user.default_room_access_level:
            values["access_level"] = user.default_room_access_level
        if not values.get("configuration") and user.default_room_configuration:
            values["configuration"] = dict(user.default_room_configuration)
        room = ContractRoom(id=str(uuid.uuid4()), name="", slug="", access_level="public",
                            configuration={})
        self._apply_room_values(room, values)
        self.rooms[room.id] = room
        self._set_role(room, user.sub, "owner")
        callback_id = data.get("callback_id")
        if callback_id:
            self._callbacks[str(callback_id)] = {"slug": room.slug}
        return _json(self._room_json(room, request, user), 201)

    def _room_list(self, request: web.Request, auth: _Auth) -> web.Response:
        user = auth.user
        rooms = sorted((r for r in self.rooms.values() if user and r.role_of(user)),
                       key=lambda r: r.name)
        try:
            size = int(request.query.get("page_size", PAGE_SIZE))
            size = min(size, MAX_PAGE_SIZE) if size > 0 else PAGE_SIZE
        except ValueError:
            size = PAGE_SIZE
        page_text = request.query.get("page", "1")
        pages = max(1, math.ceil(len(rooms) / size))
        page = pages if page_text == "last" else int(page_text) if page_text.isdigit() else 0
        if not 1 <= page <= pages:
            raise _Abort(_detail(404, "Invalid page."))
        url = str(request.url)
        return _json({
            "count": len(rooms),
            "next": _replace_query(url, "page", str(page + 1)) if page < pages else None,
            "previous": (None if page == 1 else _replace_query(url, "page", None) if page == 2
                         else _replace_query(url, "page", str(page - 1))),
            "results": [self._room_json(r, request, user)
                        for r in rooms[(page - 1) * size:page * size]],
        })

    async def _room_detail(self, request: web.Request) -> web.Response:
        pk = request.match_info["pk"]
        auth = self._auth(request)
        if request.method == "GET":
            room = self._lookup_room(pk)
            if room is not None:
                return _json(self._room_json(room, request, auth.user))
            if not self.allow_unregistered_rooms:
                raise _Abort(_detail(404, ROOM_NOT_FOUND))
            slug = slugify(pk)
            return _json({"id": None, "slug": slug, "is_administrable": False,
                          "access_level": "public",
                          "livekit": {"url": self.livekit_url, "room": slug,
                                      "token": self.generate_token(
                                          slug, auth.user, request.query.get("username"))}})
        if request.method not in ("PATCH", "PUT", "DELETE"):
            raise _Abort(_detail(405, f'Method "{request.method}" not allowed.'))
        self._require_authenticated(auth)
        room = self._get_room(pk)
        if request.method == "DELETE":
            if room.role_of(auth.user) != "owner":
                raise self._deny(auth)
            del self.rooms[room.id]
            return web.Response(status=204)
        if not room.is_admin_or_owner(auth.user):
            raise self._deny(auth)
        data = await self._object_data(request)
        errors = _Errors()
        values = self._validate_room(data, errors, partial=request.method == "PATCH")
        errors.raise_if_any()
        old = (json.dumps(room.configuration, sort_keys=True), room.access_level)
        self._apply_room_values(room, values)
        if (json.dumps(room.configuration, sort_keys=True), room.access_level) != old:
            await self._update_room_metadata(room)
        return _json(self._room_json(room, request, auth.user))

    async def _update_room_metadata(self, room: ContractRoom) -> None:
        """RoomManagement.update_metadata (missing LiveKit room: skipped, errors logged)."""
        try:
            rooms = await self._livekit("list_rooms", lkapi.ListRoomsRequest(names=[room.id]))
            if not rooms.rooms:
                return
            metadata = json.loads(rooms.rooms[0].metadata or "{}")
            metadata.update({"configuration": room.configuration,
                             "access_level": room.access_level})
            await self._livekit("update_room_metadata", lkapi.UpdateRoomMetadataRequest(
                room=room.id, metadata=json.dumps(metadata)))
        except lkapi.TwirpError:
            log.info("contract: room metadata of %s not synced to LiveKit", room.id)

    async def _creation_callback(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            raise _Abort(_detail(405, f'Method "{request.method}" not allowed.'))
        self._auth(request)
        data = await self._object_data(request)
        errors = _Errors()
        callback_id = _char(data, "callback_id", errors)
        errors.raise_if_any()
        room = self._callbacks.pop(str(callback_id), {})
        return _json({"status": "success", "room": room})

    # -- handlers: lobby ------------------------------------------------------------------------
    async def _request_entry(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        user = auth.user
        cookie = request.cookies.get(LOBBY_COOKIE)
        # RequestEntryAuthenticatedUserRateThrottle / RequestEntryAnonRateThrottle
        self._check_throttle(f"request_entry_user_{user.id}" if user else
                             (f"request_entry_anon_{cookie}" if cookie is not None else None),
                             self.request_entry_rate)
        data = await self._object_data(request)
        errors = _Errors()
        username = _char(data, "username", errors)
        errors.raise_if_any()
        assert username is not None
        room = self._get_room(request.match_info["pk"])

        participant_id = cookie if cookie is not None else str(uuid.uuid4())
        participant = self._lobby_get(room.id, participant_id)
        role = room.role_of(user)
        livekit: dict[str, str] | None = None
        if self._can_bypass_lobby(room, user, role):
            if participant is None:
                participant = _LobbyEntry("accepted", username, participant_id,
                                          generate_color(participant_id), 0.0)
            else:
                participant.status = "accepted"
            livekit = self._livekit_config(room.id, user, username, role=role,
                                           color=participant.color,
                                           configuration=room.configuration,
                                           participant_id=participant_id)
        elif participant is None:
            participant = _LobbyEntry("waiting", username, participant_id,
                                      generate_color(participant_id),
                                      self.now() + self.lobby_waiting_timeout)
            try:
                await self._notify_participants(room.id, {"type": "participantWaiting"})
            except lkapi.TwirpError:
                log.info("contract: could not notify room %s of a waiting participant",
                         room.id)
            self._lobby[(room.id, participant_id)] = participant
        elif participant.status == "waiting":
            participant.expires_at = self.now() + self.lobby_waiting_timeout
        elif participant.status == "accepted":
            livekit = self._livekit_config(room.id, user, username, role=role,
                                           color=participant.color,
                                           configuration=room.configuration,
                                           participant_id=participant_id)
        response = _json({**participant.to_dict(), "livekit": livekit})
        response.set_cookie(LOBBY_COOKIE, participant.id, httponly=True, samesite="Lax",
                            secure=self.secure_cookies or None, path="/")
        return response

    async def _enter(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        self._require_authenticated(auth)
        data = await self._object_data(request)
        errors = _Errors()
        participant_id: str | None = None
        if "participant_id" not in data:
            errors.add("participant_id", REQUIRED)
        else:
            try:
                participant_id = str(uuid.UUID(str(data["participant_id"])))
            except ValueError:
                errors.add("participant_id", "Must be a valid UUID.")
        allow = _bool(data, "allow_entry", errors)
        errors.raise_if_any()
        room = self._privileged_room(request.match_info["pk"], auth)
        if room.access_level == "public":
            return _json({"message": "Room has no lobby system."}, 404)
        assert participant_id is not None and allow is not None
        if not self._handle_entry(room.id, participant_id, allow):
            return _json({"message": "Participant not found."}, 404)
        return _json({"message": "Participant was updated."})

    async def _waiting_participants(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        self._require_authenticated(auth)
        room = self._privileged_room(request.match_info["pk"], auth)
        if room.access_level == "public":
            return _json({"participants": []})
        return _json({"participants": self._list_waiting(room.id)})

    # -- handlers: in-call, LiveKit token -------------------------------------------------------
    async def _toggle_hand(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request, "livekit")
        room = self._livekit_room(request.match_info["pk"], auth)
        data = await self._object_data(request)
        errors = _Errors()
        raised = _bool(data, "raised", errors)
        errors.raise_if_any()
        assert auth.claims is not None
        hand_raised_at = dt.datetime.now(dt.UTC).isoformat() if raised else ""
        outcome = await self._participant_update(room.id, auth.claims.identity,
                                                 attributes={"handRaisedAt": hand_raised_at})
        if outcome == "not_found":
            return _json({"error": "Participant not found"}, 404)
        if outcome == "error":
            return _json({"error": "Failed to update participant hand state"}, 500)
        return _json({"status": "success"})

    async def _rename(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request, "livekit")
        room = self._livekit_room(request.match_info["pk"], auth)
        data = await self._object_data(request)
        errors = _Errors()
        name = _char(data, "name", errors, min_length=1, max_length=255)
        errors.raise_if_any()
        assert auth.claims is not None
        outcome = await self._participant_update(room.id, auth.claims.identity, name=name)
        if outcome == "not_found":
            return _json({"error": "Participant not found"}, 404)
        if outcome == "error":
            return _json({"error": "Failed to rename participant"}, 500)
        return _json({"status": "success"})

    async def _start_subtitle(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request, "livekit")
        if not self.subtitle_enabled:  # @FeatureFlag.require("subtitle") -> Http404
            raise _Abort(_detail(404, "Not found."))
        room = self._livekit_room(request.match_info["pk"], auth)
        self.subtitles_started.append(room.id)
        return _json({"status": "success"})

    async def _mute_participant(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request, "livekit+session")
        room = self._get_room(request.match_info["pk"])
        # CanMuteParticipant
        token_auth = auth.claims is not None
        allowed = not token_auth and room.is_admin_or_owner(auth.user)
        if not allowed:
            everyone_can_mute = room.configuration.get("everyone_can_mute", True)
            allowed = bool(everyone_can_mute) and token_auth and auth.claims is not None and \
                auth.claims.video is not None and auth.claims.video.room == room.id
        if not allowed:
            raise self._deny(auth)
        data = await self._object_data(request)
        errors = _Errors()
        identity = _char(data, "participant_identity", errors)
        track_sid = _char(data, "track_sid", errors, max_length=255)
        errors.raise_if_any()
        if auth.claims is not None:
            present = await self._in_meeting(room.id, auth.claims.identity)
            if present in ("not_found", "error"):
                return _json({"error": "Could not verify caller presence"}, 403)
        outcome = await self._management_call("mute_published_track", lkapi.MuteRoomTrackRequest(
            room=room.id, identity=str(identity), track_sid=str(track_sid), muted=True))
        if outcome == "not_found":
            return _json({"error": "Participant not found"}, 404)
        if outcome == "error":
            return _json({"error": "Failed to mute participant"}, 500)
        return _json({"status": "success"})

    # -- handlers: in-call, admin session ---------------------------------------------------
    async def _update_participant(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        self._require_authenticated(auth)
        room = self._privileged_room(request.match_info["pk"], auth)
        data = await self._object_data(request)
        errors = _Errors()
        identity = _char(data, "participant_identity", errors)
        metadata = _dict_field(data, "metadata", errors)
        attributes = _dict_field(data, "attributes", errors)
        name = _char(data, "name", errors, required=False, allow_blank=True, allow_null=True,
                     max_length=255)
        permission = _permission_field(data, errors)
        if permission is not None:
            forbidden = [f for f in FORBIDDEN_PERMISSION_FIELDS if permission.get(f) is not None]
            if forbidden:  # SuspiciousOperation -> Django's 400 page
                log.warning("contract: forbidden permission fields %s", forbidden)
                raise _Abort(_django_page(400))
        if not errors and not any(data.get(f) not in (None, "") for f in
                                  ("metadata", "attributes", "permission", "name")):
            errors.add("non_field_errors", "At least one of the following fields must be "
                       "provided: metadata, attributes, permission, name.")
        errors.raise_if_any()
        if permission is not None:
            permission = {**permission, "can_publish_sources": [
                s.upper() for s in permission.get("can_publish_sources") or []]}
        outcome = await self._participant_update(room.id, str(identity), metadata=metadata,
                                                 attributes=attributes, permission=permission,
                                                 name=name)
        if outcome == "not_found":
            return _json({"error": "Participant not found"}, 404)
        if outcome == "error":
            return _json({"error": "Failed to update participant"}, 500)
        return _json({"status": "success"})

    async def _remove_participant(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        self._require_authenticated(auth)
        room = self._privileged_room(request.match_info["pk"], auth)
        data = await self._object_data(request)
        errors = _Errors()
        identity = _char(data, "participant_identity", errors)
        errors.raise_if_any()
        self._lobby.pop((room.id, str(identity)), None)
        outcome = await self._management_call("remove_participant",
                                              lkapi.RoomParticipantIdentity(
                                                  room=room.id, identity=str(identity)))
        if outcome == "not_found":
            return _json({"error": "Participant not found"}, 404)
        if outcome == "error":
            return _json({"error": "Failed to remove participant"}, 500)
        return _json({"status": "success"})

    async def _update_participant_role(self, request: web.Request, _action: str
                                       ) -> web.Response:
        auth = self._auth(request)
        user = self._require_authenticated(auth)
        room = self._privileged_room(request.match_info["pk"], auth)
        if await self._in_meeting(room.id, user.sub) is not True:  # IsPresentInMeeting
            raise self._deny(auth, NOT_IN_MEETING)
        data = await self._object_data(request)
        errors = _Errors()
        identity = _char(data, "participant_identity", errors)
        role = data.get("role")
        if "role" not in data:
            errors.add("role", REQUIRED)
        elif role not in ("member", "administrator"):
            errors.add("role", f'"{role}" is not a valid choice.')
        errors.raise_if_any()
        if user.sub == identity:
            return _json({"error": "You cannot change your own role."}, 403)
        present = await self._in_meeting(room.id, str(identity))
        if present == "error":  # an uncaught ParticipantsManagementException
            raise _Abort(_django_page(500))
        if present is not True:
            return _json({"error": "Participant is not connected to this meeting."}, 404)
        target = self.users.get(str(identity))
        if target is None:
            return _json({"error": "This participant has no user account and cannot be "
                          "assigned a role."}, 404)
        current = next((a for a in room.accesses if a.sub == target.sub), None)
        if current is not None and current.role == "owner":
            return _json({"error": "Room owners cannot be demoted."}, 403)
        if current is None:
            room.accesses.insert(0, _Access(str(uuid.uuid4()), target.sub, str(role),
                                            time.time()))
        else:
            current.role = str(role)
        synced = await self._participant_update(room.id, target.sub,
                                                attributes={"room_role": str(role)}) is None
        return _json({"role": role, "livekit_synced": synced})

    async def _invite(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        self._require_authenticated(auth)
        room = self._privileged_room(request.match_info["pk"], auth)
        data = await self._object_data(request)
        emails = data.get("emails")
        if "emails" not in data:
            raise _Abort(_json({"emails": [REQUIRED]}, 400))
        if not isinstance(emails, list):
            raise _Abort(_json({"emails": [
                f'Expected a list of items but got type "{type(emails).__name__}".']}, 400))
        if not emails:
            raise _Abort(_json({"emails": ["This list may not be empty."]}, 400))
        bad = {str(i): ["Enter a valid email address."] for i, e in enumerate(emails)
               if not isinstance(e, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e)}
        if bad:
            raise _Abort(_json({"emails": bad}, 400))
        self.invitations.append((room.id, sorted(set(emails))))
        return _json({"status": "success", "message": "invitations sent"})

    async def _recording(self, request: web.Request, _action: str) -> web.Response:
        auth = self._auth(request)
        self._require_authenticated(auth)  # HasPrivilegesOnRoom.has_permission
        if not self.recording_enabled:  # @FeatureFlag.require("recording")
            raise _Abort(_detail(404, "Not found."))
        self._privileged_room(request.match_info["pk"], auth)
        raise _Abort(_json({"error": "recording is not simulated by the contract server"}, 501))

    async def _connection_test(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            raise _Abort(_detail(405, f'Method "{request.method}" not allowed.'))
        auth = self._auth(request)
        # CONNECTION_TEST_THROTTLE_RATES (by user, or by client address when anonymous)
        self._check_throttle(f"connection_test_user_{auth.user.id}" if auth.user
                             else f"connection_test_anon_{request.remote}", (30, 60.0))
        if not self.connection_test_enabled:
            raise _Abort(_detail(404, "Not found."))
        room = f"connection-test-{uuid.uuid4()}"
        return _json({"livekit": {
            "url": self.livekit_url, "room": room,
            "token": self.generate_token(room, auth.user, "Connection Test",
                                         ttl=dt.timedelta(seconds=300)),
            "expires_in": 300}})

    # -- handlers: OIDC (lasuite.oidc_login + mozilla_django_oidc) ------------------------------
    async def _authenticate(self, request: web.Request) -> web.Response:
        session = self._session_for_write(request)
        state = _random_string(32)
        nonce = _random_string(32)
        params = {"response_type": "code", "scope": "openid email", "client_id": OIDC_CLIENT_ID,
                  "redirect_uri": f"{request.scheme}://{request.host}{API}/callback/",
                  "state": state}
        silent = request.query.get("silent", "").lower() == "true"
        if silent:
            params["prompt"] = "none"
            session.data["silent"] = True
        if request.query.get("login_hint"):
            params["login_hint"] = request.query["login_hint"]
        params["nonce"] = nonce
        session.data.setdefault("oidc_states", {})[state] = {"nonce": nonce}
        return_to = request.query.get("returnTo")
        allowed = {request.host, *self.redirect_allowed_hosts}
        session.data["oidc_login_next"] = return_to if return_to and \
            _is_safe_url(return_to, allowed) else None
        raise _Abort(_redirect(f"{IDP}/authorize?{urlencode(params)}"))

    def _success_url(self, request: web.Request, session: _Session | None) -> str:
        nxt = session.data.get("oidc_login_next") if session else None
        return nxt or f"{request.scheme}://{request.host}/"

    async def _callback(self, request: web.Request) -> web.Response:
        session: _Session | None = _st(request).session
        query = request.query
        error, state = query.get("error"), query.get("state")
        if error == "login_required" and session is not None and session.data.get("silent"):
            if state and state in session.data.get("oidc_states", {}):
                del session.data["silent"]
                _st(request).session_dirty = True
                raise _Abort(_redirect(self._success_url(request, session)))
            raise _Abort(_django_page(400))  # SuspiciousOperation
        if error:
            if session is not None and state in session.data.get("oidc_states", {}):
                del session.data["oidc_states"][state]
                _st(request).session_dirty = True
            if self._session_user(request) is not None:
                self._logout_session(request)
            raise _Abort(_redirect(self._failure_url(request)))
        if "code" in query and state is not None:
            if session is None or "oidc_states" not in session.data:
                raise _Abort(_redirect(self._failure_url(request)))
            if state not in session.data["oidc_states"]:
                raise _Abort(_django_page(400))  # SuspiciousOperation
            nonce = session.data["oidc_states"].pop(state)["nonce"]
            _st(request).session_dirty = True
            grant = self._codes.pop(query["code"], None)
            if grant is not None and grant["nonce"] != nonce:
                raise _Abort(_django_page(400))  # "JWT Nonce verification failed."
            user = self.users.get(grant["sub"]) if grant else None
            if user is not None:
                self._login_session(request, user, grant)
                raise _Abort(_redirect(self._success_url(request, _st(request).session)))
        raise _Abort(_redirect(self._failure_url(request)))

    def _failure_url(self, request: web.Request) -> str:
        session: _Session | None = _st(request).session
        if session is not None and session.data.get("silent"):
            del session.data["silent"]
            _st(request).session_dirty = True
            return self._success_url(request, session)
        return f"{request.scheme}://{request.host}/"

    def _login_session(self, request: web.Request, user: ContractUser,
                       grant: dict[str, Any] | None) -> None:
        """django.contrib.auth.login: a new session key (data kept), a new CSRF secret."""
        old: _Session | None = _st(request).session
        data = dict(old.data) if old is not None else {}
        if old is not None:
            self._sessions.pop(old.key, None)
            if data.get("_auth_user_sub") not in (None, user.sub):
                data = {}
        data["_auth_user_sub"] = user.sub
        if grant is not None:
            data["oidc_id_token"] = grant["id_token"]
        _st(request).session = self._new_session(data)
        _st(request).session_dirty = True
        _st(request).set_csrf = _new_csrf_secret()

    def _logout_session(self, request: web.Request) -> None:
        session: _Session | None = _st(request).session
        if session is not None:
            self._sessions.pop(session.key, None)
        _st(request).session = None
        _st(request).session_flushed = True

    async def _logout(self, request: web.Request) -> web.Response:
        if request.method not in ("GET", "POST"):
            return web.Response(status=405, headers={"Allow": "GET, POST"})
        if request.method == "POST":  # a plain Django view: CsrfViewMiddleware applies
            reason = self._csrf_reason(request)
            if reason:
                return web.Response(status=403, text=_CSRF_PAGE.format(reason=html.escape(
                    reason)), content_type="text/html")
        redirect = f"{request.scheme}://{request.host}/"
        user = self._session_user(request)
        session: _Session | None = _st(request).session
        if user is not None and session is not None and self.idp_logout_endpoint and \
                session.data.get("oidc_id_token"):
            state = _random_string(32)
            session.data.setdefault("oidc_states", {})[state] = {}
            _st(request).session_dirty = True
            query = urlencode({"id_token_hint": session.data["oidc_id_token"], "state": state,
                               "post_logout_redirect_uri":
                                   f"{request.scheme}://{request.host}{API}/logout-callback/"})
            raise _Abort(_redirect(f"{IDP}/logout?{query}"))
        self._logout_session(request)
        raise _Abort(_redirect(redirect))

    async def _logout_callback(self, request: web.Request) -> web.Response:
        redirect = f"{request.scheme}://{request.host}/"
        if self._session_user(request) is None:
            raise _Abort(_redirect(redirect))
        state = request.query.get("state")
        if not state:
            raise _Abort(_redirect(redirect))
        session = _st(request).session
        assert session is not None
        if state not in session.data.get("oidc_states", {}):
            raise _Abort(_django_page(400))
        self._logout_session(request)
        raise _Abort(_redirect(redirect))

    # -- the fake ProConnect IdP ----------------------------------------------------------------
    def _idp_user(self, request: web.Request) -> ContractUser | None:
        sub = self._idp_sessions.get(request.cookies.get(IDP_COOKIE, ""))
        return self.users.get(sub) if sub else None

    def _idp_redirect(self, redirect_uri: str, **params: str) -> _Abort:
        sep = "&" if "?" in redirect_uri else "?"
        return _Abort(_redirect(f"{redirect_uri}{sep}{urlencode(params)}"))

    def _issue_code(self, user: ContractUser, nonce: str) -> str:
        code = _random_string(40)
        id_token = f"fake-id-token.{_random_string(24)}"
        self._codes[code] = {"sub": user.sub, "nonce": nonce, "id_token": id_token}
        return code

    async def _idp_authorize(self, request: web.Request) -> web.Response:
        q = request.query
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if q.get("client_id") != OIDC_CLIENT_ID or not redirect_uri.startswith(
                f"{request.scheme}://{request.host}{API}/callback/"):
            return web.Response(status=400, text="invalid client_id or redirect_uri")
        user = self._idp_user(request)
        prompt = q.get("prompt", "")
        if user is not None and prompt != "login":
            raise self._idp_redirect(redirect_uri, code=self._issue_code(user, q.get("nonce", "")),
                                     state=state)
        if prompt == "none":
            raise self._idp_redirect(redirect_uri, error="login_required", state=state)
        return self._idp_form(dict(q))

    def _idp_form(self, params: dict[str, str], error: str = "") -> web.Response:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items() if k not in ("email", "password"))
        message = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
        page = ("<!doctype html><html><head><title>ProConnect (contract)</title></head><body>"
                f"<h1>ProConnect</h1>{message}"
                f'<form method="post" action="{IDP}/login" id="login">{hidden}'
                '<label>Email <input type="email" name="email" id="email"></label>'
                '<label>Password <input type="password" name="password" id="password"></label>'
                '<button type="submit" id="submit">Sign in</button></form></body></html>')
        return web.Response(text=page, content_type="text/html")

    async def _idp_login(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        user = next((u for u in self.users.values()
                     if u.email.lower() == form.get("email", "").strip().lower()), None)
        if user is None or not secrets.compare_digest(user.password, form.get("password", "")):
            return self._idp_form(form, "Invalid e-mail or password.")
        cookie = _random_string(32)
        self._idp_sessions[cookie] = user.sub
        redirect = self._idp_redirect(form.get("redirect_uri", ""),
                                      code=self._issue_code(user, form.get("nonce", "")),
                                      state=form.get("state", ""))
        redirect.response.set_cookie(IDP_COOKIE, cookie, path=IDP, httponly=True,
                                     samesite="Lax")
        raise redirect

    async def _idp_end_session(self, request: web.Request) -> web.Response:
        cookie = request.cookies.get(IDP_COOKIE)
        if cookie:
            self._idp_sessions.pop(cookie, None)
        target = request.query.get("post_logout_redirect_uri")
        if not target:
            return web.Response(text="logged out", content_type="text/plain")
        redirect = self._idp_redirect(target, state=request.query.get("state", ""))
        redirect.response.del_cookie(IDP_COOKIE, path=IDP)
        raise redirect

    async def _frontend(self, request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><html><head><title>Visio</title></head>"
                            '<body><div id="root"></div></body></html>',
                            content_type="text/html")


# ---------------------------------------------------------------------------------------------


def _random_string(length: int) -> str:
    return "".join(secrets.choice(CSRF_CHARS) for _ in range(length))


def _new_csrf_secret() -> str:
    return _random_string(32)


def _cookie_expiry(max_age: float) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max_age)
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _configuration_problem(config: Any) -> str | None:
    """serializers.RoomConfiguration (pydantic, extra="forbid")."""
    if config is None or config == {}:
        return None
    if not isinstance(config, dict):
        return "Input should be a valid dictionary or instance of RoomConfiguration"
    for key, value in config.items():
        if key == "can_publish_sources":
            if value is not None and (not isinstance(value, list)
                                      or any(v not in TRACK_SOURCES for v in value)):
                return ("can_publish_sources: Input should be 'camera', 'microphone', "
                        "'screen_share' or 'screen_share_audio'")
        elif key == "everyone_can_mute":
            if value is not None and not isinstance(value, bool):
                return "everyone_can_mute: Input should be a valid boolean"
        else:
            return f"{key}: Extra inputs are not permitted"
    return None


def _permission_field(data: Mapping[str, Any], errors: _Errors) -> dict[str, Any] | None:
    """serializers.ParticipantPermission (pydantic, extra="forbid"), as model_dump()."""
    value = data.get("permission")
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("permission", "Input should be a valid dictionary")
        return None
    out: dict[str, Any] = {name: None for name in PERMISSION_FIELDS}
    out["can_publish_sources"] = []
    for key, item in value.items():
        if key not in PERMISSION_FIELDS:
            errors.add("permission", f"{key}: Extra inputs are not permitted")
        elif key == "can_publish_sources":
            if not isinstance(item, list) or any(v not in TRACK_SOURCES for v in item):
                errors.add("permission", "can_publish_sources: Input should be 'camera', "
                           "'microphone', 'screen_share' or 'screen_share_audio'")
            else:
                out[key] = list(item)
        elif item is not None and not isinstance(item, bool):
            errors.add("permission", f"{key}: Input should be a valid boolean")
        else:
            out[key] = item
    return out


def _message_dict(message: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    with contextlib.suppress(Exception):
        return json_format.MessageToDict(message, preserving_proto_field_name=True)
    return {}
