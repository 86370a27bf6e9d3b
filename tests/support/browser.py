"""The official livekit-client JS SDK in headless Chromium, driven from pytest.

A :class:`ChromiumHost` owns one Chromium (Debian's ``/usr/bin/chromium``, through Playwright's
async API) and a tiny static web server for ``tests/browser/`` on 127.0.0.1 (a secure context,
so WebRTC and ``crypto.randomUUID`` work). Each :class:`BrowserParticipant` is one page, in its
own browser context, running ``tests/browser/harness.html``; its coroutines wrap the page's
``window.harness`` functions (see ``tests/browser/harness.js``).

Typical use in a test::

    async def test_something(room_server, browsers):
        alice = await browsers.new("alice")
        await alice.join(room_server.url, room_server.token("r", "alice"))
        await alice.publish_camera(width=640, height=360, fps=15)

``browsers`` (a fixture defined here: import it into the test module) closes every page and
the browser at the end of the test, pass or fail; each page's console goes to the ``logging``
logger ``tests.browser.<name>`` (shown by pytest when a test fails) and to
:attr:`BrowserParticipant.console_log`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pytest
from aiohttp import web

BROWSER_DIR = Path(__file__).resolve().parent.parent / "browser"
CHROMIUM = os.environ.get("VISIO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    # no mDNS host candidates: multicast must not leave this machine
    "--disable-features=WebRtcHideLocalIpsWithMdns",
)
LOG_LINE_LIMIT = 600
SDK_BUNDLE = BROWSER_DIR / "node_modules" / "livekit-client" / "dist" / "livekit-client.umd.js"

log = logging.getLogger(__name__)


class BrowserUnavailable(RuntimeError):
    """Chromium, Playwright or the npm modules needed by the browser tests are missing."""


def pinned_sdk_version() -> str:
    """The livekit-client version pinned in tests/browser/package.json."""
    package = json.loads((BROWSER_DIR / "package.json").read_text())
    return str(package["dependencies"]["livekit-client"])


def check_prerequisites() -> None:
    """Raise :class:`BrowserUnavailable` with a clear message if the browser tests can't run."""
    if not Path(CHROMIUM).exists():
        raise BrowserUnavailable(
            f"Chromium not found at {CHROMIUM}: the livekit-client interop tests need Debian's "
            "chromium (apt-get install chromium; scripts/bootstrap.sh test does it as root)")
    if not SDK_BUNDLE.exists():
        raise BrowserUnavailable(
            f"{SDK_BUNDLE} is missing: run `npm ci` in {BROWSER_DIR} "
            "(scripts/bootstrap.sh test does it)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BrowserUnavailable(
            "the Python playwright package is missing: pip install -e '.[test]'") from exc


class _StaticServer:
    """tests/browser/ over HTTP on 127.0.0.1 with an ephemeral port, never cached."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        @web.middleware
        async def no_cache(request: web.Request, handler: Any) -> web.StreamResponse:
            response: web.StreamResponse = await handler(request)
            response.headers["Cache-Control"] = "no-store"
            return response

        app = web.Application(middlewares=[no_cache])
        app.router.add_static("/", self.root, follow_symlinks=False, show_index=False)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class ChromiumHost:
    """One headless Chromium plus the static server; hands out participants (one page each)."""

    def __init__(self, *, extra_args: Sequence[str] = ()) -> None:
        self.extra_args = tuple(extra_args)
        self._server = _StaticServer(BROWSER_DIR)
        self._playwright: Any = None
        self._browser: Any = None
        self.participants: list[BrowserParticipant] = []

    async def start(self) -> Self:
        check_prerequisites()
        from playwright.async_api import async_playwright

        await self._server.start()
        try:
            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[*CHROMIUM_ARGS, *self.extra_args],
            )
        except BaseException:
            await self.close()
            raise
        return self

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def new_participant(self, name: str = "browser") -> BrowserParticipant:
        """A fresh page (own browser context) with the harness loaded."""
        if self._browser is None:
            raise RuntimeError("ChromiumHost.start() first")
        participant = BrowserParticipant(name, host=self)
        await participant.start()
        return participant

    async def close(self) -> None:
        for participant in list(self.participants):
            await participant.close()
        if self._browser is not None:
            try:
                await asyncio.wait_for(self._browser.close(), 15)
            except Exception:  # the browser may already be gone
                log.exception("closing chromium")
            self._browser = None
        if self._playwright is not None:
            try:
                await self._playwright.stop()
            except Exception:
                log.exception("stopping playwright")
            self._playwright = None
        await self._server.stop()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class BrowserParticipant:
    """A livekit-client participant in a headless Chromium page.

    Without a ``host`` it starts (and, on close, stops) a Chromium of its own; with one, it is a
    page of that host's browser. Use it as an async context manager, or call :meth:`start` and
    :meth:`close` (the ``browsers`` fixture does).
    """

    def __init__(self, name: str = "browser", *, host: ChromiumHost | None = None) -> None:
        self.name = name
        self._host = host
        self._owns_host = host is None
        self._context: Any = None
        self.page: Any = None
        self.console_log: list[str] = []
        self._logger = logging.getLogger(f"tests.browser.{name}")
        self._t0 = time.monotonic()

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        if self._host is None:
            self._host = await ChromiumHost().start()
        host = self._host
        try:
            self._context = await host._browser.new_context(
                viewport={"width": 640, "height": 480}, base_url=host.base_url)
            self.page = await self._context.new_page()
            self.page.on("console", self._on_console)
            self.page.on("pageerror", lambda err: self._add_log("pageerror", str(err)))
            self.page.on("crash", lambda _page: self._add_log("crash", "page crashed"))
            await self.page.goto(f"{host.base_url}/harness.html")
            await self.page.wait_for_function("window.harnessReady === true", timeout=15000)
        except BaseException:
            await self.close()
            raise
        if not self._owns_host:
            host.participants.append(self)
        return self

    async def close(self) -> None:
        """Leave the room (best effort) and close the page, and the browser if it owns it."""
        if self.page is not None and not self.page.is_closed():
            try:
                await asyncio.wait_for(self.page.evaluate("window.harness && harness.leave()"), 5)
            except Exception as exc:
                self._add_log("harness", f"leave on close failed: {exc}")
        if self._context is not None:
            try:
                await asyncio.wait_for(self._context.close(), 10)
            except Exception:
                log.exception("closing browser context of %s", self.name)
            self._context = None
            self.page = None
        if self._host is not None:
            if self in self._host.participants:
                self._host.participants.remove(self)
            if self._owns_host:
                await self._host.close()
        self._host = None if self._owns_host else self._host

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # ---- console ------------------------------------------------------------------------------

    def _add_log(self, kind: str, text: str) -> None:
        line = f"{time.monotonic() - self._t0:8.3f} [{kind}] {text}"
        self.console_log.append(line)
        level = logging.WARNING if kind in ("error", "pageerror", "crash") else logging.INFO
        if len(line) > LOG_LINE_LIMIT:  # the SDK logs whole signalling URLs
            line = f"{line[:LOG_LINE_LIMIT]}… ({len(line)} chars)"
        self._logger.log(level, "%s", line)

    def _on_console(self, msg: Any) -> None:
        self._add_log(msg.type, msg.text)

    def console_text(self) -> str:
        return "\n".join(self.console_log)

    # ---- calling into the page ----------------------------------------------------------------

    async def call(self, function: str, *args: Any) -> Any:
        """Call ``window.harness[function](*args)`` in the page and return its result.

        Trailing ``None`` arguments are dropped so that they arrive as ``undefined`` (and JS
        defaults apply)."""
        if self.page is None:
            raise RuntimeError(f"browser participant {self.name} is not started")
        trimmed = list(args)
        while trimmed and trimmed[-1] is None:
            trimmed.pop()
        return await self.page.evaluate(
            "([name, args]) => window.harness[name](...args)", [function, trimmed])

    async def info(self) -> dict[str, Any]:
        return await self.call("info")

    async def sdk_version(self) -> str:
        return str(await self.page.evaluate("LivekitClient.version"))

    async def join(self, url: str, token: str, *, adaptive_stream: bool = False,
                   dynacast: bool = False, auto_subscribe: bool = True, log_level: str = "info",
                   room_options: Mapping[str, Any] | None = None,
                   connect_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "adaptiveStream": adaptive_stream, "dynacast": dynacast,
            "autoSubscribe": auto_subscribe, "logLevel": log_level,
        }
        if room_options:
            opts["roomOptions"] = dict(room_options)
        if connect_options:
            opts["connectOptions"] = dict(connect_options)
        return await self.call("join", url, token, opts)

    async def leave(self) -> None:
        await self.call("leave")

    async def publish_camera(self, *, width: int = 1280, height: int = 720, fps: int = 30,
                             simulcast: bool = True, max_bitrate: int | None = None,
                             publish_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        opts: dict[str, Any] = {"width": width, "height": height, "fps": fps,
                                "simulcast": simulcast}
        if max_bitrate:
            opts["maxBitrate"] = max_bitrate
        if publish_options:
            opts["publishOptions"] = dict(publish_options)
        return await self.call("publishCamera", opts)

    async def publish_screen(self, *, width: int = 1920, height: int = 1080, fps: int = 15,
                             simulcast: bool = False,
                             publish_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        opts: dict[str, Any] = {"width": width, "height": height, "fps": fps,
                                "simulcast": simulcast}
        if publish_options:
            opts["publishOptions"] = dict(publish_options)
        return await self.call("publishScreen", opts)

    async def publish_microphone(self, frequency_hz: float = 440.0, *, gain: float = 0.5,
                                 publish_options: Mapping[str, Any] | None = None,
                                 ) -> dict[str, Any]:
        opts: dict[str, Any] = {"gain": gain}
        if publish_options:
            opts["publishOptions"] = dict(publish_options)
        return await self.call("publishMicrophone", frequency_hz, opts)

    async def unpublish(self, source: str) -> str:
        """source: 'camera', 'microphone' or 'screen_share' (alias 'screen')."""
        return str(await self.call("unpublish", source))

    async def set_muted(self, source: str, muted: bool) -> bool:
        return bool(await self.call("setMuted", source, muted))

    async def set_encodings_active(self, source: str,
                                   active: Mapping[str, bool]) -> list[dict[str, Any]]:
        """Turn simulcast encodings (by rid) of a published video track on or off, as Chromium
        does on its own when bandwidth or CPU runs short; returns [{rid, active}]."""
        return await self.call("setEncodingsActive", source, dict(active))

    async def send_chat(self, text: str,
                        destination_identities: Sequence[str] | None = None) -> dict[str, Any]:
        dest = list(destination_identities) if destination_identities is not None else None
        return await self.call("sendChat", text, dest)

    async def send_legacy_chat(self, text: str, destination_identities: Sequence[str] | None = None,
                               ) -> dict[str, Any]:
        dest = list(destination_identities) if destination_identities is not None else None
        return await self.call("sendLegacyChat", text, dest)

    async def publish_data(self, text: str, *, topic: str | None = None, reliable: bool = True,
                           destination_identities: Sequence[str] | None = None) -> None:
        opts: dict[str, Any] = {"reliable": reliable}
        if topic is not None:
            opts["topic"] = topic
        if destination_identities is not None:
            opts["destinationIdentities"] = list(destination_identities)
        await self.call("publishData", text, opts)

    async def chats(self) -> list[dict[str, Any]]:
        """Received chat messages: {via: 'text-stream'|'legacy', from, message, id, ...}."""
        return await self.call("chats")

    async def events(self, since_seq: int = 0) -> list[dict[str, Any]]:
        """The room event log: {seq, event, t (performance.now ms), wall (epoch ms), args,
        identity?, trackSid?, source?, kind?}."""
        return await self.call("events", since_seq)

    async def participants(self) -> list[dict[str, Any]]:
        return await self.call("participants")

    async def remote_tracks(self) -> list[dict[str, Any]]:
        return await self.call("remoteTracks")

    async def wait_for_remote_track(self, *, identity: str | None = None,
                                    source: str | None = None, kind: str | None = None,
                                    timeout_s: float = 15.0) -> dict[str, Any]:
        """Wait until a matching remote track is subscribed (video: decoding frames)."""
        match = {k: v for k, v in (("identity", identity), ("source", source), ("kind", kind))
                 if v is not None}
        return await self.call("waitForRemoteTrack", match, int(timeout_s * 1000))

    async def wait_for_event(self, event: str, *, timeout_s: float = 15.0, since_seq: int = 0,
                             **match: Any) -> dict[str, Any]:
        """Poll the event log for an event named ``event`` whose top-level fields equal
        ``match`` (e.g. ``identity="bob"``, ``source="camera"``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            for entry in await self.events(since_seq):
                if entry["event"] == event and all(entry.get(k) == v for k, v in match.items()):
                    return entry
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no {event} event matching {match} "
                                   f"within {timeout_s} s")
            await asyncio.sleep(0.05)

    async def grab_frame_raw(self, track_sid: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
        """The harness's grabFrame result (width, height, rgbaBase64, frame counters)."""
        return await self.call("grabFrame", track_sid, {"timeoutMs": int(timeout_s * 1000)})

    async def grab_frame(self, track_sid: str, *, timeout_s: float = 10.0) -> np.ndarray:
        """The frame a remote video track shows now, as an (height, width, 3) uint8 RGB array."""
        return rgba_to_rgb(await self.grab_frame_raw(track_sid, timeout_s=timeout_s))

    async def audio_level(self, track_sid: str, *, duration: float = 0.5) -> dict[str, Any]:
        """{frequencyHz (dominant), rms, peak, peakDb, ...} of a subscribed remote audio track."""
        return await self.call("audioLevel", track_sid, {"durationMs": int(duration * 1000)})

    async def stats(self) -> list[dict[str, Any]]:
        """Per local publication: {trackSid, source, kind, layers: [{rid, frameWidth,
        framesSent, ...}] (getSenderStats), outbound: [outbound-rtp entries],
        availableOutgoingBitrate (the sender's bandwidth estimate, bit/s, or None)}."""
        return await self.call("stats")

    async def remote_stats(self) -> list[dict[str, Any]]:
        """Per remote track: {participantIdentity, trackSid, source, kind, inbound: [...]}."""
        return await self.call("remoteStats")

    async def render_pattern_for_test(self, width: int, height: int, counter: int,
                                      timestamp_ms: int) -> tuple[np.ndarray, str]:
        """Render one pattern frame locally (no room); returns (RGB array, renderer name)."""
        raw = await self.call("renderPatternForTest", width, height, counter, timestamp_ms)
        return rgba_to_rgb(raw), str(raw["renderer"])


def rgba_to_rgb(raw: Mapping[str, Any]) -> np.ndarray:
    width, height = int(raw["width"]), int(raw["height"])
    rgba = np.frombuffer(base64.b64decode(raw["rgbaBase64"]), dtype=np.uint8)
    return rgba.reshape(height, width, 4)[:, :, :3].copy()


class BrowserFactory:
    """Creates browser participants sharing one Chromium; closes them all on :meth:`close`."""

    def __init__(self, *, extra_args: Sequence[str] = ()) -> None:
        self._extra_args = tuple(extra_args)
        self._host: ChromiumHost | None = None
        self.participants: list[BrowserParticipant] = []

    async def new(self, name: str = "browser") -> BrowserParticipant:
        if self._host is None:
            self._host = await ChromiumHost(extra_args=self._extra_args).start()
        participant = await self._host.new_participant(name)
        self.participants.append(participant)
        return participant

    def dump_consoles(self) -> str:
        return "\n".join(f"--- console of {p.name} ---\n{p.console_text()}"
                         for p in self.participants)

    async def close(self) -> None:
        try:
            for participant in self.participants:
                await participant.close()
        finally:
            if self._host is not None:
                await self._host.close()
                self._host = None


@asynccontextmanager
async def browser_participants(*names: str) -> AsyncIterator[list[BrowserParticipant]]:
    """``async with browser_participants("alice", "bob") as (alice, bob): ...``"""
    factory = BrowserFactory()
    try:
        yield [await factory.new(name) for name in names]
    finally:
        await factory.close()


@pytest.fixture
async def browsers() -> AsyncIterator[BrowserFactory]:
    """A :class:`BrowserFactory`; every browser it made is closed after the test. Fails (never
    skips) when Chromium or the npm modules are missing."""
    try:
        check_prerequisites()
    except BrowserUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    factory = BrowserFactory()
    try:
        yield factory
    finally:
        await factory.close()
