"""A meeting hosted on this computer, joined by its link as a Visio room is joined."""

from __future__ import annotations

import aiohttp

from visio_desktop.local_meeting import LocalMeeting
from visio_desktop.net.links import parse_link
from visio_desktop.net.room import Room
from visio_desktop.net.token import verify_token
from visio_desktop.net.visio_api import ApiError, fetch_room


async def test_guest_joins_by_link() -> None:
    meeting = LocalMeeting(lan=False, port=0)
    await meeting.start()
    host, guest = Room(), Room()
    try:
        assert meeting.server is not None and meeting.meeting is not None
        link = parse_link(meeting.link)
        assert link.slug == meeting.meeting.slug and link.is_local_network
        access = await fetch_room(link, "Guest <b>")
        assert access.room == meeting.meeting.room  # a UUID, not the slug, as in Visio
        claims = verify_token(access.token, meeting.server.keys)
        assert claims.name == "Guest <b>" and claims.attributes["room_role"] == "member"
        assert not claims.video.room_admin

        await host.connect(meeting.local_url, meeting.host_token("Host"))
        assert host.local_participant.attributes["room_role"] == "owner"
        await guest.connect(access.livekit_url, access.token)
        assert {p.name for p in host.remote_participants.values()} == {"Guest <b>"}

        async with aiohttp.ClientSession() as session:
            async with session.get(f"{link.instance}/api/v1.0/config/") as response:
                config = await response.json()
        assert config["livekit"]["url"] == access.livekit_url

        unknown = parse_link(f"{link.instance}/zzz-zzzz-zzz")
        try:
            await fetch_room(unknown, "x")
        except ApiError as exc:
            assert "does not exist" in str(exc)
        else:
            raise AssertionError("an unknown meeting code was served")
    finally:
        await guest.disconnect()
        await host.disconnect()
        await meeting.stop()
