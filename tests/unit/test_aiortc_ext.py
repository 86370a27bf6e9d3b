from __future__ import annotations

from visio_desktop.net.aiortc_ext import answer_simulcast, simulcast_rids

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
