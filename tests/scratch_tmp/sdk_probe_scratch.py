"""Scratch probe (not for commit): which codec name does the forwarding packer get?"""

from __future__ import annotations

import logging

from tests.support.sdk_client import SdkParticipant
from visio_desktop.server import forward

log = logging.getLogger("probe")
_orig_init = forward.ForwardingPacker.__init__
_orig_pack = forward.ForwardingPacker.pack


def _init(self, codec_name: str) -> None:  # type: ignore[no-untyped-def]
    log.warning("ForwardingPacker codec_name=%r", codec_name)
    _orig_init(self, codec_name)


def _pack(self, frame):  # type: ignore[no-untyped-def]
    payloads, ts = _orig_pack(self, frame)
    big = max((len(p) for p in payloads), default=0)
    if big > 1300:
        log.warning("pack %s: %d payloads, largest %d bytes, frame %d", self.codec_name,
                    len(payloads), big, len(frame.data))
    return payloads, ts


forward.ForwardingPacker.__init__ = _init  # type: ignore[method-assign]
forward.ForwardingPacker.pack = _pack  # type: ignore[method-assign]


async def test_probe(room_server) -> None:  # type: ignore[no-untyped-def]
    alice, bob = SdkParticipant("alice"), SdkParticipant("bob")
    try:
        await alice.connect(room_server.url, room_server.token("r", "alice"))
        await bob.connect(room_server.url, room_server.token("r", "bob"))
        await alice.publish_pattern(simulcast=False)
        try:
            await bob.wait_for_video("alice", min_decoded=10, timeout_s=8)
        except TimeoutError as exc:
            log.warning("%s", exc)
    finally:
        log.warning("bob: %s", bob.report())
        await alice.disconnect()
        await bob.disconnect()
