"""The RuleExtractor end to end: `@id` resolution, offsets, validation, protocol, phrase precedence."""

from __future__ import annotations

import pytest

from dialogue.understanding import DialogueContext, Extractor, Intent, Polarity, RuleExtractor, Understanding
from recsys.errors import ValidationError


def test_rule_extractor_implements_the_extractor_protocol(extractor: RuleExtractor) -> None:
    assert isinstance(extractor, Extractor)


def test_redial_ids_resolve_and_unknown_ids_are_reported(extractor: RuleExtractor, ids) -> None:
    text = "I liked @100044 and @999999"
    u = extractor.extract(text)
    known, unknown = u.items
    assert (known.item_id, known.source, known.redial_id) == (ids["Superbad (2007)"], "at_id", 100044)
    assert unknown.item_id is None and unknown.redial_id == 999999 and not unknown.known
    assert unknown.polarity is Polarity.LIKED
    assert u.unknown_items == (unknown,)
    assert text[unknown.start : unknown.end] == "@999999"


def test_every_span_points_at_its_surface(extractor: RuleExtractor, ids) -> None:
    text = "Hi!! I loved The Dark Knight (2008) and Tom Hanks, but no horror, and something less violent"
    u = extractor.extract(text, DialogueContext(last_recommended=(ids["Heat (1995)"],)))
    spans = [*u.items, *u.attributes, *u.critiques]
    assert len(spans) == 4
    for s in spans:
        assert text[s.start : s.end] == s.surface


def test_same_movie_twice_is_one_mention_with_the_strongest_polarity(extractor: RuleExtractor, ids) -> None:
    u = extractor.extract("I've seen Inception. Inception was great")
    assert [(m.item_id, m.polarity) for m in u.items] == [(ids["Inception (2010)"], Polarity.LIKED)]


def test_a_mood_phrase_beats_a_lowercase_title_it_contains(extractor: RuleExtractor) -> None:
    u = extractor.extract("I want a scary movie")
    assert u.items == ()
    assert [a.attribute for a in u.attributes] == ["genre:horror"]
    assert [m.surface for m in extractor.extract("I loved Scary Movie").items] == ["Scary Movie"]


def test_a_person_is_not_a_title(extractor: RuleExtractor) -> None:
    u = extractor.extract("I really liked Heat with Al Pacino")
    assert [a.attribute for a in u.attributes] == ["star:al pacino"]
    assert [m.surface for m in u.items] == ["Heat"]


def test_context_question_kind_relaxes_short_answers(extractor: RuleExtractor, ids) -> None:
    assert extractor.extract("up").items == ()
    u = extractor.extract("up", DialogueContext(last_question_kind="item"))
    assert [m.item_id for m in u.items] == [ids["Up (2009)"]]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 5000])
def test_unusable_text_is_a_validation_error(extractor: RuleExtractor, bad: str) -> None:
    with pytest.raises(ValidationError):
        extractor.extract(bad)


def test_non_string_text_is_a_validation_error(extractor: RuleExtractor) -> None:
    with pytest.raises(ValidationError, match="string"):
        extractor.extract(None)  # type: ignore[arg-type]


def test_extraction_is_deterministic_and_returns_frozen_values(extractor: RuleExtractor) -> None:
    text = "Something like Heat but less violent, no horror"
    a, b = extractor.extract(text), extractor.extract(text)
    assert a == b
    assert isinstance(a, Understanding) and a.intent is Intent.CRITIQUE
    with pytest.raises(AttributeError):
        a.intent = Intent.CHIT_CHAT  # type: ignore[misc]


def test_convenience_accessors(extractor: RuleExtractor, ids) -> None:
    u = extractor.extract("I loved Heat but hated Crash; comedies yes, no horror")
    assert u.items_with(Polarity.LIKED) == (ids["Heat (1995)"],)
    assert u.items_with(Polarity.DISLIKED) == (ids["Crash (2004)"],)
    assert u.attributes_with(Polarity.DISLIKED) == ("genre:horror",)
