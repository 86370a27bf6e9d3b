#!/usr/bin/env bash
# Runs the whole test suite (installing what it needs on first run): lint, then pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/scripts/bootstrap.sh" test
cd "$here"
ruff check visio_desktop tests bench
exec python -m pytest "$@"
