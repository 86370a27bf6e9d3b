"""The synthetic test pattern and tone: round trips through sizes, VP8 and downscaling."""

from __future__ import annotations

import fractions
import math

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from visio_desktop.media.synthetic import (
    BAR_COLOURS,
    GRID_COLUMNS,
    PatternReading,
    TestPattern,
    ToneSource,
    analyse_tone,
    band_height,
    crc8,
    latency_ms,
    now_ms,
    pattern_psnr,
    read_pattern,
    rgb_to_i420_bytes,
    tone,
)

COUNTER = 0x89ABCDEF
TIMESTAMP = 0xDEADBEEF


def test_crc8_check_value() -> None:
    # the standard check value of CRC-8/SMBUS (poly 0x07, init 0) over "123456789"
    assert crc8(b"123456789") == 0xF4


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360), (320, 180), (333, 187)])
def test_round_trip_sizes(width: int, height: int) -> None:
    pattern = TestPattern(width, height)
    for counter, timestamp in [(0, 0), (1, 2), (COUNTER, TIMESTAMP), (0xFFFFFFFF, 0xFFFFFFFF)]:
        rgb = pattern.render(counter, timestamp)
        assert rgb.shape == (height, width, 3)
        assert rgb.dtype == np.uint8
        assert read_pattern(rgb) == PatternReading(counter, timestamp)
        assert pattern_psnr(rgb, counter) == math.inf


def test_rgba_and_i420_helpers() -> None:
    pattern = TestPattern(640, 360)
    rgb = pattern.render(7, 8)
    rgba = pattern.render_rgba(7, 8)
    assert rgba.shape == (360, 640, 4)
    assert np.array_equal(rgba[:, :, :3], rgb)
    assert (rgba[:, :, 3] == 255).all()
    assert read_pattern(rgba) == PatternReading(7, 8)
    frame = pattern.render_i420(7, 8)
    assert frame.format.name == "yuv420p"
    assert (frame.width, frame.height) == (640, 360)
    assert len(rgb_to_i420_bytes(rgb)) == 640 * 360 * 3 // 2
    assert read_pattern(frame.to_ndarray(format="rgb24")) == PatternReading(7, 8)


def test_counter_and_timestamp_wrap_to_32_bits() -> None:
    rgb = TestPattern(320, 180).render(2**32 + 5, 2**40 + 6)
    assert read_pattern(rgb) == PatternReading(5, 6)


def test_band_geometry() -> None:
    rgb = TestPattern(1280, 720).render(COUNTER, TIMESTAMP)
    band = rgb[: band_height(720)]
    assert band_height(720) == 180
    assert set(np.unique(band)) <= {0, 255}
    # the first cell carries the preamble's leading 1, the second its 0 (cells are 64 x 45)
    assert (band[:45, :64] == 255).all()
    assert (band[:45, 64:128] == 0).all()
    # the moving region uses the bar colours (and the square) only
    assert tuple(rgb[719, 0]) in {tuple(c) for c in BAR_COLOURS} | {(224, 128, 32)}


def test_motion_is_a_pure_function_of_counter() -> None:
    pattern = TestPattern(640, 360)
    a = pattern.render(1234, 1)
    b = pattern.render(1234, 99999)
    top = band_height(360)
    assert np.array_equal(a[top:], b[top:])
    assert not np.array_equal(a[top:], pattern.render(1235, 1)[top:])


def _flip_cell(rgb: npt.NDArray[np.uint8], row: int, col: int) -> npt.NDArray[np.uint8]:
    out = rgb.copy()
    height, width = rgb.shape[:2]
    x0, x1 = col * width // GRID_COLUMNS, (col + 1) * width // GRID_COLUMNS
    y0, y1 = row * height // 16, (row + 1) * height // 16
    out[y0:y1, x0:x1] = 255 - out[y0:y1, x0:x1]
    return out


@pytest.mark.parametrize(("row", "col"), [(0, 0), (0, 9), (1, 3), (2, 17), (3, 19)])
def test_corrupted_band_is_rejected(row: int, col: int) -> None:
    rgb = TestPattern(640, 360).render(COUNTER, TIMESTAMP)
    assert read_pattern(_flip_cell(rgb, row, col)) is None


def test_no_band_reads_none() -> None:
    assert read_pattern(np.zeros((180, 320, 3), np.uint8)) is None
    assert read_pattern(np.full((180, 320, 3), 255, np.uint8)) is None
    noise = np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert read_pattern(noise) is None


def test_downscale_1280x720_to_320x180() -> None:
    pattern = TestPattern(1280, 720)
    for counter in (COUNTER, COUNTER + 1, 3, 1001):
        big = pattern.render(counter, TIMESTAMP)
        small = cv2.resize(big, (320, 180), interpolation=cv2.INTER_AREA)
        assert read_pattern(small) == PatternReading(counter, TIMESTAMP)
        assert pattern_psnr(small, counter) >= 30.0
        assert pattern_psnr(small, counter + 40) < 15.0


def _vp8_round_trip(
    width: int, height: int, bit_rate: int, counters: list[int]
) -> list[npt.NDArray[np.uint8]]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.bit_rate = bit_rate
    encoder.time_base = fractions.Fraction(1, 30)
    encoder.framerate = fractions.Fraction(30, 1)
    # "good" rather than "realtime": realtime adapts to the time it gets, so its quality (and
    # this test) would depend on how busy the machine is
    encoder.options = {"deadline": "good", "cpu-used": "5", "lag-in-frames": "0"}
    decoder = av.CodecContext.create("vp8", "r")
    pattern = TestPattern(width, height)
    decoded: list[npt.NDArray[np.uint8]] = []

    def drain(frame: av.VideoFrame | None) -> None:
        for packet in encoder.encode(frame):
            for out in decoder.decode(packet):
                decoded.append(out.to_ndarray(format="rgb24"))

    for pts, counter in enumerate(counters):
        frame = pattern.render_i420(counter, TIMESTAMP + pts)
        frame.pts = pts
        drain(frame)
    drain(None)
    return decoded


@pytest.mark.parametrize(
    ("width", "height", "bit_rate"),
    [(1280, 720, 1_000_000), (640, 360, 400_000), (320, 180, 150_000)],
)
def test_vp8_round_trip(width: int, height: int, bit_rate: int) -> None:
    counters = list(range(500, 508))
    frames = _vp8_round_trip(width, height, bit_rate, counters)
    assert len(frames) == len(counters)
    for i, (counter, rgb) in enumerate(zip(counters, frames, strict=True)):
        assert rgb.shape == (height, width, 3)
        assert read_pattern(rgb) == PatternReading(counter, TIMESTAMP + i)
        assert pattern_psnr(rgb, counter) >= 30.0
        assert pattern_psnr(rgb, counter + 40) < 15.0
        assert pattern_psnr(rgb, counter + 123) < 15.0


def test_vp8_then_downscale() -> None:
    """A 1280x720 VP8 frame read again after a receiver-side downscale to 320x180."""
    (rgb,) = _vp8_round_trip(1280, 720, 1_000_000, [4242])
    small = cv2.resize(rgb, (320, 180), interpolation=cv2.INTER_AREA)
    assert read_pattern(small) == PatternReading(4242, TIMESTAMP)
    assert pattern_psnr(small, 4242) >= 30.0


def test_latency_handles_32_bit_wrap() -> None:
    now = (5 << 32) + 100
    assert latency_ms(50, now) == 50
    assert latency_ms(0xFFFFFFF0, now) == 116  # sent just before the low 32 bits wrapped
    assert latency_ms(150, now) == -50
    assert abs(latency_ms(now_ms() & 0xFFFFFFFF)) < 1000


@pytest.mark.parametrize("frequency", [440.0, 1000.0, 1234.5])
def test_tone_frequency_and_level(frequency: float) -> None:
    source = ToneSource(frequency)
    assert source.samples_per_block == 480
    samples = np.concatenate([source.next_block() for _ in range(50)])  # 0.5 s
    assert samples.dtype == np.int16
    reading = analyse_tone(samples, 48000)
    assert abs(reading.frequency_hz - frequency) < 2.0
    expected = 20 * math.log10(0.3 / math.sqrt(2))  # -13.5 dBFS
    assert abs(reading.rms_dbfs - expected) < 1.0


def test_tone_phase_is_continuous() -> None:
    blocks = [next(b) for b in [tone(440.0)] for _ in range(10)]
    joined = np.concatenate(blocks).astype(np.float64)
    reference = np.round(0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(4800) / 48000))
    assert np.max(np.abs(joined - reference)) <= 1.0


def test_tone_stereo_and_quiet_levels() -> None:
    stereo = ToneSource(600.0, channels=2, amplitude=0.05)
    samples = np.concatenate([stereo.next_block() for _ in range(30)])
    assert samples.shape == (30 * 480 * 2,)
    reading = analyse_tone(samples, 48000, channels=2)
    assert abs(reading.frequency_hz - 600.0) < 2.0
    assert abs(reading.rms_dbfs - 20 * math.log10(0.05 / math.sqrt(2))) < 1.0
    assert analyse_tone(np.zeros(4800, np.int16), 48000).rms_dbfs == -math.inf


@pytest.mark.skipif("libopus" not in av.codecs_available, reason="no libopus in PyAV")
def test_tone_survives_opus() -> None:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48000
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = 32000
    decoder = av.CodecContext.create("opus", "r")
    decoder.sample_rate = 48000
    decoder.layout = "mono"
    source = ToneSource(440.0, block_ms=20)  # Opus frames are 20 ms
    out: list[npt.NDArray[np.float32]] = []
    for i in range(50):
        frame = av.AudioFrame.from_ndarray(
            source.next_block()[None, :], format="s16", layout="mono"
        )
        frame.sample_rate = 48000
        frame.pts = i * 960
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(packet):
                out.append(decoded.to_ndarray().reshape(-1))
    samples = np.concatenate(out)[4800:]  # skip the codec's start-up
    reading = analyse_tone(samples, 48000)
    assert abs(reading.frequency_hz - 440.0) < 2.0
    assert abs(reading.rms_dbfs - 20 * math.log10(0.3 / math.sqrt(2))) < 1.0
