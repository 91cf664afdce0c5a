"""Title normalisation: natural titles, match keys, alternates, numbers, genres."""

from __future__ import annotations

import pytest

from recsys.catalog.normalize import (
    canonical_genre,
    canonical_genres,
    move_article,
    parse_movielens_title,
    parse_redial_name,
    split_alternates,
    split_year,
    title_key,
    title_numbers,
)


@pytest.mark.parametrize(
    ("released", "natural"),
    [
        ("Matrix, The", "The Matrix"),
        ("Misérables, Les", "Les Misérables"),
        ("Ours, L'", "L'Ours"),
        ("Laberinto del fauno, El", "El Laberinto del fauno"),
        ("Boot, Das", "Das Boot"),
        ("Good, the Bad and the Ugly, The", "The Good, the Bad and the Ugly"),
        ("Hobbit, The: An Unexpected Journey", "The Hobbit: An Unexpected Journey"),
        ("Sex, Lies, and Videotape", "Sex, Lies, and Videotape"),  # no article at the end: unchanged
        ("Crouching Tiger, Hidden Dragon", "Crouching Tiger, Hidden Dragon"),
    ],
)
def test_move_article_puts_trailing_articles_in_front(released: str, natural: str) -> None:
    assert move_article(released) == natural


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Matrix, The", "The Matrix"),
        ("The Matrix", "Matrix"),
        ("Star Wars: Episode II – Attack of the Clones", "Star Wars: Episode II - Attack of the Clones"),
        ("Amélie", "Amelie"),
        ("Mr. & Mrs. Smith", "Mr and Mrs Smith"),
        ("Schindler's List", "Schindlers List"),
        ("S.W.A.T.", "SWAT"),
        ("Rocky IV", "Rocky 4"),
        ("Angels in the  Outfield", "Angels in the Outfield"),
        ("Misérables, Les", "Les Miserables"),
    ],
)
def test_title_key_equal_for_spellings_of_one_title(a: str, b: str) -> None:
    assert title_key(a) == title_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("Toy Story", "Toy Story 2"), ("Die Hard", "Hard"), ("La La Land", "Land")]
)
def test_title_key_keeps_different_titles_apart(a: str, b: str) -> None:
    assert title_key(a) != title_key(b)


def test_split_alternates_and_aka() -> None:
    assert split_alternates("Seven (a.k.a. Se7en)") == ("Seven", ["Se7en"])
    assert split_alternates("Seventh Seal, The (Sjunde inseglet, Det)") == (
        "Seventh Seal, The",
        ["Sjunde inseglet, Det"],
    )
    assert split_alternates("(500) Days of Summer") == ("(500) Days of Summer", [])
    # a parenthesis that continues the title is not an alternate
    assert split_alternates("Birdman: Or (The Unexpected Virtue of Ignorance)")[1] == []


def test_parse_movielens_title_gives_natural_title_and_alternates() -> None:
    parsed = parse_movielens_title("Shall We Dance? (Shall We Dansu?)", 1996)
    assert (parsed.title, parsed.alternates, parsed.year) == ("Shall We Dance?", ("Shall We Dansu?",), 1996)
    assert parse_movielens_title("Seventh Seal, The (Sjunde inseglet, Det)").alternates == (
        "Det Sjunde inseglet",
    )


def test_parse_redial_name_years_spaces_and_escapes() -> None:
    assert split_year("Angels in the Outfield  (1994)") == ("Angels in the Outfield", 1994)
    assert split_year("The Godfather ") == ("The Godfather", None)
    parsed = parse_redial_name("What's Up, Tiger Lily%3F (1966)")
    assert (parsed.title, parsed.year) == ("What's Up, Tiger Lily?", 1966)


def test_title_numbers_tell_sequels_apart() -> None:
    assert title_numbers(title_key("Toy Story 2")) == {"2"}
    assert title_numbers(title_key("Rocky IV")) == {"4"}
    assert title_numbers(title_key("Toy Story")) == frozenset()


def test_genre_vocabulary_merges_sources() -> None:
    assert canonical_genre("Sci-Fi") == canonical_genre("science fiction") == "sci-fi"
    assert canonical_genre("Children") == canonical_genre("family") == "family"
    assert canonical_genre("IMAX") is None
    assert canonical_genres(("action", "sci-fi"), ("Science Fiction", "Drama")) == (
        "action",
        "sci-fi",
        "drama",
    )
