from __future__ import annotations

import datetime as dt

import jwt
import pytest
from livekit import api

from visio_desktop.net.token import (
    TokenError,
    VideoGrants,
    create_token,
    parse_duration,
    verify_token,
)

KEYS = {"key": "a-secret-that-is-long-enough-for-hs256-use"}


def test_official_verifier_reads_our_tokens() -> None:
    grants = VideoGrants(room="r", can_publish=False, can_publish_sources=["microphone"],
                         hidden=True)
    token = create_token("key", KEYS["key"], identity="id", name="Nom", grants=grants,
                         attributes={"a": "b"})
    claims = api.TokenVerifier("key", KEYS["key"]).verify(token)
    assert claims.identity == "id" and claims.name == "Nom"
    assert claims.video.room == "r" and claims.video.room_join
    assert claims.video.can_publish is False
    assert claims.video.can_publish_sources == ["microphone"]
    assert claims.video.hidden is True
    assert claims.attributes == {"a": "b"}


def test_we_read_official_tokens_with_livekit_defaults() -> None:
    token = (api.AccessToken("key", KEYS["key"]).with_identity("x")
             .with_grants(api.VideoGrants(room_join=True, room="r")).to_jwt())
    claims = verify_token(token, KEYS)
    assert claims.identity == "x" and claims.video.room == "r"
    assert claims.video.publish and claims.video.subscribe and claims.video.publish_data


def test_rejections_have_safe_messages() -> None:
    good = create_token("key", KEYS["key"], identity="i", room="r")
    with pytest.raises(TokenError, match="expired"):
        verify_token(create_token("key", KEYS["key"], identity="i", room="r",
                                  ttl=dt.timedelta(seconds=-61 - 60)), KEYS)
    with pytest.raises(TokenError, match="signature"):
        verify_token(good, {"key": "another-secret-that-is-long-enough-yes"})
    with pytest.raises(TokenError, match="unknown"):
        verify_token(good, {"other": KEYS["key"]})
    no_exp = jwt.encode({"iss": "key", "sub": "i", "video": {"roomJoin": True}}, KEYS["key"],
                        algorithm="HS256")
    with pytest.raises(TokenError, match="expiry") as exc:
        verify_token(no_exp, KEYS)
    assert no_exp not in str(exc.value)
    with pytest.raises(TokenError, match="malformed"):
        verify_token("abc", KEYS)


def test_parse_duration() -> None:
    assert parse_duration("6h") == dt.timedelta(hours=6)
    assert parse_duration("90") == dt.timedelta(seconds=90)
    with pytest.raises(ValueError):
        parse_duration("soon")
