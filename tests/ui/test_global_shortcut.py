"""The system-wide shortcut fires on keys typed on the X server, whoever has the focus."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from visio_desktop.ui.global_shortcut import UNAVAILABLE, GlobalShortcut

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the X11 grab is tested on Linux")


@pytest.fixture
def xserver() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is missing (apt-get install xvfb)")
    from tests.test_screen_share import VirtualScreen  # the screen tests' Xvfb helper

    screen = VirtualScreen(640, 480)
    try:
        yield screen.display
    finally:
        screen.close()


class _Keyboard:
    """Key presses synthesized with XTest on a connection of its own."""

    def __init__(self, display: str) -> None:
        x11_path, xtst_path = ctypes.util.find_library("X11"), ctypes.util.find_library("Xtst")
        if not x11_path or not xtst_path:
            pytest.skip("libXtst is missing (apt-get install libxtst6): cannot type keys")
        self.x11, self.xtst = ctypes.CDLL(x11_path), ctypes.CDLL(xtst_path)
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.x11.XStringToKeysym.restype = ctypes.c_ulong
        self.x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                                ctypes.c_ulong]
        self.dpy: Any = self.x11.XOpenDisplay(display.encode())
        assert self.dpy, f"cannot open {display}"

    def press(self, *names: str) -> None:
        codes = [self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(n.encode()))
                 for n in names]
        assert all(codes), names
        for code in codes:
            self.xtst.XTestFakeKeyEvent(self.dpy, code, 1, 0)
        for code in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.dpy, code, 0, 0)
        self.x11.XFlush(self.dpy)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.dpy)


def test_the_shortcut_fires_then_stops_and_cannot_be_taken_twice(qtbot: QtBot,
                                                                 xserver: str) -> None:
    keyboard = _Keyboard(xserver)
    shortcut, other = GlobalShortcut(display=xserver), GlobalShortcut(display=xserver)
    try:
        assert shortcut.register("Ctrl+Alt+M"), shortcut.error
        with qtbot.waitSignal(shortcut.triggered, timeout=2000):
            keyboard.press("Control_L", "Alt_L", "m")

        # another application (here: another connection) cannot take the same combination
        assert not other.register("Ctrl+Alt+M")
        assert "already used" in other.error

        fired: list[bool] = []
        shortcut.triggered.connect(lambda: fired.append(True))
        keyboard.press("m")  # without the modifiers: not the shortcut
        shortcut.unregister()
        keyboard.press("Control_L", "Alt_L", "m")
        qtbot.wait(200)
        assert not fired

        # once released, the combination is free again
        assert other.register("Ctrl+Alt+M"), other.error
    finally:
        shortcut.unregister()
        other.unregister()
        keyboard.close()


def test_a_sequence_of_several_keys_is_refused(xserver: str) -> None:
    shortcut = GlobalShortcut(display=xserver)
    assert not shortcut.register("Ctrl+K, Ctrl+M")
    assert shortcut.error


def test_wayland_says_it_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    shortcut = GlobalShortcut()
    assert not shortcut.register("Ctrl+Alt+M")
    assert shortcut.error == UNAVAILABLE
