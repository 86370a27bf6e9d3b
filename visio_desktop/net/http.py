"""One HTTP client per Visio instance: TLS, proxy, timeouts, retries, cookies, CSRF, errors.

Every REST call of the app goes through :class:`HttpClient`:

- **TLS** is verified against the operating system's trust store (``truststore``: Windows
  CryptoAPI, macOS Security framework, OpenSSL's system store on Linux), so a company's own
  root certificate installed on the machine is trusted as the browser trusts it.
- **Proxy**: ``"system"`` (the default) takes ``HTTP(S)_PROXY``/``NO_PROXY`` and, through
  :func:`urllib.request.getproxies`, the Windows registry and macOS system settings;
  ``"none"`` goes direct; an ``http://`` proxy URL is used as given. Proxy auto-configuration
  (PAC files, WPAD) and SOCKS proxies are **not supported** (``ApiError("proxy")``).
- **Retries** with exponential backoff and jitter, only for idempotent methods (GET, HEAD,
  PUT, DELETE, OPTIONS) and only after a connection error or HTTP 429/502/503/504;
  ``Retry-After`` is honoured. POST is never replayed (a lobby request or a room creation
  must not happen twice behind the user's back).
- **Cookies**: one jar per instance, so the Django session (``sessionid``), ``csrftoken`` and
  ``lobbyParticipantId`` follow each call. Cookies are never sent to another origin: the
  client only accepts paths, or absolute URLs of its own instance.
- **CSRF**: unsafe methods (POST, PUT, PATCH, DELETE) carry ``X-CSRFToken`` (from the
  ``csrftoken`` cookie, when there is one) and a same-origin ``Origin``/``Referer``, as the web
  app and Django's CSRF check over HTTPS expect; safe methods never do. Calls authenticated
  with a LiveKit token (``Authorization: Bearer``) carry it too when a session exists, since
  ``mute-participant`` accepts either and Django checks CSRF whenever the session is used.
- **Errors** become :class:`ApiError` with a stable ``code`` (see :data:`ERROR_MESSAGES`), an
  English message, and the HTTP status when there was one. An HTML page where JSON was
  expected (a captive portal, a proxy's error page, a misconfigured instance) is
  ``bad_answer``, never a crash.
- **Logs** never contain cookies, tokens or ``Authorization`` values: :func:`install_log_redaction`
  (called by every client) redacts them from every log record of the process.

Plain ``http://`` is accepted for an instance only on loopback (a test or development
instance on this computer). Meetings hosted by Visio Desktop on the LAN are joined by link
(``links.parse_link`` accepts private addresses there); :meth:`HttpClient.for_link` carries
that rule, so both paths agree: the *instance setting* is loopback-only, a *pasted LAN link*
may be a private address.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import logging
import platform
import random
import re
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from visio_desktop import __version__

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"

ERROR_MESSAGES: dict[str, str] = {
    "not_found": "This meeting does not exist (check the link).",
    "unauthorized": "Sign in to do this.",
    "forbidden": "You are not allowed to do this.",
    "throttled": "Too many requests: wait a moment and try again.",
    "server": "The meeting server has a problem: try again later.",
    "refused": "The server refused the request.",
    "unreachable": "The meeting server cannot be reached: check the network.",
    "timeout": "The meeting server did not answer in time.",
    "bad_answer": "The meeting server's answer was not understood.",
    "certificate": "The meeting server's certificate is not trusted.",
    "proxy": "The proxy refused the connection or is not supported.",
    "insecure": "Unencrypted addresses (http://) are only accepted for a server on this "
                "computer: use https://.",
    "lobby": "This meeting has a waiting room.",
    "lobby_denied": "You were not let into the meeting.",
    "lobby_timeout": "Nobody let you into the meeting in time.",
    "lobby_cancelled": "You left the waiting room.",
    "session_expired": "Your session has expired: sign in again.",
    "wrong_room": "The server gave access to another meeting than the one asked for.",
}
"""Every ``ApiError.code`` and its English text; the UI translates by code."""


class ApiError(RuntimeError):
    """The instance could not be reached or refused. ``code`` is stable (the UI translates
    it; the English text is :data:`ERROR_MESSAGES`); ``status`` is the HTTP status when the
    server answered; ``retry_after`` (seconds) comes with ``throttled`` when the server said."""

    def __init__(self, code: str, message: str | None = None, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message or ERROR_MESSAGES.get(code, code))
        self.code = code
        self.status = status
        self.retry_after = retry_after


# -- who we are ------------------------------------------------------------------------------

def os_name() -> str:
    system = platform.system()
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0]}".strip()
    if system == "Windows":
        return f"Windows {platform.release()}".strip()
    return system or "unknown"


def user_agent() -> str:
    return f"VisioDesktop/{__version__} ({os_name()})"


# -- addresses ---------------------------------------------------------------------------------

def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_instance(instance: str, *, allow_private_http: bool = False) -> str:
    """``scheme://host[:port]`` without a trailing slash, or :class:`ApiError` "insecure" for
    plain http off loopback (off the private network when ``allow_private_http``)."""
    from visio_desktop.net.links import is_private_host

    parts = urlsplit(instance.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise ApiError("unreachable", f"Not a server address: {instance!r}.")
    if scheme == "http":
        allowed = is_private_host(host) if allow_private_http else is_loopback_host(host)
        if not allowed:
            raise ApiError("insecure")
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep credentials from an address
    return f"{scheme}://{netloc}"


def tls_context() -> ssl.SSLContext:
    """Verification against the OS trust store."""
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


# -- secrets never reach the logs -------------------------------------------------------------

_SECRET_PATTERNS = [
    # Authorization: Bearer <jwt>, Cookie: a=b; c=d, Set-Cookie: ...
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+|basic\s+)?[^'\"\s,}]+"),
    re.compile(r"(?i)((?:set-)?cookie['\"]?\s*[:=]\s*['\"]?)[^'\"\n}]+"),
    re.compile(r"(?i)(x-csrftoken['\"]?\s*[:=]\s*['\"]?)[^'\"\s,;}]+"),
    # sessionid=..., meet_sessionid=..., csrftoken=..., lobbyParticipantId=..., token=...
    re.compile(r"(?i)((?:\w*sessionid|csrftoken|csrfmiddlewaretoken|lobbyparticipantid|"
               r"access_token|refresh_token|token)['\"]?\s*[:=]\s*['\"]?)[^'\"\s,;&}]+"),
    # any JSON Web Token, wherever it appears
    re.compile(r"()eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"),
]
_known_secrets: dict[str, None] = {}  # insertion-ordered set, bounded; under _secrets_lock
_known_snapshot: tuple[str, ...] = ()  # what redact() reads, replaced whole (thread-safe)
_secrets_lock = threading.Lock()
_MAX_KNOWN = 256
REDACTED = "[redacted]"


def register_secret(value: str | None) -> None:
    """Redact this exact value from every later log record (cookie values, tokens)."""
    global _known_snapshot
    if not value or len(value) < 6:
        return
    with _secrets_lock:
        _known_secrets.pop(value, None)
        _known_secrets[value] = None
        while len(_known_secrets) > _MAX_KNOWN:
            _known_secrets.pop(next(iter(_known_secrets)))
        _known_snapshot = tuple(_known_secrets)


def redact(text: str) -> str:
    for secret in _known_snapshot:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class SecretFilter(logging.Filter):
    """Rewrites a record's message (and formatted traceback) without secrets. Attach it to a
    handler for belt and braces; :func:`install_log_redaction` covers every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_visio_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it itself when it is emitted
        return
    try:
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
    except Exception:  # never let a secret through because redaction itself failed
        record.msg, record.args = "[log message withheld: redaction failed]", ()
        record.exc_info = record.exc_text = record.stack_info = None
    record._visio_redacted = True  # type: ignore[attr-defined]


_installed = False


def install_log_redaction() -> None:
    """Redact secrets from every log record of the process, whatever its logger or handler
    (a record factory, so records propagated to handlers installed later are covered too)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


# -- the client -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # in all, the first one included
    backoff_s: float = 0.5  # first pause; doubles each time, with jitter
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer Retry-After is not waited: throttled at once

    def delay(self, attempt: int) -> float:
        """Pause before retry number ``attempt`` (1-based): exponential, "equal jitter"."""
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_for_status(status: int, retry_after: float | None = None) -> ApiError:
    if status == 401:
        return ApiError("unauthorized", status=status)
    if status == 403:
        return ApiError("forbidden", status=status)
    if status == 404:
        return ApiError("not_found", status=status)
    if status == 407:
        return ApiError("proxy", status=status)
    if status == 429:
        return ApiError("throttled", status=status, retry_after=retry_after)
    if status >= 500:
        return ApiError("server", status=status, retry_after=retry_after)
    return ApiError("refused", f"{ERROR_MESSAGES['refused']} (HTTP {status})", status=status)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    data: Any  # parsed JSON, or None for an empty body
    headers: Mapping[str, str]


class HttpClient:
    """The HTTP client of one instance (``https://host[:port]``). Use ``async with`` or
    :meth:`close`. Paths are relative to the instance (``/api/v1.0/config/``)."""

    def __init__(self, instance: str, *, proxy: str = "system", timeout_s: float = 15.0,
                 connect_timeout_s: float = 8.0, retry: RetryPolicy | None = None,
                 allow_private_http: bool = False,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        install_log_redaction()
        self.instance = check_instance(instance, allow_private_http=allow_private_http)
        self.origin = URL(self.instance)
        self.host = self.origin.host or ""
        self.proxy = proxy
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, connect=connect_timeout_s)
        self.retry = retry or RetryPolicy()
        self._ssl = ssl_context
        self._jar: aiohttp.CookieJar | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def cookie_jar(self) -> aiohttp.CookieJar:
        """This instance's jar (made on first use, on the loop that uses the client)."""
        if self._jar is None:
            # Secure cookies (lobbyParticipantId) still flow over http on loopback/LAN, as
            # browsers do for localhost; IP hosts keep cookies only with unsafe=True.
            secure_origins = [self.instance] if self.origin.scheme == "http" else None
            self._jar = aiohttp.CookieJar(unsafe=is_ip_host(self.host),
                                          treat_as_secure_origin=secure_origins)
        return self._jar

    @classmethod
    def for_link(cls, instance: str, **kwargs: Any) -> HttpClient:
        """A client for the instance of a meeting link parsed by ``links.parse_link``: a
        meeting hosted by Visio Desktop on the LAN (``http://192.168.…``) is allowed."""
        return cls(instance, allow_private_http=True, **kwargs)

    # -- lifecycle ------------------------------------------------------------------------
    def _proxy_settings(self) -> tuple[bool, str | None]:
        """(trust_env, proxy URL)."""
        if self.proxy in ("", "system"):
            return True, None
        if self.proxy == "none":
            return False, None
        if urlsplit(self.proxy).scheme.lower() != "http":
            raise ApiError("proxy", "Only http:// proxies are supported (not SOCKS, "
                           "not https:// proxies, not PAC files).")
        return False, self.proxy

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            trust_env, _ = self._proxy_settings()
            ssl_context = self._ssl
            if ssl_context is None and self.origin.scheme == "https":
                ssl_context = self._ssl = tls_context()
            connector = aiohttp.TCPConnector(ssl=ssl_context if ssl_context else True)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=self.cookie_jar, timeout=self.timeout,
                trust_env=trust_env, headers={"User-Agent": user_agent(),
                                              "Accept": "application/json"})
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- cookies --------------------------------------------------------------------------
    def cookie(self, name: str) -> str | None:
        for morsel in self.cookie_jar:
            if morsel.key == name and self._cookie_matches(morsel):
                return morsel.value
        return None

    def cookies(self) -> dict[str, str]:
        return {m.key: m.value for m in self.cookie_jar if self._cookie_matches(m)}

    def _cookie_matches(self, morsel: Any) -> bool:
        domain = (morsel["domain"] or "").lstrip(".")
        return not domain or domain == self.host or self.host.endswith("." + domain)

    def set_cookies(self, cookies: Mapping[str, str]) -> None:
        """Put cookies (a stored session) in this instance's jar."""
        for value in cookies.values():
            register_secret(value)
        self.cookie_jar.update_cookies(dict(cookies), self.origin)

    def clear_cookies(self, *names: str) -> None:
        """Forget the named cookies of this instance (all of them when no name is given)."""
        wanted = set(names)
        self.cookie_jar.clear(lambda m: not wanted or m.key in wanted)

    # -- requests -------------------------------------------------------------------------
    def url(self, path: str) -> URL:
        """An instance path, or an absolute URL of this same instance (pagination links)."""
        if "://" in path:
            url = URL(path)
            if url.origin() != self.origin.origin():
                raise ApiError("bad_answer", "The server pointed to another address.")
            return url
        return self.origin.join(URL(path if path.startswith("/") else "/" + path))

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      json_body: Any = None, bearer: str | None = None,
                      expect_json: bool = True) -> HttpAnswer:
        """One call, retried when that is safe. ``bearer`` authenticates with a LiveKit
        token (the in-call endpoints)."""
        method = method.upper()
        url = self.url(path)
        if params:
            url = url.update_query(params)
        headers = {}
        if bearer:
            register_secret(bearer)
            headers["Authorization"] = f"Bearer {bearer}"
        if method in UNSAFE_METHODS:
            # also with a bearer: mute-participant accepts the session too, and Django then
            # checks CSRF; harmless where only the LiveKit token counts
            csrf = self.cookie(CSRF_COOKIE)
            if csrf:
                register_secret(csrf)
                headers[CSRF_HEADER] = csrf
            headers["Origin"] = self.instance
            headers["Referer"] = self.instance + "/"
        _, proxy = self._proxy_settings()
        session = self._open()
        attempt = 1
        while True:
            try:
                return await self._once(session, method, url, headers, json_body, proxy,
                                        expect_json)
            except _Retryable as retryable:
                error, pause = retryable.error, retryable.retry_after
                if method not in IDEMPOTENT_METHODS or attempt >= self.retry.attempts:
                    raise error from None
                if pause is None:
                    pause = self.retry.delay(attempt)
                elif pause > self.retry.max_retry_after_s:
                    raise error from None
                log.info("%s %s: %s, retrying in %.1f s", method, url.path, error.code, pause)
                await asyncio.sleep(pause)
                attempt += 1

    async def _once(self, session: aiohttp.ClientSession, method: str, url: URL,
                    headers: dict[str, str], json_body: Any, proxy: str | None,
                    expect_json: bool) -> HttpAnswer:
        try:
            async with session.request(method, url, headers=headers, json=json_body,
                                       proxy=proxy, allow_redirects=False) as response:
                body = await response.read()
                status = response.status
                answer_headers = dict(response.headers)
                content_type = response.content_type
        except aiohttp.ClientConnectorCertificateError as exc:
            log.warning("%s: certificate not trusted: %s", self.host, exc.certificate_error)
            raise ApiError("certificate") from None
        except (aiohttp.ClientHttpProxyError, aiohttp.ClientProxyConnectionError) as exc:
            log.warning("%s: proxy error: %s", self.host, exc)
            raise ApiError("proxy") from None
        except aiohttp.ConnectionTimeoutError:
            raise _Retryable(ApiError("timeout")) from None
        except TimeoutError:
            raise ApiError("timeout") from None
        except aiohttp.ClientConnectionError as exc:
            log.info("%s %s: cannot reach %s: %s", method, url.path, self.host, exc)
            raise _Retryable(ApiError("unreachable")) from None
        except aiohttp.ClientError as exc:
            log.info("%s %s: %s", method, url.path, exc)
            raise ApiError("bad_answer") from None
        log.debug("%s %s → %d", method, url.path, status)
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(answer_headers.get("Retry-After"))
            raise _Retryable(error_for_status(status, retry_after), retry_after)
        if 300 <= status < 400:  # the API never redirects: a login wall or a portal does
            raise ApiError("bad_answer", status=status)
        if status >= 400:
            raise error_for_status(status)
        return HttpAnswer(status, self._parse(body, content_type, expect_json, status),
                          answer_headers)

    @staticmethod
    def _parse(body: bytes, content_type: str, expect_json: bool, status: int) -> Any:
        if not body.strip():
            return None
        if not expect_json:
            return body.decode("utf-8", "replace")
        head = body.lstrip()[:1]
        if "html" in content_type or head == b"<":
            log.info("an HTML page came where JSON was expected (HTTP %d)", status)
            raise ApiError("bad_answer", status=status)
        try:
            return json.loads(body)
        except ValueError:
            raise ApiError("bad_answer", status=status) from None


class _Retryable(Exception):  # an internal signal: never escapes request()
    def __init__(self, error: ApiError, retry_after: float | None = None) -> None:
        super().__init__(error.code)
        self.error = error
        self.retry_after = retry_after
