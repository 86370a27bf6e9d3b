"""Meeting links and codes: what a user pastes, turned into (instance, room slug).

Accepted: ``https://visio.numerique.gouv.fr/abc-defg-hij`` (any La Suite Meet instance),
``abc-defg-hij`` / ``ABCDEFGHIJ`` (the default instance; dashes optional, any case, as Visio's
``normalizeRoomId``), ``visio://<host>/<slug>`` (the desktop app's own scheme), and LAN links of a
meeting hosted by Visio Desktop, ``http://192.168.1.20:7880/<slug>``. Plain ``http://`` is
accepted only for loopback and private-network addresses (a meeting on this computer or on the
LAN has no certificate); anywhere else it is refused.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_INSTANCE = "https://visio.numerique.gouv.fr"
SLUG_LETTERS = re.compile(r"[a-z]{10}")


class LinkError(ValueError):
    """A link or code we cannot join. ``code`` is stable (the UI translates it): "empty",
    "no_address", "no_meeting", "insecure", "scheme"; the message is the English text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class MeetingLink:
    instance: str  # scheme://host[:port], no trailing slash
    slug: str  # abc-defg-hij

    @property
    def url(self) -> str:
        return f"{self.instance}/{self.slug}"

    @property
    def is_local_network(self) -> bool:
        return self.instance.startswith("http://")


def new_slug() -> str:
    """A room code as the web app generates it (``generateRoomId``): ``abc-defg-hij``."""
    letters = string.ascii_lowercase
    return "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))


def normalize_slug(text: str) -> str | None:
    letters = re.sub(r"[\s-]", "", text).lower()
    if SLUG_LETTERS.fullmatch(letters) is None:
        return None
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"


def is_private_host(host: str) -> bool:
    """Loopback, RFC 1918, link-local or unique-local addresses (and ``localhost``)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.endswith(".local")  # mDNS names only exist on the local network
    return address.is_loopback or address.is_private or address.is_link_local


def parse_link(text: str, default_instance: str = DEFAULT_INSTANCE) -> MeetingLink:
    text = text.strip()
    if not text:
        raise LinkError("empty", "Enter a meeting link or code.")
    slug = normalize_slug(text)
    if slug is not None and "/" not in text and ":" not in text:
        return MeetingLink(default_instance.rstrip("/"), slug)
    if "://" not in text:
        text = "https://" + text  # visio.numerique.gouv.fr/abc-defg-hij
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not host:
        raise LinkError("no_address", "This link has no address.")
    path_slug = normalize_slug(parts.path.strip("/").split("/")[-1]) if parts.path else None
    if path_slug is None:
        raise LinkError("no_meeting",
                        "This link does not name a meeting (expected a code like abc-defg-hij).")
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep credentials from a pasted link
    if scheme == "visio":
        scheme = "http" if is_private_host(host) and parts.port else "https"
    if scheme == "http" and not is_private_host(host):
        raise LinkError("insecure",
                        "Unencrypted links (http://) are only accepted on the local network.")
    if scheme not in ("http", "https"):
        raise LinkError("scheme", f"Unsupported link type: {parts.scheme}://")
    return MeetingLink(f"{scheme}://{netloc}", path_slug)
