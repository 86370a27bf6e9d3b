"""The one crossing from the UI to the engine: an operation runs a coroutine on the engine
loop, and its outcome comes back as a callback on the UI thread (success or failure), with
errors logged in one place. The UI never waits."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from visio_desktop.engine import Engine

log = logging.getLogger(__name__)
Success = Callable[[Any], None]
Failure = Callable[[BaseException], None]


class Operations(QObject):
    _finished = Signal(object, object, object)  # callback, value, is_error

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.pending = 0
        self._finished.connect(self._deliver)

    def run(self, coro: Coroutine[Any, Any, Any], on_success: Success | None = None,
            on_failure: Failure | None = None, *, what: str = "") -> None:
        """Run ``coro`` on the engine; ``on_success(result)`` or ``on_failure(error)`` is
        called on the UI thread. Without ``on_failure`` an error is logged."""
        self.pending += 1
        future = self.engine.submit(coro)
        label = what or getattr(coro, "__qualname__", "operation")

        def done(f: concurrent.futures.Future[Any]) -> None:
            try:
                value = f.result()
            except BaseException as exc:  # delivered to the UI thread below
                if on_failure is None:
                    log.warning("%s failed: %s", label, exc)
                self._finished.emit(on_failure, exc, True)
            else:
                self._finished.emit(on_success, value, False)

        future.add_done_callback(done)

    def _deliver(self, callback: Callable[[Any], None] | None, value: Any,
                 is_error: bool) -> None:
        self.pending -= 1
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            log.exception("an operation's %s callback failed",
                          "failure" if is_error else "success")
