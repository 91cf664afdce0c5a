"""The bare FastAPI application of the load benchmark (`scripts/bench_api.py`, phase `bare_app`): one JSON
route and nothing else (no middleware, no dependencies), served exactly like the API (`api.serving`, same
workers and socket options). The framework's own ceiling on this machine, for the ratio the issue asks for.
"""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"status": "ok"}

    return app
