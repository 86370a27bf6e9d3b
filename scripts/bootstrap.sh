#!/usr/bin/env bash
# Prepares a fresh machine for Visio Desktop: a virtual environment in .venv with the package
# installed (editable) and, for the test suite, system packages and the browser-test modules.
# Sourced by ./launch.sh and ./test.sh; safe to run again (each step is skipped when done).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-app}"   # app | test
py="${PYTHON:-python3}"

need_apt=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  # PortAudio for sounddevice (the media engine), and for tests Debian's Chromium.
  installed libportaudio2 || need_apt+=(libportaudio2)
  # the libraries Qt's wheels load (X11/xcb platform, EGL/GL, fonts, D-Bus)
  for pkg in libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 fonts-dejavu-core \
      libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
      libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1 \
      libnss3 libnspr4 libgbm1 libasound2 libxkbfile1 libdrm2; do  # + Qt WebEngine (sign-in)
    installed "$pkg" || need_apt+=("$pkg")
  done
  if [ "$mode" = test ]; then
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
    command -v npm >/dev/null 2>&1 || need_apt+=(npm)
    command -v Xvfb >/dev/null 2>&1 || need_apt+=(xvfb)  # screen-sharing tests
    # a PulseAudio null sink and its monitor are the "real" audio devices of the audio tests
    # (PortAudio reaches it through ALSA's "pulse" plugin, in libasound2-plugins)
    command -v pulseaudio >/dev/null 2>&1 || need_apt+=(pulseaudio)
    command -v pactl >/dev/null 2>&1 || need_apt+=(pulseaudio-utils)
    installed libasound2-plugins || need_apt+=(libasound2-plugins)
  fi
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "bootstrap: installing system packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
fi

if [ ! -x "$here/.venv/bin/python" ]; then
  "$py" -m venv "$here/.venv"
fi
# shellcheck disable=SC1091
. "$here/.venv/bin/activate"
stamp="$here/.venv/.installed-$mode"
sum="$(cat "$here/pyproject.toml" "$here/scripts/bootstrap.sh" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  python -m pip install -q --disable-pip-version-check -U pip
  if [ "$mode" = test ]; then
    python -m pip install -q --disable-pip-version-check -e "$here[test]"
  else
    python -m pip install -q --disable-pip-version-check -e "$here"
  fi
  echo "$sum" > "$stamp"
fi

if [ "$mode" = test ] && [ -f "$here/tests/browser/package.json" ]; then
  if [ ! -d "$here/tests/browser/node_modules" ] || \
     [ "$here/tests/browser/package-lock.json" -nt "$here/tests/browser/node_modules" ]; then
    (cd "$here/tests/browser" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi
