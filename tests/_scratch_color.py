from __future__ import annotations

import asyncio

import numpy as np

from tests.support import sdk_client
from tests.support.browser import browsers
from tests.test_browser_interop import sdk_clients
from visio_desktop.media.synthetic import TestPattern, luma, pattern_psnr, read_pattern

__all__ = ["browsers"]
LAST = {}
orig = sdk_client.SdkParticipant._on_video_frame


def patched(self, frame, stats):
    orig(self, frame, stats)
    LAST[(self.identity, stats.participant)] = np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width, 4)[:, :, :3].copy()


sdk_client.SdkParticipant._on_video_frame = patched


def bars(tag, img):
    r = read_pattern(img)
    if r is None:
        print(tag, "no decode"); return
    h, w = img.shape[:2]
    e = TestPattern(w, h).render(r.counter, r.timestamp_ms)
    le, lr = luma(e).round(), luma(img)
    rows = slice(h // 3, h)
    out = []
    for v in (32.0, 224.0):
        m = le[rows] == v
        out.append((v, round(float(lr[rows][m].mean()), 1)))
    print(tag, w, h, out, "psnr", round(pattern_psnr(img, r.counter), 1))


async def test_color(room_server, browsers) -> None:
    async with sdk_clients(room_server, "c", "py", "py2") as (py, py2):
        web = await browsers.new("web")
        web2 = await browsers.new("web2")
        await web.join(room_server.url, room_server.token("c", "web"))
        await web2.join(room_server.url, room_server.token("c", "web2"))
        await py.publish_pattern(640, 360, 15, simulcast=False)
        await web.publish_camera(width=640, height=360, fps=15, simulcast=False)
        await asyncio.sleep(6)
        bars("sdk->sdk", LAST[("py2", "py")])
        bars("web->sdk", LAST[("py2", "web")])
        t = await web2.wait_for_remote_track(identity="py", kind="video")
        bars("sdk->web", await web2.grab_frame(t["trackSid"]))
        t = await web2.wait_for_remote_track(identity="web", kind="video")
        bars("web->web", await web2.grab_frame(t["trackSid"]))
