"""Round trips of a locked write: the lock's script also loads the session and reads the turn counter,
the turn number is committed by the append, the merge reuses the profile read and the events just
appended. Counted on the wire, with the same results as the plain path, and safe when someone goes
around the lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import redis.connection

from dialogue.state.events import BotUttered, ItemMentioned, UserUttered
from dialogue.state.serialize import state_to_dict
from dialogue.store.connection import connect
from dialogue.store.locks import SessionLocks
from dialogue.store.redis_store import StateStore
from recsys.errors import ConflictError
from recsys.settings import Settings


@dataclass
class Wire:
    """Commands (or pipelines) sent to Redis by this process since the last reset."""

    sent: int = 0


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    counter = Wire()
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self: redis.connection.AbstractConnection, *args: object, **kwargs: object) -> None:
        counter.sent += 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    yield counter


def turn(store: StateStore, locks: SessionLocks, sid: str, item: int) -> int:
    """What the dialogue manager does in a turn that likes an item, under the session's lock."""
    with locks.hold(sid):
        state = store.load_state(sid)
        if state.user_id is not None:
            store.get_profile(state.user_id)
        t = store.next_turn(sid)
        store.append_events(
            sid, [UserUttered(t, f"I like {item}"), ItemMentioned(item, "liked", turn=t), BotUttered(t, "ok")]
        )
        if state.user_id is not None:
            store.merge_session(sid)
    return t


def test_a_locked_turn_takes_four_round_trips(redis_client: redis.Redis, wire: Wire) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session("alice")
    turn(store, locks, sid, 1)  # loads the scripts
    wire.sent = 0
    assert turn(store, locks, sid, 2) == 2
    # lock + load + turn counter with the profile (pipelined), append + turn claim, profile
    # compare-and-set, release
    assert wire.sent == 4
    plain = SessionLocks(redis_client, store.keys)
    turn(store, plain, sid, 3)
    wire.sent = 0
    assert turn(store, plain, sid, 4) == 4
    # lock, load, profile, next turn, append, profile read, new events, compare-and-set, release
    assert wire.sent == 9
    profile = store.get_profile("alice")
    assert list(profile.liked_items) == [1, 2, 3, 4]
    assert profile.merged_events == {sid: 1 + 4 * 3} and profile.version == 4
    assert [e.turn for e in store.load_events(sid) if isinstance(e, UserUttered)] == [1, 2, 3, 4]


def test_a_preloaded_state_is_the_stored_state(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, snapshot_every=4)  # snapshot + tail, both paths
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session("alice")
    for item in range(5):
        turn(store, locks, sid, item)
        with locks.hold(sid):
            preloaded = store.load_state(sid)
        fresh = StateStore(redis_client).load_state(sid)
        assert state_to_dict(preloaded) == state_to_dict(fresh)
        assert preloaded.turn == item + 1 and list(preloaded.liked_items) == list(range(item + 1))


def test_a_preload_is_used_once_and_never_after_a_write(redis_client: redis.Redis, wire: Wire) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session()
    turn(store, locks, sid, 1)
    with locks.hold(sid):
        wire.sent = 0
        assert store.load_state(sid).turn == 1
        assert wire.sent == 0  # preloaded
        store.append_events(sid, [ItemMentioned(7, "liked")])
        wire.sent = 0
        assert list(store.load_state(sid).liked_items) == [1, 7]  # read again: the append is in it
        assert wire.sent == 1
    other = threading.Thread(target=lambda: store.append_events(sid, [ItemMentioned(8, "liked")]))
    with locks.hold(sid):  # a preload of this thread; another thread's write does not see it
        other.start()
        other.join()
    wire.sent = 0
    assert list(store.load_state(sid).liked_items) == [1, 7, 8]  # released: nothing kept
    assert wire.sent == 1


def test_turn_numbers_under_the_lock_from_many_threads(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store, wait_seconds=30)
    sid = store.create_session("alice")
    seen: list[tuple[int, int]] = []  # (turn number, turns seen in the loaded state)
    guard = threading.Lock()

    def writer(w: int) -> None:
        for i in range(10):
            with locks.hold(sid):
                before = store.load_state(sid).turn
                t = store.next_turn(sid)
                store.append_events(sid, [UserUttered(t, f"{w}:{i}"), ItemMentioned(100 * w + i, "liked")])
                store.merge_session(sid)
                with guard:
                    seen.append((t, before))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == [(t, t - 1) for t in range(1, 41)]  # each turn saw every earlier one
    events = store.load_events(sid)
    assert [e.turn for e in events if isinstance(e, UserUttered)] == list(range(1, 41))
    assert len(store.get_profile("alice").liked_items) == 40


def test_a_turn_number_taken_around_the_lock_refuses_the_append(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session()
    with locks.hold(sid):
        store.load_state(sid)
        mine = store.next_turn(sid)
        theirs = StateStore(redis_client).next_turn(sid)  # a writer without the lock (INCR)
        assert mine == theirs == 1
        with pytest.raises(ConflictError, match="took another turn"):
            store.append_events(sid, [UserUttered(mine, "hi")])
        assert store.next_turn(sid) == 2  # the counter is no longer trusted locally: INCR
    assert len(store.load_events(sid)) == 1  # nothing of the refused turn was stored


def test_an_unused_turn_number_is_handed_out_again(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session()
    with locks.hold(sid):
        store.load_state(sid)
        assert store.next_turn(sid) == 1  # the turn fails before anything is stored
    assert turn(store, locks, sid, 5) == 1
    assert turn(store, locks, sid, 6) == 2
    assert StateStore(redis_client).next_turn(sid) == 3  # the stored counter followed the appends


def test_locked_turns_on_a_cluster(cluster_url: str) -> None:
    """The lock + load script and the turn claim touch one slot: they run on a Redis Cluster."""
    client = connect(Settings(redis_url=cluster_url))
    store = StateStore(client, ttl_seconds=60)
    locks = SessionLocks(client, store.keys, preloader=store, wait_seconds=30)
    try:
        sids = [store.create_session(f"user-{i}") for i in range(3)]  # spread over the nodes
        threads = [
            threading.Thread(target=lambda sid=sid: [turn(store, locks, sid, i) for i in range(5)])
            for sid in sids
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, sid in enumerate(sids):
            turns = [e.turn for e in store.load_events(sid) if isinstance(e, UserUttered)]
            assert turns == list(range(1, 11))
            profile = store.get_profile(f"user-{i}")
            assert set(profile.liked_items) == {0, 1, 2, 3, 4} and profile.merged_events == {sid: 31}
    finally:
        for sid in sids:
            store.delete_session(sid)
        store.close()


def test_nested_holds_in_one_thread_keep_each_sessions_turns(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    a, b = store.create_session("alice"), store.create_session("alice")
    with locks.hold(a):
        store.load_state(a)
        ta = store.next_turn(a)  # handed out locally, committed by the append below
        assert turn(store, locks, b, 1) == 1  # another session's hold starts and ends meanwhile
        store.append_events(a, [UserUttered(ta, "hi"), ItemMentioned(2, "liked", turn=ta)])
        store.merge_session(a)
    assert ta == 1
    fresh = StateStore(redis_client)
    assert fresh.next_turn(a) == 2 and fresh.next_turn(b) == 2  # both counters were committed
    assert fresh.get_profile("alice").merged_events == {a: 3, b: 4}


def test_the_dialogue_managers_turns_under_the_lock(redis_client: redis.Redis, wire: Wire) -> None:
    """The real manager, as the API runs it: a preference turn is four round trips once the session has
    been merged before (the first merge reads the log), a turn the profile keeps nothing of three."""
    from tests.api.synthetic import MATRIX, tiny_manager

    alien = 2  # the catalog id of Alien in tests.api.synthetic (as in test_cluster)

    store = StateStore(redis_client)
    manager = tiny_manager(store)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = manager.start_session("alice")
    with locks.hold(sid):
        manager.turn(sid, "I loved The Matrix")  # the first merge, and the scripts get loaded
    wire.sent = 0
    with locks.hold(sid):
        disliked = manager.turn(sid, "I hated Alien")
    assert wire.sent == 4 and disliked.turn == 2
    wire.sent = 0
    with locks.hold(sid):
        manager.turn(sid, "hello")  # nothing the profile keeps: no merge
    assert wire.sent == 3
    profile = store.get_profile("alice")
    assert list(profile.liked_items) == [MATRIX] and list(profile.disliked_items) == [alien]
    events = store.load_events(sid)
    assert profile.merged_events[sid] < len(events)  # the last turn is merged by the next merge
    assert [e.turn for e in events if isinstance(e, UserUttered)] == [1, 2, 3]


def test_the_profile_read_with_the_lock_is_never_stale_for_its_own_writes(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session("alice")
    store.load_state(sid)  # the owner is known: the lock's round trip also reads alice's profile
    with locks.hold(sid):
        store.update_profile("alice", lambda p: p.liked_items.add(5))  # this thread writes it first
        assert list(store.get_profile("alice").liked_items) == [5]  # read again, not the prefetch
    with locks.hold(sid):
        StateStore(redis_client).update_profile("alice", lambda p: p.liked_items.add(6))
        # another writer after the lock: the turn sees the profile as of its lock, as if read then
        assert list(store.get_profile("alice").liked_items) == [5]
        assert list(store.get_profile("alice").liked_items) == [5, 6]  # used once
    other = SessionLocks(redis_client, store.keys)  # no preloader: a plain lock, a plain read
    with other.hold(sid):
        assert store.get_profile("alice").version == 2


def test_scripts_flushed_from_the_server_are_loaded_again(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session("alice")
    assert turn(store, locks, sid, 1) == 1  # the owner is known from here on: the pipelined path
    redis_client.script_flush()  # a restarted / failed-over server has no scripts
    assert turn(store, locks, sid, 2) == 2
    assert list(store.get_profile("alice").liked_items) == [1, 2]
