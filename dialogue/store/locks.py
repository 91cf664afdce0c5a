"""Per-session locks in Redis: the writes of one session (a turn, a feedback, ending it) run one at a time.

Why: a turn reads the session's state, decides, and appends events. Two turns of one session running at
once would each decide on a state that misses the other's events (two answers to one question, an item
recommended twice). The turn counter and the atomic appends already keep the log itself whole; the lock
makes every turn see the complete result of the previous one, whichever worker process runs it.

The lock is a lease: `SET <key> <token> NX PX <lease>` at `crs:{s:<sid>}:lock` (the session's hash slot).
- Release and renewal compare the token in Lua, so a holder never frees or extends a lock it lost.
- A process-wide renewer thread extends every held lease each `lease / 3` seconds, so a long turn (a slow
  language model) keeps its lock, while a holder that dies (worker killed) frees it within one lease.
- With a `preloader` (the `StateStore`), taking the lock also loads the session in the same Lua script
  (`StateStore.lock_and_preload`): the write's first `load_state` then costs no round trip. The preload is
  dropped when the lock is released.
- Waiting is bounded: `wait_seconds` of polling with jittered exponential backoff (5 ms .. 50 ms), then
  `SessionBusyError` (HTTP 409 with Retry-After). Redis unreachable: StoreUnavailableError (503).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import redis
from redis.commands.core import Script

from dialogue.store.connection import unavailable_as_error
from dialogue.store.keys import Keys, check_session_id
from recsys.errors import ConflictError, ValidationError

log = logging.getLogger(__name__)

LEASE_SECONDS = 10.0  # a dead holder blocks its session at most this long
WAIT_SECONDS = 10.0  # how long a writer queues for a busy session before giving up
_MIN_SLEEP, _MAX_SLEEP = 0.005, 0.05

# KEYS[1] = lock; ARGV[1] = token -> 1 released, 0 not ours (expired and maybe taken by someone else)
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS[1] = lock; ARGV = token, lease_ms -> 1 extended, 0 not ours
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class Preloader(Protocol):
    """Takes a session lock and loads the session in one round trip (`StateStore` is one)."""

    def lock_and_preload(self, session_id: str, lock_key: str, token: str, lease_ms: int) -> bool: ...

    def drop_preloaded(self, session_id: str) -> None: ...


class SessionBusyError(ConflictError):
    """Another write of the same session held its lock for longer than the caller may wait."""

    retry_after_seconds = 1


@dataclass
class Lease:
    """One held lock: its key, its token and whether it was still ours when released."""

    key: str
    token: str
    session_id: str = ""
    acquired_at: float = field(default_factory=time.monotonic)
    lost: bool = False  # renewal found someone else's token: the lease ran out while held

    @property
    def age(self) -> float:
        """Seconds since the lock was taken."""
        return time.monotonic() - self.acquired_at


class SessionLocks:
    """Acquires and releases session locks on one Redis client (see the module docstring)."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys | None = None,
        *,
        lease_seconds: float = LEASE_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
        preloader: Preloader | None = None,
    ) -> None:
        if lease_seconds <= 0 or wait_seconds < 0:
            raise ValidationError(
                f"lease_seconds must be > 0 and wait_seconds >= 0, got {lease_seconds}, {wait_seconds}"
            )
        self.client = client
        self.keys = keys or Keys()
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self.wait_seconds = wait_seconds
        self.preloader = preloader
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)

    def key(self, session_id: str) -> str:
        return self.keys.session(check_session_id(session_id), "lock")

    def acquire(self, session_id: str) -> Lease:
        """Take the session's lock, waiting up to `wait_seconds`; SessionBusyError if it stays taken."""
        key, token = self.key(session_id), os.urandom(16).hex()  # 128 random bits, as a uuid4's
        deadline = time.monotonic() + self.wait_seconds
        sleep = _MIN_SLEEP
        while True:
            with unavailable_as_error("lock session"):
                if self.preloader is not None:
                    taken = self.preloader.lock_and_preload(session_id, key, token, self.lease_ms)
                else:
                    taken = bool(self.client.set(key, token, nx=True, px=self.lease_ms))
                if taken:
                    lease = Lease(key, token, session_id)
                    _renewer.add(self, lease)
                    return lease
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SessionBusyError(
                    f"session {session_id} is busy with another request (waited {self.wait_seconds:g} s); "
                    "retry shortly"
                )
            time.sleep(min(remaining, random.uniform(_MIN_SLEEP, sleep)))
            sleep = min(_MAX_SLEEP, sleep * 2)

    def release(self, lease: Lease) -> bool:
        """Free the lock if it is still ours; False (logged) if the lease had run out meanwhile."""
        _renewer.discard(lease)
        if self.preloader is not None and lease.session_id:
            self.preloader.drop_preloaded(lease.session_id)
        with unavailable_as_error("unlock session"):
            released = bool(self._call(self._release, lease.key, lease.token))
        if not released:
            lease.lost = True
            log.warning("lock %s had expired before its release (held %.1f s)", lease.key, lease.age)
        return released

    def _call(self, script: Script, key: str, *args: object) -> object:
        """EVALSHA of a registered one-key script, sent straight to the client (`Script.__call__` and
        redis-py's EVALSHA wrappers cost more Python per call than the command itself); the script is
        loaded again if the server lost it (a restart)."""
        try:
            return self.client.execute_command("EVALSHA", script.sha, 1, key, *args)
        except redis.exceptions.NoScriptError:
            return script(keys=[key], args=list(args))

    def renew(self, lease: Lease) -> bool:
        """Extend the lease by a full `lease_seconds`; False if the lock is no longer ours."""
        ok = bool(self._renew(keys=[lease.key], args=[lease.token, self.lease_ms]))
        if not ok:
            lease.lost = True
        return ok

    @contextlib.contextmanager
    def hold(self, session_id: str) -> Iterator[Lease]:
        """`with locks.hold(sid): ...` - the session's lock for the duration of the block.

        A failure to release (Redis gone) is logged, not raised - the block's own outcome is what the
        caller must see - and the release is retried in the background until it lands or the lease has
        run out, so a Redis restart does not leave the session locked for a whole lease.
        """
        lease = self.acquire(session_id)
        try:
            yield lease
        finally:
            try:
                self.release(lease)
            except Exception as exc:  # never mask the block's result; free the lock once Redis is back
                log.warning("releasing %s failed (%s); retrying in the background", lease.key, exc)
                _renewer.release_later(self, lease)


@dataclass
class _Entry:
    locks: weakref.ref[SessionLocks]
    lease: Lease
    due: float  # next renewal (or release attempt)
    release_by: float | None = None  # set: release it (retrying until then), do not renew


class _Renewer:
    """One daemon thread per process that extends every held lease a third of a lease after its last
    extension (woken when a lease is added that is due before its current wake-up, so short leases are
    served on time - and a busy server's stream of ordinary leases does not wake it per request), and
    retries the releases that failed while Redis was away."""

    RELEASE_RETRY_SECONDS = 0.25

    def __init__(self) -> None:
        self._held: dict[str, _Entry] = {}  # by lease token
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._waiting_until: float | None = None  # the renewer's wake-up while it waits; None: scanning

    def add(self, locks: SessionLocks, lease: Lease) -> None:
        self._put(_Entry(weakref.ref(locks), lease, time.monotonic() + locks.lease_ms / 3000))

    def release_later(self, locks: SessionLocks, lease: Lease) -> None:
        now = time.monotonic()
        self._put(_Entry(weakref.ref(locks), lease, now, release_by=now + locks.lease_ms / 1000))

    def discard(self, lease: Lease) -> None:
        with self._cond:
            self._held.pop(lease.token, None)

    def _put(self, entry: _Entry) -> None:
        with self._cond:
            self._held[entry.lease.token] = entry
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="crs-lock-renewer", daemon=True)
                self._thread.start()
            elif self._waiting_until is not None and entry.due < self._waiting_until:
                self._cond.notify()  # due before the renewer's wake-up; else it finds it by then

    def _due(self) -> list[tuple[SessionLocks, _Entry]]:
        """Wait until some entry is due; return the due ones (rescheduled)."""
        with self._cond:
            while True:
                now = time.monotonic()
                due = []
                for token, entry in list(self._held.items()):
                    locks = entry.locks()
                    if locks is None or (entry.release_by is not None and now > entry.release_by):
                        del self._held[token]  # gone, or the lease has run out by itself
                    elif entry.due <= now:
                        due.append((locks, entry))
                        pause = self.RELEASE_RETRY_SECONDS if entry.release_by else locks.lease_ms / 3000
                        entry.due = now + pause
                if due:
                    return due
                next_due = min((e.due for e in self._held.values()), default=None)
                self._waiting_until = math.inf if next_due is None else next_due
                try:
                    self._cond.wait(None if next_due is None else max(0.001, next_due - now))
                finally:
                    self._waiting_until = None

    def _run(self) -> None:
        while True:
            for locks, entry in self._due():
                lease = entry.lease
                with self._cond:
                    if self._held.get(lease.token) is not entry:
                        continue  # released or replaced meanwhile
                try:
                    if entry.release_by is not None:
                        locks._release(keys=[lease.key], args=[lease.token])
                        self.discard(lease)
                    elif not locks.renew(lease):
                        log.warning("lock %s was lost while held (lease expired)", lease.key)
                        self.discard(lease)
                except redis.RedisError as exc:  # Redis away: try again at the next round
                    log.debug("lock %s: %s", lease.key, exc)


_renewer = _Renewer()
