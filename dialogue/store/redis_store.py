"""`StateStore`: dialogue sessions as append-only event logs in Redis, plus user profiles.

- A session is a Redis list of JSON events (`RPUSH`, in Lua scripts that also check the session, skip
  already-stored event ids and refresh the TTL), a turn counter (`INCR`), a meta hash and a cached state
  snapshot. Two turns appending at once never lose an event; each gets its own turn number.
- Every read or write of a session refreshes the expiry of all its keys (`ttl_seconds` of inactivity).
- A user's sessions are indexed (sorted set) and their profile is kept without expiry; `delete_user`
  erases all of it. Key layout: `dialogue.store.keys`.
- Errors: missing / expired session -> SessionNotFoundError; Redis unreachable -> StoreUnavailableError;
  appending to an ended session -> SessionEndedError; lost write races -> ConflictError.
- Round trips: a turn under the session's lock taken with `lock_and_preload` (what the API does) costs
  four - lock + load + turn counter (one script, pipelined with the owner's profile once the owner is
  known), the append (which commits the turn number), the profile's compare-and-set (merging the events
  just appended onto the profile read with the lock; `dialogue.store.merging`), the release. What is kept
  in process between them, and why it cannot go stale: `dialogue.store.prefetch`. Without the lock, a
  turn's load takes its turn number too (`load_state_for_turn`). Stored events are decoded once per
  process (`EVENT_CACHE`).
- Runs on one Redis server or on a Redis Cluster (`connect` picks by URL): every script and transaction
  touches the keys of one session or of one user only (one hash tag, one slot); commands that span
  several sessions (the index of a user's sessions, deleting a user) are sent per session.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable

import redis

from dialogue.state.events import Event, SessionEnded, SessionStarted, with_event_id
from dialogue.state.profile import UserProfile
from dialogue.state.serialize import (
    STATE_SCHEMA,
    EventCache,
    event_to_json,
    state_after_snapshot,
    state_to_json,
)
from dialogue.state.state import DialogueState
from dialogue.store import erase, merging, scripts
from dialogue.store.connection import RedisClient, connect, unavailable_as_error
from dialogue.store.keys import DEFAULT_PREFIX, Keys, check_session_id, check_user_id
from dialogue.store.prefetch import Owners, Preload, Preloads
from dialogue.store.profiles import ProfileStore
from recsys.errors import ConflictError, SessionEndedError, SessionNotFoundError, ValidationError
from recsys.settings import Settings, get_settings

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 64  # cache a state snapshot once this many events lie beyond the last one
# Decoded events by their stored bytes, shared by the stores of the process (content-addressed: safe).
EVENT_CACHE = EventCache()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StateStore:
    """Sessions (event logs, turn counters, snapshots) and user profiles in one Redis."""

    def __init__(
        self,
        client: RedisClient,
        *,
        ttl_seconds: float = 3600,
        prefix: str = DEFAULT_PREFIX,
        snapshot_every: int = SNAPSHOT_EVERY,
        event_cache: EventCache | None = None,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValidationError(f"ttl_seconds must be > 0, got {ttl_seconds}")
        self.client = client
        self.keys = Keys(prefix)
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self.snapshot_every = snapshot_every
        self.profiles = ProfileStore(client, self.keys)
        self.events = event_cache if event_cache is not None else EVENT_CACHE
        self._preloads = Preloads()
        self._owners = Owners()
        self._create = client.register_script(scripts.CREATE_SESSION)
        self._append = client.register_script(scripts.APPEND_EVENTS)
        self._next_turn = client.register_script(scripts.NEXT_TURN)
        self._load = client.register_script(scripts.LOAD)
        self._give_back_turn = client.register_script(scripts.GIVE_BACK_TURN)
        self._save_snapshot = client.register_script(scripts.SAVE_SNAPSHOT)
        self._touch = client.register_script(scripts.TOUCH)
        self._events_from = client.register_script(scripts.EVENTS_FROM)
        self._lock_load = client.register_script(scripts.LOCK_AND_LOAD)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: object) -> StateStore:
        """A store on `connect(settings)` with the session TTL of the settings."""
        settings = settings or get_settings()
        return cls(connect(settings), ttl_seconds=settings.session_ttl_seconds, **kwargs)  # type: ignore[arg-type]

    def ping(self) -> None:
        """Raise StoreUnavailableError unless Redis answers."""
        with unavailable_as_error("ping"):
            self.client.ping()

    def close(self) -> None:
        """Release the client's connections."""
        self.client.close()

    # ------------------------------------------------------------ sessions

    def create_session(self, user_id: str | None = None, *, session_id: str | None = None) -> str:
        """Create a session (its log starts with SessionStarted) and return its id (a random uuid hex).

        A user's session is indexed under the user before it exists, so `delete_user` never misses one.
        """
        if user_id is not None:
            check_user_id(user_id)
        sid = check_session_id(session_id) if session_id is not None else uuid.uuid4().hex
        started = SessionStarted(sid, user_id, event_id=uuid.uuid4().hex)
        index = self.keys.user(user_id, "sessions") if user_id is not None else None
        with unavailable_as_error("create session"):
            if index is not None:
                self.client.zadd(index, {sid: started.at})
            args = [self.ttl_ms, user_id or "", started.at, started.event_id, event_to_json(started)]
            if not self._create(keys=self.keys.session_keys(sid), args=args):
                if index is not None and self._owner(sid) != user_id:
                    self.client.zrem(index, sid)
                raise ConflictError(f"session id {sid!r} is already taken")
            if index is not None and self.client.zscore(index, sid) is None:
                self.client.delete(*self.keys.session_keys(sid))  # the user was deleted meanwhile
                raise ConflictError(f"user {user_id!r} was deleted while session {sid} was being created")
        self._owners.put(sid, user_id)
        return sid

    def next_turn(self, session_id: str) -> int:
        """A new turn number for the session (1, 2, ...; concurrent callers get distinct numbers).

        Under a lock taken with `lock_and_preload` the number is handed out without a round trip and
        committed by the next `append_events` (which refuses it with ConflictError if the counter moved).
        """
        reserved = self._preloads.reserve_turn(session_id)
        if reserved is not None:
            return reserved
        with unavailable_as_error("next turn"):
            turn = self._next_turn(keys=self._session_keys(session_id), args=[self.ttl_ms])
        self._check_code(int(turn), session_id)
        return int(turn)

    def append_events(self, session_id: str, events: Iterable[Event]) -> int:
        """Append events atomically (all or none, contiguous); returns how many were new.

        Events without an `event_id` get a fresh one; events whose id is already stored are skipped, so
        retrying an append with the same ids is harmless. SessionStarted cannot be appended (only
        `create_session` writes it) and SessionEnded may only come last; after it, the session refuses
        events (SessionEndedError).
        """
        batch = [e if e.event_id else with_event_id(e, os.urandom(16).hex()) for e in events]
        if not batch:
            return 0
        for i, event in enumerate(batch):
            if isinstance(event, SessionStarted):
                raise ValidationError("session_started is written by create_session, not appended")
            if isinstance(event, SessionEnded) and i != len(batch) - 1:
                raise ValidationError("session_ended must be the last event of its batch")
        claim = self._preloads.claim(session_id)
        args: list[object] = [self.ttl_ms, "1" if isinstance(batch[-1], SessionEnded) else "0"]
        args += claim if claim is not None else ("", "")
        for event in batch:
            args += [event.event_id, self.events.encode(event)]
        self._preloads.drop(session_id)  # a load fetched with the lock no longer shows the whole log
        with unavailable_as_error("append events"):
            result = scripts.run(self._append, self._session_keys(session_id), args)
        if claim is not None:
            self._preloads.claimed(session_id, claim[1] if int(result[0]) >= 0 else None)
        if int(result[0]) == -3:
            raise ConflictError(
                f"session {session_id} took another turn while this one ran (its lock was lost); retry"
            )
        self._check_code(int(result[0]), session_id)
        added, length = int(result[0]), int(result[1])
        if added == len(batch):  # contiguous at the end of the log: a merge need not read them back
            self._preloads.appended(session_id, length - added, batch)
        return added

    def load_events(self, session_id: str) -> list[Event]:
        """The session's whole event log, oldest first."""
        _, start, raw, _ = self._load_raw(session_id, use_snapshot=False)
        return [self._decode(r, session_id, start + i) for i, r in enumerate(raw)]

    def load_state(self, session_id: str) -> DialogueState:
        """The session's current state: the cached snapshot plus the events after it (or a full replay).

        A new snapshot is cached once `snapshot_every` events lie beyond the previous one.
        """
        preload = self._preloads.take(session_id)
        if preload is None:
            snapshot, start, raw, _ = self._load_raw(session_id, use_snapshot=True)
        else:
            snapshot, start, raw = preload.snapshot, preload.start, preload.raw
        return self._state(session_id, snapshot, start, raw)

    def load_state_for_turn(self, session_id: str) -> tuple[DialogueState, int | None]:
        """`load_state` that also takes a new turn number (what `next_turn` gives) in the same round trip.

        The number is None when the session has ended (none is taken) and when the state comes from the
        load fetched with the session's lock (`lock_and_preload`): then `next_turn` hands it out without
        a round trip. A turn that stores nothing under its number gives it back (`give_back_turn`).
        """
        preload = self._preloads.take(session_id)
        if preload is not None:
            return self._state(session_id, preload.snapshot, preload.start, preload.raw), None
        snapshot, start, raw, turn = self._load_raw(session_id, use_snapshot=True, take_turn=True)
        return self._state(session_id, snapshot, start, raw), turn or None

    def give_back_turn(self, session_id: str, turn: int) -> bool:
        """Return a turn number taken by `load_state_for_turn` that nothing was stored under: the counter
        goes back by one if it is still `turn` (nobody took a number since), so the next turn gets the same
        number as if this one had never asked. True if it went back."""
        with unavailable_as_error("give back turn"):
            return bool(self._give_back_turn(keys=self._session_keys(session_id), args=[turn]))

    def _state(self, session_id: str, snapshot: str, start: int, raw: list[bytes]) -> DialogueState:
        """The state from a raw load (snapshot + events from `start`); caches a new snapshot when due."""
        try:
            tail = list(map(self.events.decode, raw))
        except ValidationError:  # name the bad event
            tail = [self._decode(r, session_id, start + i) for i, r in enumerate(raw)]
        state = (
            state_after_snapshot(snapshot, start, tail, f"session {session_id}", log) if snapshot else None
        )
        if state is None:
            events = tail if start == 0 else self.load_events(session_id)
            state = DialogueState.replay(events)
            start = 0
        self._owners.put(session_id, state.user_id)
        if state.event_count - start >= self.snapshot_every:
            with unavailable_as_error("save snapshot"):
                self._save_snapshot(
                    keys=self._session_keys(session_id),
                    args=[self.ttl_ms, state.event_count, STATE_SCHEMA, state_to_json(state)],
                )
        return state

    def lock_and_preload(self, session_id: str, lock_key: str, token: str, lease_ms: int) -> bool:
        """`SET lock_key token NX PX lease_ms` and, if taken, the session's load in the same script (kept
        for this thread's next `load_state` of the session; see `dialogue.store.prefetch`).

        `lock_key` must be under the session's hash tag (`Keys.session(sid, "lock")`). True: the lock is
        ours (whether or not the session exists - reading it will tell); False: someone else holds it.
        """
        keys = [*self._session_keys(session_id), lock_key]
        args = [self.ttl_ms, STATE_SCHEMA, token, lease_ms]
        _, owner = self._owners.get(session_id)
        profile: bytes | None = None
        with unavailable_as_error("lock session"):
            if owner is not None and isinstance(self.client, redis.Redis):  # a cluster: other slot
                result, profile = self._lock_load_and_profile(keys, args, owner)
            else:
                result = scripts.run(self._lock_load, keys, args)
        if not int(result[0]):
            return False
        self._preloads.begin(session_id)
        if profile is not None:
            self._preloads.put_profile_read(owner, profile)  # type: ignore[arg-type]
        if int(result[1]) == 1:
            _, _, user, snapshot, start, raw, counter, ended = result
            self._preloads.put(session_id, Preload(_text(user) or None, _text(snapshot), int(start), raw))
            if _text(ended) != "1":
                self._preloads.set_turn_counter(session_id, int(counter))
        return True

    def _lock_load_and_profile(self, keys: list[str], args: list[object], owner: str) -> tuple[list, bytes]:
        """LOCK_AND_LOAD and a GET of the (known) owner's profile, pipelined: one round trip. Reading the
        profile as the lock is taken is what the turn's `get_profile` would read a moment later."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.evalsha(self._lock_load.sha, len(keys), *keys, *args)
            pipe.get(self.keys.user(owner, "profile"))
            result, raw = pipe.execute(raise_on_error=False)
        if isinstance(result, redis.exceptions.NoScriptError):  # a new server: load the script, once
            result = self._lock_load(keys=keys, args=args)
        for answer in (result, raw):
            if isinstance(answer, Exception):
                raise answer
        return result, raw if isinstance(raw, bytes) else (raw or "").encode()

    def drop_preloaded(self, session_id: str) -> None:
        """Forget what this thread kept about the session (its lock is being released)."""
        self._preloads.end(session_id)

    def session_user(self, session_id: str) -> str | None:
        """The user id of a session (None if anonymous); refreshes the session's expiry."""
        with unavailable_as_error("read session"):
            result = self._touch(keys=self._session_keys(session_id), args=[self.ttl_ms])
        self._check_code(int(result[0]), session_id)
        owner = _text(result[1]) or None
        self._owners.put(session_id, owner)
        return owner

    def session_ttl(self, session_id: str) -> float | None:
        """Seconds until the session expires (None if it does not exist). Does not refresh it."""
        with unavailable_as_error("session ttl"):
            ms = self.client.pttl(self.keys.session(check_session_id(session_id), "meta"))
        return ms / 1000 if ms >= 0 else None

    def delete_session(self, session_id: str) -> bool:
        """Delete a session and its index entry; False if there was no such session."""
        keys = self._session_keys(session_id)
        self._preloads.drop(session_id)
        self._owners.drop(session_id)
        with unavailable_as_error("delete session"):
            owner = self._owner(session_id)
            deleted = self.client.delete(*keys)
            if owner:
                self.client.zrem(self.keys.user(owner, "sessions"), session_id)
        return deleted > 0

    def list_sessions(self, user_id: str) -> list[str]:
        """The user's live sessions, oldest first (expired ones are dropped from the index)."""
        index = self.keys.user(check_user_id(user_id), "sessions")
        with unavailable_as_error("list sessions"):
            sids = [_text(s) for s in self.client.zrange(index, 0, -1)]
            with self.client.pipeline(transaction=False) as pipe:
                for sid in sids:
                    pipe.exists(self.keys.session(sid, "meta"))
                alive = pipe.execute()
            gone = [sid for sid, ok in zip(sids, alive, strict=True) if not ok]
            if gone:
                self.client.zrem(index, *gone)
        return [sid for sid, ok in zip(sids, alive, strict=True) if ok]

    # ------------------------------------------------------------ users

    def get_profile(self, user_id: str) -> UserProfile:
        """The user's profile (a new empty one, version 0, if none is stored)."""
        raw = self._preloads.take_profile_read(user_id)  # read with the session's lock
        if raw is None:
            raw = self.profiles.get_raw(user_id)
        self._preloads.put_profile(user_id, raw)  # the first guess of a merge in this lock hold
        return self.profiles.parse(user_id, raw)

    def put_profile(self, profile: UserProfile) -> UserProfile:
        """Write `profile` if nobody wrote it since it was read (else ConflictError); see ProfileStore.put."""
        self._preloads.take_profile_read(profile.user_id)  # no longer what is stored
        return self.profiles.put(profile)

    def update_profile(self, user_id: str, mutate: Callable[[UserProfile], None]) -> UserProfile:
        """Apply `mutate` to the stored profile, retrying on concurrent writes."""
        self._preloads.take_profile_read(user_id)  # no longer what is stored
        return self.profiles.update(user_id, mutate)

    def merge_session(self, session_id: str) -> UserProfile | None:
        """Merge the session's not-yet-merged events into its user's profile (None: anonymous session).

        Idempotent: merging again only adds what happened since (see `UserProfile.merge_session`). Reads
        only the events the profile has not merged yet (the whole log if they hold an undo), and writes
        nothing when there are none. Three round trips: the profile, the new events, the compare-and-set.
        """
        return merging.merge_session(self, session_id)

    def delete_user(self, user_id: str) -> int:
        """Erase the user: every session of theirs, their profile and their index. Returns keys deleted.

        Any other key under a session's hash tag (an idempotency record, a lock) goes too (see
        `dialogue.store.erase`).
        """
        return erase.delete_user(self.client, self.keys, user_id)

    # ------------------------------------------------------------ internals

    def _session_keys(self, session_id: str) -> list[str]:
        return self.keys.session_keys(check_session_id(session_id))

    def _owner(self, session_id: str) -> str | None:
        owner = self.client.hget(self.keys.session(session_id, "meta"), "user_id")
        if owner is None:
            return None
        return _text(owner) or None  # "" marks an anonymous session

    @staticmethod
    def _check_code(code: int, session_id: str) -> None:
        if code == -1:
            raise SessionNotFoundError(f"no session {session_id!r} (it does not exist or has expired)")
        if code == -2:
            raise SessionEndedError(f"session {session_id} has ended; it accepts no more events")

    def _load_raw(
        self, session_id: str, *, use_snapshot: bool, take_turn: bool = False
    ) -> tuple[str, int, list[bytes], int]:
        """(snapshot state or "", index of the first event returned, raw events from there, the turn
        number taken with `take_turn` - 0 when none was taken)."""
        args = [self.ttl_ms, STATE_SCHEMA, "1" if use_snapshot else "0", "1" if take_turn else "0"]
        with unavailable_as_error("load session"):
            result = scripts.run(self._load, self._session_keys(session_id), args)
        self._check_code(int(result[0]), session_id)
        _, _, snapshot, start, raw, turn = result
        return _text(snapshot), int(start), raw, int(turn)

    def _decode(self, raw: bytes, session_id: str, index: int) -> Event:
        try:
            return self.events.decode(raw)
        except ValidationError as exc:
            raise ValidationError(f"session {session_id}, event #{index}: {exc}") from exc
