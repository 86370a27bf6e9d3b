"""``visio-desktop serve`` and ``visio-desktop token`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from visio_desktop.net.token import verify_token

pytestmark = pytest.mark.timeout(60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "visio_desktop", *args]


def test_serve_prints_ready_accepts_tokens_and_stops_on_sigterm() -> None:
    port = _free_port()
    proc = subprocess.Popen(_cli("serve", "--port", str(port)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == f"ready ws://127.0.0.1:{port}"
        token = subprocess.run(_cli("token", "--room", "r", "--identity", "me"),
                               capture_output=True, text=True, check=True).stdout.strip()
        url = f"http://127.0.0.1:{port}/rtc/validate?access_token={token}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and response.read() == b"success"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_lan_bind_requires_keys() -> None:
    result = subprocess.run(_cli("serve", "--bind", "0.0.0.0", "--port", str(_free_port())),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "requires --keys" in result.stderr


def test_token_command_sets_claims_and_grants() -> None:
    result = subprocess.run(
        _cli("token", "--room", "salle", "--identity", "agent-1", "--name", "Agent Un",
             "--keys", "k1:" + "s" * 32, "--ttl", "30m", "--grant", "can_publish=false",
             "--grant", "can_publish_sources=microphone,camera"),
        capture_output=True, text=True, check=True, timeout=30)
    claims = verify_token(result.stdout.strip(), {"k1": "s" * 32})
    assert claims.identity == "agent-1" and claims.name == "Agent Un"
    assert claims.video.room == "salle" and claims.video.room_join
    assert claims.video.publish is False
    assert claims.video.publish_data is False  # follows canPublish, as in LiveKit
    assert claims.video.can_publish_sources == ["microphone", "camera"]
    assert 29 * 60 <= claims.expires_at - time.time() <= 30 * 60 + 5


@pytest.mark.parametrize("grant", ["can_fly=true", "can_publish=maybe", "nonsense"])
def test_token_command_rejects_bad_grants(grant: str) -> None:
    result = subprocess.run(_cli("token", "--room", "r", "--identity", "i", "--grant", grant),
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 2
    assert result.stderr.strip()


def test_headless_join_reports_and_exits(tmp_path: Path) -> None:
    port = _free_port()
    keys = "k1:" + "s" * 32
    server = subprocess.Popen(_cli("serve", "--port", str(port), "--keys", keys),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().startswith("ready ")
        token = subprocess.run(_cli("token", "--room", "r", "--identity", "bot", "--keys", keys),
                               capture_output=True, text=True, check=True).stdout.strip()
        report_path = tmp_path / "report.json"
        done = subprocess.run(
            _cli("join", f"http://127.0.0.1:{port}", "--token", token, "--headless",
                 "--duration", "1", "--video", "test-pattern", "--audio", "tone",
                 "--send-chat", "bonjour", "--report", str(report_path)),
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        report = json.loads(report_path.read_text())
        assert report["joined"] and report["left_cleanly"] and report["identity"] == "bot"
        assert len(report["published"]) == 2 and report["errors"] == []
        refused = subprocess.run(
            _cli("join", f"http://127.0.0.1:{port}", "--token", "bad", "--headless",
                 "--duration", "1"), capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1
        assert "token was refused" in refused.stderr
        assert "bad" not in refused.stderr.replace("token was refused", "")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
