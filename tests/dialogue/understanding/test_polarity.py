"""Polarity of mentions: cues, negation scope, evaluations, questions, seen / not seen."""

from __future__ import annotations

import pytest

from dialogue.understanding import Polarity, RuleExtractor
from recsys.catalog.types import Catalog

L, D, S, N = Polarity.LIKED, Polarity.DISLIKED, Polarity.SEEN, Polarity.NEUTRAL


def item_polarities(extractor: RuleExtractor, catalog: Catalog, text: str) -> dict[str, Polarity]:
    return {
        catalog[m.item_id].title: m.polarity for m in extractor.extract(text).items if m.item_id is not None
    }


def attr_polarities(extractor: RuleExtractor, text: str) -> dict[str, Polarity]:
    return {a.attribute: a.polarity for a in extractor.extract(text).attributes}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I like comedies but not horror", {"genre:comedy": L, "genre:horror": D}),
        ("I don't like horror but I love comedies", {"genre:horror": D, "genre:comedy": L}),
        ("no horror or thrillers please", {"genre:horror": D, "genre:thriller": D}),
        ("anything but horror", {"genre:horror": D}),
        ("nothing but action", {"genre:action": L}),
        ("nothing with Adam Sandler", {"star:adam sandler": D}),
        ("I'm not into horror", {"genre:horror": D}),
        ("I'm not really into superhero movies", {"tag:superhero": D}),
        ("I'm into horror", {"genre:horror": L}),
        ("not a fan of musicals", {"genre:musical": D}),
        ("I can't stand war movies", {"genre:war": D}),
        ("I never liked musicals", {"genre:musical": D}),
        ("I'd rather not watch horror", {"genre:horror": D}),
        ("comedies without Will Ferrell", {"genre:comedy": L, "star:will ferrell": D}),
        ("No, horror!", {"genre:horror": L}),  # the comma ends the "no"
        ("I hate horror but not thrillers", {"genre:horror": D, "genre:thriller": N}),
        ("I don't mind horror as long as it's not gory", {"genre:horror": L, "tag:gore": D}),
    ],
)
def test_attribute_negation_scope(extractor: RuleExtractor, text: str, expected: dict[str, Polarity]) -> None:
    assert attr_polarities(extractor, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I loved Heat", {"Heat": L}),
        ("I hated Crash", {"Crash": D}),
        ("I've already seen Inception", {"Inception": S}),
        ("I haven't seen Inception", {"Inception": N}),
        ("I didn't see Inception", {"Inception": N}),
        ("have you seen Inception?", {"Inception": N}),
        ("what is Inception about?", {"Inception": N}),
        ("Is Inception any good?", {"Inception": N}),  # an evaluation asked, not stated
        ("Inception was great", {"Inception": L}),
        ("Inception wasn't that good", {"Inception": D}),
        ("Inception was not bad", {"Inception": L}),
        ("Interstellar was too long", {"Interstellar": D}),
        ("Inception is one of my all time favorites", {"Inception": L}),
        ("Get Out was creepy but really good", {"Get Out": L}),
        ("I saw Inception and loved it", {"Inception": L}),
        ("I watched Memento last week and it was brilliant", {"Memento": L}),
        ("I hated Saw, but The Conjuring was great", {"Saw": D, "The Conjuring": L}),
        ("I've already seen Heat and I hated Taken", {"Heat": S, "Taken": D}),
        ("I've seen Heat but not Taken", {"Heat": S, "Taken": N}),
        ("I loved Heat, Memento and Inception", {"Heat": L, "Memento": L, "Inception": L}),
        ("Something like Heat", {"Heat": L}),
        ("I'm not into romance movies like Titanic", {"Titanic": D}),
        ("I want something scarier than Annabelle", {"Annabelle": N}),
        ("not Heat, I've seen it", {"Heat": D}),
        ("if you liked Heat you will like Taken", {"Heat": N, "Taken": N}),  # about "you", not the user
    ],
)
def test_item_polarity(extractor: RuleExtractor, catalog: Catalog, text: str, expected: dict[str, Polarity]):
    assert item_polarities(extractor, catalog, text) == expected


def test_redial_style_message(extractor: RuleExtractor, ids) -> None:
    u = extractor.extract("Hi! I'm looking for a good comedy, I liked @100044 and @100049")
    assert {(m.item_id, m.polarity) for m in u.items} == {
        (ids["Superbad (2007)"], L),
        (ids["Happy Gilmore (1996)"], L),
    }
    assert [(a.attribute, a.polarity) for a in u.attributes] == [("genre:comedy", L)]


def test_a_mood_word_that_praises_a_movie_is_not_a_wish(extractor: RuleExtractor) -> None:
    u = extractor.extract("Superbad was hilarious")
    assert u.attributes == ()
    assert u.items[0].polarity is L
    assert extractor.extract("lol that's funny").attributes == ()
    assert [a.attribute for a in extractor.extract("something funny").attributes] == ["genre:comedy"]
