"""A second launch hands its link to the running application."""

from __future__ import annotations

import os
import subprocess
import sys

from pytestqt.qtbot import QtBot

from visio_desktop.ui.single_instance import SingleInstance, send_to_running, server_name


def test_a_second_launch_passes_its_link(qtbot: QtBot) -> None:
    name = server_name(f"test-{os.getpid()}")
    running = SingleInstance(name)
    assert running.listen()
    try:
        received: list[str] = []
        running.message_received.connect(received.append)
        # the second launch is another process, as when a link is clicked
        code = ("import sys; from PySide6.QtCore import QCoreApplication; "
                "app = QCoreApplication([]); "
                "from visio_desktop.ui.single_instance import send_to_running; "
                f"sys.exit(0 if send_to_running('visio://visio.numerique.gouv.fr/abc-defg-hij', "
                f"{name!r}) else 3)")
        second = subprocess.Popen([sys.executable, "-c", code])
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=10000)
        assert second.returncode == 0
        qtbot.waitUntil(lambda: bool(received), timeout=5000)
        assert received == ["visio://visio.numerique.gouv.fr/abc-defg-hij"]
    finally:
        running.close()
    assert not send_to_running("x", name)  # nobody listens any more: the launch goes on
