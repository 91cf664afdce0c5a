"""API keys and rate limits.

Keys: clients send `Authorization: Bearer <key>`; the server knows only SHA-256 digests of the keys
(`CRS_API_KEYS`), compared in constant time. With no digest configured the API is open (a local demo).

Rate limits: a sliding-window counter per client (the key's digest prefix, or the client IP when the API is
open), kept in Redis so that every worker process shares it. One Lua script per request reads the
client's hash (window number, count in it, count in the previous one), rolls the window on Redis' own
clock, estimates the requests of the last `window` seconds as `previous * (1 - elapsed / window) + current`,
and either counts the request or refuses it with the time after which one more request fits (429 +
Retry-After). If Redis cannot be reached, requests are let through (logged, counted in the metrics):
the limiter protects the service, it must not take it down.
"""

from __future__ import annotations

import hmac
import logging
import math
from dataclasses import dataclass

import redis

from recsys.settings import Settings, hash_api_key

log = logging.getLogger(__name__)

RATE_KEY_PREFIX = "crs:ratelimit:"

# KEYS[1] = the client's hash; ARGV = limit, window (ms).
# Returns {allowed (0/1), remaining, retry_after_ms}.
_SLIDING_WINDOW = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local w = math.floor(now / window)
local elapsed = now - w * window
local stored = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local sw = tonumber(stored[1])
local c = tonumber(stored[2]) or 0
local p = tonumber(stored[3]) or 0
if sw == nil then
  c, p = 0, 0
elseif sw == w - 1 then
  p, c = c, 0
elseif sw ~= w then
  c, p = 0, 0
end
local estimate = p * (1 - elapsed / window) + c
if estimate + 1 > limit then
  local retry
  if c + 1 > limit then
    retry = (window - elapsed) + math.max(0, window * (1 - (limit - 1) / math.max(c, 1)))
  else
    retry = window * (1 - (limit - 1 - c) / p) - elapsed
  end
  redis.call('HSET', KEYS[1], 'w', w, 'c', c, 'p', p)
  redis.call('PEXPIRE', KEYS[1], 2 * window)
  return {0, 0, math.max(1, math.ceil(retry))}
end
c = c + 1
redis.call('HSET', KEYS[1], 'w', w, 'c', c, 'p', p)
redis.call('PEXPIRE', KEYS[1], 2 * window)
return {1, math.floor(limit - estimate - 1), 0}
"""


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key (by a prefix of its digest) or, on an open API, a client address."""

    kind: str  # "key" or "ip"
    id: str

    @property
    def rate_key(self) -> str:
        return f"{RATE_KEY_PREFIX}{self.kind}:{self.id}"


@dataclass(frozen=True)
class RateDecision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: int  # 0 when allowed
    store_error: bool = False  # Redis could not be asked: let through unchecked

    def headers(self) -> dict[str, str]:
        out = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(max(self.remaining, 0))}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after_seconds)
        return out


class AuthError(Exception):
    """A missing or unknown API key (the caller turns it into 401)."""


def authenticate(authorization: str | None, client_host: str | None, settings: Settings) -> Principal:
    """The caller's identity; raises AuthError when a key is required and not a known one."""
    if not settings.auth_required:
        return Principal("ip", client_host or "unknown")
    if not authorization:
        raise AuthError("missing API key: send 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("malformed Authorization header: expected 'Bearer <key>'")
    digest = hash_api_key(token)
    # compare against every configured digest (constant time each; no early exit on a match)
    matched = False
    for known in settings.api_keys:
        matched |= hmac.compare_digest(digest, known)
    if not matched:
        raise AuthError("unknown API key")
    return Principal("key", digest[:16])


class RateLimiter:
    """Sliding-window request counter per principal in Redis (see the module docstring)."""

    def __init__(self, client: redis.Redis, *, limit: int, window_seconds: int) -> None:
        self.client = client
        self.limit = limit
        self.window_ms = window_seconds * 1000
        self._script = client.register_script(_SLIDING_WINDOW)
        self.failures = 0  # Redis errors met (the request was let through)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def check(self, principal: Principal) -> RateDecision:
        """Count one request of `principal`, or refuse it; lets it through when Redis is unreachable."""
        if not self.enabled:
            return RateDecision(True, 0, 0, 0)
        try:
            allowed, remaining, retry_ms = self._script(
                keys=[principal.rate_key], args=[self.limit, self.window_ms]
            )
        except redis.RedisError as exc:
            self.failures += 1
            log.warning("rate limiter: Redis unavailable (%s); letting the request through", exc)
            return RateDecision(True, self.limit, self.limit, 0, store_error=True)
        retry = math.ceil(int(retry_ms) / 1000) if not allowed else 0
        return RateDecision(bool(allowed), self.limit, int(remaining), max(retry, 1) if not allowed else 0)
