"""The signed-in session of each Visio instance, kept only in the operating system's keyring.

A Visio session is two Django cookies: the session (``sessionid``; ``meet_sessionid`` on a
development instance) and ``csrftoken`` (visio-meet-api.md §3.6). They are stored with
``keyring`` (Windows Credential Manager, macOS Keychain, Secret Service / KWallet on Linux)
under the service ``"Visio Desktop"`` and the instance's host as user name — and nowhere else:
never in a settings file, a cache or a log.

When no keyring is usable (a headless Linux without Secret Service, a locked or refused
keychain, ``keyring``'s fail backend), :attr:`SessionStore.available` is False with a
:attr:`~SessionStore.reason`, every operation quietly does nothing, and the app works signed
out. Nothing here raises into the UI.

Expiry: Django answers 401 once the 12-hour session has ended. The client calls
:meth:`SessionStore.mark_expired` then, which forgets the stored session and tells the
``on_expired`` hooks (the UI starts a silent re-login there: ``/authenticate/?silent=true``
in its web view, then :meth:`SessionStore.save` with the new cookies).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "Visio Desktop"
CSRF_COOKIE = "csrftoken"


def is_session_cookie(name: str) -> bool:
    """``sessionid`` (production) or ``<prefix>_sessionid`` (``meet_sessionid`` in dev)."""
    return name == "sessionid" or name.endswith("_sessionid")


def session_cookies(cookies: Mapping[str, str]) -> dict[str, str]:
    """The cookies worth keeping: the session and its CSRF token; nothing else."""
    return {k: v for k, v in cookies.items()
            if v and (is_session_cookie(k) or k == CSRF_COOKIE)}


@dataclass(frozen=True)
class StoredSession:
    cookies: dict[str, str]
    saved_at: float = field(default_factory=time.time)

    @property
    def session_id(self) -> str | None:
        return next((v for k, v in self.cookies.items() if is_session_cookie(k)), None)

    @property
    def csrf_token(self) -> str | None:
        return self.cookies.get(CSRF_COOKIE)

    def __repr__(self) -> str:  # never shows the values
        return f"StoredSession(cookies={sorted(self.cookies)}, saved_at={self.saved_at:.0f})"


ExpiredHook = Callable[[str], None]


class SessionStore:
    """Load, save and clear the session of an instance (by host) in the OS keyring.

    ``backend`` is a keyring backend; by default the one ``keyring`` chose for this machine
    (looked up at each call, so ``keyring.set_keyring`` takes effect). Operations block on
    the OS (a D-Bus call, a keychain prompt): call them from a worker thread
    (:func:`asyncio.to_thread`), as :class:`~visio_desktop.net.visio_api.VisioClient` does."""

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE) -> None:
        self._backend = backend
        self.service = service
        self.reason = ""
        self._failed = False
        self.on_expired: list[ExpiredHook] = []

    # -- availability --------------------------------------------------------------------
    def _keyring(self) -> KeyringBackend | None:
        backend = self._backend or keyring.get_keyring()
        unusable = _unusable_reason(backend)
        if unusable:
            self.reason = unusable
            return None
        return backend

    @property
    def available(self) -> bool:
        """False when no keyring can hold a session (then :attr:`reason` says why)."""
        if self._failed:
            return False
        try:
            return self._keyring() is not None
        except Exception as exc:  # a broken backend must not reach the UI
            self._fail(exc)
            return False

    def _fail(self, exc: BaseException) -> None:
        self._failed = True
        self.reason = f"The system keyring cannot be used: {type(exc).__name__}: {exc}"
        log.warning("session store unavailable (%s); staying signed out", type(exc).__name__)

    def reset(self) -> None:
        """Try the keyring again after a failure (e.g. the user unlocked it)."""
        self._failed = False
        self.reason = ""

    # -- operations ----------------------------------------------------------------------
    def load(self, host: str) -> StoredSession | None:
        backend = None if self._failed else self._safe_keyring()
        if backend is None:
            return None
        try:
            raw = backend.get_password(self.service, host)
        except Exception as exc:
            self._fail(exc)
            return None
        return _decode(raw, host)

    def save(self, host: str, cookies: Mapping[str, str]) -> bool:
        """Keep the session cookies of ``host``; False when they could not be kept (signed
        in for this run only)."""
        kept = session_cookies(cookies)
        if not any(is_session_cookie(k) for k in kept):
            return False
        backend = None if self._failed else self._safe_keyring()
        if backend is None:
            return False
        payload = json.dumps({"cookies": kept, "saved_at": time.time()})
        try:
            backend.set_password(self.service, host, payload)
        except Exception as exc:
            self._fail(exc)
            return False
        return True

    def clear(self, host: str) -> None:
        """Sign-out: forget the session of ``host`` (nothing happens if there is none)."""
        backend = None if self._failed else self._safe_keyring()
        if backend is None:
            return
        try:
            backend.delete_password(self.service, host)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored
        except Exception as exc:
            self._fail(exc)

    def mark_expired(self, host: str) -> None:
        """The server answered 401 to a session call: forget it and tell the hooks."""
        log.info("the session of %s has expired", host)
        self.clear(host)
        for hook in list(self.on_expired):
            try:
                hook(host)
            except Exception:
                log.exception("a session-expired hook failed")

    def _safe_keyring(self) -> KeyringBackend | None:
        try:
            return self._keyring()
        except Exception as exc:
            self._fail(exc)
            return None


def _unusable_reason(backend: KeyringBackend) -> str:
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring):
        return ("No system keyring was found (on Linux, install and unlock a Secret Service "
                "such as GNOME Keyring or KWallet): you can join meetings but not stay "
                "signed in.")
    if isinstance(backend, null.Keyring):
        return "The system keyring is turned off: you can join meetings but not stay signed in."
    try:
        priority = float(backend.priority)  # type: ignore[arg-type]
    except Exception:
        priority = 1.0
    if priority <= 0:
        return f"The keyring backend {type(backend).__name__} cannot be used."
    return ""


def _decode(raw: Any, host: str) -> StoredSession | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
        cookies = session_cookies({str(k): str(v) for k, v in data["cookies"].items()})
        saved_at = float(data.get("saved_at", 0.0))
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("the stored session of %s is unreadable; ignoring it", host)
        return None
    if not any(is_session_cookie(k) for k in cookies):
        return None
    return StoredSession(cookies, saved_at)
