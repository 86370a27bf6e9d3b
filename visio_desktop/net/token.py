"""LiveKit access tokens: HS256 JWTs with LiveKit's claim names.

Minting is used by the CLI, the app's "meeting on this computer" and the tests; verification by
the embedded server. The claim names and defaults follow LiveKit's `auth.ClaimGrants`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jwt

# LiveKit's development pair (devkey:secret) has a short secret on purpose; it is only accepted
# on loopback (see the server's CLI), so PyJWT's key-length warning is noise here.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

TRACK_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio")
LEEWAY_S = 60


class TokenError(Exception):
    """A token that cannot be used: the message is safe to show (it never contains the token)."""


_FALSE_BY_DEFAULT = frozenset({
    "can_update_own_metadata", "hidden", "recorder", "agent", "room_admin", "room_create",
    "room_list", "room_record",
})


@dataclass(slots=True)
class VideoGrants:
    room_join: bool = True
    room: str = ""
    can_publish: bool | None = None
    can_subscribe: bool | None = None
    can_publish_data: bool | None = None
    can_publish_sources: list[str] = field(default_factory=list)
    can_update_own_metadata: bool = False
    hidden: bool = False
    recorder: bool = False
    agent: bool = False
    room_admin: bool = False
    room_create: bool = False
    room_list: bool = False
    room_record: bool = False

    _CLAIMS: ClassVar[dict[str, str]] = {
        "room_join": "roomJoin",
        "room": "room",
        "can_publish": "canPublish",
        "can_subscribe": "canSubscribe",
        "can_publish_data": "canPublishData",
        "can_publish_sources": "canPublishSources",
        "can_update_own_metadata": "canUpdateOwnMetadata",
        "hidden": "hidden",
        "recorder": "recorder",
        "agent": "agent",
        "room_admin": "roomAdmin",
        "room_create": "roomCreate",
        "room_list": "roomList",
        "room_record": "roomRecord",
    }

    # Effective values, with LiveKit's defaults (VideoGrant.Get*).
    @property
    def publish(self) -> bool:
        return True if self.can_publish is None else self.can_publish

    @property
    def subscribe(self) -> bool:
        return True if self.can_subscribe is None else self.can_subscribe

    @property
    def publish_data(self) -> bool:
        return self.publish if self.can_publish_data is None else self.can_publish_data

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {}
        for attr, name in self._CLAIMS.items():
            value = getattr(self, attr)
            # unset (None), empty, and false flags whose default is false are left out
            if value is None or value == [] or (value is False and attr in _FALSE_BY_DEFAULT):
                continue
            claims[name] = value
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> VideoGrants:
        if not isinstance(claims, dict):
            raise TokenError("the token's video grant is not an object")
        grants = cls(room_join=False)
        for attr, name in cls._CLAIMS.items():
            if name not in claims:
                continue
            value = claims[name]
            if attr == "room":
                if not isinstance(value, str):
                    raise TokenError("the token's room is not a string")
            elif attr == "can_publish_sources":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise TokenError("canPublishSources is not a list of sources")
                value = [v.lower() for v in value]
            elif not isinstance(value, bool):
                raise TokenError(f"the grant {name} is not a boolean")
            setattr(grants, attr, value)
        return grants

    def set_grant(self, name: str, value: str) -> None:
        """Set one grant from text such as ``can_publish=false`` (CLI)."""
        attr = _snake(name)
        if attr not in self._CLAIMS:
            raise ValueError(f"unknown grant {name!r}")
        if attr == "room":
            self.room = value
        elif attr == "can_publish_sources":
            sources = [s.strip() for s in value.split(",") if s.strip()]
            unknown = [s for s in sources if s not in TRACK_SOURCES]
            if unknown:
                raise ValueError(f"unknown track source(s): {', '.join(unknown)}")
            self.can_publish_sources = sources
        else:
            low = value.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"grant {name} takes true or false, not {value!r}")
            setattr(self, attr, low in ("true", "1", "yes"))


@dataclass(slots=True)
class Claims:
    identity: str
    api_key: str
    video: VideoGrants
    name: str = ""
    metadata: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    kind: str = "standard"
    expires_at: float = 0.0


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse_duration(text: str) -> dt.timedelta:
    """``90``, ``90s``, ``15m``, ``6h``, ``2d`` → timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match:
        raise ValueError(f"bad duration {text!r} (use e.g. 30m, 6h, 1d)")
    value = int(match.group(1))
    unit = match.group(2) or "s"
    return dt.timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


def create_token(
    api_key: str,
    api_secret: str,
    *,
    identity: str,
    room: str | None = None,
    name: str = "",
    metadata: str = "",
    attributes: dict[str, str] | None = None,
    grants: VideoGrants | None = None,
    ttl: dt.timedelta = dt.timedelta(hours=6),
    kind: str = "standard",
) -> str:
    """Mint an access token as LiveKit's server SDKs do."""
    if not identity:
        raise ValueError("a token needs an identity")
    video = grants or VideoGrants()
    if room is not None:
        video.room = room
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": api_key,
        "sub": identity,
        "nbf": now,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "jti": identity,
        "video": video.to_claims(),
    }
    if name:
        payload["name"] = name
    if metadata:
        payload["metadata"] = metadata
    if attributes:
        payload["attributes"] = dict(attributes)
    if kind != "standard":
        payload["kind"] = kind
    return jwt.encode(payload, api_secret, algorithm="HS256")


def verify_token(token: str, keys: dict[str, str]) -> Claims:
    """Check a token's signature, expiry and shape. Raises TokenError with a safe message."""
    try:
        header_claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("the access token is malformed") from exc
    if header.get("alg") != "HS256":
        raise TokenError("the access token must be signed with HS256")
    api_key = header_claims.get("iss")
    if not isinstance(api_key, str) or api_key not in keys:
        raise TokenError("the access token's API key is unknown")
    try:
        claims = jwt.decode(
            token,
            keys[api_key],
            algorithms=["HS256"],
            leeway=LEEWAY_S,
            options={"require": ["exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the access token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise TokenError("the access token is not valid yet") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenError("the access token's signature is invalid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("the access token has no expiry") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("the access token is invalid") from exc
    identity = claims.get("sub") or claims.get("jti") or ""
    if not isinstance(identity, str):
        raise TokenError("the access token's identity is not a string")
    attributes = claims.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise TokenError("the access token's attributes are not an object")
    return Claims(
        identity=identity,
        api_key=api_key,
        video=VideoGrants.from_claims(claims.get("video") or {}),
        name=str(claims.get("name") or ""),
        metadata=str(claims.get("metadata") or ""),
        attributes={str(k): "" if v is None else str(v) for k, v in attributes.items()},
        kind=str(claims.get("kind") or "standard"),
        expires_at=float(claims["exp"]),
    )


def generate_keys() -> tuple[str, str]:
    """A fresh API key pair for a meeting hosted on this computer."""
    return "VD" + secrets.token_hex(6), secrets.token_urlsafe(32)
