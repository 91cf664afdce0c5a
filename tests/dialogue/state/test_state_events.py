"""Events: JSON round trip of every type, and clear errors for unknown types, fields, slots and values."""

from __future__ import annotations

import json
import typing

import pytest

from dialogue.state.events import (
    AttributeKind,
    AttributePreferred,
    CritiqueGiven,
    Event,
    ItemMentioned,
    ItemsRecommended,
    QuestionAnswered,
    SessionStarted,
    SlotSet,
    UserUttered,
    event_types,
)
from dialogue.state.serialize import event_from_dict, event_from_json, event_to_dict, event_to_json
from recsys.errors import ValidationError
from recsys.models.types import ATTRIBUTE_KINDS
from tests.dialogue.state.event_samples import SAMPLES


def test_samples_cover_every_event_type() -> None:
    assert {type(e) for e in SAMPLES} == set(event_types().values())
    assert len(event_types()) == 16


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.type}")
def test_json_round_trip(event: Event) -> None:
    text = event_to_json(event)
    data = json.loads(text)
    assert data["type"] == event.type
    assert data["at"] == event.at
    back = event_from_json(text)
    assert type(back) is type(event)
    assert back == event
    assert event_from_dict(event_to_dict(event)) == event


def test_json_keeps_unicode_and_float_precision() -> None:
    e = ItemsRecommended(1, (1, 2), (0.1 + 0.2, 1e-300), at=1712345678.123456)
    back = event_from_json(event_to_json(e))
    assert back.scores == (0.1 + 0.2, 1e-300) and back.at == 1712345678.123456
    u = UserUttered(1, "Amélie 🎬 “quotes”")
    assert "Amélie 🎬" in event_to_json(u)
    assert event_from_json(event_to_json(u)).text == "Amélie 🎬 “quotes”"


def test_defaults_timestamp_now_and_no_id() -> None:
    import time

    before = time.time()
    e = UserUttered(1, "hi")
    assert before <= e.at <= time.time() and e.event_id is None


def test_unknown_type_is_named_with_known_types() -> None:
    with pytest.raises(ValidationError, match=r"unknown event type 'item_loved'.*user_uttered"):
        event_from_dict({"type": "item_loved", "item_id": 1})
    with pytest.raises(ValidationError, match="unknown event type None"):
        event_from_dict({"item_id": 1})


def test_unknown_field_is_named() -> None:
    with pytest.raises(ValidationError, match=r"'user_uttered'.*mood: unknown field"):
        event_from_dict({"type": "user_uttered", "turn": 1, "text": "hi", "mood": "happy"})


def test_missing_field_is_named() -> None:
    with pytest.raises(ValidationError, match=r"text: Field required"):
        event_from_dict({"type": "user_uttered", "turn": 1})


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "item_mentioned", "item_id": -1, "polarity": "liked"}, "item_id"),
        ({"type": "item_mentioned", "item_id": "42", "polarity": "liked"}, "item_id"),
        ({"type": "item_mentioned", "item_id": True, "polarity": "liked"}, "item_id"),
        ({"type": "item_mentioned", "item_id": 1, "polarity": "loved"}, "polarity"),
        ({"type": "user_uttered", "turn": 1, "text": ""}, "text"),
        ({"type": "user_uttered", "turn": 1.5, "text": "x"}, "turn"),
        ({"type": "attribute_preferred", "attribute": "sci-fi", "polarity": "liked"}, "kind:value"),
        ({"type": "attribute_preferred", "attribute": "mood:dark", "polarity": "liked"}, "kind:value"),
        ({"type": "attribute_preferred", "attribute": "genre: padded", "polarity": "liked"}, "padded"),
        ({"type": "items_recommended", "turn": 1, "item_ids": [1, 2], "scores": [0.5]}, "2 item_ids but 1"),
        ({"type": "items_recommended", "turn": 1, "item_ids": [1, 1], "scores": [0.5, 0.4]}, "duplicates"),
        (
            {"type": "question_asked", "turn": 1, "attribute_kind": "genre", "options": ["decade:1990s"]},
            "kind",
        ),
        ({"type": "question_asked", "turn": 1, "attribute_kind": "mood"}, "attribute_kind"),
        (
            {
                "type": "question_answered",
                "turn": 1,
                "attribute_kind": "genre",
                "liked": ["genre:x"],
                "disliked": ["genre:x"],
            },
            "both liked and disliked",
        ),
        ({"type": "critique_given", "turn": 1, "dimension": "decade", "direction": "up"}, "direction"),
        ({"type": "feedback_given", "item_id": 1, "kind": "love"}, "kind"),
        ({"type": "profile_edited", "text": "x", "source": "admin"}, "source"),
        ({"type": "session_started", "session_id": "bad{id}"}, "session_id"),
        ({"type": "session_started", "session_id": "ok", "at": -5}, "at"),
        ({"type": "user_uttered", "turn": 1, "text": "x", "event_id": ""}, "event_id"),
    ],
)
def test_bad_values_are_rejected_naming_the_field(data: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        event_from_dict(data)


def test_unknown_slot_and_bad_slot_values_raise() -> None:
    with pytest.raises(ValidationError, match=r"unknown slot 'mood'; known slots: include_seen"):
        SlotSet("mood", "happy")
    with pytest.raises(ValidationError, match="unknown slot 'mood'"):
        event_from_dict({"type": "slot_set", "name": "mood", "value": 1})
    with pytest.raises(ValidationError, match="takes a year"):
        SlotSet("year_min", "1990")
    with pytest.raises(ValidationError, match=r"outside 1870\.\.2100"):
        SlotSet("year_max", 3000)
    with pytest.raises(ValidationError, match="true or false"):
        SlotSet("include_seen", 1)
    with pytest.raises(ValidationError, match=r"outside 1\.\.50"):
        SlotSet("n_recommendations", 0)


def test_direct_construction_errors_are_validation_errors_naming_fields() -> None:
    with pytest.raises(ValidationError, match=r"^UserUttered: turn: .*greater than or equal to 0"):
        UserUttered(-1, "hi")
    with pytest.raises(ValidationError, match=r"item_ids\.1: Input should be a valid integer"):
        ItemsRecommended(1, (1, "x"), (0.1, 0.2))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown field"):
        ItemMentioned(1, "liked", colour="red")  # type: ignore[call-arg]


def test_events_are_frozen_and_hashable() -> None:
    e = AttributePreferred("genre:drama", "liked", at=1.0)
    with pytest.raises(AttributeError):
        e.polarity = "disliked"  # type: ignore[misc]
    assert hash(e) == hash(AttributePreferred("genre:drama", "liked", at=1.0))


def test_sequences_become_tuples() -> None:
    e = QuestionAnswered(1, "genre", liked=["genre:drama"])  # type: ignore[arg-type]
    assert e.liked == ("genre:drama",) and isinstance(e.liked, tuple)
    assert CritiqueGiven(1, "decade", "less").reference_item is None


def test_non_json_and_non_object_input() -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        event_from_json("{nope")
    with pytest.raises(ValidationError, match="JSON object"):
        event_from_json("[1, 2]")


def test_attribute_kind_literal_matches_the_models_kinds() -> None:
    assert typing.get_args(AttributeKind) == ATTRIBUTE_KINDS


def test_type_tags_are_unique_and_match_registry() -> None:
    for tag, cls in event_types().items():
        assert cls.type == tag
    assert SessionStarted.type == "session_started"


def test_slot_schema_and_validators_agree() -> None:
    from dataclasses import fields

    from dialogue.state.slots import SLOT_NAMES, Slots

    assert set(SLOT_NAMES) == {f.name for f in fields(Slots)}
    assert Slots.from_dict(Slots().to_dict()) == Slots()
    with pytest.raises(ValidationError, match="unknown slot 'genre'"):
        Slots.from_dict({"genre": "x"})
