"""The instance HTTP client: retries, Retry-After, HTML pages, CSRF, cookies, secrets in logs."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from visio_desktop import __version__
from visio_desktop.net.http import (
    ApiError,
    HttpClient,
    RetryPolicy,
    check_instance,
    parse_retry_after,
    redact,
    tls_context,
    user_agent,
)

FAST = RetryPolicy(attempts=3, backoff_s=0.01, max_backoff_s=0.05, max_retry_after_s=5)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeInstance:
    url: str
    seen: list[web.Request] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def count(self, path: str) -> int:
        return sum(1 for r in self.seen if r.path == path)


@pytest.fixture
async def instance() -> AsyncIterator[FakeInstance]:
    """A tiny instance whose routes misbehave on purpose."""
    state: dict[str, int] = {}
    fake = FakeInstance("")

    def record(handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            fake.seen.append(request)
            fake.headers.append(dict(request.headers))
            return await handler(request)
        return wrapped

    def flaky(status: int, failures: int = 1, retry_after: str | None = None) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            key = f"{request.method} {request.path}"
            state[key] = state.get(key, 0) + 1
            if state[key] <= failures:
                headers = {"Retry-After": retry_after} if retry_after else {}
                return web.json_response({"detail": "busy"}, status=status, headers=headers)
            return web.json_response({"ok": True, "attempt": state[key]})
        return handler

    async def drop_first(request: web.Request) -> web.StreamResponse:
        key = f"{request.method} {request.path}"
        state[key] = state.get(key, 0) + 1
        if state[key] == 1:
            assert request.transport is not None
            request.transport.close()  # the client sees the connection die
            await asyncio.sleep(0.05)
        return web.json_response({"ok": True})

    async def html(request: web.Request) -> web.StreamResponse:
        status = int(request.query.get("status", "200"))
        return web.Response(text="<!doctype html><html><body>Proxy says hi</body></html>",
                            content_type="text/html", status=status)

    async def set_cookies(request: web.Request) -> web.StreamResponse:
        response = web.json_response({"ok": True})
        response.set_cookie("csrftoken", "csrf-cookie-value-123", samesite="Lax")
        response.set_cookie("sessionid", "session-cookie-value-456", httponly=True)
        return response

    async def echo(request: web.Request) -> web.StreamResponse:
        return web.json_response({"method": request.method})

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.6)
        return web.json_response({})

    app = web.Application()
    for path, handler in {
        "/busy": flaky(503), "/gateway": flaky(502, failures=5), "/limited":
        flaky(429, retry_after="1"), "/limited-long": flaky(429, retry_after="120"),
        "/drop": drop_first, "/html": html, "/login": set_cookies, "/echo": echo,
        "/slow": slow,
    }.items():
        app.router.add_route("*", path, record(handler))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


async def test_get_is_retried_after_503(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        answer = await client.request("GET", "/busy")
    assert answer.data == {"ok": True, "attempt": 2}
    assert instance.count("/busy") == 2


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_other_idempotent_methods_are_retried(instance: FakeInstance, method: str) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        await client.request(method, "/busy")
    assert instance.count("/busy") == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_post_is_never_retried(instance: FakeInstance, method: str) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        with pytest.raises(ApiError) as caught:
            await client.request(method, "/busy")
    assert caught.value.code == "server" and caught.value.status == 503
    assert instance.count("/busy") == 1


async def test_retries_stop_after_the_last_attempt(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/gateway")
    assert caught.value.code == "server" and caught.value.status == 502
    assert instance.count("/gateway") == FAST.attempts


async def test_connection_error_retried_only_when_idempotent(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        assert (await client.request("GET", "/drop")).data == {"ok": True}
        assert instance.count("/drop") == 2
        with pytest.raises(ApiError) as caught:
            await client.request("POST", "/drop")
    assert caught.value.code == "unreachable"
    assert sum(1 for r in instance.seen if r.method == "POST") == 1


async def test_retry_after_is_honoured(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        start = time.monotonic()
        await client.request("GET", "/limited")
        assert time.monotonic() - start >= 0.95  # Retry-After: 1, not the 10 ms backoff
        start = time.monotonic()
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/limited-long")  # too long to wait: throttled now
    assert time.monotonic() - start < 1
    assert caught.value.code == "throttled" and caught.value.retry_after == 120
    assert str(caught.value) == "Too many requests: wait a moment and try again."


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    delays = [FAST.delay(n) for n in (1, 2, 3, 4)]
    assert 0.005 <= delays[0] <= 0.01 and all(d <= FAST.max_backoff_s for d in delays)


async def test_html_page_instead_of_json_is_bad_answer(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/html")
        assert caught.value.code == "bad_answer"
        assert str(caught.value) == "The meeting server's answer was not understood."
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/html", params={"status": "500"})
    assert caught.value.code == "server" and caught.value.status == 500


async def test_csrf_header_on_unsafe_methods_only(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST) as client:
        await client.request("GET", "/login")
        assert client.cookie("csrftoken") == "csrf-cookie-value-123"
        await client.request("GET", "/echo")
        await client.request("POST", "/echo", json_body={"a": 1})
        await client.request("DELETE", "/echo")
    get_headers, post_headers, delete_headers = instance.headers[1:]
    assert "X-CSRFToken" not in get_headers
    assert "sessionid=session-cookie-value-456" in get_headers["Cookie"]
    assert post_headers["X-CSRFToken"] == "csrf-cookie-value-123"
    assert post_headers["Origin"] == instance.url
    assert post_headers["Referer"] == instance.url + "/"
    assert delete_headers["X-CSRFToken"] == "csrf-cookie-value-123"
    assert get_headers["User-Agent"] == user_agent()
    assert user_agent().startswith(f"VisioDesktop/{__version__} (")


async def test_timeout(instance: FakeInstance) -> None:
    async with HttpClient(instance.url, retry=FAST, timeout_s=0.2) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("POST", "/slow")
    assert caught.value.code == "timeout"
    assert str(caught.value) == "The meeting server did not answer in time."


async def test_unreachable_instance() -> None:
    async with HttpClient("http://127.0.0.1:9", retry=FAST) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/api/v1.0/config/")
    assert caught.value.code == "unreachable"


def test_plain_http_only_on_loopback() -> None:
    assert check_instance("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_instance("http://localhost:8000") == "http://localhost:8000"
    assert check_instance("https://user:pw@visio.example.org/") == "https://visio.example.org"
    for address in ("http://visio.example.org", "http://192.168.1.20:7880"):
        with pytest.raises(ApiError) as caught:
            HttpClient(address)
        assert caught.value.code == "insecure"
        assert "only accepted for a server on this computer" in str(caught.value)
    # a LAN meeting hosted by Visio Desktop, joined by its link (links.py's rules)
    assert HttpClient.for_link("http://192.168.1.20:7880").instance == "http://192.168.1.20:7880"
    with pytest.raises(ApiError):
        HttpClient.for_link("http://visio.example.org")


async def test_cookies_stay_on_their_instance(instance: FakeInstance) -> None:
    async with HttpClient(instance.url) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "https://elsewhere.example/api/v1.0/rooms/")
        assert caught.value.code == "bad_answer"
        assert str(client.url(instance.url + "/echo?page=2")).endswith("/echo?page=2")


async def test_socks_proxy_is_refused_clearly() -> None:
    async with HttpClient("https://visio.example.org", proxy="socks5://proxy:1080") as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/api/v1.0/config/")
    assert caught.value.code == "proxy" and "not SOCKS" in str(caught.value)


async def test_secrets_never_reach_the_logs(instance: FakeInstance,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXZhbHVl"
    async with HttpClient(instance.url, retry=FAST) as client:
        client.set_cookies({"sessionid": "stored-session-secret-789"})
        await client.request("GET", "/login")  # the server sets csrftoken + sessionid
        await client.request("POST", "/echo", json_body={"x": 1}, bearer=bearer)
        await client.request("GET", "/busy")  # a retry, logged
        with pytest.raises(ApiError):
            await client.request("POST", "/html", bearer=bearer)
        headers = instance.headers[-1]
        assert headers["Authorization"] == f"Bearer {bearer}"  # it was really sent
        logging.getLogger("visio_desktop.test").info("request headers: %s", headers)
        logging.getLogger("aiohttp.client").debug("Cookie: sessionid=%s; csrftoken=%s",
                                                  "stored-session-secret-789", "x" * 12)
        try:
            raise RuntimeError(f"failed with token {bearer}")
        except RuntimeError:
            logging.getLogger("visio_desktop.test").exception("call failed")
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "request headers" in text and "[redacted]" in text
    for secret in (bearer, "stored-session-secret-789", "session-cookie-value-456",
                   "csrf-cookie-value-123", "c2lnbmF0dXJlLXZhbHVl"):
        assert secret not in text


def test_redact_patterns() -> None:
    line = ('{"Authorization": "Bearer abc.def.ghi", "Cookie": "sessionid=s3cr3t; csrftoken=t0k"}'
            " lobbyParticipantId=p4rt meet_sessionid=dev-s3ss token=eyJabcdefg.eyJhijklmn.sig")
    cleaned = redact(line)
    for secret in ("abc.def.ghi", "s3cr3t", "t0k", "p4rt", "dev-s3ss", "eyJabcdefg"):
        assert secret not in cleaned
    assert redact("GET /api/v1.0/rooms/abc-defg-hij/ → 200") == \
        "GET /api/v1.0/rooms/abc-defg-hij/ → 200"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_tls_uses_the_system_trust_store(tmp_path: Path) -> None:
    """An instance whose certificate the OS does not trust is refused ("certificate"); the
    same instance is reached once its certificate is trusted."""
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def config(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/api/v1.0/config/", config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"https://127.0.0.1:{port}"
    try:
        async with HttpClient(url, retry=FAST) as client:
            with pytest.raises(ApiError) as caught:
                await client.request("GET", "/api/v1.0/config/")
        assert caught.value.code == "certificate"
        assert str(caught.value) == "The meeting server's certificate is not trusted."
        trusting = ssl.create_default_context(cafile=str(cert))
        async with HttpClient(url, retry=FAST, ssl_context=trusting) as client:
            assert (await client.request("GET", "/api/v1.0/config/")).data == {"ok": True}
    finally:
        await runner.cleanup()


def test_default_tls_context_is_the_os_trust_store() -> None:
    import truststore

    assert isinstance(tls_context(), truststore.SSLContext)
