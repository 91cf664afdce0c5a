"""Critiques: dimension and direction of each wording, reference items, moods that imply a critique."""

from __future__ import annotations

import pytest

from dialogue.understanding import DialogueContext, Intent, RuleExtractor


def crits(extractor: RuleExtractor, text: str) -> set[tuple[str, str]]:
    return {(c.dimension, c.direction) for c in extractor.extract(text).critiques}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("less violent please", {("violence", "less")}),
        ("something more recent", {("recency", "more")}),
        ("anything newer?", {("recency", "more")}),
        ("something lighter", {("darkness", "less")}),
        ("something darker", {("darkness", "more")}),
        ("funnier", {("humor", "more")}),
        ("something more serious", {("humor", "less")}),
        ("shorter please", {("length", "less")}),
        ("that was too long", {("length", "less")}),
        ("too old for me", {("recency", "more")}),
        ("not as dark please", {("darkness", "less")}),
        ("not scary enough", {("scariness", "more")}),
        ("too much gore", {("violence", "less")}),
        ("more cheerful", {("darkness", "less")}),
        ("more popular stuff", {("popularity", "more")}),
        ("a hidden gem", {("popularity", "less")}),
        ("something recent", {("recency", "more")}),
        ("I love old movies", {("recency", "less")}),
        ("nothing mainstream", {("popularity", "less")}),
        ("I'm no longer into horror", set()),  # "no longer" is not about length
    ],
)
def test_wordings(extractor: RuleExtractor, text: str, expected: set[tuple[str, str]]) -> None:
    assert crits(extractor, text) == expected


def test_comparative_critiques_are_marked_and_limits_are_not(extractor: RuleExtractor) -> None:
    (shorter,) = extractor.extract("something shorter").critiques
    (limit,) = extractor.extract("nothing too long").critiques
    (recent,) = extractor.extract("something recent").critiques
    assert shorter.comparative and not limit.comparative and not recent.comparative
    assert (limit.dimension, limit.direction) == ("length", "less")


def test_like_x_but_funnier_refers_to_x(extractor: RuleExtractor, ids) -> None:
    u = extractor.extract("Like Superbad but funnier")
    (c,) = u.critiques
    assert (c.dimension, c.direction, c.reference_item) == ("humor", "more", ids["Superbad (2007)"])
    assert c.attribute == "genre:comedy"  # the catalog attribute humour maps to
    assert u.intent is Intent.CRITIQUE


def test_critique_refers_to_a_recommendation_named_by_reference(extractor: RuleExtractor, ids) -> None:
    ctx = DialogueContext(last_recommended=(ids["Saving Private Ryan (1998)"],))
    u = extractor.extract("something like that but less violent", ctx)
    (c,) = u.critiques
    assert c.reference_item == ids["Saving Private Ryan (1998)"]


def test_critique_span_points_at_its_words(extractor: RuleExtractor) -> None:
    text = "Can you find something a bit lighter?"
    (c,) = extractor.extract(text).critiques
    assert text[c.start : c.end] == c.surface == "lighter"


def test_moods_imply_critiques_and_refusing_a_mood_flips_them(extractor: RuleExtractor) -> None:
    assert crits(extractor, "something light") == {("darkness", "less")}
    assert crits(extractor, "scary but not gory") == {("violence", "less")}
    assert crits(extractor, "I want something gory") == {("violence", "more")}
    assert crits(extractor, "nothing heavy") == {("darkness", "less")}


def test_a_question_about_a_movie_is_not_a_critique(extractor: RuleExtractor) -> None:
    assert crits(extractor, "Is The Exorcist too scary for a 12 year old?") == set()
