from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Iterator

import aiortc
import aiortc.codecs
import aiortc.rtcrtpsender
import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender, VideoStreamTrack
from aiortc.codecs.h264 import H264Encoder, h264_depayload
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from visio_desktop.media import encoders
from visio_desktop.media.encoders import (
    EncoderProbe,
    HardwareH264Encoder,
    bitrate_for,
    candidate_encoders,
    choose_h264_encoder,
    current_encoder_name,
    format_probe_report,
    install_encoder_selection,
    is_hardware_encoder,
    loss_adjusted_bitrate,
    nal_types,
    probe_h264_encoders,
    sender_encoder,
    uninstall_encoder_selection,
)

HAS_X264 = "libx264" in av.codecs_available
needs_x264 = pytest.mark.skipif(not HAS_X264, reason="PyAV build without libx264")

H264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=99,
                             parameters={"packetization-mode": "1",
                                         "profile-level-id": "42e01f"})
VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
VIDEO_TB = fractions.Fraction(1, 90000)


@pytest.fixture(autouse=True)
def _clean_selection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(encoders.ENV_OVERRIDE, raising=False)
    original = aiortc.codecs.get_encoder
    yield
    uninstall_encoder_selection()
    assert aiortc.codecs.get_encoder is original
    assert aiortc.rtcrtpsender.get_encoder is original


def make_frame(width: int, height: int, index: int) -> av.VideoFrame:
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)
    x = (index * 8) % max(1, width - 16)
    img[:, x : x + 16, 1] = 255
    frame = av.VideoFrame.from_ndarray(img, format="rgb24")
    frame.pts = index * 3000
    frame.time_base = VIDEO_TB
    return frame


class RtpDecoder:
    """aiortc's H.264 depayloader + PyAV decoder, one encoded frame (payload list) at a time."""

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("h264", "r")

    @staticmethod
    def depayload(payloads: list[bytes]) -> bytes:
        return b"".join(h264_depayload(p) for p in payloads)

    def decode(self, payloads: list[bytes]) -> list[av.VideoFrame]:
        return list(self.codec.decode(av.Packet(self.depayload(payloads))))


# --- probe -------------------------------------------------------------------------------------


def test_candidates_per_os_hardware_first() -> None:
    linux = candidate_encoders("linux")
    assert linux[0] == "h264_nvenc" and "h264_v4l2m2m" in linux and "h264_mf" not in linux
    assert candidate_encoders("darwin") == ["h264_videotoolbox", "libx264", "libopenh264"]
    assert "h264_mf" in candidate_encoders("win32")
    assert linux[-2:] == ["libx264", "libopenh264"]


@needs_x264
def test_probe_reports_every_candidate_and_software_ok() -> None:
    probes = probe_h264_encoders(timeout_s=5.0)
    assert [p.name for p in probes] == candidate_encoders()
    by_name = {p.name: p for p in probes}
    x264 = by_name["libx264"]
    assert x264.ok and not x264.hardware and x264.error is None
    assert x264.open_ms is not None and x264.encode_ms is not None
    for p in probes:
        assert p.ok or p.error  # a failure always says why
        assert p.hardware == (p.name in encoders.HARDWARE_H264)
    assert probe_h264_encoders() == probes  # cached for the process
    report = format_probe_report(probes)
    assert "libx264" in report and "-> H.264 encoder:" in report


def test_listed_but_unusable_encoder_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_device(name: str, *args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted (no driver)")

    monkeypatch.setattr(encoders, "open_h264_context", no_device)
    monkeypatch.setattr(encoders, "is_hardware_encoder", lambda name: True)
    name = next(iter(av.codecs_available & {"libx264", "h264", "libopenh264"}))
    [probe] = probe_h264_encoders(candidates=[name], refresh=True)
    assert probe.available and not probe.ok and probe.hardware
    assert "PermissionError" in (probe.error or "")
    assert "FAIL" in probe.log_line()


def test_missing_and_hung_encoders(monkeypatch: pytest.MonkeyPatch) -> None:
    [missing] = probe_h264_encoders(candidates=["h264_nosuchthing"], refresh=True)
    assert not missing.available and not missing.ok and missing.error

    def hang(name: str) -> EncoderProbe:
        time.sleep(2)
        raise AssertionError("unreachable")

    monkeypatch.setattr(encoders, "_probe_one", hang)
    start = time.monotonic()
    [hung] = probe_h264_encoders(0.2, candidates=["libx264"], refresh=True)
    assert time.monotonic() - start < 1.5
    assert not hung.ok and "timed out" in (hung.error or "")


def test_real_hardware_probes_never_raise() -> None:
    present = [n for n in encoders.HARDWARE_H264 if n in av.codecs_available]
    probes = probe_h264_encoders(candidates=present, refresh=True)
    for p in probes:
        assert p.hardware and (p.ok or p.error)


async def test_probe_in_background_installs(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [EncoderProbe("h264_fakehw", True, True, True),
            EncoderProbe("libx264", False, True, True)]
    monkeypatch.setattr(encoders, "probe_h264_encoders", lambda timeout_s: fake)
    assert await encoders.probe_in_background() == fake
    assert encoders.selected_h264_encoder() == "h264_fakehw"


# --- the encoder -------------------------------------------------------------------------------


@needs_x264
def test_round_trip_keyframe_and_resolution_change() -> None:
    enc = HardwareH264Encoder("libx264")
    dec = RtpDecoder()
    decoded: list[tuple[int, int]] = []
    idr_frames: list[int] = []
    sizes = [(320, 240)] * 8 + [(640, 360)] * 4
    for i, (w, h) in enumerate(sizes):
        payloads, timestamp = enc.encode(make_frame(w, h, i), force_keyframe=(i == 5))
        assert payloads and all(len(p) <= 1300 for p in payloads)
        assert timestamp == i * 3000
        if encoders.NAL_IDR in nal_types(dec.depayload(payloads)):
            idr_frames.append(i)
        decoded += [(f.width, f.height) for f in dec.decode(payloads)]
    assert idr_frames == [0, 5, 8]  # first frame, on request, on resolution change
    assert decoded == sizes
    assert enc.encoder_name == "libx264" and not enc.hardware
    assert enc.reopen_count == 2


@needs_x264
def test_large_frames_use_fu_a_and_pack_passthrough() -> None:
    enc = HardwareH264Encoder("libx264", bitrate=4_000_000)
    noise = np.random.default_rng(1).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(noise, format="rgb24")
    frame.pts, frame.time_base = 0, VIDEO_TB
    payloads, _ = enc.encode(frame)
    assert any(p[0] & 0x1F == 28 for p in payloads)  # FU-A fragments from aiortc's packetizer
    assert [(f.width, f.height) for f in RtpDecoder().decode(payloads)] == [(1280, 720)]
    # pre-encoded packets (aiortc's pack path) go through the same packetizer
    ctx = encoders.open_h264_context("libx264", 320, 240, 500_000, time_base=VIDEO_TB)
    [packet] = ctx.encode(make_frame(320, 240, 0))
    packed, timestamp = enc.pack(packet)
    assert timestamp == 0
    assert [(f.width, f.height) for f in RtpDecoder().decode(packed)] == [(320, 240)]


@needs_x264
def test_odd_size_is_evened() -> None:
    enc = HardwareH264Encoder("libx264")
    payloads, _ = enc.encode(make_frame(321, 241, 0))
    assert [(f.width, f.height) for f in RtpDecoder().decode(payloads)] == [(320, 240)]


@needs_x264
def test_broken_encoder_falls_back_to_software() -> None:
    enc = HardwareH264Encoder("h264_nosuchthing")
    payloads, _ = enc.encode(make_frame(320, 240, 0))
    assert enc.encoder_name == "libx264"
    assert [(f.width, f.height) for f in RtpDecoder().decode(payloads)] == [(320, 240)]


def test_unusable_encoder_without_fallback_raises() -> None:
    enc = HardwareH264Encoder("h264_nosuchthing", fallbacks=[])
    with pytest.raises(Exception):  # noqa: B017 - whatever FFmpeg raises
        enc.encode(make_frame(64, 64, 0))


@needs_x264
def test_bitrate_changes_are_rate_limited() -> None:
    now = [100.0]
    enc = HardwareH264Encoder("libx264", bitrate=1_000_000, clock=lambda: now[0])
    i = 0

    def step(dt: float = 0.033) -> None:
        nonlocal i
        now[0] += dt
        enc.encode(make_frame(160, 120, i))
        i += 1

    step()
    assert enc.reopen_count == 1
    enc.target_bitrate = 1_050_000  # within the 10 % dead band
    step(5)
    assert enc.reopen_count == 1
    enc.target_bitrate = 1_500_000  # increase: waits REOPEN_INTERVAL_S since the last change
    step(0.5)
    assert enc.reopen_count == 2  # last change was long ago: applied
    enc.target_bitrate = 2_000_000
    step(0.5)
    assert enc.reopen_count == 2  # too soon
    step(2.0)
    assert enc.reopen_count == 3
    enc.target_bitrate = 700_000  # congestion: big drop, applied after URGENT_INTERVAL_S
    step(0.3)
    assert enc.reopen_count == 4
    enc.max_bitrate = 1_200_000  # content ceiling: REMB cannot go above it
    enc.target_bitrate = 3_000_000
    assert enc.target_bitrate == 1_200_000
    enc.target_bitrate = 1
    assert enc.target_bitrate == encoders.MIN_BITRATE


# --- aiortc integration ------------------------------------------------------------------------


def test_install_selection_h264_only_and_idempotent() -> None:
    original = aiortc.codecs.get_encoder
    assert install_encoder_selection("libx264") == "libx264"
    assert install_encoder_selection("libx264") == "libx264"
    assert aiortc.rtcrtpsender.get_encoder is aiortc.codecs.get_encoder
    assert aiortc.codecs.get_encoder is not original
    ours = aiortc.codecs.get_encoder(H264)
    assert isinstance(ours, HardwareH264Encoder) and ours.encoder_name == "libx264"
    vp8 = aiortc.rtcrtpsender.get_encoder(VP8)
    assert type(vp8) is Vp8Encoder
    install_encoder_selection(None)  # no hardware: aiortc's own libx264
    assert type(aiortc.codecs.get_encoder(H264)) is H264Encoder
    uninstall_encoder_selection()
    assert aiortc.codecs.get_encoder is original


def test_choice_from_probes_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    sw_only = [EncoderProbe("h264_nvenc", True, True, False, "no driver"),
               EncoderProbe("libx264", False, True, True)]
    with_hw = [EncoderProbe("h264_nvenc", True, True, False, "no driver"),
               EncoderProbe("h264_qsv", True, True, True),
               EncoderProbe("libx264", False, True, True)]
    assert install_encoder_selection(sw_only) is None
    assert install_encoder_selection(with_hw) == "h264_qsv"
    monkeypatch.setenv(encoders.ENV_OVERRIDE, "software")
    assert choose_h264_encoder(with_hw) is None
    monkeypatch.setenv(encoders.ENV_OVERRIDE, "libx264")
    assert choose_h264_encoder(sw_only) == "libx264"


def test_bitrate_table() -> None:
    assert bitrate_for(1280, 720, 30) == 1_700_000
    assert bitrate_for(1920, 1080, 30) == 3_000_000
    assert bitrate_for(1920, 1080, 15, "screen") == 4_500_000
    assert bitrate_for(640, 360, 30) == 500_000
    assert bitrate_for(1280, 720, 15) < bitrate_for(1280, 720, 30) < bitrate_for(1280, 720, 60)
    sizes = [(160, 90), (320, 180), (480, 270), (640, 360), (1280, 720), (1920, 1080),
             (3840, 2160), (7680, 4320)]
    for content in ("camera", "screen"):
        rates = [bitrate_for(w, h, 30, content) for w, h in sizes]  # type: ignore[arg-type]
        assert rates == sorted(rates)
        assert encoders.MIN_BITRATE <= rates[0] and rates[-1] <= encoders.MAX_BITRATE
    with pytest.raises(ValueError):
        bitrate_for(640, 360, 30, "slides")  # type: ignore[arg-type]
    assert loss_adjusted_bitrate(1_000_000, 0.2, 3_000_000) == 900_000
    assert loss_adjusted_bitrate(1_000_000, 0.0, 3_000_000) == 1_050_000
    assert loss_adjusted_bitrate(2_990_000, 0.0, 3_000_000) == 3_000_000
    assert loss_adjusted_bitrate(1_000_000, 0.05, 3_000_000) == 1_000_000


def test_is_hardware_encoder() -> None:
    assert is_hardware_encoder("h264_nvenc") and not is_hardware_encoder("libx264")
    assert not is_hardware_encoder("nonexistent")


class MovingBar(VideoStreamTrack):
    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = make_frame(320, 240, pts // 3000)
        frame.pts, frame.time_base = pts, time_base
        return frame


@needs_x264
async def test_loopback_h264_with_our_encoder() -> None:
    install_encoder_selection("libx264")
    pc1, pc2 = RTCPeerConnection(), RTCPeerConnection()
    received: asyncio.Queue[av.VideoFrame] = asyncio.Queue()
    pullers: list[asyncio.Task[None]] = []
    try:
        transceiver = pc1.addTransceiver(MovingBar(), direction="sendonly")
        caps = RTCRtpSender.getCapabilities("video")
        transceiver.setCodecPreferences([c for c in caps.codecs if c.mimeType == "video/H264"])

        @pc2.on("track")
        def on_track(track: aiortc.MediaStreamTrack) -> None:
            async def pull() -> None:
                while True:
                    await received.put(await track.recv())

            pullers.append(asyncio.ensure_future(pull()))

        await pc1.setLocalDescription(await pc1.createOffer())
        await pc2.setRemoteDescription(pc1.localDescription)
        await pc2.setLocalDescription(await pc2.createAnswer())
        await pc1.setRemoteDescription(pc2.localDescription)
        assert "H264" in pc2.localDescription.sdp and "VP8" not in pc2.localDescription.sdp

        frames = [await asyncio.wait_for(received.get(), 5) for _ in range(5)]
        assert {(f.width, f.height) for f in frames} == {(320, 240)}
        sender = transceiver.sender
        assert isinstance(sender_encoder(sender), HardwareH264Encoder)
        assert current_encoder_name(sender) == "libx264"
        assert encoders.apply_bitrate(sender, bitrate_for(320, 240, 30), ceiling=600_000)
        assert sender_encoder(sender).target_bitrate == bitrate_for(320, 240, 30)  # type: ignore[union-attr]
    finally:
        for task in pullers:
            task.cancel()
        await pc1.close()
        await pc2.close()


def test_one_long_gap_does_not_lower_the_measured_frame_rate() -> None:
    """A big frame can hold the sender for most of a second: the capture skips the slots it
    missed, which leaves one long gap. Rate control must keep the real rate (the median gap),
    or a reopen at a lower rate makes the next keyframe bigger, and so on."""
    enc = HardwareH264Encoder("libx264")
    enc._pts_history = [0.0, 0.1, 0.2, 0.3, 1.1, 1.2, 1.3, 1.4]  # 10 fps with one stall
    assert enc._measured_fps() == pytest.approx(10.0)
    enc._pts_history = [i / 15 for i in range(8)]
    assert enc._measured_fps() == pytest.approx(15.0)
