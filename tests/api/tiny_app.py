"""An app factory for subprocess servers in the tests: the real `create_app` with the tiny manager on
the Redis named by CRS_REDIS_URL, and an `X-Worker-Pid` header telling which worker process answered.

    uvicorn tests.api.tiny_app:create_tiny_app --factory --workers 2
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response

from api.main import create_app
from dialogue.store import StateStore
from tests.api.synthetic import tiny_manager


def create_tiny_app() -> FastAPI:
    app = create_app(manager_factory=lambda: tiny_manager(StateStore.from_settings()))

    @app.middleware("http")
    async def worker_pid(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return app
