"""Tokenisation and normalisation shared by all matchers."""

from __future__ import annotations

from dialogue.understanding.text import MessageView, normalize_phrase, normalize_word, title_tokens, tokenize


def test_normalize_word_strips_case_accents_and_apostrophes() -> None:
    assert normalize_word("Amélie") == "amelie"
    assert normalize_word("Don't") == "dont"
    assert normalize_word("Schindler’s") == "schindlers"


def test_tokenize_keeps_offsets_and_redial_ids() -> None:
    text = "I liked @111776 and Spider-Man!"
    tokens = tokenize(text)
    assert [t.norm for t in tokens] == ["i", "liked", "@111776", "and", "spider", "man"]
    at = tokens[2]
    assert at.redial_id == 111776 and text[at.start : at.end] == "@111776"
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_ampersand_reads_as_and() -> None:
    assert normalize_phrase("Fast & Furious") == ("fast", "and", "furious")


def test_title_tokens_put_a_trailing_article_first_and_drop_the_year() -> None:
    assert title_tokens("Matrix, The (1999)") == ("the", "matrix")
    assert title_tokens("Star Wars: Episode IV - A New Hope") == (
        "star",
        "wars",
        "episode",
        "iv",
        "a",
        "new",
        "hope",
    )


def test_sentence_starts_ignore_abbreviations() -> None:
    view = MessageView.of("I liked it. Mr. Smith did not. E.T. was fine")
    starts = {t.text: s for t, s in zip(view.tokens, view.sentence_start, strict=True)}
    assert starts["Mr"] is True and starts["Smith"] is False
    assert starts["was"] is False


def test_capitalisation_means_nothing_in_all_caps_or_title_case_messages() -> None:
    assert MessageView.of("I loved Heat yesterday").caps_meaningful
    assert not MessageView.of("I LOVED HEAT YESTERDAY SO MUCH").caps_meaningful
    assert not MessageView.of("I Really Liked The Movie Yesterday").caps_meaningful
