"""Meetings hosted on this server, joinable by link as on a Visio instance.

A meeting started on this computer gets a Visio-style slug (``abc-defg-hij``) and a LiveKit
room named by a UUID, as Visio does. The server answers the two calls of Visio's REST API a
client needs to join — ``GET /api/v1.0/config/`` and ``GET /api/v1.0/rooms/{slug}/?username=``
(same JSON shapes, see visio-meet-api.md §2 and §3.1) — so a link
``http://<this computer>:<port>/<slug>`` is joined by the same code that joins
``https://visio.numerique.gouv.fr/<slug>``. Only slugs opened by the host are served; anything
else is a 404, as on an instance that refuses unregistered rooms. Knowing the link is the
invitation (a public Visio room works the same way); the slug is random (26^10 choices).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from aiohttp import web

from visio_desktop.net.links import new_slug, normalize_slug
from visio_desktop.net.token import VideoGrants, create_token

SLUG_RE = re.compile(r"^[a-z]{3}-[a-z]{4}-[a-z]{3}$")
MAX_NAME = 255


@dataclass(frozen=True)
class Meeting:
    slug: str
    room: str  # the LiveKit room name: a UUID, as in Visio


def _colour(identity: str) -> str:
    return f"hsl({int(uuid.uuid5(uuid.NAMESPACE_OID, identity)) % 360}, 60%, 45%)"


class MeetingDirectory:
    def __init__(self, keys: dict[str, str]) -> None:
        self._key, self._secret = next(iter(keys.items()))
        self._meetings: dict[str, Meeting] = {}

    def open(self, slug: str | None = None) -> Meeting:
        slug = slug or new_slug()
        if SLUG_RE.fullmatch(slug) is None:
            raise ValueError(f"not a meeting code: {slug!r}")
        meeting = self._meetings.get(slug) or Meeting(slug, str(uuid.uuid4()))
        self._meetings[slug] = meeting
        return meeting

    def close(self, slug: str) -> None:
        self._meetings.pop(slug, None)

    def get(self, slug: str) -> Meeting | None:
        return self._meetings.get(slug)

    def token(self, meeting: Meeting, *, name: str, identity: str | None = None,
              host: bool = False) -> str:
        """A token for ``meeting``: everyone may publish, raise a hand and rename (their own
        attributes and name, ``canUpdateOwnMetadata``); the host is the room's owner."""
        identity = identity or str(uuid.uuid4())
        grants = VideoGrants(room=meeting.room, room_join=True, can_publish=True,
                             can_subscribe=True, can_publish_data=True,
                             can_update_own_metadata=True, room_admin=host)
        attributes = {"color": _colour(identity), "room_role": "owner" if host else "member",
                      "is_authenticated": "false"}
        return create_token(self._key, self._secret, identity=identity,
                            name=name[:MAX_NAME] or "Anonymous", grants=grants,
                            attributes=attributes, ttl=dt.timedelta(hours=12))

    # -- HTTP ------------------------------------------------------------------------------------
    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/v1.0/config/", self._config)
        router.add_get("/api/v1.0/rooms/{slug}/", self._room)

    @staticmethod
    def _livekit_url(request: web.Request) -> str:
        return f"ws://{request.host}"  # the address the guest reached us at

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response({
            "LANGUAGE_CODE": "fr",
            "livekit": {"url": self._livekit_url(request), "force_wss_protocol": False,
                        "default_sources": ["camera", "microphone", "screen_share",
                                            "screen_share_audio"]},
            "recording": {"is_enabled": False},
            "subtitle": {"enabled": False},
            "max_participants_for_sound": 5,
            "embedded_server": True,
        })

    async def _room(self, request: web.Request) -> web.Response:
        slug = normalize_slug(request.match_info["slug"])
        meeting = self.get(slug) if slug else None
        if meeting is None:
            return web.json_response({"detail": "Not found."}, status=404)
        name = request.query.get("username", "").strip()
        return web.json_response({
            "id": meeting.room,
            "name": meeting.slug,
            "slug": meeting.slug,
            "access_level": "public",
            "configuration": {},
            "is_administrable": False,
            "livekit": {"url": self._livekit_url(request), "room": meeting.room,
                        "token": self.token(meeting, name=name)},
        })
