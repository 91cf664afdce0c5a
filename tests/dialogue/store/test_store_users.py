"""Users: profiles persist across sessions and merge; optimistic concurrency; session index;
delete_user leaves no key behind, even while sessions are being created."""

from __future__ import annotations

import contextlib
import threading

import pytest
import redis

from dialogue.state.events import AttributePreferred, FeedbackGiven, ItemMentioned, ProfileEdited, UserUttered
from dialogue.store.redis_store import StateStore
from recsys.errors import ConflictError, SessionNotFoundError, ValidationError
from tests.dialogue.state.event_samples import session_log


@pytest.fixture
def store(redis_client: redis.Redis) -> StateStore:
    return StateStore(redis_client, ttl_seconds=60)


def all_keys(client: redis.Redis) -> list[str]:
    return sorted(k.decode() for k in client.scan_iter(match="crs:*", count=1000))


def test_profile_persists_across_sessions_and_merges(store: StateStore) -> None:
    s1 = store.create_session("alice")
    store.append_events(s1, session_log(s1, "alice")[1:])
    p = store.merge_session(s1)
    assert p is not None and p.version == 1 and list(p.liked_items) == [42]
    s2 = store.create_session("alice")
    store.append_events(
        s2,
        [
            UserUttered(1, "actually Interstellar was great and I'm done with sci-fi"),
            FeedbackGiven(3, "like"),
            AttributePreferred("genre:sci-fi", "disliked"),
            ProfileEdited("Likes clever thrillers.", "user"),
        ],
    )
    store.merge_session(s2)
    profile = store.get_profile("alice")
    assert profile.version == 2
    assert list(profile.liked_items) == [42, 3] and not profile.disliked_items
    assert list(profile.disliked_attributes) == ["genre:sci-fi"]
    assert list(profile.liked_attributes) == ["decade:2000s"]
    assert (profile.profile_text, profile.profile_version, profile.edited_by_user) == (
        "Likes clever thrillers.",
        1,
        True,
    )
    assert profile.merged_events == {s1: len(session_log()), s2: 5}
    assert store.list_sessions("alice") == [s1, s2]


def test_merge_is_idempotent_and_incremental(store: StateStore) -> None:
    sid = store.create_session("alice")
    store.append_events(sid, [ItemMentioned(1, "liked")])
    store.merge_session(sid)
    store.merge_session(sid)
    store.append_events(sid, [ItemMentioned(2, "disliked")])
    p = store.merge_session(sid)
    assert p is not None and list(p.liked_items) == [1] and list(p.disliked_items) == [2]
    assert p.merged_events == {sid: 3}


def test_anonymous_and_deleted_sessions_do_not_merge(store: StateStore) -> None:
    assert store.merge_session(store.create_session()) is None
    sid = store.create_session("alice")
    store.delete_session(sid)
    with pytest.raises(SessionNotFoundError):
        store.merge_session(sid)
    assert store.get_profile("alice").version == 0  # nothing written


def test_missing_profile_is_empty_version_zero(store: StateStore) -> None:
    p = store.get_profile("nobody")
    assert p.user_id == "nobody" and p.version == 0 and p.is_empty


def test_put_profile_optimistic_concurrency(store: StateStore) -> None:
    mine, theirs = store.get_profile("alice"), store.get_profile("alice")
    mine.set_profile_text("mine", by_user=True)
    assert store.put_profile(mine).version == 1
    theirs.set_profile_text("theirs", by_user=False)
    with pytest.raises(ConflictError, match="version 1, not 0"):
        store.put_profile(theirs)
    assert theirs.version == 0  # unchanged by the failed write
    fresh = store.get_profile("alice")
    assert fresh.profile_text == "mine"
    fresh.forget_item(5)
    assert store.put_profile(fresh).version == 2


def test_bad_user_ids_are_rejected(store: StateStore) -> None:
    for bad in ("", "a}b", "{u:x}", "has space", "x" * 129):
        with pytest.raises(ValidationError, match="invalid user id"):
            store.create_session(bad)
    with pytest.raises(ValidationError):
        store.get_profile("a{b")


def test_delete_user_leaves_no_keys(store: StateStore, redis_client: redis.Redis) -> None:
    alice = [store.create_session("alice") for _ in range(2)]
    for sid in alice:
        store.append_events(sid, session_log(sid, "alice")[1:])
        store.next_turn(sid)
        store.merge_session(sid)
    StateStore(redis_client, snapshot_every=2).load_state(alice[0])  # a snapshot key too
    bob = store.create_session("bob")
    store.append_events(bob, [ItemMentioned(1, "liked")])
    store.merge_session(bob)
    anon = store.create_session()
    before = all_keys(redis_client)
    assert sum(1 for k in before if any(s in k for s in alice) or "{u:alice}" in k) == 5 + 4 + 2

    deleted = store.delete_user("alice")

    after = all_keys(redis_client)
    assert deleted == 11
    assert not [k for k in after if "{u:alice}" in k or any(s in k for s in alice)]
    assert after == [k for k in before if "{u:alice}" not in k and not any(s in k for s in alice)]
    assert store.load_state(bob).liked_items.to_list() == [1] and store.load_state(anon).user_id is None
    assert store.get_profile("alice").version == 0 and store.list_sessions("alice") == []
    assert store.delete_user("alice") == 0


def test_delete_user_racing_session_creation_leaves_no_orphans(
    store: StateStore, redis_client: redis.Redis
) -> None:
    stop = threading.Event()
    created: list[str] = []

    def create_loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(ConflictError):  # deleted mid-creation: the session removed itself
                created.append(store.create_session("carol"))

    workers = [threading.Thread(target=create_loop) for _ in range(3)]
    for w in workers:
        w.start()
    for _ in range(40):
        store.delete_user("carol")
    stop.set()
    for w in workers:
        w.join()
    assert len(created) > 10
    # every live session of carol is indexed, so one more delete_user erases everything
    index = set(store.list_sessions("carol"))
    live = {k.decode().split("{s:")[1].split("}")[0] for k in redis_client.scan_iter(match="crs:{s:*}:meta")}
    assert live == index
    store.delete_user("carol")
    assert all_keys(redis_client) == []
