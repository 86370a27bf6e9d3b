"""A system-wide keyboard shortcut: it fires while another application has the focus.

No new dependency: on X11 it grabs the key on the root window through libX11 with ctypes
and reads the key presses on a daemon thread (own Display connection); on Windows it uses
user32 ``RegisterHotKey`` and catches ``WM_HOTKEY`` with a native event filter. Wayland and
macOS offer no such grab to an ordinary application: :meth:`GlobalShortcut.register` returns
False there with :attr:`GlobalShortcut.error` set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import sys
import threading
from typing import Any

from PySide6.QtCore import (
    QAbstractNativeEventFilter,
    QCoreApplication,
    QKeyCombination,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeySequence

UNAVAILABLE = "A system-wide shortcut is not available on this system"

_POLL_SECONDS = 0.03


def _parse(sequence: str) -> tuple[Qt.KeyboardModifier, int] | None:
    """Modifiers and one key of a sequence such as "Ctrl+Alt+M"; None when not exactly that."""
    keys = QKeySequence(sequence)
    if keys.count() != 1:
        return None
    combination: QKeyCombination = keys[0]
    key = int(combination.key().value)
    if key in (0, int(Qt.Key.Key_unknown.value)) or key in _MODIFIER_KEYS:
        return None
    return combination.keyboardModifiers(), key


_MODIFIER_KEYS = {int(k.value) for k in (Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Shift,
                                         Qt.Key.Key_Meta, Qt.Key.Key_AltGr)}


# --- X11 ----------------------------------------------------------------------------------

_SHIFT_MASK, _LOCK_MASK, _CONTROL_MASK, _MOD1_MASK, _MOD2_MASK, _MOD4_MASK = 1, 2, 4, 8, 16, 64
_KEY_PRESS, _KEY_RELEASE = 2, 3
_GRAB_MODE_ASYNC = 1
_BAD_ACCESS = 10

# Qt keys whose X keysym name differs from anything derivable (Latin-1 keys map to their code)
_X_KEYSYM_NAMES = {
    Qt.Key.Key_Space: "space", Qt.Key.Key_Return: "Return", Qt.Key.Key_Enter: "KP_Enter",
    Qt.Key.Key_Escape: "Escape", Qt.Key.Key_Tab: "Tab", Qt.Key.Key_Backspace: "BackSpace",
    Qt.Key.Key_Delete: "Delete", Qt.Key.Key_Insert: "Insert", Qt.Key.Key_Home: "Home",
    Qt.Key.Key_End: "End", Qt.Key.Key_PageUp: "Prior", Qt.Key.Key_PageDown: "Next",
    Qt.Key.Key_Left: "Left", Qt.Key.Key_Right: "Right", Qt.Key.Key_Up: "Up",
    Qt.Key.Key_Down: "Down", Qt.Key.Key_Pause: "Pause", Qt.Key.Key_Print: "Print",
    Qt.Key.Key_ScrollLock: "Scroll_Lock", Qt.Key.Key_Menu: "Menu",
    Qt.Key.Key_VolumeMute: "XF86AudioMute", Qt.Key.Key_MicMute: "XF86AudioMicMute",
}


class _XKeyEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("root", ctypes.c_ulong),
        ("subwindow", ctypes.c_ulong), ("time", ctypes.c_ulong),
        ("x", ctypes.c_int), ("y", ctypes.c_int), ("x_root", ctypes.c_int),
        ("y_root", ctypes.c_int), ("state", ctypes.c_uint), ("keycode", ctypes.c_uint),
        ("same_screen", ctypes.c_int),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xkey", _XKeyEvent), ("pad", ctypes.c_long * 24)]


class _XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int), ("display", ctypes.c_void_p), ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong), ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte), ("minor_code", ctypes.c_ubyte),
    ]


_X_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_XErrorEvent))
_x_lib: Any = None
_x_lock = threading.Lock()
_x_errors: dict[int, list[int]] = {}  # display pointer -> error codes seen while recording


def _record_x_error(display: Any, event: Any) -> int:
    # Like visio_desktop.media.screen: never let Xlib's default handler exit the process.
    codes = _x_errors.get(int(display or 0))
    if codes is not None:
        codes.append(int(event.contents.error_code))
    return 0


_x_error_handler = _X_ERROR_HANDLER(_record_x_error)


def _libx11() -> Any:
    """Our own handle on libX11 (same library as visio_desktop.media.screen, own prototypes)."""
    global _x_lib
    with _x_lock:
        if _x_lib is None:
            path = ctypes.util.find_library("X11")
            if not path:
                return None
            lib = ctypes.CDLL(path)
            vp, ul, ci, cu = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_uint
            lib.XOpenDisplay.restype = vp
            lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
            lib.XCloseDisplay.argtypes = [vp]
            lib.XDefaultRootWindow.restype = ul
            lib.XDefaultRootWindow.argtypes = [vp]
            lib.XStringToKeysym.restype = ul
            lib.XStringToKeysym.argtypes = [ctypes.c_char_p]
            lib.XKeysymToKeycode.restype = ctypes.c_ubyte
            lib.XKeysymToKeycode.argtypes = [vp, ul]
            lib.XGrabKey.argtypes = [vp, ci, cu, ul, ci, ci, ci]
            lib.XUngrabKey.argtypes = [vp, ci, cu, ul]
            lib.XSync.argtypes = [vp, ci]
            lib.XFlush.argtypes = [vp]
            lib.XPending.argtypes = [vp]
            lib.XNextEvent.argtypes = [vp, ctypes.POINTER(_XEvent)]
            lib.XkbSetDetectableAutoRepeat.argtypes = [vp, ci, ctypes.POINTER(ci)]
            lib.XSetErrorHandler.restype = vp
            lib.XSetErrorHandler.argtypes = [vp]
            _x_lib = lib
        return _x_lib


def _x_keysym(lib: Any, key: int) -> int:
    if 0x20 < key <= 0xFF:  # Latin-1: the keysym is the (lower-case) character's code
        return ord(chr(key).lower())
    if int(Qt.Key.Key_F1.value) <= key <= int(Qt.Key.Key_F35.value):
        return 0xFFBE + key - int(Qt.Key.Key_F1.value)  # XK_F1 ...
    name = next((n for k, n in _X_KEYSYM_NAMES.items() if int(k.value) == key), None)
    return int(lib.XStringToKeysym(name.encode())) if name else 0


class _X11Grab:
    """One key grabbed on the root window of its own Display connection."""

    def __init__(self, display: str | None, modifiers: Qt.KeyboardModifier, key: int,
                 emit: Any) -> None:
        self.error = ""
        self._emit = emit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grabbed: list[int] = []
        lib = self._lib = _libx11()
        self._dpy = lib.XOpenDisplay(display.encode() if display else None) if lib else None
        if not self._dpy:
            self.error = UNAVAILABLE + " (cannot open the X display)"
            return
        self._root = lib.XDefaultRootWindow(self._dpy)
        keysym = _x_keysym(lib, key)
        self._keycode = int(lib.XKeysymToKeycode(self._dpy, keysym)) if keysym else 0
        if not self._keycode:
            self.error = "This key cannot be used for a system-wide shortcut"
            self.close()
            return
        mask = 0
        for qt_mod, x_mod in ((Qt.KeyboardModifier.ShiftModifier, _SHIFT_MASK),
                              (Qt.KeyboardModifier.ControlModifier, _CONTROL_MASK),
                              (Qt.KeyboardModifier.AltModifier, _MOD1_MASK),
                              (Qt.KeyboardModifier.MetaModifier, _MOD4_MASK)):
            if modifiers & qt_mod:
                mask |= x_mod
        errors: list[int] = []
        _x_errors[int(self._dpy)] = errors
        previous = lib.XSetErrorHandler(ctypes.cast(_x_error_handler, ctypes.c_void_p))
        try:
            # also with Caps Lock and Num Lock on, which X counts as modifiers
            for extra in (0, _LOCK_MASK, _MOD2_MASK, _LOCK_MASK | _MOD2_MASK):
                lib.XGrabKey(self._dpy, self._keycode, mask | extra, self._root, 0,
                             _GRAB_MODE_ASYNC, _GRAB_MODE_ASYNC)
                self._grabbed.append(mask | extra)
            lib.XSync(self._dpy, 0)  # grab errors come back asynchronously
        finally:
            if previous:  # else keep ours: Xlib's default handler exits the process
                lib.XSetErrorHandler(previous)
            del _x_errors[int(self._dpy)]
        if errors:
            self.error = ("This shortcut is already used by another application"
                          if _BAD_ACCESS in errors else
                          f"The system refused the shortcut (X error {errors[0]})")
            self.close()
            return
        # holding the keys: repeated presses without the releases in between
        lib.XkbSetDetectableAutoRepeat(self._dpy, 1, None)
        self._thread = threading.Thread(target=self._poll, name="global-shortcut", daemon=True)
        self._thread.start()

    @property
    def ok(self) -> bool:
        return not self.error

    def _poll(self) -> None:
        lib, event, held = self._lib, _XEvent(), False
        while not self._stop.wait(_POLL_SECONDS):
            while lib.XPending(self._dpy) > 0:
                lib.XNextEvent(self._dpy, ctypes.byref(event))
                if event.type not in (_KEY_PRESS, _KEY_RELEASE):
                    continue
                if event.xkey.keycode != self._keycode:
                    continue
                if event.type == _KEY_RELEASE:
                    held = False
                elif not held:
                    held = True
                    self._emit()

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._dpy:
            for mask in self._grabbed:
                self._lib.XUngrabKey(self._dpy, self._keycode, mask, self._root)
            self._grabbed.clear()
            self._lib.XSync(self._dpy, 0)
            self._lib.XCloseDisplay(self._dpy)
            self._dpy = None


# --- Windows ------------------------------------------------------------------------------

_WM_HOTKEY = 0x0312
_MOD_ALT, _MOD_CONTROL, _MOD_SHIFT, _MOD_WIN, _MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
_WIN_VKS = {
    Qt.Key.Key_Space: 0x20, Qt.Key.Key_Return: 0x0D, Qt.Key.Key_Enter: 0x0D,
    Qt.Key.Key_Escape: 0x1B, Qt.Key.Key_Tab: 0x09, Qt.Key.Key_Backspace: 0x08,
    Qt.Key.Key_Delete: 0x2E, Qt.Key.Key_Insert: 0x2D, Qt.Key.Key_Home: 0x24,
    Qt.Key.Key_End: 0x23, Qt.Key.Key_PageUp: 0x21, Qt.Key.Key_PageDown: 0x22,
    Qt.Key.Key_Left: 0x25, Qt.Key.Key_Up: 0x26, Qt.Key.Key_Right: 0x27, Qt.Key.Key_Down: 0x28,
    Qt.Key.Key_Pause: 0x13, Qt.Key.Key_Print: 0x2C, Qt.Key.Key_VolumeMute: 0xAD,
}
_hotkey_ids = itertools.count(0xB000)  # application hot-key ids: 0x0000 to 0xBFFF


def _win_vk(key: int) -> int:
    if ord("A") <= key <= ord("Z") or ord("0") <= key <= ord("9"):
        return key  # VK_A..VK_Z, VK_0..VK_9 are the ASCII codes
    if int(Qt.Key.Key_F1.value) <= key <= int(Qt.Key.Key_F24.value):
        return 0x70 + key - int(Qt.Key.Key_F1.value)  # VK_F1 ...
    return next((vk for k, vk in _WIN_VKS.items() if int(k.value) == key), 0)


class _WinHotKeyFilter(QAbstractNativeEventFilter):
    def __init__(self, hotkey_id: int, emit: Any) -> None:
        super().__init__()
        self._id, self._emit = hotkey_id, emit

    def nativeEventFilter(self, eventType: Any, message: Any) -> Any:
        if bytes(eventType) == b"windows_generic_MSG" and message:
            from ctypes import wintypes
            msg = wintypes.MSG.from_address(int(message))
            if msg.message == _WM_HOTKEY and msg.wParam == self._id:
                self._emit()
                return True, 0
        return False, 0


class _WinHotKey:
    def __init__(self, modifiers: Qt.KeyboardModifier, key: int, emit: Any) -> None:
        self.error = ""
        self._filter: _WinHotKeyFilter | None = None
        vk, app = _win_vk(key), QCoreApplication.instance()
        if not vk:
            self.error = "This key cannot be used for a system-wide shortcut"
            return
        if app is None:
            self.error = UNAVAILABLE + " (no application)"
            return
        mods = _MOD_NOREPEAT
        for qt_mod, win_mod in ((Qt.KeyboardModifier.ShiftModifier, _MOD_SHIFT),
                                (Qt.KeyboardModifier.ControlModifier, _MOD_CONTROL),
                                (Qt.KeyboardModifier.AltModifier, _MOD_ALT),
                                (Qt.KeyboardModifier.MetaModifier, _MOD_WIN)):
            if modifiers & qt_mod:
                mods |= win_mod
        self._user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
        self._id = next(_hotkey_ids)
        # hWnd NULL: WM_HOTKEY is posted to this (the GUI) thread's queue, seen by the filter
        if not self._user32.RegisterHotKey(None, self._id, mods, vk):
            code = ctypes.get_last_error()  # type: ignore[attr-defined]
            self.error = ("This shortcut is already used by another application"
                          if code == 1409 else  # ERROR_HOTKEY_ALREADY_REGISTERED
                          f"The system refused the shortcut (error {code})")
            return
        self._filter = _WinHotKeyFilter(self._id, emit)
        app.installNativeEventFilter(self._filter)

    @property
    def ok(self) -> bool:
        return not self.error

    def close(self) -> None:
        if self._filter is not None:
            self._user32.UnregisterHotKey(None, self._id)
            app = QCoreApplication.instance()
            if app is not None:
                app.removeNativeEventFilter(self._filter)
            self._filter = None


# --- the shortcut -------------------------------------------------------------------------

class GlobalShortcut(QObject):
    """A key combination that fires :attr:`triggered` whichever application has the focus.

    ``display`` names the X display to grab on (tests); by default ``$DISPLAY``.
    """

    triggered = Signal()

    def __init__(self, parent: QObject | None = None, display: str | None = None) -> None:
        super().__init__(parent)
        self.error = ""
        self._display = display
        self._backend: _X11Grab | _WinHotKey | None = None

    @property
    def registered(self) -> bool:
        return self._backend is not None

    def register(self, sequence: str) -> bool:
        """Grab ``sequence`` (e.g. "Ctrl+Alt+M"); False with :attr:`error` when it cannot."""
        self.unregister()
        self.error = ""
        parsed = _parse(sequence)
        if parsed is None:
            self.error = f"Not a shortcut of modifiers and one key: {sequence!r}"
            return False
        modifiers, key = parsed
        backend: _X11Grab | _WinHotKey
        if sys.platform == "win32":
            backend = _WinHotKey(modifiers, key, self.triggered.emit)
        elif sys.platform.startswith("linux") and self._x11_display() is not None:
            backend = _X11Grab(self._x11_display(), modifiers, key, self.triggered.emit)
        else:  # macOS, Wayland, no display
            self.error = UNAVAILABLE
            return False
        if not backend.ok:
            self.error = backend.error
            return False
        self._backend = backend
        return True

    def _x11_display(self) -> str | None:
        if self._display:
            return self._display
        wayland = (os.environ.get("WAYLAND_DISPLAY")
                   or os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland")
        # under Wayland an X grab only sees keys typed into XWayland windows: not system-wide
        return None if wayland else (os.environ.get("DISPLAY") or None)

    def unregister(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
