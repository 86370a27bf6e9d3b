"""LiveKit's RoomService (Twirp) on our server, driven by the official ``livekit-api`` client while
official SDK participants and our own client are in the room."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable

import aiohttp
import pytest
from livekit import api, rtc
from livekit.protocol import models

from tests.conftest import API_KEY, API_SECRET, ServerThread
from tests.support.sdk_client import SdkParticipant
from visio_desktop.media.synthetic_tracks import ToneAudioTrack
from visio_desktop.net.room import Room

pytestmark = pytest.mark.timeout(60)

ROOM = "admin-room"
TWIRP = "/twirp/livekit.RoomService/"


@pytest.fixture
async def lkapi(room_server: ServerThread) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(room_server.http_url, API_KEY, API_SECRET)
    try:
        yield client
    finally:
        await client.aclose()


async def _join(room_server: ServerThread, *identities: str) -> list[SdkParticipant]:
    joined = []
    for identity in identities:
        participant = SdkParticipant(identity)
        await participant.connect(room_server.url, room_server.token(ROOM, identity))
        joined.append(participant)
    for participant in joined:
        for other in identities:
            if other != participant.identity:
                await participant.wait_for_participant(other)
    return joined


async def _leave(*participants: SdkParticipant) -> None:
    for participant in participants:
        await participant.disconnect()


async def _data_ready(sender: SdkParticipant, receiver: SdkParticipant) -> None:
    """Until the server has opened ``receiver``'s data channels (a little after it joined), what
    it sends there is dropped: wait until packets relayed to it arrive on both, then forget them."""
    for reliable in (True, False):
        deadline = time.monotonic() + 5
        while not any(m.topic == "ready" and m.reliable == reliable for m in receiver.data):
            assert time.monotonic() < deadline, "the data channels never opened"
            await sender.send_data(b"{}", topic="ready", reliable=reliable,
                                   destination_identities=[receiver.identity])
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    receiver.data.clear()


async def _server_error(call: Awaitable[object]) -> api.TwirpError:
    with pytest.raises(api.TwirpError) as info:
        await call
    return info.value


async def test_list_get_and_update_name_and_attributes(
        room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    alice, bob = await _join(room_server, "alice", "bob")
    try:
        listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=ROOM))
        assert sorted(p.identity for p in listed.participants) == ["alice", "bob"]
        got = await lkapi.room.get_participant(
            api.RoomParticipantIdentity(room=ROOM, identity="bob"))
        assert got.identity == "bob" and got.sid.startswith("PA_")

        # raise bob's hand as a Visio backend does
        raised = "2025-08-21T10:11:12.123Z"
        since = time.monotonic()
        info = await lkapi.room.update_participant(api.UpdateParticipantRequest(
            room=ROOM, identity="bob", attributes={"handRaisedAt": raised}))
        assert info.attributes["handRaisedAt"] == raised
        for who in (alice, bob):  # everyone, the participant included
            event = await who.wait_for_event(
                "participant_attributes_changed", since=since,
                match=lambda e: e.data["identity"] == "bob")
            assert event.data["changed"] == {"handRaisedAt": raised}
        assert alice.room is not None
        assert alice.room.remote_participants["bob"].attributes["handRaisedAt"] == raised

        # lower it ("" deletes) and rename in one request
        since = time.monotonic()
        info = await lkapi.room.update_participant(api.UpdateParticipantRequest(
            room=ROOM, identity="bob", name="Bob B.", attributes={"handRaisedAt": ""}))
        assert info.name == "Bob B." and "handRaisedAt" not in info.attributes
        event = await alice.wait_for_event("participant_name_changed", since=since)
        assert event.data == {"identity": "bob", "name": "Bob B."}
        await alice.wait_for(
            lambda: "handRaisedAt" not in alice.room.remote_participants["bob"].attributes,
            what="the attribute deleted")
        got = await lkapi.room.get_participant(
            api.RoomParticipantIdentity(room=ROOM, identity="bob"))
        assert got.name == "Bob B." and "handRaisedAt" not in got.attributes

        error = await _server_error(lkapi.room.get_participant(
            api.RoomParticipantIdentity(room=ROOM, identity="nobody")))
        assert (error.code, error.status) == ("not_found", 404)
        error = await _server_error(lkapi.room.list_participants(
            api.ListParticipantsRequest(room="no-such-room")))
        assert (error.code, error.status) == ("not_found", 404)
    finally:
        await _leave(alice, bob)


async def test_mute_published_track(room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    alice, bob = await _join(room_server, "alice", "bob")
    try:
        publication = await alice.publish_tone(440)
        await bob.wait_for_event("track_subscribed", match=lambda e: e.data["identity"] == "alice")
        since = time.monotonic()
        answer = await lkapi.room.mute_published_track(api.MuteRoomTrackRequest(
            room=ROOM, identity="alice", track_sid=publication.sid, muted=True))
        assert answer.track.sid == publication.sid and answer.track.muted
        # the publisher's SDK mutes its own track; the others see it muted
        await alice.wait_for_event("track_muted", since=since,
                                   match=lambda e: e.data["identity"] == "alice")
        await alice.wait_for(lambda: publication.muted, what="the local publication muted")
        await bob.wait_for_event("track_muted", since=since,
                                 match=lambda e: e.data["sid"] == publication.sid)
        info = await lkapi.room.get_participant(
            api.RoomParticipantIdentity(room=ROOM, identity="alice"))
        assert [t.muted for t in info.tracks] == [True]

        # LiveKit refuses to unmute someone unless remote unmute is enabled
        error = await _server_error(lkapi.room.mute_published_track(api.MuteRoomTrackRequest(
            room=ROOM, identity="alice", track_sid=publication.sid, muted=False)))
        assert (error.code, error.status) == ("failed_precondition", 412)
    finally:
        await _leave(alice, bob)


async def test_permission_revoked_unpublishes(
        room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    alice, bob = await _join(room_server, "alice", "bob")
    try:
        publication = await alice.publish_tone(440)
        await bob.wait_for_event("track_subscribed", match=lambda e: e.data["identity"] == "alice")
        # bob may no longer subscribe, then may again: his subscription ends, then comes back
        # (the Rust SDK reports neither: the server's down-tracks and the audio tell)
        async def down_tracks() -> int:
            return room_server.server.counts()["down_tracks"]

        await bob.wait_for_audio("alice", seconds=0.2)
        info = await lkapi.room.update_participant(api.UpdateParticipantRequest(
            room=ROOM, identity="bob", permission=models.ParticipantPermission(
                can_subscribe=False, can_publish=True, can_publish_data=True)))
        assert not info.permission.can_subscribe
        assert await room_server.acall(down_tracks) == 0
        await bob.wait_for(lambda: not bob.local.permissions.can_subscribe,
                           what="bob told of his permission")
        # granted again at once: the retired m-line keeps an msid of its own, so the new one
        # for the same track does not repeat it (the Rust SDK aborts on a duplicate a=msid)
        await lkapi.room.update_participant(api.UpdateParticipantRequest(
            room=ROOM, identity="bob", permission=models.ParticipantPermission(
                can_subscribe=True, can_publish=True, can_publish_data=True)))
        assert await room_server.acall(down_tracks) == 1
        [stats] = bob.audio_from("alice")
        received = stats.samples
        await bob.wait_for(lambda: stats.samples > received + 48000 * 0.3,
                           what="alice's audio again")

        # alice may no longer publish: the server unpublishes her track
        since = time.monotonic()
        info = await lkapi.room.update_participant(api.UpdateParticipantRequest(
            room=ROOM, identity="alice", permission=models.ParticipantPermission(
                can_subscribe=True, can_publish=False, can_publish_data=True)))
        assert not info.permission.can_publish and not info.tracks
        await bob.wait_for_event("track_unpublished", since=since,
                                 match=lambda e: e.data["sid"] == publication.sid)
        # (the server also sends alice a track_unpublished; the Rust SDK ignores it, while
        # livekit-client unpublishes the local track)
        await alice.wait_for(lambda: not alice.local.permissions.can_publish,
                             what="alice told of her permission")
        listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=ROOM))
        assert {p.identity: len(p.tracks) for p in listed.participants} == {"alice": 0, "bob": 0}
    finally:
        await _leave(alice, bob)


async def test_remove_participant(room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    alice, bob = await _join(room_server, "alice", "bob")
    try:
        await lkapi.room.remove_participant(api.RoomParticipantIdentity(room=ROOM, identity="bob"))
        event = await bob.wait_for_event("disconnected")
        assert event.data["reason"] == rtc.DisconnectReason.PARTICIPANT_REMOVED
        await alice.wait_for_event("participant_disconnected",
                                   match=lambda e: e.data["identity"] == "bob")
        listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=ROOM))
        assert [p.identity for p in listed.participants] == ["alice"]
        error = await _server_error(lkapi.room.remove_participant(
            api.RoomParticipantIdentity(room=ROOM, identity="bob")))
        assert (error.code, error.status) == ("not_found", 404)
    finally:
        await _leave(alice, bob)


async def test_send_data_and_room_metadata(
        room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    alice, bob = await _join(room_server, "alice", "bob")
    try:
        await _data_ready(alice, bob)
        await _data_ready(bob, alice)
        notice = json.dumps({"type": "participantWaiting"}).encode()
        await lkapi.room.send_data(api.SendDataRequest(
            room=ROOM, data=notice, kind=models.DataPacket.Kind.RELIABLE, topic="notices"))
        for who in (alice, bob):
            await who.wait_for(lambda who=who: who.data, what="the data packet")
            [message] = who.data
            assert (message.sender, message.data, message.topic, message.reliable) == \
                ("", notice, "notices", True)
        # to one identity, lossy, no topic
        await lkapi.room.send_data(api.SendDataRequest(
            room=ROOM, data=b'{"type": "participantMuted"}', kind=models.DataPacket.Kind.LOSSY,
            destination_identities=["bob"]))
        await bob.wait_for(lambda: len(bob.data) == 2, what="the second packet")
        assert (bob.data[1].topic, bob.data[1].reliable) == ("", False)
        await asyncio.sleep(0.2)
        assert len(alice.data) == 1

        metadata = json.dumps({"recording_status": "started"})
        room = await lkapi.room.update_room_metadata(
            api.UpdateRoomMetadataRequest(room=ROOM, metadata=metadata))
        assert room.metadata == metadata and room.name == ROOM
        for who in (alice, bob):
            event = await who.wait_for_event("room_metadata_changed")
            assert event.data["metadata"] == metadata
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[ROOM]))
        assert [(r.name, r.metadata, r.num_participants) for r in rooms.rooms] == \
            [(ROOM, metadata, 2)]
    finally:
        await _leave(alice, bob)


async def test_create_list_and_delete_rooms(
        room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    created = await lkapi.room.create_room(api.CreateRoomRequest(name="planned", metadata="m1"))
    again = await lkapi.room.create_room(api.CreateRoomRequest(name="planned"))
    assert created.sid == again.sid and again.metadata == "m1"
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    assert [(r.name, r.num_participants) for r in rooms.rooms] == [("planned", 0)]

    carol = SdkParticipant("carol")
    await carol.connect(room_server.url, room_server.token("planned", "carol"))
    try:
        assert carol.room is not None
        assert (carol.room.metadata, await carol.room.sid) == ("m1", created.sid)
        await lkapi.room.delete_room(api.DeleteRoomRequest(room="planned"))
        event = await carol.wait_for_event("disconnected")
        assert event.data["reason"] == rtc.DisconnectReason.ROOM_DELETED
        assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []
        error = await _server_error(lkapi.room.delete_room(api.DeleteRoomRequest(room="planned")))
        assert (error.code, error.status) == ("not_found", 404)
    finally:
        await carol.disconnect()


async def test_the_host_client_moderates_with_its_own_token(room_server: ServerThread) -> None:
    """A host's client (ours) uses its join token, which grants roomAdmin, on our server; a
    participant on our client is muted by the host and sees its hand raised."""
    host_token = room_server.token(ROOM, "host", room_admin=True)
    host = Room()
    member = Room()
    muted: list[str] = []
    changed: list[dict[str, str]] = []
    member.on("track_muted", lambda pub, p: muted.append(pub.sid))
    member.on("attributes_changed", lambda ch, p: changed.append(dict(ch)))
    await host.connect(room_server.url, host_token)
    await member.connect(room_server.url, room_server.token(ROOM, "member"))
    admin = api.LiveKitAPI(room_server.http_url, token=host_token)
    try:
        mic = await member.publish_track(ToneAudioTrack(440), "microphone")
        await admin.room.update_participant(api.UpdateParticipantRequest(
            room=ROOM, identity="member", attributes={"handRaisedAt": "2025-01-01T00:00:00Z"}))
        answer = await admin.room.mute_published_track(api.MuteRoomTrackRequest(
            room=ROOM, identity="member", track_sid=mic.sid, muted=True))
        assert answer.track.muted
        for _ in range(100):
            if muted and changed:
                break
            await asyncio.sleep(0.05)
        assert muted == [mic.sid] and mic.muted
        assert changed == [{"handRaisedAt": "2025-01-01T00:00:00Z"}]
        # the host's token is for this room only, and cannot list or create rooms
        error = await _server_error(admin.room.list_participants(
            api.ListParticipantsRequest(room="another-room")))
        assert (error.code, error.status) == ("unauthenticated", 401)
        error = await _server_error(admin.room.list_rooms(api.ListRoomsRequest()))
        assert error.code == "unauthenticated"
    finally:
        await admin.aclose()
        await member.disconnect()
        await host.disconnect()


async def test_tokens_without_the_grant_are_refused(room_server: ServerThread) -> None:
    member = api.LiveKitAPI(room_server.http_url, token=room_server.token(ROOM, "member"))
    forged = api.LiveKitAPI(room_server.http_url, API_KEY, "not-the-secret-but-long-enough-0123")
    try:
        for client in (member, forged):
            error = await _server_error(client.room.list_participants(
                api.ListParticipantsRequest(room=ROOM)))
            assert (error.code, error.status) == ("unauthenticated", 401), error
            assert error.message
    finally:
        await member.aclose()
        await forged.aclose()


async def test_twirp_errors_and_json(room_server: ServerThread, lkapi: api.LiveKitAPI) -> None:
    token = api.AccessToken(API_KEY, API_SECRET).with_grants(
        api.VideoGrants(room_admin=True, room=ROOM, room_list=True)).to_jwt()
    auth = {"Authorization": f"Bearer {token}"}
    url = room_server.http_url + TWIRP
    protobuf = {**auth, "Content-Type": "application/protobuf"}
    as_json = {**auth, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async def post(method: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
            async with http.post(url + method, data=body, headers=headers) as resp:
                return resp.status, await resp.json(content_type=None)

        assert await post("ListRooms", b"\xff\xff\xff", protobuf) == \
            (400, {"code": "malformed", "msg": "the protobuf request could not be decoded"})
        for garbage in (b"{not json", b"[]", b""):
            status, body = await post("ListRooms", garbage, as_json)
            assert (status, body["code"]) == (400, "malformed"), garbage
        status, body = await post("NoSuchMethod", b"", protobuf)
        assert (status, body["code"]) == (404, "bad_route")
        status, body = await post("ListRooms", b"", {**auth, "Content-Type": "text/plain"})
        assert (status, body["code"]) == (404, "bad_route")
        async with http.get(url + "ListRooms", headers=auth) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == "bad_route"
        status, body = await post("ListRooms", b"", {"Content-Type": "application/protobuf"})
        assert (status, body["code"]) == (401, "unauthenticated")

        # JSON in and out (camelCase or proto names), as LiveKit's Twirp server
        await lkapi.room.create_room(api.CreateRoomRequest(name=ROOM, metadata="x"))
        status, body = await post("ListRooms", json.dumps({"names": [ROOM]}).encode(), as_json)
        assert status == 200 and [r["name"] for r in body["rooms"]] == [ROOM]
        assert body["rooms"][0]["metadata"] == "x" and body["rooms"][0]["num_participants"] == 0
        status, body = await post("UpdateRoomMetadata",
                                  json.dumps({"room": ROOM, "metadata": "y"}).encode(), as_json)
        assert (status, body["metadata"]) == (200, "y")
        status, body = await post("GetParticipant",
                                  json.dumps({"room": ROOM, "identity": "x"}).encode(), as_json)
        assert (status, body["code"]) == (404, "not_found")
    # and the server still works
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    assert [(r.name, r.metadata) for r in rooms.rooms] == [(ROOM, "y")]
