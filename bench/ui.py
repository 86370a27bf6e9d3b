"""UI benchmark: the desktop application's cold start, and how its UI thread copes with nine
remote videos, with livekit-client in headless Chromium rendering the same nine videos as the
anchor, side by side in one run.

(a) Cold start, three times, each in a fresh process (``--role cold``): from just before the
    process is spawned to an interactive Home window: the window shown, Home's first paint
    done, and then the event loop idle (a zero-timer posted after that paint has fired). The
    child also times its own phases (imports, QApplication, window, first paint). Median of
    the runs; the first may pay for a cold file cache.

(b) Responsiveness: the application (``--role gui``, French, 1280x800, synthetic devices,
    no camera or microphone of its own) hosts a meeting on this computer; nine guests join it
    from another process (``--role guests``: our Room, each publishing the 640x360 test
    pattern at 15 fps in VP8, no audio, subscribing to nothing). Once the nine tiles show
    video, after ``--warmup`` seconds, over ``--duration`` seconds:

    * UI-thread stalls: a 5 ms Qt timer (Qt.PreciseTimer) records the gaps between its
      ticks (max, p99, counts over 50 and 100 ms); a probe thread posts a queued signal to
      the UI thread every 20 ms and records how long it waits (the event-loop latency);
    * the paint rate of each tile (paint events counted by an event filter on the tiles) and
      the rate of frames arriving for it (FrameStore frame counts);
    * the GUI process's CPU (utime + stime from /proc, % of one core), the UI thread's share,
      and its memory (PSS from /proc/<pid>/smaps_rollup, sampled every second).

    The application's process also runs the meeting's room server, which forwards the nine
    streams; the figures are the whole process's.

(c) The anchor, in the same run right after (b): the application's window is hidden (its
    tiles pause their videos, so it only forwards to Chromium), and Debian's headless
    Chromium (through Playwright, as bench/join.py does) joins with livekit-client
    (tests/browser/harness.html, adaptive stream and dynacast off), subscribes to the same
    nine streams and renders them in <video> elements of the tiles' size in the same grid,
    on a 1280x800 page. Over the same duration: Chromium's CPU and PSS (summed over its
    process tree), and the frames each <video> displayed. The application's process is
    sampled meanwhile too: what it then uses is the server's forwarding, which gives a second
    ratio with that share taken out of ours.

Ratios are ours / anchor (below 1: ours uses less). The machine and its other users' load are
reported beside the figures; nothing is asserted.

Usage (from the repository root, in the project's virtual environment; Linux, an X display
or Xvfb)::

    python bench/ui.py                 # 3 cold starts, 20 s per window
    python bench/ui.py --duration 10 --cold-runs 1 --out /tmp/ui.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from _report import write_report  # bench/_report.py, beside this script
from join import (  # bench/join.py: the same /proc accounting and formatting
    _fmt,
    _ratio,
    descendants,
    describe_process,
    read_memory,
    scan_processes,
    system_cpu,
    thread_cpu,
)

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
if str(ROOT) not in sys.path:  # run as a script: make visio_desktop and tests.support importable
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench.ui")

WIDTH, HEIGHT = 1280, 800  # the window, and Chromium's page
GUESTS = 9
VIDEO_W, VIDEO_H, VIDEO_FPS = 640, 360, 15.0
HEARTBEAT_MS = 5
PROBE_MS = 20
SAMPLE_S = 0.5  # process CPU sampling period (PSS every 2nd sample)
DEFAULT_OUT = ROOT / "bench" / "results" / "ui.json"
SYNTHETIC = {"camera": "none", "microphone": "none", "speaker": "none"}

TITLE = "Visio Desktop UI benchmark (cold start; nine remote videos vs livekit-client in Chromium)"
MEASURED = (
    "cold start to an interactive Home (median of fresh processes); with nine remote 640x360 "
    "15 fps videos on screen: UI-thread stalls (5 ms heartbeat gaps, event-loop latency), "
    "paint rate per tile, CPU (% of one core) and PSS of the GUI process"
)
ANCHOR = (
    "livekit-client in Debian's headless Chromium rendering the same nine streams in <video> "
    "elements of the same size, in the same run, right after: CPU and PSS of its process tree"
)


# ---------------------------------------------------------------------------------------------
# small helpers


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def schedstat(pid: int, tid: int) -> tuple[float, float] | None:
    """(seconds on a CPU, seconds waiting for one while runnable) of a thread."""
    try:
        on_cpu, waiting, _slices = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e9, int(waiting) / 1e9


@contextlib.contextmanager
def x_display() -> Iterator[str]:
    """The X display to use: $DISPLAY, else an Xvfb of 1280x800 started here (and stopped)."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("no DISPLAY and no Xvfb (apt-get install xvfb)")
    number = next((n for n in range(90, 140) if not Path(f"/tmp/.X{n}-lock").exists()
                   and not Path(f"/tmp/.X11-unix/X{n}").exists()), None)
    if number is None:
        raise RuntimeError("no free X display in :90-:140")
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", f"{WIDTH}x{HEIGHT}x24",
                             "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            if proc.poll() is not None:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.1)
        os.environ["DISPLAY"] = f":{number}"
        yield f":{number}"
    finally:
        os.environ.pop("DISPLAY", None)
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.poll() is None:
            proc.kill()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "xcb"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# ---------------------------------------------------------------------------------------------
# process sampling (CPU and PSS of named groups of processes)


@dataclass
class Sample:
    at: float
    cpu: dict[str, dict[tuple[int, int], float]]  # group -> (pid, start) -> cpu seconds
    pss_kib: dict[str, float] | None
    system: tuple[float, float] | None


@dataclass
class Sampler:
    """Every SAMPLE_S: the CPU time of each group's processes; every 2nd sample their PSS."""

    groups: dict[str, Callable[[dict[int, Any]], list[int]]]
    samples: list[Sample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def take(self, memory: bool) -> None:
        table = scan_processes()
        cpu: dict[str, dict[tuple[int, int], float]] = {}
        pss: dict[str, float] | None = {} if memory else None
        for name, select in self.groups.items():
            pids = select(table)
            cpu[name] = {(pid, table[pid].start): table[pid].cpu_s for pid in pids
                         if pid in table}
            if pss is not None:
                pss[name] = sum((read_memory(pid) or {}).get("Pss", 0) for pid in pids)
        self.samples.append(Sample(time.monotonic(), cpu, pss, system_cpu()))

    async def _run(self) -> None:
        count = 0
        while True:
            try:
                self.take(count % 2 == 0)
            except Exception:  # a missed sample is harmless
                log.exception("sampling")
            count += 1
            await asyncio.sleep(SAMPLE_S)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def window(self, start: float, end: float) -> dict[str, Any]:
        inside = [s for s in self.samples if start <= s.at <= end]
        if len(inside) < 2:
            return {"error": f"{len(inside)} samples in the window"}
        first, last = inside[0], inside[-1]
        span = last.at - first.at
        out: dict[str, Any] = {"span_s": round(span, 2)}
        for name in self.groups:
            used = 0.0
            for key, cpu in last.cpu[name].items():
                before = first.cpu[name].get(key)
                used += cpu - before if before is not None else cpu
            pss = [s.pss_kib[name] / 1024.0 for s in inside if s.pss_kib is not None]
            out[name] = {
                "cpu_percent": round(100.0 * used / span, 1),
                "processes": len(last.cpu[name]),
                "pss_mib_mean": round(statistics.fmean(pss), 1) if pss else None,
                "pss_mib_max": round(max(pss), 1) if pss else None,
            }
        if first.system is not None and last.system is not None:
            busy = (last.system[0] - first.system[0]) / span
            total = (last.system[1] - first.system[1]) / span
            known = sum(out[name]["cpu_percent"] for name in self.groups) / 100.0
            out["machine"] = {"busy_percent": round(100.0 * busy, 1),
                              "cores": round(total, 2),
                              "other_processes_percent": round(100.0 * max(0.0, busy - known),
                                                               1)}
        return out


def tree(root: int) -> Callable[[dict[int, Any]], list[int]]:
    return lambda table: descendants(root, table)


def chromium_of(root: int) -> Callable[[dict[int, Any]], list[int]]:
    """Chromium's processes below ``root`` (not Playwright's node driver)."""
    def select(table: dict[int, Any]) -> list[int]:
        return [pid for pid in descendants(root, table)
                if describe_process(pid, table[pid].comm)[1]]
    return select


# ---------------------------------------------------------------------------------------------
# (a) cold start


def role_cold(args: argparse.Namespace) -> int:
    """One cold start; prints the phases' monotonic times as JSON on stdout."""
    marks: dict[str, float] = {"child_start": time.monotonic()}
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer

    from visio_desktop.config import MemoryStore, Settings
    from visio_desktop.engine import Engine
    from visio_desktop.ui.app import apply_theme, create_application, install_translations
    from visio_desktop.ui.main_window import MainWindow

    marks["imports_done"] = time.monotonic()
    app = create_application(["visio-desktop"])
    marks["qapplication"] = time.monotonic()
    install_translations(app, "fr")
    apply_theme(app, "light")
    engine = Engine().start()
    tmp = tempfile.mkdtemp(prefix="bench-ui-cold-")
    window = MainWindow(engine, Settings(MemoryStore()), media=dict(SYNTHETIC),
                        qsettings=QSettings(str(Path(tmp) / "w.ini"),
                                            QSettings.Format.IniFormat))
    marks["window_built"] = time.monotonic()

    def done() -> None:
        marks["idle"] = time.monotonic()
        print(json.dumps({"marks": marks}), flush=True)
        engine.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        os._exit(0)  # nothing to tear down that matters: skip Qt's and Python's teardown

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "first_paint" not in marks:
                marks["first_paint"] = time.monotonic()
                QTimer.singleShot(0, done)  # fires once the queued events are handled
            return False

    watcher = FirstPaint()
    window.home.installEventFilter(watcher)
    window.resize(WIDTH, HEIGHT)
    window.show()
    marks["shown"] = time.monotonic()
    QTimer.singleShot(20000, lambda: (print(json.dumps({"error": "no paint in 20 s"}),
                                            flush=True), os._exit(1)))
    return app.exec()


async def cold_starts(runs: int) -> dict[str, Any]:
    results: list[dict[str, float]] = []
    errors: list[str] = []
    for _ in range(runs):
        spawned = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SELF), "--role", "cold", cwd=ROOT, env=child_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            errors.append("a cold start took over 60 s")
            continue
        try:
            marks = json.loads(out.decode().strip().splitlines()[-1])["marks"]
        except (ValueError, IndexError, KeyError):
            errors.append(f"cold start said {out[-300:]!r} {err[-500:]!r}")
            continue
        row = {"spawn_to_interactive_ms": 1000.0 * (marks["idle"] - spawned),
               "spawn_to_first_paint_ms": 1000.0 * (marks["first_paint"] - spawned),
               "interpreter_start_ms": 1000.0 * (marks["child_start"] - spawned),
               "imports_ms": 1000.0 * (marks["imports_done"] - marks["child_start"]),
               "qapplication_ms": 1000.0 * (marks["qapplication"] - marks["imports_done"]),
               "window_ms": 1000.0 * (marks["window_built"] - marks["qapplication"]),
               "show_to_first_paint_ms": 1000.0 * (marks["first_paint"] - marks["shown"]),
               "first_paint_to_idle_ms": 1000.0 * (marks["idle"] - marks["first_paint"]),
               "in_process_to_interactive_ms": 1000.0 * (marks["idle"] - marks["child_start"])}
        results.append({k: round(v, 1) for k, v in row.items()})
        await asyncio.sleep(0.5)
    median = {key: round(statistics.median(r[key] for r in results), 1)
              for key in (results[0] if results else {})}
    return {"runs": results, "median": median, "errors": errors}


# ---------------------------------------------------------------------------------------------
# (b) the GUI under load (child process)


def role_gui(args: argparse.Namespace) -> int:
    """The application hosting the meeting; JSON events on stdout, commands on stdin."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, Qt, QTimer, Signal, Slot

    from visio_desktop.config import MemoryStore, Settings
    from visio_desktop.engine import Engine
    from visio_desktop.ui.app import apply_theme, create_application, install_translations
    from visio_desktop.ui.main_window import MainWindow

    def emit(event: str, **data: Any) -> None:
        print(json.dumps({"event": event, "t": time.monotonic(), **data}), flush=True)

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            wait(50)

    class Commands(QObject):
        received = Signal(str)

    class Probe(QObject):
        ping = Signal(float)

    class ProbeReceiver(QObject):
        """Lives in the UI thread: a queued call to it waits for the UI thread's loop."""

        def __init__(self) -> None:
            super().__init__()
            self.latencies: list[float] = []

        @Slot(float)
        def pong(self, sent: float) -> None:
            self.latencies.append(1000.0 * (time.perf_counter() - sent))

    app = create_application(["visio-desktop"])
    install_translations(app, "fr")
    apply_theme(app, "light")
    engine = Engine().start()
    settings = Settings(MemoryStore())
    settings.set("local/bind_lan", False)
    tmp = tempfile.mkdtemp(prefix="bench-ui-gui-")
    window = MainWindow(engine, settings, media=dict(SYNTHETIC),
                        qsettings=QSettings(str(Path(tmp) / "w.ini"),
                                            QSettings.Format.IniFormat))
    window.resize(WIDTH, HEIGHT)
    window.show()
    commands: list[str] = []
    reader = Commands()
    reader.received.connect(commands.append)

    def read_stdin() -> None:
        for line in sys.stdin:
            reader.received.emit(line.strip())
        reader.received.emit("quit")

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()

    try:
        wait_until(window.isVisible, 10, "the window")
        window.host_meeting()
        prejoin = window.prejoin
        assert prejoin is not None
        prejoin.name_edit.setText("Hôte du banc d'essai")
        prejoin.join_button.click()
        wait_until(lambda: window.call_page is not None, 30, "the call page")
        page, meeting, call = window.call_page, window.local_meeting, window.call
        assert page is not None and meeting is not None and call is not None
        assert meeting.server is not None and meeting.meeting is not None
        dialog = getattr(window, "meeting_info", None)
        if dialog is not None:
            dialog.close()
        # the host's own tile (an avatar: no camera) and nine guests: one page of ten tiles
        # (the stage shows nine a page by default, which would page one guest out of view)
        page.stage._page_size = args.guests + 1
        tokens = [meeting.server.meetings.token(meeting.meeting, name=f"Invité {i + 1}",
                                                identity=f"guest-{i + 1}")
                  for i in range(args.guests)]
        anchor = meeting.server.meetings.token(meeting.meeting, name="Chromium",
                                               identity="anchor-chromium")
        emit("hosting", url=meeting.local_url, tokens=tokens, anchor_token=anchor)

        def remote_live() -> list[Any]:
            tiles = [page.stage.tile(key) for key in page.stage.tile_keys()]
            return [t for t in tiles if t is not None and t.isVisible()
                    and t.video_key() is not None
                    and call.frames.frame_count(t.video_key() or "") >= 10]

        wait_until(lambda: len(remote_live()) >= args.guests, 120, "video in every guest tile")
        tiles = remote_live()
        sizes = sorted({(t.width(), t.height()) for t in tiles})
        emit("live", tile_sizes=sizes, tiles=len(page.stage.visible_tiles()))
        wait(int(args.warmup * 1000))

        # -- the measured window --------------------------------------------------------------
        paints: dict[str, int] = {t.key(): 0 for t in tiles}

        class PaintCounter(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    key = watched.key()  # type: ignore[attr-defined]
                    if key in paints:
                        paints[key] += 1
                return False

        counter = PaintCounter()
        for tile in tiles:
            tile.installEventFilter(counter)
        gaps: list[float] = []
        last_tick = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(1000.0 * (now - last_tick[0]))
            last_tick[0] = now

        heartbeat = QTimer()
        heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(tick)
        probe, receiver = Probe(), ProbeReceiver()
        probe.ping.connect(receiver.pong, Qt.ConnectionType.QueuedConnection)
        latencies = receiver.latencies
        probing = threading.Event()

        def probe_loop() -> None:
            while not probing.wait(PROBE_MS / 1000.0):
                probe.ping.emit(time.perf_counter())

        frames0 = {t.key(): call.frames.frame_count(t.video_key() or "") for t in tiles}
        threads0 = thread_cpu(os.getpid())
        sched0 = schedstat(os.getpid(), os.getpid())
        started = time.monotonic()
        emit("window_start")
        last_tick[0] = time.perf_counter()
        heartbeat.start()
        prober = threading.Thread(target=probe_loop, name="probe", daemon=True)
        prober.start()
        wait(int(args.duration * 1000))
        heartbeat.stop()
        probing.set()
        ended = time.monotonic()
        threads1 = thread_cpu(os.getpid())
        sched1 = schedstat(os.getpid(), os.getpid())
        if args.screenshot:
            window.grab().save(args.screenshot, "PNG")
        frames1 = {t.key(): call.frames.frame_count(t.video_key() or "") for t in tiles}
        emit("window_end")
        prober.join(1)
        for tile in tiles:
            tile.removeEventFilter(counter)
        span = ended - started
        pid = str(os.getpid())  # thread_cpu is keyed by the tid as /proc names it
        ui = threads1.get(pid, ("", 0.0))[1] - threads0.get(pid, ("", 0.0))[1]
        others: dict[str, float] = {}
        for tid, (name, cpu) in threads1.items():
            if tid != pid:
                before = threads0.get(tid)
                # Python's threads (the engine, executors) all keep the process's name
                label = "python threads" if name == "python" else name
                others[label] = others.get(label, 0.0) + cpu - (before[1] if before else 0.0)
        waited = (sched1[1] - sched0[1]) if sched0 is not None and sched1 is not None else None
        paint_rates = [paints[k] / span for k in paints]
        frame_rates = [(frames1[k] - frames0[k]) / span for k in paints]
        stalls = [g - HEARTBEAT_MS for g in gaps]
        emit("measured", span_s=round(span, 2), result={
            "heartbeat": {
                "interval_ms": HEARTBEAT_MS, "ticks": len(gaps),
                "expected_ticks": round(span * 1000 / HEARTBEAT_MS),
                "gap_ms_p50": _r(percentile(gaps, 50), 2),
                "gap_ms_p99": _r(percentile(gaps, 99), 1),
                "gap_ms_max": _r(max(gaps) if gaps else None, 1),
                "stall_ms_p99": _r(percentile(stalls, 99), 1),
                "stall_ms_max": _r(max(stalls) if stalls else None, 1),
                "gaps_over_50ms": sum(g > 50 for g in gaps),
                "gaps_over_100ms": sum(g > 100 for g in gaps),
                "stalled_ms_total_over_16ms": round(sum(g - 16.7 for g in gaps if g > 16.7)),
            },
            "event_loop_latency": {
                "probe_every_ms": PROBE_MS, "probes": len(latencies),
                "ms_p50": _r(percentile(latencies, 50), 2),
                "ms_p99": _r(percentile(latencies, 99), 1),
                "ms_max": _r(max(latencies) if latencies else None, 1),
            },
            "tiles": {
                "count": len(tiles), "sizes": sizes,
                "paint_fps_mean": _r(statistics.fmean(paint_rates), 2),
                "paint_fps_min": _r(min(paint_rates), 2),
                "paint_fps_max": _r(max(paint_rates), 2),
                "frames_in_fps_mean": _r(statistics.fmean(frame_rates), 2),
                "frames_in_fps_min": _r(min(frame_rates), 2),
                "painted_share_of_frames_in": _r(sum(paint_rates) / sum(frame_rates), 3)
                if sum(frame_rates) else None,
            },
            "ui_thread_runqueue_wait_ms_per_s": _r(1000.0 * waited / span, 1)
            if waited is not None else None,
            "per_tile": [{"paint_fps": round(p, 2), "frames_in_fps": round(f, 2)}
                         for p, f in zip(paint_rates, frame_rates, strict=True)],
            "threads_cpu_percent": {
                "ui_thread": round(100.0 * ui / span, 1),
                **{name: round(100.0 * cpu / span, 1)
                   for name, cpu in sorted(others.items(), key=lambda kv: -kv[1])
                   if cpu / span >= 0.005},
            },
        })

        # -- (c): hide the window (its tiles pause their videos), wait for the end ------------
        wait_until(lambda: bool(commands), 600, "a command")
        while commands:
            command = commands.pop(0)
            if command == "hide":
                window.hide()
                wait(500)
                emit("hidden")
                wait_until(lambda: bool(commands), 600, "a command")
            elif command == "quit":
                break
        window.leave()
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: window.call is None, 15, "leaving")
    except Exception as exc:
        emit("error", error=repr(exc))
        log.exception("gui role")
        engine.stop(2)
        os._exit(1)
    engine.stop(5)
    shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# the guests (child process)


def role_guests(args: argparse.Namespace) -> int:
    from visio_desktop.media.synthetic_tracks import PatternVideoTrack
    from visio_desktop.net.room import Room

    tokens = json.loads(Path(args.tokens).read_text())

    async def run() -> None:
        rooms: list[Room] = []
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            for token in tokens:
                room = Room()
                await room.connect(args.url, token, auto_subscribe=False)
                rooms.append(room)
                track = PatternVideoTrack(VIDEO_W, VIDEO_H, VIDEO_FPS, source="camera")
                await room.publish_track(track, "camera")
            print(json.dumps({"event": "published", "count": len(rooms)}), flush=True)
            await stop.wait()
        finally:
            for room in rooms:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(room.disconnect(), 5)

    asyncio.run(run())
    return 0


# ---------------------------------------------------------------------------------------------
# the orchestrator


class Child:
    """A child process whose stdout is one JSON event a line."""

    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, args: list[str], log_path: Path) -> Child:
        with log_path.open("wb") as log_file:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(SELF), *args, cwd=ROOT, env=child_env(),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=log_file, start_new_session=True)
        return cls(proc, log_path)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(raw))

    async def wait_for(self, event: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for record in self.events:
                if record.get("event") == event:
                    return record
                if record.get("event") == "error":
                    raise RuntimeError(f"{self.log_path.stem}: {record.get('error')}")
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.log_path.stem}: no {event!r} within {timeout_s:g} s; "
                           f"log: {self.tail()}")

    def send(self, line: str) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.write((line + "\n").encode())

    def tail(self, lines: int = 12) -> list[str]:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return []

    async def stop(self, timeout_s: float = 15.0) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()


ANCHOR_CSS = """
#remote-media {{ position: fixed; left: 0; top: 0; width: {W}px; height: {H}px;
  opacity: 1 !important; display: grid; grid-template-columns: repeat({cols}, {tw}px);
  gap: 8px; padding: 8px; box-sizing: border-box; align-content: center;
  justify-content: center; background: #1c1d20; pointer-events: none; }}
#remote-media video {{ width: {tw}px !important; height: {th}px !important;
  object-fit: contain; background: #000; }}
#remote-media audio {{ display: none; }}
"""

VIDEO_STATS_JS = """() => Array.from(document.querySelectorAll('#remote-media video')).map(v => {
  const q = v.getVideoPlaybackQuality();
  return {sid: v.dataset.trackSid, w: v.videoWidth, h: v.videoHeight,
          cw: v.clientWidth, ch: v.clientHeight,
          total: q.totalVideoFrames, dropped: q.droppedVideoFrames, paused: v.paused};
})"""


async def anchor_window(url: str, token: str, live: dict[str, Any],
                        args: argparse.Namespace) -> dict[str, Any]:
    from tests.support.browser import BrowserParticipant

    tw, th = live["tile_sizes"][0] if live.get("tile_sizes") else (400, 225)
    cols = math.ceil(math.sqrt(args.guests))  # 3x3: the nine videos at the tiles' size
    out: dict[str, Any] = {"errors": []}
    async with BrowserParticipant("anchor") as browser:
        info = await browser.info()
        out["versions"] = {"livekit-client": info.get("version"),
                           "user_agent": info.get("userAgent")}
        await browser.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        await browser.page.add_style_tag(content=ANCHOR_CSS.format(
            W=WIDTH, H=HEIGHT, cols=cols, tw=tw, th=th))
        await browser.join(url, token, log_level="warn")
        deadline = time.monotonic() + 60
        videos: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            videos = await browser.page.evaluate(VIDEO_STATS_JS)
            if len([v for v in videos if v["total"] >= 10]) >= args.guests:
                break
            await asyncio.sleep(0.5)
        else:
            out["errors"].append(f"only {len(videos)} videos playing in Chromium")
        await asyncio.sleep(args.warmup)
        before = {v["sid"]: v for v in await browser.page.evaluate(VIDEO_STATS_JS)}
        started = time.monotonic()
        await asyncio.sleep(args.duration)
        ended = time.monotonic()
        after = await browser.page.evaluate(VIDEO_STATS_JS)
        span = ended - started
        shown = [((v["total"] - v["dropped"]) - (before[v["sid"]]["total"]
                                                   - before[v["sid"]]["dropped"])) / span
                 for v in after if v["sid"] in before]
        out.update({
            "window": (started, ended),
            "videos": len(after),
            "video_sizes": sorted({f"{v['w']}x{v['h']}" for v in after}),
            "element_sizes": sorted({f"{v['cw']}x{v['ch']}" for v in after}),
            "displayed_fps_mean": _r(statistics.fmean(shown), 2) if shown else None,
            "displayed_fps_min": _r(min(shown), 2) if shown else None,
            "dropped_frames": sum(v["dropped"] - before[v["sid"]]["dropped"]
                                  for v in after if v["sid"] in before),
        })
        if args.anchor_screenshot:
            await browser.page.screenshot(path=args.anchor_screenshot)
        with contextlib.suppress(Exception):
            await browser.leave()
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(TITLE)
    print(f"measures: {MEASURED}")
    print(f"anchor:   {ANCHOR}")
    print(f"machine:  {platform.system()} {platform.machine()}, {cores} CPU cores usable, "
          f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(flush=True)
    failures: list[str] = []
    notes: list[str] = []

    print(f"(a) cold start x{args.cold_runs} ...", flush=True)
    cold = await cold_starts(args.cold_runs)
    failures += [f"cold start: {e}" for e in cold["errors"]]
    print(f"    median {_fmt(cold['median'].get('spawn_to_interactive_ms'), 0)} ms to an "
          f"interactive Home", flush=True)

    gui_result: dict[str, Any] = {}
    ours_usage: dict[str, Any] = {}
    anchor: dict[str, Any] = {}
    anchor_usage: dict[str, Any] = {}
    live: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp_name:
        tmp = Path(tmp_name)
        gui = await Child.start(["--role", "gui", "--guests", str(args.guests),
                                 "--duration", str(args.duration),
                                 "--warmup", str(args.warmup),
                                 *(["--screenshot", args.screenshot] if args.screenshot
                                   else [])], tmp / "gui.log")
        guests: Child | None = None
        sampler: Sampler | None = None
        try:
            hosting = await gui.wait_for("hosting", 60)
            (tmp / "tokens.json").write_text(json.dumps(hosting["tokens"]))
            guests = await Child.start(["--role", "guests", "--url", hosting["url"],
                                        "--tokens", str(tmp / "tokens.json")],
                                       tmp / "guests.log")
            sampler = Sampler({"gui": tree(gui.proc.pid), "guests": tree(guests.proc.pid),
                               "chromium": chromium_of(os.getpid()),
                               "bench": lambda table: [os.getpid()]})
            sampler.start()
            print(f"(b) {args.guests} guests joining (640x360 at {VIDEO_FPS:g} fps each) ...",
                  flush=True)
            await guests.wait_for("published", 120)
            live = await gui.wait_for("live", 120)
            print(f"    {live['tiles']} tiles on screen, remote ones "
                  f"{'/'.join(f'{w}x{h}' for w, h in live['tile_sizes'])}; measuring "
                  f"{args.duration:g} s after {args.warmup:g} s ...", flush=True)
            start = await gui.wait_for("window_start", 60)
            measured = await gui.wait_for("measured", args.duration + 60)
            end = next(e for e in gui.events if e["event"] == "window_end")
            gui_result = measured["result"]
            ours_usage = sampler.window(start["t"], end["t"])
            print(f"    GUI process {_fmt(ours_usage['gui']['cpu_percent'])}% CPU, PSS "
                  f"{_fmt(ours_usage['gui']['pss_mib_mean'], 0)} MiB", flush=True)

            print("(c) anchor: Chromium + livekit-client on the same nine streams ...",
                  flush=True)
            gui.send("hide")
            await gui.wait_for("hidden", 30)
            try:
                anchor = await anchor_window(hosting["url"], hosting["anchor_token"], live,
                                             args)
                anchor_usage = sampler.window(*anchor.pop("window"))
                failures += [f"anchor: {e}" for e in anchor.pop("errors")]
                print(f"    Chromium {_fmt(anchor_usage['chromium']['cpu_percent'])}% CPU, "
                      f"PSS {_fmt(anchor_usage['chromium']['pss_mib_mean'], 0)} MiB; the "
                      f"hidden app (forwarding) {_fmt(anchor_usage['gui']['cpu_percent'])}%",
                      flush=True)
            except Exception as exc:
                log.exception("anchor")
                failures.append(f"anchor: {exc!r}")
            gui.send("quit")
        except Exception as exc:
            log.exception("responsiveness")
            failures.append(f"responsiveness: {exc!r}; gui log: {gui.tail()}")
        finally:
            if sampler is not None:
                await sampler.stop()
            if guests is not None:
                await guests.stop()
            await gui.stop(20)

    ours = ours_usage.get("gui") or {}
    theirs = anchor_usage.get("chromium") or {}
    forwarding = (anchor_usage.get("gui") or {}).get("cpu_percent")
    ours_cpu = ours.get("cpu_percent")
    ours_minus_server = (round(ours_cpu - forwarding, 1)
                         if ours_cpu is not None and forwarding is not None else None)
    ratios = {
        "cpu": _ratio(ours_cpu, theirs.get("cpu_percent")),
        "cpu_without_server_forwarding": _ratio(ours_minus_server, theirs.get("cpu_percent")),
        "pss": _ratio(ours.get("pss_mib_mean"), theirs.get("pss_mib_mean")),
        "fps_shown": _ratio((gui_result.get("tiles") or {}).get("paint_fps_mean"),
                            anchor.get("displayed_fps_mean")),
    }
    machine = [u.get("machine", {}).get("other_processes_percent")
               for u in (ours_usage, anchor_usage) if u]
    if any(m is not None and m > 20 for m in machine):
        notes.append(f"other processes on this machine used {machine} % of a core during the "
                     "two windows (ours, anchor): the figures carry their noise")
    notes += [
        "the application's process hosts the meeting: its CPU includes the room server "
        "receiving and forwarding the nine streams; 'cpu_without_server_forwarding' takes "
        "away what the same process used while only forwarding (window hidden, Chromium "
        "subscribed), an estimate",
        "the stage shows nine tiles a page by default; the benchmark raises it to ten "
        "(the host's avatar and nine guests) through Stage._page_size so that every video is "
        "on screen",
        "heartbeat and probe run on the measured process itself (Python, under its GIL): a "
        "probe whose sending thread waits for the GIL understates the latency",
        "Chromium runs headless with --disable-gpu (software compositing), as in bench/join.py",
    ]
    print()
    print_table(cold, gui_result, ours_usage, anchor, anchor_usage, ratios, ours_minus_server)
    print()
    print("notes:")
    for note in notes:
        print(f"  - {note}")
    return {
        "benchmark": "ui",
        "title": TITLE,
        "measured": MEASURED,
        "anchor": ANCHOR,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_cores": cores, "load_average_at_start": os.getloadavg(),
                     "display": os.environ.get("DISPLAY"), "versions": versions()},
        "config": {"cold_runs": args.cold_runs, "guests": args.guests,
                   "video": {"width": VIDEO_W, "height": VIDEO_H, "fps": VIDEO_FPS,
                             "codec": "VP8", "simulcast": False, "audio": None},
                   "window": [WIDTH, HEIGHT], "duration_s": args.duration,
                   "warmup_s": args.warmup, "heartbeat_ms": HEARTBEAT_MS,
                   "probe_ms": PROBE_MS, "language": "fr"},
        "cold_start": cold,
        "ours": {"ui": gui_result, "usage": ours_usage, "tiles_on_screen": live},
        "anchor_result": {**anchor, "usage": anchor_usage},
        "ours_cpu_without_server_forwarding_percent": ours_minus_server,
        "ratios": ratios,
        "notes": notes,
        "failures": failures,
        "ok": not failures,
    }


def print_table(cold: dict[str, Any], ui: dict[str, Any], ours: dict[str, Any],
                anchor: dict[str, Any], theirs: dict[str, Any], ratios: dict[str, Any],
                ours_minus_server: float | None) -> None:
    m = cold.get("median", {})
    print(f"cold start (median of {len(cold.get('runs', []))}): "
          f"{_fmt(m.get('spawn_to_interactive_ms'), 0)} ms spawn -> interactive Home "
          f"(interpreter {_fmt(m.get('interpreter_start_ms'), 0)}, imports "
          f"{_fmt(m.get('imports_ms'), 0)}, QApplication {_fmt(m.get('qapplication_ms'), 0)}, "
          f"window {_fmt(m.get('window_ms'), 0)}, show->paint "
          f"{_fmt(m.get('show_to_first_paint_ms'), 0)}, paint->idle "
          f"{_fmt(m.get('first_paint_to_idle_ms'), 0)}); runs: "
          + ", ".join(_fmt(r["spawn_to_interactive_ms"], 0) for r in cold.get("runs", [])))
    hb, lat = ui.get("heartbeat", {}), ui.get("event_loop_latency", {})
    tiles = ui.get("tiles", {})
    print(f"UI thread, {tiles.get('count', '-')} remote videos: heartbeat gap p99 "
          f"{_fmt(hb.get('gap_ms_p99'))} ms, max {_fmt(hb.get('gap_ms_max'))} ms, "
          f">50 ms: {_fmt(hb.get('gaps_over_50ms'))}, >100 ms: "
          f"{_fmt(hb.get('gaps_over_100ms'))}; event-loop latency p50 "
          f"{_fmt(lat.get('ms_p50'), 2)} / p99 {_fmt(lat.get('ms_p99'))} / max "
          f"{_fmt(lat.get('ms_max'))} ms; UI thread "
          f"{_fmt((ui.get('threads_cpu_percent') or {}).get('ui_thread'))}% of a core, waiting "
          f"for a CPU {_fmt(ui.get('ui_thread_runqueue_wait_ms_per_s'))} ms/s")
    row = "{:<34} {:>9} {:>12} {:>12} {:>10}"
    print()
    print(row.format("", "CPU %", "PSS MiB", "fps/video", "machine %"))
    o, a = ours.get("gui") or {}, theirs.get("chromium") or {}
    print(row.format("ours (GUI process, hosting)", _fmt(o.get("cpu_percent")),
                     f"{_fmt(o.get('pss_mib_mean'), 0)}/{_fmt(o.get('pss_mib_max'), 0)}",
                     f"{_fmt(tiles.get('paint_fps_mean'))} paint",
                     _fmt((ours.get("machine") or {}).get("busy_percent"))))
    print(row.format("ours minus forwarding (est.)", _fmt(ours_minus_server), "", "", ""))
    print(row.format("anchor (Chromium tree)", _fmt(a.get("cpu_percent")),
                     f"{_fmt(a.get('pss_mib_mean'), 0)}/{_fmt(a.get('pss_mib_max'), 0)}",
                     f"{_fmt(anchor.get('displayed_fps_mean'))} shown",
                     _fmt((theirs.get("machine") or {}).get("busy_percent"))))
    print(row.format("app hidden, forwarding only", _fmt((theirs.get("gui") or {})
                                                         .get("cpu_percent")), "", "", ""))
    print(row.format("guests (9 publishers)", _fmt((ours.get("guests") or {})
                                                   .get("cpu_percent")), "", "", ""))
    print()
    print("ratios ours/anchor: " + ", ".join(f"{k} {_fmt(v, 2)}" for k, v in ratios.items()))
    print(f"frames in per tile {_fmt(tiles.get('frames_in_fps_mean'))} fps (min "
          f"{_fmt(tiles.get('frames_in_fps_min'))}); painted/in "
          f"{_fmt(tiles.get('painted_share_of_frames_in'), 2)}; Chromium videos "
          f"{anchor.get('videos', '-')} at {anchor.get('video_sizes', '-')} in "
          f"{anchor.get('element_sizes', '-')}, dropped {anchor.get('dropped_frames', '-')}")
    threads = ui.get("threads_cpu_percent") or {}
    print("GUI threads (% of a core): " + ", ".join(f"{k} {v}" for k, v in threads.items()))


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("PySide6-Essentials", "aiortc", "av", "livekit", "playwright"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    chromium = "/usr/bin/chromium"
    if Path(chromium).exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out["chromium"] = subprocess.run([chromium, "--version"], capture_output=True,
                                             text=True, timeout=10).stdout.strip()
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0,
                        help="seconds of each measured window (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds between all videos showing and the window (default 3)")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts (default 3)")
    parser.add_argument("--guests", type=int, default=GUESTS, help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", metavar="PNG",
                        help="save the application's window at the end of its window")
    parser.add_argument("--anchor-screenshot", metavar="PNG",
                        help="save Chromium's page at the end of its window")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    internal = parser.add_argument_group("internal (the subprocesses this bench starts)")
    internal.add_argument("--role", choices=("cold", "gui", "guests"), help=argparse.SUPPRESS)
    internal.add_argument("--url", help=argparse.SUPPRESS)
    internal.add_argument("--tokens", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.role == "cold":
        return role_cold(args)
    if args.role == "gui":
        return role_gui(args)
    if args.role == "guests":
        return role_guests(args)
    if not Path("/proc/self/smaps_rollup").exists():
        print("bench/ui.py needs Linux /proc (smaps_rollup)", file=sys.stderr)
        return 2
    for name in ("screenshot", "anchor_screenshot"):
        if getattr(args, name):
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    with x_display():
        report = asyncio.run(main_async(args))
    return write_report(report, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
