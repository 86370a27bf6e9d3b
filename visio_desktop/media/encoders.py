"""H.264 encoder selection for aiortc: hardware probe, low-latency encoder, bitrate targets.

aiortc hard-codes ``libx264`` for H.264 and ``libvpx`` for VP8 and has no encoder hook. PyAV
wheels however ship FFmpeg's hardware H.264 encoders (NVENC, Quick Sync, AMF on Linux and
Windows, Media Foundation on Windows, VideoToolbox on macOS, V4L2 M2M on ARM boards). A
listed encoder proves nothing: only opening it and encoding a frame shows that the device and
driver are there. This module:

* :func:`probe_h264_encoders` opens each candidate (per-OS priority order, then software) on a
  640x360 test clip, checks the output (Annex B, SPS + IDR, an IDR on request, decodable back to
  640x360) and records the result as :class:`EncoderProbe` rows; cached for the process.
  :func:`probe_in_background` runs it in a thread so start-up never waits, and
  :func:`format_probe_report` renders the rows for a log.
* :class:`HardwareH264Encoder` is an aiortc ``H264Encoder`` whose FFmpeg context is one chosen
  encoder with low-latency options (no B-frames, ull/zerolatency presets, forced IDR); RTP
  packetization is aiortc's own (``_split_bitstream`` / ``_packetize``). If the hardware fails
  at run time (e.g. NVENC session limit) it falls back to software for the rest of its life.
* :func:`install_encoder_selection` is the one place that plugs into aiortc: it replaces
  ``get_encoder`` in ``aiortc.codecs`` and in ``aiortc.rtcrtpsender`` (which imported the name)
  so that ``video/H264`` gets our encoder when a hardware encoder works; everything else,
  VP8 included, is aiortc's own encoder.
* :func:`bitrate_for` gives content-aware start targets; REMB (``encoder.target_bitrate``,
  set by aiortc's sender) and :func:`loss_adjusted_bitrate` move the rate afterwards.

``VISIO_H264_ENCODER`` overrides the choice: ``auto`` (default: first working hardware
encoder, else aiortc's libx264), ``software`` (always aiortc's own) or an FFmpeg encoder name
(always ours with that encoder, software fallback if it fails).

Run ``python -m visio_desktop.media.encoders`` to print the probe table on a machine.
"""

from __future__ import annotations

import asyncio
import fractions
import itertools
import logging
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import av
import numpy as np
from aiortc import codecs as aiortc_codecs
from aiortc import rtcrtpsender as aiortc_rtcrtpsender
from aiortc.codecs import vpx as aiortc_vpx
from aiortc.codecs.base import Encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import VIDEO_TIME_BASE, convert_timebase
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.codec.codec import Capabilities
from av.frame import Frame
from av.video.frame import PictureType

logger = logging.getLogger(__name__)

# --- candidates -------------------------------------------------------------------------------

#: Hardware H.264 encoders FFmpeg/PyAV may contain, with a readable label for logs.
HARDWARE_H264: dict[str, str] = {
    "h264_nvenc": "NVIDIA NVENC",
    "h264_qsv": "Intel Quick Sync",
    "h264_amf": "AMD AMF",
    "h264_videotoolbox": "Apple VideoToolbox",
    "h264_mf": "Windows Media Foundation",
    "h264_v4l2m2m": "V4L2 mem2mem",
}
#: Software H.264 encoders, in preference order.
SOFTWARE_H264: tuple[str, ...] = ("libx264", "libopenh264")

_HARDWARE_BY_OS: dict[str, tuple[str, ...]] = {
    "linux": ("h264_nvenc", "h264_qsv", "h264_amf", "h264_v4l2m2m"),
    "win32": ("h264_nvenc", "h264_qsv", "h264_amf", "h264_mf"),
    "darwin": ("h264_videotoolbox",),
}

ENV_OVERRIDE = "VISIO_H264_ENCODER"

# --- encoder tuning ---------------------------------------------------------------------------

DEFAULT_BITRATE = 1_000_000
MIN_BITRATE = 100_000
MAX_BITRATE = 8_000_000
FRAME_RATE = 30
#: A keyframe at least this often even without PLI (a lost PLI must not freeze a viewer).
KEYFRAME_INTERVAL_S = 10.0
#: The encoder's own GOP, longer than KEYFRAME_INTERVAL_S: keyframes are ours (forced IDR).
GOP_SIZE = 20 * FRAME_RATE
#: Bitrate changes under this fraction are ignored (as aiortc does).
BITRATE_DEADBAND = 0.10
#: Minimum time between applied bitrate changes: in place (cheap) or by reopening (costs an IDR).
IN_PLACE_INTERVAL_S = 0.5
REOPEN_INTERVAL_S = 2.0
#: A drop beyond this fraction (congestion) is applied after URGENT_INTERVAL_S instead.
URGENT_DROP = 0.25
URGENT_INTERVAL_S = 0.25
#: Encoders whose FFmpeg wrapper re-reads ``bit_rate`` on every frame (NVENC reconfigures the
#: session); the others are reopened, which restarts with an IDR.
IN_PLACE_BITRATE = frozenset({"h264_nvenc"})

# Private/generic options per encoder, low latency first. The "minimal" tier is tried when the
# tuned one fails to open (an option value this driver/FFmpeg build rejects).
_TUNED_OPTIONS: dict[str, dict[str, str]] = {
    "h264_nvenc": {
        "preset": "p1", "tune": "ull", "zerolatency": "1", "rc": "cbr", "delay": "0",
        "rc-lookahead": "0", "forced-idr": "1", "profile": "baseline",
    },
    "h264_qsv": {
        "preset": "veryfast", "async_depth": "1", "look_ahead": "0", "low_delay_brc": "1",
        "forced_idr": "1", "profile": "baseline",
    },
    "h264_amf": {
        "usage": "ultralowlatency", "quality": "speed", "rc": "cbr", "forced_idr": "1",
        "profile": "constrained_baseline",
    },
    "h264_videotoolbox": {
        "realtime": "1", "prio_speed": "1", "allow_sw": "0", "profile": "baseline",
    },
    "h264_mf": {
        "hw_encoding": "1", "rate_control": "cbr", "scenario": "video_conference",
    },
    "h264_v4l2m2m": {},
    "libx264": {
        "preset": "veryfast", "tune": "zerolatency", "forced-idr": "1", "profile": "baseline",
    },
    "libopenh264": {"profile": "constrained_baseline"},
}
_MINIMAL_OPTIONS: dict[str, dict[str, str]] = {
    "h264_nvenc": {"forced-idr": "1"},
    "h264_qsv": {"forced_idr": "1"},
    "h264_amf": {"forced_idr": "1"},
    "h264_videotoolbox": {"allow_sw": "0"},
    "h264_mf": {"hw_encoding": "1"},
    "libx264": {"tune": "zerolatency"},
}
OptionTier = Literal["tuned", "minimal"]


def candidate_encoders(platform: str | None = None) -> list[str]:
    """H.264 encoder names to try on ``platform`` (``sys.platform``), best first.

    Hardware encoders of that OS, then software. Unknown platforms try every hardware name.
    """
    plat = platform or sys.platform
    key = "linux" if plat.startswith("linux") else plat
    hardware = _HARDWARE_BY_OS.get(key, tuple(HARDWARE_H264))
    return [*hardware, *SOFTWARE_H264]


def is_hardware_encoder(name: str) -> bool:
    """Whether the FFmpeg encoder ``name`` runs on dedicated hardware."""
    if name in HARDWARE_H264:
        return True
    if name in SOFTWARE_H264 or name not in av.codecs_available:
        return False
    try:
        caps = av.Codec(name, "w").capabilities
    except Exception:  # unknown codec: not hardware
        return False
    return bool(caps & (Capabilities.hardware | Capabilities.hybrid))


def _pix_fmt_for(name: str) -> str:
    """yuv420p where the encoder takes it (no conversion from aiortc frames), else nv12."""
    try:
        formats = av.Codec(name, "w").video_formats
    except Exception:
        formats = None
    names = [f.name for f in formats or ()]
    if not names or "yuv420p" in names:
        return "yuv420p"
    if "nv12" in names:
        return "nv12"
    return names[0]


def _supported_option_names(ctx: Any) -> set[str]:
    opts = ctx.supported_options
    return {o.name for o in (*opts.generic, *opts.private)}


def open_h264_context(
    name: str,
    width: int,
    height: int,
    bitrate: int,
    *,
    time_base: fractions.Fraction = fractions.Fraction(1, FRAME_RATE),
    tier: OptionTier = "tuned",
    fps: float = FRAME_RATE,
) -> Any:
    """Create and open an FFmpeg H.264 encoder context with our low-latency settings.

    ``fps`` is the rate frames really come at: rate control spreads the bitrate over it (a
    10 fps screen share encoded as if at 30 fps gets a third of its bits per frame).

    Raises whatever FFmpeg raises when the encoder (or its device) cannot be opened.
    """
    ctx = av.CodecContext.create(name, "w")
    ctx.width = width
    ctx.height = height
    ctx.pix_fmt = _pix_fmt_for(name)
    ctx.bit_rate = bitrate
    ctx.framerate = fractions.Fraction(max(1, round(fps)), 1)
    ctx.time_base = time_base
    ctx.gop_size = GOP_SIZE
    ctx.max_b_frames = 0
    table = _TUNED_OPTIONS if tier == "tuned" else _MINIMAL_OPTIONS
    wanted = dict(table.get(name, {}))
    known = _supported_option_names(ctx)
    dropped = sorted(k for k in wanted if k not in known)
    if dropped:
        logger.debug("%s: options not in this FFmpeg build, skipped: %s", name, dropped)
    ctx.options = {k: v for k, v in wanted.items() if k in known}
    ctx.open()
    return ctx


def open_h264_context_any_tier(
    name: str, width: int, height: int, bitrate: int, *,
    time_base: fractions.Fraction = fractions.Fraction(1, FRAME_RATE),
    tiers: Sequence[OptionTier] = ("tuned", "minimal"),
    fps: float = FRAME_RATE,
) -> tuple[Any, OptionTier]:
    """:func:`open_h264_context` with the tuned options, then the minimal ones."""
    first: Exception | None = None
    for tier in tiers:
        try:
            return open_h264_context(name, width, height, bitrate, time_base=time_base,
                                     tier=tier, fps=fps), tier
        except Exception as exc:  # any FFmpeg/driver error means "try the next tier"
            first = first or exc
    assert first is not None
    raise first  # the tuned options' error says most about the device


# --- NAL helpers ------------------------------------------------------------------------------

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8


def nal_types(annexb: bytes) -> list[int]:
    """NAL unit types in an Annex B byte stream (aiortc's splitter)."""
    return [nal[0] & 0x1F for nal in H264Encoder._split_bitstream(annexb) if nal]


# --- probe ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncoderProbe:
    """Result of trying one H.264 encoder on this machine."""

    name: str
    hardware: bool
    available: bool  # listed in this PyAV/FFmpeg build
    ok: bool  # opened, encoded, IDR on request, decoded back
    error: str | None = None
    open_ms: float | None = None
    encode_ms: float | None = None  # mean per frame, flush included
    pix_fmt: str | None = None
    options: OptionTier | None = None

    @property
    def label(self) -> str:
        return HARDWARE_H264.get(self.name, "software")

    def log_line(self) -> str:
        kind = "hw" if self.hardware else "sw"
        if self.ok:
            status = "OK  "
        elif not self.available:
            status = "n/a "
        else:
            status = "FAIL"
        timing = ""
        if self.open_ms is not None:
            timing = f" open {self.open_ms:.0f} ms"
        if self.encode_ms is not None:
            timing += f", {self.encode_ms:.1f} ms/frame"
        extra = f" [{self.pix_fmt}, {self.options} options]" if self.ok else ""
        why = f" - {self.error}" if self.error else ""
        return f"{status} {self.name:<18} {kind} {self.label:<25}{timing}{extra}{why}"


PROBE_WIDTH = 640
PROBE_HEIGHT = 360
PROBE_BITRATE = 300_000
PROBE_FRAMES = 6
PROBE_KEYFRAME_AT = 3


def _probe_clip() -> list[av.VideoFrame]:
    """A few 640x360 yuv420p frames with a moving bar, so encoders cannot skip them."""
    y = np.tile(np.linspace(16, 235, PROBE_WIDTH, dtype=np.uint8), (PROBE_HEIGHT, 1))
    frames = []
    for i in range(PROBE_FRAMES):
        img = np.empty((PROBE_HEIGHT * 3 // 2, PROBE_WIDTH), dtype=np.uint8)
        img[:PROBE_HEIGHT] = y
        x = 40 + 60 * i
        img[:PROBE_HEIGHT, x : x + 40] = 235 - 40 * (i % 3)
        img[PROBE_HEIGHT:] = 128
        frame = av.VideoFrame.from_ndarray(img, format="yuv420p")
        frame.pts = i
        frame.time_base = fractions.Fraction(1, FRAME_RATE)
        frames.append(frame)
    return frames


def _exc_text(exc: BaseException) -> str:
    """One readable line: FFmpeg errors without the option dict PyAV appends."""
    strerror = getattr(exc, "strerror", None)
    if strerror:
        text = f"{strerror} (errno {getattr(exc, 'errno', '?')})"
    else:
        text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]


def _probe_one(name: str) -> EncoderProbe:
    hardware = is_hardware_encoder(name)
    if name not in av.codecs_available:
        return EncoderProbe(name, hardware, available=False, ok=False,
                            error="not in this PyAV/FFmpeg build")
    pix_fmt = _pix_fmt_for(name)
    t0 = time.perf_counter()
    try:
        ctx, tier = open_h264_context_any_tier(name, PROBE_WIDTH, PROBE_HEIGHT, PROBE_BITRATE)
    except Exception as exc:  # listed but unusable: report, never raise
        return EncoderProbe(name, hardware, True, False, f"open failed: {_exc_text(exc)}",
                            open_ms=(time.perf_counter() - t0) * 1000, pix_fmt=pix_fmt)
    open_ms = (time.perf_counter() - t0) * 1000

    def fail(why: str, encode_ms: float | None = None) -> EncoderProbe:
        return EncoderProbe(name, hardware, True, False, why, open_ms, encode_ms, pix_fmt, tier)

    packets: list[bytes] = []
    t1 = time.perf_counter()
    try:
        for i, frame in enumerate(_probe_clip()):
            frame.pict_type = PictureType.I if i == PROBE_KEYFRAME_AT else PictureType.NONE
            packets.extend(bytes(p) for p in ctx.encode(frame))
        packets.extend(bytes(p) for p in ctx.encode(None))
    except Exception as exc:
        return fail(f"encode failed: {_exc_text(exc)}")
    encode_ms = (time.perf_counter() - t1) * 1000 / PROBE_FRAMES
    packets = [p for p in packets if p]
    if not packets:
        return fail("no output", encode_ms)
    if not packets[0].startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return fail("output is not Annex B", encode_ms)
    first = nal_types(packets[0])
    if NAL_SPS not in first or NAL_IDR not in first:
        return fail(f"first packet lacks SPS/IDR (NAL types {first})", encode_ms)
    if not any(NAL_IDR in nal_types(p) for p in packets[1:]):
        return fail("keyframe on request (pict_type I) gave no IDR", encode_ms)
    try:
        decoder = av.CodecContext.create("h264", "r")
        decoded = []
        for p in packets:
            decoded.extend(decoder.decode(av.Packet(p)))
        decoded.extend(decoder.decode(None))
    except Exception as exc:
        return fail(f"output does not decode: {_exc_text(exc)}", encode_ms)
    if not decoded or (decoded[0].width, decoded[0].height) != (PROBE_WIDTH, PROBE_HEIGHT):
        return fail(f"decoded {len(decoded)} frames of wrong size", encode_ms)
    return EncoderProbe(name, hardware, True, True, None, open_ms, encode_ms, pix_fmt, tier)


def _probe_with_timeout(name: str, timeout_s: float) -> EncoderProbe:
    """Run one probe in a daemon thread: a hung driver cannot hang start-up or exit."""
    result: list[EncoderProbe] = []

    def target() -> None:
        try:
            result.append(_probe_one(name))
        except BaseException as exc:  # belt and braces: never propagate
            result.append(EncoderProbe(name, name in HARDWARE_H264, True, False,
                                       f"probe crashed: {_exc_text(exc)}"))

    thread = threading.Thread(target=target, name=f"probe-{name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if result:
        return result[0]
    return EncoderProbe(name, is_hardware_encoder(name), name in av.codecs_available, False,
                        f"timed out after {timeout_s:g} s")


_probe_cache: dict[tuple[str, ...], list[EncoderProbe]] = {}
_probe_lock = threading.Lock()


def probe_h264_encoders(
    timeout_s: float = 5.0,
    *,
    candidates: Sequence[str] | None = None,
    refresh: bool = False,
) -> list[EncoderProbe]:
    """Try each candidate H.264 encoder (default: :func:`candidate_encoders`), in order.

    Every candidate gets a row; nothing raises. ``timeout_s`` bounds each probe. The result is
    cached per candidate list for the life of the process (``refresh`` re-probes).
    """
    names = tuple(candidates if candidates is not None else candidate_encoders())
    with _probe_lock:
        if not refresh and names in _probe_cache:
            return list(_probe_cache[names])
        probes = [_probe_with_timeout(name, timeout_s) for name in names]
        _probe_cache[names] = probes
        return list(probes)


def cached_probes() -> list[EncoderProbe] | None:
    """The default-candidate probe result if it has run, else None (never blocks)."""
    return _probe_cache.get(tuple(candidate_encoders()))


def format_probe_report(probes: Sequence[EncoderProbe]) -> str:
    """Multi-line, log-friendly table of probe results and the resulting choice."""
    chosen = choose_h264_encoder(probes)
    lines = [f"H.264 encoder probe (PyAV {av.__version__}, {sys.platform}):"]
    lines += [f"  {p.log_line()}" for p in probes]
    lines.append(f"  -> H.264 encoder: {chosen or 'libx264 (aiortc built-in, software)'}")
    return "\n".join(lines)


def choose_h264_encoder(probes: Sequence[EncoderProbe]) -> str | None:
    """The encoder name our H.264 encoder should use, or None for aiortc's own libx264.

    First working hardware encoder, unless ``VISIO_H264_ENCODER`` says ``software`` or names
    an encoder.
    """
    override = os.environ.get(ENV_OVERRIDE, "auto").strip()
    if override.lower() in ("software", "off", "none", "aiortc"):
        return None
    if override and override.lower() != "auto":
        return override
    return next((p.name for p in probes if p.ok and p.hardware), None)


async def probe_in_background(
    timeout_s: float = 5.0, *, install: bool = True
) -> list[EncoderProbe]:
    """Probe in a worker thread (start-up does not wait), log the table, and optionally
    :func:`install_encoder_selection` with the result. Schedule with ``asyncio.create_task``.
    """
    loop = asyncio.get_running_loop()
    probes = await loop.run_in_executor(None, probe_h264_encoders, timeout_s)
    logger.info("%s", format_probe_report(probes))
    if install:
        install_encoder_selection(probes)
    return probes


# --- the encoder ------------------------------------------------------------------------------


class HardwareH264Encoder(H264Encoder):
    """aiortc H.264 encoder on a chosen FFmpeg encoder (hardware or software).

    aiortc's ``encode``/``pack`` and its RTP packetization are inherited; only the FFmpeg side
    (``_encode_frame``) and bitrate handling differ. Not thread-safe: aiortc calls ``encode``
    from one executor job at a time; ``target_bitrate`` may be set from the event loop.
    """

    def __init__(
        self,
        codec_name: str,
        *,
        fallbacks: Sequence[str] | None = None,
        bitrate: int = DEFAULT_BITRATE,
        max_bitrate: int = MAX_BITRATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._name = codec_name
        self._fallbacks = [n for n in (fallbacks if fallbacks is not None else SOFTWARE_H264)
                           if n != codec_name]
        self._max_bitrate = max(MIN_BITRATE, min(max_bitrate, MAX_BITRATE))
        self._target = self._clamp(bitrate)
        self._clock = clock
        self._ctx: Any = None
        self._ctx_bitrate = 0
        self._tier: OptionTier = "tuned"
        self._last_rate_change = -1e9
        self._last_keyframe = -1e9
        self._out_pts: tuple[int, fractions.Fraction] | None = None
        self.reopen_count = 0  # for stats/tests: contexts opened so far
        self._pts_history: list[float] = []  # seconds, of the last frames
        self._ctx_fps = float(FRAME_RATE)

    # -- introspection

    @property
    def encoder_name(self) -> str:
        """FFmpeg encoder in use now (may change once to a software fallback)."""
        return self._name

    @property
    def hardware(self) -> bool:
        return is_hardware_encoder(self._name)

    # -- bitrate

    def _clamp(self, bitrate: int) -> int:
        return int(max(MIN_BITRATE, min(bitrate, self._max_bitrate)))

    @property
    def target_bitrate(self) -> int:
        """Target bitrate (bps). REMB sets it; applied at the next frame, rate-limited."""
        return self._target

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        self._target = self._clamp(bitrate)

    @property
    def max_bitrate(self) -> int:
        """Content ceiling (see :func:`bitrate_for`): REMB cannot raise the target above it."""
        return self._max_bitrate

    @max_bitrate.setter
    def max_bitrate(self, bitrate: int) -> None:
        self._max_bitrate = max(MIN_BITRATE, min(int(bitrate), MAX_BITRATE))
        self._target = self._clamp(self._target)

    def _apply_bitrate(self) -> None:
        if self._ctx is None:
            return
        current = self._ctx_bitrate
        want = self._target
        change = abs(want - current) / current
        if change <= BITRATE_DEADBAND:
            return
        in_place = self._name in IN_PLACE_BITRATE
        elapsed = self._clock() - self._last_rate_change
        interval = IN_PLACE_INTERVAL_S if in_place else REOPEN_INTERVAL_S
        urgent = want < current * (1 - URGENT_DROP)
        if elapsed < interval and not (urgent and elapsed >= URGENT_INTERVAL_S):
            return
        self._last_rate_change = self._clock()
        if in_place:
            self._ctx.bit_rate = want
            self._ctx_bitrate = want
        else:
            self._ctx = None  # reopened at the new rate below (starts with an IDR)

    # -- encoding

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """aiortc's ``encode``, but the RTP timestamp is the output packet's own pts, so an
        encoder that hands a frame back one call late (async hardware) keeps correct timing."""
        assert isinstance(frame, av.VideoFrame)
        self._out_pts = None
        payloads = self._packetize(self._encode_frame(frame, force_keyframe))
        pts, time_base = self._out_pts or (frame.pts, frame.time_base)
        return payloads, convert_timebase(pts, time_base, VIDEO_TIME_BASE)

    def _open(self, frame: av.VideoFrame) -> None:
        width, height = frame.width & ~1, frame.height & ~1
        time_base = frame.time_base or fractions.Fraction(1, FRAME_RATE)
        while True:
            try:
                fps = self._measured_fps()
                self._ctx, self._tier = open_h264_context_any_tier(
                    self._name, width, height, self._target, time_base=time_base, fps=fps)
                self._ctx_fps = fps
                self._ctx_bitrate = self._target
                self.reopen_count += 1
                return
            except Exception as exc:
                self._fall_back(exc, "open")

    def _fall_back(self, exc: Exception, what: str) -> None:
        """Switch to the next usable software encoder, or re-raise if none is left."""
        self._ctx = None
        while self._fallbacks:
            nxt = self._fallbacks.pop(0)
            if nxt in av.codecs_available:
                logger.warning("H.264 encoder %s failed to %s (%s); falling back to %s",
                               self._name, what, _exc_text(exc), nxt)
                self._name = nxt
                return
        raise exc

    def _measured_fps(self) -> float:
        """The rate frames come at, from their timestamps (30 until there are a few).

        The median interval, not the mean: the sender pulls no frame while it sends a large
        one (a 1080p keyframe of text is ~1 MB, most of a second), and a source that skips the
        slots it missed leaves one long gap. Counted in a mean, that gap lowered the rate, the
        reopen at that rate started with a larger IDR (more bits a frame), which left a longer
        gap, and so on down to 2 fps of ever larger keyframes."""
        history = self._pts_history
        if len(history) < 4 or history[-1] <= history[0]:
            return float(FRAME_RATE)
        interval = statistics.median(b - a for a, b in itertools.pairwise(history))
        if interval <= 0:
            return float(FRAME_RATE)
        return min(60.0, max(1.0, 1.0 / interval))

    def _note_pts(self, frame: av.VideoFrame) -> None:
        if frame.pts is None or frame.time_base is None:
            return
        self._pts_history.append(float(frame.pts * frame.time_base))
        del self._pts_history[:-FPS_WINDOW]

    def _encode_frame(self, frame: av.VideoFrame, force_keyframe: bool) -> Iterator[bytes]:
        ctx = self._ctx
        self._note_pts(frame)
        if ctx is not None and (ctx.width != frame.width & ~1 or ctx.height != frame.height & ~1):
            self._ctx = None  # resolution change: new context, which starts with an IDR
        elif ctx is not None and len(self._pts_history) >= FPS_WINDOW and \
                abs(self._measured_fps() - self._ctx_fps) > 0.3 * self._ctx_fps:
            self._ctx = None  # the frame rate is far from the one rate control assumes
        self._apply_bitrate()
        now = self._clock()
        if self._ctx is None:
            self._open(frame)
            force_keyframe = True
        if now - self._last_keyframe >= KEYFRAME_INTERVAL_S:
            force_keyframe = True
        frame.pict_type = PictureType.I if force_keyframe else PictureType.NONE
        try:
            packets = self._ctx.encode(frame)
        except Exception as exc:  # e.g. device lost: retry in software
            self._fall_back(exc, "encode")
            self._open(frame)
            frame.pict_type = PictureType.I
            packets = self._ctx.encode(frame)
        data = b"".join(bytes(p) for p in packets)
        if packets and packets[0].pts is not None and packets[0].time_base is not None:
            self._out_pts = (packets[0].pts, packets[0].time_base)
        if force_keyframe or any(p.is_keyframe for p in packets):
            self._last_keyframe = now
        if data:
            yield from self._split_bitstream(data)


# --- plugging into aiortc ---------------------------------------------------------------------

_original_get_encoder: Callable[[RTCRtpCodecParameters], Encoder] | None = None
_selected_h264: str | None = None
_install_lock = threading.Lock()


def _select_encoder(codec: RTCRtpCodecParameters) -> Encoder:
    assert _original_get_encoder is not None
    name = _selected_h264
    if name is not None and codec.mimeType.lower() == "video/h264":
        return HardwareH264Encoder(name)
    return _original_get_encoder(codec)


def install_encoder_selection(choice: str | Sequence[EncoderProbe] | None) -> str | None:
    """Make aiortc create our H.264 encoder; the only place that touches aiortc's factory.

    ``choice``: probe results (the first working hardware encoder is used, see
    :func:`choose_h264_encoder`), an FFmpeg encoder name (used as is), or None (aiortc's own
    libx264). Replaces ``get_encoder`` in ``aiortc.codecs`` and ``aiortc.rtcrtpsender``
    once; later calls only change the selection, which applies to encoders created from then
    on (aiortc creates a sender's encoder at its first frame). Returns the selected name.
    """
    global _original_get_encoder, _selected_h264
    if choice is None or isinstance(choice, str):
        name = choice
    else:
        name = choose_h264_encoder(choice)
    with _install_lock:
        if _original_get_encoder is None:
            _original_get_encoder = aiortc_codecs.get_encoder
        _selected_h264 = name
        aiortc_codecs.get_encoder = _select_encoder
        aiortc_rtcrtpsender.get_encoder = _select_encoder  # type: ignore[attr-defined]
    logger.info("H.264 encoder selection: %s", name or "aiortc built-in (libx264)")
    return name


def uninstall_encoder_selection() -> None:
    """Restore aiortc's own factory (tests)."""
    global _original_get_encoder, _selected_h264
    with _install_lock:
        if _original_get_encoder is not None:
            aiortc_codecs.get_encoder = _original_get_encoder
            aiortc_rtcrtpsender.get_encoder = _original_get_encoder  # type: ignore[attr-defined]
        _original_get_encoder = None
        _selected_h264 = None


def selected_h264_encoder() -> str | None:
    return _selected_h264


def sender_encoder(sender: Any) -> Encoder | None:
    """The encoder an aiortc ``RTCRtpSender`` created (None before its first frame)."""
    return getattr(sender, "_RTCRtpSender__encoder", None)


_BUILTIN_NAMES = {"H264Encoder": "libx264", "Vp8Encoder": "libvpx", "OpusEncoder": "libopus",
                  "Vp8EncoderWithCeiling": "libvpx",
                  "G722Encoder": "g722", "PcmuEncoder": "pcm_mulaw", "PcmaEncoder": "pcm_alaw"}


def current_encoder_name(sender: Any) -> str | None:
    """FFmpeg encoder a sender uses now (``h264_nvenc``, ``libx264``, ``libvpx``...), for stats.

    Use :func:`is_hardware_encoder` on the result for "hardware or not".
    """
    encoder = sender_encoder(sender)
    if encoder is None:
        return None
    if isinstance(encoder, HardwareH264Encoder):
        return encoder.encoder_name
    return _BUILTIN_NAMES.get(type(encoder).__name__, type(encoder).__name__)


class Vp8EncoderWithCeiling(Vp8Encoder):
    """aiortc's VP8 encoder whose upper clamp is :attr:`max_bitrate` instead of aiortc's fixed
    1.5 Mbit/s (too little for legible screen text at 720p and above). Same state as
    ``Vp8Encoder`` (only the ``target_bitrate`` clamp differs), so :func:`apply_bitrate` can
    upgrade a live aiortc encoder in place. The ceiling starts at aiortc's."""

    _ceiling: int = aiortc_vpx.MAX_BITRATE

    @property  # type: ignore[override]
    def target_bitrate(self) -> int:
        return int(self._Vp8Encoder__target_bitrate)  # type: ignore[attr-defined]

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        self._Vp8Encoder__target_bitrate = int(max(aiortc_vpx.MIN_BITRATE,
                                                   min(bitrate, self._ceiling)))

    @property
    def max_bitrate(self) -> int:
        return self._ceiling

    @max_bitrate.setter
    def max_bitrate(self, bitrate: int) -> None:
        self._ceiling = int(max(aiortc_vpx.MIN_BITRATE, min(bitrate, MAX_BITRATE)))
        self.target_bitrate = self.target_bitrate


def apply_bitrate(sender: Any, bitrate: int, *, ceiling: int | None = None) -> bool:
    """Set a sender's encoder target (and content ceiling). False before the encoder exists
    (first frame): call again later. With a ``ceiling``, our H.264 encoder and VP8 (aiortc's
    ``Vp8Encoder`` is switched in place to :class:`Vp8EncoderWithCeiling`) clamp to it, up to
    MAX_BITRATE; aiortc's libx264 keeps its 0.5-3 Mbps range. REMB keeps adjusting the target."""
    encoder = sender_encoder(sender)
    if encoder is None or not hasattr(encoder, "target_bitrate"):
        return False
    if ceiling is not None and type(encoder) is Vp8Encoder:
        encoder.__class__ = Vp8EncoderWithCeiling  # same attributes: only the clamp changes
    if ceiling is not None and isinstance(encoder, (HardwareH264Encoder, Vp8EncoderWithCeiling)):
        encoder.max_bitrate = ceiling
    encoder.target_bitrate = int(bitrate)  # type: ignore[attr-defined]
    return True


FPS_WINDOW = 8  # frames whose timestamps give the frame rate rate control assumes

# --- content-aware bitrate --------------------------------------------------------------------

Content = Literal["camera", "screen"]

#: Targets in bps by pixel count. Camera rows are for 30 fps, screen rows for 15 fps (text
#: needs sharp frames, motion is rare). Between rows: linear in pixels; above the last: flat.
#:
#: ======== =========== =========== ================
#: rows     camera@30   screen@15   notes
#: ======== =========== =========== ================
#: 320x180  150 kbps    150 kbps
#: 640x360  500 kbps    400 kbps
#: 960x540  900 kbps    700 kbps
#: 1280x720 1.7 Mbps    2.2 Mbps
#: 1920x1080 3.0 Mbps   4.5 Mbps    dense text: 3-4 Mbps at 10 fps for 39-43 dB
#: 2560x1440 5.0 Mbps   6.0 Mbps
#: 3840x2160 8.0 Mbps   8.0 Mbps
#: ======== =========== =========== ================
#:
#: Frame rate scales the target by ``(fps / ref_fps) ** 0.6`` (camera) or ``** 0.5`` (screen),
#: fps clamped to 1..60, result clamped to MIN_BITRATE..MAX_BITRATE and rounded to 10 kbps.
BITRATE_TABLE: dict[Content, tuple[tuple[int, int], ...]] = {
    "camera": ((320 * 180, 150_000), (640 * 360, 500_000), (960 * 540, 900_000),
               (1280 * 720, 1_700_000), (1920 * 1080, 3_000_000), (2560 * 1440, 5_000_000),
               (3840 * 2160, 8_000_000)),
    "screen": ((320 * 180, 150_000), (640 * 360, 500_000), (960 * 540, 1_100_000),
               (1280 * 720, 2_200_000), (1920 * 1080, 4_500_000), (2560 * 1440, 6_000_000),
               (3840 * 2160, 8_000_000)),
}
_REF_FPS: dict[Content, tuple[float, float]] = {"camera": (30.0, 0.6), "screen": (15.0, 0.5)}


def bitrate_for(width: int, height: int, fps: float, content: Content = "camera") -> int:
    """Start/ceiling bitrate (bps) for ``width``x``height`` at ``fps`` of ``content``.

    Apply with :func:`apply_bitrate` (or ``encoder.target_bitrate``); REMB and
    :func:`loss_adjusted_bitrate` adjust it from there.
    """
    if content not in BITRATE_TABLE:
        raise ValueError(f"unknown content {content!r}")
    rows = BITRATE_TABLE[content]
    pixels = max(1, width * height)
    if pixels <= rows[0][0]:
        base = rows[0][1] * pixels / rows[0][0]
    elif pixels >= rows[-1][0]:
        base = rows[-1][1]
    else:
        base = rows[-1][1]
        for (p0, b0), (p1, b1) in itertools.pairwise(rows):
            if p0 <= pixels <= p1:
                base = b0 + (b1 - b0) * (pixels - p0) / (p1 - p0)
                break
    ref_fps, exponent = _REF_FPS[content]
    scaled = base * (min(60.0, max(1.0, fps)) / ref_fps) ** exponent
    clamped = max(MIN_BITRATE, min(MAX_BITRATE, scaled))
    return int(round(clamped / 10_000) * 10_000)


def loss_adjusted_bitrate(current: int, fraction_lost: float, ceiling: int) -> int:
    """Loss-based step (as in WebRTC's GCC): >10 % loss cuts by half the loss rate, <2 %
    grows 5 % up to ``ceiling``, in between holds. Feed it RTCP receiver-report loss."""
    loss = min(1.0, max(0.0, fraction_lost))
    if loss > 0.10:
        new = current * (1 - 0.5 * loss)
    elif loss < 0.02:
        new = min(current * 1.05, ceiling)
    else:
        new = current
    return int(max(MIN_BITRATE, min(new, max(ceiling, MIN_BITRATE))))


def main() -> None:  # pragma: no cover - manual tool
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(format_probe_report(probe_h264_encoders()))


if __name__ == "__main__":  # pragma: no cover
    main()
