"""Forwarding benchmark: room-server CPU per forwarded stream and publisher→subscriber latency for
1 publisher → N subscribers (official LiveKit SDK clients), for several N side by side in one run.

For each N the room server runs in its own process (``python -m visio_desktop serve``), so that
its CPU time can be read from ``/proc/<pid>/stat`` (utime + stime, every thread; Linux only, or
``psutil`` where it is installed). The publisher (:class:`SdkParticipant`: a 640x360 test pattern
at 15 fps, VP8, simulcast off, and a 440 Hz tone) and the N subscribers run in this process.
A subscriber counts every decoded frame and reads the pattern's code band from every k-th one:
the latency is the wall-clock time from the publisher rendering the frame (the timestamp in the
band) to the subscriber receiving it decoded, so it includes encoding, the server, the
subscriber's jitter buffer, decoding and this process's event loop.

After a warm-up, CPU and media counters are sampled at the start and at the end of a
steady-state window. There is no livekit-server binary on this machine, so the comparison is
across N within one run, anchored at the smallest N.

At the end a short in-process check (1 publisher → 3 subscribers) looks at every subscriber
sender of a :class:`~visio_desktop.server.RoomServer` and checks that its encoder is a
``ForwardingPacker`` (packetizes forwarded frames, encodes nothing), never an aiortc codec.

Usage (from the repository root, in the project's virtual environment)::

    python bench/forwarding.py                # N = 1, 5, 20; 10 s window
    python bench/forwarding.py --quick        # N = 1, 5; 5 s window (a smoke run)
    python bench/forwarding.py --sizes 1,2,4 --window 20 --out /tmp/fwd.json

By default the subscribers join first and the publisher then publishes; ``--late-join`` makes
them join tracks that are already being forwarded instead.

Besides the server's CPU the report shows where the media path loses time or frames: the
publisher's and subscribers' WebRTC stats (frames encoded, received, decoded; jitter-buffer
delay; bandwidth limitation), this process's CPU by thread and its event-loop lag, and the load
from other processes on the machine, since all of it shares the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import platform
import secrets
import signal
import sys
import tempfile
import textwrap
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np
from livekit import rtc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make tests.support importable
    sys.path.insert(0, str(ROOT))

from _report import write_report  # noqa: E402 - bench/_report.py, beside this script

from tests.support.sdk_client import SdkParticipant  # noqa: E402
from visio_desktop.media.synthetic import analyse_tone, latency_ms, now_ms, read_pattern  # noqa: E402
from visio_desktop.net.token import create_token  # noqa: E402

log = logging.getLogger("bench.forwarding")

WIDTH, HEIGHT, FPS = 640, 360, 15.0
TONE_HZ = 440.0
SAMPLE_RATE = 48000
AUDIO_FRAME_MS = 100  # subscribers take audio in 100 ms frames (10 Python events a second)
ROOM = "bench"
PUBLISHER = "publisher"
API_KEY = "bench"
PROC_STAT = os.path.exists("/proc/self/stat")
DEFAULT_OUT = ROOT / "bench" / "results" / "forwarding.json"
IDLE_S = 2.0  # server CPU measured with nobody connected, before the publisher joins
CONNECT_PARALLEL = 4  # subscribers connecting at once
LATE_JOIN_S = 2.0  # with --late-join, how long after the publisher's first frames they join
LAG_TICK_S = 0.05  # event-loop lag probe period
RTP_COUNTERS = (  # WebRTC inbound-rtp counters read from the subscribers at window start and end
    "packets_received", "packets_lost", "frames_received", "frames_decoded", "frames_dropped",
    "jitter_buffer_delay", "jitter_buffer_emitted_count", "nack_count", "pli_count",
    "freeze_count",
)
SDK_QUEUE_OVERFLOW = "video stream queue overflow"  # the SDK's log line when it drops frames


class LogCounter(logging.Handler):
    """Counts the SDK's log records that contain ``needle``. For the video-queue overflow the
    SDK logs a stream's first dropped frame and every 100th, so the count only says whether
    Python fell behind; the frames lost that way are frames decoded less frames received."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.WARNING)
        self.needle = needle
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.count += 1


SDK_DROPS = LogCounter(SDK_QUEUE_OVERFLOW)

TITLE = "Visio Desktop forwarding benchmark (room server: 1 publisher → N subscribers)"
MEASURED = (
    "room-server CPU (separate process, utime+stime of all its threads) per forwarded stream "
    "(video and audio each count as one stream) and publisher→subscriber latency (pattern "
    "timestamp → decoded frame in a subscriber), official LiveKit SDK clients"
)
ANCHOR = (
    "the smallest N of this same run: growth ratios are value at N / value at that N. There is "
    "no livekit-server binary on this machine (no internet except package registries), so no "
    "reference SFU runs beside ours; the side-by-side comparison is across N within one run"
)


# ---------------------------------------------------------------------------------------------
# CPU accounting


class CpuProbe:
    """CPU seconds of a process (the server), of this process and of the whole machine."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.proc = Path(f"/proc/{pid}/stat").exists()
        self._psutil: Any = None
        if not self.proc:
            try:
                import psutil  # type: ignore[import-not-found, import-untyped, unused-ignore]
            except ImportError as exc:
                raise RuntimeError(
                    "reading another process's CPU time needs Linux /proc or psutil"
                ) from exc
            self._psutil = psutil

    @property
    def source(self) -> str:
        if self.proc:
            return "/proc/<pid>/stat utime+stime (Linux)"
        return "psutil cpu_times user+system (no /proc here)"

    def process_seconds(self, pid: int) -> float:
        if self.proc:
            text = Path(f"/proc/{pid}/stat").read_text()
            fields = text[text.rindex(")") + 2 :].split()  # fields[0] is field 3, "state"
            return (int(fields[11]) + int(fields[12])) / self.tick  # fields 14 and 15
        times = self._psutil.Process(pid).cpu_times()
        return float(times.user + times.system)

    def system(self) -> tuple[float, float] | None:
        """Busy and total CPU seconds of the machine (all cores), from /proc/stat."""
        try:
            first = Path("/proc/stat").read_text().splitlines()[0].split()
        except OSError:
            return None
        values = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
        total = sum(values)
        idle = values[3] + values[4]
        return (total - idle) / self.tick, total / self.tick

    def threads(self, pid: int) -> dict[str, float]:
        """CPU seconds of a process's threads, summed by thread name (Linux only; the bench's
        own main thread, which runs Python and its event loop, is named "main")."""
        out: dict[str, float] = {}
        if not self.proc:
            return out
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                text = (task / "stat").read_text()
            except OSError:  # the thread ended meanwhile
                continue
            name = "main" if task.name == str(pid) else text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            seconds = (int(fields[11]) + int(fields[12])) / self.tick
            out[name] = out.get(name, 0.0) + seconds
        return out

    def sample(self) -> CpuSample:
        return CpuSample(
            at=time.monotonic(),
            server=self.process_seconds(self.pid),
            bench=self.process_seconds(os.getpid()),
            system=self.system(),
            bench_threads=self.threads(os.getpid()),
        )


@dataclass(frozen=True, slots=True)
class CpuSample:
    at: float
    server: float
    bench: float
    system: tuple[float, float] | None
    bench_threads: dict[str, float]

    def usage(self, later: CpuSample) -> dict[str, Any]:
        """CPU between two samples: percent of one core (server, bench) and of all (system)."""
        span = later.at - self.at
        system: float | None = None
        if self.system is not None and later.system is not None:
            total = later.system[1] - self.system[1]
            system = 100.0 * (later.system[0] - self.system[0]) / total if total > 0 else None
        threads = {
            name: 100.0 * (seconds - self.bench_threads.get(name, 0.0)) / span
            for name, seconds in later.bench_threads.items()
        }
        return {
            "bench_threads_percent": {name: round(pct, 1) for name, pct in sorted(
                threads.items(), key=lambda item: -item[1])[:8] if pct >= 0.5},
            "span_s": span,
            "server_cpu_s": later.server - self.server,
            "server_percent": 100.0 * (later.server - self.server) / span,
            "bench_percent": 100.0 * (later.bench - self.bench) / span,
            "system_busy_percent": system,
        }


# ---------------------------------------------------------------------------------------------
# the server process


class ServerProcess:
    """``python -m visio_desktop serve`` on a free loopback port; stops on SIGTERM."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str, log_file: IO[bytes]) -> None:
        self.proc = proc
        self.url = url
        self.log_file = log_file

    @classmethod
    async def start(cls, key: str, secret: str, verbose: bool = False) -> ServerProcess:
        log_file = tempfile.TemporaryFile()  # closed in stop()
        args = ["-m", "visio_desktop", "serve", "--bind", "127.0.0.1", "--port", "0",
                "--keys", f"{key}:{secret}"]
        if verbose:
            args.append("--verbose")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=log_file
        )
        assert proc.stdout is not None
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30.0)).decode().strip()
        except TimeoutError:
            line = ""
        if not line.startswith("ready "):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            log_file.seek(0)
            detail = log_file.read().decode(errors="replace")[-2000:]
            log_file.close()
            raise RuntimeError(f"room server did not start (said {line!r}): {detail}")
        return cls(proc, line.split()[1], log_file)

    async def stop(self, timeout_s: float = 15.0) -> dict[str, Any]:
        """SIGTERM, wait; SIGKILL if it does not leave in time. Returns the exit and log tail."""
        killed = False
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout_s)
            except TimeoutError:
                killed = True
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        self.log_file.seek(0)
        lines = self.log_file.read().decode(errors="replace").splitlines()
        self.log_file.close()
        return {"exit_code": self.proc.returncode, "killed": killed,
                "log_lines": len(lines), "log_tail": lines[-15:]}


# ---------------------------------------------------------------------------------------------
# a light subscriber on the official SDK


@dataclass(frozen=True, slots=True)
class SubscriberCounters:
    frames: int
    sampled: int
    decoded: int
    audio_samples: int


@dataclass
class LightSubscriber:
    """Subscribes to everything; counts decoded video frames and audio samples, and reads the
    test pattern (latency) from every ``sample_every``-th frame only, to spare the CPU that the
    server shares with this process."""

    identity: str
    sample_every: int
    room: rtc.Room | None = None
    frames: int = 0
    sampled: int = 0
    decoded: int = 0
    audio_samples: int = 0
    latencies: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, ms)
    audio_tail: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=10))
    errors: list[str] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def connect(self, url: str, token: str) -> None:
        room = rtc.Room()
        self.room = room
        room.on("track_subscribed", self._on_track_subscribed)
        await room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))

    def counters(self) -> SubscriberCounters:
        return SubscriberCounters(self.frames, self.sampled, self.decoded, self.audio_samples)

    async def rtp_stats(self) -> dict[str, dict[str, float]]:
        """The SDK's WebRTC inbound-rtp counters, summed by kind ("video", "audio"): what the
        subscriber's transport received from the server, before this process's Python."""
        out: dict[str, dict[str, float]] = {}
        if self.room is None:
            return out
        try:
            stats = await self.room.get_rtc_stats()
        except Exception as exc:
            self.errors.append(f"get_rtc_stats: {exc!r}")
            return out
        for entry in stats.subscriber_stats:
            if not entry.HasField("inbound_rtp"):
                continue
            rtp = entry.inbound_rtp
            sums = out.setdefault(rtp.stream.kind, {})
            for name in RTP_COUNTERS:
                source = rtp.received if name in ("packets_received", "packets_lost") \
                    else rtp.inbound
                sums[name] = sums.get(name, 0.0) + float(getattr(source, name))
        return out

    def tone_hz(self) -> float | None:
        if not self.audio_tail:
            return None
        return analyse_tone(np.concatenate(list(self.audio_tail)), SAMPLE_RATE).frequency_hz

    async def disconnect(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.room is not None:
            with contextlib.suppress(Exception):
                await self.room.disconnect()

    def _on_track_subscribed(
        self, track: rtc.Track, publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if isinstance(track, rtc.RemoteVideoTrack):
            self._spawn(self._video(track))
        elif isinstance(track, rtc.RemoteAudioTrack):
            self._spawn(self._audio(track))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, coro: Any) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.errors.append(repr(exc))

    async def _video(self, track: rtc.RemoteVideoTrack) -> None:
        stream = rtc.VideoStream(track)  # the decoder's own buffers (I420): no conversion
        try:
            async for event in stream:
                self.frames += 1
                if self.frames % self.sample_every == 0:
                    self._sample(event.frame)
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()

    def _sample(self, frame: rtc.VideoFrame) -> None:
        arrived = now_ms()
        self.sampled += 1
        rgba = frame.convert(rtc.VideoBufferType.RGBA)
        image = np.frombuffer(rgba.data, dtype=np.uint8).reshape(rgba.height, rgba.width, 4)
        reading = read_pattern(image)
        if reading is not None:
            self.decoded += 1
            self.latencies.append((time.monotonic(), latency_ms(reading.timestamp_ms, arrived)))

    async def _audio(self, track: rtc.RemoteAudioTrack) -> None:
        stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1,
                                 frame_size_ms=AUDIO_FRAME_MS)
        try:
            async for event in stream:
                frame = event.frame
                self.audio_samples += frame.samples_per_channel
                self.audio_tail.append(np.frombuffer(frame.data, dtype=np.int16).copy())
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()


class LoopLag:
    """How late this process's event loop wakes a periodic task (a latency confounder)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (monotonic, lag ms)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(LAG_TICK_S)
            now = time.monotonic()
            self.samples.append((now, 1000.0 * (now - before - LAG_TICK_S)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def between(self, start: float, end: float) -> list[float]:
        return [lag for at, lag in self.samples if start <= at <= end]


# ---------------------------------------------------------------------------------------------
# one size


def _stats(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"median": None, "p95": None, "min": None, "max": None, "samples": 0}
    arr = np.asarray(values, dtype=np.float64)
    return {
        "median": round(float(np.median(arr)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
        "min": round(float(arr.min()), 2),
        "max": round(float(arr.max()), 2),
        "samples": int(arr.size),
    }


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": round(float(np.mean(values)), 3), "min": round(float(min(values)), 3),
            "max": round(float(max(values)), 3)}


QUALITY_LIMITATION = {0: "none", 1: "cpu", 2: "bandwidth", 3: "other"}  # WebRTC stats enum
PUBLISHER_COUNTERS = ("frames_encoded", "frames_sent", "key_frames_encoded", "pli_count")


async def publisher_video_stats(room: rtc.Room | None) -> dict[str, Any]:
    """The publisher's WebRTC outbound-rtp video counters (summed over its streams)."""
    out: dict[str, Any] = dict.fromkeys((*PUBLISHER_COUNTERS, "bytes_sent"), 0.0)
    if room is None:
        return out
    with contextlib.suppress(Exception):
        stats = await room.get_rtc_stats()
        for entry in stats.publisher_stats:
            if not entry.HasField("outbound_rtp") or entry.outbound_rtp.stream.kind != "video":
                continue
            rtp = entry.outbound_rtp
            for name in PUBLISHER_COUNTERS:
                out[name] += float(getattr(rtp.outbound, name))
            out["bytes_sent"] += float(rtp.sent.bytes_sent)
            out["size"] = f"{rtp.outbound.frame_width}x{rtp.outbound.frame_height}"
            reason = int(rtp.outbound.quality_limitation_reason)
            out["quality_limitation"] = QUALITY_LIMITATION.get(reason, str(reason))
    return out


def _publisher_view(before: dict[str, Any], after: dict[str, Any], captured: int,
                    window: float, span: float) -> dict[str, Any]:
    """``captured`` frames over the measured ``window``; WebRTC counters over ``span``."""
    return {
        "captured_fps": round(captured / window, 2),
        "encoded_fps": round((after["frames_encoded"] - before["frames_encoded"]) / span, 2),
        "sent_fps": round((after["frames_sent"] - before["frames_sent"]) / span, 2),
        "keyframes": int(after["key_frames_encoded"] - before["key_frames_encoded"]),
        "plis_from_server": int(after["pli_count"] - before["pli_count"]),
        "kbps": round(8.0 * (after["bytes_sent"] - before["bytes_sent"]) / span / 1000.0, 1),
        "size": after.get("size"),
        "quality_limitation": after.get("quality_limitation"),
    }


def _receiver_view(
    before: Sequence[dict[str, dict[str, float]]], after: Sequence[dict[str, dict[str, float]]],
    span: float,
) -> dict[str, Any]:
    """What the subscribers' WebRTC stacks saw over the window (inbound-rtp), per kind: rates
    per subscriber, losses, and the mean jitter-buffer delay (part of the measured latency)."""
    view: dict[str, Any] = {}
    for kind in ("video", "audio"):
        deltas = [
            {name: a.get(kind, {}).get(name, 0.0) - b.get(kind, {}).get(name, 0.0)
             for name in RTP_COUNTERS}
            for b, a in zip(before, after, strict=True)
        ]
        if not deltas:
            continue
        total = {name: sum(d[name] for d in deltas) for name in RTP_COUNTERS}
        emitted = total["jitter_buffer_emitted_count"]
        entry: dict[str, Any] = {
            "packets_per_s_per_subscriber": round(total["packets_received"] / span
                                                  / len(deltas), 2),
            "packets_lost": int(total["packets_lost"]),
            "nacks": int(total["nack_count"]),
            "jitter_buffer_delay_ms": round(1000.0 * total["jitter_buffer_delay"] / emitted, 1)
            if emitted > 0 else None,
        }
        if kind == "video":
            entry.update({
                "frames_received_per_s_per_subscriber": _spread(
                    [d["frames_received"] / span for d in deltas]),
                "frames_decoded_per_s_per_subscriber": _spread(
                    [d["frames_decoded"] / span for d in deltas]),
                "frames_dropped": int(total["frames_dropped"]),
                "plis": int(total["pli_count"]),
                "freezes": int(total["freeze_count"]),
            })
        view[kind] = entry
    return view


def _others(usage: dict[str, Any]) -> float | None:
    """CPU of everything but the server and this process (other users of the machine), in
    percent of one core."""
    busy = usage["system_busy_percent"]
    if busy is None:
        return None
    total = busy * (os.cpu_count() or 1)  # /proc/stat's "cpu" line covers every core
    return round(max(total - float(usage["server_percent"] or 0.0)
                     - float(usage["bench_percent"] or 0.0), 0.0), 2)


def _load_average() -> float | None:
    with contextlib.suppress(OSError, AttributeError):
        return round(os.getloadavg()[0], 2)
    return None


async def _wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One server process, one publisher, ``n`` subscribers: warm-up, then a measured window."""
    secret = secrets.token_hex(32)
    server = await ServerProcess.start(API_KEY, secret, verbose=args.verbose)
    probe = CpuProbe(server.proc.pid)
    publisher = SdkParticipant(PUBLISHER)
    subscribers = [LightSubscriber(f"sub-{i:02d}", args.sample_every) for i in range(n)]
    lag = LoopLag()
    result: dict[str, Any] = {"subscribers": n, "streams_forwarded": 2 * n}
    try:
        # the server with nobody connected: its fixed cost (WebSocket heartbeats, timers)
        idle0 = probe.sample()
        await asyncio.sleep(IDLE_S)
        idle = idle0.usage(probe.sample())

        def token(identity: str) -> str:
            return create_token(API_KEY, secret, identity=identity, room=ROOM)

        started = time.monotonic()
        await publisher.connect(server.url, token(PUBLISHER))
        gate = asyncio.Semaphore(CONNECT_PARALLEL)

        async def join(sub: LightSubscriber) -> None:
            async with gate:
                await sub.connect(server.url, token(sub.identity))

        async def join_all() -> None:
            # every connect runs to its end before a failure is raised, so that none is left
            # half-way when the subscribers are disconnected
            outcomes = await asyncio.gather(*(join(sub) for sub in subscribers),
                                            return_exceptions=True)
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:
                raise RuntimeError(f"{len(failed)} of {n} subscribers could not join: "
                                   f"{failed[0]!r}")

        if not args.late_join:  # everyone in the room, then the publisher starts
            await join_all()
        await publisher.publish_pattern(WIDTH, HEIGHT, FPS, simulcast=False)
        await publisher.publish_tone(TONE_HZ)
        if args.late_join:  # subscribers join tracks that are already being forwarded
            await _wait_until(lambda: all(o.sent > 0 for o in publisher.outgoing.values()), 10.0)
            await asyncio.sleep(LATE_JOIN_S)  # the server is forwarding by then
            await join_all()
        receiving = await _wait_until(
            lambda: all(s.frames > 0 and s.audio_samples > 0 for s in subscribers),
            30.0 + 2.0 * n,
        )
        result["setup_s"] = round(time.monotonic() - started, 2)
        result["all_receiving_before_warmup"] = receiving
        lag.start()
        await asyncio.sleep(args.warmup)

        video_sid = next(sid for sid, o in publisher.outgoing.items()
                         if isinstance(o.track, rtc.LocalVideoTrack))


        async def webrtc_stats() -> tuple[dict[str, Any], list[dict[str, dict[str, float]]],
                                           float]:
            """Publisher and subscriber WebRTC counters, and the middle of the time they took."""
            asked = time.monotonic()
            pub, subs = await asyncio.gather(
                publisher_video_stats(publisher.room),
                asyncio.gather(*(s.rtp_stats() for s in subscribers)),
            )
            return pub, list(subs), (asked + time.monotonic()) / 2.0

        pub0, rtp0, stats_at0 = await webrtc_stats()
        sent0 = publisher.outgoing[video_sid].sent
        before = [s.counters() for s in subscribers]
        drops0 = SDK_DROPS.count
        cpu0 = probe.sample()
        await asyncio.sleep(args.window)
        cpu1 = probe.sample()
        after = [s.counters() for s in subscribers]
        drops1 = SDK_DROPS.count
        sent1 = publisher.outgoing[video_sid].sent
        pub1, rtp1, stats_at1 = await webrtc_stats()
        stats_span = stats_at1 - stats_at0
        usage = cpu0.usage(cpu1)
        span = float(usage["span_s"] or 0.0)

        latencies = [ms for s in subscribers for at, ms in s.latencies if cpu0.at <= at <= cpu1.at]
        per_sub_median = [
            float(np.median(v)) for s in subscribers
            if (v := [ms for at, ms in s.latencies if cpu0.at <= at <= cpu1.at])
        ]
        fps = [(a.frames - b.frames) / span for a, b in zip(after, before, strict=True)]
        audio = [(a.audio_samples - b.audio_samples) / (SAMPLE_RATE * span)
                 for a, b in zip(after, before, strict=True)]
        sampled = sum(a.sampled - b.sampled for a, b in zip(after, before, strict=True))
        decoded = sum(a.decoded - b.decoded for a, b in zip(after, before, strict=True))
        publisher_fps = (sent1 - sent0) / span
        observed = sum(f > 0 for f in fps) + sum(a > 0 for a in audio)
        server_share = float(usage["server_percent"] or 0.0) / 100.0
        idle_share = float(idle["server_percent"] or 0.0) / 100.0
        tones = [s.tone_hz() for s in subscribers]
        result.update({
            "window_s": round(span, 3),
            "streams_observed": observed,
            "server_cpu_s": round(float(usage["server_cpu_s"] or 0.0), 3),
            "server_cpu_percent": round(100.0 * server_share, 2),
            "server_idle_cpu_percent": round(100.0 * idle_share, 2),
            "cpu_s_per_s_per_stream": round(server_share / (2 * n), 5),
            "cpu_s_per_s_per_stream_above_idle": round(max(server_share - idle_share, 0.0)
                                                       / (2 * n), 5),
            "latency_ms": _stats(latencies),
            "per_subscriber_median_latency_ms": _spread(per_sub_median),
            "publisher_fps": round(publisher_fps, 2),
            "publisher_webrtc": _publisher_view(pub0, pub1, sent1 - sent0, span, stats_span),
            "fps_per_subscriber": _spread(fps),
            "video_delivery_ratio": round(float(np.mean(fps)) / publisher_fps, 4)
            if publisher_fps > 0 else None,
            "audio_delivery_ratio": _spread(audio),
            "pattern_decode_ratio": round(decoded / sampled, 4) if sampled else None,
            "frames_sampled": sampled,
            "tone_ok": sum(t is not None and abs(t - TONE_HZ) < 5.0 for t in tones),
            "bench_process_cpu_percent": round(float(usage["bench_percent"] or 0.0), 2),
            "system_busy_percent": None if usage["system_busy_percent"] is None
            else round(float(usage["system_busy_percent"]), 2),
            "bench_threads_cpu_percent": usage["bench_threads_percent"],
            "other_processes_cpu_percent": _others(usage),
            "load_average_1m": _load_average(),
            "event_loop_lag_ms": _stats(lag.between(cpu0.at, cpu1.at)),
            "sdk_queue_overflow_warnings": drops1 - drops0,
            "receiver_webrtc": _receiver_view(rtp0, rtp1, stats_span),
            "subscriber_errors": [e for s in subscribers for e in s.errors][:10],
            "publisher_errors": publisher.errors[:10],
        })
        result["ok"] = (receiving and observed == 2 * n and bool(latencies)
                        and not result["subscriber_errors"])
        return result
    finally:
        await lag.stop()
        await asyncio.gather(*(s.disconnect() for s in subscribers), return_exceptions=True)
        await publisher.disconnect()
        result["server"] = await server.stop()


# ---------------------------------------------------------------------------------------------
# no per-subscriber encoder


async def check_encoders(subscribers: int = 3) -> dict[str, Any]:
    """In-process RoomServer, 1 publisher → ``subscribers``: every subscriber sender's encoder
    must be a ForwardingPacker, and no aiortc codec encoder may exist at all."""
    from aiortc.codecs.h264 import H264Encoder
    from aiortc.codecs.opus import OpusEncoder
    from aiortc.codecs.vpx import Vp8Encoder

    from visio_desktop.server import RoomServer
    from visio_desktop.server.forward import ForwardingPacker

    aiortc_encoders = (Vp8Encoder, H264Encoder, OpusEncoder)
    secret = secrets.token_hex(32)
    server = RoomServer(host="127.0.0.1", port=0, keys={API_KEY: secret})
    await server.start()
    publisher = SdkParticipant(PUBLISHER)
    subs = [SdkParticipant(f"check-{i}") for i in range(subscribers)]
    try:
        await publisher.connect(server.url, create_token(API_KEY, secret, identity=PUBLISHER,
                                                         room=ROOM))
        for sub in subs:
            await sub.connect(server.url, create_token(API_KEY, secret, identity=sub.identity,
                                                       room=ROOM))
        await publisher.publish_pattern(WIDTH, HEIGHT, FPS, simulcast=False)
        await publisher.publish_tone(TONE_HZ)
        for sub in subs:
            await sub.wait_for_video(PUBLISHER, min_decoded=5, timeout_s=20.0)
            await sub.wait_for_audio(PUBLISHER, seconds=0.5, timeout_s=20.0)
        senders: list[dict[str, Any]] = []
        for session in server.sessions():
            for sub_record in session.subscriptions.values():
                encoder = getattr(sub_record.transceiver.sender, "_RTCRtpSender__encoder", None)
                senders.append({
                    "subscriber": session.identity,
                    "kind": sub_record.down.kind,
                    "encoder": type(encoder).__name__,
                    "packer": isinstance(encoder, ForwardingPacker),
                    "aiortc_encoder": isinstance(encoder, aiortc_encoders),
                    "frames_sent": sub_record.down.frames_sent,
                })
        in_memory = sum(isinstance(o, aiortc_encoders) for o in gc.get_objects())
    finally:
        for participant in [*subs, publisher]:
            await participant.disconnect()
        await server.stop()
    packers = sum(s["packer"] for s in senders)
    encoders = sum(s["aiortc_encoder"] for s in senders)
    by_kind = {kind: sum(1 for s in senders if s["kind"] == kind and s["packer"])
               for kind in ("video", "audio")}
    return {
        "subscribers": subscribers,
        "subscriber_senders": len(senders),
        "forwarding_packers": packers,
        "forwarding_packers_by_kind": by_kind,
        "aiortc_encoders_on_senders": encoders,
        "other_encoders": len(senders) - packers - encoders,
        "aiortc_encoder_objects_in_process": in_memory,
        "all_senders_forwarded_frames": all(s["frames_sent"] > 0 for s in senders),
        "senders": senders,
        "ok": (len(senders) == 2 * subscribers and packers == len(senders) and encoders == 0
               and in_memory == 0 and all(s["frames_sent"] > 0 for s in senders)),
    }


# ---------------------------------------------------------------------------------------------
# report


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def growth(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    base = results[0]
    rows = []
    for r in results:
        rows.append({
            "subscribers": r["subscribers"],
            "cpu_per_stream": _ratio(r["cpu_s_per_s_per_stream"], base["cpu_s_per_s_per_stream"]),
            "cpu_per_stream_above_idle": _ratio(r["cpu_s_per_s_per_stream_above_idle"],
                                                base["cpu_s_per_s_per_stream_above_idle"]),
            "server_cpu_total": _ratio(r["server_cpu_percent"], base["server_cpu_percent"]),
            # what each stream added beyond the anchor costs (the fixed cost of receiving the
            # publisher is in the anchor's figure, so per-stream CPU falls as N grows)
            "marginal_cpu_s_per_s_per_added_stream": round(
                (r["server_cpu_percent"] - base["server_cpu_percent"]) / 100.0
                / (r["streams_forwarded"] - base["streams_forwarded"]), 5)
            if r["streams_forwarded"] > base["streams_forwarded"] else None,
            "latency_median": _ratio(r["latency_ms"]["median"], base["latency_ms"]["median"]),
            "latency_p95": _ratio(r["latency_ms"]["p95"], base["latency_ms"]["p95"]),
        })
    return rows


def print_table(results: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    head = (f"{'N':>3} {'streams':>7} {'srv CPU%':>8} {'idle%':>6} {'CPU s/s/stream':>14} "
            f"{'lat med':>7} {'lat p95':>7} {'fps/sub':>13} {'audio':>5} {'decode':>6} "
            f"{'bench%':>6} {'other%':>6} {'sys%':>5} {'lag p95':>7}")
    print(head)
    print("-" * len(head))
    for r in results:
        fps = r["fps_per_subscriber"]
        print(
            f"{r['subscribers']:>3} {r['streams_observed']:>3}/{r['streams_forwarded']:<3} "
            f"{_fmt(r['server_cpu_percent']):>8} {_fmt(r['server_idle_cpu_percent']):>6} "
            f"{_fmt(r['cpu_s_per_s_per_stream'], 4):>14} "
            f"{_fmt(r['latency_ms']['median'], 0):>7} {_fmt(r['latency_ms']['p95'], 0):>7} "
            f"{_fmt(fps['mean']) + ' (' + _fmt(fps['min']) + ')':>13} "
            f"{_fmt(r['audio_delivery_ratio']['min'], 2):>5} "
            f"{_fmt(r['pattern_decode_ratio'], 2):>6} "
            f"{_fmt(r['bench_process_cpu_percent'], 0):>6} "
            f"{_fmt(r['other_processes_cpu_percent'], 0):>6} "
            f"{_fmt(r['system_busy_percent'], 0):>5} "
            f"{_fmt(r['event_loop_lag_ms']['p95'], 0):>7}"
        )
    print()
    print(f"growth relative to N={rows[0]['subscribers']}:")
    for g in rows:
        print(f"  N={g['subscribers']:<3} CPU/stream x{_fmt(g['cpu_per_stream'], 2)} "
              f"(above idle x{_fmt(g['cpu_per_stream_above_idle'], 2)}), "
              f"server CPU total x{_fmt(g['server_cpu_total'], 2)}"
              + (f" (+{g['marginal_cpu_s_per_s_per_added_stream']:.4f} CPU s/s per added "
                 "stream)" if g["marginal_cpu_s_per_s_per_added_stream"] is not None else "")
              + ", "
              f"latency median x{_fmt(g['latency_median'], 2)}, p95 x{_fmt(g['latency_p95'], 2)}")


NOTES = [
    "Linux only as written: the server's CPU comes from /proc/<pid>/stat (psutil elsewhere).",
    "The publisher, the subscribers and the server share this machine's cores (and so do any "
    "other processes: see other%); when the machine is saturated, client-side delays (event-"
    "loop lag, jitter buffers) inflate the measured latency, and the server's bandwidth "
    "estimate can drop the publisher's bitrate.",
    "Latency is end to end: capture, encode, server, subscriber jitter buffer, decode and this "
    "process's Python; the server's own share is not separable from outside.",
    "CPU per stream counts video and audio as one stream each; the server's fixed cost "
    "(receiving the publisher) is in every figure, so per-stream CPU falls as N grows; the "
    "marginal cost per added stream is in the growth lines.",
]

LEGEND = """\
columns: streams = streams seen flowing / forwarded (video+audio per subscriber); srv CPU% =
server process CPU over the window (% of one core); idle% = the same with nobody connected;
CPU s/s/stream = server CPU-seconds per second / forwarded streams; lat = publisher→subscriber
latency in ms over all subscribers (sampled frames); fps/sub = decoded frames a second per
subscriber, mean (min); audio = least audio delivered / real time; decode = sampled frames whose
code band decoded; bench% = this process (publisher + subscribers); other% = every other
process on the machine (% of one core); sys% = whole machine busy (% of all cores); lag p95 =
this process's event-loop lag (ms), which adds to the measured latency."""


def print_path_table(results: list[dict[str, Any]]) -> None:
    print("media path over the same window (the clients' WebRTC stats; fps are per subscriber"
          " from rtp on):")
    head = (f"{'N':>3} {'cap fps':>7} {'enc fps':>7} {'sent as':>7} {'limit':>9} {'kbps':>6} "
            f"{'keys':>4} {'rtp fps':>7} "
            f"{'dec fps':>7} {'py fps':>6} {'lost v/a':>8} {'PLIs':>4} {'jb v':>5} {'jb a':>5}")
    print(head)
    print("-" * len(head))
    for r in results:
        pub = r["publisher_webrtc"]
        video = r["receiver_webrtc"].get("video", {})
        audio = r["receiver_webrtc"].get("audio", {})
        lost = f"{video.get('packets_lost', '-')}/{audio.get('packets_lost', '-')}"
        print(
            f"{r['subscribers']:>3} {_fmt(pub['captured_fps']):>7} {_fmt(pub['encoded_fps']):>7} "
            f"{_fmt(pub['size']):>7} {_fmt(pub['quality_limitation']):>9} "
            f"{_fmt(pub['kbps'], 0):>6} {pub['keyframes']:>4} "
            f"{_fmt(video.get('frames_received_per_s_per_subscriber', {}).get('mean')):>7} "
            f"{_fmt(video.get('frames_decoded_per_s_per_subscriber', {}).get('mean')):>7} "
            f"{_fmt(r['fps_per_subscriber']['mean']):>6} {lost:>8} "
            f"{_fmt(video.get('plis')):>4} "
            f"{_fmt(video.get('jitter_buffer_delay_ms'), 0):>5} "
            f"{_fmt(audio.get('jitter_buffer_delay_ms'), 0):>5}"
        )
    print("(cap = frames the publisher's Python captured; enc = frames its encoder produced;"
          "\n sent as, limit = the size it encoded and WebRTC's quality-limitation reason; kbps,"
          "\n keys = its video bitrate and keyframes; rtp = frames a subscriber assembled"
          " from the\n server's packets; dec = frames it decoded; py = frames that reached this"
          " process's\n Python (dec - py: frames the SDK dropped because Python fell behind);"
          " lost = packets\n lost video/audio; PLIs = sent by the subscribers; jb v, jb a = mean"
          " jitter-buffer delay\n in ms, video and audio (part of the latency))")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("livekit", "aiortc", "av", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(TITLE)
    print(f"measures: {MEASURED}")
    print(f"anchor:   {ANCHOR}")
    print(f"setup:    publisher {WIDTH}x{HEIGHT} test pattern at {FPS:g} fps (VP8, simulcast off)"
          f" + {TONE_HZ:g} Hz tone (Opus); subscribers read the pattern from every "
          f"k-th frame (k={args.sample_every}); warm-up {args.warmup:g} s, "
          f"window {args.window:g} s; sizes {', '.join(map(str, args.sizes))}; "
          + ("subscribers join forwarded tracks late" if args.late_join
             else "subscribers join, then the publisher publishes"))
    source = "/proc/<pid>/stat (Linux only)" if PROC_STAT else "psutil"
    print(f"machine:  {platform.system()} {platform.machine()}, {cores} CPU cores usable; "
          f"server CPU from {source}; the subscribers share the machine with the server")
    print(flush=True)
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    for n in args.sizes:
        print(f"N={n}: running ...", flush=True)
        try:
            result = await run_size(n, args)
        except Exception as exc:
            log.exception("N=%d failed", n)
            failures.append(f"N={n}: {exc!r}")
            continue
        results.append(result)
        server = result["server"]
        print(f"N={n}: server {_fmt(result['server_cpu_percent'])}% CPU, latency median "
              f"{_fmt(result['latency_ms']['median'], 0)} ms, setup {result['setup_s']} s, "
              f"server exit {server['exit_code']}{' (killed)' if server['killed'] else ''}"
              f"{'' if result['ok'] else '  [NOT OK: some streams missing or errors]'}",
              flush=True)
        threads = ", ".join(f"{name} {pct:g}%" for name, pct
                            in result["bench_threads_cpu_percent"].items())
        print(f"      bench process threads (% of one core): {threads or '-'}", flush=True)
        if not result["ok"] or server["exit_code"] != 0:
            failures.append(f"N={n}: ok={result['ok']}, server exit {server['exit_code']}")
        await asyncio.sleep(1.0)  # let the SDK release the last size's peer connections

    print("\nencoder check (in-process server, 1 publisher → 3 subscribers) ...", flush=True)
    try:
        encoders = await check_encoders()
    except Exception as exc:
        log.exception("encoder check failed")
        encoders = {"ok": False, "error": repr(exc)}
    if not encoders["ok"]:
        failures.append(f"encoder check: {encoders}")

    print()
    rows = growth(results) if results else []
    if results:
        print_table(results, rows)
        print()
        print_path_table(results)
        print()
        print(LEGEND)
    if "subscriber_senders" in encoders:
        print(f"\nper-subscriber encoders: {encoders['forwarding_packers']} of "
              f"{encoders['subscriber_senders']} subscriber senders use ForwardingPacker "
              f"({encoders['forwarding_packers_by_kind']}), "
              f"{encoders['aiortc_encoders_on_senders']} an aiortc encoder; aiortc encoder "
              f"objects in the process: {encoders['aiortc_encoder_objects_in_process']}"
              f" -> {'OK' if encoders['ok'] else 'FAILED'}")
    else:
        print(f"\nencoder check FAILED: {encoders.get('error')}")
    print("\nnotes:")
    for note in NOTES:
        print(textwrap.fill(note, 100, initial_indent="  - ", subsequent_indent="    "))

    report = {
        "benchmark": "forwarding",
        "title": TITLE,
        "measured": MEASURED,
        "anchor": ANCHOR,
        "comparison": "across N within one run; no livekit-server binary available here",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_cores": cores, "versions": versions(),
                     "cpu_source": "/proc/<pid>/stat utime+stime (Linux only); psutil elsewhere"},
        "config": {"sizes": args.sizes, "window_s": args.window, "warmup_s": args.warmup,
                   "idle_window_s": IDLE_S, "video": {"width": WIDTH, "height": HEIGHT,
                                                       "fps": FPS, "codec": "VP8",
                                                       "simulcast": False},
                   "audio": {"tone_hz": TONE_HZ, "codec": "Opus"},
                   "latency_sample_every": args.sample_every,
                   "join_order": "subscribers join after the publisher's tracks are up"
                   if args.late_join else "subscribers join, then the publisher publishes",
                   "streams_per_subscriber": 2},
        "results": results,
        "growth": rows,
        "no_per_subscriber_encoder": encoders,
        "notes": NOTES,
        "failures": failures,
        "ok": not failures,
    }
    return report


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes are integers, e.g. 1,5,20: {text!r}") from exc
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_sizes, default=[1, 5, 20],
                        help="subscriber counts, comma-separated (default 1,5,20)")
    parser.add_argument("--window", type=float, default=10.0,
                        help="measured steady-state window, seconds (default 10)")
    parser.add_argument("--warmup", type=float, default=4.0,
                        help="warm-up once every subscriber receives, seconds (default 4)")
    parser.add_argument("--sample-every", type=int, default=3,
                        help="subscribers read the pattern from every k-th frame (default 3)")
    parser.add_argument("--late-join", action="store_true",
                        help="subscribers join after the publisher's tracks are forwarding "
                        "(default: they join first, then the publisher publishes)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sizes 1,5 and a 5 s window")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.sizes, args.window = [1, 5], 5.0
    if args.sample_every < 1:
        args.sample_every = 1
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sdk_log = logging.getLogger("livekit")
    sdk_log.addHandler(SDK_DROPS)
    if not args.verbose:  # counted and reported instead of printed, one line a frame
        for handler in logging.getLogger().handlers:
            handler.addFilter(lambda record: SDK_QUEUE_OVERFLOW not in record.getMessage())
    report = asyncio.run(main_async(args))
    return write_report(report, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
