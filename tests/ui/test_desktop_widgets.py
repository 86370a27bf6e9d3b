"""Desktop widgets under the offscreen platform: screen picker, statistics dialog, toasts, tray
menu and mini window. No engine and no screen grab: listers and sources are fakes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from visio_desktop.call_state import CallSnapshot, LocalMedia, ParticipantState
from visio_desktop.media.screen import ScreenCaptureUnsupported, ScreenInfo, WindowInfo
from visio_desktop.net.stats import TrackStats
from visio_desktop.ui.mini_window import MiniWindow, pick_speaker
from visio_desktop.ui.screen_picker import ScreenPicker, bgr_to_qimage
from visio_desktop.ui.stats_dialog import StatsDialog
from visio_desktop.ui.toast import ToastArea, notify_native
from visio_desktop.ui.tray import CallTray

SCREENS = [ScreenInfo(1, "DP-1", 0, 0, 1920, 1080, True),
           ScreenInfo(2, "HDMI-1", 1920, 0, 1280, 720, False)]
WINDOWS = [WindowInfo(10, "<b>Editor</b>", 0, 0, 800, 600),
           WindowInfo(11, "Terminal", 100, 100, 640, 480)]
# a distinct colour per target, in BGR as media.screen.thumbnail returns
COLOURS = {1: (0, 0, 255), 2: (0, 255, 0), 10: (255, 0, 0), 11: (0, 255, 255)}


def fake_thumbnail(target: ScreenInfo | WindowInfo, max_width: int) -> npt.NDArray[np.uint8]:
    width = min(max_width, target.width)
    height = max(1, round(width * target.height / target.width))
    image = np.empty((height, width, 3), np.uint8)
    image[:] = COLOURS[target.id]
    return image


def make_picker(qtbot: QtBot, **kwargs: object) -> ScreenPicker:
    options: dict[str, object] = {"list_screens": lambda: list(SCREENS),
                                  "list_windows": lambda: list(WINDOWS),
                                  "thumbnail": fake_thumbnail}
    options.update(kwargs)
    picker = ScreenPicker(**options)  # type: ignore[arg-type]
    qtbot.addWidget(picker)
    return picker


def centre_colour(picker: ScreenPicker, grid_name: str, row: int) -> QColor:
    grid = getattr(picker, grid_name).grid
    pixmap = grid.item(row).icon().pixmap(64, 64)
    image = pixmap.toImage()
    return image.pixelColor(image.width() // 2, image.height() // 2)


# --- screen picker ----------------------------------------------------------------------------


def test_bgr_to_qimage_keeps_colours() -> None:
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[:] = (255, 0, 0)  # blue in BGR
    image = bgr_to_qimage(bgr)
    assert (image.width(), image.height()) == (6, 4)
    assert image.pixelColor(1, 1) == QColor(0, 0, 255)


def test_picker_shows_thumbnails_and_plain_names(qtbot: QtBot) -> None:
    picker = make_picker(qtbot)
    picker.show()
    qtbot.waitUntil(lambda: picker.pending_thumbnails() == 0, timeout=5000)
    screens, windows = picker._screens.grid, picker._windows.grid
    assert [screens.item(i).text() for i in range(screens.count())] == [
        "DP-1 (primary, 1920 × 1080)", "HDMI-1 (1280 × 720)"]
    assert [windows.item(i).text() for i in range(windows.count())] == [
        "<b>Editor</b>", "Terminal"]  # item text is never rich text
    assert centre_colour(picker, "_screens", 0) == QColor(255, 0, 0)
    assert centre_colour(picker, "_screens", 1) == QColor(0, 255, 0)
    assert centre_colour(picker, "_windows", 0) == QColor(0, 0, 255)
    assert screens.accessibleName() == "Screens"
    # the primary screen is preselected: Share works straight away
    assert picker.selected_target() == SCREENS[0]
    assert picker._share.isEnabled()


def test_picker_thumbnails_do_not_block(qtbot: QtBot) -> None:
    release = threading.Event()

    def slow_thumbnail(target: ScreenInfo | WindowInfo, width: int) -> npt.NDArray[np.uint8]:
        release.wait(5)
        return fake_thumbnail(target, width)

    picker = make_picker(qtbot, thumbnail=slow_thumbnail)
    picker.show()  # the dialog is up while every grab still waits
    assert picker.pending_thumbnails() == 4
    assert picker._screens.grid.count() == 2
    release.set()
    qtbot.waitUntil(lambda: picker.pending_thumbnails() == 0, timeout=5000)


def test_picker_failed_thumbnail_keeps_placeholder(qtbot: QtBot) -> None:
    def failing(target: ScreenInfo | WindowInfo, width: int) -> npt.NDArray[np.uint8]:
        if target.id == 11:
            raise RuntimeError("window closed")
        return fake_thumbnail(target, width)

    picker = make_picker(qtbot, thumbnail=failing)
    qtbot.waitUntil(lambda: picker.pending_thumbnails() == 0, timeout=5000)
    assert not picker._windows.grid.item(1).icon().isNull()  # the grey placeholder


def test_keyboard_selection_and_enter_shares_screen(qtbot: QtBot) -> None:
    picker = make_picker(qtbot)
    picker.show()
    qtbot.waitExposed(picker)
    grid = picker._screens.grid
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert picker.selected_target() == SCREENS[1]
    with qtbot.waitSignal(picker.accepted, timeout=2000):
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert picker.result() == QDialog.DialogCode.Accepted
    assert picker.selected_target() == SCREENS[1]
    assert picker.share_audio() is False


def test_keyboard_selection_of_a_window(qtbot: QtBot) -> None:
    picker = make_picker(qtbot)
    picker.show()
    qtbot.waitExposed(picker)
    picker._tabs.setCurrentIndex(1)
    grid = picker._windows.grid
    grid.setFocus()
    assert picker.selected_target() is None  # nothing chosen on this tab yet
    assert not picker._share.isEnabled()
    qtbot.keyClick(grid, Qt.Key.Key_Home)
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert picker.selected_target() == WINDOWS[1]
    with qtbot.waitSignal(picker.accepted, timeout=2000):
        qtbot.keyClick(grid, Qt.Key.Key_Enter)
    assert picker.selected_target() == WINDOWS[1]


def test_cancel_rejects(qtbot: QtBot) -> None:
    picker = make_picker(qtbot)
    picker.show()
    with qtbot.waitSignal(picker.rejected, timeout=2000):
        qtbot.keyClick(picker, Qt.Key.Key_Escape)
    assert picker.result() == QDialog.DialogCode.Rejected


def test_system_audio_checkbox(qtbot: QtBot) -> None:
    off = make_picker(qtbot, system_audio_available=False,
                      system_audio_reason="Needs PipeWire")
    assert not off._audio.isEnabled()
    assert off._audio.toolTip() == "Needs PipeWire"
    assert off.share_audio() is False
    on = make_picker(qtbot, system_audio_available=True)
    assert on._audio.isEnabled()
    on._audio.setChecked(True)
    assert on.share_audio() is True
    assert on._audio.accessibleName() == "Share computer sound"


def test_unsupported_session_shows_reason(qtbot: QtBot) -> None:
    def unsupported() -> list[ScreenInfo]:
        raise ScreenCaptureUnsupported("Screen sharing is not supported on Wayland yet.")

    picker = make_picker(qtbot, list_screens=unsupported)
    picker.show()
    assert picker.unsupported_reason() == "Screen sharing is not supported on Wayland yet."
    assert picker._unsupported_label.isVisible()
    assert picker._unsupported_label.text() == picker.unsupported_reason()
    assert picker._unsupported_label.textFormat() == Qt.TextFormat.PlainText
    assert not picker._tabs.isVisible()
    assert picker.selected_target() is None
    assert not picker._share.isEnabled()
    qtbot.keyClick(picker, Qt.Key.Key_Return)
    assert picker.isVisible()  # nothing to accept


def test_no_windows_shows_message(qtbot: QtBot) -> None:
    picker = make_picker(qtbot, list_windows=lambda: [])
    assert picker._windows.currentWidget() is picker._windows.message
    assert "No window" in picker._windows.message.text()


# --- statistics dialog ------------------------------------------------------------------------


def stats_row(**changes: object) -> TrackStats:
    values: dict[str, object] = dict(
        direction="send", kind="video", source="camera", participant_identity="alice",
        participant_name="Alice", track_sid="TR_1", codec="VP8", width=640, height=360,
        fps=30.0, bitrate_kbps=1500.0, packets=1200, packets_lost=3, loss_percent=0.25,
        rtt_ms=12.4, jitter_ms=1.53, encoder="libvpx (software)")
    values.update(changes)
    return TrackStats(**values)  # type: ignore[arg-type]


def test_stats_dialog_renders_rows_and_copies(qtbot: QtBot) -> None:
    requests: list[Callable[[list[TrackStats]], None]] = []
    dialog = StatsDialog(requests.append, refresh_ms=50)
    qtbot.addWidget(dialog)
    dialog.show()
    assert len(requests) == 1  # asked at once when shown
    rows = [stats_row(),
            stats_row(direction="receive", kind="audio", source="microphone", codec="opus",
                      participant_name="<b>Bob</b>", width=None, height=None, fps=None,
                      bitrate_kbps=32.4, rtt_ms=None, encoder="")]
    requests[0](rows)
    model = dialog.table.model()
    assert model.rowCount() == 2
    assert model.columnCount() == 13
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(13)]
    assert header[:4] == ["Direction", "Participant", "Track", "Codec"]

    def cells(row: int) -> list[str]:
        return [model.data(model.index(row, c)) for c in range(13)]

    assert cells(0) == ["Sending", "Alice", "Camera", "VP8", "640 × 360", "30", "1.50 Mbit/s",
                        "1200", "3", "0.2 %", "12 ms", "1.5 ms", "libvpx (software)"]
    assert cells(1)[:7] == ["Receiving", "<b>Bob</b>", "Microphone", "opus", "—", "—",
                            "32 kbit/s"]
    assert cells(1)[10] == "—" and cells(1)[12] == "—"
    assert dialog._summary.text() == "Tracks sent: 1; received: 1."

    text = dialog.copy_to_clipboard()
    assert QGuiApplication.clipboard().text() == text
    lines = text.splitlines()
    assert lines[0].split("\t")[:4] == ["Direction", "Participant", "Track", "Codec"]
    assert lines[1].split("\t")[3] == "VP8" and len(lines) == 3

    # the next refresh waits for the answer, then comes on the timer
    qtbot.waitUntil(lambda: len(requests) >= 2, timeout=2000)
    requests[1]([stats_row(packets=1300)])
    assert model.rowCount() == 1
    assert model.data(model.index(0, 7)) == "1300"
    dialog.hide()
    count = len(requests)
    qtbot.wait(200)
    assert len(requests) <= count + 1  # no refreshes while hidden


def test_stats_dialog_answer_after_close_is_ignored(qtbot: QtBot) -> None:
    requests: list[Callable[[list[TrackStats]], None]] = []
    dialog = StatsDialog(requests.append)
    dialog.show()
    dialog.close()
    dialog.deleteLater()
    qtbot.wait(10)
    from PySide6.QtCore import QCoreApplication, QEvent
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    requests[0]([stats_row()])  # must not raise


# --- toasts -----------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    widget.resize(640, 480)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_toast_shows_plain_text_and_expires(qtbot: QtBot, window: QWidget) -> None:
    area = ToastArea(window, duration_ms=150)
    toast = area.show_message("<b>Bob</b> joined")
    assert area.isVisible()
    assert area.messages() == ["<b>Bob</b> joined"]
    assert toast.label.textFormat() == Qt.TextFormat.PlainText
    assert toast.accessibleName() == "<b>Bob</b> joined"
    assert toast.close_button.accessibleName() == "Dismiss notification"
    geometry = area.geometry()
    assert geometry.bottom() < window.height() and geometry.width() < window.width()
    qtbot.waitUntil(lambda: area.messages() == [], timeout=3000)
    assert not area.isVisible()


def test_toast_keeps_three(qtbot: QtBot, window: QWidget) -> None:
    area = ToastArea(window, duration_ms=10_000)
    for i in range(5):
        area.show_message(f"message {i}")
    assert area.messages() == ["message 2", "message 3", "message 4"]
    area.clear()
    assert area.messages() == []


def test_toast_action_and_dismiss(qtbot: QtBot, window: QWidget) -> None:
    area = ToastArea(window, duration_ms=10_000)
    opened: list[bool] = []
    toast = area.show_message("Alice: hello", action_text="Open chat",
                              on_action=lambda: opened.append(True))
    other = area.show_message("Second")
    assert toast.action_button is not None
    assert toast.action_button.accessibleName() == "Open chat"
    qtbot.mouseClick(toast.action_button, Qt.MouseButton.LeftButton)
    assert opened == [True]
    assert area.messages() == ["Second"]
    qtbot.keyClick(other.close_button, Qt.Key.Key_Space)
    assert area.messages() == []


def test_toast_waits_while_focused(qtbot: QtBot, window: QWidget) -> None:
    area = ToastArea(window, duration_ms=100)
    toast = area.show_message("Alice raised her hand", action_text="Show")
    assert toast.action_button is not None
    toast.action_button.setFocus(Qt.FocusReason.TabFocusReason)  # a keyboard user reaches it
    qtbot.waitUntil(lambda: toast.action_button is not None and toast.action_button.hasFocus())
    assert not toast.is_counting_down()
    qtbot.wait(300)
    assert area.messages() == ["Alice raised her hand"]
    toast.action_button.clearFocus()
    qtbot.waitUntil(lambda: area.messages() == [], timeout=3000)


def test_toast_duration_per_message(qtbot: QtBot, window: QWidget) -> None:
    area = ToastArea(window, duration_ms=10_000)
    area.show_message("long")
    area.show_message("short", duration_ms=50)
    qtbot.waitUntil(lambda: area.messages() == ["long"], timeout=3000)


def test_notify_native_without_tray() -> None:
    assert notify_native("Visio", "Bob raised his hand") is False


# --- tray -------------------------------------------------------------------------------------


def test_tray_menu_actions_emit(qtbot: QtBot) -> None:
    tray = CallTray(available=False)  # offscreen has no tray: the menu still works
    assert tray.tray_icon() is None
    tray.show()  # inert
    actions = tray.menu.actions()
    assert tray.show_action in actions and tray.quit_action in actions
    assert not tray.leave_action.isEnabled()
    assert not tray.microphone_action.isEnabled()

    with qtbot.waitSignal(tray.show_requested, timeout=500):
        tray.show_action.trigger()
    with qtbot.waitSignal(tray.quit_requested, timeout=500):
        tray.quit_action.trigger()

    tray.set_in_call(True)
    assert tray.leave_action.isEnabled()
    with qtbot.assertNotEmitted(tray.microphone_toggled):
        tray.set_microphone_on(True)
    assert tray.microphone_action.isCheckable() and not tray.microphone_action.isChecked()
    with qtbot.waitSignal(tray.microphone_toggled, timeout=500) as muted:
        tray.microphone_action.trigger()
    assert muted.args == [False]
    assert tray.microphone_action.isChecked()
    with qtbot.waitSignal(tray.microphone_toggled, timeout=500) as unmuted:
        tray.microphone_action.trigger()
    assert unmuted.args == [True]
    with qtbot.waitSignal(tray.leave_requested, timeout=500):
        tray.leave_action.trigger()
    tray.set_in_call(False)
    assert not tray.leave_action.isEnabled()


# --- mini window ------------------------------------------------------------------------------


def snapshot(microphone_on: bool = True, speakers: tuple[str, ...] = ("x",)) -> CallSnapshot:
    me = ParticipantState("me", "Me", is_local=True, microphone_muted=not microphone_on,
                          camera_key="local:camera")
    x = ParticipantState("x", "<i>x</i>", microphone_muted=False, camera_key="TR_cam_x")
    y = ParticipantState("y", "Yann", microphone_muted=True)
    return CallSnapshot(participants=(me, x, y), active_speakers=speakers,
                        local=LocalMedia(microphone_on=microphone_on))


def test_pick_speaker() -> None:
    assert pick_speaker(snapshot()).identity == "x"  # type: ignore[union-attr]
    assert pick_speaker(snapshot(speakers=("me",)), "y").identity == "y"  # type: ignore[union-attr]
    assert pick_speaker(snapshot(speakers=())).identity == "x"  # type: ignore[union-attr]
    assert pick_speaker(CallSnapshot()) is None


def test_mini_window_speaker_video_and_buttons(qtbot: QtBot) -> None:
    asked: list[tuple[str, int, int]] = []

    def source(key: str, width: int, height: int) -> QImage:
        asked.append((key, width, height))
        image = QImage(32, 18, QImage.Format.Format_RGB32)
        image.fill(QColor("red"))
        return image

    mini = MiniWindow(source, fps=50)
    qtbot.addWidget(mini)
    flags = mini.windowFlags()
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.Tool == Qt.WindowType.Tool
    mini.set_snapshot(snapshot())
    assert mini.speaker_text() == "<i>x</i>"  # literal, not italic
    assert mini.name_label.textFormat() == Qt.TextFormat.PlainText
    mini.show()
    qtbot.waitUntil(lambda: len(asked) >= 2, timeout=2000)
    assert asked[0][0] == "TR_cam_x"
    assert mini.video.has_image()

    assert mini.mute_button.text().replace("&", "") == "Mute"
    with qtbot.waitSignal(mini.microphone_toggled, timeout=500) as toggled:
        qtbot.mouseClick(mini.mute_button, Qt.MouseButton.LeftButton)
    assert toggled.args == [False]
    mini.set_snapshot(snapshot(microphone_on=False))
    assert mini.mute_button.text().replace("&", "") == "Unmute"
    assert mini.mute_button.accessibleName() == "Unmute the microphone"
    with qtbot.waitSignal(mini.microphone_toggled, timeout=500) as toggled:
        qtbot.keyClick(mini.mute_button, Qt.Key.Key_Space)
    assert toggled.args == [True]
    with qtbot.waitSignal(mini.leave_requested, timeout=500):
        qtbot.mouseClick(mini.leave_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(mini.restore_requested, timeout=500):
        qtbot.mouseClick(mini.restore_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(mini.restore_requested, timeout=500):
        qtbot.keyClick(mini, Qt.Key.Key_Escape)


def test_mini_window_muted_speaker_without_video(qtbot: QtBot) -> None:
    mini = MiniWindow(lambda key, w, h: None)
    qtbot.addWidget(mini)
    mini.set_snapshot(snapshot(speakers=("y",)))
    assert mini.speaker_text() == "Yann, muted"  # said in words, not by colour
    assert not mini.video.has_image()
    mini.set_snapshot(CallSnapshot())
    assert mini.speaker_text() == "Nobody else is here"


def test_picker_on_wayland_offers_the_system_dialog(qtbot: QtBot,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """On Wayland nothing can be listed: one entry hands the choice to the desktop portal."""
    from visio_desktop.media.qt_capture import PortalTarget
    from visio_desktop.ui.screen_picker import ScreenPicker

    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    picker = ScreenPicker(list_screens=lambda: pytest.fail("mss cannot list on Wayland"),
                          list_windows=lambda: [], thumbnail=lambda *a, **k: None)
    qtbot.addWidget(picker)
    target = picker.selected_target()
    assert isinstance(target, PortalTarget)
