"""The machine's PulseAudio server as the audio tests' real devices: started when needed,
virtual sinks and sources loaded, made the defaults, and everything put back afterwards."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest


def pulse_running() -> bool:
    """True when a PulseAudio server answers (started here, for the session, if need be)."""
    if shutil.which("pactl") is None:
        return False
    if subprocess.run(["pactl", "info"], capture_output=True).returncode == 0:
        return True
    if shutil.which("pulseaudio") is None:
        return False
    subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1"], capture_output=True)
    for _ in range(20):
        if subprocess.run(["pactl", "info"], capture_output=True).returncode == 0:
            return True
        time.sleep(0.1)
    return False


@contextmanager
def pulse_devices(modules: Sequence[Sequence[str]], *, default_sink: str | None = None,
                  default_source: str | None = None) -> Iterator[list[str]]:
    """Loads ``modules`` (name and arguments each), makes ``default_sink``/``default_source``
    the defaults, yields the module indexes; unloads them and restores the defaults after.
    Skips the test where sounddevice or PulseAudio is missing."""
    pytest.importorskip("sounddevice")
    if not pulse_running():
        pytest.skip("PulseAudio is not available")
    info = subprocess.run(["pactl", "info"], capture_output=True, text=True).stdout
    old = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in info.splitlines()
           if line.startswith(("Default Sink", "Default Source"))}
    loaded: list[str] = []
    try:
        for module in modules:
            loaded.append(subprocess.run(["pactl", "load-module", *module], capture_output=True,
                                         text=True, check=True).stdout.strip())
        if default_sink:
            subprocess.run(["pactl", "set-default-sink", default_sink], check=True)
        if default_source:
            subprocess.run(["pactl", "set-default-source", default_source], check=True)
        yield loaded
    finally:
        for key, ours, command in (("Default Sink", default_sink, "set-default-sink"),
                                   ("Default Source", default_source, "set-default-source")):
            before = old.get(key, "")
            if ours and before and not before.startswith(ours):
                subprocess.run(["pactl", command, before])
        for module in reversed(loaded):
            subprocess.run(["pactl", "unload-module", module])
