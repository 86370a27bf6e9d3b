"""BitrateController: content-aware start, loss steps, REMB as a cap (fake senders), and the
same through our embedded server with two Rooms."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import time
from typing import Any

import pytest
from aiortc.codecs import vpx
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci, unpack_remb_fci
from aiortc.stats import RTCRemoteInboundRtpStreamStats, RTCStatsReport

from tests.conftest import ServerThread
from visio_desktop.media import bitrate_control
from visio_desktop.media.bitrate_control import REMB_TTL_S, BitrateController
from visio_desktop.media.encoders import (
    Vp8EncoderWithCeiling,
    apply_bitrate,
    bitrate_for,
    sender_encoder,
)
from visio_desktop.media.synthetic_tracks import PatternVideoTrack
from visio_desktop.net.participant import LocalTrackPublication
from visio_desktop.net.room import Room

_stamps = itertools.count()


class FakeSender:
    """What the controller uses of aiortc's RTCRtpSender; RTCP handling as aiortc's (a REMB
    sets the encoder's target as is)."""

    def __init__(self, ssrc: int, encoder: Any | None = None) -> None:
        self._ssrc = ssrc
        self._RTCRtpSender__encoder = encoder
        self.loss_raw: int | None = None  # RTCP fraction lost, 0-255
        self.stamp = datetime.datetime.now()
        self.rtcp: list[Any] = []

    def report(self, fraction: float) -> None:
        """A new receiver report with ``fraction`` lost."""
        self.loss_raw = round(fraction * 256)
        self.stamp = datetime.datetime.now() + datetime.timedelta(seconds=next(_stamps))

    async def getStats(self) -> RTCStatsReport:
        report = RTCStatsReport()
        if self.loss_raw is not None:
            report.add(RTCRemoteInboundRtpStreamStats(
                timestamp=self.stamp, type="remote-inbound-rtp", id="remote-inbound-rtp_1",
                ssrc=self._ssrc, kind="video", transportId="t", packetsReceived=100,
                packetsLost=0, jitter=0, roundTripTime=0.01, fractionLost=self.loss_raw))
        return report

    async def _handle_rtcp_packet(self, packet: Any) -> None:
        self.rtcp.append(packet)
        encoder = self._RTCRtpSender__encoder
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP and encoder:
            encoder.target_bitrate = unpack_remb_fci(packet.fci)[0]


class FakeRoom:
    def __init__(self) -> None:
        self.local_participant = type("LP", (), {"track_publications": {}})()

    def add(self, sid: str, source: str, sender: FakeSender, width: int = 1280,
            height: int = 720, fps: float = 15.0) -> LocalTrackPublication:
        track = PatternVideoTrack(width, height, fps, source="screen_share"
                                  if source == "screen_share" else "camera")
        transceiver: Any = type("T", (), {"sender": sender})()
        pub = LocalTrackPublication(sid=sid, kind="video", source=source, track=track,
                                    transceiver=transceiver)
        self.local_participant.track_publications[sid] = pub
        return pub


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def remb(bitrate: int, ssrcs: list[int]) -> RtcpPsfbPacket:
    return RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0,
                          fci=pack_remb_fci(bitrate, ssrcs))


async def steps(controller: BitrateController, clock: Clock, sender: FakeSender,
                loss: float, n: int) -> list[int]:
    """``n`` loss steps, each after a new receiver report; the targets asked for."""
    out = []
    for _ in range(n):
        clock.now += 1.0
        sender.report(loss)
        await controller.tick()
        out.append(controller.snapshot()["TR_c"]["target_bps"])
    return out


@pytest.fixture
def camera() -> tuple[BitrateController, Clock, FakeSender, FakeRoom]:
    room, clock = FakeRoom(), Clock()
    sender = FakeSender(111, Vp8Encoder())
    room.add("TR_c", "camera", sender)
    return BitrateController(room, clock=clock), clock, sender, room


# --- unit -------------------------------------------------------------------------------------


async def test_screen_starts_higher_than_camera_and_lifts_the_vp8_clamp() -> None:
    room = FakeRoom()
    cam, screen = FakeSender(1, None), FakeSender(2, Vp8Encoder())
    room.add("TR_c", "camera", cam)
    room.add("TR_s", "screen_share", screen)
    controller = BitrateController(room, clock=Clock())
    await controller.tick()
    snap = controller.snapshot()
    assert snap["TR_c"]["target_bps"] == 0  # no encoder yet (before the first frame)
    assert snap["TR_s"]["target_bps"] == bitrate_for(1280, 720, 15, "screen") == 2_200_000
    cam._RTCRtpSender__encoder = Vp8Encoder()  # its first frame
    await controller.tick()
    snap = controller.snapshot()
    assert snap["TR_c"]["target_bps"] == bitrate_for(1280, 720, 15, "camera")
    assert snap["TR_s"]["target_bps"] > snap["TR_c"]["target_bps"]
    # aiortc's VP8 would clamp to 1.5 Mbit/s: the encoder really holds 2.2 Mbit/s
    encoder = sender_encoder(screen)
    assert isinstance(encoder, Vp8EncoderWithCeiling)
    assert encoder.target_bitrate == snap["TR_s"]["encoder_bps"] == 2_200_000 > vpx.MAX_BITRATE
    assert snap["TR_s"]["source"] == "screen_share" and snap["TR_s"]["loss"] is None


async def test_loss_backs_off_and_no_loss_climbs_back_to_the_ceiling(
        camera: tuple[BitrateController, Clock, FakeSender, FakeRoom]) -> None:
    controller, clock, sender, _ = camera
    await controller.tick()
    ceiling = controller.snapshot()["TR_c"]["ceiling_bps"]
    assert controller.snapshot()["TR_c"]["target_bps"] == ceiling
    down = await steps(controller, clock, sender, 0.20, 4)
    assert all(b < a for a, b in itertools.pairwise([ceiling, *down])), down
    assert sender_encoder(sender).target_bitrate == down[-1]  # type: ignore[union-attr]
    assert controller.snapshot()["TR_c"]["loss"] == pytest.approx(0.20, abs=0.01)
    held = await steps(controller, clock, sender, 0.05, 2)  # 2-10 %: hold
    assert held == [down[-1]] * 2
    up = await steps(controller, clock, sender, 0.0, 30)
    assert all(b >= a for a, b in itertools.pairwise([down[-1], *up])), up
    assert up[0] > down[-1] and max(up) == up[-1] == ceiling


async def test_stale_report_and_floor(
        camera: tuple[BitrateController, Clock, FakeSender, FakeRoom]) -> None:
    controller, clock, sender, _ = camera
    await controller.tick()
    first = (await steps(controller, clock, sender, 0.5, 1))[0]
    clock.now += 1.0
    await controller.tick()  # no new receiver report: the rate holds
    assert controller.snapshot()["TR_c"]["target_bps"] == first
    low = await steps(controller, clock, sender, 1.0, 20)
    floor = max(100_000, controller.snapshot()["TR_c"]["ceiling_bps"] // 10)
    assert low[-1] == floor


async def test_remb_caps_the_target_and_expires(
        camera: tuple[BitrateController, Clock, FakeSender, FakeRoom]) -> None:
    controller, clock, sender, _ = camera
    await controller.tick()
    ceiling = controller.snapshot()["TR_c"]["ceiling_bps"]
    await sender._handle_rtcp_packet(remb(800_000, [111]))  # through the installed hook
    assert sender.rtcp == []  # answered by the controller, not by aiortc's handler
    snap = controller.snapshot()["TR_c"]
    assert snap["remb_bps"] == 800_000 and snap["target_bps"] == 800_000
    assert sender_encoder(sender).target_bitrate == 800_000  # type: ignore[union-attr]
    # no loss: never above the REMB while it is recent
    for _ in range(3):
        up = await steps(controller, clock, sender, 0.0, 1)
        assert up[0] <= 800_000
        await sender._handle_rtcp_packet(remb(800_000, [111]))
    # a REMB above the ceiling does not raise the target above the content ceiling
    await sender._handle_rtcp_packet(remb(50_000_000, [111]))
    assert controller.snapshot()["TR_c"]["target_bps"] == ceiling
    await sender._handle_rtcp_packet(remb(600_000, [111]))
    clock.now += REMB_TTL_S + 1  # the REMB is old: loss alone decides again
    up = await steps(controller, clock, sender, 0.0, 1)
    assert up[0] > 600_000 and controller.snapshot()["TR_c"]["remb_bps"] is None
    # other RTCP still reaches aiortc's handler
    other = RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=111)
    await sender._handle_rtcp_packet(other)
    assert sender.rtcp == [other]


async def test_remb_is_shared_between_listed_senders_by_ceiling() -> None:
    room, clock = FakeRoom(), Clock()
    cam, screen = FakeSender(1, Vp8Encoder()), FakeSender(2, Vp8Encoder())
    room.add("TR_c", "camera", cam)
    room.add("TR_s", "screen_share", screen)
    controller = BitrateController(room, clock=clock)
    await controller.tick()
    packet = remb(2_000_000, [1, 2, 3])
    await cam._handle_rtcp_packet(packet)
    await screen._handle_rtcp_packet(packet)
    snap = controller.snapshot()
    total = snap["TR_c"]["target_bps"] + snap["TR_s"]["target_bps"]
    assert total == pytest.approx(2_000_000, abs=2)
    assert snap["TR_s"]["target_bps"] > snap["TR_c"]["target_bps"]


async def test_stop_gives_remb_back_to_aiortc_and_forgets_unpublished(
        camera: tuple[BitrateController, Clock, FakeSender, FakeRoom]) -> None:
    controller, _, sender, room = camera
    controller.start()
    for _ in range(50):
        if controller.snapshot().get("TR_c", {}).get("target_bps"):
            break
        await asyncio.sleep(0.02)
    assert controller.running and "_handle_rtcp_packet" in vars(sender)
    room.local_participant.track_publications.clear()
    await controller.tick()
    assert controller.snapshot() == {} and "_handle_rtcp_packet" not in vars(sender)
    room.add("TR_c", "camera", sender)
    await controller.tick()
    controller.stop()
    await asyncio.sleep(0)
    assert not controller.running and "_handle_rtcp_packet" not in vars(sender)


def test_apply_bitrate_ceiling_on_aiortc_vp8() -> None:
    sender = FakeSender(1, Vp8Encoder())
    assert apply_bitrate(sender, 3_000_000)  # no ceiling: aiortc's own clamp
    assert type(sender_encoder(sender)) is Vp8Encoder
    assert sender_encoder(sender).target_bitrate == vpx.MAX_BITRATE  # type: ignore[union-attr]
    assert apply_bitrate(sender, 3_000_000, ceiling=4_000_000)
    encoder = sender_encoder(sender)
    assert isinstance(encoder, Vp8EncoderWithCeiling) and encoder.target_bitrate == 3_000_000
    encoder.target_bitrate = 9_000_000  # REMB as aiortc sets it: held at the ceiling
    assert encoder.target_bitrate == 4_000_000
    assert apply_bitrate(sender, 900_000, ceiling=600_000)
    assert encoder.target_bitrate == 600_000 and encoder.max_bitrate == 600_000


def test_geometry_prefers_the_wrapped_track() -> None:
    from visio_desktop.media.frame_store import FrameStore, PreviewTee

    inner = PatternVideoTrack(960, 540, 10, source="screen_share")
    pub = LocalTrackPublication(sid="s", kind="video", source="screen_share",
                                track=PreviewTee(inner, FrameStore(), "local-screen"))
    assert bitrate_control.video_geometry(pub, None, "screen") == (960, 540, 10.0)
    pub.track = None
    assert bitrate_control.video_geometry(pub, None, "camera") == (1280, 720, 30.0)


# --- end to end -------------------------------------------------------------------------------


@pytest.mark.timeout(60)
async def test_targets_through_our_server(room_server: ServerThread) -> None:
    alice, bob = Room(), Room()
    controller = BitrateController(alice)
    tracks = [PatternVideoTrack(1280, 720, 15, source="camera"),
              PatternVideoTrack(1280, 720, 15, source="screen_share")]
    senders: dict[str, Any] = {}
    try:
        await alice.connect(room_server.url, room_server.token("rate", "alice"))
        await bob.connect(room_server.url, room_server.token("rate", "bob"))
        controller.start()  # as after join: publications come later
        cam = await alice.publish_track(tracks[0], "camera")
        screen = await alice.publish_track(tracks[1], "screen_share")
        senders[cam.sid] = cam.transceiver.sender  # type: ignore[union-attr]
        senders[screen.sid] = screen.transceiver.sender  # type: ignore[union-attr]

        def ready() -> bool:
            snap = controller.snapshot()
            return all(snap.get(sid, {}).get("target_bps") and snap[sid]["loss"] is not None
                       and snap[sid]["remb_bps"] for sid in senders)

        deadline = time.monotonic() + 15
        while not ready() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        snap = controller.snapshot()
        assert ready(), snap
        cam_snap, screen_snap = snap[cam.sid], snap[screen.sid]
        assert cam_snap["source"] == "camera" and screen_snap["source"] == "screen_share"
        assert screen_snap["target_bps"] > cam_snap["target_bps"]
        assert screen_snap["ceiling_bps"] == bitrate_for(1280, 720, 15, "screen")
        assert cam_snap["ceiling_bps"] == bitrate_for(1280, 720, 15, "camera")
        for sid, sender in senders.items():
            encoder = sender_encoder(sender)
            # the encoder really holds our target, not aiortc's default or a raw REMB
            assert encoder.target_bitrate == snap[sid]["target_bps"]  # type: ignore[union-attr]
            assert encoder.target_bitrate != vpx.DEFAULT_BITRATE  # type: ignore[union-attr]
            assert encoder.target_bitrate <= snap[sid]["remb_bps"]  # type: ignore[union-attr]
        # VP8 (publish_track's default) above aiortc's 1.5 Mbit/s clamp
        assert sender_encoder(senders[screen.sid]).target_bitrate > vpx.MAX_BITRATE  # type: ignore[union-attr]
        assert snap[screen.sid]["loss"] < 0.1  # loopback
    finally:
        controller.stop()
        await alice.disconnect()
        await bob.disconnect()
        for track in tracks:
            track.stop()
    for sender in senders.values():
        assert "_handle_rtcp_packet" not in vars(sender)
