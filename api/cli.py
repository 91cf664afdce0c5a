"""`crs serve`: train (or load) whatever the dialogue needs, then serve the REST API with uvicorn.

Training happens once, in this process, before any worker starts (`dialogue.system.train_models`: a
stored model set with the same inputs is loaded, not retrained); each worker then loads the stored
models. With several workers, the Prometheus samples of all of them are aggregated through a temporary
PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from types import FrameType
from typing import Annotated

import typer

GRACEFUL_SECONDS = 30.0  # uvicorn's grace period for open requests after SIGTERM


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (they share Redis).")] = 1,
    train: Annotated[bool, typer.Option(help="Train / load the models before serving.")] = True,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log a line per request (costs CPU under load).")] = True,
) -> None:
    """Serve the REST API and the chat page (http://HOST:PORT/, API docs at /docs)."""
    from recsys.settings import get_settings

    settings = get_settings()
    if train:
        from dialogue.system import train_models

        trained = train_models(settings, progress=True)
        what = "trained" if trained.built else "loaded"
        typer.echo(
            f"models {what} in {trained.seconds:.1f} s: {len(trained.catalog)} items, "
            f"{trained.train_data.n_users} users ({trained.path})",
            err=True,
        )
    typer.echo(f"serving on http://{host}:{port}/ with {workers} worker(s)", err=True)
    run_server(host=host, port=port, workers=workers, log_level=log_level, access_log=access_log)


def run_server(
    app: str = "api.main:create_app",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    graceful_seconds: float = GRACEFUL_SECONDS,
    keep_alive_seconds: int = 5,
    access_log: bool = True,
) -> None:
    """Serve the app factory `app` ("module:function") with uvicorn until SIGTERM / SIGINT.

    SIGTERM is a graceful shutdown: no new connections, open requests finish (up to `graceful_seconds`;
    a turn's language-model calls time out at 20 s and fall back to templates), then the app drains the
    session writes still running (`api.lifecycle`) and closes the store; the process then exits with 0.
    """
    from api.serving import run

    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="crs-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # uvicorn re-raises the SIGTERM it handled once it has shut down, to die of it; this handler (which
    # uvicorn restores before re-raising) turns that into a clean exit with status 0 instead
    previous = signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        run(  # uvicorn.run, with TCP_NODELAY on the socket shared by several workers (api.serving)
            app,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            timeout_graceful_shutdown=graceful_seconds,
            timeout_keep_alive=keep_alive_seconds,
            access_log=access_log,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
        if metrics_dir is not None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
