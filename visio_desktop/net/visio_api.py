"""The part of Visio's REST API that joins a room (visio-meet-api.md §3.1).

``GET {instance}/api/v1.0/rooms/{slug}/?username=`` answers the LiveKit URL, room and token
when the room lets us in directly (public rooms, and every meeting hosted by Visio Desktop);
otherwise the caller must go through the lobby (:class:`LobbyRequired`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from visio_desktop import __version__
from visio_desktop.net.links import MeetingLink

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=8)


class ApiError(RuntimeError):
    """The instance could not be reached or refused. ``code`` is stable (the UI translates
    it): "not_found", "refused", "unreachable", "timeout", "bad_answer", "lobby"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class LobbyRequired(ApiError):
    def __init__(self, room_id: str) -> None:
        super().__init__("lobby", "This meeting has a waiting room.")
        self.room_id = room_id


@dataclass(frozen=True)
class RoomAccess:
    livekit_url: str
    room: str
    token: str
    slug: str
    room_id: str


def user_agent() -> str:
    return f"VisioDesktop/{__version__}"


def parse_room(data: Any, slug: str) -> RoomAccess:
    if not isinstance(data, dict):
        raise ApiError("bad_answer", "The server's answer was not understood.")
    livekit = data.get("livekit")
    room_id = str(data.get("id") or "")
    if not livekit:
        raise LobbyRequired(room_id)
    if not isinstance(livekit, dict) or not all(
            isinstance(livekit.get(k), str) and livekit.get(k) for k in ("url", "room", "token")):
        raise ApiError("bad_answer", "The server's answer was not understood.")
    return RoomAccess(livekit["url"], livekit["room"], livekit["token"], slug, room_id)


async def fetch_room(link: MeetingLink, username: str,
                     session: aiohttp.ClientSession | None = None) -> RoomAccess:
    url = f"{link.instance}/api/v1.0/rooms/{link.slug}/"
    own = session is None
    session = session or aiohttp.ClientSession(timeout=TIMEOUT,
                                               headers={"User-Agent": user_agent()})
    try:
        async with session.get(url, params={"username": username}) as response:
            if response.status == 404:
                raise ApiError("not_found", "This meeting does not exist (check the link).")
            if response.status >= 400:
                raise ApiError("refused",
                               f"The server refused to let us join (HTTP {response.status}).")
            try:
                data = await response.json(content_type=None)
            except ValueError:
                raise ApiError("bad_answer", "The server's answer was not understood.") from None
    except aiohttp.ClientError as exc:
        log.info("cannot reach %s: %s", link.instance, exc)
        raise ApiError("unreachable",
                       f"Cannot reach {link.instance}: check the network.") from None
    except TimeoutError:
        raise ApiError("timeout", f"{link.instance} did not answer in time.") from None
    finally:
        if own:
            await session.close()
    return parse_room(data, link.slug)
