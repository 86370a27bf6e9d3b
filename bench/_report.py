"""The common ending of every benchmark: write the JSON report, list failures, exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_report(report: dict[str, Any], out: str | Path) -> int:
    """Write ``report`` to ``out`` (folders created), print its failures; 0 if it is ok."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")
    if report["failures"]:
        print("FAILURES:\n  " + "\n  ".join(report["failures"]))
    return 0 if report["ok"] else 1
