"""Our client and ``livekit-client`` (the Visio web app's stack) in headless Chromium."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import TONE_TOLERANCE, ServerThread
from tests.support.browser import BrowserFactory, browsers
from tests.test_client import Client
from visio_desktop.media.synthetic import read_pattern
from visio_desktop.media.synthetic_tracks import PatternVideoTrack, ToneAudioTrack
from visio_desktop.net.data import build_reaction

__all__ = ["browsers"]  # the fixture, imported for pytest
pytestmark = pytest.mark.timeout(150)


async def _until(items: list[Any], count: int, what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while len(items) < count:
        assert time.monotonic() < deadline, f"{what}: {items}"
        await asyncio.sleep(0.05)


async def test_our_client_and_the_browser(room_server: ServerThread,
                                          browsers: BrowserFactory) -> None:
    web = await browsers.new("web")
    ours = Client("ours")
    chats: list[Any] = []
    reactions: list[Any] = []
    ours.room.on("chat_message", chats.append)
    ours.room.on("reaction_received", reactions.append)
    await ours.room.connect(room_server.url, room_server.token("bw", "ours"))
    try:
        await web.join(room_server.url, room_server.token("bw", "web"))
        await web.publish_camera(width=640, height=360, fps=15, simulcast=True)
        await web.publish_microphone(660)
        await web.publish_screen(width=640, height=360, fps=5)
        await ours.room.publish_track(PatternVideoTrack(640, 360, 15), "camera")
        await ours.room.publish_track(ToneAudioTrack(440), "microphone")
        await ours.room.publish_track(PatternVideoTrack(640, 360, 5, source="screen_share"),
                                      "screen_share")

        # the browser's media at our end: frames whose pattern decodes, in order; the tone
        for source, frames in (("camera", 15), ("screen_share", 4)):
            report = await ours.wait_video("web", source, frames=frames, timeout_s=30)
            assert report["counter_regressions"] <= 2, report  # a simulcast switch may repeat
            assert report["pattern_decoded"] >= 0.9 * report["pattern_checked"], report
        audio = await ours.wait_audio("web", seconds=1.5)
        assert abs(audio["tone"]["frequency_hz"] - 660) < TONE_TOLERANCE * 660, audio

        # ours at the browser's end, under the right sources
        for source in ("camera", "screen_share"):
            track = await web.wait_for_remote_track(identity="ours", source=source,
                                                    timeout_s=30)
            readings = []
            for _ in range(4):
                reading = read_pattern(await web.grab_frame(track["trackSid"]))
                if reading is not None:
                    readings.append(reading.counter)
                await asyncio.sleep(0.3)
            assert len(readings) >= 3 and readings == sorted(readings), (source, readings)
        mic = await web.wait_for_remote_track(identity="ours", source="microphone")
        level = await web.audio_level(mic["trackSid"])
        assert abs(level["frequencyHz"] - 440) < 15, level

        # chat both ways, in both formats
        await web.send_chat("depuis le navigateur")
        await web.send_legacy_chat("ancien format du navigateur")
        await _until(chats, 2, "chat from the browser")
        assert sorted((m.sender_identity, m.text) for m in chats) == [
            ("web", "ancien format du navigateur"), ("web", "depuis le navigateur")]
        sent = await ours.room.send_chat("réponse de Visio Desktop")

        async def browser_got_it() -> list[dict[str, Any]]:
            return [c for c in await web.chats() if c["from"] == "ours"]

        deadline = time.monotonic() + 10
        while not (got := [c for c in await browser_got_it() if c["via"] == "text-stream"]):
            assert time.monotonic() < deadline, await web.chats()
            await asyncio.sleep(0.1)
        assert [(c["message"], c["id"]) for c in got] == [("réponse de Visio Desktop", sent.id)]
        # the web app's legacy listener drops our legacy copy (ignoreLegacy), no duplicate
        await asyncio.sleep(1.0)
        shown = [c for c in await browser_got_it() if not c.get("ignoreLegacy")]
        assert len(shown) == 1, shown

        # a Visio reaction from the browser, as the web app sends it
        reaction = build_reaction("clapping-hands")
        await web.publish_data(reaction.user.payload.decode(), topic=reaction.user.topic)
        await _until(reactions, 1, "reaction")
        assert (reactions[0].sender_identity, reactions[0].emoji) == ("web", "clapping-hands")
    finally:
        await ours.close()
