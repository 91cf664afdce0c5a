"""Free-text titles over the fixed test catalog: variants, years, typos and common-word precision."""

from __future__ import annotations

import pytest

from dialogue.understanding.text import MessageView
from dialogue.understanding.titles import TitleIndex
from recsys.catalog.types import Catalog, CatalogItem


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> TitleIndex:
    return TitleIndex(catalog)


def found(index: TitleIndex, catalog: Catalog, text: str, **kwargs) -> list[str]:
    return [catalog[m.item_id].display for m in index.find(MessageView.of(text), **kwargs)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I loved the dark knight", "The Dark Knight (2008)"),
        ("inception", "Inception (2010)"),
        ("Matrix, The", "The Matrix (1999)"),
        ("have you seen star wars?", "Star Wars: Episode IV - A New Hope (1977)"),  # the popular one
        ("I liked the lion king", "The Lion King (1994)"),  # popularity breaks the tie
        ("What about The Lion King (2019)?", "The Lion King (2019)"),  # the year decides
        ("Have you seen It (1990)?", "It (1990)"),
        ("lord of the rings is my favorite", "The Lord of the Rings: The Fellowship of the Ring (2001)"),
        ("spiderman", "Spider-Man (2002)"),
        ("wall-e", "WALL·E (2008)"),
        ("toy story ii", "Toy Story 2 (1999)"),
        ("i really liked amelie", "Amélie (2001)"),
        ("Have you watched Schindlers List?", "Schindler's List (1993)"),
        ("Incepton was great", "Inception (2010)"),
        ("the godfahter", "The Godfather (1972)"),
        ("Jurrasic Park is awesome", "Jurassic Park (1993)"),
        ("Forest Gump is one of the best", "Forrest Gump (1994)"),  # real-word typo, anchored by "gump"
    ],
)
def test_titles_are_found_in_their_usual_spellings(
    index: TitleIndex, catalog: Catalog, text: str, expected: str
):
    assert found(index, catalog, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "it was good",
        "up to you",
        "I love comedies",
        "I would love to go",
        "Her acting was great",
        "It was slow but I liked it",
        "There's no heat in my apartment",
        "I had a crash course in film history",
        "it is frozen outside",
        "I'm going to go get some popcorn",
        "Taken together, I prefer dramas",
        "The signs were there from the start",
        "I want to get out of the house",
        "Home alone again tonight, any suggestions?",
        "We should go up north",
        "a big fan of thrillers",
        "lol ok",
    ],
)
def test_common_words_do_not_fire_as_titles(index: TitleIndex, catalog: Catalog, text: str) -> None:
    assert found(index, catalog, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I loved Up", "Up (2009)"),  # capitalised mid-sentence
        ('have you seen "it"?', "It (2017)"),  # quoted
        ("I watched Her (2013) twice", "Her (2013)"),  # with its year
        ("I liked Heat", "Heat (1995)"),
        ("I loved Scary Movie", "Scary Movie (2000)"),
        ("a movie called Go", "Go (1999)"),
        ("Get Out was creepy", "Get Out (2017)"),
    ],
)
def test_common_word_titles_need_and_accept_a_cue(
    index: TitleIndex, catalog: Catalog, text: str, expected: str
):
    assert found(index, catalog, text) == [expected]


def test_bare_common_title_counts_when_the_system_asked_for_a_movie(
    index: TitleIndex, catalog: Catalog
) -> None:
    assert found(index, catalog, "up") == []
    assert found(index, catalog, "up", relaxed=True) == ["Up (2009)"]


def test_a_recommended_item_wins_ties_and_counts_as_a_cue(index: TitleIndex, catalog: Catalog, ids) -> None:
    lion_2019 = ids["The Lion King (2019)"]
    assert found(index, catalog, "the lion king sounds good", preferred={lion_2019}) == [
        "The Lion King (2019)"
    ]
    assert found(index, catalog, "heat sounds good") == []
    assert found(index, catalog, "heat sounds good", preferred={ids["Heat (1995)"]}) == ["Heat (1995)"]


def test_spans_include_year_and_trailing_article(index: TitleIndex) -> None:
    text = "I think Matrix, The (1999) holds up"
    (match,) = index.find(MessageView.of(text))
    assert match.surface == "Matrix, The (1999)" == text[match.start : match.end]


def test_several_titles_in_one_message_are_all_found_once(index: TitleIndex, catalog: Catalog) -> None:
    text = "I liked Se7en and Fight Club, and the dark knight rises above them all"
    assert found(index, catalog, text) == ["Se7en (1995)", "Fight Club (1999)", "The Dark Knight (2008)"]


def test_ambiguous_title_lists_alternatives_and_scores_lower_when_both_are_popular(index: TitleIndex, ids):
    (it,) = index.find(MessageView.of("It is my favorite horror movie, Have you seen It?"))
    assert (it.item_id, it.alternatives) == (ids["It (2017)"], (ids["It (1990)"],))
    assert it.score == 1.0  # the 1990 miniseries is far less popular: no real doubt
    (wars,) = index.find(MessageView.of("star wars"))  # both episodes are popular
    assert wars.item_id == ids["Star Wars: Episode IV - A New Hope (1977)"]
    assert wars.alternatives == (ids["Star Wars: Episode V - The Empire Strikes Back (1980)"],)
    assert wars.score < 0.9


def test_typos_of_genre_and_english_words_are_not_corrected_into_titles() -> None:
    small = Catalog([CatalogItem(0, "The Thriller", 2010, popularity=5), CatalogItem(1, "Zorblay", 2010)])
    index = TitleIndex(small)
    assert index.corrections("thrilleres") == []  # one edit from the English word "thrillers"
    assert index.corrections("zorblaye")[0][0] == "zorblay"
    guarded = TitleIndex(small, reserved_words={"zorblayes"})  # as if "zorblayes" were a genre word
    assert guarded.corrections("zorblaye") == []  # closer to the reserved word than to the title word


def test_lookup_by_title(index: TitleIndex, ids) -> None:
    assert index.lookup("The Lion King") == (ids["The Lion King (1994)"], ids["The Lion King (2019)"])
    assert index.lookup("No Such Movie") == ()
