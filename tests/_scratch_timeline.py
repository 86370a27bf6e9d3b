from __future__ import annotations

import asyncio
import os
import time

from livekit.protocol import models

from tests.support.browser import browsers
from tests.test_browser_interop import RecordingSdkParticipant, forwarding

__all__ = ["browsers"]

WRAP = """
(() => { window.__pcs = []; const O = window.RTCPeerConnection;
  class P extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }
  window.RTCPeerConnection = P; })();
"""
PCSTATS = """
async () => { const out = {bwe: [], rids: {}};
  for (const pc of window.__pcs) { const r = await pc.getStats();
    r.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate) out.bwe.push(s.availableOutgoingBitrate);
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.rids[(s.rid||'-') + ':' + s.mid] = [s.packetsSent, s.totalPacketSendDelay, s.framesSent]; }); }
  return out; }
"""


import aiortc.rate as _rate

REMB: list = []
PREV: dict = {}
JB: dict = {}
LAG: list = []
_orig_add = _rate.RemoteBitrateEstimator.add


def _add(self, *a, **k):
    r = _orig_add(self, *a, **k)
    if r is not None:
        REMB.append((time.monotonic(), r[0], tuple(sorted(r[1]))))
    return r


_rate.RemoteBitrateEstimator.add = _add


def cpu() -> tuple[int, int]:
    v = list(map(int, open("/proc/stat").readline().split()[1:]))
    return sum(v), v[3] + v[4]


async def test_timeline(room_server, browsers) -> None:
    py = RecordingSdkParticipant("py")
    await py.connect(room_server.url, room_server.token("t", "py"))
    try:
        web = await browsers.new("web")
        await web.page.evaluate(WRAP)
        await web.join(room_server.url, room_server.token("t", "web"))
        await py.publish_pattern(640, 360, 15, simulcast=False)
        await py.publish_tone(440)
        cam = await web.publish_camera(width=960, height=540, fps=15, simulcast=True)
        await web.publish_microphone(660)
        t0 = time.monotonic()
        last = (0, 0)

        async def lagger():
            while True:
                a = time.monotonic()
                await asyncio.sleep(0.05)
                LAG.append(time.monotonic() - a - 0.05)

        lag_fut = asyncio.run_coroutine_threadsafe(lagger(), room_server.loop)
        c0 = cpu()
        screen = False
        while time.monotonic() - t0 < 30:
            await asyncio.sleep(1.0)
            if not screen and time.monotonic() - t0 > 15:
                await web.publish_screen(width=640, height=360, fps=15)
                screen = True
                print("---- screen share")
            c1 = cpu()
            busy = 1 - (c1[1] - c0[1]) / max(1, c1[0] - c0[0])
            c0 = c1
            st = await web.page.evaluate(PCSTATS)
            view = await forwarding(room_server, "web", models.TrackSource.CAMERA)
            vs = py.video.get(cam["trackSid"])
            lat = sorted(list(vs.latencies_ms)[-15:]) if vs else []
            d = (vs.frames - last[0], vs.decoded - last[1]) if vs else (0, 0)
            last = (vs.frames, vs.decoded) if vs else last
            print(f"t={time.monotonic()-t0:4.1f} cpu={busy:.2f} load={os.getloadavg()[0]:.1f} bwe={[round(b/1000) for b in st['bwe']]} "
                  f"sdk +{d} {vs.width if vs else 0}x{vs.height if vs else 0} lat~{lat[len(lat)//2] if lat else None} regress={vs.counter_regressions if vs else 0}")
            pace = {}
            for k, (pk, dl, fs) in st["rids"].items():
                o = PREV.get(k, (0, 0))
                pace[k] = round(1000 * (dl - o[1]) / max(1, pk - o[0]))
                PREV[k] = (pk, dl)
            rs_ = await py.room.get_rtc_stats()
            jb = []
            for x in rs_.subscriber_stats:
                if x.HasField("inbound_rtp") and x.inbound_rtp.inbound.frames_decoded:
                    ib = x.inbound_rtp.inbound
                    k = x.inbound_rtp.stream.ssrc if hasattr(x.inbound_rtp, 'stream') else 0
                    o = JB.get(k, (0, 0))
                    jb.append(round(1000 * (ib.jitter_buffer_delay - o[0]) / max(1, ib.jitter_buffer_emitted_count - o[1])))
                    JB[k] = (ib.jitter_buffer_delay, ib.jitter_buffer_emitted_count)
            print("    pacer ms", pace, "sdk jitterbuf ms", jb)
            print("    srv", view.describe() if view else None)
            names = {}
            async def ssrcmap():
                out = {}
                for sess in room_server.server.sessions():
                    for tr in sess.published.values():
                        if tr.forwarder:
                            for rid, lay in tr.forwarder.layers.items():
                                out[lay.ssrc] = f"{sess.identity}:{models.TrackSource.Name(tr.info.source)[:3]}:{rid}"
                return out
            names = await room_server.acall(ssrcmap)
            rs = [(round(b/1000), "+".join(names.get(x, str(x)) for x in st)) for t, b, st in REMB if t > time.monotonic() - 1.1]
            print("    remb", rs[-6:], "loop lag max", round(max(LAG[-20:]) * 1000) if LAG else None, "ms")
    finally:
        lag_fut.cancel()
        await py.disconnect()
