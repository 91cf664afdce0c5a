"""Errors as HTTP responses: one body shape for every failure, never a stack trace.

Body: `{"error": {"code": "...", "message": "...", "request_id": "...", "details": [...]}}`.

`crs_error_handler` is the one handler of the project's exception tree (`recsys.errors`); the class of
the error picks the status (most specific class first, following the MRO):

    NotFoundError 404 · ValidationError 422 (IdempotencyKeyReusedError: code idempotency_key_reused) ·
    DataError 422 · ConflictError 409 (SessionBusyError: session_busy + Retry-After;
    IdempotencyInterruptedError: idempotency_interrupted) · StoreUnavailableError 503 + Retry-After ·
    NotFittedError 503 · DownloadError 502 · any other 500

A Redis connection error or timeout that escaped the store's own translation is a 503 too (never a 500).

Framework errors get the same body: request validation (422, naming each bad field), HTTP errors raised
by the framework or the middleware (401, 404, 405, 413, 429, ...), and anything unexpected (500, logged
with its traceback on the server, the body carries only the request id).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from dialogue.store.idempotency import IdempotencyInterruptedError, IdempotencyKeyReusedError
from dialogue.store.locks import SessionBusyError
from recsys.errors import (
    ConflictError,
    CRSError,
    DataError,
    DownloadError,
    NotFittedError,
    NotFoundError,
    StoreUnavailableError,
    ValidationError,
)

log = logging.getLogger(__name__)

STORE_RETRY_AFTER_SECONDS = 5
NOT_FITTED_RETRY_AFTER_SECONDS = 30

# error class -> (status, code); looked up along the raised error's MRO, so subclasses inherit.
STATUS_BY_ERROR: dict[type[CRSError], tuple[int, str]] = {
    IdempotencyKeyReusedError: (422, "idempotency_key_reused"),
    SessionBusyError: (409, "session_busy"),
    IdempotencyInterruptedError: (409, "idempotency_interrupted"),
    NotFoundError: (404, "not_found"),
    ValidationError: (422, "invalid_request"),
    DataError: (422, "invalid_data"),
    ConflictError: (409, "conflict"),
    StoreUnavailableError: (503, "store_unavailable"),
    NotFittedError: (503, "not_ready"),
    DownloadError: (502, "upstream_failed"),
}
_PUBLIC_5XX_MESSAGES = {
    "store_unavailable": "the state store is unavailable right now; retry later",
    "not_ready": "the recommender models are not loaded yet; retry later",
    "upstream_failed": "an upstream download failed",
    "internal_error": "internal server error",
}
_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


def status_for(exc: CRSError) -> tuple[int, str]:
    """(HTTP status, error code) of a project error: the entry of its most specific mapped class."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500, "internal_error"


def error_body(
    code: str, message: str, request: Request | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON body of an error response."""
    error: dict[str, Any] = {"code": code, "message": message}
    request_id = getattr(request.state, "request_id", None) if request is not None else None
    if request_id:
        error["request_id"] = request_id
    if details:
        error["details"] = details
    return {"error": error}


async def crs_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The one mapping of `recsys.errors` classes to HTTP responses (see the module docstring)."""
    assert isinstance(exc, CRSError)
    status, code = status_for(exc)
    headers: dict[str, str] = {}
    if status >= 500:
        if status == 500:
            log.error("request %s failed: %s", request.url.path, exc, exc_info=exc)
        else:
            log.warning("request %s: %s: %s", request.url.path, code, exc)
        message = _PUBLIC_5XX_MESSAGES.get(code, _PUBLIC_5XX_MESSAGES["internal_error"])
        if isinstance(exc, StoreUnavailableError):
            headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
        elif isinstance(exc, NotFittedError):
            headers["Retry-After"] = str(NOT_FITTED_RETRY_AFTER_SECONDS)
    else:
        message = str(exc) or code.replace("_", " ")
        if isinstance(exc, SessionBusyError):
            headers["Retry-After"] = str(SessionBusyError.retry_after_seconds)
    return JSONResponse(error_body(code, message, request), status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    if not loc:
        return "request"
    return ".".join(parts) or str(loc[0])


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 naming every bad field (malformed JSON included), without echoing huge inputs back."""
    assert isinstance(exc, RequestValidationError)
    details = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            msg = f"malformed JSON: {err.get('ctx', {}).get('error', err.get('msg', 'cannot parse'))}"
        else:
            msg = str(err.get("msg", "invalid value"))
        details.append({"field": _field_name(loc), "location": str(loc[0]) if loc else "", "message": msg})
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5]) or "invalid request"
    return JSONResponse(error_body("invalid_request", summary, request, details), status_code=422)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Framework / middleware HTTP errors (401, 404, 405, 413, 429, ...) in the common body shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError | ValueError | RecursionError):
        # FastAPI's "error parsing the body" (e.g. bytes that are not UTF-8): malformed JSON, like the rest
        if isinstance(exc.__cause__, RecursionError):
            message = "malformed JSON: nested too deeply"
        else:
            message = f"malformed JSON: the body cannot be decoded ({type(exc.__cause__).__name__})"
        return JSONResponse(error_body("invalid_request", message, request), status_code=422)
    code = _CODES_BY_STATUS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return JSONResponse(error_body(code, message, request), status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette names only the first matching route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Anything not anticipated: 500 with the request id only; the traceback goes to the server log."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # this handler runs outside every middleware (Starlette's ServerErrorMiddleware): echo the id here
    request_id = getattr(request.state, "request_id", None)
    return JSONResponse(
        error_body("internal_error", _PUBLIC_5XX_MESSAGES["internal_error"], request),
        status_code=500,
        headers={"X-Request-ID": request_id} if request_id else None,
    )


async def redis_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A Redis connection error or timeout not translated by the store: 503 + Retry-After, like
    StoreUnavailableError."""
    log.warning("request %s: Redis unavailable: %s", request.url.path, exc)
    return JSONResponse(
        error_body("store_unavailable", _PUBLIC_5XX_MESSAGES["store_unavailable"], request),
        status_code=503,
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on `app`."""
    app.add_exception_handler(CRSError, crs_error_handler)
    app.add_exception_handler(redis.ConnectionError, redis_error_handler)
    app.add_exception_handler(redis.TimeoutError, redis_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
