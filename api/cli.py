"""`crs serve`: train (or load) whatever the dialogue needs, then serve the REST API with uvicorn.

Training happens once, in this process, before any worker starts (`dialogue.system.train_models`: a
stored model set with the same inputs is loaded, not retrained); each worker then loads the stored
models. With several workers, the Prometheus samples of all of them are aggregated through a temporary
PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (they share Redis).")] = 1,
    train: Annotated[bool, typer.Option(help="Train / load the models before serving.")] = True,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the REST API and the chat page (http://HOST:PORT/, API docs at /docs)."""
    import uvicorn

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
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="crs-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    typer.echo(f"serving on http://{host}:{port}/ with {workers} worker(s)", err=True)
    try:
        uvicorn.run(
            "api.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            timeout_graceful_shutdown=10,
        )
    finally:
        if metrics_dir is not None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
