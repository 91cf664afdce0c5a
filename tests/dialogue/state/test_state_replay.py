"""Replay == incremental apply, snapshots (state JSON) resume exactly, and rewinds (undo)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogue.state.events import (
    AttributePreferred,
    BotUttered,
    CritiqueGiven,
    Event,
    FeedbackGiven,
    ItemAccepted,
    ItemMentioned,
    ItemRejected,
    ItemsRecommended,
    ProfileEdited,
    QuestionAnswered,
    QuestionAsked,
    SessionStarted,
    SlotSet,
    TurnsRewound,
    UserUttered,
)
from dialogue.state.rewind import effective_events, rewind, rewind_target
from dialogue.state.serialize import state_from_json, state_to_json
from dialogue.state.state import DialogueState, TranscriptEntry
from tests.dialogue.state.event_samples import session_log

ITEMS = st.integers(0, 6)
TURNS = st.integers(0, 5)
ATTRS = st.sampled_from(["genre:drama", "genre:comedy", "decade:1990s", "star:tom hanks"])
GENRES = st.lists(st.sampled_from(["genre:drama", "genre:comedy", "genre:horror"]), unique=True, max_size=2)

EVENT = st.one_of(
    st.builds(
        UserUttered, TURNS, st.sampled_from(["hi", "more like that", "no"]), st.none() | st.just("ask")
    ),
    st.builds(BotUttered, TURNS, st.sampled_from(["ok", "how about these?"])),
    st.builds(ItemMentioned, ITEMS, st.sampled_from(["liked", "disliked", "seen"])),
    st.builds(FeedbackGiven, ITEMS, st.sampled_from(["like", "dislike", "accept", "reject", "seen"])),
    st.builds(
        lambda t, ids: ItemsRecommended(t, tuple(ids), tuple(1.0 / (i + 1) for i in range(len(ids)))),
        TURNS,
        st.lists(ITEMS, unique=True, max_size=4),
    ),
    st.builds(ItemAccepted, TURNS, ITEMS),
    st.builds(ItemRejected, TURNS, ITEMS),
    st.builds(AttributePreferred, ATTRS, st.sampled_from(["liked", "disliked"])),
    st.builds(CritiqueGiven, TURNS, st.just("decade"), st.sampled_from(["more", "less"]), st.none() | ITEMS),
    st.builds(lambda t, o: QuestionAsked(t, "genre", tuple(o)), TURNS, GENRES),
    st.builds(
        lambda t, g, d: QuestionAnswered(
            t, "genre", liked=tuple(g), disliked=tuple(x for x in d if x not in g)
        ),
        TURNS,
        GENRES,
        GENRES,
    ),
    st.builds(SlotSet, st.just("year_min"), st.none() | st.integers(1950, 2020)),
    st.builds(SlotSet, st.just("year_max"), st.none() | st.integers(1950, 2020)),
    st.builds(SlotSet, st.just("include_seen"), st.booleans()),
    st.builds(ProfileEdited, st.sampled_from(["", "likes drama"]), st.sampled_from(["user", "llm"])),
)
LOG = st.lists(EVENT, max_size=40).map(lambda evs: [SessionStarted("s", "u", at=0.0), *evs])
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(LOG)
def test_replay_equals_incremental_apply(log: list[Event]) -> None:
    incremental = DialogueState.start(log[0])  # type: ignore[arg-type]
    for event in log[1:]:
        incremental.apply(event)
    assert DialogueState.replay(log) == incremental


@FAST
@given(LOG, st.data())
def test_snapshot_plus_tail_equals_full_replay(log: list[Event], data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(log)))
    snapshot = state_to_json(DialogueState.replay(log[:k]))
    resumed = state_from_json(snapshot).apply_all(log[k:])
    assert resumed == DialogueState.replay(log)


def test_state_json_round_trip_of_a_full_session() -> None:
    state = DialogueState.replay(session_log())
    assert state_from_json(state_to_json(state)) == state
    assert state.turn == 3 and state.event_count == len(session_log())


def test_rewind_undoes_the_last_turn() -> None:
    log = session_log()
    assert rewind_target(log, 1) == 3
    state = DialogueState.replay(rewind(log, 1))
    full = DialogueState.replay(log)
    # turn 3 brought decade:2000s, year_min 2000, a critique, items 5, 6 shown and 5 rejected
    assert "decade:2000s" in full.liked_attributes and "decade:2000s" not in state.liked_attributes
    assert state.slots.year_min is None and not state.critiques and not state.rejected_items
    assert list(state.shown_items) == [3, 4, 9]  # accepting 9 in turn 2 touched it last
    assert [t.turn for t in state.transcript] == [0, 1, 2]
    assert state.pending_question == "decade"  # the question of turn 2 is open again


def test_turns_rewound_event_in_the_log_then_new_turns_apply() -> None:
    log = session_log()
    log += [
        TurnsRewound(2, at=5.0),
        UserUttered(4, "actually I liked Interstellar", at=5.1),
        ItemMentioned(3, "liked", at=5.2),
    ]
    state = DialogueState.replay(log)
    assert list(state.liked_items) == [42, 3] and not state.disliked_items
    assert 9 not in state.accepted_items  # accepted in the undone turn 2
    assert state.transcript[-1] == TranscriptEntry(4, "actually I liked Interstellar", None)
    assert state.event_count == len(log) and state.turn == 4


def test_rewind_to_a_future_turn_changes_nothing() -> None:
    log = session_log()
    assert DialogueState.replay([*log, TurnsRewound(99)]).liked_items == DialogueState.replay(log).liked_items
    assert effective_events([*log, TurnsRewound(99)]) == log


def test_rewinding_more_turns_than_exist_keeps_only_the_greeting() -> None:
    log = session_log()
    assert rewind_target(log, 10) == 1
    state = DialogueState.replay(rewind(log, 10))
    assert state.transcript == [TranscriptEntry(0, None, "Hi! What would you like to watch?")]
    assert not state.liked_items and not state.shown_items
    assert rewind_target(log[:2], 1) is None and rewind(log[:2], 1) == log[:2]


def test_nested_rewinds_resolve_in_order() -> None:
    log = session_log()
    log += [TurnsRewound(3), UserUttered(4, "x"), ItemMentioned(0, "liked"), TurnsRewound(4)]
    state = DialogueState.replay(log)
    assert list(state.liked_items) == [42]  # turn 3 and then turn 4 were undone
    assert rewind_target(log, 1) == 2
