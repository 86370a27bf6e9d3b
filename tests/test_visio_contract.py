"""The Visio contract server (tests/support/visio_contract.py) against the documented API.

Plain aiohttp requests only (not our client), so that these tests pin the contract itself. Tests
marked "RoomService" need the embedded server's LiveKit RoomService Twirp API
(visio_desktop/server/room_service.py): the contract drives LiveKit through it, as the real
backend does.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest

from tests.conftest import ServerThread
from tests.support.sdk_client import SdkParticipant
from tests.support.visio_contract import API, VisioContract, generate_color, slugify

HAS_ROOM_SERVICE = True
try:
    import visio_desktop.server.room_service  # noqa: F401
except ImportError:  # pragma: no cover - until the RoomService lands
    HAS_ROOM_SERVICE = False
needs_room_service = pytest.mark.skipif(not HAS_ROOM_SERVICE,
                                        reason="needs the embedded server's RoomService API")
SLUG = "abc-defg-hij"
SLUG_RE = re.compile(r"[a-z]{3}-[a-z]{4}-[a-z]{3}")


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def new_http() -> aiohttp.ClientSession:
    # unsafe=True: aiohttp's cookie jar refuses cookies from IP addresses otherwise
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with new_http() as session:
        yield session


def csrf_headers(contract: VisioContract, http: aiohttp.ClientSession) -> dict[str, str]:
    """What a same-origin web client sends on unsafe calls."""
    token = next(c.value for c in http.cookie_jar if c.key == "csrftoken")
    return {"X-CSRFToken": token, "Referer": f"{contract.url}/"}


def log_in(contract: VisioContract, http: aiohttp.ClientSession, sub: str) -> None:
    contract.add_user(sub, f"{sub}@example.org", sub.title(), "pw")
    http.cookie_jar.update_cookies(contract.login(sub), aiohttp.client.URL(contract.url))


async def get_json(http: aiohttp.ClientSession, url: str, **kw: Any) -> tuple[int, Any]:
    async with http.get(url, **kw) as r:
        return r.status, await r.json(content_type=None)


async def post_json(http: aiohttp.ClientSession, url: str, body: Any = None,
                    **kw: Any) -> tuple[int, Any]:
    async with http.post(url, json=body, **kw) as r:
        return r.status, await r.json(content_type=None)


# ---------------------------------------------------------------------------------------------
# config, rooms, tokens


async def test_config(visio_contract: VisioContract, room_server: ServerThread,
                      http: aiohttp.ClientSession) -> None:
    status, config = await get_json(http, f"{visio_contract.url}{API}/config/")
    assert status == 200
    assert config["livekit"]["url"] == room_server.http_url
    assert config["livekit"]["default_sources"] == ["camera", "microphone", "screen_share",
                                                    "screen_share_audio"]
    assert config["subtitle"] == {"enabled": False}
    assert config["is_silent_login_enabled"] is True
    assert config["auto_mute_on_join_threshold"] == 50
    visio_contract.subtitle_enabled = True
    _, config = await get_json(http, f"{visio_contract.url}{API}/config/")
    assert config["subtitle"] == {"enabled": True}
    # no trailing slash: Django's APPEND_SLASH redirect
    async with http.get(f"{visio_contract.url}{API}/config", allow_redirects=False) as r:
        assert r.status == 301 and r.headers["Location"] == f"{API}/config/"


async def test_public_room_anonymous_join(visio_contract: VisioContract, room_server: ServerThread,
                                          http: aiohttp.ClientSession) -> None:
    room_id = visio_contract.add_room(SLUG, "public")
    status, room = await get_json(http, f"{visio_contract.url}{API}/rooms/ABC-defg-hij/",
                                  params={"username": "Jane Doe"})
    assert status == 200
    assert room["id"] == room_id and room["slug"] == SLUG and room["access_level"] == "public"
    assert room["configuration"] == {} and "pin_code" in room and "accesses" not in room
    livekit = room["livekit"]
    assert livekit["url"] == room_server.http_url and livekit["room"] == room_id
    token = claims(livekit["token"])
    assert token["name"] == "Jane Doe"
    assert uuid.UUID(token["sub"])  # anonymous: a fresh uuid4
    assert token["video"]["room"] == room_id and token["video"]["roomJoin"] is True
    assert token["video"]["canUpdateOwnMetadata"] is False
    assert not token["video"].get("roomAdmin")
    assert token["video"]["canPublishSources"] == ["camera", "microphone", "screen_share",
                                                   "screen_share_audio"]
    assert token["attributes"] == {"color": generate_color(token["sub"]), "room_role": None,
                                   "is_authenticated": "false"}
    assert re.fullmatch(r"hsl\(\d+, \d+%, \d+%\)", token["attributes"]["color"])
    # by uuid too; without a username: "Anonymous"
    _, by_id = await get_json(http, f"{visio_contract.url}{API}/rooms/{room_id}/")
    assert claims(by_id["livekit"]["token"])["name"] == "Anonymous"


async def test_unregistered_and_unknown_rooms(visio_contract: VisioContract,
                                              http: aiohttp.ClientSession) -> None:
    status, room = await get_json(http, f"{visio_contract.url}{API}/rooms/Zzz-Yyyy-Xxx/")
    assert status == 200
    assert room["id"] is None and room["slug"] == "zzz-yyyy-xxx"
    assert room["is_administrable"] is False and room["livekit"]["room"] == "zzz-yyyy-xxx"
    visio_contract.allow_unregistered_rooms = False
    status, body = await get_json(http, f"{visio_contract.url}{API}/rooms/zzz-yyyy-xxx/")
    assert (status, body) == (404, {"detail": "No Room matches the given query."})


async def test_trusted_room_refuses_anonymous(visio_contract: VisioContract,
                                              http: aiohttp.ClientSession) -> None:
    room_id = visio_contract.add_room(SLUG, "trusted")
    status, room = await get_json(http, f"{visio_contract.url}{API}/rooms/{SLUG}/")
    assert status == 200 and room["id"] == room_id
    assert "livekit" not in room and "pin_code" not in room  # -> the lobby
    log_in(visio_contract, http, "bob")
    _, room = await get_json(http, f"{visio_contract.url}{API}/rooms/{SLUG}/",
                             params={"username": "Bobby"})
    token = claims(room["livekit"]["token"])
    assert token["sub"] == "bob" and token["name"] == "Bobby"
    assert token["attributes"]["is_authenticated"] == "true"


async def test_owner_token_and_accesses(visio_contract: VisioContract,
                                        http: aiohttp.ClientSession) -> None:
    visio_contract.add_user("carol", "carol@example.org", "Carol C", "pw")
    room_id = visio_contract.add_room(SLUG, "restricted", owner_sub="carol",
                                      configuration={"can_publish_sources": ["microphone"]})
    http.cookie_jar.update_cookies(visio_contract.login("carol"),
                                   aiohttp.client.URL(visio_contract.url))
    _, room = await get_json(http, f"{visio_contract.url}{API}/rooms/{room_id}/")
    assert [(a["role"], a["user"]["email"]) for a in room["accesses"]] == \
        [("owner", "carol@example.org")]
    token = claims(room["livekit"]["token"])
    assert token["name"] == "Carol C" and token["sub"] == "carol"
    assert token["video"]["roomAdmin"] is True
    # owners and admins always get every default source
    assert token["video"]["canPublishSources"] == ["camera", "microphone", "screen_share",
                                                   "screen_share_audio"]
    assert token["attributes"]["room_role"] == "owner"


# ---------------------------------------------------------------------------------------------
# sessions, CSRF, login


async def test_me_requires_session(visio_contract: VisioContract,
                                   http: aiohttp.ClientSession) -> None:
    async with http.get(f"{visio_contract.url}{API}/users/me/") as r:
        assert r.status == 401 and r.headers["WWW-Authenticate"] == "Session"
    log_in(visio_contract, http, "dave")
    status, me = await get_json(http, f"{visio_contract.url}{API}/users/me/")
    assert status == 200
    assert set(me) == {"id", "email", "full_name", "short_name", "timezone", "language",
                       "default_room_access_level", "default_room_configuration"}
    assert me["email"] == "dave@example.org"
    visio_contract.expire_sessions()
    async with http.get(f"{visio_contract.url}{API}/users/me/") as r:
        assert r.status == 401
        assert r.cookies["sessionid"].value == ""  # Django deletes the dead session cookie


async def test_csrf_on_unsafe_session_calls(visio_contract: VisioContract,
                                            http: aiohttp.ClientSession) -> None:
    log_in(visio_contract, http, "erin")
    url = f"{visio_contract.url}{API}/rooms/"
    headers = csrf_headers(visio_contract, http)
    status, body = await post_json(http, url, {"name": SLUG},
                                   headers={"Referer": headers["Referer"]})
    assert (status, body) == (403, {"detail": "CSRF Failed: CSRF token missing."})
    status, body = await post_json(http, url, {"name": SLUG},
                                   headers={"X-CSRFToken": headers["X-CSRFToken"]})
    assert (status, body) == (403, {"detail": "CSRF Failed: Referer checking failed - no "
                                              "Referer."})
    status, body = await post_json(http, url, {"name": SLUG}, headers={
        "X-CSRFToken": headers["X-CSRFToken"], "Origin": "https://evil.example"})
    assert status == 403 and "Origin checking failed" in body["detail"]
    status, body = await post_json(http, url, {"name": SLUG},
                                   headers={**headers, "X-CSRFToken": "x" * 32})
    assert (status, body) == (403, {"detail": "CSRF Failed: CSRF token incorrect."})
    status, _ = await post_json(http, url, {"name": SLUG}, headers=headers)
    assert status == 201
    # request-entry too: a logged-in user needs CSRF, an anonymous one does not (DRF only
    # enforces it for session users)
    status, body = await post_json(http, f"{url}{SLUG}/request-entry/", {"username": "x"})
    assert (status, body) == (403, {"detail": "CSRF Failed: Referer checking failed - no "
                                              "Referer."})
    async with new_http() as anonymous:
        status, _ = await post_json(anonymous, f"{url}{SLUG}/request-entry/",
                                    {"username": "x"})
        assert status == 200


async def test_oidc_login_and_logout(visio_contract: VisioContract,
                                     http: aiohttp.ClientSession) -> None:
    visio_contract.add_user("frank", "frank@example.org", "Frank F", "secret")
    return_to = f"{visio_contract.url}/{SLUG}"
    async with http.get(f"{visio_contract.url}{API}/authenticate/",
                        params={"silent": "false", "returnTo": return_to}) as r:
        assert r.status == 200 and r.url.path == "/fake-proconnect/authorize"
        assert r.url.query["client_id"] == "meet" and r.url.query["scope"] == "openid email"
        assert r.url.query["redirect_uri"] == f"{visio_contract.url}{API}/callback/"
        form_page = await r.text()
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form_page))
    async with http.post(f"{visio_contract.url}/fake-proconnect/login",
                         data={**fields, "email": "frank@example.org", "password": "wrong"}) as r:
        assert r.status == 200 and "Invalid e-mail or password" in await r.text()
    async with http.post(f"{visio_contract.url}/fake-proconnect/login",
                         data={**fields, "email": "frank@example.org",
                               "password": "secret"}) as r:
        assert r.status == 200 and str(r.url) == return_to
        hops = [str(h.url).split("?")[0] for h in r.history]
        assert hops == [f"{visio_contract.url}/fake-proconnect/login",
                        f"{visio_contract.url}{API}/callback/"]
    names = {c.key for c in http.cookie_jar}
    assert {"sessionid", "csrftoken"} <= names
    status, me = await get_json(http, f"{visio_contract.url}{API}/users/me/")
    assert status == 200 and me["full_name"] == "Frank F"

    # the session ends; the IdP session is still alive, so a silent login works
    visio_contract.expire_sessions()
    async with http.get(f"{visio_contract.url}{API}/users/me/") as r:
        assert r.status == 401
    async with http.get(f"{visio_contract.url}{API}/authenticate/",
                        params={"silent": "true", "returnTo": return_to}) as r:
        assert str(r.url) == return_to
    status, _ = await get_json(http, f"{visio_contract.url}{API}/users/me/")
    assert status == 200

    # logout: through the IdP's end-session page, back to the logout callback, then "/"
    async with http.get(f"{visio_contract.url}{API}/logout/") as r:
        assert [h.url.path for h in r.history] == [f"{API}/logout/", "/fake-proconnect/logout",
                                                  f"{API}/logout-callback/"]
    async with http.get(f"{visio_contract.url}{API}/users/me/") as r:
        assert r.status == 401
    # no IdP session any more: a silent login comes back to returnTo without a session
    async with http.get(f"{visio_contract.url}{API}/authenticate/",
                        params={"silent": "true", "returnTo": return_to}) as r:
        assert str(r.url) == return_to
        assert "error=login_required" in str(r.history[-1].url)
    async with http.get(f"{visio_contract.url}{API}/users/me/") as r:
        assert r.status == 401


async def test_room_creation_and_list(visio_contract: VisioContract,
                                      http: aiohttp.ClientSession) -> None:
    url = f"{visio_contract.url}{API}/rooms/"
    async with new_http() as anonymous:
        async with anonymous.post(url, json={"name": SLUG}) as r:
            assert r.status == 401
    log_in(visio_contract, http, "gina")
    headers = csrf_headers(visio_contract, http)
    slug = "xyz-abcd-efg"
    assert SLUG_RE.fullmatch(slug)
    status, room = await post_json(http, url, {"name": slug}, params={"username": "G"},
                                   headers=headers)
    assert status == 201
    assert room["slug"] == slug and room["access_level"] == "public"
    assert [a["role"] for a in room["accesses"]] == ["owner"]
    assert room["livekit"]["room"] == room["id"]
    token = claims(room["livekit"]["token"])
    assert token["name"] == "G" and token["attributes"]["room_role"] == "owner"
    assert visio_contract.room_info(slug)["accesses"] == {"gina": "owner"}
    status, body = await post_json(http, url, {"name": slug}, headers=headers)
    assert (status, body) == (400, {"slug": ["Room with this Slug already exists."]})
    status, body = await post_json(http, url, {}, headers=headers)
    assert (status, body) == (400, {"name": ["This field is required."]})
    status, page = await get_json(http, url)
    assert status == 200 and page["count"] == 1 and page["next"] is None
    assert [r["slug"] for r in page["results"]] == [slug]
    assert slugify("Réunion d'équipe") == "reunion-dequipe"


# ---------------------------------------------------------------------------------------------
# lobby


async def test_lobby_accepted(visio_contract: VisioContract, http: aiohttp.ClientSession) -> None:
    visio_contract.add_user("owner", "owner@example.org", "Owner", "pw")
    room_id = visio_contract.add_room(SLUG, "restricted", owner_sub="owner")
    url = f"{visio_contract.url}{API}/rooms/{SLUG}/request-entry/"
    status, entry = await post_json(http, url, {"username": "Guest"})
    assert status == 200
    assert entry["status"] == "waiting" and entry["livekit"] is None
    assert entry["username"] == "Guest"
    participant_id = entry["id"]
    assert entry["color"] == generate_color(participant_id)
    cookie = next(c for c in http.cookie_jar if c.key == "lobbyParticipantId")
    assert cookie.value == participant_id and cookie["httponly"]
    assert visio_contract.waiting(room_id) == [{"status": "waiting", "username": "Guest",
                                                "id": participant_id,
                                                "color": entry["color"]}]

    # the admin's side, with a session
    async with new_http() as admin:
        admin.cookie_jar.update_cookies(visio_contract.login("owner"),
                                        aiohttp.client.URL(visio_contract.url))
        status, listed = await get_json(
            admin, f"{visio_contract.url}{API}/rooms/{room_id}/waiting-participants/")
        assert status == 200 and [p["id"] for p in listed["participants"]] == [participant_id]
        status, body = await post_json(
            admin, f"{visio_contract.url}{API}/rooms/{room_id}/enter/",
            {"participant_id": participant_id, "allow_entry": True},
            headers=csrf_headers(visio_contract, admin))
        assert (status, body) == (200, {"message": "Participant was updated."})

    status, entry = await post_json(http, url, {"username": "Guest"})
    assert entry["status"] == "accepted"
    livekit = entry["livekit"]
    assert livekit["room"] == room_id
    token = claims(livekit["token"])
    assert token["sub"] == participant_id and token["video"]["room"] == room_id
    assert token["attributes"]["color"] == entry["color"]
    assert visio_contract.waiting(room_id) == []


async def test_lobby_denied_and_permissions(visio_contract: VisioContract,
                                            http: aiohttp.ClientSession) -> None:
    visio_contract.add_user("owner", "owner@example.org", "Owner", "pw")
    room_id = visio_contract.add_room(SLUG, "trusted", owner_sub="owner")
    url = f"{visio_contract.url}{API}/rooms/{room_id}/request-entry/"
    _, entry = await post_json(http, url, {"username": "Guest"})
    visio_contract.decide(room_id, entry["id"], False)
    _, entry = await post_json(http, url, {"username": "Guest"})
    assert entry["status"] == "denied" and entry["livekit"] is None
    status, body = await post_json(http, url, {"username": ""})
    assert (status, body) == (400, {"username": ["This field may not be blank."]})

    enter = f"{visio_contract.url}{API}/rooms/{room_id}/enter/"
    async with http.post(enter, json={"participant_id": entry["id"], "allow_entry": True}) as r:
        assert r.status == 401  # anonymous
    log_in(visio_contract, http, "mallory")  # logged in, but no role on the room
    status, body = await post_json(http, enter, {"participant_id": entry["id"],
                                                 "allow_entry": True},
                                   headers=csrf_headers(visio_contract, http))
    assert (status, body) == (403, {"detail": "You must have privileges on room to perform "
                                              "this action."})


async def test_lobby_waiting_entry_expires(visio_contract: VisioContract,
                                           http: aiohttp.ClientSession) -> None:
    room_id = visio_contract.add_room(SLUG, "restricted")
    url = f"{visio_contract.url}{API}/rooms/{SLUG}/request-entry/"
    _, entry = await post_json(http, url, {"username": "Guest"})
    for _ in range(3):  # polling more often than every 3 s keeps the place
        visio_contract.advance(2.0)
        assert len(visio_contract.waiting(room_id)) == 1
        await post_json(http, url, {"username": "Guest"})
    visio_contract.advance(3.1)  # stopped polling for more than the TTL
    assert visio_contract.waiting(room_id) == []
    with pytest.raises(KeyError):
        visio_contract.decide(room_id, entry["id"], True)
    _, again = await post_json(http, url, {"username": "Guest"})
    assert again["status"] == "waiting" and again["id"] == entry["id"]  # back in the queue


async def test_lobby_throttle(visio_contract: VisioContract, http: aiohttp.ClientSession) -> None:
    visio_contract.add_room(SLUG, "restricted")
    visio_contract.request_entry_rate = (3, 60.0)
    url = f"{visio_contract.url}{API}/rooms/{SLUG}/request-entry/"
    statuses = []
    for _ in range(5):  # the first (cookieless) request is not counted
        async with http.post(url, json={"username": "Guest"}) as r:
            statuses.append(r.status)
            if r.status == 429:
                body = await r.json()
                assert body["detail"].startswith("Request was throttled. Expected available in")
                assert int(r.headers["Retry-After"]) > 0
    assert statuses == [200, 200, 200, 200, 429]
    visio_contract.advance(61)
    async with http.post(url, json={"username": "Guest"}) as r:
        assert r.status == 200


# ---------------------------------------------------------------------------------------------
# in-call endpoints with the LiveKit token


async def test_bearer_endpoints_refusals(visio_contract: VisioContract,
                                         http: aiohttp.ClientSession) -> None:
    room_id = visio_contract.add_room(SLUG, "public")
    other_id = visio_contract.add_room("oth-erro-oms", "public")
    _, other = await get_json(http, f"{visio_contract.url}{API}/rooms/{other_id}/")
    url = f"{visio_contract.url}{API}/rooms/{room_id}"
    status, body = await post_json(http, f"{url}/toggle-hand/", {"raised": True})
    assert (status, body) == (403, {"detail": "Authentication credentials were not provided."})
    status, body = await post_json(http, f"{url}/toggle-hand/", {"raised": True},
                                   headers={"Authorization": "Bearer nope"})
    assert status == 403 and body["detail"].startswith("Invalid LiveKit token")
    bearer = {"Authorization": f"Bearer {other['livekit']['token']}"}
    status, body = await post_json(http, f"{url}/toggle-hand/", {"raised": True},
                                   headers=bearer)
    assert (status, body) == (403, {"detail": "You do not have permission to perform this "
                                              "action."})
    # subtitles: disabled -> 404; enabled -> recorded
    _, room = await get_json(http, f"{url}/")
    bearer = {"Authorization": f"Bearer {room['livekit']['token']}"}
    status, body = await post_json(http, f"{url}/start-subtitle/", headers=bearer)
    assert (status, body) == (404, {"detail": "Not found."})
    visio_contract.subtitle_enabled = True
    status, body = await post_json(http, f"{url}/start-subtitle/", headers=bearer)
    assert (status, body) == (200, {"status": "success"})
    assert visio_contract.subtitles_started == [room_id]
    status, body = await post_json(http, f"{url}/rename/", {"name": ""}, headers=bearer)
    assert (status, body) == (400, {"name": ["This field may not be blank."]})


@needs_room_service
async def test_hand_and_rename_reach_the_room(visio_contract: VisioContract,
                                              http: aiohttp.ClientSession) -> None:
    """toggle-hand / rename with the Bearer token change what other participants see (through
    the RoomService's UpdateParticipant)."""
    room_id = visio_contract.add_room(SLUG, "public")
    url = f"{visio_contract.url}{API}/rooms/{room_id}"
    _, alice_room = await get_json(http, f"{url}/", params={"username": "Alice"})
    _, bob_room = await get_json(http, f"{url}/", params={"username": "Bob"})
    lk_url = alice_room["livekit"]["url"].replace("http://", "ws://", 1)
    alice, bob = SdkParticipant("alice"), SdkParticipant("bob")
    await alice.connect(lk_url, alice_room["livekit"]["token"])
    await bob.connect(lk_url, bob_room["livekit"]["token"])
    try:
        await bob.wait_for_participant(alice.identity)
        bearer = {"Authorization": f"Bearer {alice_room['livekit']['token']}"}
        before = time.time()
        status, body = await post_json(http, f"{url}/toggle-hand/", {"raised": True},
                                       headers=bearer)
        assert (status, body) == (200, {"status": "success"})

        def seen_by_bob() -> dict[str, str]:
            return dict(bob._room().remote_participants[alice.identity].attributes)

        raised = await bob.wait_for(lambda: seen_by_bob().get("handRaisedAt"), 5,
                                    what="handRaisedAt")
        from datetime import datetime
        assert datetime.fromisoformat(raised).timestamp() >= before - 1
        assert seen_by_bob()["color"] == claims(alice_room["livekit"]["token"])["attributes"][
            "color"]
        await post_json(http, f"{url}/toggle-hand/", {"raised": False}, headers=bearer)
        await bob.wait_for(lambda: not seen_by_bob().get("handRaisedAt"), 5, what="lowered")

        status, _ = await post_json(http, f"{url}/rename/", {"name": "Alice B."},
                                    headers=bearer)
        assert status == 200
        await bob.wait_for(
            lambda: bob._room().remote_participants[alice.identity].name == "Alice B.", 5,
            what="renamed")
        methods = [c.method for c in visio_contract.livekit_calls]
        assert methods == ["update_participant"] * 3
        assert visio_contract.livekit_calls[0].request["metadata"] == "null"  # as the backend

        # mute with a LiveKit token (everyone_can_mute defaults to true): the caller must be in
        # the meeting (GetParticipant), the target is muted with MutePublishedTrack
        bob_bearer = {"Authorization": f"Bearer {bob_room['livekit']['token']}"}
        status, body = await post_json(http, f"{url}/mute-participant/", {
            "participant_identity": "nobody", "track_sid": "TR_x"}, headers=bob_bearer)
        assert (status, body) == (404, {"error": "Participant not found"})
        _, carol_room = await get_json(http, f"{url}/")  # a token, but not in the meeting
        status, body = await post_json(http, f"{url}/mute-participant/", {
            "participant_identity": alice.identity, "track_sid": "TR_x"},
            headers={"Authorization": f"Bearer {carol_room['livekit']['token']}"})
        assert (status, body) == (403, {"error": "Could not verify caller presence"})
    finally:
        await alice.disconnect()
        await bob.disconnect()


@needs_room_service
async def test_waiting_notification_and_admin_actions(visio_contract: VisioContract,
                                                      http: aiohttp.ClientSession) -> None:
    """A participant starting to wait makes the backend send ``participantWaiting`` to the room
    (ListRooms + SendData, reliable, no topic); admins lower hands, mute and remove through the
    session endpoints."""
    visio_contract.add_user("owner", "owner@example.org", "Owner", "pw")
    room_id = visio_contract.add_room(SLUG, "restricted", owner_sub="owner")
    http.cookie_jar.update_cookies(visio_contract.login("owner"),
                                   aiohttp.client.URL(visio_contract.url))
    url = f"{visio_contract.url}{API}/rooms/{room_id}"
    _, owner_room = await get_json(http, f"{url}/")
    lk_url = owner_room["livekit"]["url"].replace("http://", "ws://", 1)
    host = SdkParticipant("owner")
    await host.connect(lk_url, owner_room["livekit"]["token"])
    try:
        async with new_http() as guest_http:
            _, entry = await post_json(guest_http, f"{url}/request-entry/", {"username": "G"})
            packet = await host.wait_for(lambda: host.data, 5, what="participantWaiting")
            assert packet[0].data == b'{"type": "participantWaiting"}'
            assert packet[0].topic == "" and packet[0].reliable and packet[0].sender == ""
            assert visio_contract.notifications == [(room_id, {"type": "participantWaiting"})]
            await post_json(guest_http, f"{url}/request-entry/", {"username": "G"})
            await asyncio.sleep(0.2)
            assert len(host.data) == 1  # only when a participant starts waiting
            visio_contract.decide(room_id, entry["id"], True)
            _, entry = await post_json(guest_http, f"{url}/request-entry/", {"username": "G"})
        guest = SdkParticipant("guest")
        await guest.connect(lk_url, entry["livekit"]["token"])
        try:
            await host.wait_for_participant(guest.identity)
            mic = await guest.publish_tone()
            await host.wait_for(
                lambda: mic.sid in host._room().remote_participants[guest.identity]
                .track_publications, 10, what="guest's microphone")
            headers = csrf_headers(visio_contract, http)
            status, body = await post_json(http, f"{url}/mute-participant/", {
                "participant_identity": guest.identity, "track_sid": mic.sid}, headers=headers)
            assert (status, body) == (200, {"status": "success"})
            await host.wait_for(
                lambda: host._room().remote_participants[guest.identity]
                .track_publications[mic.sid].muted, 5, what="muted for the host")
            status, body = await post_json(http, f"{url}/update-participant-role/", {
                "participant_identity": guest.identity, "role": "administrator"},
                headers=headers)
            assert (status, body) == (404, {"error": "This participant has no user account and "
                                                     "cannot be assigned a role."})
            status, body = await post_json(http, f"{url}/update-participant/", {
                "participant_identity": guest.identity, "attributes": {"handRaisedAt": ""}},
                headers=headers)
            assert (status, body) == (200, {"status": "success"})
            status, body = await post_json(http, f"{url}/update-participant/", {
                "participant_identity": guest.identity}, headers=headers)
            assert status == 400 and "non_field_errors" in body
            status, body = await post_json(http, f"{url}/remove-participant/", {
                "participant_identity": guest.identity}, headers=headers)
            assert (status, body) == (200, {"status": "success"})
            await host.wait_for(lambda: guest.identity not in host.remote_identities(), 5,
                                what="guest removed")
        finally:
            await guest.disconnect()
    finally:
        await host.disconnect()


# ---------------------------------------------------------------------------------------------
# fault injection


async def test_fault_injection(visio_contract: VisioContract, http: aiohttp.ClientSession) -> None:
    visio_contract.add_room(SLUG, "public")
    room_url = f"{visio_contract.url}{API}/rooms/{SLUG}/"
    visio_contract.fail_next(r"/rooms/", 500)
    async with http.get(room_url) as r:
        assert r.status == 500 and r.content_type == "text/html"
        assert "Server Error (500)" in await r.text()
    async with http.get(room_url) as r:
        assert r.status == 200  # only the next one
    visio_contract.fail_next(r"/rooms/", 429, times=2)
    for _ in range(2):
        async with http.get(room_url) as r:
            assert r.status == 429 and "Retry-After" in r.headers
    visio_contract.fail_next(r"/config/", 403, {"detail": "nope"})
    status, body = await get_json(http, f"{visio_contract.url}{API}/config/")
    assert (status, body) == (403, {"detail": "nope"})

    visio_contract.delay(r"/config/", 0.3, times=1)
    start = time.monotonic()
    async with http.get(f"{visio_contract.url}{API}/config/") as r:
        assert r.status == 200
    assert time.monotonic() - start >= 0.3

    visio_contract.down()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(room_url) as r:
            pass
    visio_contract.up()
    async with http.get(room_url) as r:
        assert r.status == 200
    assert [r.status for r in visio_contract.requests if r.path == f"{API}/rooms/{SLUG}/"][:2] \
        == [500, 200]
