"""Graceful shutdown: the state-changing requests still running when the server stops are let finish.

uvicorn stops accepting connections on SIGTERM and waits for open requests (`--timeout-graceful-shutdown`,
30 s under `crs serve`); when that runs out it cancels the request tasks - but a turn runs in a worker
thread, which a cancellation does not stop. So every session write is counted here, and the app's
shutdown (`drain`) waits until none is left, bounded, before it closes the store: a turn that started is
finished (its language-model calls complete or fall back to templates within their own timeouts), never
cut before its append. Past the bound, the language-model runtime is closed, so what the remaining
turns wait for falls back at once. (anyio's worker threads are not daemons, so the interpreter would
also wait for them at exit - unboundedly, silently, and after the store was closed; the drain makes the
wait explicit, bounded and ordered.)
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

DRAIN_SECONDS = 45.0  # longer than a turn's worst case (Redis timeouts + LLM calls of 20 s each)


class InFlight:
    """Counts running operations; `drain` waits for them to end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._count = 0

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        with self._lock:  # the plain lock (the Condition's wrapper methods are Python code, per request)
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if not self._count:  # only `drain` waits, and only for zero
                    self._cond.notify_all()

    def drain(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until nothing runs (True) or `timeout` seconds pass (False, logged)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._count:
                log.info("shutdown: waiting for %d session write(s) to finish", self._count)
            while self._count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.error(
                        "shutdown: %d session write(s) still running after %.0f s", self._count, timeout
                    )
                    return False
                self._cond.wait(remaining)
        return True
