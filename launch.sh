#!/usr/bin/env bash
# Launches Visio Desktop (installing what it needs on first run).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/scripts/bootstrap.sh" app
exec visio-desktop "$@"
