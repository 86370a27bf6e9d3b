"""Who may join and do what: token extraction and grants → ``ParticipantPermission``."""

from __future__ import annotations

from collections.abc import Mapping

from livekit.protocol import models

from visio_desktop.net.token import Claims, TokenError, verify_token

SOURCE_BY_NAME = {
    "camera": models.TrackSource.CAMERA,
    "microphone": models.TrackSource.MICROPHONE,
    "screen_share": models.TrackSource.SCREEN_SHARE,
    "screen_share_audio": models.TrackSource.SCREEN_SHARE_AUDIO,
}


def token_from_request(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The ``Authorization: Bearer`` header wins over the ``access_token`` parameter."""
    auth = headers.get("Authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    token = query.get("access_token", "")
    if not token:
        raise TokenError("no access token (use access_token= or an Authorization: Bearer header)")
    return token


def authenticate(token: str, keys: dict[str, str]) -> Claims:
    claims = verify_token(token, keys)
    if not claims.video.room_join:
        raise TokenError("the access token does not grant roomJoin")
    if not claims.identity:
        raise TokenError("the access token has no identity")
    if not claims.video.room:
        raise TokenError("the access token names no room")
    return claims


def permission(claims: Claims) -> models.ParticipantPermission:
    video = claims.video
    return models.ParticipantPermission(
        can_subscribe=video.subscribe,
        can_publish=video.publish,
        can_publish_data=video.publish_data,
        can_publish_sources=[SOURCE_BY_NAME[s] for s in video.can_publish_sources
                             if s in SOURCE_BY_NAME],
        hidden=video.hidden,
        recorder=video.recorder,
        can_update_metadata=video.can_update_own_metadata,
        agent=video.agent,
    )


def may_publish_source(perm: models.ParticipantPermission, source: int) -> bool:
    if not perm.can_publish:
        return False
    return not perm.can_publish_sources or source in perm.can_publish_sources
