"""One running Visio Desktop per user: a second launch (e.g. a clicked ``visio://`` or Visio
link) hands its link to the running one and exits."""

from __future__ import annotations

import getpass
import hashlib
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)
TIMEOUT_MS = 1000
MAX_MESSAGE = 4096


def server_name(tag: str = "") -> str:
    """A per-user name (local sockets are per machine)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some services): one name for all
        user = "user"
    digest = hashlib.sha256(f"{user}:{tag}".encode()).hexdigest()[:16]
    return f"visio-desktop-{digest}"


def send_to_running(message: str, name: str | None = None) -> bool:
    """True when a running instance took ``message`` (a link, or "" to just show itself)."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(TIMEOUT_MS):
        return False
    socket.write(message.encode("utf-8")[:MAX_MESSAGE] + b"\n")
    socket.flush()
    ok = socket.bytesToWrite() == 0 or socket.waitForBytesWritten(TIMEOUT_MS)
    socket.disconnectFromServer()
    return ok


class SingleInstance(QObject):
    """Listens for later launches; ``message_received(link)`` carries what they were given."""

    message_received = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # a crashed instance may have left its socket file behind (Unix): take it over
        QLocalServer.removeServer(self.name)
        if self.server.listen(self.name):
            return True
        log.warning("cannot listen for other launches: %s", self.server.errorString())
        return False

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            buffer = bytearray()

            def read(s: QLocalSocket = socket, b: bytearray = buffer) -> None:
                b.extend(bytes(s.readAll().data()))
                if b"\n" in b or len(b) > MAX_MESSAGE:
                    text = bytes(b).split(b"\n", 1)[0].decode("utf-8", "replace").strip()
                    s.disconnectFromServer()
                    self.message_received.emit(text)

            socket.readyRead.connect(read)
            socket.disconnected.connect(socket.deleteLater)

    def close(self) -> None:
        self.server.close()
