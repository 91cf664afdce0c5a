"""`load_state_for_turn`: the state and a new turn number in one round trip, the same as `load_state`
then `next_turn`; `give_back_turn` undoes an unused number unless someone took a later one."""

from __future__ import annotations

import pytest
import redis
import redis.connection

from dialogue.state.events import BotUttered, ItemMentioned, SessionEnded, UserUttered
from dialogue.state.serialize import state_to_dict
from dialogue.store.locks import SessionLocks
from dialogue.store.redis_store import StateStore
from recsys.errors import SessionNotFoundError


def _turn(store: StateStore, sid: str, t: int, item: int) -> None:
    store.append_events(
        sid, [UserUttered(t, f"I like {item}"), ItemMentioned(item, "liked", turn=t), BotUttered(t, "ok")]
    )


def test_the_state_and_the_number_are_those_of_load_state_and_next_turn(redis_client: redis.Redis) -> None:
    fused, plain = StateStore(redis_client, snapshot_every=4), StateStore(redis_client, snapshot_every=4)
    sid = fused.create_session("alice")
    for n in range(1, 6):  # past a snapshot: the load then starts from it
        state, turn = fused.load_state_for_turn(sid)
        assert turn == n
        assert state_to_dict(state) == state_to_dict(plain.load_state(sid))
        _turn(fused, sid, turn, n)
    assert plain.next_turn(sid) == 6  # the counter is the one next_turn increments
    assert [e.turn for e in plain.load_events(sid) if isinstance(e, UserUttered)] == [1, 2, 3, 4, 5]


def test_an_unused_number_goes_back_unless_a_later_one_was_taken(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    sid = store.create_session()
    _, turn = store.load_state_for_turn(sid)
    assert turn == 1 and store.give_back_turn(sid, 1)
    _, turn = store.load_state_for_turn(sid)
    assert turn == 1  # handed out again, as if never taken
    assert store.next_turn(sid) == 2  # another writer took 2 meanwhile
    assert not store.give_back_turn(sid, 1)  # so 1 stays taken: 2 must not be given out twice
    assert store.next_turn(sid) == 3


def test_an_ended_session_takes_no_number(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    sid = store.create_session()
    store.append_events(sid, [SessionEnded(reason="user")])
    state, turn = store.load_state_for_turn(sid)
    assert state.ended and turn is None
    assert int(redis_client.get(store.keys.session(sid, "turn"))) == 0
    with pytest.raises(SessionNotFoundError):
        store.load_state_for_turn("nope")


def test_under_the_lock_the_number_is_handed_out_locally(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session()
    with locks.hold(sid):
        state, turn = store.load_state_for_turn(sid)  # from the lock's preload: no number taken here
        assert turn is None and state.session_id == sid
        assert store.next_turn(sid) == 1  # the lock's counter + 1, without a round trip
        _turn(store, sid, 1, 3)
    assert StateStore(redis_client).next_turn(sid) == 2


def test_an_unlocked_turn_takes_two_round_trips(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [0]
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self: redis.connection.AbstractConnection, *args: object, **kwargs: object) -> None:
        sent[0] += 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    store = StateStore(redis_client)
    sid = store.create_session()
    _, turn = store.load_state_for_turn(sid)
    _turn(store, sid, turn, 1)  # loads the scripts
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    _, turn = store.load_state_for_turn(sid)
    _turn(store, sid, turn, 2)
    assert turn == 2 and sent[0] == 2  # load + turn number, append


def test_the_scripts_are_loaded_again_after_the_server_lost_them(redis_client: redis.Redis) -> None:
    """The hot scripts go out as plain EVALSHA (`scripts.run`); a server that forgot them (a restart, a
    SCRIPT FLUSH) gets them again, and the calls give what they always did."""
    store = StateStore(redis_client)
    locks = SessionLocks(redis_client, store.keys, preloader=store)
    sid = store.create_session()
    redis_client.script_flush()
    state, turn = store.load_state_for_turn(sid)
    assert (state.event_count, turn) == (1, 1)
    redis_client.script_flush()
    _turn(store, sid, 1, 7)
    redis_client.script_flush()
    with locks.hold(sid):
        assert list(store.load_state(sid).liked_items) == [7]
    assert store.next_turn(sid) == 2
