"""A host's moderation (visio_desktop/net/room_admin.py), end to end: ``LocalAdmin`` against our
embedded server's RoomService, ``VisioAdmin`` against the Visio contract server, with our own
``Room`` as the participants. The muted participant must see its microphone muted by the server
*and* receive the ``participantMuted`` packet exactly as Visio's web app sends it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from livekit.protocol import models

from tests.conftest import ServerThread
from tests.support.visio_contract import VisioContract
from visio_desktop.media.synthetic_tracks import ToneAudioTrack
from visio_desktop.net.data import ParticipantMuted, PermissionsRemoved, hand_attributes
from visio_desktop.net.http import ApiError, HttpClient, RetryPolicy
from visio_desktop.net.participant import LocalTrackPublication
from visio_desktop.net.room import Room
from visio_desktop.net.room_admin import (
    PUBLISH_SOURCES,
    AdminActions,
    LobbyWatcher,
    LocalAdmin,
    TwirpError,
    VisioAdmin,
    WaitingParticipant,
    error_message,
    twirp_base,
)
from visio_desktop.net.visio_api import (
    LobbyDenied,
    RoomAccess,
    VisioClient,
    VisioServices,
)

pytestmark = pytest.mark.timeout(90)

ROOM = "moderated"
SLUG = "abc-defg-hij"
FAST = RetryPolicy(attempts=2, backoff_s=0.02, max_backoff_s=0.05, max_retry_after_s=2)
#: what muteParticipant.ts → useNotifyParticipants publishes: JSON.stringify({type})
MUTED_PAYLOAD = b'{"type":"participantMuted"}'


async def eventually(predicate: Callable[[], Any], timeout_s: float = 10,
                     what: str = "condition") -> Any:
    for _ in range(int(timeout_s / 0.05)):
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Inbox:
    """What a Room receives: its raw DataPackets and its Visio notifications."""

    def __init__(self, room: Room) -> None:
        self.packets: list[models.DataPacket] = []
        self.notifications: list[Any] = []
        self.probes = 0
        feed = room.data.feed

        def spy(raw: bytes | str, label: str, now: float | None = None) -> Any:
            if isinstance(raw, bytes):
                self.packets.append(models.DataPacket.FromString(raw))
            return feed(raw, label, now)

        room.data.feed = spy  # type: ignore[method-assign]
        room.on("visio_notification", self.notifications.append)
        room.on("data_received", lambda data: self._probe(data.payload))

    def _probe(self, payload: bytes) -> None:
        if payload == b'{"type":"probe"}':
            self.probes += 1

    def user_payloads(self) -> list[models.DataPacket]:
        return [p for p in self.packets
                if p.WhichOneof("value") == "user" and p.user.payload == MUTED_PAYLOAD]


async def data_ready(sender: Room, receiver: Room, inbox: Inbox) -> None:
    """Until the server has opened the receiver's data channel, packets to it are dropped:
    probe until one arrives."""
    for _ in range(100):
        await sender.publish_data(b'{"type":"probe"}',
                                  destination_identities=[receiver.local_participant.identity])
        await asyncio.sleep(0.05)
        if inbox.probes:
            return
    raise AssertionError("the data channel never opened")


def assert_muted_packet(inbox: Inbox, sender: str, target: str) -> None:
    packets = inbox.user_payloads()
    assert len(packets) == 1, packets
    packet = packets[0]
    assert packet.participant_identity == sender
    assert packet.kind == models.DataPacket.Kind.RELIABLE
    assert not packet.user.HasField("topic")  # Visio's notifications have no topic
    assert list(packet.destination_identities) == [target]
    assert packet.user.payload == MUTED_PAYLOAD
    assert any(isinstance(n, ParticipantMuted) and n.sender_identity == sender
               for n in inbox.notifications)


async def publish_microphone(room: Room) -> LocalTrackPublication:
    return await room.publish_track(ToneAudioTrack(440.0), "microphone")


# -- a meeting on our embedded server -----------------------------------------------------------

@pytest.fixture
async def local_meeting(room_server: ServerThread) -> AsyncIterator[tuple[Room, Room, str]]:
    """(host, bob, host token): both with canUpdateOwnMetadata, the host with roomAdmin."""
    host, bob = Room(), Room()
    token = room_server.token(ROOM, "host", "Host", room_admin=True,
                              can_update_own_metadata=True)
    try:
        await host.connect(room_server.url, token)
        await bob.connect(room_server.url, room_server.token(ROOM, "bob", "Bob",
                                                             can_update_own_metadata=True))
        await eventually(lambda: "bob" in host.remote_participants, what="bob")
        yield host, bob, token
    finally:
        await bob.disconnect()
        await host.disconnect()


async def test_local_admin_mutes_lowers_hands_and_removes(
        room_server: ServerThread, local_meeting: tuple[Room, Room, str]) -> None:
    host, bob, token = local_meeting
    inbox = Inbox(bob)
    admin = LocalAdmin(host, room_server.url, token)  # the ws:// URL is fine
    assert isinstance(admin, AdminActions) and not admin.supports_lobby
    try:
        microphone = await publish_microphone(bob)
        seen = host.remote_participants["bob"]
        await eventually(lambda: microphone.sid in seen.track_publications, what="bob's mic")
        await data_ready(host, bob, inbox)

        # mute: the server mutes bob's track (bob's own SDK too), and bob gets the packet
        await admin.mute("bob")
        await eventually(lambda: microphone.muted, what="bob muted by the host")
        await eventually(lambda: seen.track_publications[microphone.sid].muted,
                         what="bob seen muted")
        await eventually(inbox.user_payloads, what="the participantMuted packet")
        assert_muted_packet(inbox, "host", "bob")

        # mute everyone: only the microphones that are on
        await bob.set_muted(microphone.sid, False)
        await eventually(lambda: not seen.track_publications[microphone.sid].muted,
                         what="bob unmuted himself")
        await admin.mute_all()
        await eventually(lambda: microphone.muted, what="bob muted again")
        await eventually(lambda: len(inbox.user_payloads()) == 2, what="a second packet")

        # lower one hand, then all of them (the host's own included)
        await bob.update_metadata(attributes=hand_attributes(True))
        await eventually(lambda: seen.attributes.get("handRaisedAt"), what="bob's hand")
        await admin.lower_hand("bob")
        await eventually(lambda: not bob.local_participant.attributes.get("handRaisedAt"),
                         what="bob's hand lowered")
        await eventually(lambda: not seen.attributes.get("handRaisedAt"), what="seen lowered")
        await bob.update_metadata(attributes=hand_attributes(True))
        await host.update_metadata(attributes=hand_attributes(True))
        await eventually(lambda: seen.attributes.get("handRaisedAt")
                         and host.local_participant.attributes.get("handRaisedAt"),
                         what="two hands")
        await admin.lower_all_hands()
        await eventually(lambda: not seen.attributes.get("handRaisedAt")
                         and not host.local_participant.attributes.get("handRaisedAt"),
                         what="every hand lowered")

        # no waiting room in a local meeting
        assert await admin.list_waiting() == []
        with pytest.raises(ApiError) as caught:
            await admin.admit("someone", True)
        assert caught.value.code == "no_lobby"

        # errors the UI explains
        with pytest.raises(ApiError) as caught:
            await admin.mute("nobody")
        assert caught.value.code == "participant_gone"
        with pytest.raises(TwirpError) as twirp:
            await admin.remove("nobody")
        assert twirp.value.code == "participant_gone" and twirp.value.twirp_code == "not_found"
        assert str(twirp.value) == error_message("participant_gone")

        # remove: bob is disconnected, and gone for the host
        await admin.remove("bob")
        await eventually(lambda: bob.connection_state == "disconnected", what="bob removed")
        await eventually(lambda: "bob" not in host.remote_participants, what="bob gone")
    finally:
        await admin.close()


async def test_local_admin_errors(room_server: ServerThread,
                                  local_meeting: tuple[Room, Room, str]) -> None:
    host, bob, _ = local_meeting
    microphone = await publish_microphone(bob)
    await eventually(lambda: microphone.sid in host.remote_participants["bob"].track_publications,
                     what="bob's mic")
    # a token without roomAdmin: LiveKit answers "unauthenticated", which the UI says as forbidden
    plain = room_server.token(ROOM, "host", "Host")
    admin = LocalAdmin(host, room_server.http_url, plain)
    try:
        with pytest.raises(TwirpError) as caught:
            await admin.mute("bob")
        assert caught.value.code == "forbidden" and caught.value.status == 401
        assert caught.value.twirp_code == "unauthenticated"
        assert not microphone.muted
    finally:
        await admin.close()
    # a participant without a microphone
    await bob.unpublish_track(microphone.sid)
    await eventually(lambda: not host.remote_participants["bob"].track_publications,
                     what="bob's mic gone")
    admin = LocalAdmin(host, room_server.http_url, lambda: plain)
    try:
        with pytest.raises(ApiError) as no_mic:
            await admin.mute("bob")
        assert no_mic.value.code == "no_microphone"
    finally:
        await admin.close()
    # the server cannot be reached
    unreachable = LocalAdmin(host, "http://127.0.0.1:1", plain, timeout_s=3)
    try:
        with pytest.raises(ApiError) as down:
            await unreachable.remove("bob")
        assert down.value.code == "unreachable"
    finally:
        await unreachable.close()
    assert twirp_base("ws://h:7880/rtc") == "http://h:7880"
    assert twirp_base("wss://h/") == "https://h"


# -- a Visio meeting ----------------------------------------------------------------------------

def visio_client(contract: VisioContract) -> VisioClient:
    return VisioClient(contract.url, http=HttpClient(contract.url, retry=FAST, timeout_s=5.0))


async def signed_in_owner(contract: VisioContract) -> VisioClient:
    contract.add_user("owner", "owner@example.org", "Owner", "pw")
    client = visio_client(contract)
    await client.adopt_session(contract.login("owner"))
    return client


async def test_visio_admin_mutes_lowers_hands_and_removes(
        visio_contract: VisioContract) -> None:
    owner = await signed_in_owner(visio_contract)
    room_id = visio_contract.add_room(SLUG, "public", owner_sub="owner")
    host, alice = Room(), Room()
    async with owner, visio_client(visio_contract) as guest:
        owner_access = await owner.room(SLUG, "Owner")
        alice_access = await guest.room(SLUG, "Alice")
        assert isinstance(owner_access, RoomAccess) and isinstance(alice_access, RoomAccess)
        admin = VisioAdmin(owner, owner_access.api_room_id, host)
        assert admin.supports_lobby
        inbox = Inbox(alice)
        try:
            await host.connect(owner_access.livekit_url, owner_access.token)
            await alice.connect(alice_access.livekit_url, alice_access.token)
            me = alice.local_participant.identity
            boss = host.local_participant.identity
            seen = await eventually(lambda: host.remote_participants.get(me), what="alice")
            microphone = await publish_microphone(alice)
            await eventually(lambda: microphone.sid in seen.track_publications, what="mic")
            await data_ready(host, alice, inbox)

            # mute: REST with the session (no LiveKit token), then the packet from the host
            await admin.mute(me)
            await eventually(lambda: microphone.muted, what="alice muted")
            await eventually(inbox.user_payloads, what="the participantMuted packet")
            assert_muted_packet(inbox, boss, me)
            mute = next(r for r in visio_contract.requests
                        if r.path.endswith("/mute-participant/"))
            assert mute.status == 200 and "Authorization" not in mute.headers
            assert mute.path == f"/api/v1.0/rooms/{room_id}/mute-participant/"

            await alice.set_muted(microphone.sid, False)
            await eventually(lambda: not seen.track_publications[microphone.sid].muted,
                             what="alice unmuted herself")
            await admin.mute_all()
            await eventually(lambda: microphone.muted, what="alice muted by mute-all")

            # hands: raised through REST with each one's token, lowered by the admin
            await VisioServices.for_access(guest, alice_access).raise_hand(True)
            await eventually(lambda: seen.attributes.get("handRaisedAt"), what="alice's hand")
            await admin.lower_hand(me)
            await eventually(lambda: not seen.attributes.get("handRaisedAt"), what="lowered")
            await VisioServices.for_access(guest, alice_access).raise_hand(True)
            await VisioServices.for_access(owner, owner_access).raise_hand(True)
            await eventually(lambda: seen.attributes.get("handRaisedAt")
                             and host.local_participant.attributes.get("handRaisedAt"),
                             what="two hands")
            await admin.lower_all_hands()
            await eventually(lambda: not seen.attributes.get("handRaisedAt")
                             and not host.local_participant.attributes.get("handRaisedAt"),
                             what="all lowered")

            # remove
            await admin.remove(me)
            await eventually(lambda: alice.connection_state == "disconnected", what="removed")
            await eventually(lambda: me not in host.remote_participants, what="alice gone")
            with pytest.raises(ApiError) as caught:
                await admin.remove(me)
            assert caught.value.code == "participant_gone"
        finally:
            await alice.disconnect()
            await host.disconnect()
    calls = [c.method for c in visio_contract.livekit_calls]
    assert calls.count("mute_published_track") == 2 and "remove_participant" in calls


async def test_visio_admin_without_a_session_mutes_with_the_token_only(
        visio_contract: VisioContract) -> None:
    """Anyone may mute where ``everyone_can_mute`` (the default); nothing else."""
    visio_contract.add_room(SLUG, "public")
    host, alice = Room(), Room()
    async with visio_client(visio_contract) as bob_client, \
            visio_client(visio_contract) as alice_client:
        bob_access = await bob_client.room(SLUG, "Bob")
        alice_access = await alice_client.room(SLUG, "Alice")
        assert isinstance(bob_access, RoomAccess) and isinstance(alice_access, RoomAccess)
        try:
            await host.connect(bob_access.livekit_url, bob_access.token)
            await alice.connect(alice_access.livekit_url, alice_access.token)
            me = alice.local_participant.identity
            seen = await eventually(lambda: host.remote_participants.get(me), what="alice")
            microphone = await publish_microphone(alice)
            await eventually(lambda: microphone.sid in seen.track_publications, what="mic")
            admin = VisioAdmin(bob_client, bob_access.api_room_id, host,
                               token=lambda: bob_access.token)
            await admin.mute(me)
            await eventually(lambda: microphone.muted, what="alice muted by Bob")
            with pytest.raises(ApiError) as caught:
                await admin.remove(me)
            assert caught.value.code == "unauthorized"
        finally:
            await alice.disconnect()
            await host.disconnect()


async def test_visio_admin_admits_and_denies_waiting_participants(
        visio_contract: VisioContract) -> None:
    owner = await signed_in_owner(visio_contract)
    room_id = visio_contract.add_room(SLUG, "restricted", owner_sub="owner")
    changes: list[list[WaitingParticipant]] = []
    async with owner, visio_client(visio_contract) as jane, visio_client(visio_contract) as mal:
        admin = VisioAdmin(owner, room_id, Room())
        watcher = LobbyWatcher(admin, changes.append, interval_s=0.1)
        assert await admin.list_waiting() == []
        watcher.poke()  # as on joining: one poll, nobody waits, polling stops
        await eventually(lambda: not watcher.polling, what="the first poll")
        try:
            waiting_jane = asyncio.create_task(jane.wait_in_lobby(room_id, "Jane", poll_s=0.2))
            await eventually(lambda: visio_contract.waiting(SLUG), what="a request to enter")
            # as on the participantWaiting notification that follows: poll until nobody waits
            watcher.poke()
            await eventually(lambda: changes and changes[-1], what="jane waiting")
            [entry] = changes[-1]
            assert entry.name == "Jane" and entry.color.startswith("hsl(")
            assert watcher.polling
            await admin.admit(entry.id, True)
            access = await asyncio.wait_for(waiting_jane, 10)
            assert isinstance(access, RoomAccess) and access.room == room_id
            await eventually(lambda: changes[-1] == [], what="nobody waiting")
            await eventually(lambda: not watcher.polling, what="polling stopped")

            waiting_mal = asyncio.create_task(mal.wait_in_lobby(room_id, "Mallory", poll_s=0.2))
            waiting: list[WaitingParticipant] = []
            for _ in range(200):
                waiting = await admin.list_waiting()
                if waiting:
                    break
                await asyncio.sleep(0.05)
            assert [w.name for w in waiting] == ["Mallory"]
            await admin.admit(waiting[0].id, False)
            with pytest.raises(LobbyDenied):
                await asyncio.wait_for(waiting_mal, 10)

            with pytest.raises(ApiError) as caught:  # nobody by that id waits
                await admin.admit("00000000-0000-4000-8000-000000000000", True)
            assert caught.value.code == "participant_gone"
        finally:
            await watcher.close()
    enters = [r for r in visio_contract.requests if r.path.endswith("/enter/")]
    assert [r.status for r in enters] == [200, 200, 404]


# -- roles and who may publish what ---------------------------------------------------------------

def removed_packets(inbox: Inbox) -> list[models.DataPacket]:
    return [p for p in inbox.packets if p.WhichOneof("value") == "user"
            and b"permissionsRemoved" in p.user.payload]


def assert_removed_packet(inbox: Inbox, sender: str, target: str, payload: bytes) -> None:
    """What usePublishSourcesManager → useNotifyParticipants publishes, byte for byte."""
    [packet] = removed_packets(inbox)
    assert packet.participant_identity == sender
    assert packet.kind == models.DataPacket.Kind.RELIABLE
    assert not packet.user.HasField("topic")
    assert target in packet.destination_identities
    assert packet.user.payload == payload
    assert any(isinstance(n, PermissionsRemoved) and n.sender_identity == sender
               for n in inbox.notifications)


async def test_local_admin_limits_publishing_and_sets_roles(
        room_server: ServerThread, local_meeting: tuple[Room, Room, str]) -> None:
    host, bob, token = local_meeting
    inbox = Inbox(bob)
    admin = LocalAdmin(host, room_server.url, token)
    try:
        assert await admin.publish_sources() == list(PUBLISH_SOURCES)
        microphone = await publish_microphone(bob)
        seen = host.remote_participants["bob"]
        await eventually(lambda: microphone.sid in seen.track_publications, what="bob's mic")
        await data_ready(host, bob, inbox)

        # members may now only turn their camera on: the server unpublishes bob's microphone
        assert await admin.set_publish_sources(["camera"]) == ["camera"]
        camera_only = [models.TrackSource.CAMERA]
        await eventually(lambda: bob.local_participant.permission is not None and list(
            bob.local_participant.permission.can_publish_sources) == camera_only,
            what="bob's permission")
        assert bob.local_participant.permission.can_publish
        assert bob.local_participant.permission.can_update_metadata  # the rest is kept
        await eventually(lambda: microphone.sid not in seen.track_publications,
                         what="bob's microphone unpublished")
        await eventually(lambda: removed_packets(inbox), what="the permissionsRemoved packet")
        assert_removed_packet(inbox, "host", "bob", b'{"type":"permissionsRemoved","data":'
                              b'{"removedSources":["microphone","screen_share",'
                              b'"screen_share_audio"]}}')
        # the configuration is in the room metadata, as Visio's backend puts it (§5.2)
        await eventually(lambda: host.metadata, what="room metadata")
        assert json.loads(host.metadata)["configuration"] == {"can_publish_sources": ["camera"]}
        assert await admin.publish_sources() == ["camera"]

        # a role: the room_role attribute, seen by everyone (moderation stays with the host)
        await admin.set_role("bob", "administrator")
        await eventually(lambda: seen.attributes.get("room_role") == "administrator",
                         what="bob administrator for the host")
        await eventually(lambda: bob.local_participant.attributes.get("room_role")
                         == "administrator", what="bob administrator for himself")
        # administrators are not limited: bob keeps his permission, and gets no packet
        assert await admin.set_publish_sources([]) == []
        await asyncio.sleep(0.3)
        assert list(bob.local_participant.permission.can_publish_sources) == camera_only
        assert len(removed_packets(inbox)) == 1
        await admin.set_role("bob", "member")
        await eventually(lambda: seen.attributes.get("room_role") == "member", what="demoted")
        await admin.apply_publish_sources("bob")  # as on joining: the room's limits apply
        await eventually(lambda: not bob.local_participant.permission.can_publish,
                         what="bob may publish nothing")
        assert not bob.local_participant.permission.can_publish_sources

        with pytest.raises(ValueError):
            await admin.set_role("bob", "owner")
        with pytest.raises(ValueError):
            await admin.set_publish_sources(["camera", "whiteboard"])
        with pytest.raises(TwirpError) as gone:
            await admin.set_role("nobody", "administrator")
        assert gone.value.code == "participant_gone"
    finally:
        await admin.close()


async def test_visio_admin_changes_roles_and_publish_sources(
        visio_contract: VisioContract) -> None:
    owner = await signed_in_owner(visio_contract)
    visio_contract.add_user("carl", "carl@example.org", "Carl", "pw")
    room_id = visio_contract.add_room(SLUG, "public", owner_sub="owner",
                                      configuration={"everyone_can_mute": False})
    host, carl, alice = Room(), Room(), Room()
    async with owner, visio_client(visio_contract) as carl_client, \
            visio_client(visio_contract) as guest:
        await carl_client.adopt_session(visio_contract.login("carl"))
        owner_access = await owner.room(SLUG, "Owner")
        carl_access = await carl_client.room(SLUG, "Carl")
        alice_access = await guest.room(SLUG, "Alice")
        assert isinstance(owner_access, RoomAccess) and isinstance(carl_access, RoomAccess)
        assert isinstance(alice_access, RoomAccess)
        admin = VisioAdmin(owner, owner_access.api_room_id, host)
        inbox = Inbox(alice)
        try:
            await host.connect(owner_access.livekit_url, owner_access.token)
            await carl.connect(carl_access.livekit_url, carl_access.token)
            await alice.connect(alice_access.livekit_url, alice_access.token)
            me = alice.local_participant.identity
            seen_carl = await eventually(lambda: host.remote_participants.get("carl"),
                                         what="carl")
            await eventually(lambda: host.remote_participants.get(me), what="alice")
            assert seen_carl.attributes.get("is_authenticated") == "true"

            # promote / demote an authenticated participant
            await admin.set_role("carl", "administrator")
            assert visio_contract.room_info(SLUG)["accesses"]["carl"] == "administrator"
            await eventually(lambda: seen_carl.attributes.get("room_role") == "administrator",
                             what="carl administrator")
            await admin.set_role("carl", "member")
            assert visio_contract.room_info(SLUG)["accesses"]["carl"] == "member"
            await eventually(lambda: seen_carl.attributes.get("room_role") == "member",
                             what="carl member")
            # an anonymous participant cannot get a role: refused before asking Visio
            with pytest.raises(ApiError) as caught:
                await admin.set_role(me, "administrator")
            assert caught.value.code == "not_authenticated"
            assert str(caught.value) == error_message("not_authenticated")
            assert "signed in" in error_message("not_authenticated")
            roles = [r for r in visio_contract.requests
                     if r.path.endswith("/update-participant-role/")]
            assert [(r.method, r.status) for r in roles] == [("POST", 200), ("POST", 200)]

            # who may publish what: PATCH the configuration (the rest kept), then each
            # non-administrator's permission, then the packet
            await data_ready(host, alice, inbox)
            assert await admin.publish_sources() == list(PUBLISH_SOURCES)
            assert await admin.set_publish_sources(["microphone", "camera"]) == \
                ["camera", "microphone"]
            assert visio_contract.room_info(SLUG)["configuration"] == {
                "everyone_can_mute": False, "can_publish_sources": ["camera", "microphone"]}
            patch = next(r for r in visio_contract.requests if r.method == "PATCH")
            assert patch.path == f"/api/v1.0/rooms/{room_id}/" and patch.status == 200
            wanted = [models.TrackSource.CAMERA, models.TrackSource.MICROPHONE]
            for room in (alice, carl):
                await eventually(lambda room=room: room.local_participant.permission
                                 is not None and list(room.local_participant.permission
                                                      .can_publish_sources) == wanted,
                                 what="permission updated")
            assert host.local_participant.permission is not None
            assert len(host.local_participant.permission.can_publish_sources) == 4
            updates = [c.request for c in visio_contract.livekit_calls
                       if c.method == "update_participant" and "permission" in c.request]
            assert sorted(u["identity"] for u in updates) == sorted(["carl", me])
            await eventually(lambda: removed_packets(inbox), what="permissionsRemoved")
            assert_removed_packet(inbox, "owner", me, b'{"type":"permissionsRemoved","data":'
                                  b'{"removedSources":["screen_share","screen_share_audio"]}}')
            assert await admin.publish_sources() == ["camera", "microphone"]
        finally:
            await alice.disconnect()
            await carl.disconnect()
            await host.disconnect()
