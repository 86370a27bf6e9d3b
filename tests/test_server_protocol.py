"""The embedded server's routes, join response and handling of bad input, on raw signalling."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import aiohttp
import pytest
from livekit.protocol import models, rtc

from tests.conftest import API_KEY, API_SECRET, ServerThread
from tests.support.raw_client import RawSignal
from visio_desktop.net.token import VideoGrants, create_token

pytestmark = pytest.mark.timeout(60)


async def _get(url: str, **kwargs: object) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


async def test_routes_and_fallback(room_server: ServerThread) -> None:
    base = room_server.http_url
    token = room_server.token("r", "a")
    status, body, headers = await _get(f"{base}/rtc/validate", params={"access_token": token})
    assert (status, body) == (200, "success")
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, body, headers = await _get(f"{base}/rtc/validate",
                                       headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    status, body, headers = await _get(f"{base}/rtc/validate", params={"access_token": "x.y.z"})
    assert status == 401 and "malformed" in body
    assert headers["Access-Control-Allow-Origin"] == "*"
    # v1 is refused with a 404 so that current clients fall back to /rtc
    status, body, headers = await _get(f"{base}/rtc/v1/validate", params={"access_token": token})
    assert status == 404 and "requested room does not exist" not in body
    assert headers["Access-Control-Allow-Origin"] == "*"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await session.ws_connect(f"{room_server.url}/rtc/v1",
                                     params={"access_token": token})
        assert exc.value.status == 404
    status, _, _ = await _get(f"{base}/rtc", params={"access_token": token})
    assert status == 404  # not a WebSocket upgrade


@pytest.mark.parametrize("case", ["expired", "bad-signature", "unknown-key", "no-room-join",
                                  "garbage", "missing"])
async def test_bad_tokens_get_401(room_server: ServerThread, case: str) -> None:
    grants = VideoGrants(room="r")
    if case == "expired":
        token = create_token(API_KEY, API_SECRET, identity="a", grants=grants,
                             ttl=dt.timedelta(seconds=-120))
    elif case == "bad-signature":
        token = create_token(API_KEY, "another-secret-that-is-long-enough-xx", identity="a",
                             grants=grants)
    elif case == "unknown-key":
        token = create_token("other", API_SECRET, identity="a", grants=grants)
    elif case == "no-room-join":
        token = create_token(API_KEY, API_SECRET, identity="a",
                             grants=VideoGrants(room="r", room_join=False))
    elif case == "garbage":
        token = "not-a-jwt"
    else:
        token = ""
    params = {"access_token": token} if token else {}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await session.ws_connect(f"{room_server.url}/rtc", params=params)
        assert exc.value.status == 401
    status, body, _ = await _get(f"{room_server.http_url}/rtc/validate", params=params)
    assert status == 401 and body
    assert token[:20] not in body or not token  # the token is never echoed
    await _fresh_client_joins(room_server)


async def test_join_response_meets_client_checks(room_server: ServerThread) -> None:
    first = await RawSignal.connect(room_server.url, room_server.token("r", "first"))
    client = await RawSignal.connect(room_server.url, room_server.token("r", "second"),
                                     client_protocol="2",
                                     capabilities="CAP_PACKET_TRAILER,CAP_COMPRESSION_DEFLATE_RAW")
    try:
        message = await client.recv()
        assert message is not None and message.WhichOneof("message") == "join"
        join = message.join
        assert re.fullmatch(r"\d+\.\d+\.\d+", join.server_info.version)
        assert tuple(map(int, join.server_info.version.split("."))) >= (1, 8, 0)
        assert join.ping_interval > 0 and join.ping_timeout > 0
        assert join.room.sid.startswith("RM_") and join.room.name == "r"
        assert join.participant.sid.startswith("PA_")
        assert join.participant.identity == "second"
        assert join.participant.permission.can_publish
        assert join.participant.permission.can_subscribe
        assert join.participant.client_protocol == 2
        assert list(join.participant.capabilities) == [
            models.ClientInfo.Capability.CAP_PACKET_TRAILER,
            models.ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW]
        assert join.subscriber_primary
        assert [p.identity for p in join.other_participants] == ["first"]
        assert {c.mime for c in join.enabled_publish_codecs} >= {"video/VP8", "audio/opus"}
        offer = await client.recv_until("offer")
        assert offer.offer.id >= 1
        assert "m=application" in offer.offer.sdp
        # pings are answered
        await client.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=1234)))
        pong = await client.recv_until("pong_resp")
        assert pong.pong_resp.last_ping_timestamp == 1234
        await client.send(rtc.SignalRequest(ping=99))
        await client.recv_until("pong")
        quality = await client.recv_until("connection_quality")
        by_sid = {u.participant_sid: u for u in quality.connection_quality.updates}
        assert by_sid[join.participant.sid].quality == models.ConnectionQuality.EXCELLENT
        # the first participant hears of the second, with a growing version
        infos: list[models.ParticipantInfo] = []
        while not infos:
            update = await first.recv_until("update")
            infos = [p for p in update.update.participants if p.identity == "second"]
        assert infos[0].version >= 1 and infos[0].sid == join.participant.sid
    finally:
        await client.close()
        await first.close()


async def test_reconnect_is_refused_with_a_reconnect_action(room_server: ServerThread) -> None:
    client = await RawSignal.connect(room_server.url, room_server.token("r", "a"),
                                     reconnect="1", sid="PA_abcdefabcdef")
    try:
        message = await client.recv()
        assert message is not None and message.WhichOneof("message") == "leave"
        assert message.leave.reason == models.DisconnectReason.STATE_MISMATCH
        assert message.leave.action == rtc.LeaveRequest.Action.RECONNECT
    finally:
        await client.close()


async def test_duplicate_identity_replaces_the_old_session(room_server: ServerThread) -> None:
    old = await RawSignal.connect(room_server.url, room_server.token("r", "same"))
    await old.recv_until("join")
    new = await RawSignal.connect(room_server.url, room_server.token("r", "same"))
    try:
        await new.recv_until("join")
        seen = await old.drain_until_closed()
        leaves = [m.leave for m in seen if m.WhichOneof("message") == "leave"]
        assert leaves and leaves[0].reason == models.DisconnectReason.DUPLICATE_IDENTITY
    finally:
        await old.close()
        await new.close()


BAD_SIGNALS = {
    "garbage": b"\xff\xfe\x00garbage\x01\x02",
    "truncated": rtc.SignalRequest(add_track=rtc.AddTrackRequest(
        cid="x" * 40, name="cam")).SerializeToString()[:-7],
    "empty-message": b"",
    "bad-sdp": rtc.SignalRequest(offer=rtc.SessionDescription(
        type="offer", sdp="this is not SDP", id=1)).SerializeToString(),
    "bad-trickle": rtc.SignalRequest(trickle=rtc.TrickleRequest(
        candidateInit="{not json", target=rtc.SignalTarget.PUBLISHER)).SerializeToString(),
}


@pytest.mark.parametrize("case", sorted(BAD_SIGNALS))
async def test_bad_signalling_drops_only_the_offender(room_server: ServerThread,
                                                      case: str) -> None:
    bystander = await RawSignal.connect(room_server.url, room_server.token("r", "bystander"))
    offender = await RawSignal.connect(room_server.url, room_server.token("r", "offender"))
    try:
        await bystander.recv_until("join")
        await offender.recv_until("join")
        await offender.ws.send_bytes(BAD_SIGNALS[case])
        seen = await offender.drain_until_closed()
        kinds = [m.WhichOneof("message") for m in seen]
        errors = [m.request_response for m in seen if m.WhichOneof("message") ==
                  "request_response"]
        assert errors and errors[-1].message, kinds  # a clear error...
        assert "leave" in kinds  # ...then a leave, and the socket is closed
        # the bystander is told the offender left and keeps its own call
        while True:
            update = await bystander.recv_until("update")
            gone = [p for p in update.update.participants if p.identity == "offender" and
                    p.state == models.ParticipantInfo.State.DISCONNECTED]
            if gone:
                break
        await bystander.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=7)))
        await bystander.recv_until("pong_resp")
    finally:
        await offender.close()
        await bystander.close()
    await _fresh_client_joins(room_server)


async def test_text_frame_is_refused(room_server: ServerThread) -> None:
    client = await RawSignal.connect(room_server.url, room_server.token("r", "texter"))
    try:
        await client.recv_until("join")
        await client.ws.send_str('{"join": true}')
        kinds = [m.WhichOneof("message") for m in await client.drain_until_closed()]
        assert "leave" in kinds
    finally:
        await client.close()


async def test_unknown_track_gets_a_not_found(room_server: ServerThread) -> None:
    client = await RawSignal.connect(room_server.url, room_server.token("r", "muter"))
    try:
        await client.recv_until("join")
        await client.send(rtc.SignalRequest(mute=rtc.MuteTrackRequest(sid="TR_nope", muted=True)))
        response = await client.recv_until("request_response")
        assert response.request_response.reason == rtc.RequestResponse.Reason.NOT_FOUND
        assert "TR_nope" in response.request_response.message
        # a benign race (muting a track just unpublished) does not cost the call
        await client.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=1)))
        await client.recv_until("pong_resp")
    finally:
        await client.close()


async def test_publish_without_permission_is_refused(room_server: ServerThread) -> None:
    client = await RawSignal.connect(room_server.url,
                                     room_server.token("r", "viewer", can_publish=False))
    try:
        join = (await client.recv_until("join")).join
        assert not join.participant.permission.can_publish
        await client.send(rtc.SignalRequest(add_track=rtc.AddTrackRequest(
            cid="cam", type=models.TrackType.VIDEO, source=models.TrackSource.CAMERA)))
        response = await client.recv_until("request_response")
        assert response.request_response.reason == rtc.RequestResponse.Reason.NOT_ALLOWED
    finally:
        await client.close()


@pytest.mark.parametrize("case", ["oversized", "malformed", "text"])
async def test_bad_data_packets_drop_only_the_offender(room_server: ServerThread,
                                                       case: str) -> None:
    bystander = await RawSignal.connect(room_server.url, room_server.token("d", "bystander"))
    offender = await RawSignal.connect(room_server.url, room_server.token("d", "offender"))
    try:
        await bystander.recv_until("join")
        await offender.recv_until("join")
        await offender.open_data_channels()
        channel = offender.channels["_reliable"]
        if case == "oversized":
            packet = models.DataPacket(user=models.UserPacket(payload=b"x" * 70_000))
            channel.send(packet.SerializeToString())
        elif case == "malformed":
            channel.send(b"\xff\xff\xff\xff garbage")
        else:
            channel.send("text is not a data packet")
        seen = await offender.drain_until_closed(timeout_s=10)
        kinds = [m.WhichOneof("message") for m in seen]
        assert "leave" in kinds, kinds
        errors = [m.request_response.message for m in seen
                  if m.WhichOneof("message") == "request_response"]
        assert errors and errors[-1], kinds
        await bystander.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=3)))
        await bystander.recv_until("pong_resp")
    finally:
        await offender.close()
        await bystander.close()
    await _fresh_client_joins(room_server)


async def _fresh_client_joins(room_server: ServerThread) -> None:
    client = await RawSignal.connect(room_server.url, room_server.token("r", "fresh"))
    try:
        message = await client.recv()
        assert message is not None and message.WhichOneof("message") == "join"
    finally:
        await client.close()
    await asyncio.sleep(0)


@pytest.mark.timeout(40)
async def test_silent_client_is_dropped_after_the_ping_timeout(room_server: ServerThread) -> None:
    """A client whose network went away (it neither pings nor leaves) is removed, and the
    others are told, once the ping timeout it was given has passed."""
    watcher = await RawSignal.connect(room_server.url, room_server.token("r", "watcher"))
    silent = await RawSignal.connect(room_server.url, room_server.token("r", "silent"))
    try:
        timeout_s = (await silent.recv_until("join")).join.ping_timeout
        await watcher.recv_until("join")
        start = asyncio.get_running_loop().time()

        async def keep_alive() -> None:  # the watcher pings as a live client does
            while True:
                await watcher.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=1)))
                await asyncio.sleep(2)

        pinger = asyncio.ensure_future(keep_alive())
        try:
            while True:
                update = await watcher.recv_until("update", timeout_s=timeout_s + 5)
                if any(p.identity == "silent" and
                       p.state == models.ParticipantInfo.State.DISCONNECTED
                       for p in update.update.participants):
                    break
        finally:
            pinger.cancel()
        elapsed = asyncio.get_running_loop().time() - start
        assert timeout_s - 1 <= elapsed <= timeout_s + 3, elapsed
    finally:
        await silent.close()
        await watcher.close()
