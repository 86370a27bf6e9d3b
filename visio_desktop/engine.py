"""The engine thread: one asyncio loop for signalling, aiortc and media, beside the UI thread.

The UI never awaits anything: it hands coroutines to :meth:`Engine.submit` and gets a
``concurrent.futures.Future`` back (the Qt side turns its outcome into a callback on the UI
thread, see ``ui/operations.py``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Engine:
    def __init__(self, name: str = "engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # cancel what is left so that tasks do not warn at interpreter exit
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def start(self) -> Engine:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._started and self._thread.is_alive()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the engine loop; thread-safe."""
        if not self.running:
            coro.close()
            future: concurrent.futures.Future[T] = concurrent.futures.Future()
            future.set_exception(RuntimeError("the engine is not running"))
            return future
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.running:
            self.loop.call_soon_threadsafe(fn, *args)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run ``coro`` and wait for it (for scripts and shutdown, never the UI's paint path)."""
        return self.submit(coro).result(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self.running:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("the engine thread did not stop within %.0f s", timeout_s)
