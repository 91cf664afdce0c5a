"""`TextStream`: the caller's side of a streamed generation — an iterator of text chunks with a deadline."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any


class TextStream(Iterator[str]):
    """Text chunks of one generation as they are produced. Iteration ends at the end of the answer, or
    at the deadline (finish_reason "timeout", generation cancelled). `close()` cancels generation.

    After iteration: `text` is everything received, `finish_reason` one of stop / length / stopped /
    cancelled / timeout / error, `first_chunk_seconds` the delay from the call to the first chunk.
    """

    _END = object()

    def __init__(self, deadline: float, cancel: threading.Event) -> None:
        self._deadline = deadline
        self._cancel = cancel
        self._queue: queue.Queue[Any] = queue.Queue()
        self._started = time.perf_counter()
        self._done = False
        self.text = ""
        self.finish_reason: str | None = None
        self.n_tokens = 0
        self.first_chunk_seconds: float | None = None
        self.error: str = ""

    # worker side
    def _put(self, chunk: str) -> None:
        self._queue.put(chunk)

    def _finish(self, reason: str, n_tokens: int = 0, error: str = "") -> None:
        self._queue.put((self._END, reason, n_tokens, error))

    # caller side
    def __next__(self) -> str:
        if self._done:
            raise StopIteration
        remaining = self._deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise queue.Empty
            item = self._queue.get(timeout=remaining)
        except queue.Empty:
            self._cancel.set()
            self._end("timeout")
            raise StopIteration from None
        if isinstance(item, tuple) and item and item[0] is self._END:
            _, reason, self.n_tokens, self.error = item
            self._end(reason)
            raise StopIteration
        if self.first_chunk_seconds is None:
            self.first_chunk_seconds = time.perf_counter() - self._started
        self.text += item
        return item

    def _end(self, reason: str) -> None:
        self._done = True
        if self.finish_reason is None:
            self.finish_reason = reason

    def close(self) -> None:
        """Stop generating (e.g. the client went away); the remaining chunks are discarded."""
        self._cancel.set()
        self._end("cancelled")
