"""Scratch (not for commit): two official-SDK participants through the embedded server."""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc

from tests.support.sdk_client import SdkParticipant

log = logging.getLogger("scratch")


async def test_pair(room_server) -> None:  # type: ignore[no-untyped-def]
    alice, bob = SdkParticipant("alice"), SdkParticipant("bob")
    try:
        await asyncio.wait_for(alice.connect(room_server.url, room_server.token("r", "alice")), 20)
        await asyncio.wait_for(bob.connect(room_server.url, room_server.token("r", "bob")), 20)
        await alice.wait_for_participant("bob")
        await bob.wait_for_participant("alice")
        pub = await asyncio.wait_for(alice.publish_pattern(simulcast=False), 20)
        log.info("published %s", pub.sid)
        tone = await asyncio.wait_for(alice.publish_tone(440.0), 20)
        log.info("published tone %s", tone.sid)
        stats = await bob.wait_for_video("alice", min_decoded=30, timeout_s=30)
        log.info("video: %s", stats.summary())
        audio = await bob.wait_for_audio("alice", seconds=1.5, timeout_s=30)
        log.info("audio: %s", audio.summary())
        await alice.send_chat("hello bob")
        msg = await bob.wait_for_chat("hello bob", timeout_s=10)
        log.info("chat: %s", msg)
        await alice.send_legacy_chat("legacy hello")
        msg = await bob.wait_for_chat("legacy hello", timeout_s=10)
        log.info("legacy chat: %s", msg)
        await alice.set_muted(pub.sid, True)
        await bob.wait_for_event("track_muted", timeout_s=10)
        await alice.set_muted(pub.sid, False)
        await bob.wait_for_event("track_unmuted", timeout_s=10)
        await alice.unpublish(pub.sid)
        await bob.wait_for_event("track_unpublished", timeout_s=10)
    finally:
        log.info("alice:\n%s", alice.report())
        log.info("bob:\n%s", bob.report())
        log.info("bob events: %s", [(e.kind, e.data) for e in bob.events])
        await alice.disconnect()
        await bob.disconnect()
    assert rtc is not None
