"""FastAPI dependencies, as `Annotated` aliases for route signatures.

The dialogue manager is built once per process by `ManagerHolder` (in the background at start-up, or on
first use) and reached through `get_manager`; tests replace it with
`app.dependency_overrides[get_manager] = lambda: manager`. Everything per-process the routes need (the
settings, the manager holder, the title search, rate limiters) hangs on `app.state`; sessions and
profiles live only in Redis, so any worker can serve any request.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api import metrics
from api.security import AuthError, Principal, RateDecision, RateLimiter, authenticate
from dialogue.store import StateStore
from recsys.catalog.types import Catalog
from recsys.errors import CRSError, NotFittedError
from recsys.settings import Settings

log = logging.getLogger(__name__)

RETRY_BUILD_AFTER_SECONDS = 30.0


class DialogueService(Protocol):
    """What the API needs from the dialogue manager (`dialogue.manager.DialogueManager`)."""

    catalog: Catalog
    store: StateStore

    def start_session(self, user_id: str | None = None) -> str: ...
    def turn(self, session_id: str, text: str) -> Any: ...
    def feedback(self, session_id: str, item_id: int, kind: str) -> Any: ...
    def get_session(self, session_id: str) -> Any: ...
    def end_session(self, session_id: str) -> Any: ...
    def recommend_for(self, liked: list[int], disliked: list[int], user_id: str | None, k: int) -> Any: ...


class ManagerHolder:
    """Builds the dialogue manager once (thread-safe), remembers a failure for a while, reports status."""

    def __init__(self, factory: Callable[[], DialogueService]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self.manager: DialogueService | None = None
        self.error: str | None = None  # "<ErrorClass>: <message>" of the last failed build (logged)
        self._error_class: str | None = None
        self._failed_at: float | None = None
        self.build_seconds: float | None = None

    @property
    def status(self) -> str:
        if self.manager is not None:
            return "loaded"
        if self._lock.locked():
            return "loading"
        # the class only: messages may name server paths, and /readyz needs no key
        return f"failed: {self._error_class}" if self._error_class else "not_loaded"

    def get(self) -> DialogueService:
        """The manager, building it now if needed; NotFittedError (503) if building failed recently."""
        if self.manager is not None:
            return self.manager
        with self._lock:
            if self.manager is not None:
                return self.manager
            if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_BUILD_AFTER_SECONDS:
                raise NotFittedError(f"the dialogue models could not be loaded: {self.error}")
            start = time.perf_counter()
            try:
                self.manager = self._factory()
            except (CRSError, OSError, ValueError, RuntimeError) as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                self._error_class = type(exc).__name__
                self._failed_at = time.monotonic()
                log.error("building the dialogue manager failed: %s", self.error)
                raise NotFittedError(f"the dialogue models could not be loaded: {self.error}") from exc
            self.build_seconds = time.perf_counter() - start
            self.error = self._error_class = self._failed_at = None
            log.info("dialogue manager ready in %.1f s", self.build_seconds)
            return self.manager

    def warm_up_in_background(self) -> threading.Thread:
        """Start building in a daemon thread (errors are remembered, not raised)."""

        def build() -> None:
            with contextlib.suppress(NotFittedError):
                self.get()

        thread = threading.Thread(target=build, name="crs-manager-warm-up", daemon=True)
        thread.start()
        return thread


# The dependencies below are `async def` on purpose: FastAPI runs a sync dependency on the thread pool, a
# thread hop per dependency per request; these only read per-app objects (no blocking I/O on the event loop),
# and hop to a thread only for what may block (building the manager, asking Redis for a rate decision).
# They read the settings from `app.state` rather than through `SettingsDep`: FastAPI solves a cached
# sub-dependency's own parameters again at every use, so each nesting level costs on every request.


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with (`create_app(settings)`; default `get_settings()`)."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_manager(request: Request) -> DialogueService:
    """The process' dialogue manager (a first build, or a retry after a failure, runs in the thread pool)."""
    holder: ManagerHolder = request.app.state.manager_holder
    manager = holder.manager
    if manager is not None:
        return manager
    return await run_in_threadpool(holder.get)


ManagerDep = Annotated[DialogueService, Depends(get_manager)]


def _principal(request: Request, authorization: str | None, settings: Settings) -> Principal:
    """The caller (401 with `WWW-Authenticate: Bearer` when a key is required and missing or unknown)."""
    try:
        return authenticate(authorization, request.client.host if request.client else None, settings)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


@dataclass(frozen=True)
class Caller:
    """What the guard of the /v1 routes established: who calls, the manager, the app's settings, and the
    rate decision."""

    principal: Principal
    manager: DialogueService
    settings: Settings
    rate: RateDecision


def _limiter(request: Request, manager: DialogueService, settings: Settings) -> RateLimiter:
    """The app's limiter for the manager's Redis client (made once per client)."""
    limiters: dict[int, RateLimiter] = request.app.state.rate_limiters
    client = manager.store.client
    limiter = limiters.get(id(client))
    if limiter is None:
        limiter = limiters[id(client)] = RateLimiter(
            client, limit=settings.rate_limit, window_seconds=settings.rate_limit_window_seconds
        )
    return limiter


async def _manager(request: Request) -> DialogueService:
    """`get_manager`, or its override (`app.dependency_overrides[get_manager]`, a callable without
    arguments: what the tests install) - the guard asks for the manager only once the caller is known."""
    override = request.app.dependency_overrides.get(get_manager)
    if override is None:
        return await get_manager(request)
    found = override()
    return await found if inspect.isawaitable(found) else found


async def guard(request: Request, response: Response) -> Caller:
    """The dependency of every /v1 route: authenticate (401 with `WWW-Authenticate: Bearer`), then count
    the request against the caller's limit (429 + Retry-After when over it). With the limit off
    (CRS_RATE_LIMIT=0) nothing is asked of Redis; with it on, one script call (one round trip) on the
    thread pool. The result is kept for the route: `caller(request)`.

    One dependency rather than a tree of them (principal, manager, settings, limit): FastAPI solves every
    node of the tree on every request - a cached one included - so each costs event-loop CPU per request.
    """
    settings: Settings = request.app.state.settings
    # the header read directly: as a declared (hidden) Header parameter, FastAPI would validate it per request
    authorization = request.headers.get("authorization")
    principal = _principal(request, authorization, settings)  # 401 first: before the manager's 503
    manager = await _manager(request)
    decision = _UNLIMITED
    if settings.rate_limit > 0:
        limiter = _limiter(request, manager, settings)
        decision = await run_in_threadpool(limiter.check, principal)
        if decision.store_error:
            metrics.RATE_LIMITER_ERRORS.inc()
        if not decision.allowed:
            metrics.RATE_LIMITED.inc()
            raise HTTPException(
                429,
                f"rate limit of {decision.limit} requests per {settings.rate_limit_window_seconds} s "
                f"exceeded; retry after {decision.retry_after_seconds} s",
                headers=decision.headers(),
            )
        response.headers.update(decision.headers())
    found = request.scope.setdefault("state", {})["caller"] = Caller(principal, manager, settings, decision)
    return found


def caller(request: Request) -> Caller:
    """What `guard` (the dependency of the router of the route serving `request`) established."""
    return request.scope["state"]["caller"]


_UNLIMITED = RateDecision(True, 0, 0, 0)

# Every /v1 route: authenticated, then rate-limited; the route reads the result with `caller(request)`.
PROTECTED = [Depends(guard)]
