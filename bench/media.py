"""Media engine benchmark: CPU per frame of capture + encode (publisher side) and of decode +
convert (viewer side), side by side in one run.

Capture + encode, for each encoder that works here:

* camera case, 1280x720 at 30 fps: frames from :class:`PatternVideoTrack`'s rendering path
  (numpy test pattern, OpenCV RGB -> I420, ``av.VideoFrame``);
* screen case, 1920x1080 at 15 fps: a static BGRA image of text (``cv2.putText``; no X display
  needed), converted BGRA -> I420 every frame the way :class:`ScreenCaptureTrack` does. When
  ``DISPLAY`` is set, a third case grabs the real screen with mss (``--no-mss`` skips it).

Encoders: every H.264 encoder whose probe is ok (:func:`probe_h264_encoders`, run through our
:class:`HardwareH264Encoder`), aiortc's own ``H264Encoder`` (libx264) and aiortc's ``Vp8Encoder``
(libvpx), each at the start bitrate :func:`bitrate_for` gives (aiortc clamps its own encoders to
0.5..3 Mbps). CPU is ``time.process_time`` (every thread of this process, encoder threads
included) per frame; wall ms per frame and the output rate (RTP payload bytes, the first frames
excluded as warm-up) are shown beside it.

Decode + convert: 640x360 VP8 streams are encoded once from the pattern, then 1, 4 and 9 of them
are decoded interleaved (frame i of every stream, then frame i+1, as a call's grid would) with
PyAV, each decoded frame converted to RGB at its tile size with ``frame.reformat`` (libswscale):
1 stream -> 1280x720, 4 -> 640x360, 9 -> 426x240. Reported: CPU ms per decoded frame and CPU per
second of call at 30 fps (all streams), as % of one core.

Usage (from the repository root, in the project's virtual environment)::

    python bench/media.py               # 90 frames at 720p, 45 at 1080p, 90 per decoded stream
    python bench/media.py --quick       # a third of that (a smoke run)
    python bench/media.py --out /tmp/media.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fractions
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from aiortc.codecs.base import Encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from _report import write_report  # noqa: E402 - bench/_report.py, beside this script

from visio_desktop.media.encoders import (  # noqa: E402
    HardwareH264Encoder,
    bitrate_for,
    probe_h264_encoders,
)
from visio_desktop.media.synthetic_tracks import PatternVideoTrack  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "results" / "media.json"
TITLE = "Visio Desktop media benchmark (capture+encode per encoder, decode+convert per grid)"
MEASURED = ("process CPU time (time.process_time: all threads) per frame, wall ms per frame, "
            "output kbps; decode+convert CPU per frame and per second of call at 30 fps")
ANCHOR = ("encode: aiortc's own H264Encoder (libx264) in the same case; decode: 1 stream "
          "at 1280x720")
WARMUP_FRAMES = 3  # not timed: encoder open, first keyframe
DECODE_SIZE = (640, 360)
DECODE_FPS = 30.0
TILES: dict[int, tuple[int, int]] = {1: (1280, 720), 4: (640, 360), 9: (426, 240)}

NOTES = [
    "CPU is process time over the timed frames divided by their number, so encoder and "
    "decoder worker threads count; 100% of one core at 30 fps is 33.3 ms per frame.",
    "The screen case encodes a static image: after the first frames the encoder sees no "
    "change, as with a slide; a scrolling document costs more.",
    "aiortc's encoders clamp their bitrate to 0.5..3 Mbps, so at 1080p they get less than "
    "bitrate_for asks (the 'asked' column).",
    "Output kbps counts RTP payload bytes of the timed frames (warm-up and first keyframe "
    "excluded) at the case's frame rate.",
    "Convert is libswscale's default (bicubic) scaler: a 1280x720 upscale or a 426x240 "
    "downscale costs more than the colour conversion alone at 640x360.",
    "The machine's cores are shared with other work: compare rows of one run, not runs.",
]


@dataclass
class EncodeRow:
    case: str
    width: int
    height: int
    fps: float
    encoder: str
    frames: int
    bitrate_asked_kbps: float
    capture_cpu_ms: float  # per frame: render/grab + I420 convert
    encode_cpu_ms: float  # per frame: encode + RTP packetize
    total_cpu_ms: float
    wall_ms: float
    core_percent: float  # total CPU at the case's fps, % of one core
    output_kbps: float
    ratio_vs_anchor: float | None = None
    error: str | None = None


@dataclass
class DecodeRow:
    streams: int
    tile_width: int
    tile_height: int
    frames_per_stream: int
    decode_cpu_ms: float  # per decoded frame
    convert_cpu_ms: float  # per decoded frame
    total_cpu_ms: float
    wall_ms: float
    cpu_ms_per_call_second: float  # all streams, 30 fps
    core_percent: float
    ratio_vs_one: float | None = None


# --- sources ----------------------------------------------------------------------------------

Capture = Callable[[int], av.VideoFrame]


def pattern_capture(width: int, height: int) -> Capture:
    """The camera case: :class:`PatternVideoTrack`'s own render + convert."""
    track = PatternVideoTrack(width, height, paced=False)
    return track._render


def text_screen(width: int, height: int) -> npt.NDArray[np.uint8]:
    """A BGRA 'document' full of text, as mss would hand it over."""
    img = np.full((height, width, 4), 245, np.uint8)
    img[:, :, 3] = 255
    cv2.rectangle(img, (0, 0), (width, 40), (60, 60, 60, 255), -1)
    cv2.putText(img, "Visio Desktop - quarterly review.txt", (12, 28),
                cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255, 255), 1, cv2.LINE_AA)
    line = 0
    for y in range(70, height - 10, 22):
        text = (f"{line:4d}  The quick brown fox jumps over the lazy dog; 0123456789 "
                f"lorem ipsum dolor sit amet, consectetur adipiscing elit {line * 7919 % 1000}")
        cv2.putText(img, text, (12, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (30, 30, 30 + line % 3 * 60, 255), 1, cv2.LINE_AA)
        line += 1
    return img


def screen_capture(bgra: npt.NDArray[np.uint8]) -> Capture:
    """The screen case: BGRA -> I420 by OpenCV every frame, as ScreenCaptureTrack does."""
    def capture(_: int) -> av.VideoFrame:
        i420 = cv2.cvtColor(np.ascontiguousarray(bgra), cv2.COLOR_BGRA2YUV_I420)
        return av.VideoFrame.from_ndarray(i420, format="yuv420p")
    return capture


def mss_capture(width: int, height: int) -> tuple[Capture, Callable[[], None]] | None:
    """Real screen grab (first monitor) resized to width x height, or None without a display."""
    if not os.environ.get("DISPLAY"):
        return None
    try:
        import mss

        cls = getattr(mss, "MSS", None) or mss.mss
        sct = cls()
        monitor = sct.monitors[1]
    except Exception as exc:
        print(f"mss capture unavailable: {exc!r}")
        return None

    def capture(_: int) -> av.VideoFrame:
        bgra = np.asarray(sct.grab(monitor))
        if bgra.shape[:2] != (height, width):
            bgra = cv2.resize(bgra, (width, height), interpolation=cv2.INTER_AREA)
        i420 = cv2.cvtColor(np.ascontiguousarray(bgra), cv2.COLOR_BGRA2YUV_I420)
        return av.VideoFrame.from_ndarray(i420, format="yuv420p")
    return capture, sct.close


# --- capture + encode -------------------------------------------------------------------------


def make_encoders(bitrate: int) -> list[tuple[str, Callable[[], Encoder]]]:
    makers: list[tuple[str, Callable[[], Encoder]]] = []
    for probe in probe_h264_encoders():
        if probe.ok:
            name = probe.name
            makers.append((f"ours {name}",
                           lambda n=name: HardwareH264Encoder(n, fallbacks=[], bitrate=bitrate)))

    def aiortc_h264() -> Encoder:
        enc = H264Encoder()
        enc.target_bitrate = bitrate
        return enc

    def aiortc_vp8() -> Encoder:
        enc = Vp8Encoder()
        enc.target_bitrate = bitrate
        return enc

    makers.append(("aiortc H264 (libx264)", aiortc_h264))
    makers.append(("aiortc VP8 (libvpx)", aiortc_vp8))
    return makers


def run_encode(case: str, width: int, height: int, fps: float, frames: int,
               capture: Capture, label: str, make: Callable[[], Encoder],
               bitrate: int) -> EncodeRow:
    encoder = make()
    step = VIDEO_CLOCK_RATE / fps
    capture_cpu = encode_cpu = 0.0
    out_bytes = 0
    wall0 = cpu0 = 0.0
    for i in range(WARMUP_FRAMES + frames):
        if i == WARMUP_FRAMES:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            capture_cpu = encode_cpu = 0.0
            out_bytes = 0
        c0 = time.process_time()
        frame = capture(i)
        frame.pts = round(i * step)
        frame.time_base = VIDEO_TIME_BASE
        c1 = time.process_time()
        payloads, _ = encoder.encode(frame, force_keyframe=False)
        c2 = time.process_time()
        capture_cpu += c1 - c0
        encode_cpu += c2 - c1
        out_bytes += sum(len(p) for p in payloads)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    total_ms = cpu * 1000 / frames
    return EncodeRow(
        case=case, width=width, height=height, fps=fps, encoder=label, frames=frames,
        bitrate_asked_kbps=bitrate / 1000,
        capture_cpu_ms=round(capture_cpu * 1000 / frames, 3),
        encode_cpu_ms=round(encode_cpu * 1000 / frames, 3),
        total_cpu_ms=round(total_ms, 3), wall_ms=round(wall * 1000 / frames, 3),
        core_percent=round(total_ms * fps / 10, 1),
        output_kbps=round(out_bytes * 8 * fps / frames / 1000, 1),
    )


# --- decode + convert -------------------------------------------------------------------------


def vp8_stream(frames: int) -> list[bytes]:
    """``frames`` VP8 frames of the 640x360 pattern at 30 fps, realtime settings like aiortc's."""
    width, height = DECODE_SIZE
    render = pattern_capture(width, height)
    bitrate = bitrate_for(width, height, DECODE_FPS, "camera")
    ctx = av.CodecContext.create("libvpx", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.bit_rate = bitrate
    ctx.time_base = fractions.Fraction(1, round(DECODE_FPS))
    ctx.gop_size = 3000
    ctx.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0",
                   "minrate": str(bitrate), "maxrate": str(bitrate), "bufsize": str(bitrate)}
    packets: list[bytes] = []
    for i in range(frames):
        frame = render(i)
        frame.pts = i
        frame.time_base = ctx.time_base
        packets.extend(bytes(p) for p in ctx.encode(frame))
    packets.extend(bytes(p) for p in ctx.encode(None))
    return packets


def run_decode(streams: int, packets: list[bytes]) -> DecodeRow:
    tile_w, tile_h = TILES[streams]
    decoders = [av.CodecContext.create("vp8", "r") for _ in range(streams)]
    decode_cpu = convert_cpu = 0.0
    decoded = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for data in packets:
        for dec in decoders:  # interleaved: frame i of every tile, then frame i+1
            c0 = time.process_time()
            frames = dec.decode(av.Packet(data))
            c1 = time.process_time()
            for frame in frames:
                rgb = frame.reformat(width=tile_w, height=tile_h, format="rgb24")
                assert rgb.width == tile_w
                decoded += 1
            decode_cpu += c1 - c0
            convert_cpu += time.process_time() - c1
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    n = max(1, decoded)
    total_ms = cpu * 1000 / n
    per_second = total_ms * streams * DECODE_FPS
    return DecodeRow(
        streams=streams, tile_width=tile_w, tile_height=tile_h,
        frames_per_stream=decoded // streams,
        decode_cpu_ms=round(decode_cpu * 1000 / n, 3),
        convert_cpu_ms=round(convert_cpu * 1000 / n, 3),
        total_cpu_ms=round(total_ms, 3), wall_ms=round(wall * 1000 / n, 3),
        cpu_ms_per_call_second=round(per_second, 1), core_percent=round(per_second / 10, 1),
    )


# --- report -----------------------------------------------------------------------------------


def _ratio(value: float, anchor: float | None) -> float | None:
    return round(value / anchor, 2) if anchor else None


def print_encode_table(rows: list[EncodeRow]) -> None:
    head = (f"{'case':<14} {'encoder':<22} {'asked':>6} {'capt':>6} {'enc':>7} {'total':>7}"
            f" {'wall':>7} {'core%':>6} {'kbps':>7} {'x anchor':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        case = f"{r.case} {r.height}p{r.fps:g}"
        if r.error:
            print(f"{case:<14} {r.encoder:<22} FAILED: {r.error}")
            continue
        ratio = "-" if r.ratio_vs_anchor is None else f"{r.ratio_vs_anchor:.2f}"
        print(f"{case:<14} {r.encoder:<22} {r.bitrate_asked_kbps:>6.0f} {r.capture_cpu_ms:>6.2f}"
              f" {r.encode_cpu_ms:>7.2f} {r.total_cpu_ms:>7.2f} {r.wall_ms:>7.2f}"
              f" {r.core_percent:>6.1f} {r.output_kbps:>7.0f} {ratio:>8}")
    print("(asked = bitrate_for kbps; capt, enc, total = CPU ms per frame; wall = ms per frame;"
          "\n core% = total CPU at the case's fps as % of one core; x anchor = total / aiortc"
          " H264 in the same case)")


def print_decode_table(rows: list[DecodeRow]) -> None:
    head = (f"{'streams':>7} {'tile':>9} {'frames':>6} {'decode':>7} {'convert':>7} {'total':>7}"
            f" {'wall':>7} {'ms/s':>7} {'core%':>6} {'x 1':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        ratio = "-" if r.ratio_vs_one is None else f"{r.ratio_vs_one:.2f}"
        print(f"{r.streams:>7} {f'{r.tile_width}x{r.tile_height}':>9} {r.frames_per_stream:>6}"
              f" {r.decode_cpu_ms:>7.2f} {r.convert_cpu_ms:>7.2f} {r.total_cpu_ms:>7.2f}"
              f" {r.wall_ms:>7.2f} {r.cpu_ms_per_call_second:>7.1f} {r.core_percent:>6.1f}"
              f" {ratio:>6}")
    print("(decode, convert, total = CPU ms per decoded frame; ms/s = CPU ms per second of call,"
          "\n all streams at 30 fps; core% = the same as % of one core; x 1 = ms/s / 1 stream)")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("aiortc", "av", "numpy", "opencv-python", "opencv-python-headless", "mss"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    with contextlib.suppress(Exception):
        out["ffmpeg(libavcodec)"] = ".".join(map(str, av.library_versions["libavcodec"]))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(TITLE)
    print(f"measures: {MEASURED}")
    print(f"anchor:   {ANCHOR}")
    print(f"machine:  {platform.system()} {platform.machine()}, {cores} CPU cores usable; "
          f"frames: {args.frames_720} at 720p30, {args.frames_1080} at 1080p15, "
          f"{args.decode_frames} per decoded stream\n", flush=True)
    probes = probe_h264_encoders()
    print("H.264 probe: " + ", ".join(f"{p.name} {'ok' if p.ok else 'no'}" for p in probes))

    cases: list[tuple[str, int, int, float, int, str, Capture]] = [
        ("camera", 1280, 720, 30.0, args.frames_720, "camera", pattern_capture(1280, 720)),
        ("screen", 1920, 1080, 15.0, args.frames_1080, "screen",
         screen_capture(text_screen(1920, 1080))),
    ]
    closers: list[Callable[[], None]] = []
    if not args.no_mss:
        grabbed = mss_capture(1920, 1080)
        if grabbed is not None:
            cases.append(("mss", 1920, 1080, 15.0, args.frames_1080, "screen", grabbed[0]))
            closers.append(grabbed[1])
        else:
            print("mss case skipped (no DISPLAY)")

    encode_rows: list[EncodeRow] = []
    for case, width, height, fps, frames, content, capture in cases:
        bitrate = bitrate_for(width, height, fps, content)  # type: ignore[arg-type]
        case_rows: list[EncodeRow] = []
        for label, make in make_encoders(bitrate):
            print(f"  {case} {height}p{fps:g}: {label} ...", flush=True)
            try:
                row = run_encode(case, width, height, fps, frames, capture, label, make, bitrate)
            except Exception as exc:
                row = EncodeRow(case, width, height, fps, label, 0, bitrate / 1000,
                                0, 0, 0, 0, 0, 0, error=repr(exc))
            case_rows.append(row)
        anchor = next((r.total_cpu_ms for r in case_rows
                       if r.encoder.startswith("aiortc H264") and not r.error), None)
        for r in case_rows:
            if not r.error:
                r.ratio_vs_anchor = _ratio(r.total_cpu_ms, anchor)
        encode_rows.extend(case_rows)
    for close in closers:
        with contextlib.suppress(Exception):
            close()

    print(f"  preparing {args.decode_frames} VP8 frames at 640x360 ...", flush=True)
    packets = vp8_stream(args.decode_frames)
    stream_kbps = sum(len(p) for p in packets) * 8 * DECODE_FPS / max(1, len(packets)) / 1000
    decode_rows: list[DecodeRow] = []
    for n in sorted(TILES):
        print(f"  decode {n} stream(s) ...", flush=True)
        decode_rows.append(run_decode(n, packets))
    one = decode_rows[0].cpu_ms_per_call_second if decode_rows else None
    for r in decode_rows:
        r.ratio_vs_one = _ratio(r.cpu_ms_per_call_second, one)

    print("\ncapture + encode (CPU per frame)\n")
    print_encode_table(encode_rows)
    print(f"\ndecode + convert to RGB at tile size (640x360 VP8 streams, "
          f"{stream_kbps:.0f} kbps each)\n")
    print_decode_table(decode_rows)
    print("\nnotes:")
    for note in NOTES:
        print(f"  - {note}")

    failures = [f"{r.case} {r.encoder}: {r.error}" for r in encode_rows if r.error]
    return {
        "benchmark": "media",
        "title": TITLE,
        "measured": MEASURED,
        "anchor": ANCHOR,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_cores": cores, "versions": versions(),
                     "cpu_source": "time.process_time (all threads of this process)"},
        "config": {"frames_720p30": args.frames_720, "frames_1080p15": args.frames_1080,
                   "decode_frames_per_stream": args.decode_frames,
                   "warmup_frames": WARMUP_FRAMES, "decode_stream": {
                       "width": DECODE_SIZE[0], "height": DECODE_SIZE[1], "fps": DECODE_FPS,
                       "codec": "VP8", "kbps": round(stream_kbps, 1)},
                   "tiles": {str(k): list(v) for k, v in TILES.items()}},
        "h264_probe": [asdict(p) for p in probes],
        "encode": [asdict(r) for r in encode_rows],
        "decode": [asdict(r) for r in decode_rows],
        "notes": NOTES,
        "failures": failures,
        "ok": not failures,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-720", type=int, default=90,
                        help="timed frames per encoder at 720p30 (default 90)")
    parser.add_argument("--frames-1080", type=int, default=45,
                        help="timed frames per encoder at 1080p15 (default 45)")
    parser.add_argument("--decode-frames", type=int, default=90,
                        help="frames per decoded stream (default 90)")
    parser.add_argument("--no-mss", action="store_true",
                        help="skip the real-screen (mss) case even when DISPLAY is set")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 30 / 15 / 30 frames")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.frames_720, args.frames_1080, args.decode_frames = 30, 15, 30
    args.frames_720 = max(1, args.frames_720)
    args.frames_1080 = max(1, args.frames_1080)
    args.decode_frames = max(2, args.decode_frames)
    report = run(args)
    return write_report(report, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
