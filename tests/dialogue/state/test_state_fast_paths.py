"""The fast paths the store uses: pydantic-core event encoding (the same bytes as the reference
`json.dumps` encoding), stamping an event id without re-validation, the decoded-event cache, and merging
only the tail of a session log into a profile (the same profile as merging the whole log)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dialogue.state.events import ItemMentioned, SlotSet, TurnsRewound, UserUttered, with_event_id
from dialogue.state.profile import UserProfile
from dialogue.state.serialize import (
    EventCache,
    event_from_json,
    event_to_bytes,
    event_to_dict,
    event_to_json,
    profile_to_dict,
)
from recsys.errors import ValidationError
from tests.dialogue.state.event_samples import SAMPLES, session_log

TRICKY = 'Café \u2028 \x7f \x01 tab\t "quoted" back\\slash 😀 日本'


def reference_json(event: object) -> bytes:
    """The original encoding: json.dumps of event_to_dict, compact, non-ASCII kept."""
    text = json.dumps(event_to_dict(event), separators=(",", ":"), ensure_ascii=False, allow_nan=False)  # type: ignore[arg-type]
    return text.encode()


@pytest.mark.parametrize("event", [*SAMPLES, UserUttered(1, TRICKY, at=2.5), SlotSet("year_min", None)])
def test_event_bytes_are_the_reference_encoding(event: object) -> None:
    assert event_to_bytes(event) == reference_json(event)  # type: ignore[arg-type]
    assert event_to_json(event) == reference_json(event).decode()  # type: ignore[arg-type]
    assert event_from_json(event_to_bytes(event)) == event  # type: ignore[arg-type]


def test_only_float_exponents_may_be_spelt_differently() -> None:
    event = UserUttered(1, "hi", at=1e-7)
    assert event_to_bytes(event) != reference_json(event)  # 1e-7 vs 1e-07: the same number
    assert json.loads(event_to_bytes(event)) == json.loads(reference_json(event))
    assert event_from_json(event_to_bytes(event)) == event


def test_with_event_id_is_replace_without_revalidation() -> None:
    event = ItemMentioned(4, "liked", turn=2, at=5.0)
    stamped = with_event_id(event, "e-1")
    assert stamped == dataclasses.replace(event, event_id="e-1") and event.event_id is None
    assert type(stamped) is ItemMentioned
    with pytest.raises(dataclasses.FrozenInstanceError):
        stamped.item_id = 5  # type: ignore[misc]
    for bad in ("", "a b", "{x}", "x" * 129):
        with pytest.raises(ValidationError, match="ItemMentioned: event_id"):
            with_event_id(event, bad)


def test_event_cache_decodes_each_stored_event_once() -> None:
    cache = EventCache(capacity=3)
    raw = event_to_bytes(ItemMentioned(1, "liked", at=1.0))
    first = cache.decode(raw)
    assert cache.decode(raw) is first and first == ItemMentioned(1, "liked", at=1.0)
    stamped = with_event_id(UserUttered(1, "hi", at=2.0), "e2")
    assert cache.decode(cache.encode(stamped)) is stamped  # what this process wrote needs no decoding
    for i in range(3):
        cache.decode(event_to_bytes(ItemMentioned(10 + i, "seen", at=1.0)))
    assert len(cache) == 3 and cache.decode(raw) is not first  # evicted oldest first, decoded again


def test_event_cache_never_keeps_a_corrupt_event() -> None:
    cache = EventCache()
    bad = b'{"type":"item_mentioned","at":1.0,"event_id":null,"item_id":-4,"polarity":"liked","turn":null}'
    for _ in range(2):  # refused at every read, not remembered
        with pytest.raises(ValidationError, match="item_id"):
            cache.decode(bad)
    assert len(cache) == 0
    with pytest.raises(ValidationError, match="capacity"):
        EventCache(capacity=0)


def test_merging_tails_equals_merging_the_whole_log() -> None:
    log = session_log("s1", "alice")
    whole = UserProfile("alice")
    whole.merge_session("s1", log)
    pieces = UserProfile("alice")
    done = 0
    for end in (1, 4, 4, 9, 15, len(log)):
        assert pieces.merge_tail("s1", done, log[done:end]) == end - done
        done = end
    assert profile_to_dict(pieces) == profile_to_dict(whole)
    assert list(pieces.liked_items) == [42] and list(pieces.liked_attributes) == [
        "genre:sci-fi",
        "decade:2000s",
    ]


def test_merge_tail_refuses_what_it_cannot_merge_alone() -> None:
    log = session_log("s1", "alice")
    profile = UserProfile("alice")
    profile.merge_tail("s1", 0, log[:5])
    with pytest.raises(ValidationError, match="tail starts at event 4, but 5"):
        profile.merge_tail("s1", 4, log[4:])
    with pytest.raises(ValidationError, match="undo needs the whole log"):
        profile.merge_tail("s1", 5, [*log[5:8], TurnsRewound(to_turn=2)])
    with pytest.raises(ValidationError, match="starts with session_started"):
        UserProfile("alice").merge_tail("s1", 0, log[1:])
    assert profile.merged_events == {"s1": 5}  # the refused merges changed nothing
