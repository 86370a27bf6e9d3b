"""The Call facade against the embedded server: what the UI will render, with synthetic media."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from tests.conftest import ServerThread
from visio_desktop.call import Call, MediaOptions
from visio_desktop.call_state import (
    LOCAL_CAMERA,
    CallEvent,
    CallSnapshot,
    ChatReceived,
    ReactionReceived,
    SnapshotChanged,
)


def synthetic() -> MediaOptions:
    return MediaOptions(camera="test-pattern", microphone="tone", speaker="none",
                        camera_preset="180p")


class Recorder:
    def __init__(self, call: Call) -> None:
        self.events: list[CallEvent] = []
        call.subscribe(self.events.append)
        self.call = call

    async def until(self, predicate: Callable[[CallSnapshot], bool],
                    timeout_s: float = 15.0) -> CallSnapshot:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate(self.call.snapshot):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"snapshot never matched: {self.call.snapshot}")
            await asyncio.sleep(0.05)
        return self.call.snapshot

    def of(self, kind: type) -> list[CallEvent]:
        return [e for e in self.events if isinstance(e, kind)]


async def test_two_calls_see_each_other(room_server: ServerThread) -> None:
    alice, bob = Call(synthetic()), Call(synthetic())
    ra, rb = Recorder(alice), Recorder(bob)
    grants = {"can_update_own_metadata": True}
    try:
        await alice.start_preview()
        await asyncio.sleep(0.3)
        assert alice.frames.frame_count(LOCAL_CAMERA) > 0  # the pre-join preview is live
        await alice.join(room_server.url, room_server.token("r", "alice", "Alice", **grants))
        await bob.join(room_server.url, room_server.token("r", "bob", "Bob", **grants))

        snap = await ra.until(lambda s: len(s.participants) == 2
                              and s.participants[1].camera_key is not None
                              and not s.participants[1].microphone_muted)
        assert [p.display_name for p in snap.participants] == ["Alice", "Bob"]
        assert snap.participants[0].is_local and snap.participants[0].camera_key == LOCAL_CAMERA
        key = snap.participants[1].camera_key
        assert key is not None
        for _ in range(100):
            if alice.frames.frame_count(key) > 5:
                break
            await asyncio.sleep(0.05)
        image = alice.frames.latest(key, 160, 90)
        assert image is not None and (image.width, image.height) == (160, 90)
        pixels = np.frombuffer(image.data, np.uint8)
        assert pixels.std() > 10  # a real picture, not a blank

        # the local preview is mirrored, what was sent is not: compare Bob's view of Alice
        await bob.set_microphone(False)
        await ra.until(lambda s: s.participants[1].microphone_muted)

        entry = await bob.send_chat("bonjour <b>tous</b>")
        for _ in range(100):
            if ra.of(ChatReceived):
                break
            await asyncio.sleep(0.05)
        received = ra.of(ChatReceived)[0]
        assert isinstance(received, ChatReceived)
        assert received.entry.text == "bonjour <b>tous</b>" and received.entry.sender_name == "Bob"
        assert received.entry.id == entry.id and not received.entry.is_local

        await bob.set_hand_raised(True)
        snap = await ra.until(lambda s: s.participants[1].hand_raised_at is not None)
        assert [p.identity for p in snap.raised_hands] == ["bob"]
        await rb.until(lambda s: s.local.hand_raised)

        await bob.send_reaction("thumbs-up")
        for _ in range(100):
            if ra.of(ReactionReceived):
                break
            await asyncio.sleep(0.05)
        reaction = ra.of(ReactionReceived)[0]
        assert isinstance(reaction, ReactionReceived)
        assert reaction.reaction.emoji == "thumbs-up" and reaction.reaction.sender_name == "Bob"

        await bob.rename("Robert")
        snap = await ra.until(lambda s: s.participants[1].name == "Robert")

        await bob.set_camera(False)
        await ra.until(lambda s: s.participants[1].camera_key is None)
        await bob.start_screen_share("test-pattern", fps=5)
        snap = await ra.until(lambda s: s.participants[1].screen_key is not None)
        assert [p.identity for p in snap.screen_shares] == ["bob"]
        await bob.stop_screen_share()
        await ra.until(lambda s: not s.screen_shares)

        await bob.leave()
        await ra.until(lambda s: len(s.participants) == 1)
        assert any(isinstance(e, SnapshotChanged) for e in rb.events)
    finally:
        await alice.leave()
        await bob.leave()
    assert alice.frames.keys() == []


async def test_hidden_tile_pauses_the_remote_video(room_server: ServerThread) -> None:
    alice, bob = Call(synthetic()), Call(synthetic())
    ra = Recorder(alice)
    try:
        await alice.join(room_server.url, room_server.token("h", "alice"))
        await bob.join(room_server.url, room_server.token("h", "bob"))
        snap = await ra.until(lambda s: len(s.participants) == 2
                              and s.participants[1].camera_key is not None)
        key = snap.participants[1].camera_key
        assert key is not None
        alice.set_video_view(key, 320, 180)
        await asyncio.sleep(1.0)
        before = alice.frames.frame_count(key)
        await asyncio.sleep(1.0)
        assert alice.frames.frame_count(key) - before >= 5  # visible: ~15 fps arriving
        alice.set_video_view(key, 0, 0)
        await asyncio.sleep(1.0)
        paused_at = alice.frames.frame_count(key)
        await asyncio.sleep(1.5)
        assert alice.frames.frame_count(key) - paused_at <= 2  # hidden: the server stops it
        alice.set_video_view(key, 320, 180)
        await asyncio.sleep(2.0)
        assert alice.frames.frame_count(key) - paused_at >= 5  # shown again: frames resume
    finally:
        await alice.leave()
        await bob.leave()


async def test_recording_banner_and_permissions_from_the_room(room_server: ServerThread) -> None:
    """Visio's backend writes recording state in the room metadata and takes publishing
    rights away with UpdateParticipant: the call shows the first and stops what was taken."""
    from livekit import api
    from livekit.protocol import models

    from tests.conftest import API_KEY, API_SECRET

    alice = Call(synthetic())
    recorder = Recorder(alice)
    lkapi = api.LiveKitAPI(room_server.http_url, API_KEY, API_SECRET)
    try:
        await alice.join(room_server.url, room_server.token("m", "alice"))
        await recorder.until(lambda s: s.local.microphone_on and s.local.camera_on)
        await lkapi.room.update_room_metadata(api.UpdateRoomMetadataRequest(
            room="m", metadata='{"recording_mode": "transcript", "recording_status": "started"}'))
        snap = await recorder.until(lambda s: s.transcribing)
        assert not snap.recording
        # listeners (the window) were told, not only the snapshot property
        assert any(isinstance(e, SnapshotChanged) and e.snapshot.transcribing
                   for e in recorder.events)
        await lkapi.room.update_participant(api.UpdateParticipantRequest(
            room="m", identity="alice", permission=models.ParticipantPermission(
                can_publish=True, can_subscribe=True, can_publish_data=True,
                can_publish_sources=[models.TrackSource.CAMERA])))
        snap = await recorder.until(lambda s: s.local.allowed_sources == ("camera",)
                                    and not s.local.microphone_on)
        assert snap.local.camera_on
        await lkapi.room.update_room_metadata(api.UpdateRoomMetadataRequest(room="m",
                                                                             metadata="{}"))
        await recorder.until(lambda s: not s.transcribing)
        told = [e for e in recorder.events if isinstance(e, SnapshotChanged)]
        assert not told[-1].snapshot.transcribing
    finally:
        await lkapi.aclose()
        await alice.leave()


async def test_unplugged_microphone_falls_back_to_the_default(room_server: ServerThread) -> None:
    """The microphone in use disappears during the call: the system default takes over, and
    the user is told."""
    from visio_desktop.call_state import NoticeRaised
    from visio_desktop.media.devices import FakeDeviceBackend

    backend = FakeDeviceBackend()
    builtin = backend.add(FakeDeviceBackend.device("input", "Built-in microphone"), default=True)
    headset = backend.add(FakeDeviceBackend.device("input", "USB headset"))
    backend.add(FakeDeviceBackend.device("output", "Speakers"), default=True)
    alice = Call(MediaOptions(camera="none", microphone=headset.id, speaker="default"),
                 audio_backend=backend)
    recorder = Recorder(alice)
    try:
        await alice.join(room_server.url, room_server.token("d", "alice"))
        assert alice._microphone.device.id == headset.id
        backend.remove(headset.id)
        for _ in range(60):
            if alice._microphone.device is not None and \
                    alice._microphone.device.id == builtin.id:
                break
            await asyncio.sleep(0.05)
        assert alice._microphone.device.id == builtin.id  # within 3 s (polled every second)
        notices = [e.notice for e in recorder.events if isinstance(e, NoticeRaised)]
        assert any(n.kind == "microphone_lost" and "USB headset" in n.args[0] for n in notices)
        assert alice.snapshot.local.microphone_on  # the call goes on, microphone open
    finally:
        await alice.leave()


async def test_shared_computer_sound_is_fed_what_the_call_plays(room_server: ServerThread,
                                                                ) -> None:
    """Sharing with the computer's sound: what our speakers play reaches the share's playback
    canceller (tests/test_playback_cancel_e2e.py shows it then leaves the others' voices out),
    and no longer once the share stops."""
    from tests.support.pulse import pulse_running
    from visio_desktop.media.devices import FakeDeviceBackend

    if not pulse_running():
        pytest.skip("PulseAudio is not available (the computer's sound on Linux)")
    backend = FakeDeviceBackend()
    backend.add(FakeDeviceBackend.device("output", "Speakers"), default=True)
    alice = Call(MediaOptions(camera="none", microphone="none", speaker="default"),
                 audio_backend=backend)
    try:
        await alice.join(room_server.url, room_server.token("share-sound", "alice"))
        await alice.start_screen_share("test-pattern", fps=5, with_audio=True)
        sound = alice._screen_audio
        assert sound is not None and alice.snapshot.local.screen_error == ""
        assert sound.canceller is not None
        speakers = backend.stream_for("output")
        speakers.pump(480)
        assert sound.canceller._ref.written == 480  # the block the speakers were handed
        await alice.stop_screen_share()
        speakers.pump(480)
        assert sound.canceller._ref.written == 480
    finally:
        await alice.leave()
