"""Property-based tests (hypothesis) of the dialogue state machine: random conversations (messages and
button feedback) through the DialogueManager on the real test Redis, over the 16-movie world of
`tests.api.synthetic`. After every step:

- a disliked item (in the session or in the user's profile) is never recommended;
- nothing shown before is shown again, nor anything rejected or accepted; no item twice in one list;
- turn numbers go 1, 2, 3, ... with the messages;
- the state the store serves (snapshot + tail) equals a replay of the whole event log, and the state the
  manager reported after the step.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogue.manager import DialogueManager
from dialogue.results import StateSummary
from dialogue.state.state import DialogueState
from dialogue.store import StateStore
from tests.api.synthetic import MOVIES, tiny_manager
from tests.redis_fixtures import RedisServer

N_ITEMS = len(MOVIES)
TITLES = [title for title, *_ in MOVIES]
TEMPLATES = [
    "I loved {t}",
    "I hated {t}",
    "I've seen {t}",
    "something like {t} but funnier",
    "not {t}",
    "I loved {t} but not {u}",
    "no horror please",
    "I like sci-fi",
    "more please",
    "something else",
    "recommend something",
    "not that one",
    "I loved the first one",
    "the second one looks good, I'll watch it",
    "why the first one?",
    "something from the 90s",
    "include movies I've already seen",
    "thanks, bye",
    "show me 3 more",
]
messages = st.builds(
    lambda template, t, u: template.format(t=t, u=u),
    st.sampled_from(TEMPLATES),
    st.sampled_from(TITLES),
    st.sampled_from(TITLES),
)
feedback = st.tuples(
    st.just("feedback"),
    st.integers(0, N_ITEMS - 1),
    st.sampled_from(["like", "dislike", "accept", "reject", "seen"]),
)
steps = st.lists(st.one_of(st.tuples(st.just("say"), messages), feedback), min_size=1, max_size=8)


@pytest.fixture(scope="module")
def manager(redis_server: RedisServer) -> Iterator[DialogueManager]:
    store = StateStore(redis_server.client(), ttl_seconds=600, snapshot_every=3)
    yield tiny_manager(store)
    store.close()


def check_store(manager: DialogueManager, sid: str, reported: dict) -> DialogueState:
    store = manager.store
    served = store.load_state(sid)
    assert served == DialogueState.replay(store.load_events(sid))
    assert StateSummary.of(served, manager.catalog).to_dict() == reported
    return served


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=steps, with_user=st.booleans())
def test_random_conversations_keep_the_invariants(
    manager: DialogueManager, script: list[tuple], with_user: bool, redis_client: object
) -> None:
    user = "prop-user" if with_user else None
    if user:
        manager.store.delete_user(user)  # each example starts from an empty profile
    sid = manager.start_session(user)
    shown: set[int] = set()
    turn = 0
    for step in script:
        before = manager.store.load_state(sid)
        profile_disliked = set(manager.store.get_profile(user).disliked_items) if user else set()
        if step[0] == "feedback":
            _, item, kind = step
            summary = manager.feedback(sid, item, kind).to_dict()
            check_store(manager, sid, summary)
            continue
        result = manager.turn(sid, step[1])
        turn += 1
        assert result.turn == turn, step
        after = check_store(manager, sid, result.state.to_dict())
        recs = [r.item_id for r in result.recommendations]
        assert len(recs) == len(set(recs)) and all(0 <= i < N_ITEMS for i in recs)
        assert not set(recs) & set(after.disliked_items), (step, recs)
        assert not set(recs) & profile_disliked, (step, recs)
        assert not set(recs) & shown, (step, "shown again", recs)
        assert not set(recs) & (set(before.rejected_items) | set(before.accepted_items))
        shown |= set(recs)
        assert shown <= set(after.shown_items) | set(after.accepted_items) | set(after.rejected_items)
        if after.ended:
            break
    events = manager.store.load_events(sid)
    user_turns = [e.turn for e in events if type(e).__name__ == "UserUttered"]
    assert user_turns == list(range(1, turn + 1))
    manager.store.delete_session(sid)
