"""The signed-in session lives only in the OS keyring; without one, the app works signed out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from aiohttp import web
from keyring.backend import KeyringBackend
from keyring.backends import fail

from visio_desktop.net.http import HttpClient, RetryPolicy
from visio_desktop.net.session_store import SERVICE, SessionStore
from visio_desktop.net.visio_api import ApiError, VisioClient

SESSION = "s3ss10n-value-that-must-stay-in-the-keyring"
CSRF = "csrf-value-that-must-stay-in-the-keyring"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the keychain is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("refused")


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise OSError("org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_save_load_clear(memory_keyring: MemoryKeyring) -> None:
    store = SessionStore()
    assert store.available and store.reason == ""
    assert store.load("visio.example.org") is None
    assert store.save("visio.example.org", {"sessionid": SESSION, "csrftoken": CSRF,
                                            "lobbyParticipantId": "not-a-session"})
    assert list(memory_keyring.passwords) == [(SERVICE, "visio.example.org")]
    stored = store.load("visio.example.org")
    assert stored is not None
    assert stored.cookies == {"sessionid": SESSION, "csrftoken": CSRF}
    assert stored.session_id == SESSION and stored.csrf_token == CSRF
    assert SESSION not in repr(stored)
    assert store.load("other.example.org") is None
    store.clear("visio.example.org")
    store.clear("visio.example.org")  # twice: nothing to forget, no error
    assert store.load("visio.example.org") is None and memory_keyring.passwords == {}


def test_development_cookie_name(memory_keyring: MemoryKeyring) -> None:
    store = SessionStore()
    assert store.save("127.0.0.1", {"meet_sessionid": SESSION})
    stored = store.load("127.0.0.1")
    assert stored is not None and stored.session_id == SESSION
    assert not store.save("127.0.0.1", {"csrftoken": CSRF})  # no session: nothing kept


def test_unreadable_entry_is_ignored(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.passwords[(SERVICE, "h")] = "{not json"
    assert SessionStore().load("h") is None


def test_no_keyring_means_signed_out_with_a_reason() -> None:
    store = SessionStore(fail.Keyring())
    assert not store.available
    assert "No system keyring was found" in store.reason
    assert store.save("visio.example.org", {"sessionid": SESSION}) is False
    assert store.load("visio.example.org") is None
    store.clear("visio.example.org")
    store.mark_expired("visio.example.org")


def test_default_fail_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = SessionStore()
        assert not store.available and "keyring" in store.reason
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("backend", [LockedKeyring(), BrokenKeyring()])
def test_keyring_errors_never_reach_the_ui(backend: KeyringBackend) -> None:
    store = SessionStore(backend)
    assert store.save("visio.example.org", {"sessionid": SESSION}) is False
    assert not store.available
    assert store.reason.startswith("The system keyring cannot be used")
    assert store.load("visio.example.org") is None
    store.reset()
    assert store.reason == ""


# -- with a client --------------------------------------------------------------------------

@pytest.fixture
async def instance() -> AsyncIterator[str]:
    """config and users/me; the session "expires" when its value is not SESSION."""

    async def config(request: web.Request) -> web.Response:
        return web.json_response({"livekit": {"url": "https://lk.example.org"},
                                  "subtitle": {"enabled": True}, "LANGUAGE_CODE": "fr-fr"})

    async def me(request: web.Request) -> web.Response:
        if request.cookies.get("sessionid") != SESSION:
            return web.json_response({"detail": "Authentication credentials were not provided."},
                                     status=401, headers={"WWW-Authenticate": "Session"})
        return web.json_response({"id": "u1", "email": "jane@example.org",
                                  "full_name": "Jane Doe"})

    app = web.Application()
    app.router.add_get("/api/v1.0/config/", config)
    app.router.add_get("/api/v1.0/users/me/", me)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_restored_session_and_expiry(memory_keyring: MemoryKeyring, instance: str) -> None:
    store = SessionStore()
    expired_hosts: list[str] = []
    store.on_expired.append(expired_hosts.append)
    store.save("127.0.0.1", {"sessionid": SESSION, "csrftoken": CSRF})
    async with VisioClient(instance, store) as client:
        assert await client.check_session() == "valid"
        assert (await client.me()).full_name == "Jane Doe"

    store.save("127.0.0.1", {"sessionid": "an-old-session-value", "csrftoken": CSRF})
    hook_calls: list[str] = []
    async with VisioClient(instance, store) as client:
        client.on_session_expired.append(lambda: hook_calls.append("expired"))
        with pytest.raises(ApiError) as caught:
            await client.me()
        assert caught.value.code == "session_expired" and caught.value.status == 401
        assert str(caught.value) == "Your session has expired: sign in again."
        assert not client.signed_in
        assert await client.check_session() == "signed_out"
        with pytest.raises(ApiError) as caught:
            await client.me()  # no session held now: plain "sign in"
        assert caught.value.code == "unauthorized"
        assert str(caught.value) == "Sign in to do this."
    assert expired_hosts == ["127.0.0.1"] and hook_calls == ["expired"]
    assert store.load("127.0.0.1") is None


async def test_sign_in_and_out(memory_keyring: MemoryKeyring, instance: str) -> None:
    store = SessionStore()
    async with VisioClient(instance, store) as client:
        assert await client.check_session() == "signed_out"
        assert await client.adopt_session({"sessionid": SESSION, "csrftoken": CSRF,
                                           "other": "x"})
        assert await client.check_session() == "valid"
        await client.sign_out()
        assert not client.signed_in
    assert store.load("127.0.0.1") is None


async def test_signed_in_for_this_run_without_keyring(instance: str) -> None:
    store = SessionStore(fail.Keyring())
    async with VisioClient(instance, store) as client:
        assert await client.adopt_session({"sessionid": SESSION}) is False
        assert await client.check_session() == "valid"
    assert not store.available


async def test_no_file_the_app_writes_holds_the_session(
        memory_keyring: MemoryKeyring, instance: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "APPDATA",
                "LOCALAPPDATA"):
        monkeypatch.setenv(var, str(tmp_path / "home"))
    log_file = tmp_path / "logs" / "visio-desktop.log"
    log_file.parent.mkdir()
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    cache = tmp_path / "cache" / "instances" / "127.0.0.1.json"
    try:
        store = SessionStore()
        async with VisioClient(instance, store, config_cache=cache) as client:
            await client.adopt_session({"sessionid": SESSION, "csrftoken": CSRF})
            config = await client.config()
            assert config.subtitles_enabled and not config.from_cache
            await client.me()
            logging.getLogger("visio_desktop.test").info("cookies now: %s",
                                                         client.http.cookies())
        async with VisioClient(instance, store, config_cache=cache) as client:
            assert await client.check_session() == "valid"  # from the keyring
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.close()
    assert "lk.example.org" in cache.read_text()
    assert "cookies now" in log_file.read_text()
    written = _written_files(tmp_path)
    assert cache in written and log_file in written
    assert [p for p in written if _holds(p, SESSION, CSRF)] == []
    stored = store.load("127.0.0.1")
    assert stored is not None and stored.session_id == SESSION  # it is in the keyring


def _written_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _holds(path: Path, *secrets: str) -> bool:
    data = path.read_bytes()
    return any(s.encode() in data for s in secrets)


async def test_config_cache_for_an_offline_start(instance: str, tmp_path: Path) -> None:
    cache = tmp_path / "config.json"
    async with VisioClient(instance, config_cache=cache) as client:
        online = await client.config()
    down = "http://127.0.0.1:9"
    fast = RetryPolicy(attempts=2, backoff_s=0.01)
    async with VisioClient(down, http=HttpClient(down, retry=fast), config_cache=cache) as client:
        with pytest.raises(ApiError) as caught:
            await client.config()  # another instance's copy is never used
        assert caught.value.code == "unreachable"
    cache.write_text(cache.read_text().replace(instance, down))
    async with VisioClient(down, http=HttpClient(down, retry=fast), config_cache=cache) as client:
        offline = await client.config()
    assert offline.from_cache and offline.data == online.data
    assert offline.livekit_url == "https://lk.example.org" and offline.language_code == "fr-fr"
