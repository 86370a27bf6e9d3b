"""Extensions to aiortc needed by LiveKit peers, kept in one place.

aiortc 1.16 routes incoming RTP only by SSRC (or by payload type when it is unique), ignores
``a=rid``/``a=simulcast`` and gathers ICE candidates on every interface but loopback. LiveKit
peers publish simulcast layers identified by RID with no ``a=ssrc`` lines, and may publish two
video tracks with the same payload type (camera and screen share). This module:

- routes RTP by SSRC, then by the MID header extension, then by a unique payload type;
- negotiates the RID and repaired-RID header extensions so they can be read from packets;
- answers a simulcast offer with matching ``a=rid:… recv`` / ``a=simulcast:recv`` lines;
- lets a caller choose the host addresses ICE gathers on (e.g. loopback for a loopback server).

``install()`` is idempotent and is called by the modules that need it.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import time
from collections.abc import Sequence

import aioice.ice
import aioice.turn
from aiortc import RTCPeerConnection, RTCRtpReceiver, rtcdtlstransport
from aiortc import codecs as aiortc_codecs
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters
from aiortc.rtp import RtpPacket

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

#: Host addresses ICE gathers on in the current context; None means aioice's default.
ice_host_addresses: contextvars.ContextVar[Sequence[str] | None] = contextvars.ContextVar(
    "ice_host_addresses", default=None
)

_installed = False
_original_get_host_addresses = aioice.ice.get_host_addresses


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = ice_host_addresses.get()
    if chosen is None:
        return _original_get_host_addresses(use_ipv4, use_ipv6)
    return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


def _route_rtp(
    self: rtcdtlstransport.RtpRouter, packet: RtpPacket
) -> rtcdtlstransport.RtpReceiver | None:
    pt_receivers = self.payload_type_table.get(packet.payload_type, set())
    ssrc_receiver = self.ssrc_table.get(packet.ssrc)
    if ssrc_receiver is not None:
        return ssrc_receiver if ssrc_receiver in pt_receivers else None
    mid = packet.extensions.mid
    if mid is not None:
        mid_receiver = self.mid_table.get(mid)
        if mid_receiver is not None and mid_receiver in pt_receivers:
            self.ssrc_table[packet.ssrc] = mid_receiver
            return mid_receiver
    if len(pt_receivers) == 1:
        receiver = next(iter(pt_receivers))
        self.ssrc_table[packet.ssrc] = receiver
        return receiver
    return None


class _Pacer:
    """Token bucket spreading a transport's packets: a 1080p keyframe is hundreds of packets,
    and sent in one burst it overflows the receiver's socket buffer (the loss then costs NACKs,
    more keyframes and frozen pictures)."""

    RATE_BYTES_S = 6_000_000  # 48 Mbit/s: far above any stream we send, only bursts wait
    CAPACITY = 48_000  # about 40 packets at once

    def __init__(self) -> None:
        self.tokens = float(self.CAPACITY)
        self.stamp = time.monotonic()

    async def wait(self, size: int) -> None:
        now = time.monotonic()
        self.tokens = min(self.CAPACITY, self.tokens + (now - self.stamp) * self.RATE_BYTES_S)
        self.stamp = now
        if self.tokens < size:
            await asyncio.sleep((size - self.tokens) / self.RATE_BYTES_S)
            self.tokens = float(size)
            self.stamp = time.monotonic()
        self.tokens -= size


#: Packets a video jitter buffer holds (a power of 2); it must hold a whole frame. aiortc's 512
#: (~600 kB) is less than a 1080p keyframe of dense text (over 1 MB): the buffer then drops the
#: frame's start to make room and flags picture loss, the keyframe that PLI asks for is as large
#: and is lost the same way, and the picture freezes for good.
VIDEO_JITTER_PACKETS = 4096

_original_receiver_init = RTCRtpReceiver.__init__


def _receiver_init(self: RTCRtpReceiver, kind: str, transport: rtcdtlstransport.RTCDtlsTransport
                   ) -> None:
    _original_receiver_init(self, kind, transport)
    if kind == "video":
        self._RTCRtpReceiver__jitter_buffer = JitterBuffer(  # type: ignore[attr-defined]
            capacity=VIDEO_JITTER_PACKETS, is_video=True)


_original_send_rtp = rtcdtlstransport.RTCDtlsTransport._send_rtp


async def _paced_send_rtp(self: rtcdtlstransport.RTCDtlsTransport, data: bytes) -> None:
    pacer = self.__dict__.get("_visio_pacer")
    if pacer is None:
        pacer = self.__dict__["_visio_pacer"] = _Pacer()
    await pacer.wait(len(data))
    await _original_send_rtp(self, data)


def install() -> None:
    """Apply the extensions (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    video = aiortc_codecs.HEADER_EXTENSIONS["video"]
    used = {ext.id for ext in video}
    for uri in (RID_URI, REPAIRED_RID_URI):
        if not any(ext.uri == uri for ext in video):
            ext_id = next(i for i in range(10, 15) if i not in used)
            used.add(ext_id)
            video.append(RTCRtpHeaderExtensionParameters(id=ext_id, uri=uri))
    rtcdtlstransport.RtpRouter.route_rtp = _route_rtp  # type: ignore[method-assign]
    rtcdtlstransport.RTCDtlsTransport._send_rtp = _paced_send_rtp  # type: ignore[method-assign]
    RTCRtpReceiver.__init__ = _receiver_init  # type: ignore[method-assign]
    aioice.ice.get_host_addresses = _get_host_addresses
    # aioice sizes every ICE socket's receive buffer with this (256 KiB by default): a 1080p
    # keyframe is hundreds of packets, and while the event loop is busy (decoding, painting)
    # 256 KiB overflowed (RcvbufErrors, then NACKs, keyframes and frozen screen shares). The OS
    # caps the request (net.core.rmem_max on Linux).
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = SOCKET_BUFFER_BYTES


SOCKET_BUFFER_BYTES = 4 << 20


_MLINE = re.compile(r"^m=", re.M)


def _sections(sdp: str) -> list[str]:
    starts = [m.start() for m in _MLINE.finditer(sdp)]
    bounds = [0, *starts, len(sdp)]
    return [sdp[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]


def _attr(section: str, name: str) -> list[str]:
    return re.findall(rf"^a={name}:(.*?)\r?$", section, re.M)


def simulcast_rids(sdp: str) -> dict[str, list[str]]:
    """MID → RIDs (in offer order, paused ``~`` markers removed) for simulcast sections."""
    result: dict[str, list[str]] = {}
    for section in _sections(sdp)[1:]:
        mids = _attr(section, "mid")
        sim = _attr(section, "simulcast")
        if not mids or not sim:
            continue
        match = re.match(r"\s*send\s+(\S+)", sim[0])
        if not match:
            continue
        rids = [r.lstrip("~") for alt in match.group(1).split(";") for r in alt.split(",")[:1]]
        result[mids[0].strip()] = [r for r in rids if r]
    return result


def sending_media(sdp: str) -> dict[str, str]:
    """MID → msid track id ("" when it has none) of each audio/video section that sends:
    direction sendonly or sendrecv (the default), port not 0. An inactive section keeps its
    old msid and carries nothing, so it is left out."""
    result = {}
    for section in _sections(sdp)[1:]:
        if not section.startswith(("m=audio", "m=video")):
            continue
        mids = _attr(section, "mid")
        direction = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", section, re.M)
        sending = direction is None or direction.group(1) in ("sendrecv", "sendonly")
        rejected = section.split(" ", 2)[1:2] == ["0"]
        if mids and sending and not rejected:
            msids = _attr(section, "msid")
            parts = msids[0].split() if msids else []
            result[mids[0].strip()] = parts[1].strip() if len(parts) >= 2 else ""
    return result


def answer_simulcast(offer_sdp: str, answer_sdp: str) -> str:
    """Add ``a=rid:X recv`` and ``a=simulcast:recv`` to the answer for each simulcast section
    of the offer, so the publisher keeps sending all its layers."""
    rids_by_mid = simulcast_rids(offer_sdp)
    if not rids_by_mid:
        return answer_sdp
    eol = "\r\n" if "\r\n" in answer_sdp else "\n"
    out = []
    for section in _sections(answer_sdp):
        mids = _attr(section, "mid")
        rids = rids_by_mid.get(mids[0].strip()) if mids else None
        if rids and section.startswith("m=video") and not _attr(section, "simulcast"):
            lines = "".join(f"a=rid:{rid} recv{eol}" for rid in rids)
            lines += f"a=simulcast:recv {';'.join(rids)}{eol}"
            if not section.endswith(eol):
                section += eol
            section += lines
        out.append(section)
    return "".join(out)


def add_start_bitrate(answer_sdp: str, kbps: int) -> str:
    """Give the publisher a start bitrate (``x-google-start-bitrate``) for its video codecs.

    libwebrtc starts its estimate at 300 kbit/s and, with REMB feedback only, grows it about 8 %
    a second, so the higher simulcast layers of a camera would take 20 s to appear. A room server
    on a LAN or on this computer can start higher; congestion feedback still governs from there.
    """
    eol = "\r\n" if "\r\n" in answer_sdp else "\n"
    out = []
    for section in _sections(answer_sdp):
        if section.startswith("m=video"):
            pts = re.findall(r"^a=rtpmap:(\d+) (?:VP8|H264)/", section, re.M)
            for pt in pts:
                param = f"x-google-start-bitrate={kbps}"
                fmtp = re.search(rf"^a=fmtp:{pt} ([^\r\n]*)", section, re.M)
                if fmtp:
                    if "x-google-start-bitrate" not in fmtp.group(1):
                        section = section.replace(fmtp.group(0), f"{fmtp.group(0)};{param}", 1)
                else:
                    rtpmap = re.search(rf"^a=rtpmap:{pt} [^\r\n]*", section, re.M)
                    assert rtpmap is not None
                    line = rtpmap.group(0)
                    section = section.replace(line, f"{line}{eol}a=fmtp:{pt} {param}", 1)
        out.append(section)
    return "".join(out)


def _stalled(pc: RTCPeerConnection) -> bool:
    for t in pc.getTransceivers():
        direction = t.currentDirection or ""
        if "send" in direction and not t.sender._RTCRtpSender__started:  # type: ignore[attr-defined]
            return True
        if direction in ("recvonly", "sendrecv") and \
                not t.receiver._RTCRtpReceiver__started:  # type: ignore[attr-defined]
            return True
    return False


async def start_media_when_connected(pc: RTCPeerConnection, timeout_s: float = 15.0) -> None:
    """Start the senders and receivers a renegotiation added, once the transport is up.

    aiortc starts them only from the connection step of ``setLocalDescription`` /
    ``setRemoteDescription``, and skips a transceiver whose DTLS transport is still
    handshaking: a renegotiation that lands during the handshake (publishing right after
    joining) would leave its media stopped forever. Call this after each negotiation.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while pc.connectionState not in ("connected", "failed", "closed"):
        if loop.time() > deadline:
            return
        await asyncio.sleep(0.05)
    await asyncio.sleep(0)  # let aiortc's own connection step run first
    if pc.connectionState == "connected" and _stalled(pc):
        await pc._RTCPeerConnection__connect()  # type: ignore[attr-defined]
