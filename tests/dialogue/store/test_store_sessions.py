"""StateStore sessions on a real Redis: create / append / load, idempotent appends, ended sessions,
snapshots, key layout (one hash slot per session and per user)."""

from __future__ import annotations

import json

import pytest
import redis
from redis.crc import key_slot

from dialogue.state.events import (
    BotUttered,
    ItemMentioned,
    SessionEnded,
    SessionStarted,
    TurnsRewound,
    UserUttered,
)
from dialogue.state.state import DialogueState
from dialogue.store.redis_store import StateStore
from recsys.errors import ConflictError, SessionEndedError, SessionNotFoundError, ValidationError
from tests.dialogue.state.event_samples import session_log


@pytest.fixture
def store(redis_client: redis.Redis) -> StateStore:
    return StateStore(redis_client, ttl_seconds=60, snapshot_every=8)


def test_create_append_load_round_trip(store: StateStore) -> None:
    sid = store.create_session("alice")
    events = session_log(sid, "alice")[1:]
    assert store.append_events(sid, events) == len(events)
    loaded = store.load_events(sid)
    assert isinstance(loaded[0], SessionStarted) and loaded[0].session_id == sid
    assert loaded[0].user_id == "alice" and loaded[0].event_id
    assert [(type(e), e.at) for e in loaded[1:]] == [(type(e), e.at) for e in events]
    assert all(e.event_id for e in loaded)  # the store gave every event an id
    state = store.load_state(sid)
    assert state == DialogueState.replay(loaded)
    assert list(state.liked_items) == [42] and state.turn == 3
    assert store.session_user(sid) == "alice"


def test_anonymous_session(store: StateStore) -> None:
    sid = store.create_session()
    assert store.session_user(sid) is None
    assert store.load_state(sid).user_id is None


def test_turn_numbers_count_up_per_session(store: StateStore) -> None:
    a, b = store.create_session(), store.create_session()
    assert [store.next_turn(a) for _ in range(3)] == [1, 2, 3]
    assert store.next_turn(b) == 1


def test_missing_session_raises_not_found(store: StateStore) -> None:
    for call in (store.load_state, store.load_events, store.next_turn, store.session_user):
        with pytest.raises(SessionNotFoundError, match="nosuch"):
            call("nosuch")
    with pytest.raises(SessionNotFoundError):
        store.append_events("nosuch", [UserUttered(1, "hi")])
    with pytest.raises(SessionNotFoundError, match="malformed"):
        store.load_state("bad{id}")


def test_appending_the_same_event_ids_again_is_a_no_op(store: StateStore) -> None:
    sid = store.create_session()
    batch = [UserUttered(1, "hi", event_id="t1-u"), BotUttered(1, "hello", event_id="t1-b")]
    assert store.append_events(sid, batch) == 2
    assert store.append_events(sid, batch) == 0  # a retried request
    assert store.append_events(sid, [*batch, UserUttered(2, "more", event_id="t2-u")]) == 1
    assert [e.event_id for e in store.load_events(sid)[1:]] == ["t1-u", "t1-b", "t2-u"]


def test_ended_session_refuses_events_but_accepts_a_retry(store: StateStore) -> None:
    sid = store.create_session()
    end = [UserUttered(1, "bye", event_id="u1"), SessionEnded("user_left", event_id="end")]
    assert store.append_events(sid, end) == 2
    assert store.append_events(sid, end) == 0
    with pytest.raises(SessionEndedError, match="has ended"):
        store.append_events(sid, [UserUttered(2, "wait")])
    with pytest.raises(SessionEndedError):
        store.next_turn(sid)
    assert store.load_state(sid).ended


def test_batch_rules(store: StateStore) -> None:
    sid = store.create_session()
    with pytest.raises(ValidationError, match="create_session"):
        store.append_events(sid, [SessionStarted(sid)])
    with pytest.raises(ValidationError, match="last event"):
        store.append_events(sid, [SessionEnded(), UserUttered(1, "x")])
    assert store.append_events(sid, []) == 0
    assert len(store.load_events(sid)) == 1


def test_session_id_chosen_by_caller_and_collision(store: StateStore) -> None:
    assert store.create_session("alice", session_id="my-session") == "my-session"
    with pytest.raises(ConflictError, match="already taken"):
        store.create_session("bob", session_id="my-session")
    assert store.list_sessions("bob") == []
    assert store.list_sessions("alice") == ["my-session"]


def test_snapshot_is_cached_and_used(store: StateStore, redis_client: redis.Redis) -> None:
    sid = store.create_session("alice")
    log = session_log(sid, "alice")[1:]
    store.append_events(sid, log[:10])
    first = store.load_state(sid)  # 11 events >= snapshot_every (8): a snapshot is written
    snap = redis_client.hgetall(store.keys.session(sid, "snapshot"))
    assert int(snap[b"n"]) == 11 and json.loads(snap[b"state"])["event_count"] == 11
    assert first == DialogueState.replay(store.load_events(sid))
    store.append_events(sid, log[10:])
    assert store.load_state(sid) == DialogueState.replay(store.load_events(sid))
    snap = redis_client.hgetall(store.keys.session(sid, "snapshot"))
    assert int(snap[b"n"]) == 19  # 8 more events: a newer snapshot
    # the snapshot really is read: a doctored one shows through
    doctored = json.loads(snap[b"state"])
    doctored["liked_items"] = [7]
    redis_client.hset(store.keys.session(sid, "snapshot"), "state", json.dumps(doctored))
    assert list(store.load_state(sid).liked_items) == [7]
    # a snapshot whose state does not cover `n` events is distrusted
    doctored["event_count"] = 3
    redis_client.hset(store.keys.session(sid, "snapshot"), "state", json.dumps(doctored))
    assert list(store.load_state(sid).liked_items) == [42]


def test_unreadable_or_stale_snapshot_falls_back_to_replay(
    store: StateStore, redis_client: redis.Redis
) -> None:
    sid = store.create_session("alice")
    store.append_events(sid, session_log(sid, "alice")[1:12])
    expected = DialogueState.replay(store.load_events(sid))
    key = store.keys.session(sid, "snapshot")
    redis_client.hset(key, mapping={"n": 5, "schema": 1, "state": "{not json"})
    assert store.load_state(sid) == expected
    redis_client.hset(key, mapping={"n": 5, "schema": 0, "state": "{}"})  # another schema: ignored by Lua
    assert store.load_state(sid) == expected


def test_rewind_after_a_snapshot_replays_everything(store: StateStore) -> None:
    sid = store.create_session("alice")
    store.append_events(sid, session_log(sid, "alice")[1:])
    store.load_state(sid)  # snapshot covering all turns
    store.append_events(
        sid, [TurnsRewound(2), UserUttered(4, "no, I liked Interstellar"), ItemMentioned(3, "liked")]
    )
    state = store.load_state(sid)
    assert state == DialogueState.replay(store.load_events(sid))
    assert list(state.liked_items) == [42, 3] and not state.accepted_items


def test_delete_session(store: StateStore, redis_client: redis.Redis) -> None:
    sid = store.create_session("alice")
    store.append_events(sid, [UserUttered(1, "hi")])
    assert store.delete_session(sid)
    assert not store.delete_session(sid)
    assert store.list_sessions("alice") == []
    assert redis_client.keys(f"*{sid}*") == []


def test_all_keys_of_a_session_or_user_share_one_slot(store: StateStore, redis_client: redis.Redis) -> None:
    sid = store.create_session("alice")
    store.append_events(sid, session_log(sid, "alice")[1:])
    store.next_turn(sid)
    store.load_state(sid)
    store.merge_session(sid)
    session_keys = [k for k in redis_client.keys("crs:*") if sid.encode() in k]
    user_keys = [k for k in redis_client.keys("crs:*") if b"{u:alice}" in k]
    assert len(session_keys) == 5 and len(user_keys) == 2
    assert len({key_slot(k) for k in session_keys}) == 1
    assert len({key_slot(k) for k in user_keys}) == 1
    assert all(k.startswith(b"crs:") for k in redis_client.keys("*"))


def test_custom_prefix(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, prefix="test:crs:")
    sid = store.create_session("bob")
    assert store.load_state(sid).session_id == sid
    keys = redis_client.keys("*")
    assert keys and all(k.startswith(b"test:crs:") for k in keys)
