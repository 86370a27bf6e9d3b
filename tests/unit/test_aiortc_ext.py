from __future__ import annotations

from visio_desktop.net.aiortc_ext import (
    add_start_bitrate,
    answer_simulcast,
    sending_media,
    simulcast_rids,
)

OFFER = "\r\n".join([
    "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:0", "a=sendonly",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:1", "a=sendonly",
    "a=rid:q send", "a=rid:h send", "a=rid:f send", "a=simulcast:send q;h;~f", "",
])
ANSWER = "\r\n".join([
    "v=0", "o=- 3 4 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:0", "a=recvonly",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:1", "a=recvonly", "",
])


def test_simulcast_rids_in_offer_order() -> None:
    assert simulcast_rids(OFFER) == {"1": ["q", "h", "f"]}


def test_answer_receives_every_layer() -> None:
    answer = answer_simulcast(OFFER, ANSWER)
    video = answer.split("m=video", 1)[1]
    assert "a=rid:q recv\r\n" in video and "a=rid:f recv\r\n" in video
    assert "a=simulcast:recv q;h;f\r\n" in video
    assert "a=rid" not in answer.split("m=video", 1)[0]
    assert answer_simulcast(ANSWER, ANSWER) == ANSWER  # nothing to do without simulcast


def test_start_bitrate_for_video_codecs_only() -> None:
    answer = ANSWER.replace("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n",
                            "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\n"
                            "a=rtpmap:97 H264/90000\r\n"
                            "a=fmtp:97 packetization-mode=1\r\n")
    answer = answer.replace("a=mid:0\r\n", "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\n")
    tuned = add_start_bitrate(answer, 1500)
    assert "a=rtpmap:96 VP8/90000\r\na=fmtp:96 x-google-start-bitrate=1500\r\n" in tuned
    assert "a=fmtp:97 packetization-mode=1;x-google-start-bitrate=1500\r\n" in tuned
    assert "x-google" not in tuned.split("m=video", 1)[0]
    assert add_start_bitrate(tuned, 1500) == tuned


def test_sending_media_by_mid() -> None:
    sdp = "\r\n".join([
        "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:0",
        "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:1", "a=sendonly", "a=msid:PA_x|TR_a TR_a",
        "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:2", "a=inactive", "a=msid:PA_x|TR_b TR_b",
        "m=audio 0 UDP/TLS/RTP/SAVPF 111", "a=mid:3", "a=sendonly", "a=msid:s TR_c",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:4", "",
    ])
    assert sending_media(sdp) == {"1": "TR_a", "4": ""}
