"""`connect(settings)`: the redis-py client of the state store, with timeouts and bounded retries.

With `settings.redis_url` set, the client connects there: redis://, rediss:// or unix:// for one server,
redis+cluster:// or rediss+cluster:// for a Redis Cluster (see `connect`); unset, an embedded Redis server
is started on <artifacts_dir>/redis (see `dialogue.store.embedded`).
Redis errors that mean "the store cannot be reached right now" become `StoreUnavailableError`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import RedisCluster
from redis.exceptions import (
    ClusterDownError,
    ReadOnlyError,
    RedisClusterException,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.retry import Retry

from dialogue.store.embedded import embedded_server
from recsys.errors import StoreUnavailableError
from recsys.settings import Settings, get_settings

SOCKET_TIMEOUT = 2.0  # seconds a command may take before it fails
CONNECT_TIMEOUT = 1.0  # seconds to establish a connection
RETRIES = 2  # retries of a command after a connection error or timeout (jittered, <= 0.2 s apart)

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}  # URL scheme -> node scheme

# A client of one server or of a cluster: both take the same commands, scripts and pipelines here.
RedisClient = redis.Redis | RedisCluster

# Server replies that mean the server is not able to serve right now (not a bug in the request).
_UNAVAILABLE_REPLIES = ("LOADING", "MISCONF", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN")
# The same, as redis-py parses them (the reply's prefix is then no longer part of the message).
_UNAVAILABLE_ERRORS = (ClusterDownError, TryAgainError, ReadOnlyError, SlotNotCoveredError)
# Cluster client failures that mean "no node can serve now" (others, like a cross-slot call, are bugs).
_CLUSTER_UNREACHABLE = ("Redis Cluster cannot be connected", "All slots are not covered")


def redacted(url: str) -> str:
    """`url` without its password, for messages and logs: redis://:secret@host -> redis://:***@host."""
    return re.sub(r"(?<=://)([^/@]*?):[^/@]*@", r"\1:***@", url)


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
) -> RedisClient:
    """A client for the configured Redis, or for the embedded server when `redis_url` is unset.

    `redis_url` (CRS_REDIS_URL) picks the deployment:
    - `redis://[:password@]host:port/db`, `rediss://...` (TLS), `unix:///path/redis.sock`: one server
      (`redis.Redis`). The connection is lazy: the first command reports an unreachable server.
    - `redis+cluster://[:password@]host:port` or `rediss+cluster://...`: a Redis Cluster (redis-py's
      `RedisCluster`); host:port is any one node (a seed), the client discovers the others and follows
      slot moves. Every multi-key operation of the store touches the keys of one session or one user,
      which share a hash tag (`dialogue.store.keys`), so it stays in one slot. The client reads the
      cluster's slot map here: an unreachable cluster raises StoreUnavailableError at once.
    Unset: the embedded server is started here, and a failure to start raises StoreUnavailableError.
    """
    settings = settings or get_settings()
    url = settings.redis_url
    if url and url.partition("://")[0].lower() in CLUSTER_SCHEMES:
        return connect_cluster(
            url, socket_timeout=socket_timeout, connect_timeout=connect_timeout, retries=retries
        )
    options = client_options(socket_timeout, connect_timeout, retries)
    if url:
        try:
            return redis.Redis.from_url(url, **options)
        except ValueError as exc:
            raise StoreUnavailableError(f"bad redis_url {redacted(url)!r}: {exc}") from exc
    return embedded_server(settings.artifacts_dir / "redis").client(**options)


def connect_cluster(
    url: str,
    *,
    socket_timeout: float = SOCKET_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
    retries: int = RETRIES,
) -> RedisCluster:
    """A `RedisCluster` client for a `redis+cluster://` / `rediss+cluster://` URL (see `connect`)."""
    scheme, _, rest = url.partition("://")
    node_url = f"{CLUSTER_SCHEMES[scheme.lower()]}://{rest}"
    try:
        return RedisCluster.from_url(
            node_url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), retries),
        )
    except ValueError as exc:
        raise StoreUnavailableError(f"bad redis_url {redacted(url)!r}: {exc}") from exc
    except (redis.ConnectionError, redis.TimeoutError, RedisClusterException) as exc:
        raise StoreUnavailableError(f"Redis Cluster at {redacted(url)!r} unavailable: {exc}") from exc


@contextlib.contextmanager
def unavailable_as_error(what: str) -> Iterator[None]:
    """Turn "Redis cannot serve now" errors raised inside into StoreUnavailableError."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError, *_UNAVAILABLE_ERRORS) as exc:
        raise StoreUnavailableError(f"state store unavailable ({what}): {exc}") from exc
    except redis.ResponseError as exc:
        if str(exc).startswith(_UNAVAILABLE_REPLIES):
            raise StoreUnavailableError(f"state store unavailable ({what}): {exc}") from exc
        raise
    except RedisClusterException as exc:
        if str(exc).startswith(_CLUSTER_UNREACHABLE):
            raise StoreUnavailableError(f"state store unavailable ({what}): {exc}") from exc
        raise
