"""Our LiveKit client (``visio_desktop.net.Room``) against our server, with official clients."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from livekit import rtc

from tests.conftest import TONE_TOLERANCE, ServerThread
from tests.support.sdk_client import SdkParticipant
from visio_desktop.headless import HeadlessOptions, HeadlessParticipant
from visio_desktop.media.sinks import AudioSink, VideoSink
from visio_desktop.media.synthetic_tracks import PatternVideoTrack, ToneAudioTrack
from visio_desktop.net.data import build_reaction
from visio_desktop.net.participant import RemoteParticipant, RemoteTrackPublication
from visio_desktop.net.room import Room

pytestmark = pytest.mark.timeout(120)


class Client:
    """One of our Rooms with sinks on whatever it receives and a log of its events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.room = Room()
        self.sinks: dict[tuple[str, str], VideoSink | AudioSink] = {}
        self.events: list[tuple[float, str, str, str]] = []  # (time, event, identity, source)
        self.room.on("track_subscribed", self._subscribed)
        for event in ("track_muted", "track_unmuted", "track_unpublished"):
            self.room.on(event, lambda pub, p, event=event: self.events.append(
                (time.monotonic(), event, p.identity, pub.source)))
        self.room.on("participant_disconnected", lambda p: self.events.append(
            (time.monotonic(), "participant_disconnected", p.identity, "")))
        self.room.on("reconnected", lambda: self.events.append(
            (time.monotonic(), "reconnected", "", "")))

    def _subscribed(self, track: Any, pub: RemoteTrackPublication,
                    participant: RemoteParticipant) -> None:
        sink: VideoSink | AudioSink = VideoSink(track) if track.kind == "video" \
            else AudioSink(track)
        sink.start()
        self.sinks[(participant.identity, pub.source)] = sink

    async def wait_event(self, event: str, identity: str, since: float,
                         timeout_s: float = 5.0) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for at, name, who, _ in self.events:
                if name == event and who == identity and at >= since:
                    return at - since
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.name}: no {event} from {identity}: {self.events}")

    async def wait_video(self, identity: str, source: str, frames: int = 20,
                         timeout_s: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            sink = self.sinks.get((identity, source))
            if isinstance(sink, VideoSink) and sink.report()["pattern_decoded"] >= frames:
                return sink.report()
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name}: {frames} decoded frames of {identity}/{source} "
                             f"never came: {self.reports()}")

    async def wait_audio(self, identity: str, seconds: float = 1.0) -> dict[str, Any]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sink = self.sinks.get((identity, "microphone"))
            if isinstance(sink, AudioSink) and sink.seconds_received >= seconds:
                return sink.report()
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name}: no audio from {identity}: {self.reports()}")

    def reports(self) -> dict[str, Any]:
        return {f"{k[0]}/{k[1]}": v.report() for k, v in self.sinks.items()}

    async def close(self) -> None:
        for sink in self.sinks.values():
            sink.stop()
        await self.room.disconnect()


def _assert_pattern(report: dict[str, Any]) -> None:
    assert report["counter_regressions"] == 0, report
    assert report["pattern_decoded"] >= 0.9 * report["pattern_checked"], report
    assert report["psnr_db"]["min"] is None or report["psnr_db"]["min"] >= 25, report


async def test_our_client_and_the_official_sdk_exchange_camera_screen_and_audio(
        room_server: ServerThread) -> None:
    sdk = SdkParticipant("sdk")
    ours = Client("ours")
    await sdk.connect(room_server.url, room_server.token("mix", "sdk"))
    await ours.room.connect(room_server.url, room_server.token("mix", "ours"))
    try:
        await sdk.publish_pattern(640, 360, fps=15, simulcast=True)
        await sdk.publish_tone(660)
        await sdk.publish_pattern(640, 360, fps=10, simulcast=False,
                                  source=rtc.TrackSource.SOURCE_SCREENSHARE)
        await ours.room.publish_track(PatternVideoTrack(640, 360, 15), "camera")
        await ours.room.publish_track(ToneAudioTrack(440), "microphone")
        await ours.room.publish_track(
            PatternVideoTrack(640, 360, 10, source="screen_share"), "screen_share")

        # what the official client sees of us: the right sources, decodable frames, the tone
        camera = await sdk.wait_for_video("ours", min_decoded=20, timeout_s=30,
                                      source=rtc.TrackSource.SOURCE_CAMERA)
        screen = await sdk.wait_for_video("ours", min_decoded=10, timeout_s=30,
                                      source=rtc.TrackSource.SOURCE_SCREENSHARE)
        for stats in (camera, screen):
            assert stats.counter_regressions == 0, sdk.report()
            assert (stats.width, stats.height) == (640, 360), sdk.report()
        tone = (await sdk.wait_for_audio("ours", seconds=1.5)).tone(1.0)
        # (a sample-rate mistake would be off by 36 Hz or more; load can smear the peak a little)
        assert abs(tone.frequency_hz - 440) < TONE_TOLERANCE * 440, tone
        # what we see of the official client
        for source in ("camera", "screen_share"):
            _assert_pattern(await ours.wait_video("sdk", source, frames=10))
        audio = await ours.wait_audio("sdk", seconds=1.5)
        assert abs(audio["tone"]["frequency_hz"] - 660) < TONE_TOLERANCE * 660, audio
    finally:
        await ours.close()
        await sdk.disconnect()


async def test_three_of_our_clients_see_everything_and_every_change(
        room_server: ServerThread) -> None:
    clients = [Client(name) for name in ("ana", "ben", "cha")]
    for client in clients:
        await client.room.connect(room_server.url, room_server.token("three", client.name))
    try:
        mics = {}
        for client in clients:
            await client.room.publish_track(PatternVideoTrack(320, 180, 10), "camera")
            mics[client.name] = await client.room.publish_track(ToneAudioTrack(440), "microphone")
        screen = await clients[0].room.publish_track(
            PatternVideoTrack(640, 360, 5, source="screen_share"), "screen_share")
        for client in clients:
            for other in clients:
                if other is client:
                    continue
                _assert_pattern(await client.wait_video(other.name, "camera", frames=8))
                await client.wait_audio(other.name, seconds=0.5)
            if client is not clients[0]:
                _assert_pattern(await client.wait_video("ana", "screen_share", frames=4))

        start = time.monotonic()
        await clients[1].room.set_muted(mics["ben"].sid, True)
        for watcher in (clients[0], clients[2]):
            assert await watcher.wait_event("track_muted", "ben", start) < 1.0
        start = time.monotonic()
        await clients[1].room.set_muted(mics["ben"].sid, False)
        for watcher in (clients[0], clients[2]):
            assert await watcher.wait_event("track_unmuted", "ben", start) < 1.0
        start = time.monotonic()
        await clients[0].room.unpublish_track(screen.sid)
        for watcher in clients[1:]:
            assert await watcher.wait_event("track_unpublished", "ana", start) < 1.0
        start = time.monotonic()
        await clients[2].close()
        for watcher in clients[:2]:
            assert await watcher.wait_event("participant_disconnected", "cha", start) < 1.0
    finally:
        for client in clients:
            await client.close()


async def test_rejoins_after_the_server_drops_the_connection(room_server: ServerThread) -> None:
    sdk = SdkParticipant("sdk")
    ours = Client("ours")
    await sdk.connect(room_server.url, room_server.token("drop", "sdk"))
    await ours.room.connect(room_server.url, room_server.token("drop", "ours"))
    try:
        await sdk.publish_pattern(320, 180, fps=10, simulcast=False)
        await ours.room.publish_track(PatternVideoTrack(320, 180, 10), "camera")
        await ours.wait_video("sdk", "camera", frames=5)
        await sdk.wait_for_video("ours", min_decoded=5)
        await sdk.send_chat("avant la coupure")
        await ours.room.send_chat("moi aussi")
        await sdk.wait_for(lambda: len(ours.room.chat_history) >= 2, 10, what="chat history")

        async def drop() -> None:
            for session in room_server.server.sessions():
                if session.identity == "ours":
                    await session.ws.close()

        # our camera before the drop (the republished one may arrive before we look for it)
        old_tracks = {stats.track_sid for stats in sdk.video_from("ours")}
        start = time.monotonic()
        await room_server.acall(drop)
        assert await ours.wait_event("reconnected", "", start, timeout_s=5.0) < 5.0
        assert ours.room.reconnects == 1
        # the conversation so far is still there
        assert sorted((m.sender_identity, m.text) for m in ours.room.chat_history) == [
            ("ours", "moi aussi"), ("sdk", "avant la coupure")]
        # media flows again both ways, on new subscriptions and a republished camera
        await ours.wait_video("sdk", "camera", frames=5)

        def new_track() -> bool:
            return any(stats.track_sid not in old_tracks and stats.decoded >= 5
                       for stats in sdk.video_from("ours"))
        try:
            await sdk.wait_for(new_track, 15, what="our republished camera")
        except TimeoutError as exc:
            events = [(e.kind, e.data) for e in sdk.events[-12:]]
            raise AssertionError(f"{exc}\n{sdk.report()}\nlast events: {events}") from None
    finally:
        await ours.close()
        await sdk.disconnect()


async def test_headless_participant_reports_what_it_received(room_server: ServerThread) -> None:
    sdk = SdkParticipant("sdk")
    await sdk.connect(room_server.url, room_server.token("hl", "sdk"))
    try:
        await sdk.publish_pattern(320, 180, fps=10, simulcast=False)
        await sdk.publish_tone(550)
        participant = HeadlessParticipant(HeadlessOptions(
            url=room_server.http_url, token=room_server.token("hl", "bot"), duration_s=4,
            width=320, height=180, fps=10, screen="test-pattern"))
        report = await participant.run()
        assert report["joined"] and report["left_cleanly"] and not report["errors"], report
        assert report["join_ms"] < 5000
        assert len(report["published"]) == 3
        by_kind = {t["kind"]: t for t in report["remote_tracks"]}
        assert by_kind["video"]["participant"] == "sdk"
        assert by_kind["video"]["pattern_decoded"] >= 10, report
        assert by_kind["video"]["first_frame_ms"] is not None
        assert by_kind["video"]["latency_ms"]["median"] < 1000, report
        assert abs(by_kind["audio"]["tone"]["frequency_hz"] - 550) < TONE_TOLERANCE * 550, report
        sources = {s.source for s in sdk.video.values()}
        assert sources == {rtc.TrackSource.SOURCE_CAMERA, rtc.TrackSource.SOURCE_SCREENSHARE}
    finally:
        await sdk.disconnect()


async def test_chat_reactions_and_captions_with_the_official_sdk(
        room_server: ServerThread) -> None:
    sdk = SdkParticipant("agent")
    ours = Client("ours")
    chats: list[Any] = []
    reactions: list[Any] = []
    captions: list[Any] = []
    ours.room.on("chat_message", chats.append)
    ours.room.on("reaction_received", reactions.append)
    ours.room.on("caption_received", captions.append)
    await sdk.connect(room_server.url, room_server.token("talk", "agent"))
    await ours.room.connect(room_server.url, room_server.token("talk", "ours"))
    try:
        await sdk.wait_for_participant("ours")

        async def until(items: list[Any], count: int, what: str) -> None:
            deadline = time.monotonic() + 10
            while len(items) < count:
                assert time.monotonic() < deadline, f"{what}: {items}"
                await asyncio.sleep(0.05)

        # chat, both formats, both ways
        await sdk.send_chat("bonjour depuis le SDK")
        await sdk.send_legacy_chat("ancien format")
        await until(chats, 2, "chat from the SDK")
        assert [(m.sender_identity, m.text) for m in chats] == [
            ("agent", "bonjour depuis le SDK"), ("agent", "ancien format")]
        sent = await ours.room.send_chat("bonjour à vous ✓")
        received = await sdk.wait_for(lambda: [
            m for m in sdk.chat if m.sender == "ours" and not m.legacy], 10, what="stream copy")
        assert [(m.text, m.id) for m in received] == [("bonjour à vous ✓", sent.id)]
        # the legacy copy goes too, marked for receivers that read the stream to skip
        legacy = [m for m in sdk.chat if m.sender == "ours" and m.legacy]
        assert all(m.ignore_legacy and m.id == sent.id for m in legacy), legacy
        # a Visio reaction, as the web app sends it
        packet = build_reaction("party-popper")
        await sdk.send_data(packet.user.payload, topic=packet.user.topic)
        await until(reactions, 1, "reaction")
        assert (reactions[0].sender_identity, reactions[0].emoji) == ("agent", "party-popper")
        # not one of the 8: ignored, the call goes on
        await sdk.send_data(b'{"type": "reactionReceived", "data": {"emoji": "pile-of-poo"}}',
                            topic=packet.user.topic)
        await sdk.send_data(b"not json at all", topic=packet.user.topic)
        # captions from an agent: a legacy packet for the first utterance...
        mic = await sdk.publish_tone(440)
        assert sdk.room is not None
        await sdk.room.local_participant.publish_transcription(rtc.Transcription(
            participant_identity="agent", track_sid=mic.sid, segments=[rtc.TranscriptionSegment(
                id="SG_legacy", text="première phrase", start_time=0, end_time=0,
                language="fr", final=True)]))
        await until(captions, 1, "legacy caption")
        # ...then lk.transcription streams, interim then final
        for text, final in (("deuxième", "false"), ("deuxième phrase", "true")):
            await sdk.room.local_participant.send_text(
                text, topic="lk.transcription", attributes={
                    "lk.transcribed_track_id": mic.sid, "lk.segment_id": "SG_2",
                    "lk.transcription_final": final})
        await until(captions, 3, "stream captions")
        assert [(c.speaker_identity, c.text, c.final) for c in captions] == [
            ("agent", "première phrase", True), ("agent", "deuxième", False),
            ("agent", "deuxième phrase", True)]
        assert len(reactions) == 1
        assert ours.room.connection_state == "connected"
        assert [m.text for m in ours.room.chat_history][-1] == "bonjour à vous ✓"
    finally:
        await ours.close()
        await sdk.disconnect()


async def test_unsubscribe_and_subscribe_again(room_server: ServerThread) -> None:
    sdk = SdkParticipant("sdk")
    ours = Client("ours")
    await sdk.connect(room_server.url, room_server.token("sub", "sdk"))
    await ours.room.connect(room_server.url, room_server.token("sub", "ours"))
    try:
        published = await sdk.publish_pattern(320, 180, fps=10, simulcast=False)
        await ours.wait_video("sdk", "camera", frames=5)
        unsubscribed: list[str] = []
        ours.room.on("track_unsubscribed", lambda track, pub, p: unsubscribed.append(pub.sid))
        ours.room.set_subscribed(published.sid, False)
        assert unsubscribed == [published.sid]

        async def server_forwards_to_us() -> int:
            return sum(1 for s in room_server.server.sessions() if s.identity == "ours"
                       for sid in s.subscriptions if sid == published.sid)

        deadline = time.monotonic() + 5
        while await room_server.acall(server_forwards_to_us):
            assert time.monotonic() < deadline, "the server still forwards the track"
            await asyncio.sleep(0.1)
        ours.sinks.clear()
        ours.room.set_subscribed(published.sid, True)
        await ours.wait_video("sdk", "camera", frames=5)
    finally:
        await ours.close()
        await sdk.disconnect()
