"""Joining Visio meetings through Visio's REST API, end to end: our client against the contract
server (tests/support/visio_contract.py) whose LiveKit is our embedded room server.

Covers the headless CLI (``visio-desktop join <link> --headless``) and the library path
(``VisioClient`` + ``Room``), the lobby (admitted, denied, timed out), a signed-in user (login
through the contract's login form, session kept in a keyring), in-call REST actions, and every
error the UI must explain (code and English text)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import keyring
import pytest

from tests.support.visio_contract import VisioContract
from tests.unit.test_session_store import MemoryKeyring
from visio_desktop.headless import HeadlessOptions, HeadlessParticipant
from visio_desktop.media.synthetic_tracks import ToneAudioTrack
from visio_desktop.net.http import HttpClient, RetryPolicy
from visio_desktop.net.room import Room
from visio_desktop.net.session_store import SessionStore
from visio_desktop.net.visio_api import (
    ApiError,
    LobbyCancelled,
    LobbyRequired,
    RoomAccess,
    VisioClient,
    VisioServices,
)

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
SLUG = "abc-defg-hij"
FAST = RetryPolicy(attempts=2, backoff_s=0.02, max_backoff_s=0.05, max_retry_after_s=2)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def client(contract: VisioContract, **kwargs: Any) -> VisioClient:
    """A client of the contract instance that gives up quickly."""
    http = HttpClient(contract.url, retry=FAST, timeout_s=kwargs.pop("timeout_s", 5.0))
    return VisioClient(contract.url, http=http, **kwargs)


async def signed_in(contract: VisioContract, sub: str, **kwargs: Any) -> VisioClient:
    contract.add_user(sub, f"{sub}@example.org", sub.title(), "pw")
    visio = client(contract, **kwargs)
    await visio.adopt_session(contract.login(sub))
    return visio


async def eventually(predicate: Callable[[], Any], timeout_s: float = 10,
                     what: str = "condition") -> Any:
    for _ in range(int(timeout_s / 0.05)):
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def cli_args(link: str, report: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "visio_desktop", "join", link, "--headless",
            "--video", "none", "--report", str(report), *extra]


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


# -- anonymous join of a public room -------------------------------------------------------------

def test_headless_cli_joins_a_public_room(visio_contract: VisioContract, tmp_path: Path) -> None:
    room_id = visio_contract.add_room(SLUG, "public")
    report_path = tmp_path / "report.json"
    done = subprocess.run(
        cli_args(f"{visio_contract.url}/{SLUG}", report_path, "--name", "Bot Jane",
                 "--duration", "2"),
        cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=45)
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    assert report["joined"] and report["left_cleanly"] and report["errors"] == []
    assert report["room"] == room_id  # the LiveKit room is the room's UUID, not the slug
    assert report["lobby"] == {"waited_s": 0.0, "outcome": "none"}
    assert report["error_code"] is None and len(report["published"]) == 1
    lookup = next(r for r in visio_contract.requests if r.path.endswith(f"/rooms/{SLUG}/"))
    assert lookup.query == {"username": "Bot Jane"}
    assert lookup.headers["User-Agent"].startswith("VisioDesktop/")


async def test_library_joins_a_public_room(visio_contract: VisioContract) -> None:
    room_id = visio_contract.add_room(SLUG, "public")
    room = Room()
    async with client(visio_contract) as visio:
        access = await visio.room(SLUG, "Jane")
        assert isinstance(access, RoomAccess)
        assert access.room == room_id and access.room_id == room_id
        assert access.livekit_url.startswith("http://")  # as configured: Room converts it
        assert access.access_level == "public"
        token = claims(access.token)
        assert token["name"] == "Jane" and token["attributes"]["is_authenticated"] == "false"
        assert "token" not in repr(access).lower()
        try:
            await room.connect(access.livekit_url, access.token)
            assert room.name == room_id
            assert room.local_participant.name == "Jane"
            assert room.local_participant.attributes["color"].startswith("hsl(")
        finally:
            await room.disconnect()
    # the headless participant, in process, by link (no token)
    options = HeadlessOptions(url=f"{visio_contract.url}/{SLUG}", name="Bot", video="none",
                              audio="none", duration_s=0.2)
    report = await HeadlessParticipant(options).run()
    assert report["joined"] and report["room"] == room_id and report["errors"] == []


async def test_lan_link_of_a_meeting_hosted_by_visio_desktop() -> None:
    """A meeting on our embedded server answers the same two calls: its LAN link is joined by
    the same client (links.py's private-address rule)."""
    from visio_desktop.local_meeting import LocalMeeting
    from visio_desktop.net.links import parse_link

    meeting = LocalMeeting(lan=False, port=0)
    await meeting.start()
    try:
        link = parse_link(meeting.link)
        async with VisioClient.for_link(link) as visio:
            config = await visio.config()
            access = await visio.room(link.slug, "Guest")
        assert isinstance(access, RoomAccess) and config.livekit_url == access.livekit_url
    finally:
        await meeting.stop()


# -- the lobby -----------------------------------------------------------------------------------

async def _admit_first(admin: VisioClient, room_id: str, allow: bool) -> dict[str, str]:
    waiting = []
    for _ in range(300):
        waiting = await admin.list_waiting(room_id)
        if waiting:
            break
        await asyncio.sleep(0.05)
    assert waiting, "nobody ever waited"
    participant = waiting[0]
    await admin.admit(room_id, participant.id, allow)
    return {"id": participant.id, "username": participant.username}


async def test_lobby_admitted_then_joined(visio_contract: VisioContract, tmp_path: Path) -> None:
    room_id = visio_contract.add_room(SLUG, "restricted")
    report_path = tmp_path / "report.json"
    async with await signed_in(visio_contract, "owner") as admin:
        visio_contract.set_role(SLUG, "owner", "owner")
        process = await asyncio.create_subprocess_exec(
            *cli_args(f"{visio_contract.url}/{SLUG}", report_path, "--name", "Guest",
                      "--audio", "none", "--duration", "1", "--lobby-timeout", "30"),
            cwd=ROOT, env=cli_env(), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            waiting = await _admit_first(admin, room_id, allow=True)
            _, stderr = await asyncio.wait_for(process.communicate(), 45)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert waiting["username"] == "Guest"
    report = json.loads(report_path.read_text())
    assert report["joined"] and report["room"] == room_id
    assert report["lobby"]["outcome"] == "admitted" and report["lobby"]["waited_s"] > 0
    # an anonymous participant's LiveKit identity is its lobby participant id
    assert report["identity"] == waiting["id"]
    polls = [r for r in visio_contract.requests if r.path.endswith("/request-entry/")]
    assert len(polls) >= 2 and all(r.status == 200 for r in polls)


async def test_lobby_denied_is_a_clear_error(visio_contract: VisioContract,
                                            tmp_path: Path) -> None:
    room_id = visio_contract.add_room(SLUG, "restricted")
    report_path = tmp_path / "report.json"
    async with await signed_in(visio_contract, "owner") as admin:
        visio_contract.set_role(SLUG, "owner", "owner")
        process = await asyncio.create_subprocess_exec(
            *cli_args(f"{visio_contract.url}/{SLUG}", report_path, "--name", "Intruder"),
            cwd=ROOT, env=cli_env(), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            await _admit_first(admin, room_id, allow=False)
            _, stderr = await asyncio.wait_for(process.communicate(), 45)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 1
    assert "visio-desktop join: You were not let into the meeting." in stderr.decode()
    report = json.loads(report_path.read_text())
    assert not report["joined"] and report["error_code"] == "lobby_denied"
    assert report["lobby"]["outcome"] == "denied"


async def test_lobby_timeout_and_cancel(visio_contract: VisioContract) -> None:
    visio_contract.add_room(SLUG, "restricted")
    options = HeadlessOptions(url=f"{visio_contract.url}/{SLUG}", name="Patient",
                              video="none", audio="none", lobby_timeout_s=1.2)
    report = await HeadlessParticipant(options).run()
    assert not report["joined"] and report["error_code"] == "lobby_timeout"
    assert report["errors"] == ["Nobody let you into the meeting in time."]
    assert report["lobby"]["outcome"] == "timeout" and report["lobby"]["waited_s"] >= 1.2

    visio_contract.advance(5)  # the headless participant's waiting entry expires (3 s)
    assert visio_contract.waiting(SLUG) == []
    visio_contract.secure_cookies = True  # production's Secure lobbyParticipantId cookie
    async with client(visio_contract) as visio:
        lobby = await visio.room(SLUG, "Patient")
        assert isinstance(lobby, LobbyRequired) and lobby.code == "lobby"
        assert str(lobby) == "This meeting has a waiting room."
        cancel = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, cancel.set)
        with pytest.raises(LobbyCancelled) as caught:
            await visio.wait_in_lobby(lobby.room_id, "Patient", timeout_s=10, cancel=cancel)
        assert caught.value.code == "lobby_cancelled"
        entry = await visio.request_entry(lobby.room_id, "Patient")
        assert entry.status == "waiting" and visio.http.cookie("lobbyParticipantId") == entry.id
    # every poll was the same participant: the jar sent the (Secure) cookie back, on loopback
    assert [w["id"] for w in visio_contract.waiting(SLUG)] == [entry.id]


# -- a signed-in user ----------------------------------------------------------------------------

async def _login_through_the_form(contract: VisioContract, email: str,
                                  password: str) -> dict[str, str]:
    """What the login web view does: OIDC through the (fake) ProConnect form."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{contract.url}/api/v1.0/authenticate/",
                               params={"silent": "false", "returnTo": f"{contract.url}/"}) as r:
            page = await r.text()
        fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page))
        async with browser.post(f"{contract.url}/fake-proconnect/login",
                                data={**fields, "email": email, "password": password}) as r:
            assert r.status == 200
        return {c.key: c.value for c in browser.cookie_jar}


async def test_signed_in_user_creates_a_room(visio_contract: VisioContract,
                                             memory_keyring: MemoryKeyring) -> None:
    visio_contract.add_user("carol", "carol@example.org", "Carol C", "secret")
    cookies = await _login_through_the_form(visio_contract, "carol@example.org", "secret")
    store = SessionStore()
    async with client(visio_contract, session_store=store) as visio:
        assert await visio.adopt_session(cookies)  # kept in the keyring
    assert store.load("127.0.0.1") is not None

    room = Room()
    async with client(visio_contract, session_store=store) as visio:  # a new start
        assert await visio.check_session() == "valid"
        me = await visio.me()
        assert me.full_name == "Carol C" and me.email == "carol@example.org"
        created = await visio.create_room(username="Carol")
        assert re.fullmatch(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", created.slug)
        assert created.access is not None
        token = claims(created.access.token)
        assert token["attributes"]["room_role"] == "owner" and token["name"] == "Carol"
        assert created.slug in [r.slug for r in await visio.list_rooms()]
        access = await visio.room(created.slug, "Carol")
        assert isinstance(access, RoomAccess)
        try:
            await room.connect(access.livekit_url, access.token)
            assert room.local_participant.attributes["room_role"] == "owner"
        finally:
            await room.disconnect()
        # CSRF was sent on the session's POST
        post = next(r for r in visio_contract.requests
                    if r.method == "POST" and r.path == "/api/v1.0/rooms/")
        assert post.headers["X-CSRFToken"] == cookies["csrftoken"] and post.status == 201

        visio_contract.expire_sessions()
        with pytest.raises(ApiError) as caught:
            await visio.create_room()
        assert caught.value.code == "session_expired"
        assert str(caught.value) == "Your session has expired: sign in again."
    assert store.load("127.0.0.1") is None  # forgotten: the UI re-logs in silently


# -- in the meeting: REST actions with the LiveKit token, admin actions with the session ---------

async def test_hand_rename_and_admin_actions(visio_contract: VisioContract) -> None:
    from visio_desktop.call import Call

    visio_contract.add_user("owner", "owner@example.org", "Owner", "pw")
    visio_contract.subtitle_enabled = True
    room_id = visio_contract.add_room(SLUG, "public", owner_sub="owner")
    alice, bob = Room(), Room()
    async with client(visio_contract) as visio, client(visio_contract) as admin:
        await admin.adopt_session(visio_contract.login("owner"))
        alice_access = await visio.room(SLUG, "Alice")
        bob_access = await visio.room(SLUG, "Bob")
        assert isinstance(alice_access, RoomAccess) and isinstance(bob_access, RoomAccess)
        try:
            await alice.connect(alice_access.livekit_url, alice_access.token)
            await bob.connect(bob_access.livekit_url, bob_access.token)
            me = alice.local_participant.identity
            seen = await eventually(lambda: bob.remote_participants.get(me), what="alice")

            services = VisioServices.for_access(visio, alice_access)
            call = Call()
            services.attach(call)  # Call.set_hand_raised now goes through REST
            await call.set_hand_raised(True)
            await eventually(lambda: seen.attributes.get("handRaisedAt"), what="hand raised")
            await services.rename("Alice B.")
            await eventually(lambda: seen.name == "Alice B.", what="renamed")
            await admin.lower_hands(room_id, [me])
            await eventually(lambda: not seen.attributes.get("handRaisedAt"), what="lowered")
            await services.start_subtitles()
            assert visio_contract.subtitles_started == [room_id]

            # everyone may mute (the default configuration): Bob mutes Alice's microphone
            microphone = await alice.publish_track(ToneAudioTrack(440.0), "microphone")
            await eventually(lambda: microphone.sid in seen.track_publications, what="track")
            await VisioServices.for_access(visio, bob_access).mute(me, microphone.sid)
            await eventually(lambda: microphone.muted, what="muted by Bob")

            with pytest.raises(ApiError) as caught:  # Bob is no administrator
                await visio.remove_participant(room_id, me)
            assert caught.value.code == "unauthorized"
            await admin.remove_participant(room_id, bob.local_participant.identity)
            await eventually(lambda: bob.connection_state == "disconnected", what="removed")
        finally:
            await alice.disconnect()
            await bob.disconnect()
    calls = [c.method for c in visio_contract.livekit_calls]
    assert calls.count("update_participant") == 3
    assert "mute_published_track" in calls and "remove_participant" in calls


# -- every error the UI explains -----------------------------------------------------------------

async def test_unknown_code_is_not_found(visio_contract: VisioContract) -> None:
    visio_contract.allow_unregistered_rooms = False
    async with client(visio_contract) as visio:
        with pytest.raises(ApiError) as caught:
            await visio.room("zzz-zzzz-zzz", "x")
    assert caught.value.code == "not_found" and caught.value.status == 404
    assert str(caught.value) == "This meeting does not exist (check the link)."


def test_cli_explains_an_unknown_code(visio_contract: VisioContract, tmp_path: Path) -> None:
    visio_contract.allow_unregistered_rooms = False
    report_path = tmp_path / "report.json"
    done = subprocess.run(cli_args(f"{visio_contract.url}/zzz-zzzz-zzz", report_path),
                          cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=45)
    assert done.returncode == 1
    assert "visio-desktop join: This meeting does not exist (check the link)." in done.stderr
    assert json.loads(report_path.read_text())["error_code"] == "not_found"


async def test_unauthorized_and_forbidden(visio_contract: VisioContract) -> None:
    room_id = visio_contract.add_room(SLUG, "restricted")
    async with client(visio_contract) as visio:
        with pytest.raises(ApiError) as caught:
            await visio.me()
        assert caught.value.code == "unauthorized" and caught.value.status == 401
        assert str(caught.value) == "Sign in to do this."
        with pytest.raises(ApiError) as caught:
            await visio.create_room()
        assert caught.value.code == "unauthorized"
    async with await signed_in(visio_contract, "mallory") as visio:
        with pytest.raises(ApiError) as caught:
            await visio.list_waiting(room_id)  # not an administrator of the room
        assert caught.value.code == "forbidden" and caught.value.status == 403
        assert str(caught.value) == "You are not allowed to do this."
        with pytest.raises(ApiError) as caught:
            await visio.toggle_hand(room_id, "not-a-livekit-token", True)
        assert caught.value.code == "forbidden"


async def test_throttled(visio_contract: VisioContract) -> None:
    room_id = visio_contract.add_room(SLUG, "restricted")
    visio_contract.fail_next(r"/request-entry/$", 429)  # DRF's answer, Retry-After: 60
    async with client(visio_contract) as visio:
        with pytest.raises(ApiError) as caught:
            await visio.request_entry(room_id, "x")  # a POST: never replayed
    assert caught.value.code == "throttled" and caught.value.status == 429
    assert caught.value.retry_after == 60
    assert str(caught.value) == "Too many requests: wait a moment and try again."
    assert sum(1 for r in visio_contract.requests if r.path.endswith("/request-entry/")) == 1


async def test_server_errors(visio_contract: VisioContract) -> None:
    visio_contract.add_room(SLUG, "public")
    path = rf"/rooms/{SLUG}/$"
    async with client(visio_contract) as visio:
        visio_contract.fail_next(path, 500)  # Django's HTML "Server Error (500)" page
        with pytest.raises(ApiError) as caught:
            await visio.room(SLUG, "x")
        assert caught.value.code == "server" and caught.value.status == 500
        assert str(caught.value) == "The meeting server has a problem: try again later."

        visio_contract.fail_next(path, 502)  # nginx's page, once: the GET is retried
        assert isinstance(await visio.room(SLUG, "x"), RoomAccess)

        visio_contract.fail_next(path, 200, "<html><body>Welcome to the hotel Wi-Fi</body></html>",
                                 "text/html")
        with pytest.raises(ApiError) as caught:
            await visio.room(SLUG, "x")
        assert caught.value.code == "bad_answer"
        assert str(caught.value) == "The meeting server's answer was not understood."


async def test_instance_down_and_timeout(visio_contract: VisioContract) -> None:
    visio_contract.add_room(SLUG, "public")
    async with client(visio_contract) as visio:
        visio_contract.down()
        try:
            with pytest.raises(ApiError) as caught:
                await visio.room(SLUG, "x")
        finally:
            visio_contract.up()
        assert caught.value.code == "unreachable" and caught.value.status is None
        assert str(caught.value) == "The meeting server cannot be reached: check the network."
        assert isinstance(await visio.room(SLUG, "x"), RoomAccess)  # back up

    visio_contract.delay(rf"/rooms/{SLUG}/$", 1.0, times=1)
    async with client(visio_contract, timeout_s=0.3) as visio:
        with pytest.raises(ApiError) as caught:
            await visio.room(SLUG, "x")
    assert caught.value.code == "timeout"
    assert str(caught.value) == "The meeting server did not answer in time."


def test_insecure_instance() -> None:
    with pytest.raises(ApiError) as caught:
        VisioClient("http://visio.example.org")
    assert caught.value.code == "insecure"
    assert str(caught.value) == ("Unencrypted addresses (http://) are only accepted for a "
                                 "server on this computer: use https://.")

