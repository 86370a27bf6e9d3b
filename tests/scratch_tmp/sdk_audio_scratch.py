"""Scratch: how the received tone settles over time."""

from __future__ import annotations

import asyncio
import logging

import numpy as np

from tests.support.sdk_client import SdkParticipant
from visio_desktop.media.synthetic import analyse_tone

log = logging.getLogger("audio")


async def test_audio(room_server) -> None:  # type: ignore[no-untyped-def]
    alice, bob = SdkParticipant("alice"), SdkParticipant("bob")
    try:
        await alice.connect(room_server.url, room_server.token("r", "alice"))
        await bob.connect(room_server.url, room_server.token("r", "bob"))
        await alice.publish_tone(440.0)
        stats = await bob.wait_for_audio("alice", seconds=0.2, timeout_s=20)
        for _ in range(10):
            await asyncio.sleep(0.5)
            r = stats.tone(0.5)
            log.warning("t=%.1f samples=%d last 0.5 s: %.1f Hz %.1f dBFS", stats.samples / 48000,
                        stats.samples, r.frequency_hz, r.rms_dbfs)
        x = stats.recent().astype(np.float64)
        blocks = x[: x.size // 4800 * 4800].reshape(-1, 4800)
        rms = 20 * np.log10(np.sqrt((blocks / 32768) ** 2).mean(axis=1) + 1e-9)
        log.warning("per-100ms level: %s", np.round(rms, 1).tolist())
        log.warning("per-100ms freq: %s",
                    [round(analyse_tone(b, 48000).frequency_hz) for b in blocks])
    finally:
        await alice.disconnect()
        await bob.disconnect()
