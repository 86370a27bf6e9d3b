"""What a Visio web participant sees of us, checked on an official-SDK participant in the
same Visio meeting (the contract server as the instance): hand raise and rename as the
backend sets them, reactions and the "you were muted" notice as the web app sends them — the
exact bytes and attributes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from tests.support.sdk_client import SdkParticipant
from tests.support.visio_contract import VisioContract
from visio_desktop.call import Call, MediaOptions
from visio_desktop.net.links import MeetingLink
from visio_desktop.net.room_admin import VisioAdmin
from visio_desktop.net.visio_api import VisioClient, VisioServices

SYNTHETIC = MediaOptions(camera="none", microphone="tone", speaker="none")


async def _until(predicate, what: str, timeout_s: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_what_a_web_participant_sees(visio_contract: VisioContract) -> None:
    visio_contract.add_user("sub-owner", "claire@example.gouv.fr", "Claire Dupont", "pw")
    visio_contract.add_room("web-form-ats", "public", owner_sub="sub-owner")
    link = MeetingLink(visio_contract.url, "web-form-ats")

    # the web participant (official SDK), joined through the same API
    async with VisioClient.for_link(link) as web_client:
        web_access = await web_client.join("web-form-ats", "Web user")
    web = SdkParticipant("web")

    # us: signed in as the room's owner
    client = VisioClient.for_link(link)
    await client.adopt_session(visio_contract.login("sub-owner"))
    call = Call(SYNTHETIC)
    try:
        await web.connect(web_access.livekit_url, web_access.token)
        mic = await web.publish_tone(440)
        access = await client.join("web-form-ats", "Claire")
        services = VisioServices.for_access(client, access)
        services.attach(call)
        call.renamer = services.rename
        await call.join(access.livekit_url, access.token)
        me = call.room.local_participant.identity
        await web.wait_for_participant(me)

        # hand raise: the backend sets the attribute handRaisedAt (ISO-8601), as for the web
        await call.set_hand_raised(True)
        raised = await _until(lambda: [e for e in web.events_of("participant_attributes_changed")
                                       if e.data["identity"] == me
                                       and e.data["changed"].get("handRaisedAt")], "hand")
        datetime.fromisoformat(raised[-1].data["changed"]["handRaisedAt"].replace("Z", "+00:00"))
        await call.set_hand_raised(False)
        await _until(lambda: [e for e in web.events_of("participant_attributes_changed")
                              if e.data["identity"] == me
                              and e.data["changed"].get("handRaisedAt") == ""], "hand down")

        # rename: through the backend, seen as a name change
        await call.rename("Claire D.")
        await _until(lambda: [e for e in web.events_of("participant_name_changed")
                              if e.data["identity"] == me and e.data["name"] == "Claire D."],
                     "rename")

        # reaction: a JSON data packet with no topic, reliable, exactly the web app's bytes
        await call.send_reaction("thumbs-up")
        packet = await _until(lambda: [d for d in web.data if d.sender == me], "reaction")
        assert packet[0].topic == "" and packet[0].reliable
        assert json.loads(packet[0].data) == {"type": "reactionReceived",
                                              "data": {"emoji": "thumbs-up"}}

        # admin mute: the web participant's microphone is muted by the server, and it gets the
        # web app's notice, addressed to it alone
        call.set_admin(VisioAdmin(client, access.api_room_id, call.room,
                                  token=lambda: access.token))
        await _until(lambda: call.room.remote_participants.get(web.identity) and any(
            p.source == "microphone" for p in
            call.room.remote_participants[web.identity].track_publications.values()),
            "the web participant's microphone")
        await call.mute_participant(web.identity)
        await _until(lambda: [e for e in web.events_of("track_muted")
                              if e.data.get("sid") == mic.sid or
                              e.data.get("identity") == web.identity], "muted")
        notices = await _until(lambda: [d for d in web.data if d.sender == me
                                        and b"participantMuted" in d.data], "mute notice")
        assert json.loads(notices[0].data) == {"type": "participantMuted"}
        assert notices[0].topic == "" and notices[0].reliable
    finally:
        await call.leave()
        await web.disconnect()
        await client.close()
