"""`connect(settings)`: the redis-py client of the state store, with timeouts and bounded retries.

With `settings.redis_url` set, the client connects there (redis://, rediss:// or unix:// URLs); unset, an
embedded Redis server is started on <artifacts_dir>/redis (see `dialogue.store.embedded`).
Redis errors that mean "the store cannot be reached right now" become `StoreUnavailableError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from dialogue.store.embedded import embedded_server
from recsys.errors import StoreUnavailableError
from recsys.settings import Settings, get_settings

SOCKET_TIMEOUT = 2.0  # seconds a command may take before it fails
CONNECT_TIMEOUT = 1.0  # seconds to establish a connection
RETRIES = 2  # retries of a command after a connection error or timeout (jittered, <= 0.2 s apart)

# Server replies that mean the server is not able to serve right now (not a bug in the request).
_UNAVAILABLE_REPLIES = ("LOADING", "MISCONF", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN")


def client_options(
    socket_timeout: float = SOCKET_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT, retries: int = RETRIES
) -> dict[str, Any]:
    """Keyword arguments for redis.Redis: timeouts, bounded retries, periodic health checks."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), retries),
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        "health_check_interval": 30,
    }


def connect(
    settings: Settings | None = None,
    *,
    socket_timeout: float = SOCKET_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
    retries: int = RETRIES,
) -> redis.Redis:
    """A client for the configured Redis, or for the embedded server when `redis_url` is unset.

    The connection is lazy for a URL (the first command reports an unreachable server); the embedded
    server is started here, and a failure to start raises StoreUnavailableError.
    """
    settings = settings or get_settings()
    options = client_options(socket_timeout, connect_timeout, retries)
    if settings.redis_url:
        try:
            return redis.Redis.from_url(settings.redis_url, **options)
        except ValueError as exc:
            raise StoreUnavailableError(f"bad redis_url {settings.redis_url!r}: {exc}") from exc
    return embedded_server(settings.artifacts_dir / "redis").client(**options)


@contextlib.contextmanager
def unavailable_as_error(what: str) -> Iterator[None]:
    """Turn "Redis cannot serve now" errors raised inside into StoreUnavailableError."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise StoreUnavailableError(f"state store unavailable ({what}): {exc}") from exc
    except redis.ResponseError as exc:
        if str(exc).startswith(_UNAVAILABLE_REPLIES):
            raise StoreUnavailableError(f"state store unavailable ({what}): {exc}") from exc
        raise
