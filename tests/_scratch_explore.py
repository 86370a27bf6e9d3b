from __future__ import annotations

import asyncio
import time

import numpy as np
from livekit.protocol import models

from tests.support import sdk_client
from tests.support.browser import browsers
from tests.test_browser_interop import forwarding, sdk_clients
from visio_desktop.media.synthetic import TestPattern, luma, motion_region, read_pattern

__all__ = ["browsers"]
LAST = {}
orig = sdk_client.SdkParticipant._on_video_frame


def patched(self, frame, stats):
    orig(self, frame, stats)
    LAST[stats.track_sid] = np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width, 4).copy()


sdk_client.SdkParticipant._on_video_frame = patched

WRAP = """
(() => { window.__pcs = []; const O = window.RTCPeerConnection;
  class P extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }
  window.RTCPeerConnection = P; })();
"""
PCSTATS = """
async () => { const out = [];
  for (const pc of window.__pcs) { const r = await pc.getStats(); const e = {sdp: pc.localDescription?.sdp ?? '', rsdp: pc.remoteDescription?.sdp ?? '', cp: []};
    r.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated) e.cp.push({out: s.availableOutgoingBitrate, in: s.availableIncomingBitrate, rtt: s.currentRoundTripTime}); });
    out.push(e); }
  return out; }
"""


async def test_explore(room_server, browsers) -> None:
    room = "x"
    async with sdk_clients(room_server, room, "py") as (py,):
        web = await browsers.new("web")
        await web.page.evaluate(WRAP)
        await web.join(room_server.url, room_server.token(room, "web"))
        await py.wait_for_participant("web")
        cam = await web.publish_camera(width=960, height=540, fps=15, simulcast=True)
        t0 = time.monotonic()
        for i in range(8):
            await asyncio.sleep(1.5)
            st = await web.stats()
            pcs = await web.page.evaluate(PCSTATS)
            view = await forwarding(room_server, "web", models.TrackSource.CAMERA)
            print(f"t={time.monotonic()-t0:.1f}", [p["cp"] for p in pcs])
            for e in st:
                print("  ", [(o["rid"], o["framesSent"], o["bytesSent"], o["qualityLimitationReason"]) for o in e["outbound"]])
            print("  server", view.describe() if view else None)
        for p in pcs:
            print("---- local\n", "\n".join(l for l in p["sdp"].splitlines() if "rtcp-fb" in l or "extmap" in l or "rid" in l))
            print("---- remote\n", "\n".join(l for l in p["rsdp"].splitlines() if "rtcp-fb" in l or "extmap" in l or "rid" in l))
        img = LAST[cam["trackSid"]][:, :, :3]
        r = read_pattern(img)
        h, w = img.shape[:2]
        exp = TestPattern(w, h).render(r.counter, r.timestamp_ms)
        rows = motion_region(h)
        d = luma(img[rows]) - luma(exp[rows])
        print("size", w, h, "mean diff", d.mean(), "abs", np.abs(d).mean(), "p99", np.percentile(np.abs(d), 99))
        for c in range(-3, 4):
            e2 = TestPattern(w, h).render(r.counter + c, 0)
            d2 = luma(img[rows]) - luma(e2[rows])
            print(" counter offset", c, "rms", np.sqrt((d2 ** 2).mean()))
        np.save("/tmp/recv.npy", img)
        np.save("/tmp/exp.npy", exp)
