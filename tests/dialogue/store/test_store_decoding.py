"""Loading a session decodes its stored events (from the process' cache when seen before); an entry that
does not decode is refused with the session and the event's index, however the state is loaded."""

from __future__ import annotations

import pytest
import redis

from dialogue.state.events import BotUttered, UserUttered
from dialogue.state.serialize import EventCache
from dialogue.store.redis_store import StateStore
from recsys.errors import ValidationError


def test_a_corrupt_event_is_named_by_its_index(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, event_cache=EventCache())
    sid = store.create_session()
    store.append_events(sid, [UserUttered(1, "hi"), BotUttered(1, "hello")])
    assert store.load_state(sid).turn == 1
    redis_client.rpush(store.keys.session(sid, "events"), b'{"type":"user_uttered","turn":-1,"text":"x"}')
    for load in (store.load_state, store.load_state_for_turn, store.load_events):
        with pytest.raises(ValidationError, match=rf"session {sid}, event #3: .*turn"):
            load(sid)
    assert len(store.events) == 3  # the good events are cached, the bad one never is
