"""Session expiry: sessions expire after `ttl_seconds` without activity; every read or write refreshes it;
user profiles never expire."""

from __future__ import annotations

import time

import pytest
import redis

from dialogue.state.events import ItemMentioned, UserUttered
from dialogue.store.redis_store import StateStore
from recsys.errors import SessionNotFoundError


def session_keys(client: redis.Redis, sid: str) -> list[bytes]:
    return [k for k in client.scan_iter(match="crs:*") if sid.encode() in k]


def test_every_session_key_gets_the_ttl_and_profiles_none(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, ttl_seconds=30, snapshot_every=2)
    sid = store.create_session("alice")
    store.next_turn(sid)
    store.append_events(sid, [UserUttered(1, "hi"), ItemMentioned(4, "liked")])
    store.load_state(sid)  # writes a snapshot
    store.merge_session(sid)
    keys = session_keys(redis_client, sid)
    assert len(keys) == 5
    assert all(29_000 < redis_client.pttl(k) <= 30_000 for k in keys)
    for key in store.keys.user_keys("alice"):
        assert redis_client.pttl(key) == -1  # exists, no expiry


def test_session_expires_and_activity_refreshes_it(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, ttl_seconds=1.0)
    sid = store.create_session("alice")
    store.append_events(sid, [UserUttered(1, "hi"), ItemMentioned(4, "liked")])
    store.merge_session(sid)
    activities = [
        lambda: store.load_state(sid),
        lambda: store.append_events(sid, [UserUttered(2, "more")]),
        lambda: store.next_turn(sid),
        lambda: store.session_user(sid),
    ]
    start = time.monotonic()
    for act in activities:  # 4 x 0.4 s = 1.6 s > TTL: alive only because each call refreshes it
        time.sleep(0.4)
        act()
        assert store.session_ttl(sid) is not None and store.session_ttl(sid) > 0.9
    assert time.monotonic() - start > 1.5
    assert store.load_state(sid).turn == 2
    time.sleep(1.15)
    assert store.session_ttl(sid) is None
    with pytest.raises(SessionNotFoundError, match="expired"):
        store.load_state(sid)
    assert session_keys(redis_client, sid) == []
    assert store.list_sessions("alice") == []  # the stale index entry is pruned
    profile = store.get_profile("alice")  # the profile outlives the session
    assert list(profile.liked_items) == [4] and profile.version == 1
