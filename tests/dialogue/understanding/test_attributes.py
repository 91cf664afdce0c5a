"""Genres (with synonyms), people, decades and tags, through the extractor (polarity: liked by default)."""

from __future__ import annotations

import pytest

from dialogue.understanding import Polarity, RuleExtractor
from dialogue.understanding.attributes import catalog_vocabulary
from dialogue.understanding.people import PeopleIndex
from recsys.catalog.types import Catalog, CatalogItem


def attrs(extractor: RuleExtractor, text: str, **ctx) -> set[str]:
    from dialogue.understanding import DialogueContext

    return {a.attribute for a in extractor.extract(text, DialogueContext(**ctx) if ctx else None).attributes}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("any good sci-fi?", {"genre:sci-fi"}),
        ("science fiction please", {"genre:sci-fi"}),
        ("I love scifi", {"genre:sci-fi"}),
        ("a rom-com", {"genre:romance", "genre:comedy"}),
        ("romantic comedies", {"genre:romance", "genre:comedy"}),
        ("horror", {"genre:horror"}),
        ("scary movies", {"genre:horror"}),
        ("animated movies", {"genre:animation"}),
        ("cartoons", {"genre:animation"}),
        ("kids movies", {"genre:children"}),
        ("thrillers or mysteries", {"genre:thriller", "genre:mystery"}),
        ("I want to watch something with my family", {"genre:children"}),
    ],
)
def test_genre_synonyms(extractor: RuleExtractor, text: str, expected: set[str]) -> None:
    assert attrs(extractor, text) == expected


def test_genre_words_that_are_everyday_words_need_a_movie_word(extractor: RuleExtractor) -> None:
    assert attrs(extractor, "I love my family") == set()
    assert attrs(extractor, "war movies") == {"genre:war"}
    assert attrs(extractor, "the war was long") == set()


def test_unknown_genre_is_kept_and_flagged(extractor: RuleExtractor) -> None:
    (western,) = extractor.extract("what about a western?").attributes
    assert western.attribute == "genre:western" and not western.known


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("something with Tom Hanks", {"star:tom hanks"}),
        ("something with tom hanks", {"star:tom hanks"}),  # full names match in any case
        ("I love Nolan movies", {"director:christopher nolan"}),  # Christopher, not Jonathan Nolan
        ("Anything by Tarantino?", {"director:quentin tarantino"}),
        ("movies directed by steven spielberg", {"director:steven spielberg"}),
        ("I like Will Ferrell comedies", {"star:will ferrell", "genre:comedy"}),
    ],
)
def test_people(extractor: RuleExtractor, text: str, expected: set[str]) -> None:
    assert attrs(extractor, text) == expected


def test_last_names_need_capitals_unless_the_system_asked_about_people(extractor: RuleExtractor) -> None:
    assert attrs(extractor, "nolan") == set()
    assert attrs(extractor, "nolan", last_question_kind="director") == {"director:christopher nolan"}


def test_a_credit_kind_follows_the_wording() -> None:
    catalog = Catalog(
        [
            CatalogItem(0, "A", directors=("Clint Eastwood",), stars=("Clint Eastwood",), popularity=10),
            CatalogItem(1, "B", stars=("Clint Eastwood",), popularity=50),
        ]
    )
    people = PeopleIndex(catalog)
    person = people.person("clint eastwood")
    assert person is not None and person.kind() == "star"  # his main credit by popularity
    extractor = RuleExtractor(catalog, use_embeddings=False)
    assert attrs(extractor, "anything directed by Clint Eastwood") == {"director:clint eastwood"}
    assert attrs(extractor, "movies starring Clint Eastwood") == {"star:clint eastwood"}


def test_last_name_shared_by_comparable_people_is_not_resolved() -> None:
    catalog = Catalog(
        [
            CatalogItem(0, "A", directors=("Joel Coen",), popularity=100),
            CatalogItem(1, "B", directors=("Ethan Coen",), popularity=90),
            CatalogItem(2, "C", stars=("Heath Ledger",), popularity=500),
            CatalogItem(3, "D", stars=("Anne Heath",), popularity=5),
        ]
    )
    people = PeopleIndex(catalog)
    assert people.last_name("Coen") is None  # two brothers, neither dominates
    assert people.last_name("Heath") is None  # Heath Ledger's first name before Anne Heath's last name
    assert people.last_name("Ledger") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80s movies", {"decade:1980s"}),
        ("something from the '90s", {"decade:1990s"}),
        ("from the 1970s", {"decade:1970s"}),
        ("the eighties", {"decade:1980s"}),
        ("any good movies from 2017?", {"decade:2010s"}),
        ("2005 movies", {"decade:2000s"}),
        ("I have 2017 reasons", set()),  # a bare number is not a year
    ],
)
def test_decades_and_years(extractor: RuleExtractor, text: str, expected: set[str]) -> None:
    assert attrs(extractor, text) == expected


def test_year_after_a_title_disambiguates_it_instead_of_being_a_decade(extractor: RuleExtractor, ids) -> None:
    u = extractor.extract("I liked The Lion King (2019)")
    assert [m.item_id for m in u.items] == [ids["The Lion King (2019)"]]
    assert u.attributes == ()


def test_tags_are_matched_conservatively(extractor: RuleExtractor) -> None:
    assert attrs(extractor, "movies about time travel") == {"tag:time travel"}
    assert attrs(extractor, "I like zombie movies") == {"tag:zombies"}  # singular / plural
    assert attrs(extractor, "I want twist endings") == {"tag:twist ending"}
    # "racism" is on one movie only: too rare a tag to match free text
    assert attrs(extractor, "a movie about racism") == set()


def test_vocabulary_names_every_attribute_the_catalog_carries(catalog: Catalog) -> None:
    vocab = catalog_vocabulary(catalog)
    assert {"genre:sci-fi", "director:christopher nolan", "writer:jonathan nolan", "tag:pixar"} <= vocab
    assert {"star:tom hanks", "decade:1990s"} <= vocab
    assert all(a.split(":", 1)[0] in {"genre", "director", "writer", "star", "tag", "decade"} for a in vocab)


def test_attribute_polarity_defaults_to_liked(extractor: RuleExtractor) -> None:
    (a,) = extractor.extract("horror").attributes
    assert a.polarity is Polarity.LIKED
