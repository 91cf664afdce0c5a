"""The state rules, one known answer each (see the rule table in dialogue/state/state.py)."""

from __future__ import annotations

import pytest

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
    SessionEnded,
    SessionStarted,
    SlotSet,
    TurnsRewound,
    UserUttered,
    event_types,
)
from dialogue.state.state import Critique, DialogueState, Question, TranscriptEntry, handled_event_types
from recsys.errors import ValidationError


def run(*events: Event) -> DialogueState:
    return DialogueState.replay([SessionStarted("s", "u", at=0.0), *events])


def test_every_event_type_has_a_rule() -> None:
    assert handled_event_types() == set(event_types().values())


def test_start_sets_identity() -> None:
    s = run()
    assert (s.session_id, s.user_id, s.started_at, s.turn, s.event_count) == ("s", "u", 0.0, 0, 1)


def test_item_liked_after_disliked_moves_last_word_wins() -> None:
    s = run(ItemMentioned(5, "disliked"), ItemMentioned(5, "liked"))
    assert list(s.liked_items) == [5] and 5 not in s.disliked_items
    s = run(ItemMentioned(5, "liked"), FeedbackGiven(5, "dislike"))
    assert list(s.disliked_items) == [5] and 5 not in s.liked_items


def test_liked_and_disliked_items_count_as_seen_seen_does_not_imply_a_verdict() -> None:
    s = run(ItemMentioned(1, "liked"), ItemMentioned(2, "disliked"), ItemMentioned(3, "seen"))
    assert list(s.seen_items) == [1, 2, 3]
    assert list(s.liked_items) == [1] and list(s.disliked_items) == [2]


def test_sets_keep_recency_order() -> None:
    s = run(ItemMentioned(1, "liked"), ItemMentioned(2, "liked"), ItemMentioned(1, "liked"))
    assert list(s.liked_items) == [2, 1]


def test_recommended_items_are_shown_in_rank_order() -> None:
    s = run(ItemsRecommended(1, (4, 2, 9), (0.9, 0.8, 0.1)), ItemsRecommended(2, (7, 2), (1.0, 0.5)))
    assert list(s.shown_items) == [4, 9, 7, 2]
    assert s.last_recommendation is not None
    assert s.last_recommendation.item_ids == (7, 2) and s.last_recommendation.turn == 2


def test_rejected_item_counts_as_shown_but_not_disliked() -> None:
    s = run(ItemRejected(1, 8))
    assert 8 in s.shown_items and 8 in s.rejected_items
    assert 8 not in s.disliked_items and 8 not in s.seen_items


def test_accepted_item_counts_as_shown_but_not_liked() -> None:
    s = run(ItemAccepted(1, 8))
    assert list(s.accepted_items) == [8] and 8 in s.shown_items and 8 not in s.liked_items


def test_accept_after_reject_moves_and_back() -> None:
    s = run(ItemRejected(1, 8), ItemAccepted(2, 8))
    assert list(s.accepted_items) == [8] and not s.rejected_items
    s = run(ItemAccepted(1, 8), FeedbackGiven(8, "reject"))
    assert list(s.rejected_items) == [8] and not s.accepted_items


@pytest.mark.parametrize(
    ("kind", "attr"),
    [
        ("like", "liked_items"),
        ("dislike", "disliked_items"),
        ("seen", "seen_items"),
        ("accept", "accepted_items"),
        ("reject", "rejected_items"),
    ],
)
def test_feedback_kinds_map_to_their_sets(kind: str, attr: str) -> None:
    s = run(FeedbackGiven(3, kind))  # type: ignore[arg-type]
    assert 3 in getattr(s, attr)


def test_attribute_preferences_last_word_wins() -> None:
    s = run(
        AttributePreferred("genre:horror", "liked"),
        AttributePreferred("genre:comedy", "liked"),
        AttributePreferred("genre:horror", "disliked"),
    )
    assert list(s.liked_attributes) == ["genre:comedy"]
    assert list(s.disliked_attributes) == ["genre:horror"]


def test_question_asked_then_answered() -> None:
    s = run(QuestionAsked(1, "genre", ("genre:comedy", "genre:drama")))
    assert s.pending_question == "genre"
    assert s.last_question == Question(1, "genre", ("genre:comedy", "genre:drama"))
    assert list(s.asked_kinds) == ["genre"]
    s.apply(QuestionAnswered(2, "genre", liked=("genre:comedy",), disliked=("genre:drama",)))
    assert s.pending_question is None
    assert list(s.liked_attributes) == ["genre:comedy"] and list(s.disliked_attributes) == ["genre:drama"]
    assert s.last_question is not None  # kept for reference


def test_answer_of_another_kind_keeps_the_pending_question() -> None:
    s = run(QuestionAsked(1, "genre"), QuestionAnswered(2, "decade", liked=("decade:1990s",)))
    assert s.pending_question == "genre" and "decade:1990s" in s.liked_attributes


def test_no_preference_answer_clears_pending() -> None:
    s = run(QuestionAsked(1, "decade"), QuestionAnswered(2, "decade"))
    assert s.pending_question is None and not s.liked_attributes


def test_critiques_accumulate_in_order() -> None:
    s = run(CritiqueGiven(1, "decade", "more", reference_item=3), CritiqueGiven(2, "tag:funny", "less"))
    assert s.critiques == [Critique(1, "decade", "more", 3), Critique(2, "tag:funny", "less", None)]


def test_transcript_pairs_user_text_and_replies() -> None:
    s = run(
        BotUttered(0, "Hello!"),
        UserUttered(1, "hi", intent="greet"),
        BotUttered(1, "What do you like?"),
        BotUttered(1, "Any genre?"),
        UserUttered(2, "comedies", intent="inform"),
    )
    assert s.transcript == [
        TranscriptEntry(0, None, "Hello!"),
        TranscriptEntry(1, "hi", "What do you like?\nAny genre?"),
        TranscriptEntry(2, "comedies", None),
    ]
    assert s.last_intent == "inform" and s.turn == 2


def test_turn_is_the_highest_turn_seen_and_counts_events() -> None:
    s = run(UserUttered(3, "a"), BotUttered(2, "late reply"), ItemMentioned(1, "liked"), ItemAccepted(5, 1))
    assert s.turn == 5 and s.event_count == 5


def test_slots_typed_and_year_window_conflict_rule() -> None:
    s = run(SlotSet("year_min", 1990), SlotSet("year_max", 1999), SlotSet("n_recommendations", 3))
    assert (s.slots.year_min, s.slots.year_max, s.slots.n_recommendations) == (1990, 1999, 3)
    s.apply(SlotSet("year_min", 2005))  # above year_max: the newer constraint wins whole
    assert (s.slots.year_min, s.slots.year_max) == (2005, None)
    s.apply(SlotSet("year_max", 1980))
    assert (s.slots.year_min, s.slots.year_max) == (None, 1980)
    with pytest.raises(ValidationError, match="unknown slot"):
        s.slots.set("genre", "x")


def test_profile_edit_records_source() -> None:
    s = run(ProfileEdited("likes noir", "llm"))
    assert (s.profile_text, s.profile_edited_by_user) == ("likes noir", False)
    s.apply(ProfileEdited("likes noir, not gore", "user"))
    assert (s.profile_text, s.profile_edited_by_user) == ("likes noir, not gore", True)


def test_session_end_and_no_event_after_it() -> None:
    s = run(SessionEnded("done"))
    assert s.ended and s.end_reason == "done"
    with pytest.raises(ValidationError, match="has ended"):
        s.apply(UserUttered(9, "wait"))


def test_second_session_started_and_missing_start_raise() -> None:
    with pytest.raises(ValidationError, match="already started"):
        run(SessionStarted("s", "u"))
    with pytest.raises(ValidationError, match="starts with session_started"):
        DialogueState.replay([UserUttered(1, "hi")])
    with pytest.raises(ValidationError, match="empty"):
        DialogueState.replay([])


def test_incremental_rewind_is_refused_with_advice() -> None:
    with pytest.raises(ValidationError, match="replay"):
        run().apply(TurnsRewound(1))


def test_excluded_items_respect_include_seen() -> None:
    s = run(
        ItemMentioned(1, "liked"),
        ItemMentioned(2, "seen"),
        ItemMentioned(3, "disliked"),
        ItemsRecommended(1, (4,), (1.0,)),
        ItemRejected(1, 5),
        ItemAccepted(1, 6),
    )
    assert s.excluded_items() == {1, 2, 3, 4, 5, 6}
    s.apply(SlotSet("include_seen", True))
    assert s.excluded_items() == {3, 4, 5, 6}


def test_copy_is_independent() -> None:
    s = run(ItemMentioned(1, "liked"))
    c = s.copy()
    c.apply(ItemMentioned(2, "liked"))
    assert list(s.liked_items) == [1] and list(c.liked_items) == [1, 2]
