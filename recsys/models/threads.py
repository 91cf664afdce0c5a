"""Single-threaded BLAS for latency-bound calls (one dialogue profile at a time).

A threaded BLAS (OpenBLAS: numpy's and scipy's are two separate libraries with their own pools) splits
even small operations across its threads and then waits for all of them. On a busy machine a thread that
has to wait for a core makes every call wait: implicit's ALS fold-in (one `syr` per liked item and a
Cholesky solve, through scipy's BLAS) measured 25-60 ms wall on a loaded 2-core machine with the default
threads and 1.7 ms with one. One profile is far too little work to gain anything from threads.

`single_thread_blas()` limits every loaded BLAS to one thread for the duration of a block and restores the
previous limits after. threadpoolctl's own `threadpool_limits(1)` rescans the loaded libraries on every
call (1.6 ms measured here); this module keeps one `ThreadpoolController` and rescans only when modules
were imported since (a new import may have loaded another BLAS), so entering and leaving costs ~10 us.
Nested and concurrent blocks share one limit: the first to enter sets it, the last to leave restores it.

threadpoolctl lets only one thread at a time change a process-wide OpenBLAS pool (its "controlling
thread"; calls from other threads are silently ignored). The block takes that control when it sets the
limit and gives it back when it restores; when the last block to leave runs in another thread than the one
that set the limit (a threaded server), it takes the control over (the setter's block has ended) to
restore. While another thread holds the control inside its own `threadpool_limits` block, that limit
applies and this one is skipped.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_controller: tuple[int, list[Any]] | None = None  # (len(sys.modules) when scanned, BLAS lib controllers)
_depth = 0
_saved: list[tuple[Any, int]] = []
_setter: threading.Thread | None = None  # the thread that set the current limit


def blas_libraries() -> list[Any]:
    """threadpoolctl controllers of the BLAS libraries loaded in this process (rescanned after imports)."""
    global _controller
    n_modules = len(sys.modules)
    if _controller is None or _controller[0] != n_modules:
        from threadpoolctl import ThreadpoolController

        libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        _controller = (n_modules, libs)
    return _controller[1]


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run the block with every loaded BLAS limited to one thread (see the module docstring)."""
    global _depth, _saved, _setter
    with _lock:
        if _depth == 0:
            _setter = threading.current_thread()
            _saved = [(lib, lib.num_threads) for lib in blas_libraries()]
            for lib, threads in _saved:
                if threads != 1:
                    lib.set_num_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                mine = _setter is threading.current_thread()
                for lib, threads in _saved:
                    if threads == 1:
                        continue
                    if not mine:  # the setter's block is over: restore in its place
                        _clear_control(lib, force=True)
                    lib.set_num_threads(threads)
                    _clear_control(lib, force=False)  # give the control back
                _saved, _setter = [], None


def _clear_control(lib: Any, *, force: bool) -> None:
    """Release threadpoolctl's controlling-thread lock of a shared-pool library (OpenBLAS, pthreads)."""
    clear = getattr(type(lib), "clear_controlling_thread", None)
    if clear is not None:
        clear(force=force)


def blas_thread_counts() -> list[int]:
    """The current thread count of each loaded BLAS library (for tests and diagnostics)."""
    return [lib.num_threads for lib in blas_libraries()]
