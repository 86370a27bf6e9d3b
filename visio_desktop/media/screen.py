"""Screen sharing: list screens (and X11 windows), thumbnails, and a live capture track.

Capture uses `mss <https://pypi.org/project/mss/>`_ (pure Python over ctypes: GDI on Windows,
CoreGraphics on macOS, XShm/XGetImage on X11). Frames are grabbed as BGRA, downscaled with
OpenCV only when taller than ``max_height`` (screen text must keep every pixel), converted to
yuv420p by OpenCV's SIMD ``cvtColor`` and handed to aiortc as ``av.VideoFrame`` s. Grabbing and
converting run on one worker thread owned by the track (mss handles are bound to the thread that
made them, and OpenCV releases the GIL), so the event loop never blocks on a 1080p copy.

* :func:`list_screens` / :func:`thumbnail` feed the share picker;
* :func:`list_windows` lists top-level windows on X11 (EWMH ``_NET_CLIENT_LIST`` when a window
  manager runs, else the root's mapped children) through libX11 with ctypes; a window is
  captured as its on-screen rectangle (what covers it is captured too). Windows and macOS
  window listing is not implemented yet: the function returns ``[]`` there;
* :class:`ScreenCaptureTrack` is the aiortc video track, ``source == "screen_share"``, paced like
  a live source (frame ``n`` is due at ``start + n / fps``; a consumer that falls a whole frame
  behind skips to the current slot rather than bursting). If the screen or window goes away
  (display closed, monitor unplugged, window destroyed), the track logs once, ends, and every
  ``recv()`` raises :class:`ScreenUnavailable` (a ``MediaStreamError``, so aiortc's sender stops
  quietly); :attr:`ScreenCaptureTrack.error` keeps the reason for the UI;
* :func:`apply_screen_bitrate` sets the sender's encoder target for screen content
  (:func:`.encoders.bitrate_for` with ``"screen"``) once the encoder exists.

Wayland sessions cannot be captured this way (XWayland gives black frames): every entry point
raises :class:`ScreenCaptureUnsupported` there, unless an explicit X ``display`` is given. The
portal (``org.freedesktop.portal.ScreenCast`` + PipeWire) is the planned route.

Everything is local: no network beyond the room server is involved.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import ctypes.util
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError

from visio_desktop.media.encoders import apply_bitrate, bitrate_for
from visio_desktop.media.pacing import FramePacer

logger = logging.getLogger(__name__)

__all__ = [
    "ScreenCaptureTrack",
    "ScreenCaptureUnsupported",
    "ScreenInfo",
    "ScreenUnavailable",
    "WindowInfo",
    "apply_screen_bitrate",
    "check_supported",
    "list_screens",
    "list_windows",
    "thumbnail",
]

#: Frame rates for documents/slides (legibility first); video content may ask for more.
DEFAULT_FPS = 10.0
MAX_FPS = 60.0

WAYLAND_MESSAGE = (
    "mss cannot capture a Wayland session: screens there are shared through the desktop portal "
    "(media/qt_capture.py), which asks the user in the system dialog."
)


class ScreenCaptureUnsupported(RuntimeError):
    """This session cannot be captured (Wayland, no X display, unsupported OS)."""


class ScreenUnavailable(MediaStreamError):
    """The captured screen or window went away; the track has ended."""


@dataclass(frozen=True)
class ScreenInfo:
    """One monitor. ``id`` is mss's monitor index (1...); x/y are virtual-desktop pixels."""

    id: int
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool


@dataclass(frozen=True)
class WindowInfo:
    """One top-level window (X11 only for now); x/y/width/height are its on-screen area."""

    id: int
    name: str
    x: int
    y: int
    width: int
    height: int


Target = ScreenInfo | WindowInfo
BgraImage = npt.NDArray[np.uint8]


# --- session checks ---------------------------------------------------------------------------


def check_supported(display: str | None = None) -> None:
    """Raise :class:`ScreenCaptureUnsupported` with a user-readable reason when this session
    cannot be captured. An explicit X ``display`` (e.g. ``":99"``) skips the Wayland check."""
    if not sys.platform.startswith("linux") or display:
        return
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        raise ScreenCaptureUnsupported(WAYLAND_MESSAGE)
    if not os.environ.get("DISPLAY"):
        raise ScreenCaptureUnsupported("No X display (DISPLAY is not set): nothing to share.")


def _open_mss(display: str | None) -> Any:
    import mss

    check_supported(display)
    cls = getattr(mss, "MSS", None) or mss.mss  # mss >= 10.2 has MSS; older only mss()
    if display and sys.platform.startswith("linux"):
        return cls(display=display)
    return cls()


def _monitor_dict(target: Target) -> dict[str, int]:
    return {"left": target.x, "top": target.y, "width": target.width, "height": target.height}


# --- listing and thumbnails -------------------------------------------------------------------


def list_screens(display: str | None = None) -> list[ScreenInfo]:
    """The monitors of this session, primary first. Raises :class:`ScreenCaptureUnsupported`
    on Wayland, and ``mss.ScreenShotError`` when the display cannot be opened."""
    with _open_mss(display) as sct:
        monitors = list(sct.monitors[1:])
    screens = []
    for index, mon in enumerate(monitors, start=1):
        name = str(mon.get("name") or mon.get("output") or f"Screen {index}")
        screens.append(ScreenInfo(
            id=index, name=name, x=int(mon["left"]), y=int(mon["top"]),
            width=int(mon["width"]), height=int(mon["height"]),
            primary=bool(mon.get("is_primary", False)),
        ))
    if screens and not any(s.primary for s in screens):
        first = screens[0]
        screens[0] = ScreenInfo(first.id, first.name, first.x, first.y, first.width,
                                first.height, True)
    return sorted(screens, key=lambda s: not s.primary)


def thumbnail(target: Target, max_width: int = 320, display: str | None = None,
              ) -> npt.NDArray[np.uint8]:
    """A BGR (uint8, HxWx3) picture of a screen or window, at most ``max_width`` wide, aspect
    kept. Raises :class:`ScreenUnavailable` if it cannot be grabbed."""
    try:
        with _open_mss(display) as sct:
            bgra = np.asarray(sct.grab(_monitor_dict(target)))
    except ScreenCaptureUnsupported:
        raise
    except Exception as exc:
        raise ScreenUnavailable(f"cannot capture {target.name!r}: {exc}") from exc
    height, width = bgra.shape[:2]
    scale = min(1.0, max_width / max(1, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(bgra, size, interpolation=cv2.INTER_AREA) if scale < 1 else bgra
    return np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_BGRA2BGR))


# --- X11 windows (libX11 via ctypes; no helper programs) --------------------------------------


class _XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int), ("y", ctypes.c_int),
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int), ("visual", ctypes.c_void_p), ("root", ctypes.c_ulong),
        ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long), ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long), ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


_IS_VIEWABLE = 2
_X_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_x_lib: Any = None
_x_lock = threading.Lock()


def _ignore_x_error(_display: Any, _event: Any) -> int:
    return 0  # a window vanishing mid-query is normal: skip it rather than exit the process


_x_error_handler = _X_ERROR_HANDLER(_ignore_x_error)


def _libx11() -> Any:
    global _x_lib
    with _x_lock:
        if _x_lib is None:
            path = ctypes.util.find_library("X11")
            if not path:
                raise ScreenCaptureUnsupported("libX11 not found: cannot list windows")
            lib = ctypes.CDLL(path)
            lib.XOpenDisplay.restype = ctypes.c_void_p
            lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
            lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
            lib.XDefaultRootWindow.restype = ctypes.c_ulong
            lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
            lib.XInternAtom.restype = ctypes.c_ulong
            lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
            lib.XGetWindowProperty.argtypes = [
                ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
                ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
                ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p)]
            lib.XQueryTree.argtypes = [
                ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p),
                ctypes.POINTER(ctypes.c_uint)]
            lib.XGetWindowAttributes.argtypes = [
                ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XWindowAttributes)]
            lib.XTranslateCoordinates.argtypes = [
                ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
                ctypes.POINTER(ctypes.c_ulong)]
            lib.XFree.argtypes = [ctypes.c_void_p]
            lib.XSetErrorHandler.restype = ctypes.c_void_p
            lib.XSetErrorHandler.argtypes = [_X_ERROR_HANDLER]
            lib.XSetErrorHandler(_x_error_handler)
            _x_lib = lib
        return _x_lib


def _x_property(lib: Any, dpy: int, window: int, atom: int) -> bytes:
    """Raw bytes of a window property (any type), empty when absent."""
    actual_type, actual_format = ctypes.c_ulong(), ctypes.c_int()
    n_items, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
    status = lib.XGetWindowProperty(dpy, window, atom, 0, 1 << 20, 0, 0,  # AnyPropertyType
                                    ctypes.byref(actual_type), ctypes.byref(actual_format),
                                    ctypes.byref(n_items), ctypes.byref(after),
                                    ctypes.byref(data))
    if status != 0 or not data.value:
        return b""
    try:
        # Xlib returns 32-bit items as C longs
        size = n_items.value * (ctypes.sizeof(ctypes.c_long) if actual_format.value == 32
                                else actual_format.value // 8)
        return ctypes.string_at(data.value, size)
    finally:
        lib.XFree(data)


def list_windows(display: str | None = None) -> list[WindowInfo]:
    """Visible top-level windows with a title, on X11. ``[]`` on Windows and macOS (not
    implemented yet) and when the display cannot be opened. Raises
    :class:`ScreenCaptureUnsupported` on Wayland."""
    check_supported(display)
    if not sys.platform.startswith("linux"):
        return []
    lib = _libx11()
    dpy = lib.XOpenDisplay(display.encode() if display else None)
    if not dpy:
        return []
    try:
        root = lib.XDefaultRootWindow(dpy)
        atom = {name: lib.XInternAtom(dpy, name.encode(), 0)
                for name in ("_NET_CLIENT_LIST", "_NET_WM_NAME", "WM_NAME")}
        raw = _x_property(lib, dpy, root, atom["_NET_CLIENT_LIST"])
        if raw:
            ids = list(np.frombuffer(raw, dtype=np.uint64 if ctypes.sizeof(ctypes.c_long) == 8
                                     else np.uint32))
        else:  # no window manager: the root's children are the top-level windows
            root_ret, parent, children, count = (ctypes.c_ulong(), ctypes.c_ulong(),
                                                 ctypes.c_void_p(), ctypes.c_uint())
            if not lib.XQueryTree(dpy, root, ctypes.byref(root_ret), ctypes.byref(parent),
                                  ctypes.byref(children), ctypes.byref(count)):
                return []
            ids = list((ctypes.c_ulong * count.value).from_address(children.value)) \
                if children.value else []
            if children.value:
                lib.XFree(children)
        windows = []
        for wid in ids:
            attrs = _XWindowAttributes()
            if not lib.XGetWindowAttributes(dpy, int(wid), ctypes.byref(attrs)):
                continue
            if attrs.map_state != _IS_VIEWABLE or attrs.width < 2 or attrs.height < 2:
                continue
            name = (_x_property(lib, dpy, int(wid), atom["_NET_WM_NAME"])
                    or _x_property(lib, dpy, int(wid), atom["WM_NAME"]))
            title = name.decode("utf-8", "replace").strip("\0").strip()
            if not title:
                continue
            x, y, child = ctypes.c_int(), ctypes.c_int(), ctypes.c_ulong()
            lib.XTranslateCoordinates(dpy, int(wid), root, 0, 0, ctypes.byref(x),
                                      ctypes.byref(y), ctypes.byref(child))
            windows.append(WindowInfo(id=int(wid), name=title, x=x.value, y=y.value,
                                      width=attrs.width, height=attrs.height))
        return windows
    finally:
        lib.XCloseDisplay(dpy)


# --- the capture track ------------------------------------------------------------------------


def output_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Even output size: the source size, or scaled down (aspect kept) above ``max_height``."""
    if max_height > 0 and height > max_height:
        scale = max_height / height
        width, height = round(width * scale), max_height
    return max(2, width - width % 2), max(2, height - height % 2)


class ScreenCaptureTrack(MediaStreamTrack):
    """A screen (or an X11 window's area) as a live aiortc video track.

    ``fps`` 5-15 suits documents (detail over motion), more suits video content. Frames keep
    the full resolution up to ``max_height`` (1080 by default; 1440 for a sharper share) and
    are scaled down, aspect kept, above it. ``display`` picks an X display (``":99"``).
    ``width``/``height`` are the sent size (the room announces them to the server).

    After :meth:`stop` ``recv()`` raises ``MediaStreamError``; when the target disappears it
    raises :class:`ScreenUnavailable` (and keeps raising it), and :attr:`error` says why.
    """

    kind = "video"

    def __init__(self, screen: Target | None = None, fps: float = DEFAULT_FPS,
                 max_height: int = 1080, *, display: str | None = None) -> None:
        super().__init__()
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"fps must be in (0, {MAX_FPS}], got {fps}")
        check_supported(display)
        if screen is None:
            screens = list_screens(display)
            if not screens:
                raise ScreenCaptureUnsupported("no screen to share")
            screen = screens[0]
        self.screen: Target = screen
        self.source = "screen_share"
        self.display = display
        self.fps = float(fps)
        self.max_height = max_height
        self.width, self.height = output_size(screen.width, screen.height, max_height)
        self.error: ScreenUnavailable | None = None
        self.frames_sent = 0
        self.capture_ms = 0.0  # mean grab + convert time per frame
        self._pacer = FramePacer(self.fps)
        self._mss: Any = None  # lives on the worker thread only
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="screen-capture")

    # worker thread -----------------------------------------------------------------------

    def _grab(self) -> BgraImage:
        if self._mss is None:
            self._mss = _open_mss(self.display)
        return np.asarray(self._mss.grab(_monitor_dict(self.screen)))

    def _capture(self) -> npt.NDArray[np.uint8]:
        """Grab and convert to an I420 array (one plane block, OpenCV layout)."""
        bgra = self._grab()
        src_h, src_w = bgra.shape[:2]
        if (src_w, src_h) != (self.width, self.height):
            if src_h > self.height or src_w > self.width + 1:
                bgra = cv2.resize(bgra, (self.width, self.height), interpolation=cv2.INTER_AREA)
            else:  # an odd window size: drop the last column/row
                bgra = bgra[: self.height, : self.width]
        return cv2.cvtColor(np.ascontiguousarray(bgra), cv2.COLOR_BGRA2YUV_I420)

    def _close_mss(self) -> None:
        if self._mss is not None:
            try:
                self._mss.close()
            except Exception:  # the display may already be gone
                pass
            self._mss = None

    # track -------------------------------------------------------------------------------

    @property
    def frames_skipped(self) -> int:
        """Frame slots skipped because the consumer fell behind."""
        return self._pacer.frames_skipped

    async def recv(self) -> av.VideoFrame:
        if self.error is not None:
            raise self.error
        if self.readyState != "live":
            raise MediaStreamError
        slot = await self._pacer.next_slot()
        if self.readyState != "live":
            raise self.error or MediaStreamError()
        began = time.perf_counter()
        try:
            i420 = await asyncio.get_running_loop().run_in_executor(self._executor,
                                                                   self._capture)
        except RuntimeError as exc:
            if self.readyState != "live":  # stopped (executor shut down) while capturing
                raise self.error or MediaStreamError() from exc
            self._fail(exc)
            raise self.error from exc  # type: ignore[misc]
        except Exception as exc:  # mss.ScreenShotError, OSError, X errors...
            self._fail(exc)
            raise self.error from exc  # type: ignore[misc]
        took = (time.perf_counter() - began) * 1000
        self.capture_ms += (took - self.capture_ms) / min(self.frames_sent + 1, 30)
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts = round(slot * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = ScreenUnavailable(
                f"{self.screen.name!r} is no longer available: {exc or type(exc).__name__}")
            logger.warning("screen share ended: %s", self.error)
        self.stop()

    def stop(self) -> None:
        if self.readyState == "live":
            self._executor.submit(self._close_mss)
            self._executor.shutdown(wait=False)
        super().stop()


async def apply_screen_bitrate(sender: Any, track: ScreenCaptureTrack, bitrate: int | None = None,
                               timeout_s: float = 10.0) -> int:
    """Set ``sender``'s encoder target (and ceiling) to ``bitrate``, by default the screen-content
    bitrate for ``track`` (:func:`.encoders.bitrate_for` of its size and fps), once the encoder
    exists (after the first frame). Returns the bitrate asked, 0 on timeout. aiortc's H.264
    encoder clamps it to 3 Mbps; its VP8 encoder is switched to one with a higher ceiling, and
    ours (:mod:`.encoders`) go to 8 Mbps. In a call, :mod:`.bitrate_control` does this."""
    if bitrate is None:
        bitrate = bitrate_for(track.width, track.height, track.fps, "screen")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if apply_bitrate(sender, bitrate, ceiling=bitrate):
            return bitrate
        await asyncio.sleep(0.05)
    return 0
