"""Session writes over HTTP: one at a time per session, idempotent when the client sends a key, and
counted for graceful shutdown.

`run_session_write` wraps what a write route does (a turn, a feedback, ending a session):

1. without `Idempotency-Key`: take the session's lock (`dialogue.store.locks`), run, release;
2. with a key: a stored result of the same request is returned as it was (same status and body, header
   `Idempotent-Replayed: true`) without running anything; the same key with another body or endpoint is
   refused (422 `idempotency_key_reused`). Otherwise the lock is taken - a duplicate sent while the first
   runs waits here for it (bounded: 409 `session_busy` + Retry-After) and then replays its result - the
   request is marked pending, runs, and its response is stored (`dialogue.store.idempotency`).
   A request that fails without changing the session leaves no record (a retry runs it again); one cut
   off after changing it leaves its pending mark, and retries get 409 `idempotency_interrupted` rather
   than a second application.

Keys are scoped per caller (API key, or client address on an open API) and per session.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from api.deps import DialogueService
from api.lifecycle import InFlight
from api.security import Principal
from dialogue.store.idempotency import (
    IdempotencyInterruptedError,
    IdempotencyKeyReusedError,
    IdempotencyRecord,
    IdempotencyStore,
    check_idempotency_key,
    fingerprint,
)
from dialogue.store.locks import LEASE_SECONDS, WAIT_SECONDS, SessionLocks
from recsys.errors import StoreUnavailableError

log = logging.getLogger(__name__)

REPLAY_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class WriteResult:
    """What a write route answers: its status and JSON body, and whether it is a stored replay."""

    status: int
    body: Any
    replayed: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {REPLAY_HEADER: "true"} if self.replayed else {}


@dataclass(frozen=True)
class WriteStores:
    locks: SessionLocks
    idempotency: IdempotencyStore


def write_stores(request: Request, manager: DialogueService) -> WriteStores:
    """The app's lock and idempotency stores for the manager's Redis client (made once per client).

    Tunables (on `app.state`, set by tests): `session_lock_wait_seconds`, `session_lock_lease_seconds`.
    """
    state = request.app.state
    cache: dict[int, WriteStores] = state.write_stores
    store = manager.store
    found = cache.get(id(store.client))
    if found is None:
        locks = SessionLocks(
            store.client,
            store.keys,
            lease_seconds=getattr(state, "session_lock_lease_seconds", LEASE_SECONDS),
            wait_seconds=getattr(state, "session_lock_wait_seconds", WAIT_SECONDS),
            preloader=store,  # the lock's script also loads the session: the turn's load is free
        )
        idem = IdempotencyStore(store.client, store.keys, ttl_seconds=store.ttl_ms / 1000)
        found = cache[id(store.client)] = WriteStores(locks, idem)
    return found


def in_flight(request: Request) -> InFlight:
    return request.app.state.in_flight


def run_session_write(
    request: Request,
    manager: DialogueService,
    session_id: str,
    action: Callable[[], Any],
    *,
    principal: Principal,
    idempotency_key: str | None,
    request_body: Any = None,
    status: int = 200,
) -> WriteResult:
    """Run `action` (returning the JSON body of a `status` response) as one write of the session."""
    stores = write_stores(request, manager)
    with in_flight(request).track():
        if idempotency_key is None:
            with stores.locks.hold(session_id):
                return WriteResult(status, action())
        key = check_idempotency_key(idempotency_key)
        fp = fingerprint(request.method, request.url.path, request_body)
        idem = stores.idempotency
        ref = idem.ref(session_id, f"{principal.kind}:{principal.id}", key)
        replay = _replay(idem.get(ref), fp)  # a finished request: no lock needed
        if replay is not None:
            return replay
        with stores.locks.hold(session_id):
            record = idem.get(ref)
            replay = _replay(record, fp)
            if replay is not None:
                return replay
            before = idem.log_length(session_id)
            if record is not None and before != record.log:
                raise IdempotencyInterruptedError(
                    "an earlier request with this Idempotency-Key was cut off after it had changed the "
                    "session; its result is unknown. Read the session (GET) and send a new key if needed"
                )
            idem.begin(ref, fp, before)
            try:
                body = action()
            except BaseException:
                with contextlib.suppress(StoreUnavailableError):
                    if idem.log_length(session_id) == before:
                        idem.forget(ref)  # nothing changed: a retry may run it again
                raise
            try:
                idem.complete(ref, fp, status, body)
            except StoreUnavailableError as exc:  # the write happened: answer it; retries get 409
                log.warning("storing the result of idempotent request %s failed: %s", ref, exc)
            return WriteResult(status, body)


def _replay(record: IdempotencyRecord | None, fp: str) -> WriteResult | None:
    if record is None:
        return None
    if record.fp != fp:
        raise IdempotencyKeyReusedError(
            "Idempotency-Key was already used for a different request (another body or endpoint); "
            "use a new key for a new request"
        )
    if record.state == "done":
        return WriteResult(record.status, record.body, replayed=True)
    return None
