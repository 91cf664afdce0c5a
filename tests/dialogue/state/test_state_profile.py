"""UserProfile: merge rules across sessions, incremental and idempotent merging, JSON round trip."""

from __future__ import annotations

import pytest

from dialogue.state.events import (
    AttributePreferred,
    FeedbackGiven,
    ItemMentioned,
    ProfileEdited,
    SessionStarted,
    TurnsRewound,
    UserUttered,
)
from dialogue.state.profile import UserProfile
from dialogue.state.serialize import profile_from_json, profile_to_json
from recsys.errors import ValidationError
from tests.dialogue.state.event_samples import session_log


def test_merge_keeps_long_term_facts_only() -> None:
    p = UserProfile("alice")
    assert p.merge_session("s1", session_log("s1", "alice")) == len(session_log())
    assert list(p.liked_items) == [42]
    assert list(p.disliked_items) == [3]
    assert list(p.seen_items) == [42, 3]
    assert list(p.accepted_items) == [9]
    assert list(p.liked_attributes) == ["genre:sci-fi", "decade:2000s"]
    # shown items, the rejection of 5, critiques and slots are session-local
    assert 5 not in p.accepted_items and 5 not in p.disliked_items and 6 not in p.seen_items
    assert p.merged_events == {"s1": len(session_log())}


def test_merging_again_is_idempotent_and_incremental() -> None:
    log = session_log("s1", "alice")
    p = UserProfile("alice")
    p.merge_session("s1", log[:5])
    assert list(p.liked_items) == [42] and not p.disliked_items
    p.merge_session("s1", log)
    once = profile_to_json(p)
    assert p.merge_session("s1", log) == 0
    assert profile_to_json(p) == once


def test_newer_session_overrides_older_verdicts() -> None:
    p = UserProfile("alice")
    p.merge_session("s1", session_log("s1", "alice"))  # 42 liked, 3 disliked
    later = [
        SessionStarted("s2", "alice", at=10.0),
        ItemMentioned(42, "disliked", at=11.0),
        FeedbackGiven(3, "like", at=12.0),
        AttributePreferred("genre:sci-fi", "disliked", at=13.0),
    ]
    p.merge_session("s2", later)
    assert list(p.liked_items) == [3] and list(p.disliked_items) == [42]
    assert "genre:sci-fi" in p.disliked_attributes and "genre:sci-fi" not in p.liked_attributes
    assert p.updated_at == 13.0


def test_profile_text_is_versioned_and_tracks_who_wrote_it() -> None:
    p = UserProfile("alice")
    p.merge_session("s1", [SessionStarted("s1", "alice"), ProfileEdited("likes sci-fi", "llm")])
    assert (p.profile_text, p.profile_version, p.edited_by_user) == ("likes sci-fi", 1, False)
    p.set_profile_text("likes sci-fi, hates gore", by_user=True)
    assert (p.profile_version, p.edited_by_user) == (2, True)


def test_undone_turns_not_yet_merged_are_skipped() -> None:
    log = [
        SessionStarted("s1", "alice"),
        UserUttered(1, "I love 5"),
        ItemMentioned(5, "liked"),
        TurnsRewound(1),
        UserUttered(2, "I love 6"),
        ItemMentioned(6, "liked"),
    ]
    p = UserProfile("alice")
    p.merge_session("s1", log)
    assert list(p.liked_items) == [6]


def test_merge_refuses_foreign_or_shrunken_logs() -> None:
    p = UserProfile("alice")
    with pytest.raises(ValidationError, match="belongs to 'bob'"):
        p.merge_session("s1", session_log("s1", "bob"))
    with pytest.raises(ValidationError, match="log of session s2 given for session s1"):
        p.merge_session("s1", session_log("s2", "alice"))
    p.merge_session("s1", session_log("s1", "alice"))
    with pytest.raises(ValidationError, match="already merged"):
        p.merge_session("s1", session_log("s1", "alice")[:3])
    with pytest.raises(ValidationError, match="starts with session_started"):
        p.merge_session("s1", [])


def test_forget_item_and_attribute() -> None:
    p = UserProfile("alice")
    p.merge_session("s1", session_log("s1", "alice"))
    assert p.forget_item(42) and 42 not in p.liked_items and 42 not in p.seen_items
    assert not p.forget_item(1000)
    assert p.forget_attribute("genre:sci-fi") and not p.forget_attribute("genre:sci-fi")


def test_json_round_trip_and_schema_check() -> None:
    p = UserProfile("alice")
    assert p.is_empty
    p.merge_session("s1", session_log("s1", "alice"))
    p.set_profile_text("text", by_user=False)
    back = profile_from_json(profile_to_json(p))
    assert back == p and not back.is_empty
    with pytest.raises(ValidationError, match="schema 99"):
        profile_from_json(profile_to_json(p).replace('"schema":1', '"schema":99'))
    with pytest.raises(ValidationError, match=r"unknown keys \['colour'\]"):
        profile_from_json(profile_to_json(p).replace('{"schema":1,', '{"schema":1,"colour":1,'))
