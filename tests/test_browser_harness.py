"""Smoke test of the livekit-client browser harness: no room server involved."""

from __future__ import annotations

import json

import numpy as np

from tests.support.browser import BROWSER_DIR, BrowserFactory, browsers, pinned_sdk_version
from visio_desktop.media.synthetic import TestPattern, read_pattern

__all__ = ["browsers"]  # the fixture, imported for pytest


def test_sdk_is_pinned_exactly() -> None:
    version = pinned_sdk_version()
    assert version.startswith("2.23."), version
    assert version.replace(".", "").isdigit(), f"pin an exact version, not {version!r}"
    lock = json.loads((BROWSER_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/livekit-client"]["version"] == version


async def test_harness_loads_sdk_and_renders_pattern(browsers: BrowserFactory) -> None:
    page = await browsers.new("smoke")
    info = await page.info()
    assert info["secureContext"] is True
    assert await page.sdk_version() == pinned_sdk_version()
    assert info["version"] == pinned_sdk_version()
    assert info["pattern"] is True, f"VisioPattern missing: {info['patternError']}"

    counter, timestamp_ms = 1234, 1_700_000_123_456
    rgb, renderer = await page.render_pattern_for_test(640, 360, counter, timestamp_ms)
    assert renderer == "VisioPattern"
    assert rgb.shape == (360, 640, 3)
    assert rgb.dtype == np.uint8
    assert rgb.std() > 10, "the rendered pattern is flat"

    decoded = read_pattern(rgb)
    assert decoded is not None, "read_pattern could not decode the browser-rendered pattern"
    assert decoded.counter == counter
    assert decoded.timestamp_ms == timestamp_ms & 0xFFFFFFFF
    # pattern.js is an exact port of the Python renderer: same pixels at any size
    expected = TestPattern(640, 360).render(counter, timestamp_ms)
    differing = np.count_nonzero(np.any(rgb != expected, axis=2))
    assert differing == 0, f"{differing} pixels differ from TestPattern.render"
    assert not [line for line in page.console_log if "[pageerror]" in line], page.console_text()
