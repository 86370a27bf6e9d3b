"""The official LiveKit Python SDK against our embedded server: media, chat, events, leaks."""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections.abc import AsyncIterator

import pytest
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from livekit import rtc

from tests.conftest import TONE_TOLERANCE, ServerThread
from tests.support.sdk_client import SdkParticipant
from visio_desktop.server.forward import ForwardingPacker

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def pair(room_server: ServerThread) -> AsyncIterator[tuple[SdkParticipant, SdkParticipant]]:
    alice, bob = SdkParticipant("alice"), SdkParticipant("bob")
    await alice.connect(room_server.url, room_server.token("room", "alice"))
    await bob.connect(room_server.url, room_server.token("room", "bob"))
    try:
        yield alice, bob
    finally:
        await alice.disconnect()
        await bob.disconnect()


async def test_two_sdk_clients_exchange_video_and_audio(
        room_server: ServerThread, pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    await alice.publish_pattern(640, 360, fps=15)
    await alice.publish_tone(440)
    await bob.publish_pattern(640, 360, fps=15)
    await bob.publish_tone(660)

    for receiver, sender, freq in ((bob, "alice", 440), (alice, "bob", 660)):
        video = await receiver.wait_for_video(sender, min_decoded=45, timeout_s=30)
        assert video.counter_regressions == 0, receiver.report()
        assert video.decoded >= 0.9 * video.frames, receiver.report()
        assert video.last_counter is not None and video.first_counter is not None
        # the frames decoded are the frames sent: counters move on and the picture matches
        assert video.last_counter - video.first_counter >= 40, receiver.report()
        assert video.min_psnr is not None and video.min_psnr >= 25, receiver.report()
        assert (video.width, video.height) == (640, 360), receiver.report()
        audio = await receiver.wait_for_audio(sender, seconds=2.0)
        tone = audio.tone(1.0)
        # within 3 %: the SDKs' own audio pipelines drift a little under load; a wrong sample
        # rate (44.1 vs 48 kHz: 8 %) or the other participant's tone would still fail
        assert abs(tone.frequency_hz - freq) < TONE_TOLERANCE * freq, (tone, receiver.report())
        assert tone.rms_dbfs > -30, (tone, receiver.report())

    # forwarded, never re-encoded: every subscriber sender only packetizes
    def encoders() -> list[object]:
        return [sub.transceiver.sender._RTCRtpSender__encoder
                for session in room_server.server.sessions()
                for sub in session.subscriptions.values()]

    found = await room_server.acall(lambda: _async(encoders))
    assert len(found) == 4
    assert all(isinstance(e, ForwardingPacker) for e in found), found
    assert not any(isinstance(e, (Vp8Encoder, H264Encoder, OpusEncoder)) for e in found)


async def test_active_speakers_follow_audio(pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    await alice.publish_tone(440)
    event = await bob.wait_for_event(
        "active_speakers_changed", timeout_s=10, match=lambda e: "alice" in e.data["identities"])
    assert event.data["identities"] == ["alice"]


async def test_chat_between_sdk_clients(room_server: ServerThread,
                                        pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    carol = SdkParticipant("carol")
    await carol.connect(room_server.url, room_server.token("room", "carol"))
    try:
        await carol.wait_for_participant("alice")
        await alice.send_chat("bonjour à tous")
        for who in (bob, carol):
            msg = await who.wait_for_chat("bonjour à tous", sender="alice")
            assert not msg.legacy
        await bob.send_legacy_chat("legacy hello")
        for who in (alice, carol):
            msg = await who.wait_for_chat("legacy hello", sender="bob")
            assert msg.legacy
        # destination identities: only carol gets it
        await alice.send_chat("for carol only", destination_identities=["carol"])
        await carol.wait_for_chat("for carol only", sender="alice")
        await alice.send_legacy_chat("legacy for carol", destination_identities=["carol"])
        await carol.wait_for_chat("legacy for carol", sender="alice")
        # a long message travels as a chunked text stream (header, chunks, trailer)
        noise = base64.b64encode(random.Random(7).randbytes(36_000)).decode()  # incompressible
        long_text = "é à ç ✓ " + noise
        assert len(long_text.encode()) > 3 * 15_000
        await bob.send_chat(long_text)
        msg = await alice.wait_for_chat(long_text, sender="bob", timeout_s=15)
        assert not msg.legacy
        await asyncio.sleep(1.0)
        assert not [m for m in bob.chat if "carol" in m.text], bob.chat
    finally:
        await carol.disconnect()


async def test_mute_unpublish_and_leave_seen_within_a_second(
        room_server: ServerThread, pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    video = await alice.publish_pattern(320, 180, fps=10, simulcast=False)
    audio = await alice.publish_tone(440)
    await bob.wait_for_video("alice", min_decoded=5)

    start = time.monotonic()
    await alice.set_muted(audio.sid, True)
    event = await bob.wait_for_event("track_muted", since=start,
                                     match=lambda e: e.data["sid"] == audio.sid)
    assert event.at - start < 1.0

    start = time.monotonic()
    await alice.set_muted(audio.sid, False)
    event = await bob.wait_for_event("track_unmuted", since=start,
                                     match=lambda e: e.data["sid"] == audio.sid)
    assert event.at - start < 1.0

    start = time.monotonic()
    await alice.unpublish(video.sid)
    event = await bob.wait_for_event("track_unpublished", since=start,
                                     match=lambda e: e.data["sid"] == video.sid)
    assert event.at - start < 1.0

    start = time.monotonic()
    await alice.disconnect()
    event = await bob.wait_for_event("participant_disconnected", since=start,
                                     match=lambda e: e.data["identity"] == "alice")
    assert event.at - start < 1.0
    counts = await room_server.acall(lambda: _async(room_server.server.counts))
    assert counts["participants"] == 1
    assert counts["down_tracks"] == 0


async def test_join_leave_cycles_leave_nothing_behind(room_server: ServerThread) -> None:
    host = SdkParticipant("host")
    await host.connect(room_server.url, room_server.token("cycles", "host"))
    try:
        await host.publish_pattern(320, 180, fps=10, simulcast=False)
        await host.publish_tone(440)

        async def host_alone_tasks() -> int:
            # the host's connections are up and its tracks are flowing before we count
            for _ in range(100):
                session = room_server.server.sessions()[0]
                if len(session.published) == 2 and all(
                        t.forwarder and t.forwarder.stats.packets_in > 20
                        for t in session.published.values()):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            return _task_count()

        baseline_tasks = await room_server.acall(host_alone_tasks)
        for i in range(20):
            guest = SdkParticipant(f"guest{i}")
            await guest.connect(room_server.url, room_server.token("cycles", f"guest{i}"))
            if i % 5 == 0:  # now and then make sure media really flowed before leaving
                await guest.wait_for_video("host", min_decoded=3)
                await guest.publish_tone(500)
                await host.wait_for_audio(f"guest{i}", seconds=0.2)
            await guest.disconnect()
        await host.wait_for(
            lambda: len(host.remote_identities()) == 0, 10, what="all guests gone")

        async def settled() -> dict[str, int]:
            for _ in range(50):
                counts = room_server.server.counts()
                if counts["participants"] == 1 and counts["down_tracks"] == 0:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            counts = room_server.server.counts()
            counts["tasks"] = _task_count()
            names = sorted(t.get_coro().__qualname__ for t in asyncio.all_tasks())
            counts["task_names"] = names  # type: ignore[assignment]
            session = room_server.server.sessions()[0]
            transceivers = session.subscriber.getTransceivers()
            counts["host_transceivers_sending"] = sum(
                1 for t in transceivers if t.direction != "inactive")
            counts["host_transceivers"] = len(transceivers)
            return counts

        counts = await room_server.acall(settled)
        assert counts["participants"] == 1, counts
        assert counts["session_tasks"] == 1, counts
        assert counts["peer_connections"] == 2, counts  # the host's two
        assert counts["forwarders"] == 2, counts  # the host's video and audio
        assert counts["down_tracks"] == 0, counts
        assert counts["host_transceivers_sending"] == 0, counts
        # the host subscribed to four guests' microphones in turn: one m-line, reused
        assert counts["host_transceivers"] == 1, counts
        # asyncio tasks on the server loop come back to what they were with the host alone,
        # but for the idle sender of that m-line (its RTP and RTCP loops), kept for reuse
        assert counts["tasks"] <= baseline_tasks + 2, " ".join(counts["task_names"])
    finally:
        await host.disconnect()


async def test_grants_are_enforced(room_server: ServerThread) -> None:
    viewer = SdkParticipant("viewer")
    mute_data = SdkParticipant("quiet")
    hidden = SdkParticipant("ghost")
    host = SdkParticipant("host")
    await host.connect(room_server.url, room_server.token("g", "host"))
    await viewer.connect(room_server.url, room_server.token("g", "viewer", can_publish=False))
    await mute_data.connect(room_server.url,
                            room_server.token("g", "quiet", can_publish_data=False))
    await hidden.connect(room_server.url, room_server.token("g", "ghost", hidden=True))
    try:
        await host.wait_for_participant("viewer")
        await host.wait_for_participant("quiet")
        # a token without canPublish cannot publish
        with pytest.raises(Exception):  # noqa: B017 - the SDK raises its own error types
            await asyncio.wait_for(viewer.publish_tone(440), 15)
        # a token without canPublishData sends nothing that arrives
        await mute_data.send_chat("should not arrive")
        await mute_data.send_legacy_chat("should not arrive either")
        await host.send_chat("data still flows")
        await viewer.wait_for_chat("data still flows", sender="host")
        await asyncio.sleep(1.0)
        assert not [m for m in host.chat if m.sender == "quiet"], host.chat
        # hidden participants are not listed, yet receive media
        assert "ghost" not in host.remote_identities()
        assert "ghost" not in viewer.remote_identities()
        await host.publish_tone(440)
        await hidden.wait_for_audio("host", seconds=0.5)
        sources_only = SdkParticipant("mic-only")
        await sources_only.connect(room_server.url, room_server.token(
            "g", "mic-only", can_publish_sources=["microphone"]))
        try:
            await sources_only.publish_tone(300)
            with pytest.raises(Exception):  # noqa: B017
                await asyncio.wait_for(sources_only.publish_pattern(320, 180), 15)
            await host.wait_for_audio("mic-only", seconds=0.3)
        finally:
            await sources_only.disconnect()
    finally:
        for p in (viewer, mute_data, hidden, host):
            await p.disconnect()


async def test_screen_share_and_camera_from_one_sdk_client(
        pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    await alice.publish_pattern(640, 360, fps=10, simulcast=False)
    await alice.publish_pattern(640, 360, fps=10, simulcast=False,
                                source=rtc.TrackSource.SOURCE_SCREENSHARE)
    camera = await bob.wait_for_video("alice", min_decoded=10,
                                      source=rtc.TrackSource.SOURCE_CAMERA)
    screen = await bob.wait_for_video("alice", min_decoded=10,
                                      source=rtc.TrackSource.SOURCE_SCREENSHARE)
    assert camera.track_sid != screen.track_sid
    assert camera.counter_regressions == 0 and screen.counter_regressions == 0, bob.report()


def _task_count() -> int:
    return len(asyncio.all_tasks())


async def _async(fn):  # type: ignore[no-untyped-def]
    return fn()


async def test_rpc_and_transcriptions_pass_through(
        room_server: ServerThread, pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    assert alice.room is not None and bob.room is not None

    def shout(data: rtc.RpcInvocationData) -> str:
        return f"{data.caller_identity} said {data.payload.upper()}"

    bob.room.local_participant.register_rpc_method("shout", shout)
    answer = await alice.room.local_participant.perform_rpc(
        destination_identity="bob", method="shout", payload="salut", response_timeout=10)
    assert answer == "alice said SALUT"

    audio = await alice.publish_tone(440)
    got: list[tuple[str, str, bool]] = []
    bob.room.on("transcription_received", lambda segments, participant, publication: got.extend(
        (participant.identity if participant else "", s.text, s.final) for s in segments))
    await alice.room.local_participant.publish_transcription(rtc.Transcription(
        participant_identity="alice", track_sid=audio.sid, segments=[rtc.TranscriptionSegment(
            id="SG_1", text="bonjour le monde", start_time=0, end_time=0, language="fr",
            final=True)]))
    await bob.wait_for(lambda: got, 10, what="transcription")
    assert got == [("alice", "bonjour le monde", True)]
    rooms = await room_server.acall(lambda: _async(room_server.server.list_rooms))
    assert [(r.name, sorted(r.participants)) for r in rooms] == [("room", ["alice", "bob"])]


async def test_h264_is_forwarded(pair: tuple[SdkParticipant, SdkParticipant]) -> None:
    alice, bob = pair
    await alice.publish_pattern(640, 360, fps=15, simulcast=False, codec=rtc.VideoCodec.H264)
    video = await bob.wait_for_video("alice", min_decoded=30, timeout_s=30)
    assert video.counter_regressions == 0, bob.report()
    assert video.min_psnr is not None and video.min_psnr >= 25, bob.report()
    assert (video.width, video.height) == (640, 360), bob.report()
    assert bob.room is not None
    publication = next(iter(bob.room.remote_participants["alice"].track_publications.values()))
    assert publication.mime_type.lower() == "video/h264"
