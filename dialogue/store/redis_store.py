"""`StateStore`: dialogue sessions as append-only event logs in Redis, plus user profiles.

- A session is a Redis list of JSON events (`RPUSH`, in Lua scripts that also check the session, skip
  already-stored event ids and refresh the TTL), a turn counter (`INCR`), a meta hash and a cached state
  snapshot. Two turns appending at once never lose an event; each gets its own turn number.
- Every read or write of a session refreshes the expiry of all its keys (`ttl_seconds` of inactivity).
- A user's sessions are indexed (sorted set) and their profile is kept without expiry; `delete_user`
  erases all of it. Key layout: `dialogue.store.keys`.
- Errors: missing / expired session -> SessionNotFoundError; Redis unreachable -> StoreUnavailableError;
  appending to an ended session -> SessionEndedError; lost write races -> ConflictError.
- Runs on one Redis server or on a Redis Cluster (`connect` picks by URL): every script and transaction
  touches the keys of one session or of one user only (one hash tag, one slot); commands that span
  several sessions (the index of a user's sessions, deleting a user) are sent per session.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterable

import redis

from dialogue.state.events import Event, SessionEnded, SessionStarted, TurnsRewound
from dialogue.state.profile import UserProfile
from dialogue.state.serialize import (
    STATE_SCHEMA,
    event_from_json,
    event_to_json,
    state_from_json,
    state_to_json,
)
from dialogue.state.state import DialogueState
from dialogue.store import scripts
from dialogue.store.connection import RedisClient, connect, unavailable_as_error
from dialogue.store.keys import DEFAULT_PREFIX, Keys, check_session_id, check_user_id
from dialogue.store.profiles import ProfileStore
from recsys.errors import ConflictError, SessionEndedError, SessionNotFoundError, ValidationError
from recsys.settings import Settings, get_settings

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 64  # cache a state snapshot once this many events lie beyond the last one


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
    ) -> None:
        if ttl_seconds <= 0:
            raise ValidationError(f"ttl_seconds must be > 0, got {ttl_seconds}")
        self.client = client
        self.keys = Keys(prefix)
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self.snapshot_every = snapshot_every
        self.profiles = ProfileStore(client, self.keys)
        self._create = client.register_script(scripts.CREATE_SESSION)
        self._append = client.register_script(scripts.APPEND_EVENTS)
        self._next_turn = client.register_script(scripts.NEXT_TURN)
        self._load = client.register_script(scripts.LOAD)
        self._save_snapshot = client.register_script(scripts.SAVE_SNAPSHOT)
        self._touch = client.register_script(scripts.TOUCH)

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
        return sid

    def next_turn(self, session_id: str) -> int:
        """A new turn number for the session (1, 2, ...; concurrent callers get distinct numbers)."""
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
        batch = [e if e.event_id else dataclasses.replace(e, event_id=uuid.uuid4().hex) for e in events]
        if not batch:
            return 0
        for i, event in enumerate(batch):
            if isinstance(event, SessionStarted):
                raise ValidationError("session_started is written by create_session, not appended")
            if isinstance(event, SessionEnded) and i != len(batch) - 1:
                raise ValidationError("session_ended must be the last event of its batch")
        args: list[object] = [self.ttl_ms, "1" if isinstance(batch[-1], SessionEnded) else "0"]
        for event in batch:
            args += [event.event_id, event_to_json(event)]
        with unavailable_as_error("append events"):
            result = self._append(keys=self._session_keys(session_id), args=args)
        self._check_code(int(result[0]), session_id)
        return int(result[0])

    def load_events(self, session_id: str) -> list[Event]:
        """The session's whole event log, oldest first."""
        _, start, raw = self._load_raw(session_id, use_snapshot=False)
        return [self._decode(r, session_id, start + i) for i, r in enumerate(raw)]

    def load_state(self, session_id: str) -> DialogueState:
        """The session's current state: the cached snapshot plus the events after it (or a full replay).

        A new snapshot is cached once `snapshot_every` events lie beyond the previous one.
        """
        snapshot, start, raw = self._load_raw(session_id, use_snapshot=True)
        tail = [self._decode(r, session_id, start + i) for i, r in enumerate(raw)]
        state = self._from_snapshot(snapshot, start, tail, session_id) if snapshot else None
        if state is None:
            events = tail if start == 0 else self.load_events(session_id)
            state = DialogueState.replay(events)
            start = 0
        if state.event_count - start >= self.snapshot_every:
            with unavailable_as_error("save snapshot"):
                self._save_snapshot(
                    keys=self._session_keys(session_id),
                    args=[self.ttl_ms, state.event_count, STATE_SCHEMA, state_to_json(state)],
                )
        return state

    def session_user(self, session_id: str) -> str | None:
        """The user id of a session (None if anonymous); refreshes the session's expiry."""
        with unavailable_as_error("read session"):
            result = self._touch(keys=self._session_keys(session_id), args=[self.ttl_ms])
        self._check_code(int(result[0]), session_id)
        return _text(result[1]) or None

    def session_ttl(self, session_id: str) -> float | None:
        """Seconds until the session expires (None if it does not exist). Does not refresh it."""
        with unavailable_as_error("session ttl"):
            ms = self.client.pttl(self.keys.session(check_session_id(session_id), "meta"))
        return ms / 1000 if ms >= 0 else None

    def delete_session(self, session_id: str) -> bool:
        """Delete a session and its index entry; False if there was no such session."""
        keys = self._session_keys(session_id)
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
        return self.profiles.get(user_id)

    def put_profile(self, profile: UserProfile) -> UserProfile:
        """Write `profile` if nobody wrote it since it was read (else ConflictError); see ProfileStore.put."""
        return self.profiles.put(profile)

    def update_profile(self, user_id: str, mutate: Callable[[UserProfile], None]) -> UserProfile:
        """Apply `mutate` to the stored profile, retrying on concurrent writes."""
        return self.profiles.update(user_id, mutate)

    def merge_session(self, session_id: str) -> UserProfile | None:
        """Merge the session's not-yet-merged events into its user's profile (None: anonymous session).

        Idempotent: merging again only adds what happened since (see `UserProfile.merge_session`).
        """
        events = self.load_events(session_id)
        user_id = events[0].user_id  # type: ignore[attr-defined] - the log starts with SessionStarted
        if user_id is None:
            return None
        return self.profiles.update(
            user_id, lambda p: p.merge_session(session_id, events), require_session=session_id
        )

    def delete_user(self, user_id: str) -> int:
        """Erase the user: every session of theirs, their profile and their index. Returns keys deleted.

        Besides the session keys the store itself writes, any other key under a session's hash tag (an
        idempotency record holding a response, a lock) goes too: one SCAN over the keyspace, on every
        node of a cluster, finds them.
        """
        profile, index = self.keys.user_keys(check_user_id(user_id))
        with unavailable_as_error("delete user"):
            while True:
                with self.client.pipeline(transaction=True) as pipe:  # explicit: a cluster's default is False
                    try:
                        pipe.watch(index)
                        sids = [_text(s) for s in pipe.zrange(index, 0, -1)]
                        pipe.multi()
                        pipe.delete(profile, index)
                        (deleted,) = pipe.execute()
                        break
                    except redis.WatchError:
                        continue  # a session was created meanwhile: read the index again
            # After the index is gone, a session still being created deletes itself (create_session).
            # One DEL per key: a cluster pipeline spans slots, but not within one command.
            with self.client.pipeline(transaction=False) as pipe:
                for sid in sids:
                    for key in self.keys.session_keys(sid):
                        pipe.delete(key)
                deleted += sum(pipe.execute())
            deleted += self._delete_other_session_keys(set(sids))
        return int(deleted)

    # ------------------------------------------------------------ internals

    def _delete_other_session_keys(self, sids: set[str]) -> int:
        """Delete every key under the hash tag of these sessions that is not one of SESSION_PARTS.

        One SCAN of `<prefix>{s:*` (redis-py's cluster client scans every primary); the session id is
        read back from each key's tag.
        """
        if not sids:
            return 0
        head = len(self.keys.prefix) + 3  # "<prefix>{s:"
        found = []
        for raw in self.client.scan_iter(match=self.keys.pattern()[:-1] + "{s:*", count=1000):
            key = _text(raw)
            end = key.find("}", head)
            if end > 0 and key[head:end] in sids:
                found.append(key)
        if not found:
            return 0
        with self.client.pipeline(transaction=False) as pipe:
            for key in found:
                pipe.delete(key)
            return sum(pipe.execute())

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

    def _load_raw(self, session_id: str, *, use_snapshot: bool) -> tuple[str, int, list[bytes]]:
        """(snapshot state or "", index of the first event returned, raw events from there)."""
        args = [self.ttl_ms, STATE_SCHEMA, "1" if use_snapshot else "0"]
        with unavailable_as_error("load session"):
            result = self._load(keys=self._session_keys(session_id), args=args)
        self._check_code(int(result[0]), session_id)
        _, _, snapshot, start, raw = result
        return _text(snapshot), int(start), raw

    @staticmethod
    def _decode(raw: bytes, session_id: str, index: int) -> Event:
        try:
            return event_from_json(raw)
        except ValidationError as exc:
            raise ValidationError(f"session {session_id}, event #{index}: {exc}") from exc

    @staticmethod
    def _from_snapshot(snapshot: str, start: int, tail: list[Event], session_id: str) -> DialogueState | None:
        """Snapshot + tail, or None when a full replay is needed (a rewind in the tail, a bad snapshot)."""
        if any(isinstance(e, TurnsRewound) for e in tail):
            return None
        try:
            state = state_from_json(snapshot)
        except ValidationError as exc:
            log.warning("session %s: ignoring unreadable snapshot: %s", session_id, exc)
            return None
        if state.event_count != start:
            log.warning("session %s: snapshot covers %d events, not %d", session_id, state.event_count, start)
            return None
        return state.apply_all(tail)
