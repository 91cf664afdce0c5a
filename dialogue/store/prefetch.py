"""What a `StateStore` keeps in process to save Redis round trips, none of it trusted beyond its scope:

- `Preloads`: the raw session load (snapshot + tail events) fetched together with the session's lock
  (`StateStore.lock_and_preload`, one Lua script). Kept per thread and per session, consumed by the next
  `load_state` of that session in the same thread, and dropped when the lock is released or the session
  is written (an append), so a later read never sees a stale load. While the lock is held no other writer
  can change the session, so the preload is exactly what `load_state` would have read.
  The same per-thread table keeps the events this thread just appended (with their log index: the
  append script reports the log's length) and the profile JSON read at the start of the turn, so the
  merge into the profile needs neither a read of the new events nor of the profile. The profile is only
  a first guess: the merge's compare-and-set refuses it if the profile changed, and re-reads.
  Turn numbers: the lock's script also reads the turn counter, so `next_turn` hands out counter + 1
  locally; the next append commits it in its own script, refusing (-3) if the counter moved meanwhile
  (only possible if another writer went around the lock, e.g. after this holder's lease ran out).
  The profile itself: when the session's owner is known, its profile is read in the lock's round trip
  (pipelined; not on a cluster, where it lives in another slot) and answers the turn's first
  `get_profile` - the same as reading it a moment later; any profile write of this store drops it.
- `Owners`: session id -> user id (None: anonymous), learnt from loads and creations. A session's owner
  never changes while it exists; a merge still checks it (the profile's compare-and-set requires the
  session in that user's index, a read of the events compares the session's meta), so a stale entry (a
  session deleted and re-created under the same id) is detected and refreshed, never used.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialogue.state.events import Event


@dataclass(frozen=True)
class Preload:
    """One raw session load: the snapshot ("" = none), the index of the first event and the events."""

    user_id: str | None
    snapshot: str
    start: int
    raw: list[bytes]


@dataclass(frozen=True)
class Appended:
    """Events this thread appended to a session, stored contiguously from log index `start`."""

    start: int
    events: tuple[Event, ...]


class Preloads:
    """Per-thread, per-session facts a write learnt from Redis and its next step can use instead of a
    round trip (see the module docstring): the load fetched with the lock, the events just appended, and
    the profile JSON read at the start of the turn. Only kept while the thread holds the session's lock
    (`begin` .. `end`), so code without locks keeps nothing here, and nothing outlives the lock.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _table(self) -> dict[tuple[str, str], Any]:
        table: dict[tuple[str, str], Any] | None = getattr(self._local, "table", None)
        if table is None:
            table = self._local.table = {}
        return table

    def _held(self) -> set[str]:
        held: set[str] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = set()
        return held

    def begin(self, session_id: str) -> None:
        """This thread now holds the session's lock: start keeping facts about it (afresh)."""
        self.end(session_id)
        self._held().add(session_id)

    def active(self, session_id: str) -> bool:
        return session_id in self._held()

    def put(self, session_id: str, preload: Preload) -> None:
        if self.active(session_id):
            self._table()[("load", session_id)] = preload

    def take(self, session_id: str) -> Preload | None:
        """The preload of the session (removed: it is used once), or None."""
        return self._table().pop(("load", session_id), None)

    def appended(self, session_id: str, start: int, events: Sequence[Event]) -> None:
        """Record that `events` now sit at log indices start, start + 1, ... (extends a contiguous run)."""
        if not self.active(session_id):
            return
        table = self._table()
        prev: Appended | None = table.get(("appended", session_id))
        if prev is not None and prev.start + len(prev.events) == start:
            table[("appended", session_id)] = Appended(prev.start, (*prev.events, *events))
        else:
            table[("appended", session_id)] = Appended(start, tuple(events))

    def appended_from(self, session_id: str, start: int) -> list[Event] | None:
        """The events this thread appended from log index `start` to the end of its run, if it knows them."""
        run: Appended | None = self._table().get(("appended", session_id))
        if run is None or not run.start <= start <= run.start + len(run.events):
            return None
        return list(run.events[start - run.start :])

    def set_turn_counter(self, session_id: str, counter: int) -> None:
        """The session's stored turn counter, as read with the lock (or as this thread last wrote it)."""
        if self.active(session_id):
            self._table()[("turn", session_id)] = (counter, counter)

    def reserve_turn(self, session_id: str) -> int | None:
        """A new turn number handed out locally (committed by the next append's claim), or None when the
        counter is not known here (then the caller must INCR it in Redis)."""
        table = self._table()
        known: tuple[int, int] | None = table.get(("turn", session_id))
        if known is None or not self.active(session_id):
            return None
        table[("turn", session_id)] = (known[0], known[1] + 1)
        return known[1] + 1

    def claim(self, session_id: str) -> tuple[int, int] | None:
        """(stored counter, counter to store) if turn numbers were handed out and not committed yet."""
        known: tuple[int, int] | None = self._table().get(("turn", session_id))
        return known if known is not None and known[1] > known[0] else None

    def claimed(self, session_id: str, counter: int | None) -> None:
        """The claim landed (the stored counter is now `counter`), or failed (None: forget the counter)."""
        if counter is None:
            self._table().pop(("turn", session_id), None)
        else:
            self.set_turn_counter(session_id, counter)

    def put_profile(self, user_id: str, raw: bytes) -> None:
        if self._held():
            self._table()[("profile", user_id)] = raw

    def put_profile_read(self, user_id: str, raw: bytes) -> None:
        """The profile as read together with the session's lock: the next `get_profile`'s answer."""
        if self._held():
            self._table()[("profile_read", user_id)] = raw

    def take_profile_read(self, user_id: str) -> bytes | None:
        return self._table().pop(("profile_read", user_id), None)

    def take_profile(self, user_id: str) -> bytes | None:
        return self._table().pop(("profile", user_id), None)

    def drop(self, session_id: str) -> None:
        """Forget the load of the session (kept: its appended events, which stay where they are)."""
        self._table().pop(("load", session_id), None)

    def end(self, session_id: str) -> None:
        """Forget what this thread kept about the session (its lock is being released); the profiles
        read too once it holds no other session's lock."""
        table, held = self._table(), self._held()
        held.discard(session_id)
        for kind in ("load", "appended", "turn"):
            table.pop((kind, session_id), None)
        if not held:
            table.clear()


class Owners:
    """A bounded map of session id -> owner (None: anonymous); oldest entries are dropped first."""

    def __init__(self, capacity: int = 65_536) -> None:
        self.capacity = capacity
        self._owners: dict[str, str | None] = {}

    def get(self, session_id: str) -> tuple[bool, str | None]:
        """(known, owner)."""
        try:
            return True, self._owners[session_id]
        except KeyError:
            return False, None

    def put(self, session_id: str, owner: str | None) -> None:
        owners = self._owners
        if session_id not in owners and len(owners) >= self.capacity:
            with contextlib.suppress(StopIteration, RuntimeError):
                owners.pop(next(iter(owners)), None)
        owners[session_id] = owner

    def drop(self, session_id: str) -> None:
        self._owners.pop(session_id, None)
