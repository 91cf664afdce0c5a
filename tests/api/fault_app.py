"""An app factory for the fault, shutdown and concurrency tests: the real `create_app` over the tiny
manager (on the Redis of CRS_REDIS_URL), an `X-Worker-Pid` header, and test-only knobs from the
environment:

    CRS_TEST_BOT_APPEND_DELAY_SECONDS  sleep before a turn's append (the turn computed, nothing written
                                       yet): the window a shutdown must not cut
    CRS_TEST_LOCK_LEASE_SECONDS        lease of the session locks (a killed worker's lock frees sooner)
    CRS_TEST_DRAIN_SECONDS             how long the shutdown waits for running session writes

    uvicorn tests.api.fault_app:create_fault_app --factory --workers 2
    uvicorn tests.api.fault_app:create_real_app --factory --workers 2   (the trained models)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from fastapi import FastAPI, Request, Response

from api.main import create_app
from dialogue.manager import DialogueManager
from dialogue.state.events import BotUttered, Event
from dialogue.store import StateStore
from tests.api.synthetic import tiny_manager


def slow_bot_appends(store: StateStore, delay: float) -> None:
    """Make the store sleep `delay` s before appending a turn's bot reply."""
    append = store.append_events

    def slow_append(session_id: str, events: Iterable[Event]) -> int:
        batch = list(events)
        if any(isinstance(e, BotUttered) and e.turn > 0 for e in batch):
            time.sleep(delay)
        return append(session_id, batch)

    store.append_events = slow_append  # type: ignore[method-assign]


def build_manager() -> DialogueManager:
    store = StateStore.from_settings()
    delay = float(os.environ.get("CRS_TEST_BOT_APPEND_DELAY_SECONDS", "0"))
    if delay > 0:
        slow_bot_appends(store, delay)
    return tiny_manager(store)


def with_worker_pid(app: FastAPI) -> FastAPI:
    """Add the `X-Worker-Pid` response header (which worker process answered)."""

    @app.middleware("http")
    async def worker_pid(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return app


def create_fault_app() -> FastAPI:
    """The tiny manager with the knobs above."""
    app = create_app(manager_factory=build_manager)
    lease = os.environ.get("CRS_TEST_LOCK_LEASE_SECONDS")
    if lease:
        app.state.session_lock_lease_seconds = float(lease)
    drain = os.environ.get("CRS_TEST_DRAIN_SECONDS")
    if drain:
        app.state.shutdown_drain_seconds = float(drain)
    return with_worker_pid(app)


def create_real_app() -> FastAPI:
    """`api.main.create_app()` as `crs serve` builds it (the trained models of the settings), plus the
    worker header (for the soak run's real-catalog mode)."""
    return with_worker_pid(create_app())
