"""Sign-in with ProConnect through the instance's own login flow, in an embedded web view.

Visio authenticates users with a Django session set at the end of a server-side OIDC flow
(``/api/v1.0/authenticate/``): there is no token a native app could ask for, so the flow runs in
a web view whose cookies we read. The profile is off the record (nothing is written to disk);
the ``sessionid`` and ``csrftoken`` cookies of the instance are handed to the caller, which keeps
them in the OS keyring only. A native login (OIDC with PKCE, when the instance offers one) can
replace this dialog: the rest of the app only needs ``signed_in(cookies)``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any
from urllib.parse import quote, urlsplit

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

log = logging.getLogger(__name__)
SESSION_COOKIES = ("sessionid", "csrftoken")


def prepare_web_engine() -> None:
    """Chromium's sandbox cannot run as root (CI, some kiosks): turn it off only then.
    Must run before the first web view is created."""
    if sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


_profile: object = None


def shared_profile() -> object:
    """One off-the-record web profile for the whole run: nothing reaches the disk, and the
    identity provider's own session survives between sign-ins, so that a silent re-login
    (``silent=True``) works when Visio's session ends during the run."""
    global _profile
    if _profile is None:
        from PySide6.QtWebEngineCore import QWebEngineProfile
        from PySide6.QtWidgets import QApplication

        _profile = QWebEngineProfile(QApplication.instance())
    return _profile


def login_url(instance: str, *, silent: bool = False) -> str:
    back = quote(f"{instance}/", safe="")
    return f"{instance}/api/v1.0/authenticate/?returnTo={back}" + ("&silent=true" if silent
                                                                     else "")


class SignInDialog(QDialog):
    signed_in = Signal(dict)  # {"sessionid": …, "csrftoken": …}
    failed = Signal(str)

    def __init__(self, instance: str, parent: QWidget | None = None, *,
                 silent: bool = False) -> None:
        super().__init__(parent)
        prepare_web_engine()
        from PySide6.QtWebEngineCore import QWebEnginePage
        from PySide6.QtWebEngineWidgets import QWebEngineView

        self.instance = instance.rstrip("/")
        self.host = urlsplit(self.instance).hostname or ""
        self.setWindowTitle(self.tr("Sign in to Visio"))
        self.resize(520, 680)
        self.cookies: dict[str, str] = {}
        self._done = False
        self.silent = silent
        self.profile: Any = shared_profile()  # off the record: no cookie ever on disk
        self.page = QWebEnginePage(self.profile, self)
        self.view = QWebEngineView(self)
        self.view.setPage(self.page)
        self.view.setAccessibleName(self.tr("Sign-in page"))
        self.status = QLabel(self.tr("Loading the sign-in page…"))
        cancel = QPushButton(self.tr("Cancel"))
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        layout.addWidget(cancel)
        self.profile.cookieStore().cookieAdded.connect(self._cookie_added)
        self.profile.cookieStore().loadAllCookies()  # those already held (an earlier sign-in)
        self.page.loadFinished.connect(self._loaded)
        self.page.urlChanged.connect(self._url_changed)
        self.page.load(QUrl(login_url(self.instance, silent=silent)))

    def _cookie_added(self, cookie: object) -> None:
        name = bytes(cookie.name()).decode("latin-1")  # type: ignore[attr-defined]
        domain = cookie.domain().lstrip(".")  # type: ignore[attr-defined]
        if name in SESSION_COOKIES and (not domain or self.host.endswith(domain)
                                        or domain.endswith(self.host)):
            self.cookies[name] = bytes(cookie.value()).decode("latin-1")  # type: ignore[attr-defined]
            self._check_done()

    def _url_changed(self, url: QUrl) -> None:
        self._check_done()

    def _loaded(self, ok: bool) -> None:
        if not ok and not self._done:
            self.status.setText(self.tr("The sign-in page could not be loaded."))
            self.failed.emit("unreachable")
            return
        self.status.setText(self.tr("Sign in with your ProConnect account."))
        self._check_done()
        url = self.page.url()
        if self.silent and not self._done and url.host() == self.host \
                and url.path() in ("", "/"):
            self.failed.emit("session_expired")  # the identity provider wants a real login
            self.reject()

    def _check_done(self) -> None:
        """Done once the flow is back where it was asked to return (the instance's home page)
        with a session cookie. (Django already keeps the OIDC state in a session before the
        login: the caller checks the session with ``users/me`` before trusting it.)"""
        if self._done or "sessionid" not in self.cookies:
            return
        url = self.page.url()
        if url.host() != self.host or url.path() not in ("", "/"):
            return
        self._done = True
        self.signed_in.emit(dict(self.cookies))
        self.accept()

    def done(self, result: int) -> None:
        self.profile.cookieStore().cookieAdded.disconnect(self._cookie_added)
        self.page.loadFinished.disconnect(self._loaded)
        self.view.setPage(None)  # type: ignore[arg-type]
        self.page.deleteLater()
        super().done(result)
