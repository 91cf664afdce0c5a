"""Merging a session into its user's profile (`StateStore.merge_session`): the profile is read (or the
one read at the start of the turn is taken as a first guess), only the events it has not merged yet are
folded in (the ones this write appended itself need no read), and the result is written by a
compare-and-set on the profile's version - retried on a concurrent write. Sessions keep their owner in a
process-wide map (`dialogue.store.prefetch.Owners`) that the events' read checks against the session's
meta, so a stale entry is corrected, never trusted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogue.state.events import TurnsRewound
from dialogue.state.profile import UserProfile
from dialogue.store.connection import unavailable_as_error
from recsys.errors import SessionNotFoundError

if TYPE_CHECKING:
    from dialogue.store.redis_store import StateStore


class _OwnerChanged(Exception):
    """A merge found the session owned by another user than remembered (the entry is refreshed)."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def merge_session(store: StateStore, session_id: str) -> UserProfile | None:
    """`StateStore.merge_session` (see there); uses the store's internals, as part of it."""
    known, user_id = store._owners.get(session_id)
    if not known:
        user_id = store.session_user(session_id)
    if user_id is None:
        return None

    merged = [0]

    def fold(profile: UserProfile) -> None:
        start = profile.merged_events.get(session_id, 0)
        known_tail = store._preloads.appended_from(session_id, start)
        if known_tail is not None:  # the events this write appended itself: no need to read them
            merged[0] = profile.merge_tail(session_id, start, known_tail)
            return
        with unavailable_as_error("load session"):
            result = store._events_from(keys=store._session_keys(session_id), args=[store.ttl_ms, start])
        store._check_code(int(result[0]), session_id)
        owner = _text(result[1]) or None
        if owner != user_id:  # a stale owner entry: the session was re-created meanwhile
            store._owners.put(session_id, owner)
            raise _OwnerChanged
        tail = [store._decode(r, session_id, start + i) for i, r in enumerate(result[2])]
        if start == 0 or not any(isinstance(e, TurnsRewound) for e in tail):
            merged[0] = profile.merge_tail(session_id, start, tail)
        else:  # an undo in the new events: resolve it on the whole log
            merged[0] = profile.merge_session(session_id, store.load_events(session_id))

    store._preloads.take_profile_read(user_id)  # no longer what is stored after this
    try:
        return store.profiles.update(
            user_id,
            fold,
            require_session=session_id,
            write_if=lambda _: merged[0] > 0,  # nothing new: nothing to write
            first_read=store._preloads.take_profile(user_id),
        )
    except _OwnerChanged:  # the session's meta names another owner (now remembered): merge there
        return merge_session(store, session_id)
    except SessionNotFoundError:
        if not known:
            raise
        store._owners.drop(session_id)  # maybe a stale owner: ask the session itself
        return merge_session(store, session_id)
