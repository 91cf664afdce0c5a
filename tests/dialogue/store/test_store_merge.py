"""Merging sessions into profiles: only the new events are read, the profile is written by a
compare-and-set (a stale first guess is retried), nothing is written when nothing is new, and a session
re-created under another owner is merged into the right profile."""

from __future__ import annotations

import redis

from dialogue.state.events import ItemMentioned, TurnsRewound, UserUttered
from dialogue.state.serialize import EventCache
from dialogue.store.locks import SessionLocks
from dialogue.store.redis_store import StateStore


class CountingCache(EventCache):
    """An event cache that counts the events it had to decode."""

    def __init__(self) -> None:
        super().__init__()
        self.decoded = 0

    def decode(self, raw: bytes):  # type: ignore[no-untyped-def]
        if raw not in self._events:
            self.decoded += 1
        return super().decode(raw)


def test_merge_reads_only_the_events_not_merged_yet(redis_client: redis.Redis) -> None:
    writer = StateStore(redis_client)
    sid = writer.create_session("alice")
    writer.append_events(sid, [ItemMentioned(i, "liked") for i in range(30)])
    cache = CountingCache()
    store = StateStore(redis_client, event_cache=cache)
    store.merge_session(sid)
    assert cache.decoded == 31
    writer.append_events(sid, [ItemMentioned(100, "disliked"), ItemMentioned(101, "seen")])
    profile = store.merge_session(sid)
    assert cache.decoded == 33  # the two new events, not the log again
    assert profile is not None and profile.version == 2 and profile.merged_events == {sid: 33}
    assert list(profile.disliked_items) == [100] and 101 in profile.seen_items
    again = store.merge_session(sid)  # nothing new: nothing written
    assert again is not None and again.version == 2 and store.get_profile("alice").version == 2


def test_an_undo_among_the_new_events_is_resolved_on_the_whole_log(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    sid = store.create_session("alice")
    store.append_events(sid, [UserUttered(1, "I like 1"), ItemMentioned(1, "liked", turn=1)])
    store.merge_session(sid)
    store.append_events(
        sid,
        [
            UserUttered(2, "I like 2"),
            ItemMentioned(2, "liked", turn=2),
            TurnsRewound(to_turn=2),
            UserUttered(3, "I like 3"),
            ItemMentioned(3, "liked", turn=3),
        ],
    )
    profile = store.merge_session(sid)
    assert profile is not None and list(profile.liked_items) == [1, 3]  # turn 2 was undone
    assert profile.merged_events == {sid: 8}


def test_a_stale_profile_from_the_start_of_the_turn_is_retried(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session("alice")
    with locks.hold(sid):
        store.load_state(sid)
        store.get_profile("alice")  # the merge's first guess
        other = StateStore(redis_client)
        edited = other.get_profile("alice")
        edited.set_profile_text("likes heists", by_user=True)
        other.put_profile(edited)  # another session / request writes the profile meanwhile
        t = store.next_turn(sid)
        store.append_events(sid, [UserUttered(t, "Heat"), ItemMentioned(9, "liked", turn=t)])
        profile = store.merge_session(sid)
    assert profile is not None and profile.version == 2
    stored = store.get_profile("alice")
    assert stored.profile_text == "likes heists" and list(stored.liked_items) == [9]
    assert stored.merged_events == {sid: 3} and stored.version == 2


def test_a_session_recreated_under_another_owner_merges_there(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    sid = store.create_session("alice", session_id="s-1")
    store.load_state(sid)  # the store remembers: s-1 belongs to alice
    other = StateStore(redis_client)
    other.delete_session(sid)
    other.create_session("bob", session_id="s-1")
    other.append_events(sid, [ItemMentioned(4, "liked")])
    profile = store.merge_session(sid)
    assert profile is not None and profile.user_id == "bob" and list(profile.liked_items) == [4]
    assert store.get_profile("alice").version == 0
