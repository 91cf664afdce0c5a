"""The FastAPI application: `create_app()` wires settings, middleware, error handlers, routes and the chat
page. Serve it with `crs serve`, or `uvicorn api.main:create_app --factory --workers N`.

Every worker process holds its own dialogue manager (models in memory) and talks to the same Redis;
sessions, profiles and rate-limit counters live only there, so any worker can serve any request and a
restart loses nothing.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.deps import DialogueService, ManagerHolder, get_manager
from api.errors import install_error_handlers
from api.lifecycle import DRAIN_SECONDS, InFlight
from api.middleware import BodySizeLimitMiddleware, RequestMiddleware
from api.routes import health, items, recommendations, sessions, users
from recsys.artifacts import package_version
from recsys.settings import Settings, get_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """\
A conversational movie recommender. Start a session, send messages, get recommendations with
explanations, give feedback; user profiles persist across sessions.

**Keys.** When the server has API keys configured, send `Authorization: Bearer <key>` with every `/v1`
request (401 otherwise). **Limits.** Requests are rate-limited per key (per client address on an open
server): 429 with `Retry-After`. **Errors** all have the body `{"error": {"code", "message", ...}}`.
"""

TAGS = [
    {
        "name": "sessions",
        "description": "Conversations: messages (also streamed as Server-Sent Events), feedback.",
    },
    {"name": "users", "description": "Long-term user profiles: the language profile and typed preferences."},
    {"name": "items", "description": "The movie catalog: title search and item details."},
    {"name": "recommendations", "description": "Stateless recommendations from seed items or a profile."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics."},
]


def default_manager_factory(settings: Settings) -> Callable[[], DialogueService]:
    """Builds the manager from the trained artifacts (imported lazily: the models are heavy)."""

    def build() -> DialogueService:
        from dialogue.system import build_manager

        manager = build_manager(settings)
        warm_walks(manager, settings)
        runtime = getattr(manager.explainer, "runtime", None)
        if runtime is not None:  # the language model loads in the background; turns use templates meanwhile
            runtime.start_loading()
        # The loaded models, catalog and indexes are ~0.5 M long-lived objects that every full garbage
        # collection would walk again: ~350 ms with the GIL held, a stall of every request of the worker.
        # Frozen, they are skipped (full collections of the rest take ~0 ms).
        gc.collect()
        gc.freeze()
        return manager

    return build


def warm_walks(manager: DialogueService, settings: Settings) -> int:
    """Compute the PageRank walks of the most popular items (and of every genre and decade) before
    serving, so that a turn naming them mixes cached walks instead of walking (~3.7 ms each; 300 items
    take ~1 s of CPU per worker). Returns the number of walks computed."""
    generators = getattr(getattr(manager, "recommender", None), "generators", {})
    ppr = generators.get("ppr") if isinstance(generators, dict) else None
    if ppr is None or not hasattr(ppr, "warm_seed_cache"):
        return 0
    return int(ppr.warm_seed_cache(n_popular=settings.ppr_warm_seeds))


def create_app(
    settings: Settings | None = None,
    *,
    manager: DialogueService | None = None,
    manager_factory: Callable[[], DialogueService] | None = None,
) -> FastAPI:
    """The application. `manager` (tests) skips building one; otherwise `manager_factory` (default: the
    dialogue system's `build_manager(settings)`) runs once, in the background at start-up when
    `api_warm_up` is on, else on the first request that needs it."""
    settings = settings or get_settings()
    holder = ManagerHolder(manager_factory or default_manager_factory(settings))
    holder.manager = manager

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        overridden = get_manager in app.dependency_overrides
        # the blocking routes (sync `def`: turns, feedback, reads) run on this many threads per worker
        to_thread.current_default_thread_limiter().total_tokens = settings.blocking_threads
        if settings.api_warm_up and holder.manager is None and not overridden:
            holder.warm_up_in_background()
        yield
        # uvicorn has stopped accepting and waited for open requests; turns still running in worker
        # threads (a cancelled request's included) finish before the store is closed under them
        in_flight: InFlight = app.state.in_flight
        drain_seconds = getattr(app.state, "shutdown_drain_seconds", DRAIN_SECONDS)
        # the drain waits on its own thread: the routes' threads may all be busy with the turns it waits for
        drain = functools.partial(to_thread.run_sync, limiter=anyio.CapacityLimiter(1))
        if not await drain(in_flight.drain, drain_seconds):
            # still running: make the language-model calls they wait for fall back to templates now
            runtime = sys.modules.get("dialogue.llm.runtime")
            if runtime is not None:
                runtime.reset_runtime()
            await drain(in_flight.drain, 5.0)
        built = holder.manager
        store = getattr(built, "store", None)
        if built is not None and manager is None and store is not None:
            store.close()

    app = FastAPI(
        title="crs - conversational recommender API",
        version=package_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.manager_holder = holder
    app.state.rate_limiters = {}
    app.state.item_searches = {}
    app.state.write_stores = {}
    app.state.in_flight = InFlight()

    install_error_handlers(app)
    # added innermost first. One outermost layer gives every request its id, its latency metric and (without
    # CORS) the body limit; with CORS, the body limit sits inside it, so a browser can read the 413.
    if settings.cors_origins:
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "X-Request-ID"],
        )
        app.add_middleware(RequestMiddleware)
    else:
        app.add_middleware(RequestMiddleware, max_bytes=settings.max_body_bytes)

    for module in (sessions, users, items, recommendations, health):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    return app
