"""A bare app factory for serving tests: `GET /pid` answers which worker process holds the connection.

python -m api.serving --app tests.api.pid_app:create_pid_app --workers 2
"""

from __future__ import annotations

import os

from fastapi import FastAPI


def create_pid_app() -> FastAPI:
    app = FastAPI()

    @app.get("/pid")
    def pid() -> dict[str, int]:
        return {"pid": os.getpid()}

    return app
