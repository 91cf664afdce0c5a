"""Idempotency records in Redis: what a request sent with an `Idempotency-Key` did, so a retry returns the
first result instead of applying the change again.

The records of a session live in one hash, `crs:{s:<sid>}:idem` (the session's hash tag, so its slot),
one field per (caller, key): sha256(<scope>, <key>). A record is JSON:

    {"state": "pending", "fp": <request fingerprint>, "log": <session log length before>, "at": <time>}
    {"state": "done", "fp": ..., "status": <HTTP status>, "body": <response JSON>, "at": ...}

Records are written while the session's lock is held (`dialogue.store.locks`), so at most one request of a
session runs at a time and a "pending" record found under the lock belongs to an attempt that was cut off
(its process died, or Redis failed mid-request). The length of the session's event log tells whether that
attempt changed anything: unchanged -> it is safe to run the request again; changed -> its outcome is
unknown and running it again could apply it twice, so the caller refuses (IdempotencyInterruptedError).
The hash expires `ttl_seconds` after its last write (the API uses the session's inactivity TTL): a retry
is answered from the record for as long as the session lives. Ending the session over the API deletes
it (`forget_session`), and `StateStore.delete_user` erases it with the user's sessions.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import redis

from dialogue.store.connection import unavailable_as_error
from dialogue.store.keys import Keys, check_session_id
from recsys.errors import ConflictError, ValidationError

MAX_KEY_CHARS = 255


class IdempotencyKeyReusedError(ValidationError):
    """The key was already used for a different request (another body or endpoint)."""


class IdempotencyInterruptedError(ConflictError):
    """A previous attempt with this key was cut off after it had changed the session: outcome unknown."""


def check_idempotency_key(key: str) -> str:
    """`key` if usable: 1-255 visible ASCII characters (a UUID is the usual choice)."""
    if not 1 <= len(key) <= MAX_KEY_CHARS or not all(33 <= ord(c) <= 126 for c in key):
        raise ValidationError(
            f"Idempotency-Key must be 1-{MAX_KEY_CHARS} visible ASCII characters (e.g. a UUID), "
            f"got {len(key)} characters"
        )
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of what a request asks for (method, path, canonical JSON body)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyRecord:
    """A stored record (see the module docstring)."""

    state: Literal["pending", "done"]
    fp: str
    log: int = 0
    status: int = 0
    body: Any = None
    at: float = 0.0

    @classmethod
    def from_json(cls, raw: bytes | str) -> IdempotencyRecord:
        data = json.loads(raw)
        return cls(**{k: data[k] for k in ("state", "fp", "log", "status", "body", "at") if k in data})

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class RecordRef:
    """Where one record lives: the session's hash and the field of (caller, key)."""

    hash: str
    field: str


class IdempotencyStore:
    """Reads and writes idempotency records (see the module docstring)."""

    def __init__(self, client: redis.Redis, keys: Keys | None = None, *, ttl_seconds: float = 3600) -> None:
        if ttl_seconds <= 0:
            raise ValidationError(f"ttl_seconds must be > 0, got {ttl_seconds}")
        self.client = client
        self.keys = keys or Keys()
        self.ttl_ms = max(1, round(ttl_seconds * 1000))

    def ref(self, session_id: str, scope: str, idempotency_key: str) -> RecordRef:
        """The record of `idempotency_key` sent by `scope` (an API key's digest prefix, or an address)."""
        check_session_id(session_id)
        digest = hashlib.sha256(f"{scope}\n{idempotency_key}".encode()).hexdigest()[:40]
        return RecordRef(self.keys.session(session_id, "idem"), digest)

    def get(self, ref: RecordRef) -> IdempotencyRecord | None:
        with unavailable_as_error("read idempotency record"):
            raw = self.client.hget(ref.hash, ref.field)
        return IdempotencyRecord.from_json(raw) if raw else None

    def begin(self, ref: RecordRef, fp: str, log_length: int) -> None:
        """Mark the request as running (call while holding the session's lock)."""
        self._put(ref, IdempotencyRecord("pending", fp, log=log_length, at=time.time()))

    def complete(self, ref: RecordRef, fp: str, status: int, body: Any) -> None:
        """Store the response of a request that ran to its end."""
        self._put(ref, IdempotencyRecord("done", fp, status=status, body=body, at=time.time()))

    def forget(self, ref: RecordRef) -> None:
        """Drop the record of a request that changed nothing (a retry runs it afresh)."""
        with unavailable_as_error("delete idempotency record"):
            self.client.hdel(ref.hash, ref.field)

    def forget_session(self, session_id: str) -> None:
        """Drop every record of a session (it was deleted)."""
        with unavailable_as_error("delete idempotency records"):
            self.client.delete(self.keys.session(check_session_id(session_id), "idem"))

    def log_length(self, session_id: str) -> int:
        """Number of events in the session's log (0 when it does not exist)."""
        with unavailable_as_error("read session length"):
            return int(self.client.llen(self.keys.session(check_session_id(session_id), "events")))

    def _put(self, ref: RecordRef, record: IdempotencyRecord) -> None:
        with unavailable_as_error("write idempotency record"), self.client.pipeline(transaction=True) as pipe:
            pipe.hset(ref.hash, ref.field, record.to_json())
            pipe.pexpire(ref.hash, self.ttl_ms)
            pipe.execute()
