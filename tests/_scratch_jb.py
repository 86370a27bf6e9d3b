from __future__ import annotations

import asyncio
import time

from livekit.protocol import models

from tests.support.browser import browsers
from tests.test_browser_interop import RecordingSdkParticipant, forwarding

__all__ = ["browsers"]

JS = """
async () => { const out = [];
  for (const pc of window.__pcs) { const r = await pc.getStats();
    r.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') out.push([s.jitterBufferDelay, s.jitterBufferEmittedCount, s.framesDecoded, s.frameWidth]); }); }
  return out; }
"""
TOGGLE = """
async ([on]) => { for (const pc of window.__pcs) for (const s of pc.getSenders()) {
    const p = s.getParameters(); if (!p.encodings || p.encodings.length < 2) continue;
    for (const e of p.encodings) if (e.rid !== 'q') e.active = on;
    await s.setParameters(p); return 'toggled ' + on; } return 'no sender'; }
"""
WRAP = """
(() => { window.__pcs = []; const O = window.RTCPeerConnection;
  class P extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }
  window.RTCPeerConnection = P; })();
"""


async def test_jb(room_server, browsers) -> None:
    py = RecordingSdkParticipant("py")
    await py.connect(room_server.url, room_server.token("j", "py"))
    try:
        web = await browsers.new("web")
        web2 = await browsers.new("web2")
        await web2.page.evaluate(WRAP)
        await web.page.evaluate(WRAP)
        await web.join(room_server.url, room_server.token("j", "web"))
        await web2.join(room_server.url, room_server.token("j", "web2"))
        cam = await web.publish_camera(width=960, height=540, fps=15, simulcast=True)
        t0 = time.monotonic()
        prev_b, prev_s = (0, 0), {}
        toggled = 0
        while time.monotonic() - t0 < 30:
            await asyncio.sleep(1.0)
            el = time.monotonic() - t0
            if toggled == 0 and el > 8:
                toggled = 1
                print(await web.page.evaluate(TOGGLE, [False]))
            if toggled == 1 and el > 20:
                toggled = 2
                print(await web.page.evaluate(TOGGLE, [True]))
            b = (await web2.page.evaluate(JS))
            b = b[0] if b else [0, 0, 0, 0]
            jb_b = round(1000 * (b[0] - prev_b[0]) / max(1, b[1] - prev_b[1]))
            prev_b = (b[0], b[1])
            rs_ = await py.room.get_rtc_stats()
            jb_s = None
            for x in rs_.subscriber_stats:
                if x.HasField("inbound_rtp") and x.inbound_rtp.inbound.frames_decoded:
                    ib = x.inbound_rtp.inbound
                    o = prev_s.get("v", (0, 0))
                    jb_s = round(1000 * (ib.jitter_buffer_delay - o[0]) / max(1, ib.jitter_buffer_emitted_count - o[1]))
                    prev_s["v"] = (ib.jitter_buffer_delay, ib.jitter_buffer_emitted_count)
            view = await forwarding(room_server, "web", models.TrackSource.CAMERA)
            vs = py.video.get(cam["trackSid"])
            lat = sorted(list(vs.latencies_ms)[-15:]) if vs else []
            downs = {d.subscriber: d.layer for d in view.down.values()} if view else {}
            print(f"t={time.monotonic()-t0:4.1f} layers={downs} browser jb={jb_b} w={b[3]} | sdk jb={jb_s} lat~{lat[len(lat)//2] if lat else None} {vs.width if vs else 0}")
    finally:
        await py.disconnect()
