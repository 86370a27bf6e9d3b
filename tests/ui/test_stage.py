"""The stage and its video tiles, as a user sees them: real Qt widgets (offscreen), a real
FrameStore fed with real av.VideoFrames, hand-made CallSnapshots and a controllable clock."""

from __future__ import annotations

from datetime import datetime

import av
import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QLabel, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from visio_desktop.call_state import CallSnapshot, ParticipantState, Quality
from visio_desktop.media.frame_store import FrameStore
from visio_desktop.media.synthetic import TestPattern, read_pattern
from visio_desktop.ui.stage import Stage, grid_rects
from visio_desktop.ui.video_tile import VIDEO_BACKGROUND, VideoTile, avatar_colour

RED = (200, 30, 40)
GREEN = (40, 190, 60)
BLUE = (30, 60, 200)


class RecordingStore(FrameStore):
    """A real FrameStore that also remembers the last view asked for each key."""

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[str, tuple[int, int]] = {}

    def set_view(self, key: str, width: int, height: int) -> None:
        super().set_view(key, width, height)
        self.views[key] = (width, height)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def solid(rgb: tuple[int, int, int], width: int = 320, height: int = 180) -> av.VideoFrame:
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:] = rgb
    return av.VideoFrame.from_ndarray(pixels, format="rgb24")


def person(identity: str, *, video: bool = True, **fields: object) -> ParticipantState:
    camera = f"cam-{identity}" if video else None
    return ParticipantState(identity=identity, name=str(fields.pop("name", identity.title())),
                            camera_key=camera, **fields)  # type: ignore[arg-type]


def crowd(count: int) -> list[ParticipantState]:
    """The local user first, then p1..p{count-1}, all with a camera."""
    return [person("me", is_local=True)] + [person(f"p{i}") for i in range(1, count)]


def snap(participants: list[ParticipantState], speakers: tuple[str, ...] = ()) -> CallSnapshot:
    return CallSnapshot(participants=tuple(participants), active_speakers=speakers)


def feed(store: FrameStore, participants: list[ParticipantState],
         colour: tuple[int, int, int] = GREEN) -> None:
    for p in participants:
        if p.camera_key:
            store.push(p.camera_key, solid(colour))


def to_array(image: QImage) -> npt.NDArray[np.uint8]:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, line = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=line * h).reshape(h, line)
    return data[:, : w * 3].reshape(h, w, 3).copy()


def centre_colour(widget: QWidget) -> tuple[int, int, int]:
    image = widget.grab().toImage()
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    return colour.red(), colour.green(), colour.blue()


def close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def area(widget: QWidget) -> int:
    return widget.width() * widget.height()


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stage(qtbot: QtBot, store: RecordingStore, clock: Clock) -> Stage:
    widget = Stage(store, clock=clock)
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    return widget


def make_tile(qtbot: QtBot, store: FrameStore, p: ParticipantState, width: int = 320,
              height: int = 180, **state: object) -> VideoTile:
    tile = VideoTile(store, p.identity)
    qtbot.addWidget(tile)
    tile.resize(width, height)
    tile.update_state(p, **state)  # type: ignore[arg-type]
    tile.show()
    return tile


# -- the tile ------------------------------------------------------------------------------------
def test_tile_paints_the_latest_frame_and_repaints_only_on_new_frames(
        qtbot: QtBot, store: RecordingStore) -> None:
    alice = person("alice")
    store.push("cam-alice", solid(RED))
    tile = make_tile(qtbot, store, alice)
    assert close(centre_colour(tile), RED)
    assert store.views["cam-alice"] == tile.device_size() == (320, 180)

    assert tile.refresh() is False  # nothing new since the tile was set up
    store.push("cam-alice", solid(BLUE))
    assert tile.refresh() is True
    assert tile.refresh() is False
    assert close(centre_colour(tile), BLUE)


def test_tile_shows_the_test_pattern_pixel_exact_enough_to_decode(
        qtbot: QtBot, store: RecordingStore) -> None:
    pattern = TestPattern(640, 360)
    store.push("cam-alice", pattern.render_i420(4242, 123456))
    tile = make_tile(qtbot, store, person("alice"), 640, 360)
    reading = read_pattern(to_array(tile.grab().toImage()))
    assert reading is not None and reading.counter == 4242


def test_tile_letterboxes_other_aspect_ratios_on_a_dark_background(
        qtbot: QtBot, store: RecordingStore) -> None:
    store.push("cam-alice", solid(RED, 240, 180))  # 4:3 in a 16:9 tile
    tile = make_tile(qtbot, store, person("alice"), 320, 180)
    image = tile.grab().toImage()
    edge = image.pixelColor(10, 90)
    background = (VIDEO_BACKGROUND.red(), VIDEO_BACKGROUND.green(), VIDEO_BACKGROUND.blue())
    assert close((edge.red(), edge.green(), edge.blue()), background)
    assert close(centre_colour(tile), RED)


def test_tile_without_video_shows_an_avatar_in_the_identity_colour(
        qtbot: QtBot, store: RecordingStore) -> None:
    tile = make_tile(qtbot, store, person("bob", video=False, name="Bob Marley"))
    assert tile.video_key() is None
    image = tile.grab().toImage()
    # left of the initials, inside the circle
    pixel = image.pixelColor(160 - 30, 90)
    expected = avatar_colour("bob")
    assert close((pixel.red(), pixel.green(), pixel.blue()),
                 (expected.red(), expected.green(), expected.blue()))
    assert "camera off" in tile.accessibleDescription()


def test_hidden_tiles_cost_nothing(qtbot: QtBot, store: RecordingStore) -> None:
    store.push("cam-alice", solid(RED))
    tile = make_tile(qtbot, store, person("alice"))
    tile.resize(640, 360)
    assert store.views["cam-alice"] == (640, 360)
    tile.hide()
    assert store.views["cam-alice"] == (0, 0)
    store.push("cam-alice", solid(BLUE))
    assert tile.refresh() is False
    tile.show()
    assert store.views["cam-alice"] == (640, 360)
    tile.update_state(person("alice", video=False))  # camera off: the old key is released
    assert store.views["cam-alice"] == (0, 0)


def test_name_is_plain_text(qtbot: QtBot, store: RecordingStore) -> None:
    def name_width(name: str) -> int:
        tile = make_tile(qtbot, store, person("x", video=False, name=name, microphone_muted=False))
        image = to_array(tile.grab().toImage())
        label_rows = image[180 - 30: 180 - 8, : 320 // 2]
        bright = (label_rows > 200).all(axis=2).any(axis=0)
        return int(bright.sum())

    markup = "<b>x</b>"
    tile = make_tile(qtbot, store, person("x", video=False, name=markup))
    assert tile.display_text() == markup
    assert tile.accessibleName().startswith(markup)
    assert tile.findChildren(QLabel) == []  # drawn with QPainter.drawText: never rich text
    # the tags are drawn, as typed: far wider than a bold "x"
    assert name_width(markup) > 4 * name_width("x")


def test_badges_are_described_in_words(qtbot: QtBot, store: RecordingStore) -> None:
    alice = person("alice", microphone_muted=True, hand_raised_at=datetime(2025, 1, 1),
                   quality=Quality.POOR)
    tile = make_tile(qtbot, store, alice, pinned=True, hand_order=2)
    description = tile.accessibleDescription()
    for words in ("microphone muted", "hand raised, number 2", "poor connection", "pinned"):
        assert words in description
        assert words in tile.accessibleName()
    assert tile.accessibleName().startswith("Alice — microphone muted — hand raised")
    tile.grab()  # paints the badges: their tooltips say what they mean
    assert tile.tooltip_at(QPoint(320 - 12, 12)) == "Poor connection"
    assert tile.tooltip_at(QPoint(12, 12)) == "Hand raised, number 2"
    # the tooltip event (hovering the badge) shows that text
    QApplication.sendEvent(tile, QHelpEvent(QEvent.Type.ToolTip, QPoint(12, 12),
                                            tile.mapToGlobal(QPoint(12, 12))))
    qtbot.waitUntil(lambda: QToolTip.text() == "Hand raised, number 2", timeout=2000)
    QToolTip.hideText()

    tile.update_state(person("alice", microphone_muted=False))
    assert "microphone muted" not in tile.accessibleDescription()
    assert "hand raised" not in tile.accessibleDescription()


def test_tile_asks_to_pin_by_keyboard_double_click_and_menu(
        qtbot: QtBot, store: RecordingStore) -> None:
    tile = make_tile(qtbot, store, person("alice"))
    assert tile.focusPolicy() == Qt.FocusPolicy.StrongFocus
    for act in (lambda: qtbot.keyClick(tile, Qt.Key.Key_Return),
                lambda: qtbot.mouseDClick(tile, Qt.MouseButton.LeftButton),
                lambda: tile.build_menu().actions()[0].trigger()):
        with qtbot.waitSignal(tile.pin_requested, timeout=500) as blocker:
            act()
        assert blocker.args == ["alice"]
    assert tile.build_menu().actions()[0].text() == "Pin"
    tile.update_state(person("alice"), pinned=True)
    assert tile.build_menu().actions()[0].text() == "Unpin"


def test_preview_tile_offers_no_pin(qtbot: QtBot, store: RecordingStore) -> None:
    preview = VideoTile(store, "preview", pinnable=False)
    qtbot.addWidget(preview)
    preview.update_state(person("me", is_local=True))
    preview.show()
    assert preview.focusPolicy() == Qt.FocusPolicy.NoFocus
    with qtbot.assertNotEmitted(preview.pin_requested, wait=50):
        qtbot.mouseDClick(preview, Qt.MouseButton.LeftButton)
        qtbot.keyClick(preview, Qt.Key.Key_Return)


# -- the stage: grid and pages -----------------------------------------------------------------
def test_grid_shape_maximises_16_9_tiles() -> None:
    from PySide6.QtCore import QRect

    rects = grid_rects(9, QRect(0, 0, 1600, 900), 0)
    assert len({r.x() for r in rects}) == 3 and len({r.y() for r in rects}) == 3
    rects = grid_rects(4, QRect(0, 0, 2000, 300), 0)  # a wide strip: one row
    assert len({r.y() for r in rects}) == 1
    assert all(abs(r.width() / r.height() - 16 / 9) < 0.02 for r in rects)


def test_grid_tiles_show_their_video(stage: Stage, store: RecordingStore) -> None:
    people = crowd(3)
    store.push("cam-me", solid(RED))
    store.push("cam-p1", solid(GREEN))
    stage.set_snapshot(snap([*people[:2], person("p2", video=False)]))
    assert stage.focused_key() is None and stage.page_count() == 1
    tiles = stage.visible_tiles()
    assert [t.key() for t in tiles] == ["me", "p1", "p2"]
    assert len({(t.width(), t.height()) for t in tiles}) == 1  # equal tiles
    assert close(centre_colour(tiles[0]), RED)
    assert close(centre_colour(tiles[1]), GREEN)
    assert tiles[2].video_key() is None
    for tile in tiles[:2]:
        assert store.views[tile.video_key() or ""] == tile.device_size()


def test_ten_participants_make_two_pages(qtbot: QtBot, stage: Stage,
                                         store: RecordingStore) -> None:
    people = crowd(10)
    feed(store, people)
    stage.set_snapshot(snap(people))
    assert stage.page_count() == 2 and stage.page() == 0
    page_bar_label = next(label for label in stage.findChildren(QLabel)
                          if label.text().startswith("Page"))
    assert page_bar_label.text() == "Page 1 / 2"
    assert [t.key() for t in stage.visible_tiles()] == [p.identity for p in people[:9]]
    last = stage.tile("p9")
    assert last is not None and not last.isVisible()
    assert store.views.get("cam-p9", (0, 0)) == (0, 0)

    with qtbot.waitSignal(stage.page_changed, timeout=500) as blocker:
        qtbot.mouseClick(stage._page_bar.next, Qt.MouseButton.LeftButton)
    assert blocker.args == [1, 2]
    assert page_bar_label.text() == "Page 2 / 2"
    assert [t.key() for t in stage.visible_tiles()] == ["p9"]
    assert last.isVisible() and store.views["cam-p9"] == last.device_size()
    assert close(centre_colour(last), GREEN)
    for p in people[:9]:
        assert store.views[p.camera_key or ""] == (0, 0)
        tile = stage.tile(p.identity)
        assert tile is not None and not tile.isVisible()

    # PageUp from a tile (keyboard users) goes back
    last.setFocus()
    qtbot.keyClick(last, Qt.Key.Key_PageUp)
    assert stage.page() == 0
    qtbot.keyClick(stage.visible_tiles()[0], Qt.Key.Key_PageDown)
    assert stage.page() == 1


def test_tiles_are_reused_across_snapshots(stage: Stage) -> None:
    people = crowd(3)
    stage.set_snapshot(snap(people))
    first = stage.tile("p1")
    stage.set_snapshot(snap(people[:2]))
    assert stage.tile("p1") is first
    assert stage.tile("p2") is None
    stage.set_snapshot(snap([*people[:2], person("p3", microphone_muted=False)]))
    assert stage.tile("p1") is first
    assert stage.tile_keys() == ["me", "p1", "p3"]


def test_tiles_are_in_the_tab_order(qtbot: QtBot, stage: Stage) -> None:
    stage.set_snapshot(snap(crowd(4)))
    tiles = stage.visible_tiles()
    tiles[0].setFocus()
    assert tiles[0].hasFocus()
    for following in tiles[1:]:
        qtbot.keyClick(QWidget.focusWidget(stage) or stage, Qt.Key.Key_Tab)
        assert following.hasFocus()


def test_a_speaker_is_promoted_calmly_onto_the_first_page(stage: Stage, clock: Clock) -> None:
    people = crowd(10)  # me, p1..p8 on page 1; p9 on page 2
    stage.set_snapshot(snap(people))

    def page_one() -> list[str]:
        return stage.tile_keys()[:9]

    def speak(*speakers: str, at: float) -> None:
        clock.now = 100.0 + at
        stage.set_snapshot(snap(people, speakers))

    speak("p9", at=0.0)
    speak("p9", at=0.6)
    assert "p9" not in page_one()  # not yet: a word is not a speaker
    speak("p9", at=1.1)
    # p9 took the place of the least recently speaking tile; nothing else moved
    assert page_one() == ["me", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p9"]
    assert stage.tile_keys()[9] == "p8"

    speak("p1", "p2", "p3", "p4", "p5", "p6", "p7", at=1.3)
    speak(at=2.0)
    speak("p8", at=2.5)
    speak("p8", at=3.6)
    # p9 spoke least recently, but was promoted less than 5 s ago: p7 makes room instead
    assert "p8" in page_one() and "p9" in page_one() and "p7" not in page_one()

    speak(at=4.0)
    speak("p7", at=6.5)
    speak("p7", at=7.6)  # p9 was promoted 6.5 s ago and spoke least recently: it goes
    assert "p7" in page_one() and "p9" not in page_one()
    assert page_one()[0] == "me"  # the local user stays first


def test_promotion_needs_no_new_snapshot(qtbot: QtBot, stage: Stage, clock: Clock) -> None:
    people = crowd(10)
    stage.set_snapshot(snap(people, ("p9",)))
    clock.now += 1.5  # p9 keeps speaking; the engine has nothing new to publish
    qtbot.waitUntil(lambda: "p9" in stage.tile_keys()[:9], timeout=2000)


# -- focus views ---------------------------------------------------------------------------------
def test_screen_share_takes_the_stage_and_leaves_it(qtbot: QtBot, stage: Stage,
                                                    store: RecordingStore) -> None:
    people = crowd(4)
    feed(store, people)
    stage.set_snapshot(snap(people))
    store.push("screen-p2", solid(BLUE, 1280, 720))
    sharing = [*people[:2], person("p2", screen_key="screen-p2"), people[3]]
    with qtbot.waitSignal(stage.pinned_changed, timeout=500) as blocker:
        stage.set_snapshot(snap(sharing))
    assert blocker.args == ["p2:screen"]
    assert stage.focused_key() == "p2:screen"
    screen = stage.tile("p2:screen")
    assert screen is not None and screen.isVisible()
    visible = stage.visible_tiles()
    assert visible[0] is screen
    assert all(area(screen) > 4 * area(t) for t in visible[1:])
    assert {t.key() for t in visible[1:]} == {"me", "p1", "p2", "p3"}  # cameras in a strip
    assert close(centre_colour(screen), BLUE)
    assert "(screen)" in screen.accessibleName()

    # a second share: the newest takes the stage; the first goes to the strip
    store.push("screen-p3", solid(RED, 1280, 720))
    stage.set_snapshot(snap([*sharing[:3], person("p3", screen_key="screen-p3")]))
    assert stage.focused_key() == "p3:screen"
    stage.set_snapshot(snap(sharing))
    assert stage.focused_key() == "p2:screen"

    stage.set_snapshot(snap(people))  # the share ended: back to the grid
    assert stage.focused_key() is None and stage.layout_mode() == "grid"
    assert stage.tile("p2:screen") is None
    assert len({area(t) for t in stage.visible_tiles()}) == 1


def test_pin_shows_the_focus_view(qtbot: QtBot, stage: Stage, store: RecordingStore) -> None:
    people = crowd(4)
    feed(store, people)
    stage.set_snapshot(snap(people))
    p2 = stage.tile("p2")
    assert p2 is not None
    with qtbot.waitSignal(stage.pinned_changed, timeout=500) as blocker:
        qtbot.mouseDClick(p2, Qt.MouseButton.LeftButton)
    assert blocker.args == ["p2"]
    assert stage.pinned() == stage.focused_key() == "p2"
    assert stage.visible_tiles()[0] is p2
    assert all(area(p2) > 4 * area(t) for t in stage.visible_tiles()[1:])
    assert "pinned" in p2.accessibleDescription()
    assert stage.layout_mode() == "grid"  # the choice is kept for when the pin goes

    # a screen share comes over the pin, and gives the stage back to it when it ends
    stage.set_snapshot(snap([*people[:3], person("p3", screen_key="screen-p3")]))
    assert stage.focused_key() == "p3:screen"
    assert "pinned" not in p2.accessibleDescription()
    stage.set_snapshot(snap(people))
    assert stage.focused_key() == "p2"

    qtbot.keyClick(p2, Qt.Key.Key_Return)  # Enter on the pinned tile unpins it
    assert stage.pinned() is None and stage.focused_key() is None
    assert stage.pin("nobody") is False
    assert stage.pin("p1") is True and stage.focused_key() == "p1"
    stage.unpin()
    assert stage.focused_key() is None


def test_unpinning_a_screen_share_returns_to_the_layout(stage: Stage) -> None:
    people = crowd(3)
    sharing = [*people[:2], person("p2", screen_key="screen-p2")]
    stage.set_snapshot(snap(sharing))
    assert stage.focused_key() == "p2:screen"
    stage.unpin()
    assert stage.focused_key() is None
    assert stage.tile("p2:screen") in stage.visible_tiles()  # now a tile of the grid
    stage.set_snapshot(snap(sharing))
    assert stage.focused_key() is None  # not back without being asked


def test_own_screen_share_is_a_tile_until_pinned(stage: Stage) -> None:
    people = crowd(3)
    sharing = [person("me", is_local=True, screen_key="local:screen"), *people[1:]]
    stage.set_snapshot(snap(sharing))
    assert stage.focused_key() is None
    assert stage.tile("me:screen") in stage.visible_tiles()
    assert stage.pin("me:screen") and stage.focused_key() == "me:screen"


def test_speaker_view_follows_the_speaker_with_a_strip(qtbot: QtBot, stage: Stage,
                                                       store: RecordingStore,
                                                       clock: Clock) -> None:
    people = crowd(10)
    feed(store, people)
    stage.set_snapshot(snap(people))
    with qtbot.waitSignal(stage.layout_changed, timeout=500) as blocker:
        stage.set_layout("speaker")
    assert blocker.args == ["speaker"]
    assert stage.layout_mode() == "speaker"
    assert stage.focused_key() == "p1"  # nobody spoke yet: the first remote participant

    stage.set_snapshot(snap(people, ("p4",)))
    clock.now += 1.2
    stage.set_snapshot(snap(people, ("p4",)))
    assert stage.focused_key() == "p4"
    focus = stage.visible_tiles()[0]
    assert focus.key() == "p4"
    strip = stage.visible_tiles()[1:]
    assert 1 <= len(strip) <= 6
    assert all(area(focus) > 4 * area(t) for t in strip)
    hidden = [k for k in stage.tile_keys() if k != "p4" and stage.tile(k) not in strip]
    assert hidden
    for key in hidden:
        tile = stage.tile(key)
        assert tile is not None and not tile.isVisible()
        assert store.views.get(f"cam-{key}", (0, 0)) == (0, 0)

    clock.now += 3  # p4 stopped; the stage keeps them until someone else speaks
    stage.set_snapshot(snap(people))
    assert stage.focused_key() == "p4"
    stage.set_layout("grid")
    assert stage.focused_key() is None and stage.page_count() == 2


def test_hidden_stage_stops_painting(qtbot: QtBot, stage: Stage, store: RecordingStore) -> None:
    people = crowd(3)
    feed(store, people)
    stage.set_snapshot(snap(people))
    assert stage._refresh_timer.isActive()
    assert all(store.views[f"cam-{p.identity}"] != (0, 0) for p in people)
    feed(store, people, RED)
    assert stage.refresh_tiles() == 3
    stage.hide()
    assert not stage._refresh_timer.isActive()
    assert all(store.views[f"cam-{p.identity}"] == (0, 0) for p in people)
    stage.show()
    assert stage._refresh_timer.isActive()
    assert all(store.views[f"cam-{p.identity}"] != (0, 0) for p in people)
