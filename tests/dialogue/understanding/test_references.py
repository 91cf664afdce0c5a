"""References to the last recommendations: ordinals, numbers, pronouns, plurals."""

from __future__ import annotations

import pytest

from dialogue.understanding import DialogueContext, Polarity, RuleExtractor


@pytest.fixture
def three(ids) -> tuple[int, int, int]:
    return ids["Toy Story (1995)"], ids["Finding Nemo (2003)"], ids["Coco (2017)"]


def refs(extractor: RuleExtractor, text: str, shown: tuple[int, ...]) -> list[tuple[int | None, Polarity]]:
    u = extractor.extract(text, DialogueContext(last_recommended=shown))
    return [(m.item_id, m.polarity) for m in u.items if m.source == "reference"]


@pytest.mark.parametrize(
    ("text", "index", "polarity"),
    [
        ("I've seen the first one", 0, Polarity.SEEN),
        ("the second one sounds good", 1, Polarity.NEUTRAL),
        ("I loved the last one", 2, Polarity.LIKED),
        ("number 2 please", 1, Polarity.NEUTRAL),
        ("#3 looks fun", 2, Polarity.NEUTRAL),
        ("I don't like the third one", 2, Polarity.DISLIKED),
    ],
)
def test_ordinals(extractor: RuleExtractor, three, text: str, index: int, polarity: Polarity) -> None:
    assert refs(extractor, text, three) == [(three[index], polarity)]


def test_ordinal_beyond_the_list_is_ignored(extractor: RuleExtractor, three) -> None:
    assert refs(extractor, "the fifth one", three) == []


def test_plurals_refer_to_every_recommendation(extractor: RuleExtractor, three) -> None:
    assert refs(extractor, "I've seen all of them", three) == [(i, Polarity.SEEN) for i in three]


def test_pronouns_resolve_only_to_a_single_recommendation(extractor: RuleExtractor, three) -> None:
    assert refs(extractor, "seen it", three[:1]) == [(three[0], Polarity.SEEN)]
    assert refs(extractor, "seen it", three) == []  # which one? unresolved
    assert refs(extractor, "I loved that one", three[:1]) == [(three[0], Polarity.LIKED)]
    assert refs(extractor, "I'll watch that, thanks!", three[:1]) == [(three[0], Polarity.NEUTRAL)]


def test_pronouns_do_not_resolve_when_the_message_names_a_movie(extractor: RuleExtractor, three, ids) -> None:
    u = extractor.extract("I loved Heat, it was great", DialogueContext(last_recommended=three[:1]))
    assert [m.item_id for m in u.items] == [ids["Heat (1995)"]]


def test_that_before_a_noun_is_no_reference(extractor: RuleExtractor, three) -> None:
    assert refs(extractor, "I like that kind of movie", three[:1]) == []


def test_without_recommendations_nothing_is_resolved(extractor: RuleExtractor) -> None:
    assert extractor.extract("I've seen the first one").items == ()
