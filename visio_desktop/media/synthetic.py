"""Synthetic media for tests and demos: a self-describing moving test pattern and a test tone.

Shared spec of the test pattern (``tests/browser/pattern.js`` is an exact port; keep both in step)
----------------------------------------------------------------------------------------------------
All geometry is integer arithmetic (floor division), so the Python and JavaScript renderers give
identical pixels at any size. ``W`` x ``H`` is the frame size in pixels.

Code band (rows ``0 .. floor(H/4)``): a grid of 4 rows x 20 columns of cells. Column ``c`` spans
pixels ``floor(c*W/20) .. floor((c+1)*W/20)`` (end excluded), row ``r`` spans
``floor(r*H/16) .. floor((r+1)*H/16)``. Cell ``k = r*20 + c`` carries bit ``k`` of an 80-bit
message, white ``(255, 255, 255)`` for 1 and black ``(0, 0, 0)`` for 0. The message, most
significant bit first:

* 8-bit preamble ``0b10110010``;
* frame counter, 32 bits (unsigned, big-endian);
* timestamp: wall-clock milliseconds since the Unix epoch, low 32 bits (big-endian);
* CRC-8, polynomial 0x07, initial value 0, not reflected, no final xor (CRC-8/SMBUS) over the 8
  payload bytes (counter then timestamp, big-endian).

A reader samples the mean luma (0.299 R + 0.587 G + 0.114 B) over the middle half of every cell
(in both directions) and thresholds it at 128, so the band survives lossy codecs and downscaling
to 320x180 and below.

Moving pattern (rows ``floor(H/4) .. H``), a pure function of the counter (taken modulo 2^32, as
the band carries it). It is defined on a 1280x720 reference canvas and mapped to pixels, so that
every size shows the same picture:

* vertical bars: ``s = (counter*4) mod 1280``; pixel column ``x`` has the reference abscissa
  ``u = floor((2x+1)*1280 / (2W))`` and the colour ``BAR_COLOURS[floor(((u + s) mod 1280) / 160)]``
  (8 bars of 160 reference units, scrolling left by 4 reference units a frame), where
  ``BAR_COLOURS`` = (224,224,224) light grey, (192,32,32) red, (224,224,32) yellow,
  (32,192,32) green, (32,32,192) blue, (32,192,192) cyan, (32,32,32) dark grey,
  (192,32,192) magenta;
* a square of side 128 reference units, colour (224,128,32) orange, drawn over the bars and
  bouncing: with ``tri(v, span) = v mod 2span, mirrored (2span - v) when above span``, its
  reference corner is ``xr = tri(counter*8, 1152)``, ``yr = 180 + tri(counter*4, 412)``; in
  pixels it covers columns ``floor(xr*W/1280) .. floor((xr+128)*W/1280)`` and rows
  ``floor(yr*H/720) .. floor((yr+128)*H/720)`` (ends excluded).

Colours stay within 32..224 and neighbouring bars differ by at least 66 in luma. PSNR is measured
on luma (see :func:`pattern_psnr`), which 4:2:0 chroma subsampling leaves alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import av
import numpy as np
import numpy.typing as npt

PREAMBLE = 0b10110010
GRID_COLUMNS = 20
GRID_ROWS = 4
ROWS_PER_FRAME = 16  # the band's cell height is H/16, so its 4 rows fill the top quarter
MESSAGE_BITS = GRID_COLUMNS * GRID_ROWS  # 80 = 8 + 32 + 32 + 8

REF_WIDTH = 1280
REF_HEIGHT = 720
BAR_WIDTH_REF = 160
BAR_STEP_REF = 4
SQUARE_SIDE_REF = 128
SQUARE_STEP_X_REF = 8
SQUARE_STEP_Y_REF = 4
SQUARE_SPAN_X_REF = REF_WIDTH - SQUARE_SIDE_REF  # 1152
SQUARE_TOP_REF = REF_HEIGHT // 4  # 180, the top of the moving-pattern region
SQUARE_SPAN_Y_REF = REF_HEIGHT - SQUARE_TOP_REF - SQUARE_SIDE_REF  # 412

BAR_COLOURS: npt.NDArray[np.uint8] = np.array(
    [  # ordered so that neighbouring bars differ by at least 66 in luma
        (224, 224, 224),  # light grey
        (192, 32, 32),  # red
        (224, 224, 32),  # yellow
        (32, 192, 32),  # green
        (32, 32, 192),  # blue
        (32, 192, 192),  # cyan
        (32, 32, 32),  # dark grey
        (192, 32, 192),  # magenta
    ],
    dtype=np.uint8,
)
SQUARE_COLOUR: tuple[int, int, int] = (224, 128, 32)  # orange

LUMA_WEIGHTS: npt.NDArray[np.float32] = np.array([0.299, 0.587, 0.114], dtype=np.float32)
U32 = 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# message coding


def crc8(data: bytes) -> int:
    """CRC-8/SMBUS: polynomial 0x07, initial value 0, not reflected, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def encode_message(counter: int, timestamp_ms: int) -> npt.NDArray[np.bool_]:
    """The 80 bits of the code band, in cell order (row-major, MSB first)."""
    payload = (counter & U32).to_bytes(4, "big") + (timestamp_ms & U32).to_bytes(4, "big")
    message = bytes([PREAMBLE]) + payload + bytes([crc8(payload)])
    return np.unpackbits(np.frombuffer(message, dtype=np.uint8)).astype(bool)


def decode_message(bits: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    """Counter and timestamp from 80 bits, or None if the preamble or the CRC is wrong."""
    message = np.packbits(bits.astype(np.uint8)).tobytes()
    if len(message) != MESSAGE_BITS // 8 or message[0] != PREAMBLE:
        return None
    payload = message[1:9]
    if crc8(payload) != message[9]:
        return None
    return int.from_bytes(payload[:4], "big"), int.from_bytes(payload[4:], "big")


def _edges(size: int, parts: int, count: int | None = None) -> npt.NDArray[np.int64]:
    """Cell edges ``floor(i*size/parts)`` for i in 0..count (count defaults to parts)."""
    n = parts if count is None else count
    return (np.arange(n + 1, dtype=np.int64) * size) // parts


def _tri(value: int, span: int) -> int:
    """A triangle wave: 0 .. span .. 0 with period 2*span."""
    v = value % (2 * span)
    return v if v <= span else 2 * span - v


def band_height(height: int) -> int:
    """Rows of the code band: floor(H/4)."""
    return (GRID_ROWS * height) // ROWS_PER_FRAME


def now_ms() -> int:
    """Wall-clock milliseconds since the Unix epoch (what the pattern's timestamp carries)."""
    return time.time_ns() // 1_000_000


def latency_ms(timestamp_ms: int, now: int | None = None) -> int:
    """Milliseconds from a pattern's 32-bit timestamp to ``now`` (default: the current time),
    with wrap-around of the low 32 bits handled (result in -2^31 .. 2^31)."""
    current = now_ms() if now is None else now
    delta = ((current & U32) - (timestamp_ms & U32)) & U32
    return delta - (1 << 32) if delta >= 1 << 31 else delta


# ---------------------------------------------------------------------------------------------
# rendering


class TestPattern:
    """Renders the moving, self-describing test pattern at a fixed size (see module docstring)."""

    __test__ = False  # not a pytest test class

    def __init__(self, width: int, height: int) -> None:
        if width < GRID_COLUMNS or height < ROWS_PER_FRAME:
            raise ValueError(f"pattern too small: {width}x{height}")
        self.width = width
        self.height = height
        self.band_height = band_height(height)
        x = np.arange(width, dtype=np.int64)
        y = np.arange(self.band_height, dtype=np.int64)
        col_edges = _edges(width, GRID_COLUMNS)
        row_edges = _edges(height, ROWS_PER_FRAME, GRID_ROWS)
        # cell index of every column / band row
        self._cell_col = np.searchsorted(col_edges, x, side="right") - 1
        self._cell_row = np.searchsorted(row_edges, y, side="right") - 1
        # reference abscissa of every pixel column
        self._u = ((2 * x + 1) * REF_WIDTH) // (2 * width)

    def render(self, counter: int, timestamp_ms: int) -> npt.NDArray[np.uint8]:
        """An H x W x 3 uint8 RGB frame for this counter and timestamp."""
        img = np.empty((self.height, self.width, 3), dtype=np.uint8)
        self._draw(img, counter, timestamp_ms)
        return img

    def render_rgba(self, counter: int, timestamp_ms: int) -> npt.NDArray[np.uint8]:
        """The same as an H x W x 4 RGBA frame (opaque), the layout of ``rtc.VideoFrame`` RGBA."""
        img = np.empty((self.height, self.width, 4), dtype=np.uint8)
        self._draw(img, counter, timestamp_ms)
        return img

    def render_i420(self, counter: int, timestamp_ms: int) -> av.VideoFrame:
        """The frame as an ``av.VideoFrame`` in yuv420p (I420); width and height must be even."""
        return rgb_to_video_frame(self.render(counter, timestamp_ms))

    def render_motion(self, counter: int) -> npt.NDArray[np.uint8]:
        """An RGB frame with only the moving pattern drawn (the band rows are black)."""
        img = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        self._draw_motion(img, counter)
        return img

    def square_rect(self, counter: int) -> tuple[int, int, int, int]:
        """The moving square in pixels: x0, x1, y0, y1 (ends excluded)."""
        counter &= U32
        xr = _tri(counter * SQUARE_STEP_X_REF, SQUARE_SPAN_X_REF)
        yr = SQUARE_TOP_REF + _tri(counter * SQUARE_STEP_Y_REF, SQUARE_SPAN_Y_REF)
        w, h = self.width, self.height
        return (
            (xr * w) // REF_WIDTH,
            ((xr + SQUARE_SIDE_REF) * w) // REF_WIDTH,
            (yr * h) // REF_HEIGHT,
            ((yr + SQUARE_SIDE_REF) * h) // REF_HEIGHT,
        )

    def _draw(self, img: npt.NDArray[np.uint8], counter: int, timestamp_ms: int) -> None:
        """Draws the whole frame into ``img`` (H x W x 3 RGB or H x W x 4 opaque RGBA); whole
        pixels are written at once, which is much faster than strided channel slices."""
        self._draw_motion(img, counter)
        bits = encode_message(counter, timestamp_ms).reshape(GRID_ROWS, GRID_COLUMNS)
        palette = _BLACK_WHITE[img.shape[2]]
        rows = palette[bits.astype(np.intp)[:, self._cell_col]]  # 4 x W x C
        img[: self.band_height] = rows[self._cell_row]

    def _draw_motion(self, img: npt.NDArray[np.uint8], counter: int) -> None:
        channels = img.shape[2]
        shift = ((counter & U32) * BAR_STEP_REF) % REF_WIDTH
        bars = _BAR_PALETTE[channels][((self._u + shift) % REF_WIDTH) // BAR_WIDTH_REF]
        img[self.band_height :] = bars[None, :, :]
        x0, x1, y0, y1 = self.square_rect(counter)
        img[y0:y1, x0:x1] = _SQUARE_PIXEL[channels]


def _with_alpha(colours: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    alpha = np.full((*colours.shape[:-1], 1), 255, dtype=np.uint8)
    return np.concatenate([colours, alpha], axis=-1)


_BLACK_WHITE_RGB = np.array([(0, 0, 0), (255, 255, 255)], dtype=np.uint8)
_BLACK_WHITE = {3: _BLACK_WHITE_RGB, 4: _with_alpha(_BLACK_WHITE_RGB)}
_BAR_PALETTE = {3: BAR_COLOURS, 4: _with_alpha(BAR_COLOURS)}
_SQUARE_RGB = np.array(SQUARE_COLOUR, dtype=np.uint8)
_SQUARE_PIXEL = {3: _SQUARE_RGB, 4: _with_alpha(_SQUARE_RGB)}


def rgb_to_video_frame(rgb: npt.NDArray[np.uint8]) -> av.VideoFrame:
    """RGB (H x W x 3 uint8) to an I420 ``av.VideoFrame`` (BT.601, limited range, as libswscale
    does by default)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(format="yuv420p")


def rgb_to_i420_bytes(rgb: npt.NDArray[np.uint8]) -> bytes:
    """RGB to packed I420 bytes (Y plane, then U, then V, without padding); W and H even."""
    # a yuv420p frame's to_ndarray() is the three planes stacked: (H * 3/2) x W
    return rgb_to_video_frame(rgb).to_ndarray().tobytes()


# ---------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True, slots=True)
class PatternReading:
    counter: int
    timestamp_ms: int


def _rgb(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 (or 4) image, got shape {image.shape}")
    return image[:, :, :3]


def luma(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """BT.601 luma (0..255, float32) of an RGB or RGBA image."""
    return _rgb(image).astype(np.float32) @ LUMA_WEIGHTS


def read_bits(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """The 80 cell bits of a frame of any size (RGB, or RGBA whose alpha is ignored)."""
    rgb = _rgb(image)
    height, width = rgb.shape[:2]
    col_edges = _edges(width, GRID_COLUMNS)
    row_edges = _edges(height, ROWS_PER_FRAME, GRID_ROWS)
    # the middle half of each cell, from a quarter to three quarters of its extent
    col_q = (col_edges[1:] - col_edges[:-1]) // 4
    cx0 = col_edges[:-1] + col_q
    cx1 = np.maximum(col_edges[1:] - col_q, cx0 + 1)
    row_q = (row_edges[1:] - row_edges[:-1]) // 4
    ry0 = row_edges[:-1] + row_q
    ry1 = np.maximum(row_edges[1:] - row_q, ry0 + 1)
    means = np.empty((GRID_ROWS, GRID_COLUMNS), dtype=np.float64)
    for r in range(GRID_ROWS):
        # column sums of this cell row's middle rows, then box sums through a prefix sum
        column_sums = luma(rgb[ry0[r] : ry1[r]]).sum(axis=0, dtype=np.float64)
        prefix = np.concatenate(([0.0], np.cumsum(column_sums)))
        means[r] = (prefix[cx1] - prefix[cx0]) / ((cx1 - cx0) * (ry1[r] - ry0[r]))
    return (means >= 128.0).reshape(-1)


def read_pattern(image: npt.NDArray[np.uint8]) -> PatternReading | None:
    """Counter and timestamp from a frame's code band, or None if there is no valid band."""
    decoded = decode_message(read_bits(image))
    if decoded is None:
        return None
    return PatternReading(counter=decoded[0], timestamp_ms=decoded[1])


def motion_region(height: int) -> slice:
    """Rows compared by :func:`pattern_psnr`: the moving-pattern region less a margin under the
    band, where codec blocks straddle the band's edge."""
    margin = max(2, height // 45)
    return slice(band_height(height) + margin, height)


def psnr(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> float:
    """PSNR in dB (peak 255) of two equally shaped arrays; inf when identical."""
    diff = a.astype(np.float32) - b.astype(np.float32)
    mse = float(np.mean(diff * diff))
    return math.inf if mse == 0.0 else 10.0 * math.log10(255.0 * 255.0 / mse)


def pattern_psnr(
    image: npt.NDArray[np.uint8], counter: int, channel: Literal["luma", "rgb"] = "luma"
) -> float:
    """PSNR (dB) of a received frame's moving-pattern region against the pattern regenerated for
    ``counter`` at the received size (the pattern is size-independent, see module docstring).

    By default it compares BT.601 luma, as video codec measurements usually do: 4:2:0 chroma
    (half resolution) cannot follow the bars' sharp colour edges, which costs RGB PSNR at small
    sizes without saying anything about the transport. ``channel="rgb"`` compares all of RGB.
    """
    rgb = _rgb(image)
    height, width = rgb.shape[:2]
    rows = motion_region(height)
    expected = TestPattern(width, height).render_motion(counter)[rows]
    if channel == "rgb":
        return psnr(rgb[rows], expected)
    return psnr(luma(rgb[rows]), luma(expected))


# ---------------------------------------------------------------------------------------------
# audio


class ToneSource:
    """A sine tone as int16 blocks of 10 ms, with continuous phase from block to block.

    Blocks are 1-D and interleaved when ``channels > 1`` (the same sample on every channel),
    the layout of ``rtc.AudioFrame`` data.
    """

    def __init__(
        self,
        frequency_hz: float = 440.0,
        sample_rate: int = 48000,
        channels: int = 1,
        amplitude: float = 0.3,
        block_ms: int = 10,
    ) -> None:
        if sample_rate * block_ms % 1000:
            raise ValueError("block_ms must be a whole number of samples")
        self.frequency_hz = frequency_hz
        self.sample_rate = sample_rate
        self.channels = channels
        self.amplitude = amplitude
        self.samples_per_block = sample_rate * block_ms // 1000
        self._phase = 0.0  # radians, kept in [0, 2pi)
        self._step = 2.0 * math.pi * frequency_hz / sample_rate
        self._ramp = np.arange(self.samples_per_block, dtype=np.float64) * self._step

    def next_block(self) -> npt.NDArray[np.int16]:
        values = self.amplitude * np.sin(self._phase + self._ramp)
        self._phase = (self._phase + self._step * self.samples_per_block) % (2.0 * math.pi)
        mono = np.clip(np.round(values * 32767.0), -32768, 32767).astype(np.int16)
        return np.repeat(mono, self.channels) if self.channels > 1 else mono

    def __iter__(self) -> Iterator[npt.NDArray[np.int16]]:
        while True:
            yield self.next_block()


def tone(
    frequency_hz: float = 440.0, sample_rate: int = 48000, channels: int = 1, amplitude: float = 0.3
) -> Iterator[npt.NDArray[np.int16]]:
    """An endless generator of 10 ms int16 blocks of a sine tone (see :class:`ToneSource`)."""
    return iter(ToneSource(frequency_hz, sample_rate, channels, amplitude))


@dataclass(frozen=True, slots=True)
class ToneReading:
    frequency_hz: float
    rms_dbfs: float  # 20*log10(RMS / full scale): a full-scale sine reads -3.01 dBFS


TONE_WINDOW_S = 0.2


def analyse_tone(
    samples: npt.NDArray[np.generic], sample_rate: int, channels: int = 1
) -> ToneReading:
    """Dominant frequency (FFT peak, parabolic interpolation) and RMS level of a signal.

    ``samples`` is int16 (full scale 32768) or float (full scale 1.0); 1-D, interleaved when
    ``channels > 1``, or 2-D (frames x channels). Channels are averaged.
    """
    data = np.asarray(samples)
    scale = 32768.0 if np.issubdtype(data.dtype, np.integer) else 1.0
    x = data.astype(np.float64) / scale
    if x.ndim == 1 and channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.size < 16:
        return ToneReading(frequency_hz=0.0, rms_dbfs=-math.inf)
    rms = float(np.sqrt(np.mean(x * x)))
    level = 20.0 * math.log10(rms) if rms > 0 else -math.inf
    # Received audio may have dropouts (a late packet concealed or skipped): a phase jump
    # smears one long FFT. The median over short windows ignores the few windows that hold one.
    window = int(TONE_WINDOW_S * sample_rate)
    if x.size >= 3 * window:
        readings = []
        for start in range(0, x.size - window + 1, window):
            part = x[start : start + window]
            if float(np.sqrt(np.mean(part * part))) > 0.1 * rms:
                readings.append(_peak_frequency(part, sample_rate))
        if readings:
            return ToneReading(frequency_hz=float(np.median(readings)), rms_dbfs=level)
    return ToneReading(frequency_hz=_peak_frequency(x, sample_rate), rms_dbfs=level)


def _peak_frequency(x: npt.NDArray[np.float64], sample_rate: int) -> float:
    windowed = (x - x.mean()) * np.hanning(x.size)
    n_fft = 1 << max(math.ceil(math.log2(x.size)) + 2, 12)  # zero-padded at least 4x
    magnitude = np.abs(np.fft.rfft(windowed, n_fft))
    magnitude[0] = 0.0
    peak = int(np.argmax(magnitude))
    offset = 0.0
    if 0 < peak < magnitude.size - 1 and magnitude[peak] > 0:
        # parabola through the log magnitudes of the peak bin and its neighbours
        a, b, c = np.log(magnitude[peak - 1 : peak + 2] + 1e-30)
        denom = a - 2.0 * b + c
        if denom != 0:
            offset = float(0.5 * (a - c) / denom)
    return (peak + offset) * sample_rate / n_fft
