"""Screen capture benchmark: mss (what :class:`ScreenCaptureTrack` uses) against Qt Multimedia's
``QScreenCapture`` / ``QWindowCapture``, side by side in one run, on a private Xvfb display.

The script starts its own ``Xvfb`` (1920x1080x24; ``--also-1440`` adds a 2560x1440 display) and
a small Tk animator filling the screen with moving boxes and changing text, so every frame
differs. The animator also paints a time stamp (24 black/white squares, the low bits of
``CLOCK_MONOTONIC`` in ms, refreshed every 5 ms) in the top-left corner; decoding it from a
captured frame gives the *content age*: how old the picture is when it reaches Python (capture
latency, plus up to ~5 ms of stamp staleness).

Paths, each run in its own child process for ``--seconds`` (10) at ``--fps`` (15) after a 1 s
warm-up, every frame converted to I420 by :class:`ScreenCaptureTrack`'s own ``_capture`` (OpenCV
``cvtColor`` BGRA -> I420, INTER_AREA downscale above ``--max-height``):

* ``mss``: the track itself (mss 10 XShmGetImage backend), paced like ``recv()`` paces it;
* ``qt-screen-xshm``: ``QScreenCapture`` (FFmpeg backend) with ``XDG_SESSION_TYPE=x11``, which
  selects Qt's XShm grabber (``QX11SurfaceCapture``), ``setMaximumFrameRate(fps)``, frames from a
  ``QVideoSink`` mapped (``QVideoFrame.map``) and handed to the same conversion;
* ``qt-screen-grabwindow``: the same without ``XDG_SESSION_TYPE=x11`` (startx, some display
  managers): Qt then falls back to ``QScreen::grabWindow`` (``QGrabWindowSurfaceCapture``);
* ``qt-window``: ``QWindowCapture`` of the animator's top-level window (a ``QCapturableWindow``
  made from ``QWindow.fromWinId``; ``capturableWindows()`` needs a window manager's
  ``_NET_CLIENT_LIST`` and is empty on bare Xvfb), ``XDG_SESSION_TYPE=x11``.

Reported per path: frames converted / asked, frames Qt delivered, process CPU ms per frame
(``time.process_time`` of the child: every thread, Qt's grabber thread included), the X server's
extra CPU per grab (Xvfb's /proc CPU time above its rate while only the animator runs, over
every grab of the child, warm-up included: the server-side copy), wall ms per grab (mss: the
``grab`` call; Qt: its own "avg grabbing time" debug line) and per convert, and content age
(median / p95).

Usage (from the repository root, in the project's virtual environment)::

    python bench/screen_capture.py                  # 1080p, 10 s per path
    python bench/screen_capture.py --also-1440      # and a 2560x1440 display
    python bench/screen_capture.py --seconds 3      # a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from _report import write_report  # noqa: E402 - bench/_report.py, beside this script

DEFAULT_OUT = ROOT / "bench" / "results" / "screen_capture.json"
TITLE = "Visio Desktop screen capture benchmark (mss vs Qt QScreenCapture/QWindowCapture)"
MEASURED = ("frames converted to I420 / asked, process CPU ms per frame (all threads), X server "
            "CPU ms per grab above the animation baseline, wall ms per grab and per convert, "
            "content age (ms from the on-screen time stamp to the frame in Python)")
ANCHOR = "mss (ScreenCaptureTrack's own path) at the same size"
PATHS = ("mss", "qt-screen-xshm", "qt-screen-grabwindow", "qt-window")
WARMUP_S = 1.0
STAMP_BITS = 24
STAMP_CELL = 8  # px; the stamp is STAMP_BITS cells of STAMP_CELL x STAMP_CELL at (0, 0)
STAMP_MASK = (1 << STAMP_BITS) - 1
AGE_LIMIT_MS = 2000.0  # a torn or unreadable stamp gives nonsense: dropped
CHILD_TIMEOUT_S = 60.0

NOTES = [
    "Measured on a 2-core VM while another CPU-heavy job ran beside it: absolute numbers are "
    "noisy, compare paths within one run only.",
    "Xvfb has no GPU and no compositor: XShmGetImage is a memcpy in the server. On real X "
    "servers (modesetting/glamor) reading the front buffer costs more, for both mss and Qt.",
    "Both mss 10 (default backend) and Qt's X11 grabber use XShmGetImage; Qt adds one more copy "
    "of the frame (QByteArray, qCopyPixelsWithAlphaMask) before the sink.",
    "Qt picks its X11 grabber only when XDG_SESSION_TYPE=x11; otherwise it silently falls back "
    "to QScreen::grabWindow (qt-screen-grabwindow).",
]


def _now_ms() -> int:
    return int(time.monotonic() * 1000) & STAMP_MASK


# --- the animator (child process: Tk) ---------------------------------------------------------


def animate(width: int, height: int) -> None:
    """Fill the screen with moving, changing content and a time stamp; print the window id."""
    import tkinter as tk

    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry(f"{width}x{height}+0+0")
    canvas = tk.Canvas(root, width=width, height=height, bg="#202830", highlightthickness=0)
    canvas.pack()
    colors = ("#e04040", "#40c040", "#4060e0", "#e0c040", "#c040c0", "#40c0c0")
    boxes = []
    for i, color in enumerate(colors):
        x, y = 150 + i * 260, 120 + i * 130
        rect = canvas.create_rectangle(x, y, x + 240, y + 160, fill=color, outline="")
        text = canvas.create_text(x + 120, y + 80, text="", fill="black", font=("Helvetica", 20))
        boxes.append([rect, text, x, y, 7 + 2 * i, 5 + i])
    lines = [canvas.create_text(40, 60 + 40 * k, anchor="w", fill="#d0d0d0",
                                font=("Courier", 18), text="") for k in range(height // 40 - 2)]
    cells = [canvas.create_rectangle(b * STAMP_CELL, 0, (b + 1) * STAMP_CELL, STAMP_CELL,
                                     fill="black", outline="") for b in range(STAMP_BITS)]
    shown = [0] * STAMP_BITS
    frame = [0]

    def stamp() -> None:
        value = _now_ms()
        for b in range(STAMP_BITS):
            bit = (value >> b) & 1
            if bit != shown[b]:
                canvas.itemconfigure(cells[b], fill="white" if bit else "black")
                shown[b] = bit
        root.after(5, stamp)

    def move() -> None:
        frame[0] += 1
        n = frame[0]
        for box in boxes:
            rect, text, x, y, dx, dy = box
            x, y = x + dx, y + dy
            if not 0 <= x <= width - 240:
                dx, x = -dx, x - 2 * dx
            if not STAMP_CELL * 2 <= y <= height - 160:
                dy, y = -dy, y - 2 * dy
            box[2:] = [x, y, dx, dy]
            canvas.coords(rect, x, y, x + 240, y + 160)
            canvas.coords(text, x + 120, y + 80)
            canvas.itemconfigure(text, text=f"frame {n}")
        line = n % len(lines)
        canvas.itemconfigure(lines[line], text=f"{n:08d} " + "the quick brown fox jumps " * 5)
        root.after(33, move)

    root.update()
    print(f"READY {int(root.wm_frame(), 16)}", flush=True)
    stamp()
    move()
    root.mainloop()


# --- measuring helpers (child processes) ------------------------------------------------------


def read_stamp(bgra: Any) -> int | None:
    """The time stamp painted by :func:`animate`, from a BGRA/BGRX HxWx4 array, or None."""
    if bgra.shape[0] < STAMP_CELL or bgra.shape[1] < STAMP_BITS * STAMP_CELL:
        return None
    row = bgra[STAMP_CELL // 2, STAMP_CELL // 2: STAMP_BITS * STAMP_CELL: STAMP_CELL, 1]
    value = 0
    for b, px in enumerate(row.tolist()):
        if px > 127:
            value |= 1 << b
    return value


def stamp_age(bgra: Any) -> float | None:
    value = read_stamp(bgra)
    if value is None:
        return None
    age = (_now_ms() - value) & STAMP_MASK
    return float(age) if age < AGE_LIMIT_MS else None


def _make_track(width: int, height: int, fps: float, max_height: int, display: str) -> Any:
    from visio_desktop.media.screen import ScreenCaptureTrack, ScreenInfo

    screen = ScreenInfo(id=1, name="bench", x=0, y=0, width=width, height=height, primary=True)
    return ScreenCaptureTrack(screen, fps=fps, max_height=max_height, display=display)


def _summary(frames: int, asked: int, cpu_s: float, wall_s: float, convert_ms: list[float],
             ages: list[float], unreadable: int, **extra: Any) -> dict[str, Any]:
    ages_sorted = sorted(ages)
    return {
        "frames": frames, "asked": asked, "seconds": round(wall_s, 3),
        "cpu_ms_per_frame": round(cpu_s * 1000 / frames, 3) if frames else None,
        "cpu_percent_of_core": round(cpu_s * 100 / wall_s, 1) if wall_s else None,
        "convert_ms": round(statistics.median(convert_ms), 3) if convert_ms else None,
        "age_ms_median": round(statistics.median(ages_sorted), 1) if ages_sorted else None,
        "age_ms_p95": (round(ages_sorted[int(0.95 * (len(ages_sorted) - 1))], 1)
                       if ages_sorted else None),
        "stamps_unreadable": unreadable,
        **extra,
    }


def worker_mss(args: argparse.Namespace) -> dict[str, Any]:
    """ScreenCaptureTrack's grab + convert, paced at ``fps`` like its ``recv()``."""
    track = _make_track(args.width, args.height, args.fps, args.max_height, args.display)
    grab_ms: list[float] = []
    ages: list[float] = []
    unreadable = [0]
    base_grab = track._grab

    def timed_grab() -> Any:
        began = time.perf_counter()
        bgra = base_grab()
        grab_ms.append((time.perf_counter() - began) * 1000)
        age = stamp_age(bgra)
        if age is None:
            unreadable[0] += 1
        else:
            ages.append(age)
        return bgra

    track._grab = timed_grab  # the track's own _capture (grab, resize, cvtColor) around it
    period = 1.0 / args.fps
    warm_grabs = 0
    try:
        end_warm = time.monotonic() + WARMUP_S
        while time.monotonic() < end_warm:
            track._capture()
            warm_grabs += 1
            time.sleep(period)
        grab_ms.clear()
        ages.clear()
        unreadable[0] = 0
        convert_ms: list[float] = []
        asked = round(args.seconds * args.fps)
        cpu0, start = time.process_time(), time.monotonic()
        for slot in range(asked):
            due = start + slot * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter()
            i420 = track._capture()
            convert_ms.append((time.perf_counter() - began) * 1000 - grab_ms[-1])
        wall = time.monotonic() - start
        cpu = time.process_time() - cpu0
    finally:
        track._close_mss()
        track.stop()
    return _summary(len(convert_ms), asked, cpu, wall, convert_ms, ages, unreadable[0],
                    delivered=len(convert_ms), grabs_total=warm_grabs + len(convert_ms),
                    out_size=[int(i420.shape[1]),
                                                         int(i420.shape[0] * 2 // 3)],
                    grab_ms=round(statistics.median(grab_ms), 3) if grab_ms else None,
                    source_format="BGRA (mss)")


def worker_qt(args: argparse.Namespace) -> dict[str, Any]:
    """QScreenCapture / QWindowCapture -> QVideoSink -> mapped frame -> the track's conversion."""
    import numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication, QWindow
    from PySide6.QtMultimedia import (
        QCapturableWindow,
        QMediaCaptureSession,
        QScreenCapture,
        QVideoFrame,
        QVideoSink,
        QWindowCapture,
    )

    app = QGuiApplication([sys.argv[0]])
    track = _make_track(args.width, args.height, args.fps, args.max_height, args.display)
    session = QMediaCaptureSession()
    sink = QVideoSink()
    session.setVideoSink(sink)
    errors: list[str] = []
    extra: dict[str, Any] = {"platform": app.platformName()}
    if args.worker == "qt-window":
        capture: Any = QWindowCapture()
        extra["capturable_windows_listed"] = len(QWindowCapture.capturableWindows())
        foreign = QWindow.fromWinId(args.window)
        capture.setWindow(QCapturableWindow(foreign))
        session.setWindowCapture(capture)
    else:
        capture = QScreenCapture()
        capture.setScreen(app.primaryScreen())
        session.setScreenCapture(capture)
    capture.setMaximumFrameRate(args.fps)
    capture.errorOccurred.connect(lambda _e, text: errors.append(str(text)))

    period = 1.0 / args.fps
    state: dict[str, Any] = {"measuring": False, "delivered": 0, "next_due": 0.0,
                             "format": None, "unreadable": 0}
    convert_ms: list[float] = []
    ages: list[float] = []
    out_shape: list[int] = []

    def on_frame(frame: QVideoFrame) -> None:
        if not frame.isValid():
            return
        if state["format"] is None:
            state["format"] = f"{frame.pixelFormat().name} {frame.width()}x{frame.height()}"
        if not state["measuring"]:
            return
        state["delivered"] += 1
        now = time.monotonic()
        if now < state["next_due"] - 0.25 * period:  # more than asked: pace like the track
            return
        state["next_due"] = max(state["next_due"] + period, now - period)
        began = time.perf_counter()
        if not frame.map(QVideoFrame.MapMode.ReadOnly):
            errors.append("QVideoFrame.map failed")
            return
        try:
            h, w, bpl = frame.height(), frame.width(), frame.bytesPerLine(0)
            raw = np.frombuffer(frame.bits(0), dtype=np.uint8, count=h * bpl)
            bgra = raw.reshape(h, bpl)[:, : w * 4].reshape(h, w, 4)
            age = stamp_age(bgra)
            track._grab = lambda: bgra
            i420 = track._capture()
        finally:
            frame.unmap()
        convert_ms.append((time.perf_counter() - began) * 1000)
        if age is None:
            state["unreadable"] += 1
        else:
            ages.append(age)
        if not out_shape:
            out_shape.extend([int(i420.shape[1]), int(i420.shape[0] * 2 // 3)])

    sink.videoFrameChanged.connect(on_frame)
    marks: dict[str, float] = {}

    def begin() -> None:
        state["measuring"] = True
        state["next_due"] = time.monotonic()
        marks["cpu0"], marks["t0"] = time.process_time(), time.monotonic()

    def finish() -> None:
        state["measuring"] = False
        marks["cpu1"], marks["t1"] = time.process_time(), time.monotonic()
        capture.stop()
        app.quit()

    capture.start()
    extra["active_after_start"] = bool(capture.isActive())
    if capture.error() != type(capture).Error.NoError:
        errors.append(f"{capture.error().name}: {capture.errorString()}")
    QTimer.singleShot(int(WARMUP_S * 1000), begin)
    QTimer.singleShot(int((WARMUP_S + args.seconds) * 1000), finish)
    app.exec()
    track.stop()
    frames = len(convert_ms)
    cpu = marks.get("cpu1", 0.0) - marks.get("cpu0", 0.0)
    wall = marks.get("t1", 0.0) - marks.get("t0", 0.0)
    result = _summary(frames, round(args.seconds * args.fps), cpu, wall, convert_ms, ages,
                      state["unreadable"], delivered=state["delivered"], out_size=out_shape,
                      source_format=state["format"], **extra)
    if errors:
        result["errors"] = errors
    return result


# --- the parent: Xvfb, animator, one child per path -------------------------------------------


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def xvfb_rate(pid: int, seconds: float) -> float:
    """Xvfb's CPU seconds per second over ``seconds`` (only the animator drawing)."""
    x0, t0 = _proc_cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    return (_proc_cpu_s(pid) - x0) / (time.monotonic() - t0)


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


def start_animator(display: str, width: int, height: int) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.Popen([sys.executable, __file__, "--animate", "--width", str(width),
                             "--height", str(height)], env=env, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "READY":
        proc.kill()
        raise RuntimeError(f"animator did not start: {line}")
    return proc, int(line[1])


def run_child(path: str, display: str, window: int, width: int, height: int,
              args: argparse.Namespace) -> tuple[dict[str, Any], float]:
    """Run one path in a child process; returns its result and the child's wall time."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb",
               QT_LOGGING_RULES="qt.multimedia.ffmpeg.surfacecapturegrabber.debug=true")
    if path == "qt-screen-grabwindow":
        env.pop("XDG_SESSION_TYPE", None)
    else:
        env["XDG_SESSION_TYPE"] = "x11"
    cmd = [sys.executable, __file__, "--worker", path, "--display", display,
           "--window", str(window), "--width", str(width), "--height", str(height),
           "--fps", str(args.fps), "--seconds", str(args.seconds),
           "--max-height", str(args.max_height)]
    began = time.monotonic()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_S + args.seconds)
    except subprocess.TimeoutExpired as exc:
        return {"error": f"timed out after {exc.timeout:.0f} s"}, time.monotonic() - began
    took = time.monotonic() - began
    result: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    grab = re.findall(r"avg grabbing time: ([0-9.]+) ms, grabbings number: (\d+)", done.stderr)
    if grab:
        result["grab_ms"] = round(float(grab[-1][0]), 3)
        result["qt_grabs"] = int(grab[-1][1])
    if done.returncode != 0 or not result:
        tail = [ln for ln in done.stderr.splitlines() if "symbolsresolver" not in ln][-5:]
        result["error"] = f"exit {done.returncode}: " + " | ".join(tail)
    elif not result.get("frames"):
        result["error"] = "; ".join(result.get("errors", [])) or "no frames delivered"
    return result, took


def measure_size(width: int, height: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    xvfb, display = start_xvfb(width, height)
    animator = None
    try:
        animator, window = start_animator(display, width, height)
        time.sleep(1.0)
        x_rate = xvfb_rate(xvfb.pid, args.baseline)
        print(f"{width}x{height} on {display}: Xvfb baseline {x_rate * 1000:.0f} ms/s "
              f"(animation only)", flush=True)
        for path in args.paths:
            print(f"  {path} ...", flush=True)
            x0 = _proc_cpu_s(xvfb.pid)
            result, took = run_child(path, display, window, width, height, args)
            result["_x_extra_s"] = _proc_cpu_s(xvfb.pid) - x0  # re-based below
            result["_took_s"] = took
            rows.append({"path": path, "width": width, "height": height, "fps": args.fps,
                         "works": "error" not in result, **result})
        # the animation's own X cost drifts with the machine's load: average the rate before
        # and after the paths, and re-base every row on it
        x_rate = (x_rate + xvfb_rate(xvfb.pid, args.baseline)) / 2
        for row in rows:
            grabs = row.get("qt_grabs") or row.get("grabs_total") or 0  # warm-up included
            extra = row.pop("_x_extra_s") - x_rate * row.pop("_took_s")
            row["xserver_cpu_ms_per_grab"] = round(extra * 1000 / grabs, 3) if grabs else None
            row["xserver_baseline_ms_per_s"] = round(x_rate * 1000, 1)
    finally:
        for proc in (animator, xvfb):
            if proc is not None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
                if proc.poll() is None:
                    proc.kill()
    return rows


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'path':<22}{'size':>11}{'frames':>9}{'deliv':>7}{'cpu ms/f':>10}{'X ms/g':>8}"
            f"{'grab ms':>9}{'conv ms':>9}{'age med':>9}{'age p95':>9}  works")
    print(head)
    print("-" * len(head))
    for r in rows:
        frames = f"{r.get('frames', 0)}/{r.get('asked', '?')}"
        print(f"{r['path']:<22}{r['width']:>6}x{r['height']:<4}{frames:>9}"
              f"{_fmt(r.get('delivered'), 'd'):>7}{_fmt(r.get('cpu_ms_per_frame')):>10}"
              f"{_fmt(r.get('xserver_cpu_ms_per_grab')):>8}{_fmt(r.get('grab_ms')):>9}"
              f"{_fmt(r.get('convert_ms')):>9}{_fmt(r.get('age_ms_median'), '.1f'):>9}"
              f"{_fmt(r.get('age_ms_p95'), '.1f'):>9}  "
              f"{'yes' if r['works'] else 'NO: ' + str(r.get('error'))}")


def conclusion(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The decision the numbers support, plus what is documented for the other platforms."""
    def cpu(path: str, height: int) -> float | None:
        for r in rows:
            if r["path"] == path and r["height"] == height and r["works"]:
                return r.get("cpu_ms_per_frame")
        return None

    measured, ratios = [], []
    for height in sorted({r["height"] for r in rows}):
        mss_cpu, qt_cpu = cpu("mss", height), cpu("qt-screen-xshm", height)
        if mss_cpu and qt_cpu:
            ratios.append(qt_cpu / mss_cpu)
            measured.append(f"{height}p: mss {mss_cpu:.2f} vs Qt XShm {qt_cpu:.2f} CPU ms per "
                            f"frame (Qt/mss x{qt_cpu / mss_cpu:.2f})")
    tie = bool(ratios) and all(abs(r - 1) < 0.15 for r in ratios)
    verdict = ("a tie within this machine's noise (+-15%)" if tie else
               "Qt cheaper" if ratios and all(r < 1 for r in ratios) else
               "mss cheaper" if ratios and all(r > 1 for r in ratios) else "mixed")
    return {
        "measured_x11": f"{verdict}: " + "; ".join(measured),
        "linux_x11": (
            "Keep mss. Both use XShmGetImage and feed the same I420 conversion, so Qt brings no "
            "cheaper grab on X11 (a few ms per 1080p frame either way). Qt also silently falls "
            "back to QScreen::grabWindow (about 2x our CPU, 4-10x the X server's, 2-4x the "
            "latency) whenever XDG_SESSION_TYPE is not 'x11' (startx, some display managers), and"
            " QWindowCapture.capturableWindows() is empty without a window manager (our "
            "list_windows falls back to the root's children); mss needs no Qt objects on the "
            "capture thread. Above max_height the INTER_AREA downscale (2560x1440 -> 1920x1080) "
            "is the real cost, 5-10x the grab, for either source."),
        "wayland": (
            "Qt >= 6.5.2 (FFmpeg backend) captures through the xdg-desktop-portal ScreenCast "
            "service + PipeWire 0.3 (loaded at run time; not installed here: 'Couldn't load "
            "pipewire-0.3 library'). Qt documents it as experimental: the screen cannot be "
            "chosen through the API, the portal shows its own picker on setActive(true). This "
            "is the one place Qt gives something mss cannot (mss has no Wayland support); the "
            "alternative is our own portal + PipeWire client."),
        "windows": (
            "Qt: DXGI Desktop Duplication for screens (qffmpegscreencapture_dxgi), Windows "
            "Graphics Capture for windows (qffmpegwindowcapture_uwp, GDI fallback). mss uses "
            "GDI BitBlt, which is CPU-bound and slower at high resolution; not measured here "
            "(no Windows machine). Worth measuring there before deciding."),
        "macos": (
            "Qt 6.12: ScreenCaptureKit (qsckscreencapture / qsckwindowcapture, older "
            "qavfscreencapture / qcgwindowcapture); mss uses CoreGraphics "
            "CGWindowListCreateImage, deprecated/obsoleted in macOS 14/15 in favour of "
            "ScreenCaptureKit. Not measured here (no macOS machine)."),
        "decision": (
            "Linux/X11: stay on mss (measured: no gain from Qt). Wayland: Qt's QScreenCapture "
            "(portal+PipeWire) is the cheapest route to support, behind the same "
            "ScreenCaptureTrack interface. "
            "Windows/macOS: documented reasons favour Qt's native grabbers (DXGI, "
            "ScreenCaptureKit) over mss; to be measured on those systems."),
    }


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("mss", "PySide6", "opencv-python-headless", "opencv-python", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    with contextlib.suppress(Exception):
        out["xvfb"] = subprocess.run(["Xvfb", "-version"], capture_output=True, text=True,
                                     timeout=5).stderr.splitlines()[0].strip() or "?"
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [(1920, 1080)] + ([(2560, 1440)] if args.also_1440 else [])
    rows: list[dict[str, Any]] = []
    for width, height in sizes:
        rows.extend(measure_size(width, height, args))
    print()
    print_table(rows)
    print("\nnotes:")
    for note in NOTES:
        print(f"  - {note}")
    concl = conclusion(rows)
    print("\nconclusion:")
    for key, text in concl.items():
        print(f"  {key}: {text}")
    failures = [f"{r['path']} {r['width']}x{r['height']}: {r.get('error')}"
                for r in rows if r["path"] in ("mss", "qt-screen-xshm") and not r["works"]]
    return {
        "benchmark": "screen_capture",
        "title": TITLE,
        "measured": MEASURED,
        "anchor": ANCHOR,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_cores": os.cpu_count(), "versions": versions(),
                     "cpu_source": "time.process_time of each path's child process; Xvfb "
                                   "/proc CPU above its animation-only rate"},
        "config": {"seconds": args.seconds, "fps": args.fps, "warmup_s": WARMUP_S,
                   "max_height": args.max_height, "baseline_s": args.baseline,
                   "paths": list(args.paths), "sizes": [list(s) for s in sizes]},
        "results": rows,
        "notes": NOTES,
        "conclusion": concl,
        "failures": failures,
        "ok": not failures,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured seconds per path (default 10)")
    parser.add_argument("--fps", type=float, default=15.0, help="frames asked per second")
    parser.add_argument("--max-height", type=int, default=1080,
                        help="ScreenCaptureTrack's max_height: taller frames are scaled down")
    parser.add_argument("--also-1440", action="store_true", help="also run on a 2560x1440 Xvfb")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--baseline", type=float, default=3.0,
                        help="seconds of animation-only Xvfb CPU sampling (default 3)")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)})")
    # internal: child processes
    parser.add_argument("--animate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--display", help=argparse.SUPPRESS)
    parser.add_argument("--window", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--width", type=int, default=1920, help=argparse.SUPPRESS)
    parser.add_argument("--height", type=int, default=1080, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.animate:
        animate(args.width, args.height)
        return 0
    if args.worker:
        try:
            result = worker_mss(args) if args.worker == "mss" else worker_qt(args)
        except Exception as exc:
            result = {"error": repr(exc)}
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    if not sys.platform.startswith("linux"):
        print("this benchmark runs its own Xvfb: Linux only")
        return 2
    report = run(args)
    return write_report(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
