"""Redis key layout of the state store.

All keys start with one prefix (default "crs:"). Every key of one session shares the Redis Cluster hash tag
`{s:<session id>}`, and every key of one user shares `{u:<user id>}`, so each multi-key script or
transaction touches a single slot:

    crs:{s:<sid>}:meta      hash    user_id, created_at, ended            (TTL, refreshed on activity)
    crs:{s:<sid>}:events    list    the session's events as JSON, in order (TTL)
    crs:{s:<sid>}:ids       set     event ids stored, for idempotent appends (TTL)
    crs:{s:<sid>}:turn      string  turn counter (INCR)                   (TTL)
    crs:{s:<sid>}:snapshot  hash    n, schema, state: a cached state covering the first n events (TTL)
    crs:{s:<sid>}:lock      string  token of the request writing the session (dialogue.store.locks; lease)
    crs:{s:<sid>}:idem      hash    idempotency records: responses of requests sent with an Idempotency-Key
                                    (dialogue.store.idempotency; TTL refreshed on write)
    crs:{u:<uid>}:profile   string  the user's profile as JSON (with its version); no TTL
    crs:{u:<uid>}:sessions  zset    the user's session ids scored by creation time; no TTL

Ids are restricted to `[A-Za-z0-9_.@:-]{1,128}` so that no id can break out of its hash tag.
"""

from __future__ import annotations

import re

from recsys.errors import ConfigError, SessionNotFoundError, ValidationError

ID_RE = re.compile(r"^[A-Za-z0-9_.@:-]{1,128}$")
DEFAULT_PREFIX = "crs:"


def _shown(value: object, limit: int = 60) -> str:
    """repr of a rejected id, cut short: an error message never echoes a huge input back."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value))} characters)"


def check_user_id(user_id: str) -> str:
    """`user_id` if it is a valid id, else ValidationError."""
    if not isinstance(user_id, str) or not ID_RE.match(user_id):
        raise ValidationError(f"invalid user id {_shown(user_id)}: use 1-128 characters of [A-Za-z0-9_.@:-]")
    return user_id


def check_session_id(session_id: str) -> str:
    """`session_id` if it is well-formed; a malformed id cannot name a session: SessionNotFoundError."""
    if not isinstance(session_id, str) or not ID_RE.match(session_id):
        raise SessionNotFoundError(f"no session {_shown(session_id)} (malformed session id)")
    return session_id


class Keys:
    """Builds every key of the store under one prefix."""

    SESSION_PARTS = ("meta", "events", "ids", "turn", "snapshot")
    USER_PARTS = ("profile", "sessions")

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix or "{" in prefix or "}" in prefix:
            raise ConfigError(f"invalid Redis key prefix {prefix!r}: non-empty, without braces")
        self.prefix = prefix

    def session(self, session_id: str, part: str) -> str:
        return f"{self.prefix}{{s:{session_id}}}:{part}"

    def session_keys(self, session_id: str) -> list[str]:
        """Every key of one session, in SESSION_PARTS order (the order the Lua scripts expect)."""
        return [self.session(session_id, part) for part in self.SESSION_PARTS]

    def user(self, user_id: str, part: str) -> str:
        return f"{self.prefix}{{u:{user_id}}}:{part}"

    def user_keys(self, user_id: str) -> list[str]:
        return [self.user(user_id, part) for part in self.USER_PARTS]

    def pattern(self) -> str:
        """SCAN pattern matching every key of the store."""
        return (
            self.prefix.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?").replace("[", "\\[")
            + "*"
        )
